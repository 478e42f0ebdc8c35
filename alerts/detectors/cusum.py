"""Negative-binomial CUSUM (Poisson CUSUM when ``r`` is None).

The in-control mean ``mu0`` of each step is the mean of the same phase (hour of day,
hour of week, weekday ...) over a moving baseline of past cycles, behind a guard band so
a slow rise does not leak into its own baseline.  Each step adds the log-likelihood
ratio of the out-of-control mean ``mu1 = k * mu0`` against ``mu0``::

    S_t = max(0, S_{t-1} + LLR_t),  alarm when S_t >= h, then S_t = 0.

NB(mean mu, size r) has variance ``mu + mu**2 / r``; its LLR is
``x * log(mu1 (r + mu0) / (mu0 (r + mu1))) + r * log((r + mu0) / (r + mu1))``, and
tends to the Poisson LLR ``x * log(k) - (mu1 - mu0)`` as ``r -> inf``.
"""
from __future__ import annotations

import math
from collections import deque
from datetime import datetime

from .base import Detector, Score, check_count, positive_float, positive_int

__all__ = ["NBCusum", "llr"]


def llr(x: int, mu0: float, mu1: float, r: float | None = None) -> float:
    """Log-likelihood ratio of count ``x`` under mean ``mu1`` against ``mu0``.

    Negative binomial with size ``r`` (variance ``mu + mu**2/r``), Poisson if ``r`` is None.

    >>> round(llr(4, 1.0, 2.0), 4)            # 4 log 2 - 1
    1.7726
    >>> round(llr(4, 1.0, 2.0, r=1e9), 4)     # NB tends to Poisson
    1.7726
    >>> round(llr(4, 1.0, 2.0, r=2.0), 4)     # overdispersion damps the evidence
    1.0465
    """
    if r is None:
        return x * math.log(mu1 / mu0) - (mu1 - mu0)
    return x * math.log(mu1 * (r + mu0) / (mu0 * (r + mu1))) + r * math.log((r + mu0) / (r + mu1))


class NBCusum(Detector):
    """Negative-binomial (or Poisson) CUSUM for a ``k``-fold rise over a moving baseline.

    Parameters
    ----------
    period
        Steps per seasonal cycle; ``mu0`` is the mean of the same phase in past cycles.
        1 for daily counts, 24 for hourly counts (hour of day), 168 for hour of week.
    baseline
        Number of past cycles averaged for ``mu0`` (default 7).
    guard
        Cycles skipped just before the current one (default 2, as EARS C2), so the
        baseline is cycles ``t - (guard + baseline) .. t - (guard + 1)``.
    k
        Out-of-control mean as a multiple of ``mu0`` (default 2.0: a doubling); must be
        > 1.  The CUSUM is optimal for that shift and still accumulates smaller ones.
    h
        Decision interval: alarm when ``S_t >= h`` (default 5.0).  With a known ``mu0``
        the in-control run length to a false alarm is at least ``exp(h)`` steps.
    r
        Negative-binomial size (overdispersion; variance ``mu + mu**2 / r``).  None
        (default) for Poisson counts.
    min_mean
        Floor of ``mu0`` (default 0.1), so an all-zero baseline still gives a finite LLR.
    grace_period
        Observations before the first alarm; at least (and by default) the baseline with
        its guard band, ``(guard + baseline) * period``.

    Examples
    --------
    A sustained +50 % shift of a daily count of 20 (day 40 on), mostly too small for
    EARS C1 on any one day; after an alarm the sum restarts from 0, and the moving
    baseline (behind its 2-day guard band) soon takes the new level as normal:

    >>> import numpy as np
    >>> from datetime import datetime, timedelta
    >>> rng = np.random.default_rng(1)
    >>> det = NBCusum(k=1.5)
    >>> t0 = datetime(2024, 3, 1)
    >>> counts = list(rng.poisson(20, 40)) + list(rng.poisson(30, 10))
    >>> scores = [det.update(c, t0 + timedelta(days=i)) for i, c in enumerate(counts)]
    >>> [i for i, s in enumerate(scores) if s.alarm]
    [40, 41]

    References
    ----------
    Watkins RE, Eagleson S, Veenendaal B, Wright G, Plant AJ (2008). Applying cusum-based
    methods for the detection of outbreaks of Ross River virus disease in Western
    Australia. *BMC Medical Informatics and Decision Making* 8:37.

    Lucas JM (1985). Counted data CUSUM's. *Technometrics* 27(2):129-144.

    Hohle M, Paul M (2008). Count data regression charts for the monitoring of
    surveillance time series. *Computational Statistics & Data Analysis* 52:4357-4368.
    """

    name = "cusum"

    def __init__(self, period: int = 1, baseline: int = 7, guard: int = 2, k: float = 2.0,
                 h: float = 5.0, r: float | None = None, min_mean: float = 0.1,
                 grace_period: int | None = None) -> None:
        super().__init__()
        self.period = positive_int("period", period)
        self.baseline = positive_int("baseline", baseline)
        self.guard = positive_int("guard", guard, minimum=0)
        self.k = positive_float("k", k, minimum=1.0)
        self.h = self.threshold = positive_float("h", h)
        self.r = None if r is None else positive_float("r", r)
        self.min_mean = positive_float("min_mean", min_mean)
        need = (self.guard + self.baseline) * self.period
        if grace_period is None:
            grace_period = need
        positive_int("grace_period", grace_period, minimum=0)
        if grace_period < need:
            raise ValueError(f"grace_period must be >= {need} (baseline plus guard band), "
                             f"got {grace_period}")
        self.grace_period = grace_period
        self._history: deque[int] = deque(maxlen=need)
        self.s = 0.0

    def update(self, count: int, at: datetime) -> Score:
        x = check_count(count)
        h, p = self._history, self.period
        if len(h) < h.maxlen:
            expected, score = math.nan, 0.0
        else:
            base = [h[-j * p] for j in range(self.guard + 1, self.guard + self.baseline + 1)]
            expected = sum(base) / self.baseline
            mu0 = max(expected, self.min_mean)
            self.s = max(0.0, self.s + llr(x, mu0, self.k * mu0, self.r))
            score = self.s
        h.append(x)
        result = self._decide(at, x, expected, score)
        if result.alarm:
            self.s = 0.0
        return result
