"""Share scan: each series against its usual share of the province's count, scanned over windows.

What makes county counts hard to watch is everything they share with the rest of the
province: the hour of day, the weekday, holidays and make-up workdays, 3·15 and Double-11,
a slow trend.  All of that moves the province's count too.  So instead of forecasting
each series from its own sparse past, this detector asks how large a share of the
province's items the series usually takes, and whether it takes more now::

    expected[s, t] = share[s] * (parent[t] - x[s, t])         (leave-one-out)

Conditional on the rest of the province, a series' count is close to Poisson with that
mean, whatever the calendar did.  ``share`` is an exponentially weighted ratio of the
series' counts to the rest of the province (half-life four weeks by default), learned only
from in-control steps: a count above its cap is clipped, and while a series alarms its
expected count is learned in place of what it saw, so a surge does not become the new
normal.

The statistic is the one-sided Poisson generalized likelihood ratio of a rise by a
common factor over the windows ending now (Kulldorff's scan, in time)::

    LLR(w) = C_w log(C_w / M_w) - (C_w - M_w)    if C_w > M_w else 0
    score  = max over window lengths w of LLR(w),   alarm when score >= h and C_w >= min_count

with ``C_w`` the window's count and ``M_w`` its expected count.  Short windows catch a
sharp surge within the hour; long ones a slow ramp spread over days.

The :class:`Ceiling` runs the very same scan but is *handed* the generator's true mean,
so the gap between the two is what estimating the baseline costs.

Real counts do not keep one share around the clock: online shopping peaks in the evening,
offices in the morning, tourism rises on holidays while office industries fall, and a city's
day runs above or below its usual share, all its counties with it.  So the share is kept per
hour of day x day type, the daily shape pooled over the series of one industry (``slots``,
``groups``), and a series' expected count follows the rest of its city over the last hours
(``cities``); ``make eval-alerts`` measured both on two generators (see the README).

Two ways to run it:

* :class:`SharePanel` - all series of a province at once (numpy, vectorised), the way the
  stream runs it: ``score(x, parent)`` for the hour in progress (a partial hour is fine,
  its parent is partial too), ``commit(x, parent)`` when the hour closes.
* :class:`ShareScan` - one series with its parent given per step:
  ``update(count, at, parent=...)``; without a parent it falls back to the same scan over
  a same-hour-of-week baseline of its own history (``python -m alerts detect`` on a lone
  series).
"""
from __future__ import annotations

import math
from datetime import datetime

import numpy as np

from .base import Detector, Score, check_count, positive_float, positive_int

__all__ = ["REST_FLOOR", "SharePanel", "ShareScan", "WINDOWS", "scan_llr"]


_REST: dict = {}


def _rest_day(at: datetime) -> int:
    """1 on a weekend or public holiday that is not a make-up workday (config/calendar.yaml)."""
    day = at.date()
    if day not in _REST:
        from alerts.calendar import default_calendar

        cal = default_calendar()
        _REST[day] = 0 if cal.is_makeup_workday(day) else int(day.weekday() >= 5 or cal.is_holiday(day))
    return _REST[day]

# the least rest of the parent a step's expected count is computed from, in items (never 0: a series
# alone in a quiet hour is expected at its share of one item, not at nothing)
REST_FLOOR = 1.0

# window lengths scanned, in steps (hours): one hour to three days
WINDOWS = (1, 2, 3, 4, 6, 8, 12, 18, 24, 36, 48, 72)


def scan_llr(counts: np.ndarray, means: np.ndarray, windows=WINDOWS, min_count: float = 0.0,
             inv_size: np.ndarray | float | None = None,
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Largest one-sided GLR over the windows ending at the last column.

    ``counts`` and ``means`` are ``(n_series, n_steps)``, oldest step first.  Returns
    ``(score, window, count, expected)`` per series: the best window's LLR, its length and
    its observed and expected totals.  Windows with fewer than ``min_count`` items score 0.

    ``inv_size`` (``1/r`` per series; None or 0 for Poisson) makes the counts negative
    binomial, variance ``mu + mu**2 / r``; a window's total is then taken as NB with mean
    ``M`` and size ``R = r M**2 / sum(mu**2)`` (its variance matched), whose GLR for a
    rise is closed form: ``C log(C/M) + (C + R) log((R + M) / (R + C))``.
    """
    counts = np.asarray(counts, dtype=float)
    means = np.asarray(means, dtype=float)
    n, steps = counts.shape
    c = np.cumsum(counts[:, ::-1], axis=1)
    m = np.cumsum(means[:, ::-1], axis=1)
    ws = [w for w in windows if w <= steps] or [steps]
    idx = np.asarray(ws) - 1
    C, M = c[:, idx], np.maximum(m[:, idx], 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        pois = C * np.log(np.where(C > 0, C / M, 1.0)) - (C - M)
        if inv_size is not None and np.any(np.asarray(inv_size) > 0):
            m2 = np.cumsum((means * means)[:, ::-1], axis=1)[:, idx]
            a = np.broadcast_to(np.asarray(inv_size, dtype=float).reshape(-1, 1) if np.ndim(inv_size)
                                else np.asarray(inv_size, dtype=float), C.shape)
            R = np.where(a > 0, M * M / np.maximum(a * m2, 1e-300), np.inf)
            nb = C * np.log(np.where(C > 0, C / M, 1.0)) + (C + R) * np.log((R + M) / (R + C))
            pois = np.where(np.isfinite(R), nb, pois)
        llr = np.where(C > M, pois, 0.0)
    llr = np.where(C >= min_count, llr, 0.0)
    best = np.argmax(llr, axis=1)
    rows = np.arange(n)
    return llr[rows, best], np.asarray(ws)[best], C[rows, best], M[rows, best]


class _Ring:
    """The last ``size`` columns of a ``(n, size)`` array, oldest first on read."""

    def __init__(self, n: int, size: int):
        self.buf = np.zeros((n, size))
        self.size, self.pos, self.filled = size, 0, 0

    def push(self, col: np.ndarray) -> None:
        self.buf[:, self.pos] = col
        self.pos = (self.pos + 1) % self.size
        self.filled = min(self.filled + 1, self.size)

    def with_current(self, col: np.ndarray) -> np.ndarray:
        """Committed columns (oldest first) followed by ``col``."""
        k = self.filled
        if k < self.size:
            past = self.buf[:, :k]
        else:
            past = np.concatenate((self.buf[:, self.pos:], self.buf[:, :self.pos]), axis=1)
        return np.concatenate((past, col[:, None]), axis=1)


class SharePanel:
    """The share scan over ``n_series`` series of one parent (a province), vectorised.

    Parameters
    ----------
    n_series
        Number of series watched (their counts arrive as one vector per step).
    h
        Alarm threshold on the scan's log-likelihood ratio (one number, or one per series).
    windows
        Window lengths scanned, in steps (default :data:`WINDOWS`, 1 h .. 72 h).
    halflife
        Half-life of the share estimate, in steps (default 672: four weeks of hours).
    min_count
        A window needs at least this many items to alarm (default 2: one complaint is
        never a surge worth a duty officer's call).
    grace_period
        Steps learned before the first alarm (default 168: a week).
    cap_sd
        A count above ``expected + cap_sd * sqrt(expected) + 1`` is clipped before it is
        learned (default 4).
    prior, prior_share
        Each series starts with ``prior`` steps' worth of the parent (default 6) at share
        ``prior_share`` (default ``1 / n_series``; give one per series when they are of
        different sizes, e.g. counties and cities), so a series never seen before is not
        handed a share of zero.
    dispersion
        Estimate each series' overdispersion (``1/r``, shrunk towards the pooled value by
        ``dispersion_prior``) and scan negative-binomial windows (default True); False
        scans Poisson windows.
    hold
        Hysteresis: once alarming, a series stays alarming while its score is at least
        ``hold * h`` (default 0.3), so one surge is one episode, not a flicker of them.
    slots, groups, slot_prior, slot_count_prior
        ``slots=48``: the share by hour of day x day type (workday; weekend or holiday, from
        ``config/calendar.yaml``), ``score``/``commit`` given ``at=`` the step's start; 24: by
        hour of day; 0 (default): one share.  The slot's factor (its share over the all-day
        share) is pooled over the series' ``groups`` label (series of one daily shape, e.g. an
        industry: evening online shopping, morning offices) and shrunk towards 1 by
        ``slot_prior`` steps of the group's parent and at least ``slot_count_prior`` items.
    cities, city_halflife, city_prior
        The city component: with a city label per series, each series' expected count is
        multiplied by the rest of its city's observed over expected counts over the last hours
        (exponential, half-life ``city_halflife`` steps, default 24; leave-one-out, so one
        series' surge does not raise its own bar; shrunk towards 1 by ``city_prior`` expected
        items).  A city's day above its usual share (weather, news, a local event) then
        raises its counties' bars together instead of twenty county alarms; the city's own
        series (a label of its own) still compare with the province.
    """

    def __init__(self, n_series: int, h: float = 5.0, windows=WINDOWS, halflife: float = 672.0,
                 min_count: float = 2.0, grace_period: int = 168, cap_sd: float = 4.0,
                 prior: float = 6.0, dispersion: bool = True, hold: float = 0.3,
                 dispersion_prior: float = 20.0, prior_share=None, slots: int = 0, groups=None,
                 slot_prior: float = 2.0, slot_count_prior: float = 10.0, cities=None, city_halflife: float = 24.0,
                 city_prior: float = 30.0) -> None:
        self.n = positive_int("n_series", n_series)
        if np.ndim(h):
            hs = np.asarray(h, dtype=float)
            if hs.shape != (self.n,) or not np.all(np.isfinite(hs) & (hs > 0)):
                raise ValueError(f"h must be a number > 0 or one per series ({self.n}), got {h!r}")
            self.h = self.threshold = hs
        else:
            self.h = self.threshold = positive_float("h", h)
        self.windows = tuple(sorted({positive_int("window", int(w)) for w in windows}))
        self.halflife = positive_float("halflife", halflife)
        self.min_count = positive_float("min_count", min_count, strict=False)
        self.grace_period = positive_int("grace_period", grace_period, minimum=0)
        self.cap_sd = positive_float("cap_sd", cap_sd)
        self.prior = positive_float("prior", prior, strict=False)
        if prior_share is None:
            self.prior_share = np.full(self.n, 1.0 / self.n)
        else:
            ps = np.broadcast_to(np.asarray(prior_share, dtype=float), (self.n,)).copy()
            if not np.all(np.isfinite(ps) & (ps > 0) & (ps <= 1)):
                raise ValueError("prior_share must be in (0, 1]")
            self.prior_share = ps
        self.dispersion = bool(dispersion)
        self.hold = positive_float("hold", hold, strict=False)
        self.dispersion_prior = positive_float("dispersion_prior", dispersion_prior, strict=False)
        self.decay = 0.5 ** (1.0 / self.halflife)
        self.var_num = np.zeros(self.n)      # EW sum of (x - e)**2 - x: excess variance
        self.var_den = np.zeros(self.n)      # EW sum of e**2
        self.num = np.zeros(self.n)          # EW sum of the series' (clipped) counts
        self.den = np.zeros(self.n)          # EW sum of the rest of the parent
        self.parent_ew = 0.0                 # EW sum of the parent, for the prior
        self.x = _Ring(self.n, max(self.windows) - 1 or 1)
        self.e = _Ring(self.n, max(self.windows) - 1 or 1)
        self.alarming = np.zeros(self.n, dtype=bool)
        self.steps = 0
        if slots not in (0, 24, 48):
            raise ValueError(f"slots must be 0 (one share), 24 (hour of day) or 48 (hour x day type), got {slots!r}")
        self.slots = int(slots)
        if groups is None:
            self.groups = np.zeros(self.n, dtype=np.int64)
        else:
            g = np.asarray(groups)
            if g.shape != (self.n,):
                raise ValueError(f"groups must give one label per series ({self.n})")
            self.groups = np.unique(g, return_inverse=True)[1].reshape(-1).astype(np.int64)
        self.n_groups = int(self.groups.max()) + 1
        self.slot_prior = positive_float("slot_prior", slot_prior, strict=False)
        self.slot_count_prior = positive_float("slot_count_prior", slot_count_prior, strict=False)
        if self.slots:
            self.snum = np.zeros((self.n, self.slots))   # EW sums of the (clipped) counts, per slot
            self.sden = np.zeros((self.n, self.slots))   # EW sums of the rest of the parent, per slot
        # the city component: a city's day runs above or below its usual share of the province, all its
        # series with it; each series' expected count follows the rest of its city over the last hours
        self.cities = None
        if cities is not None:
            c = np.asarray(cities)
            if c.shape != (self.n,):
                raise ValueError(f"cities must give one label per series ({self.n})")
            self.cities = np.unique(c, return_inverse=True)[1].reshape(-1).astype(np.int64)
            self.n_cities = int(self.cities.max()) + 1
            self.city_decay = 0.5 ** (1.0 / positive_float("city_halflife", city_halflife))
            self.city_prior = positive_float("city_prior", city_prior, strict=False)
            self.so = np.zeros(self.n)     # EW sums of each series' (clipped) counts, short half-life
            self.se = np.zeros(self.n)     # ... and of its expected counts before the city factor

    def city_factor(self, x: np.ndarray, e0: np.ndarray) -> np.ndarray:
        """Observed over expected of the rest of each series' city, recent hours (``x``, ``e0`` the step
        in progress, its clipped counts and expected counts before this factor); 1.0 without ``cities``."""
        if self.cities is None:
            return np.ones(self.n)
        d = self.city_decay
        so = d * self.so + x
        se = d * self.se + e0
        co = np.bincount(self.cities, so, self.n_cities)[self.cities]
        ce = np.bincount(self.cities, se, self.n_cities)[self.cities]
        a = self.city_prior
        return (co - so + a) / np.maximum(ce - se + a, 1e-12)

    # -- slots (hour of day, day type)
    def slot_of(self, at: datetime | None) -> int:
        """The slot of the step starting at ``at`` (None: the step in progress, counted in steps)."""
        if at is None:
            return self.steps % 24 if self.slots else 0
        if self.slots == 48:
            return at.hour + 24 * _rest_day(at)
        return at.hour

    def slot_factor(self, slot: int) -> np.ndarray:
        """Each series' share in ``slot`` over its overall share (1.0 with ``slots=0``).

        Pooled over the series' group (series with one daily shape, e.g. one industry), shrunk
        towards 1 by ``slot_prior`` steps' worth of the group's rest-of-parent."""
        if not self.slots:
            return np.ones(self.n)
        G = self.n_groups
        gnum = np.bincount(self.groups, self.snum[:, slot], G)
        gden = np.bincount(self.groups, self.sden[:, slot], G)
        anum = np.bincount(self.groups, self.num, G)
        aden = np.bincount(self.groups, self.den, G)
        overall = anum / np.maximum(aden, 1e-12)
        # shrunk by slot_prior steps of the group's rest of the parent, and by at least slot_count_prior
        # items of the group (a group of one sparse series keeps close to one share for the day)
        prior = np.maximum(self.slot_prior * aden / max(self.steps, 1),
                           self.slot_count_prior / np.maximum(overall, 1e-12))
        f = (gnum + prior * overall) / np.maximum(gden + prior, 1e-12) / np.maximum(overall, 1e-12)
        f = np.where(overall > 0, f, 1.0)
        return f[self.groups]

    # -- the estimate
    def share(self) -> np.ndarray:
        """Current share of each series in the rest of the parent."""
        p = self.prior * (self.parent_ew / self.steps if self.steps else 1.0)
        return (self.num + self.prior_share * p) / np.maximum(self.den + p, 1e-12)

    def inv_size(self) -> np.ndarray:
        """Estimated ``1/r`` (overdispersion) per series, shrunk towards the pooled value."""
        pooled = max(0.0, self.var_num.sum()) / max(self.var_den.sum(), 1e-12)
        b0 = self.dispersion_prior
        return np.maximum(0.0, (self.var_num + pooled * b0) / (self.var_den + b0))

    def expected(self, x: np.ndarray, parent, at: datetime | None = None, city: bool = True) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        # the rest of the parent is taken as at least REST_FLOOR items: in a quiet (or just begun)
        # hour a series can be the whole of its parent, and leave-one-out then expected it at exactly
        # 0, which any min_count items passed with an unbounded score (expected 0.0, score 86)
        rest = np.maximum(np.asarray(parent, dtype=float) - x, REST_FLOOR)
        e = self.share() * rest
        if self.slots:
            e = e * self.slot_factor(self.slot_of(at))
        if city and self.cities is not None:
            e = e * self.city_factor(self._clip(x, e), e)
        return e

    def _clip(self, x: np.ndarray, e: np.ndarray) -> np.ndarray:
        """A count as learned: at most ``e + cap_sd * sqrt(e) + 1``."""
        return np.minimum(x, e + self.cap_sd * np.sqrt(e) + 1.0)

    # -- scoring
    def score(self, x, parent: float, true_mean=None, true_inv_size=None,
              at: datetime | None = None) -> dict[str, np.ndarray]:
        """Scan statistic for the step in progress (nothing is learned).

        ``true_mean`` / ``true_inv_size`` replace the estimates (the evaluation's ceiling).
        """
        x = np.asarray(x, dtype=float)
        e = np.asarray(true_mean, dtype=float) if true_mean is not None else self.expected(x, parent, at)
        if true_inv_size is not None:
            a = np.asarray(true_inv_size, dtype=float)
        else:
            a = self.inv_size() if self.dispersion else None
        llr, win, c, m = scan_llr(self.x.with_current(x), self.e.with_current(e), self.windows,
                                  self.min_count, a)
        warm = self.steps >= self.grace_period
        bar = np.where(self.alarming, self.h * self.hold, self.h)
        return {"score": llr, "window": win, "observed": c, "expected": m, "step_expected": e,
                "alarm": (llr >= bar) & (c >= self.min_count) & warm}

    def commit(self, x, parent: float, true_mean=None, true_inv_size=None,
               at: datetime | None = None) -> dict[str, np.ndarray]:
        """Close a step: score it, then learn from it.  Returns what :meth:`score` does."""
        x = np.asarray(x, dtype=float)
        out = self.score(x, parent, true_mean, true_inv_size, at)
        if true_mean is not None and true_inv_size is not None:
            # Scored against a baseline handed in (the evaluation's ceiling; ShareScan's lone mode,
            # which has no parent and passes 0): nothing the panel learns below is ever read, and
            # learning it was harmful.  With no parent, the rest of the parent stays 0, the share is
            # its counts over 1e-12, the expected count 1e12 x the counts, and each alarming hour
            # learns that expected count in place of the count: the sums grew 1e12-fold an alarming
            # hour until they overflowed (RuntimeWarnings in share() and slot_factor()).
            self._advance(x, out)
            return out
        e_hat = self.expected(x, parent, at)
        sd = np.sqrt(e_hat)
        learn = np.minimum(x, e_hat + self.cap_sd * sd + 1.0)
        learn = np.where(out["alarm"], e_hat, learn)
        d = self.decay
        self.num = d * self.num + learn
        if self.cities is not None:
            e0 = self.expected(x, parent, at, city=False)
            keep = np.where(out["alarm"], e0, self._clip(x, e0))
            self.so = self.city_decay * self.so + keep
            self.se = self.city_decay * self.se + e0
        if self.dispersion and self.steps >= 24:   # not while the shares are still settling
            xv = np.minimum(x, e_hat + 2 * self.cap_sd * (sd + e_hat) + 2.0)
            quiet = ~out["alarm"]
            self.var_num = d * self.var_num + np.where(quiet, (xv - e_hat) ** 2 - xv, 0.0)
            self.var_den = d * self.var_den + np.where(quiet, e_hat * e_hat, 0.0)
        rest = np.maximum(np.asarray(parent, dtype=float) - x, 0.0)
        self.den = d * self.den + rest
        if self.slots:
            slot = self.slot_of(at)
            self.snum *= d
            self.sden *= d
            self.snum[:, slot] += learn
            self.sden[:, slot] += rest
        self.parent_ew = self.parent_ew + float(np.mean(parent))
        self._advance(x, out)
        return out

    def _advance(self, x: np.ndarray, out: dict[str, np.ndarray]) -> None:
        """The step's counts and expected counts into the scan's windows; the step is done."""
        self.x.push(x)
        self.e.push(out["step_expected"])
        self.alarming = out["alarm"]
        self.steps += 1


class ShareScan(Detector):
    """The share scan on one series; ``update(count, at, parent=None)``.

    With ``parent`` (the province's count at that step, the series included) it is
    :class:`SharePanel` on one series, its share kept by hour of day on hourly data
    (``slots``; False keeps one share).  Without, the expected count is the mean of the same
    phase (hour of day: ``period`` 24; with its neighbouring hours at half weight) over the
    last ``cycles`` cycles (28 days), floored at
    a tenth of the series' overall mean, and the same scan decides, negative binomial with
    the series' own overdispersion (``1/r`` from its in-control residuals, shrunk towards
    ``lone_inv_size`` with the weight of ``dispersion_prior`` squared means): a lone series
    has no province to pool its dispersion with, and scanning it as Poisson called every
    busy, overdispersed series a surge.

    Examples
    --------
    >>> import numpy as np
    >>> from datetime import datetime, timedelta
    >>> rng = np.random.default_rng(3)
    >>> t0 = datetime(2025, 3, 3)
    >>> det = ShareScan(h=8.0)
    >>> parent = rng.poisson(40, 24 * 30)
    >>> own = rng.binomial(parent, 0.05)
    >>> own[24 * 25 + 9: 24 * 25 + 13] += 6                  # four hours, +6 an hour
    >>> hits = [i for i, (x, p) in enumerate(zip(own, parent))
    ...         if det.update(int(x), t0 + timedelta(hours=i), parent=int(p)).alarm]
    >>> hits[0] - (24 * 25 + 9)                              # hours from surge start to alarm
    0
    """

    name = "share"

    def __init__(self, h: float = 5.0, windows=WINDOWS, halflife: float = 672.0, min_count: float = 2.0,
                 grace_period: int = 168, cap_sd: float = 4.0, cycles: int = 28, period: int = 24,
                 lone_inv_size: float = 0.3, dispersion_prior: float = 20.0, n_series: int = 1,
                 slots: bool = True) -> None:
        super().__init__()
        n = positive_int("n_series", n_series)
        self.lone_inv_size = positive_float("lone_inv_size", lone_inv_size, strict=False)
        self.dispersion_prior = positive_float("dispersion_prior", dispersion_prior, strict=False)
        self._var_num = np.zeros(n)     # EW sum of (x - mean)**2 - x over in-control steps (lone mode)
        self._var_den = np.zeros(n)     # EW sum of mean**2
        # no prior share: one series has no siblings to split the parent with, and a prior of the
        # whole parent (1/n_series = 1) held its expected count up for good (the parent mode was blind)
        # with a parent, the share by hour of day (hourly data): an evening industry against a province
        # that peaks in the morning is not a surge every evening; each copy its own group
        self.panel = SharePanel(n, h, windows, halflife, min_count, grace_period, cap_sd, prior=0.0,
                                slots=24 if (slots and period == 24) else 0, groups=np.arange(n))
        self.h = self.threshold = self.panel.h
        self.grace_period = self.panel.grace_period
        self.period = positive_int("period", period)
        self.cycles = positive_int("cycles", cycles)
        # the series' own past (newest last) and which of its steps the same-phase mean reads:
        # the same phase and its two neighbours (weights 1-2-1) of each past cycle
        p = self.period
        self._hist = np.zeros((n, p * self.cycles))
        self._len = 0
        pairs = [(j * p - off, w) for j in range(1, self.cycles + 1)
                 for off, w in (((-1, 1.0), (0, 2.0), (1, 1.0)) if p > 1 else ((0, 1.0),))]
        pairs = [(k, w) for k, w in pairs if k >= 1]
        self._ks = np.array([k for k, _ in pairs])
        self._ws = np.array([w for _, w in pairs])
        self._cols = np.clip(self._hist.shape[1] - self._ks, 0, None)

    def commit_many(self, x, parent=None, at: datetime | None = None) -> dict[str, np.ndarray]:
        """One step of ``n_series`` independent copies at once (the CLI's null calibration).

        ``x`` one count per copy; ``parent`` None (lone mode) or one parent count per copy."""
        x = np.asarray(x, dtype=float).reshape(-1)
        if parent is not None:
            return self.panel.commit(x, np.asarray(parent, dtype=float).reshape(-1), at=at)
        L = self._len
        valid = self._ks <= L
        if valid.any():
            w = self._ws[valid]
            mean = self._hist[:, self._cols[valid]] @ w / w.sum()
        else:
            mean = np.maximum(x, 1.0)
        overall = self._hist[:, self._hist.shape[1] - L:].sum(axis=1) / L if L else np.zeros_like(x)
        mean = np.maximum(np.maximum(mean, 0.1 * overall), 0.01)
        b0 = self.dispersion_prior
        inv = np.maximum(0.0, (self._var_num + self.lone_inv_size * b0) / (self._var_den + b0))
        out = self.panel.commit(x, 0.0, true_mean=mean, true_inv_size=inv)
        if L >= self.period:
            quiet = ~out["alarm"]
            xv = np.minimum(x, mean + 2 * self.panel.cap_sd * (np.sqrt(mean) + mean) + 2.0)
            d = self.panel.decay
            self._var_num = d * self._var_num + np.where(quiet, (xv - mean) ** 2 - xv, 0.0)
            self._var_den = d * self._var_den + np.where(quiet, mean * mean, 0.0)
        self._hist[:, :-1] = self._hist[:, 1:]
        self._hist[:, -1] = x
        self._len = min(L + 1, self._hist.shape[1])
        return out

    def update(self, count: int, at: datetime, parent: float | None = None) -> Score:  # type: ignore[override]
        x = check_count(count)
        out = self.commit_many(np.array([x]), None if parent is None else np.array([float(parent)]), at=at)
        self.n_seen += 1
        return Score(at, x, float(out["step_expected"][0]), float(out["score"][0]), self.h,
                     bool(out["alarm"][0]))
