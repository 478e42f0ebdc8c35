"""Seasonal baseline with a quasi-Poisson prediction bound (Farrington / Noufaily style).

The expected count of a step is the mean of the same phase (hour of week for hourly
counts, weekday for daily counts) in the previous ``b`` cycles, widened by ``w`` steps
either side, plus the same window a year back once a year of history exists.  No trend
is fitted (complaint series are short and a trend term is what makes Farrington alarm
on its own extrapolation).  The spread is quasi-Poisson, ``var = phi * mu`` with the
dispersion ``phi >= 1`` estimated from the reference values, and the score is the
standardized excess on the 2/3-power scale used by Farrington et al. (1996)::

    score = (x**(2/3) - mu**(2/3)) / ((2/3) * mu**(1/6) * sqrt(phi * (1 + 1/n)))

so ``score >= z`` is the same as ``x >= U`` with Farrington's upper bound
``U = mu * (1 + (2/3) * z * sqrt(phi * (1 + 1/n) / mu)) ** 1.5`` (see ``upper``).

Outliers do not poison the baseline: a step that alarms is learnt at ``U`` rather than
at its count (winsorized, in the spirit of Noufaily's down-weighting), and a step
flagged ``known_peak`` (holidays, 3.15, Double-11) is not learnt at all.
"""
from __future__ import annotations

import math
from collections import deque
from datetime import datetime

import numpy as np

from .base import Detector, Score, check_count, positive_float, positive_int

__all__ = ["Seasonal"]


class Seasonal(Detector):
    """Same-phase-of-cycle baseline with a quasi-Poisson 2/3-power score.

    Parameters
    ----------
    period
        Steps per cycle: 168 for hourly counts (hour of week, the default), 7 for daily
        counts (weekday), 24 for hour of day only.
    b
        Past cycles in the baseline (default 4).  ``b * (2 * w + 1)`` must be at least 3.
    w
        Half-width of the window around the same phase, in steps (default 2: the same
        hour of week +- 2 hours).  ``2 * w + 1`` must not exceed ``period``.
    year_lag
        Steps back to "the same period last year", also used once that much history
        exists; default ``52 * period`` (364 days, keeps the weekday).  0 turns it off.
    threshold
        Alarm when the score reaches it (default 3.0, about a 0.1 % one-sided normal
        tail; Farrington's 99 % bound would be 2.33).
    min_mean
        Floor of the expected count in the score (default 0.2), so a baseline of zeros
        does not make a single complaint a surge.
    peak_multiplier
        What a ``known_peak`` step does.  None (default): it is scored but never alarms.
        A number ``m``: it is scored against ``m`` times the expected count, so only a
        peak well beyond the calendar's usual lift alarms.  Either way it is not learnt.
    grace_period
        Observations before the first alarm; at least (and by default) a full baseline,
        ``b * period + w``.

    Examples
    --------
    Hourly counts with a weekly rhythm (weekday office hours busy, nights quiet):

    >>> import numpy as np
    >>> from datetime import datetime, timedelta
    >>> rng = np.random.default_rng(1)
    >>> hour = np.arange(168) % 24
    >>> week = np.where(np.arange(168) < 120, 1.0, 0.5) * np.where((hour >= 8) & (hour < 20), 6.0, 1.0)
    >>> det = Seasonal()
    >>> t0 = datetime(2024, 3, 4)                      # a Monday
    >>> counts = list(rng.poisson(np.tile(week, 6)))
    >>> counts[-30] += 25                              # a surge on the last Saturday
    >>> scores = [det.update(c, t0 + timedelta(hours=i)) for i, c in enumerate(counts)]
    >>> [(s.at.strftime("%a %H:00"), s.observed, round(s.expected, 1)) for s in scores if s.alarm]
    [('Sat 18:00', 26, 2.4)]

    A flagged calendar peak does not alarm and is kept out of the baseline:

    >>> s = det.update(40, t0 + timedelta(hours=len(counts)), known_peak=True)
    >>> s.alarm, s.score > s.threshold
    (False, True)

    References
    ----------
    Farrington CP, Andrews NJ, Beale AD, Catchpole MA (1996). A statistical algorithm for
    the early detection of outbreaks of infectious disease. *Journal of the Royal
    Statistical Society A* 159(3):547-563.

    Noufaily A, Enki DG, Farrington P, Garthwaite P, Andrews N, Charlett A (2013). An
    improved algorithm for outbreak detection in multiple surveillance systems.
    *Statistics in Medicine* 32(7):1206-1222.
    """

    name = "seasonal"

    def __init__(self, period: int = 168, b: int = 4, w: int = 2, year_lag: int | None = None,
                 threshold: float = 3.0, min_mean: float = 0.2,
                 peak_multiplier: float | None = None, grace_period: int | None = None) -> None:
        super().__init__()
        self.period = positive_int("period", period)
        self.b = positive_int("b", b)
        self.w = positive_int("w", w, minimum=0)
        if 2 * self.w + 1 > self.period:
            raise ValueError(f"2 * w + 1 must not exceed period ({self.period}), got w={w}")
        if self.b * (2 * self.w + 1) < 3:
            raise ValueError(f"the baseline needs at least 3 values: b * (2 * w + 1) >= 3, "
                             f"got b={b}, w={w}")
        if year_lag is None:
            year_lag = 52 * self.period
        self.year_lag = positive_int("year_lag", year_lag, minimum=0)
        if 0 < self.year_lag <= self.b * self.period:
            raise ValueError(f"year_lag must be 0 or longer than b * period "
                             f"({self.b * self.period}), got {year_lag}")
        self.threshold = positive_float("threshold", threshold)
        self.min_mean = positive_float("min_mean", min_mean)
        self.peak_multiplier = (None if peak_multiplier is None
                                else positive_float("peak_multiplier", peak_multiplier))
        need = self.b * self.period + self.w
        if grace_period is None:
            grace_period = need
        positive_int("grace_period", grace_period, minimum=0)
        if grace_period < need:
            raise ValueError(f"grace_period must be >= {need} (b * period + w), got {grace_period}")
        self.grace_period = grace_period
        depth = max(need, self.year_lag + self.w if self.year_lag else 0)
        # what the baseline learnt of each past step; None = not learnt (known peak)
        self._history: deque[float | None] = deque(maxlen=depth)
        self._n_hist = 0
        self._lags = [j * self.period - d for j in range(1, self.b + 1)
                      for d in range(-self.w, self.w + 1)]
        self._year_lags = ([self.year_lag - d for d in range(-self.w, self.w + 1)]
                           if self.year_lag else [])

    def _reference(self) -> list[float]:
        h, n = self._history, self._n_hist
        if n < self.b * self.period + self.w:
            return []
        lags = self._lags + (self._year_lags if n >= self.year_lag + self.w and self._year_lags else [])
        return [v for v in (h[-lag] for lag in lags) if v is not None]

    def _fit(self) -> tuple[float, float, int]:
        """(mu, phi, n) of the reference values; mu is nan without enough of them."""
        ref = self._reference()
        if len(ref) < 3:
            return math.nan, 1.0, len(ref)
        y = np.asarray(ref, dtype=float)
        mu = float(y.mean())
        phi = 1.0
        if mu > 0:
            phi = max(1.0, float(((y - mu) ** 2).sum() / mu / (len(y) - 1)))
        return mu, phi, len(y)

    def _spread(self, mu: float, phi: float, n: int) -> float:
        return (2.0 / 3.0) * mu ** (1.0 / 6.0) * math.sqrt(phi * (1.0 + 1.0 / n))

    def upper(self, mu: float, phi: float, n: int) -> float:
        """Farrington's upper bound: the count at which the score reaches ``threshold``."""
        mu = max(mu, self.min_mean)
        return (mu ** (2.0 / 3.0) + self.threshold * self._spread(mu, phi, n)) ** 1.5

    def update(self, count: int, at: datetime, known_peak: bool = False) -> Score:
        x = check_count(count)
        expected, phi, n = self._fit()
        if math.isnan(expected):
            score = 0.0
        else:
            if known_peak and self.peak_multiplier is not None:
                expected *= self.peak_multiplier
            mu = max(expected, self.min_mean)
            score = (x ** (2.0 / 3.0) - mu ** (2.0 / 3.0)) / self._spread(mu, phi, n)
        result = self._decide(at, x, expected, score)
        if known_peak:
            if self.peak_multiplier is None and result.alarm:
                result = Score(at, x, result.expected, result.score, result.threshold, False)
            learnt = None
        elif result.alarm:
            learnt = min(float(x), self.upper(expected, phi, n))
        else:
            learnt = float(x)
        self._history.append(learnt)
        self._n_hist += 1
        return result
