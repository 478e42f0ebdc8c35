"""Synthetic complaint counts with known surges, for scoring surge detectors.

Built the way outbreak-detection methods are compared (Noufaily et al. 2013, *Stat Med*
32:1206; Bédubourg & Le Strat 2017, *PLoS ONE* 12:e0181227): a baseline with the
rhythms real counts have, plus injected surges of known start, length, shape and size,
the size set relative to the baseline's own noise (``k`` standard deviations).

Baseline, per series (county x industry) and hour::

    mu[s, t] = level[s] * trend[s, t] * hour_profile[hour] * weekday[t] * calendar[t]
    count    ~ NegBin(mean mu, size r[s])          (variance mu + mu**2 / r)

* ``level``: lognormal, county effect x industry share x noise; about 98 % of series
  have an hourly mean between 0.01 and 2 (the province's ~36 items an hour spread thin).
* ``hour_profile``: office hours high, night near zero (mean 1 over the day).
* ``weekday``: Monday highest, Sunday lowest; a make-up workday (调休) counts as a
  workday, a holiday as a weekend day.
* ``calendar``: ``config/calendar.yaml`` multipliers (3·15 x2.5, Double-11 aftermath
  x1.8, Spring Festival x0.5 ...).  These are *known* peaks, not surges.
* ``trend``: a mild linear drift, -5 % .. +20 % over a year.

Surges: duration 6 h .. 5 days (log-uniform), ``step`` (flat) or ``ramp`` (rising
linearly), total excess ``round(k * SD)`` where SD is the standard deviation of the
baseline total over the surge window, ``sqrt(sum(mu + mu**2 / r))``; the excess counts
are spread over the window multinomially by the shape.  Every surge's truth is kept in
:attr:`Dataset.surges`; the true baseline mean in :attr:`Dataset.mean`.

Everything is vectorised numpy (float32 means); a full year x 117 counties x 11
industries (~11 M cells) takes a few seconds.  Deterministic per seed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

import numpy as np

from alerts.calendar import Calendar, default_calendar

__all__ = ["Surge", "Dataset", "generate", "inject_surges", "INDUSTRIES", "K_VALUES", "HOUR_PROFILE", "WEEKDAY_FACTOR"]

INDUSTRIES = ("食品", "药品", "医疗器械", "商超", "职业索赔", "一般消费纠纷", "汽车", "房地产",
              "价格", "产品质量", "旅游")
# relative share of each industry (geometric mean about 1); others get 1
_INDUSTRY_WEIGHT = {"食品": 1.6, "药品": 0.45, "医疗器械": 0.3, "商超": 1.3, "职业索赔": 0.7,
                    "一般消费纠纷": 2.5, "汽车": 0.8, "房地产": 0.7, "价格": 0.9, "产品质量": 1.3,
                    "旅游": 0.6}
K_VALUES = (2, 3, 5, 10)
SHAPES = ("step", "ramp")

_HOURS = np.array([0.15, 0.10, 0.08, 0.07, 0.08, 0.12, 0.30, 0.70, 1.30, 1.90, 2.00, 1.80,
                   1.30, 1.40, 1.80, 1.80, 1.70, 1.50, 1.20, 1.00, 0.90, 0.70, 0.50, 0.30])
HOUR_PROFILE = _HOURS / _HOURS.mean()
# Monday .. Sunday, for ordinary weeks
WEEKDAY_FACTOR = np.array([1.15, 1.08, 1.03, 1.00, 0.97, 0.82, 0.75])
_MAKEUP_FACTOR = 1.0      # a make-up workday (调休上班)
_HOLIDAY_FACTOR = 0.78    # a holiday is a weekend day, before its own multiplier

_MEDIAN_LEVEL = 0.06      # hourly mean of the median series (province ~110 items/h)


@dataclass(frozen=True)
class Surge:
    """One injected surge: steps ``start`` (inclusive) to ``end`` (exclusive) of ``series``."""

    series: int
    start: int
    end: int
    k: float
    shape: str = "step"
    excess: int = 0             # counts added in total
    baseline_sd: float = float("nan")  # SD of the baseline total over the window

    @property
    def duration(self) -> int:
        return self.end - self.start


@dataclass
class Dataset:
    """Counts ``(n_series, n_steps)`` with the truth needed to score detectors.

    ``counts`` include the surges; ``mean`` is the true *baseline* mean (no surges).
    Series ``i`` is county ``series_keys[i][0]`` x industry ``series_keys[i][1]`` and
    belongs to the city ``series_city[i]`` (one duty desk).  Surges start at or after
    step ``warmup``; false alarms are counted from there on.
    """

    counts: np.ndarray
    start: datetime
    step_hours: int = 1
    mean: np.ndarray | None = None
    series_keys: list[tuple[str, str]] = field(default_factory=list)
    series_city: list[str] = field(default_factory=list)
    surges: list[Surge] = field(default_factory=list)
    warmup: int = 0
    size: np.ndarray | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        self.counts = np.asarray(self.counts)
        if self.counts.ndim != 2:
            raise ValueError("counts must be 2-D (series x steps)")
        n = self.counts.shape[0]
        if not self.series_keys:
            self.series_keys = [(f"s{i}", "") for i in range(n)]
        if not self.series_city:
            self.series_city = ["all"] * n
        if len(self.series_keys) != n or len(self.series_city) != n:
            raise ValueError("series_keys and series_city need one entry per series")

    @property
    def n_series(self) -> int:
        return self.counts.shape[0]

    @property
    def n_steps(self) -> int:
        return self.counts.shape[1]

    @property
    def cities(self) -> list[str]:
        return sorted(set(self.series_city))

    @property
    def freq(self) -> str:
        return "hour" if self.step_hours == 1 else "day" if self.step_hours == 24 else f"{self.step_hours}h"

    @cached_property
    def times(self) -> list[datetime]:
        step = timedelta(hours=self.step_hours)
        return [self.start + i * step for i in range(self.n_steps)]

    def surges_of(self, series: int) -> list[Surge]:
        return [s for s in self.surges if s.series == series]

    def subset(self, series: list[int] | np.ndarray) -> "Dataset":
        """The same data restricted to some series (surges renumbered)."""
        idx = [int(i) for i in series]
        pos = {old: new for new, old in enumerate(idx)}
        return Dataset(self.counts[idx], self.start, self.step_hours,
                       None if self.mean is None else self.mean[idx],
                       [self.series_keys[i] for i in idx], [self.series_city[i] for i in idx],
                       [Surge(pos[s.series], s.start, s.end, s.k, s.shape, s.excess, s.baseline_sd)
                        for s in self.surges if s.series in pos],
                       self.warmup, None if self.size is None else self.size[idx], self.seed)


def _shanxi_counties(cities: int, counties: int) -> list[tuple[str, str]]:
    """(county code, city code), cities taken in code order, counties dealt round-robin."""
    from config.divisions import divisions

    by_city: dict[str, list[str]] = {}
    for d in sorted(divisions().counties_of("140000"), key=lambda d: d.code):
        by_city.setdefault(d.city_code or d.code[:4] + "00", []).append(d.code)
    city_codes = sorted(by_city)[:cities]
    if not 1 <= cities <= len(by_city):
        raise ValueError(f"cities must be 1..{len(by_city)}, got {cities}")
    available = sum(len(by_city[c]) for c in city_codes)
    if not 1 <= counties <= available:
        raise ValueError(f"counties must be 1..{available} for {cities} cities, got {counties}")
    out: list[tuple[str, str]] = []
    depth = 0
    while len(out) < counties:
        for c in city_codes:
            if depth < len(by_city[c]) and len(out) < counties:
                out.append((by_city[c][depth], c))
        depth += 1
    return sorted(out)


def day_factors(start: date, n_days: int, calendar: Calendar | None = None) -> np.ndarray:
    """Weekday x calendar multiplier of each day (float64, length ``n_days``)."""
    cal = calendar or default_calendar()
    out = np.empty(n_days)
    for i in range(n_days):
        d = start + timedelta(days=i)
        if cal.is_makeup_workday(d):
            f = _MAKEUP_FACTOR
        elif cal.is_holiday(d):
            f = _HOLIDAY_FACTOR
        else:
            f = WEEKDAY_FACTOR[d.weekday()]
        out[i] = f * cal.peak_multiplier(d)
    return out



def inject_surges(rng: np.random.Generator, counts: np.ndarray, mean: np.ndarray, size: np.ndarray,
                  k_values: tuple[float, ...], surges_per_k: int | None, warmup: int,
                  step_hours: int) -> list[Surge]:
    """Add surges to ``counts`` in place (shared by :mod:`alerts.synth` and :mod:`alerts.synth2`).

    Per ``k``: ``surges_per_k`` surges (default one per five series, 5 .. 60) on random series,
    6 h .. 5 days long (log-uniform), ``step`` or ``ramp``, starting after ``warmup`` steps and
    kept two days apart on a series; total excess ``round(k * SD)`` with SD the NB standard
    deviation of the baseline ``mean`` over the window (``sqrt(sum(mu + mu**2 / size))``),
    spread over the window multinomially by the shape.  Returns them sorted by series, start.
    """
    n_s, n_steps = counts.shape
    steps_per_day = 24 // step_hours
    if surges_per_k is None:
        surges_per_k = int(np.clip(n_s // 5, 5, 60))
    busy: dict[int, list[tuple[int, int]]] = {}
    surges: list[Surge] = []
    gap = 2 * steps_per_day  # keep surges of one series apart (room for the grace period)
    for k in k_values:
        placed, tries = 0, 0
        while placed < surges_per_k and tries < 100 * surges_per_k:
            tries += 1
            hours = float(np.exp(rng.uniform(np.log(6.0), np.log(120.0))))
            dur = max(1, int(round(hours / step_hours)))
            if n_steps - dur <= warmup:
                continue
            s = int(rng.integers(n_s))
            t0 = int(rng.integers(warmup, n_steps - dur + 1))
            t1 = t0 + dur
            if any(t0 < e + gap and b0 - gap < t1 for b0, e in busy.get(s, ())):
                continue
            shape = SHAPES[int(rng.integers(len(SHAPES)))]
            mu = mean[s, t0:t1].astype(np.float64)
            sd = float(np.sqrt(np.sum(mu + mu * mu / size[s])))
            total = max(1, int(round(k * sd)))
            weights = np.ones(dur) if shape == "step" else np.arange(1, dur + 1, dtype=float)
            added = rng.multinomial(total, weights / weights.sum())
            counts[s, t0:t1] += added.astype(counts.dtype)
            busy.setdefault(s, []).append((t0, t1))
            surges.append(Surge(s, t0, t1, float(k), shape, total, sd))
            placed += 1
    surges.sort(key=lambda x: (x.series, x.start))
    return surges

def generate(seed: int, year: int = 2025, cities: int = 11, counties: int = 117,
             industries: tuple[str, ...] = INDUSTRIES, freq: str = "hour", days: int | None = None,
             k_values: tuple[float, ...] = K_VALUES, surges_per_k: int | None = None,
             warmup_days: int = 29, calendar: Calendar | None = None) -> Dataset:
    """A year (or ``days`` days from 1 January) of counts per county x industry, with surges.

    Parameters
    ----------
    seed
        Everything is drawn from ``numpy.random.default_rng(seed)``: same seed, same data.
    cities, counties
        How many of Shanxi's 11 cities and 117 counties (real GB/T 2260 codes); counties
        are dealt round-robin over the cities so every city keeps some.
    industries
        Industry names (default: the eleven of ``config/settings.yaml``).
    freq
        ``"hour"`` or ``"day"`` (a day's count is the sum of its hours).
    k_values, surges_per_k
        Surge sizes in baseline SDs and how many surges of each (default: one per five
        series, between 5 and 60).
    warmup_days
        No surge starts before this (the detectors' baselines fill up); false alarms are
        counted after it.
    """
    if freq not in ("hour", "day"):
        raise ValueError(f"freq must be 'hour' or 'day', got {freq!r}")
    if not industries:
        raise ValueError("industries must not be empty")
    rng = np.random.default_rng(seed)
    start = datetime(year, 1, 1)
    n_days = days if days is not None else (date(year + 1, 1, 1) - date(year, 1, 1)).days
    if n_days <= warmup_days:
        raise ValueError(f"days ({n_days}) must exceed warmup_days ({warmup_days})")
    places = _shanxi_counties(cities, counties)
    n_c, n_i = len(places), len(industries)
    n_s = n_c * n_i

    # ---- levels: county effect x industry share x series noise, lognormal
    county_eff = rng.normal(0.0, 0.6, n_c)
    w = np.array([_INDUSTRY_WEIGHT.get(x, 1.0) for x in industries])
    ind_eff = np.log(w) - np.log(np.array(list(_INDUSTRY_WEIGHT.values()))).mean()
    log_level = (np.log(_MEDIAN_LEVEL) + county_eff[:, None] + ind_eff[None, :]
                 + rng.normal(0.0, 0.5, (n_c, n_i))).ravel()
    level = np.clip(np.exp(log_level), 0.003, 4.0)
    slope = rng.uniform(-0.05, 0.20, n_s)                 # change over a year
    size = rng.uniform(1.0, 5.0, n_s)                     # NB size r

    # ---- common hourly shape: hour of day x weekday x calendar
    per_day = day_factors(start.date(), n_days, calendar)
    hourly = (per_day[:, None] * HOUR_PROFILE[None, :]).ravel()          # n_days*24
    frac = np.arange(n_days * 24) / (365.0 * 24)                          # years elapsed
    if freq == "day":
        common = hourly.reshape(n_days, 24).sum(axis=1)
        frac = frac.reshape(n_days, 24).mean(axis=1)
        step_hours = 24
    else:
        common, step_hours = hourly, 1
    mean = (level[:, None].astype(np.float32) * common[None, :].astype(np.float32)
            * (1.0 + slope[:, None].astype(np.float32) * frac[None, :].astype(np.float32)))
    # NB as a gamma-Poisson mixture, drawn in float32 blocks to bound memory
    counts = np.empty(mean.shape, dtype=np.int32)
    for a in range(0, n_s, 256):
        b = min(n_s, a + 256)
        r = size[a:b, None]
        lam = rng.gamma(r, 1.0, size=mean[a:b].shape) * (mean[a:b] / r)
        counts[a:b] = rng.poisson(lam)

    # ---- surges
    warmup = warmup_days * (24 // step_hours)
    surges = inject_surges(rng, counts, mean, size, k_values, surges_per_k, warmup, step_hours)
    keys = [(code, ind) for code, _ in places for ind in industries]
    city = [c for _, c in places for _ in industries]
    return Dataset(counts, start, step_hours, mean, keys, city, surges, warmup, size, seed)
