"""CDC EARS C1, C2 and C3 (Early Aberration Reporting System).

C1 compares today's count with the mean and standard deviation of the 7 previous
periods; C2 does the same with a 2-period guard band (baseline t-9 .. t-3) so that the
start of a slow rise does not leak into its own baseline; C3 sums the parts of the
last three C2 values beyond 1 and so picks up a rise that lasts a few steps.

For hourly data pass ``period=24``: the baseline is then the same hour of the day on the
previous days (C1: days t-7 .. t-1), which takes the daily rhythm out.  With
``period=1`` (daily data) it is the textbook method.
"""
from __future__ import annotations

import math
from collections import deque
from datetime import datetime

from .base import Detector, Score, check_count, positive_float, positive_int

__all__ = ["C1", "C2", "C3"]

_BASELINE = 7  # periods in the baseline, as in EARS


class _Ears(Detector):
    guard = 0

    def __init__(self, period: int = 1, threshold: float = 3.0, min_sd: float = 0.2,
                 poisson_floor: bool = True, grace_period: int | None = None) -> None:
        super().__init__()
        self.period = positive_int("period", period)
        self.threshold = positive_float("threshold", threshold)
        self.min_sd = positive_float("min_sd", min_sd)
        self.poisson_floor = bool(poisson_floor)
        need = (_BASELINE + self.guard) * self.period
        if grace_period is None:
            grace_period = need
        positive_int("grace_period", grace_period, minimum=0)
        if grace_period < need:
            raise ValueError(f"grace_period must be >= {need} (a full baseline of "
                             f"{_BASELINE} periods after a {self.guard}-period guard band), "
                             f"got {grace_period}")
        self.grace_period = grace_period
        self._history: deque[int] = deque(maxlen=need)

    def _c(self, x: int) -> tuple[float, float]:
        """(expected, C statistic) of count ``x`` against the history before it."""
        h, p = self._history, self.period
        if len(h) < h.maxlen:
            return math.nan, 0.0
        base = [h[-j * p] for j in range(self.guard + 1, self.guard + _BASELINE + 1)]
        mean = sum(base) / _BASELINE
        var = sum((b - mean) ** 2 for b in base) / (_BASELINE - 1)
        sd = max(math.sqrt(var), self.min_sd, math.sqrt(mean) if self.poisson_floor else 0.0)
        return mean, (x - mean) / sd

    def _step(self, count: int) -> tuple[int, float, float]:
        x = check_count(count)
        expected, c = self._c(x)
        self._history.append(x)
        return x, expected, c

    def update(self, count: int, at: datetime) -> Score:
        x, expected, c = self._step(count)
        return self._decide(at, x, expected, c)


class C1(_Ears):
    """EARS C1: ``(x_t - mean(x_{t-7p} .. x_{t-p})) / sd``, alarm at 3.

    Parameters
    ----------
    period
        Steps per seasonal cycle; the baseline is the same phase of the 7 previous
        cycles.  1 for daily counts, 24 for hourly counts (same hour of day).
    threshold
        Alarm when the score reaches it (EARS: 3).
    min_sd
        Floor of the standard deviation, so a flat baseline (sd = 0, common for sparse
        counts) does not divide by zero; default 0.2.
    poisson_floor
        Also floor the sd at ``sqrt(mean)``, the Poisson sd of the baseline mean.  This is
        a departure from EARS for sparse counts: seven quiet hours with the same count
        otherwise give a tiny sd and an alarm on the next +1.  Default True.
    grace_period
        Observations before the first alarm can be raised; at least (and by default)
        the baseline, ``7 * period``.

    Examples
    --------
    >>> import numpy as np
    >>> from datetime import datetime, timedelta
    >>> rng = np.random.default_rng(42)
    >>> det = C1()
    >>> t0 = datetime(2024, 3, 1)
    >>> counts = list(rng.poisson(20, 30)) + [45]
    >>> scores = [det.update(c, t0 + timedelta(days=i)) for i, c in enumerate(counts)]
    >>> sum(s.alarm for s in scores[:-1]), scores[-1].alarm
    (0, True)
    >>> scores[-1].observed, round(scores[-1].expected, 1)
    (45, 20.1)

    References
    ----------
    Hutwagner L, Browne T, Seeman GM, Fleischauer AT (2005). Comparing aberration
    detection methods with simulated data. *Emerging Infectious Diseases* 11(2):314-316.

    Fricker RD, Hegler BL, Dunfee DA (2008). Comparing syndromic surveillance detection
    methods: EARS' versus a CUSUM-based methodology. *Statistics in Medicine*
    27(17):3407-3429.
    """

    name = "c1"
    guard = 0


class C2(_Ears):
    """EARS C2: as C1 with a 2-period guard band, baseline ``t-9p .. t-3p``; alarm at 3.

    Parameters
    ----------
    period
        Steps per seasonal cycle (1 daily, 24 hourly: same hour of day).
    threshold
        Alarm when the score reaches it (EARS: 3).
    min_sd
        Floor of the standard deviation (default 0.2), see :class:`C1`.
    poisson_floor
        Also floor the sd at ``sqrt(mean)`` (default True), see :class:`C1`.
    grace_period
        Observations before the first alarm; at least (and by default) ``9 * period``.

    Examples
    --------
    >>> import numpy as np
    >>> from datetime import datetime, timedelta
    >>> rng = np.random.default_rng(0)
    >>> det = C2(period=24)
    >>> t0 = datetime(2024, 3, 1)
    >>> rhythm = 3 + 2 * np.sin(2 * np.pi * np.arange(24) / 24)   # daily rhythm
    >>> counts = list(rng.poisson(np.tile(rhythm, 14)))
    >>> counts[-1] = 25                                             # a surge hour
    >>> scores = [det.update(c, t0 + timedelta(hours=i)) for i, c in enumerate(counts)]
    >>> [s.at.strftime("%m-%d %H:00") for s in scores if s.alarm]
    ['03-14 23:00']

    References
    ----------
    Hutwagner L, Browne T, Seeman GM, Fleischauer AT (2005). Comparing aberration
    detection methods with simulated data. *Emerging Infectious Diseases* 11(2):314-316.
    """

    name = "c2"
    guard = 2


class C3(_Ears):
    """EARS C3: ``sum(max(0, C2_i - 1) for i in t-2 .. t)``; alarm at 2.

    The three C2 values are those of the last three steps (hours for hourly data), so
    C3 picks up a rise that lasts a few steps but is too small for C2 alone.

    Parameters
    ----------
    period
        Steps per seasonal cycle (1 daily, 24 hourly: same hour of day).
    threshold
        Alarm when the score reaches it (EARS: 2).
    min_sd
        Floor of the standard deviation of the C2 baseline (default 0.2).
    poisson_floor
        Also floor the sd at ``sqrt(mean)`` (default True), see :class:`C1`.
    grace_period
        Observations before the first alarm; at least (and by default) ``9 * period``.

    Examples
    --------
    >>> import numpy as np
    >>> from datetime import datetime, timedelta
    >>> rng = np.random.default_rng(3)
    >>> det = C3()
    >>> t0 = datetime(2024, 3, 1)
    >>> counts = list(rng.poisson(20, 30)) + [30, 31, 32]   # three days of +50 %
    >>> scores = [det.update(c, t0 + timedelta(days=i)) for i, c in enumerate(counts)]
    >>> [(s.observed, round(s.score, 2), s.alarm) for s in scores[-3:]]
    [(30, 0.86, False), (31, 1.63, False), (32, 2.54, True)]

    References
    ----------
    Hutwagner L, Browne T, Seeman GM, Fleischauer AT (2005). Comparing aberration
    detection methods with simulated data. *Emerging Infectious Diseases* 11(2):314-316.
    """

    name = "c3"
    guard = 2

    def __init__(self, period: int = 1, threshold: float = 2.0, min_sd: float = 0.2,
                 poisson_floor: bool = True, grace_period: int | None = None) -> None:
        super().__init__(period, threshold, min_sd, poisson_floor, grace_period)
        self._parts: deque[float] = deque([0.0, 0.0, 0.0], maxlen=3)

    def update(self, count: int, at: datetime) -> Score:
        x, expected, c2 = self._step(count)
        self._parts.append(max(0.0, c2 - 1.0))
        return self._decide(at, x, expected, sum(self._parts))
