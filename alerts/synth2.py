"""A second, independent generator of complaint counts with known surges (harder than synth.py).

:mod:`alerts.synth` gives every series the same hour-of-day x weekday x calendar shape and
independent noise, so each series' share of the province is constant: the share scan is
close to optimal there.  Real counts are not like that.  This generator breaks that
structure on purpose, with the same surge and scoring conventions (``Dataset``,
``Surge``, k x SD sizes) so :mod:`alerts.evaluate` scores both the same way::

    mu[s, t] = level[s] * trend[city, t] * hour[ind, hour] * week[ind, weekday]
               * holiday[ind, day] * peak[ind, day] * province_shock[day] * city_shock[city, day]
    count    ~ NegBin(mean mu * series_shock[s, day], size r[s])

* ``hour[ind]``: per-industry daily profiles: online shopping (一般消费纠纷, 产品质量) and
  catering (食品) peak in the evening, offices (房地产, 汽车, 价格, 职业索赔 ...) in the
  morning, supermarkets (商超) in the afternoon, tourism (旅游) at midday.
* ``week[ind]``: offices low at the weekend, tourism and shopping higher.
* ``holiday[ind]``: tourism x2.2 on a holiday, catering x1.3, offices x0.35, online x0.9.
* ``peak[ind]``: ``config/calendar.yaml``'s known peaks (3·15 ...), weighted per industry
  (Double-11 hits online shopping hardest).  Known peaks, not surges.
* ``province_shock``, ``city_shock``: lognormal day-level multipliers (news, weather, a
  local event): every county of a city runs above or below its usual share together.
  They are part of the true baseline ``mean`` (what the ceiling is handed).
* ``series_shock``: a gamma day-level multiplier per series (mean 1, CV 0.1 .. 0.4 by
  series): correlated overdispersion within a day, *not* in ``mean``.
* ``trend[city]``: linear per city, -20 % .. +35 % over a year, plus a slow seasonal wave.
* ``r[s]``: NB size varies by series, lognormal (0.4 .. 30), so dispersion differs.

Surges: as :mod:`alerts.synth` (6 h .. 5 days log-uniform, step or ramp, total excess
``round(k * SD)``, SD = ``sqrt(sum(mu + mu**2 / r))`` over the window).  Deterministic per
seed; vectorised numpy.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np

from alerts.calendar import Calendar, default_calendar
from alerts.synth import INDUSTRIES, K_VALUES, Dataset, _shanxi_counties, inject_surges

__all__ = ["generate", "PROFILE_OF", "HOUR_PROFILES"]


def _norm(a) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    return a / a.mean()


# hour-of-day profiles (0 .. 23), mean 1
HOUR_PROFILES = {
    "evening": _norm([0.5, 0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 0.7, 0.9, 1.0, 1.1,
                      1.2, 1.1, 1.0, 1.0, 1.1, 1.3, 1.6, 2.0, 2.4, 2.6, 2.1, 1.2]),
    "catering": _norm([0.4, 0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 0.8, 0.9, 1.0, 1.6,
                       2.2, 1.8, 1.0, 0.8, 0.9, 1.4, 2.2, 2.6, 2.3, 1.6, 1.0, 0.6]),
    "office": _norm([0.05, 0.03, 0.03, 0.03, 0.05, 0.1, 0.3, 1.0, 2.4, 3.2, 3.0, 2.4,
                     1.0, 1.6, 2.2, 2.0, 1.6, 1.0, 0.5, 0.3, 0.2, 0.15, 0.1, 0.05]),
    "retail": _norm([0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.2, 0.5, 0.9, 1.3, 1.6, 1.7,
                     1.6, 1.7, 1.9, 2.0, 1.9, 1.8, 1.7, 1.5, 1.2, 0.8, 0.4, 0.2]),
    "tourism": _norm([0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 0.8, 1.4, 1.9, 2.2, 2.3,
                      2.2, 2.1, 2.0, 1.8, 1.5, 1.2, 0.9, 0.7, 0.5, 0.3, 0.2, 0.1]),
}
# Monday .. Sunday
WEEK_PROFILES = {
    "evening": np.array([1.00, 0.95, 0.95, 0.97, 1.02, 1.12, 1.10]),
    "catering": np.array([0.85, 0.85, 0.90, 0.95, 1.10, 1.35, 1.30]),
    "office": np.array([1.25, 1.20, 1.15, 1.10, 1.05, 0.45, 0.35]),
    "retail": np.array([0.90, 0.90, 0.90, 0.95, 1.00, 1.25, 1.20]),
    "tourism": np.array([0.80, 0.75, 0.75, 0.80, 0.95, 1.45, 1.40]),
}
# multiplier on a public holiday (a make-up workday counts as a Monday)
HOLIDAY_EFFECT = {"evening": 0.9, "catering": 1.3, "office": 0.35, "retail": 1.15, "tourism": 2.2}
# how much of a calendar peak's multiplier an industry feels (1: all of it)
PEAK_WEIGHT = {"evening": 1.2, "catering": 0.6, "office": 0.5, "retail": 1.0, "tourism": 0.4}
PROFILE_OF = {"一般消费纠纷": "evening", "产品质量": "evening", "食品": "catering", "商超": "retail",
              "旅游": "tourism", "房地产": "office", "汽车": "office", "价格": "office", "职业索赔": "office",
              "药品": "retail", "医疗器械": "office"}
_INDUSTRY_WEIGHT = {"食品": 1.4, "药品": 0.5, "医疗器械": 0.3, "商超": 1.1, "职业索赔": 0.8,
                    "一般消费纠纷": 2.8, "汽车": 0.9, "房地产": 0.8, "价格": 0.8, "产品质量": 1.5, "旅游": 0.7}
_MEDIAN_LEVEL = 0.07


def _day_table(start: date, n_days: int, profiles: list[str], cal: Calendar) -> np.ndarray:
    """(n_profiles, n_days): weekday x holiday x weighted calendar peak per profile."""
    out = np.empty((len(profiles), n_days))
    for i in range(n_days):
        d = start + timedelta(days=i)
        peak = cal.peak_multiplier(d)
        for p, name in enumerate(profiles):
            if cal.is_makeup_workday(d):
                f = WEEK_PROFILES[name][0]
            elif cal.is_holiday(d):
                f = WEEK_PROFILES[name][6] * HOLIDAY_EFFECT[name]
            else:
                f = WEEK_PROFILES[name][d.weekday()]
            out[p, i] = f * peak ** PEAK_WEIGHT[name]
    return out


def generate(seed: int, year: int = 2025, cities: int = 11, counties: int = 117,
             industries: tuple[str, ...] = INDUSTRIES, freq: str = "hour", days: int | None = None,
             k_values: tuple[float, ...] = K_VALUES, surges_per_k: int | None = None,
             warmup_days: int = 29, calendar: Calendar | None = None,
             city_shock_sd: float = 0.18, province_shock_sd: float = 0.10) -> Dataset:
    """Same signature and conventions as :func:`alerts.synth.generate`; a different world."""
    if freq not in ("hour", "day"):
        raise ValueError(f"freq must be 'hour' or 'day', got {freq!r}")
    if not industries:
        raise ValueError("industries must not be empty")
    rng = np.random.default_rng(seed + 7_777_001)   # never the same stream as synth.py's seed
    cal = calendar or default_calendar()
    start = datetime(year, 1, 1)
    n_days = days if days is not None else (date(year + 1, 1, 1) - date(year, 1, 1)).days
    if n_days <= warmup_days:
        raise ValueError(f"days ({n_days}) must exceed warmup_days ({warmup_days})")
    places = _shanxi_counties(cities, counties)
    city_codes = sorted({c for _, c in places})
    city_of_county = np.array([city_codes.index(c) for _, c in places])
    n_c, n_i, n_city = len(places), len(industries), len(city_codes)
    n_s = n_c * n_i
    n_h = n_days * 24

    # ---- levels: county effect x industry share x series noise (a heavier tail than synth)
    county_eff = rng.normal(0.0, 0.7, n_c)
    w = np.array([_INDUSTRY_WEIGHT.get(x, 1.0) for x in industries])
    ind_eff = np.log(w) - np.log(np.array(list(_INDUSTRY_WEIGHT.values()))).mean()
    log_level = (np.log(_MEDIAN_LEVEL) + county_eff[:, None] + ind_eff[None, :]
                 + rng.standard_t(5, (n_c, n_i)) * 0.45).ravel()
    level = np.clip(np.exp(log_level), 0.003, 5.0)
    size = np.clip(np.exp(rng.normal(np.log(2.5), 0.9, n_s)), 0.4, 30.0)   # NB size r, varies by series
    shock_cv = rng.uniform(0.1, 0.4, n_s)                                    # series-day shock CV

    # ---- per-industry daily shapes
    profiles = sorted({PROFILE_OF.get(x, "retail") for x in industries})
    prof_idx = np.array([profiles.index(PROFILE_OF.get(x, "retail")) for x in industries])
    days_tab = _day_table(start.date(), n_days, profiles, cal)                     # (P, D)
    hours_tab = np.stack([HOUR_PROFILES[p] for p in profiles])                      # (P, 24)
    shape_p = (days_tab[:, :, None] * hours_tab[:, None, :]).reshape(len(profiles), n_h)  # (P, H)

    # ---- shared day shocks and per-city trends
    prov = np.exp(rng.normal(-province_shock_sd ** 2 / 2, province_shock_sd, n_days))
    # city shocks with some persistence (AR(1) over days): a local event lasts a day or two
    eps = rng.normal(0.0, city_shock_sd, (n_city, n_days))
    city_log = np.empty_like(eps)
    city_log[:, 0] = eps[:, 0]
    for d in range(1, n_days):
        city_log[:, d] = 0.4 * city_log[:, d - 1] + np.sqrt(1 - 0.16) * eps[:, d]
    city_day = np.exp(city_log - city_shock_sd ** 2 / 2)                            # (C, D)
    frac = np.arange(n_h) / (365.0 * 24)
    slope = rng.uniform(-0.20, 0.35, n_city)
    wave_amp = rng.uniform(0.0, 0.15, n_city)
    wave_phase = rng.uniform(0, 2 * np.pi, n_city)
    city_trend = ((1.0 + slope[:, None] * frac[None, :])
                  * (1.0 + wave_amp[:, None] * np.sin(2 * np.pi * frac[None, :] + wave_phase[:, None])))  # (C, H)
    city_hour = city_trend * np.repeat(city_day, 24, axis=1) * np.repeat(prov, 24)[None, :]           # (C, H)

    s_county = np.repeat(np.arange(n_c), n_i)
    s_ind = np.tile(np.arange(n_i), n_c)
    s_city = city_of_county[s_county]
    mean = np.empty((n_s, n_h), dtype=np.float32)
    counts = np.empty((n_s, n_h), dtype=np.int32)
    for a in range(0, n_s, 128):
        b = min(n_s, a + 128)
        m = (level[a:b, None] * shape_p[prof_idx[s_ind[a:b]]] * city_hour[s_city[a:b]]).astype(np.float32)
        mean[a:b] = m
        cv = shock_cv[a:b, None]
        g = rng.gamma(1.0 / cv ** 2, cv ** 2, size=(b - a, n_days))                  # mean 1 day shock
        lam_mean = m * np.repeat(g, 24, axis=1)
        r = size[a:b, None]
        lam = rng.gamma(r, 1.0, size=lam_mean.shape) * (lam_mean / r)
        counts[a:b] = rng.poisson(lam)

    step_hours = 1
    if freq == "day":
        mean = mean.reshape(n_s, n_days, 24).sum(axis=2)
        counts = counts.reshape(n_s, n_days, 24).sum(axis=2)
        step_hours = 24

    # ---- surges (the conventions of alerts.synth, the same code)
    warmup = warmup_days * (24 // step_hours)
    surges = inject_surges(rng, counts, mean, size, k_values, surges_per_k, warmup, step_hours)
    keys = [(code, ind) for code, _ in places for ind in industries]
    city = [c for _, c in places for _ in industries]
    return Dataset(counts, start, step_hours, mean, keys, city, surges, warmup, size, seed)
