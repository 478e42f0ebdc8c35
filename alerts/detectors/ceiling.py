"""The evaluation's ceiling: a likelihood-ratio scan handed the TRUE baseline mean.

A real detector has to estimate the in-control mean; this one is told it by the
generator (``update(count, at, true_mean)``), so its detection delay and false-alarm
rate are what the data allow at best.  At every step it scans the windows of the last
``1 .. W`` steps and computes the generalized log-likelihood ratio of a rise by a common
factor ``q >= 1`` over the true means ``m_i``::

    Poisson:  LLR = C * log(q) - M * (q - 1),   q = max(1, C / M)

with ``C`` the window's count and ``M`` the sum of its true means (closed form); for
negative-binomial counts with size ``r`` the factor is maximized on a grid.  It alarms
when the largest LLR reaches ``h``.  For Poisson counts the one-sided GLR of one window
reaches ``h`` with probability at most ``exp(-h)`` (Chernoff), so a step's false-alarm
probability is at most ``W * exp(-h)``.
"""
from __future__ import annotations

import math
from collections import deque
from datetime import datetime

import numpy as np

from .base import Detector, Score, check_count, positive_float, positive_int

__all__ = ["Ceiling"]

_Q_GRID = np.geomspace(1.0, 50.0, 200)


class Ceiling(Detector):
    """Scan statistic over the last 1..W steps, given the true baseline mean.

    Parameters
    ----------
    W
        Longest window scanned, in steps (default 6).
    h
        Alarm when the largest window LLR reaches it (default 7.0: a per-step false-alarm
        bound of ``W * exp(-h)``, about 0.55 % for W = 6; the actual rate is far lower).
    r
        Negative-binomial size of the generator (variance ``mu + mu**2 / r``); None
        (default) for Poisson.
    grace_period
        Observations before the first alarm (default 0: the baseline is known).

    Examples
    --------
    >>> import numpy as np
    >>> from datetime import datetime, timedelta
    >>> rng = np.random.default_rng(11)
    >>> mean = np.full(100, 2.0)
    >>> mean[80:84] *= 4                                 # a four-hour surge
    >>> det = Ceiling()
    >>> t0 = datetime(2024, 11, 11)
    >>> scores = [det.update(c, t0 + timedelta(hours=i), true_mean=2.0)
    ...           for i, c in enumerate(rng.poisson(mean))]
    >>> [i for i, s in enumerate(scores) if s.alarm]
    [81, 82, 83, 84, 85]

    References
    ----------
    Kulldorff M (1997). A spatial scan statistic. *Communications in Statistics - Theory
    and Methods* 26(6):1481-1496.

    Lorden G (1971). Procedures for reacting to a change in distribution. *Annals of
    Mathematical Statistics* 42(6):1897-1908.
    """

    name = "ceiling"

    def __init__(self, W: int = 6, h: float = 7.0, r: float | None = None,
                 grace_period: int = 0) -> None:
        super().__init__()
        self.W = positive_int("W", W)
        self.h = self.threshold = positive_float("h", h)
        self.r = None if r is None else positive_float("r", r)
        self.grace_period = positive_int("grace_period", grace_period, minimum=0)
        self._counts: deque[int] = deque(maxlen=self.W)
        self._means: deque[float] = deque(maxlen=self.W)

    def _llr(self, counts: np.ndarray, means: np.ndarray) -> float:
        """Largest GLR over the windows ending now (``counts[-1]`` is the current step)."""
        if self.r is None:
            c = np.cumsum(counts[::-1])
            m = np.cumsum(means[::-1])
            q = np.maximum(1.0, c / m)
            return float(np.max(c * np.log(q) - m * (q - 1.0)))
        r = self.r
        x, mu = counts[::-1][:, None], means[::-1][:, None]       # steps back x grid
        q = _Q_GRID[None, :]
        terms = x * np.log(q * (r + mu) / (r + q * mu)) + r * np.log((r + mu) / (r + q * mu))
        return float(np.max(np.cumsum(terms, axis=0)))

    def update(self, count: int, at: datetime, true_mean: float = math.nan) -> Score:  # type: ignore[override]
        x = check_count(count)
        mu = positive_float("true_mean", true_mean)
        self._counts.append(x)
        self._means.append(mu)
        score = self._llr(np.asarray(self._counts, float), np.asarray(self._means, float))
        return self._decide(at, x, mu, score)
