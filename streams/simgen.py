"""The simulator's generator: a deterministic stream of realistic Shanxi complaints.

Pure (no Kafka, Redis or HTTP): ``Simulator(settings, seed, surges).generate(start, end)``
yields raw complaint dicts in time order, the same ones for the same seed and start. Arrivals
are an inhomogeneous Poisson process whose rate is the baseline times a daily/weekly rhythm,
plus the scripted surges of ``config/surges.yaml``. The CLI in ``streams.simulate`` paces and
sends them.
"""
from __future__ import annotations

import bisect
import math
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo


from config import CONFIG_DIR, Settings, read_yaml
from config.divisions import Division, DivisionTable, divisions
from streams import simtext as T

SURGES_FILE = CONFIG_DIR / "surges.yaml"
STEP_SECONDS = 60.0          # the rate is held constant over steps of this length
MIN_TEXT, MAX_TEXT = 30, 200
PHONE_IN_TEXT = 0.08         # share of texts that carry the complainant's phone number

# Changzhi 2023: 36,651 enquiries, 11,156 complaints, 3,150 reports of 50,957 items.
KIND_MIX = {"咨询": 0.72, "投诉": 0.22, "举报": 0.06}

# Which industries each kind of item is about. Reports lean to food and professional
# claimants, complaints to disputes and product quality, enquiries to general questions.
INDUSTRY_BY_KIND = {
    "咨询": {"一般消费纠纷": 30, "食品": 12, "产品质量": 12, "商超": 10, "价格": 7, "汽车": 6, "房地产": 6,
             "旅游": 5, "药品": 4, "医疗器械": 3, "职业索赔": 3},
    "投诉": {"一般消费纠纷": 25, "产品质量": 18, "食品": 12, "商超": 10, "汽车": 8, "房地产": 7, "旅游": 6,
             "价格": 5, "职业索赔": 5, "药品": 2, "医疗器械": 2},
    "举报": {"食品": 25, "职业索赔": 25, "价格": 12, "药品": 8, "商超": 8, "产品质量": 8, "一般消费纠纷": 5,
             "医疗器械": 4, "汽车": 2, "房地产": 2, "旅游": 1},
}

# Mostly the 12315 platform, then 12345 transfers and shop QR codes; letters and visits
# only arrive in office hours.
CHANNEL_MIX = {"12315": 64, "12345": 13, "mini-program": 11, "110": 5, "letter": 3, "visit": 3, "other": 1}
OFFICE_ONLY = ("letter", "visit")

# Share of the province's items per prefecture city (Shanxi; population and Changzhi's
# 50,957 of 317,214 items in 2023). Other provinces: by number of counties.
CITY_SHARE = {"140100": 0.22, "140400": 0.15, "140800": 0.11, "140200": 0.09, "141000": 0.09,
              "140700": 0.09, "140500": 0.07, "141100": 0.06, "140900": 0.05, "140300": 0.04, "140600": 0.03}
# City seats and main urban districts get more than their share by count.
CORE_DISTRICTS = {"140105", "140106", "140107", "140109", "140213", "140302", "140403", "140502", "140602",
                  "140702", "140802", "140902", "141002", "141102"}
SCENIC_BOOST = 10.0          # tourism items cluster in counties with a known scenic area

# Relative hourly intake, 0 h .. 23 h: low at night, peaks mid-morning and afternoon; weekends
# start later and are flatter. DAY_FACTOR: Monday catches the weekend's backlog.
WEEKDAY_HOURS = (0.25, 0.12, 0.07, 0.05, 0.05, 0.08, 0.20, 0.50, 1.20, 1.90, 2.00, 1.70,
                 1.00, 1.10, 1.70, 1.80, 1.60, 1.20, 0.80, 0.75, 0.75, 0.60, 0.45, 0.35)
WEEKEND_HOURS = (0.30, 0.15, 0.08, 0.06, 0.06, 0.08, 0.15, 0.35, 0.70, 1.20, 1.50, 1.40,
                 1.00, 1.00, 1.30, 1.40, 1.30, 1.00, 0.80, 0.80, 0.80, 0.70, 0.50, 0.35)
DAY_FACTOR = (1.15, 1.05, 1.0, 1.0, 0.95, 0.75, 0.70)
HOLIDAYS = {(1, 1), (5, 1), (5, 2), (5, 3), (5, 4), (5, 5)} | {(10, d) for d in range(1, 8)}
SPECIAL_DAYS = {(3, 15): 1.6}   # World Consumer Rights Day
_WEEK_MEAN = sum(DAY_FACTOR[d] * (WEEKEND_HOURS if d >= 5 else WEEKDAY_HOURS)[h]
                 for d in range(7) for h in range(24)) / 168


class SurgeError(ValueError):
    """A surge definition the simulator cannot run."""


# --- time helpers ----------------------------------------------------------------------------

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$")
_UNIT = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_duration(value) -> float:
    """Seconds from 90, "90s", "10m", "2h", "1.5d"."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"{value!r} is not a duration (e.g. 90s, 10m, 2h, 1d)")
    return float(m.group(1)) * _UNIT[m.group(2)]


def parse_start(value, tz: ZoneInfo) -> float | datetime:
    """An offset in seconds from the simulation start, or an absolute local date-time."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    try:
        return parse_duration(value)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is neither an offset (10m, 2h) nor a local date-time (2024-10-01T09:00)") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=tz)


class Rhythm:
    """Relative intake at a moment (mean 1 over an ordinary week), interpolated between hours."""

    def __init__(self, tz: ZoneInfo):
        self.tz = tz

    @staticmethod
    @lru_cache(maxsize=4096)
    def _point(day: date, hour: int) -> float:
        if hour < 0:
            day, hour = day - timedelta(days=1), hour + 24
        elif hour > 23:
            day, hour = day + timedelta(days=1), hour - 24
        md = (day.month, day.day)
        weekday = 6 if md in HOLIDAYS else day.weekday()
        hours = WEEKEND_HOURS if weekday >= 5 else WEEKDAY_HOURS
        return DAY_FACTOR[weekday] * hours[hour] * SPECIAL_DAYS.get(md, 1.0) / _WEEK_MEAN

    def __call__(self, ts: float) -> float:
        local = datetime.fromtimestamp(ts, self.tz)
        x = local.hour + local.minute / 60 + local.second / 3600 - 0.5
        k = math.floor(x)
        frac = x - k
        d = local.date()
        return (1 - frac) * self._point(d, k) + frac * self._point(d, k + 1)

    def office_hours(self, ts: float) -> bool:
        local = datetime.fromtimestamp(ts, self.tz)
        if local.weekday() >= 5 or (local.month, local.day) in HOLIDAYS:
            return False
        return 8.5 <= local.hour + local.minute / 60 < 17.5


# --- surges ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Surge:
    """A scripted rise of complaints in one county and industry (see config/surges.yaml)."""

    name: str
    label: str
    district: str
    industry: str
    merchants: tuple[str, ...]
    rate_per_hour: float
    shape: str                      # step | ramp
    start: float | datetime         # offset seconds from the simulation start, or absolute
    duration: float                 # seconds
    ramp_up: float | None = None    # seconds; ramp only (default: the whole duration)
    kinds: dict = field(default_factory=lambda: {"投诉": 0.85, "举报": 0.10, "咨询": 0.05})
    amount: tuple[float, float] = (50.0, 3000.0)
    slots: dict = field(default_factory=dict)
    templates: dict = field(default_factory=dict)   # kind -> tuple of templates

    @property
    def tag(self) -> str:
        return f"surge:{self.name}"

    def window(self, origin: float) -> tuple[float, float]:
        """(start, end) in epoch seconds for a simulation that starts at ``origin``."""
        t0 = self.start.timestamp() if isinstance(self.start, datetime) else origin + self.start
        return t0, t0 + self.duration

    def rate(self, ts: float, t0: float, t1: float) -> float:
        """Extra complaints per second at ``ts`` within the window [t0, t1)."""
        if not t0 <= ts < t1:
            return 0.0
        full = self.rate_per_hour / 3600.0
        if self.shape == "ramp":
            return full * min(1.0, (ts - t0) / (self.ramp_up or self.duration))
        return full

    def describe(self, table: DivisionTable | None = None) -> str:
        d = (table or divisions()).get(self.district)
        start = self.start.isoformat(timespec="minutes") if isinstance(self.start, datetime) else f"+{_human(self.start)}"
        return (f"{self.name}: {self.label} | {self.district} {d.full_name if d else '?'} | {self.industry} | "
                f"{'、'.join(self.merchants)} | +{self.rate_per_hour:g}/h {self.shape} | start {start}, "
                f"lasts {_human(self.duration)}")


def _human(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def load_surges(settings: Settings, path: str | Path | None = None,
                table: DivisionTable | None = None) -> dict[str, Surge]:
    """The surges of a YAML file by name, checked; a bad one raises SurgeError naming it."""
    path = Path(path) if path else SURGES_FILE
    table = table or divisions()
    doc = read_yaml(path, "surge file", SurgeError)
    entries = doc.get("surges")
    if not isinstance(entries, dict):
        raise SurgeError(f"surge file {path} must hold a mapping 'surges: {{name: {{...}}}}'")
    industries = settings.complaints.industries
    kinds = settings.complaints.kinds
    out = {}
    for name, spec in entries.items():
        def bad(msg: str, name=name):
            raise SurgeError(f"surge {name!r} in {path}: {msg}")

        if not isinstance(spec, dict):
            bad("must be a mapping of settings")
        if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,50}", str(name)):
            bad("name must be 1-50 characters of A-Z a-z 0-9 _ . -")
        for key in ("district", "industry", "merchant", "rate_per_hour", "start", "duration", "templates"):
            if spec.get(key) in (None, "", [], {}):
                bad(f"{key} is missing")
        district = str(spec["district"])
        if district not in table:
            bad(f"district {district} is not in the GB/T 2260 division table")
        if spec["industry"] not in industries:
            bad(f"industry {spec['industry']!r} is not one of {'、'.join(industries)}")
        merchants = spec["merchant"] if isinstance(spec["merchant"], list) else [spec["merchant"]]
        rate = spec["rate_per_hour"]
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or rate <= 0:
            bad(f"rate_per_hour {rate!r} must be a positive number")
        shape = spec.get("shape", "step")
        if shape not in ("step", "ramp"):
            bad(f"shape {shape!r} must be step or ramp")
        try:
            start = parse_start(spec["start"], settings.tz)
            duration = parse_duration(spec["duration"])
            ramp_up = parse_duration(spec["ramp_up"]) if spec.get("ramp_up") not in (None, "") else None
        except ValueError as e:
            bad(str(e))
        if duration <= 0 or (ramp_up is not None and ramp_up <= 0):
            bad("duration and ramp_up must be longer than 0")
        mix = spec.get("kinds") or {"投诉": 0.85, "举报": 0.10, "咨询": 0.05}
        if not isinstance(mix, dict) or not all(k in kinds and isinstance(v, (int, float)) and v >= 0
                                                for k, v in mix.items()) or sum(mix.values()) <= 0:
            bad(f"kinds must map {'/'.join(kinds)} to non-negative shares")
        amount = spec.get("amount") or [50, 3000]
        if not (isinstance(amount, list) and len(amount) == 2 and 0 < amount[0] <= amount[1]):
            bad("amount must be [min, max] yuan, 0 < min <= max")
        templates = spec["templates"]
        if isinstance(templates, list):
            templates = {"投诉": templates}
        if not isinstance(templates, dict) or not all(k in kinds and isinstance(v, list) and v
                                                      and all(isinstance(t, str) for t in v)
                                                      for k, v in templates.items()):
            bad(f"templates must be a list, or map {'/'.join(kinds)} to lists of texts")
        slots = spec.get("slots") or {}
        if not isinstance(slots, dict) or not all(isinstance(v, list) and v for v in slots.values()):
            bad("slots must map names to non-empty lists of words")
        out[str(name)] = Surge(
            name=str(name), label=str(spec.get("label") or name), district=district, industry=spec["industry"],
            merchants=tuple(str(m) for m in merchants), rate_per_hour=float(rate), shape=shape, start=start,
            duration=duration, ramp_up=ramp_up, kinds={k: float(v) for k, v in mix.items()},
            amount=(float(amount[0]), float(amount[1])),
            slots={k: tuple(str(x) for x in v) for k, v in slots.items()},
            templates={k: tuple(v) for k, v in templates.items()})
    return out


def select_surges(catalog: dict[str, Surge], specs: list[str], tz: ZoneInfo) -> list[Surge]:
    """Surges named ``NAME`` or ``NAME@START`` (START overrides the file's start)."""
    out = []
    for spec in specs:
        name, _, start = spec.partition("@")
        if name not in catalog:
            raise SurgeError(f"no surge named {name!r}; known: {', '.join(catalog) or 'none'}")
        s = catalog[name]
        if start:
            try:
                s = replace(s, start=parse_start(start, tz))
            except ValueError as e:
                raise SurgeError(f"--surge {spec}: {e}") from None
        out.append(s)
    return out


# --- text ------------------------------------------------------------------------------------

_OPTIONAL = re.compile(r"\[([^\[\]]*)\]")
_SLOT = re.compile(r"\{([^{}]*)\}")


def expand(template: str, resolve: Callable[[str], str], rng: random.Random) -> str:
    """Fill a template (grammar in streams/simtext.py); ``resolve`` maps a slot name to text."""
    def slot(m: re.Match) -> str:
        key = m.group(1)
        return rng.choice(key.split("|")) if "|" in key else resolve(key)

    text = template
    for _ in range(16):
        new = _SLOT.sub(slot, _OPTIONAL.sub(lambda m: m.group(1) if rng.random() < 0.5 else "", text))
        if new == text:
            return text
        text = new
    raise ValueError(f"template nests too deep: {template!r}")


def _weighted(items: dict) -> tuple[list, list[float]]:
    keys = list(items)
    cum, total = [], 0.0
    for k in keys:
        total += items[k]
        cum.append(total)
    return keys, cum


def _pick(rng: random.Random, table: tuple[list, list[float]]):
    keys, cum = table
    return keys[bisect.bisect_right(cum, rng.random() * cum[-1])]


def _short(d: Division) -> str:
    """潞州区 -> 潞州, 五台县 -> 五台; 城区 -> 阳泉 (too short to stand alone)."""
    if len(d.name) > 2 and d.name[-1] in "区县市旗":
        return d.name[:-1]
    return d.city_name[:-1] if d.city_name else d.name


# --- the generator ---------------------------------------------------------------------------

class Simulator:
    """Complaints for one province: who, where, when, what, with scripted surges on top.

    ``rate_per_second`` is the average baseline over an ordinary week; the daily and weekly
    rhythm moves it up and down (``flat=True`` holds it constant).
    """

    def __init__(self, settings: Settings, seed: int | None = None, surges: list[Surge] | tuple = (),
                 rate_per_second: float | None = None, province: str | None = None, flat: bool = False,
                 run_tag: str | None = None, surge_scale: float = 1.0, table: DivisionTable | None = None):
        sim = settings.simulator
        self.settings = settings
        self.tz = settings.tz
        self.seed = int(sim.seed if seed is None else seed)
        self.rate = float(sim.rate_per_second if rate_per_second is None else rate_per_second)
        if self.rate < 0:
            raise ValueError(f"rate {self.rate} must not be negative")
        if surge_scale < 0:
            raise ValueError(f"surge scale {surge_scale} must not be negative")
        if run_tag is not None and not re.fullmatch(r"[A-Za-z0-9_.:\-]{1,24}", run_tag):
            raise ValueError(f"run tag {run_tag!r} must be 1-24 characters of A-Z a-z 0-9 _ . : -")
        self.surges = list(surges)
        self.surge_scale = surge_scale
        self.flat = flat
        self.run_tag = run_tag
        self.table = table or divisions()
        self.province = str(province or sim.province)
        if self.table.level_of(self.province) != "province":
            raise ValueError(f"province {self.province} is not a province code of the division table")
        self.rhythm = Rhythm(self.tz)
        self.industries = [i for i in settings.complaints.industries if i in T.INDUSTRIES]
        self._kinds = _weighted(KIND_MIX)
        self._industry = {k: _weighted({i: w for i, w in mix.items() if i in self.industries})
                          for k, mix in INDUSTRY_BY_KIND.items()}
        channels = [c for c in CHANNEL_MIX if c in settings.complaints.channels]
        self._channels_office = _weighted({c: CHANNEL_MIX[c] for c in channels})
        self._channels_off = _weighted({c: CHANNEL_MIX[c] for c in channels if c not in OFFICE_ONLY})
        weights = self._district_weights()
        self.district_weights = weights
        self._districts = _weighted(weights)
        self._districts_tourism = _weighted({c: w * (SCENIC_BOOST if c in T.SCENIC else 1.0)
                                             for c, w in weights.items()})
        self._pools: dict[tuple[str, str], tuple[list[str], list[float]]] = {}
        self._merchant_kinds = {i: _weighted({k: 1.0 / (n + 1) for n, k in enumerate(T.INDUSTRIES[i]["merchants"])})
                                for i in self.industries}

    # -- where ---------------------------------------------------------------------------------

    def _district_weights(self) -> dict[str, float]:
        """Each county's share of the province's items; big cities and urban cores get more."""
        counties = self.table.counties_of(self.province)
        by_city: dict[str, list[Division]] = {}
        for d in counties:
            by_city.setdefault(d.city_code or d.code, []).append(d)
        known = all(c in CITY_SHARE for c in by_city)
        out = {}
        for city, members in by_city.items():
            share = CITY_SHARE[city] if known else len(members) / len(counties)
            raw = {d.code: (3.0 if d.name.endswith("区") else 1.6 if d.name.endswith("市") else 1.0)
                   * (2.0 if d.code in CORE_DISTRICTS else 1.0) for d in members}
            total = sum(raw.values())
            out.update({code: share * w / total for code, w in raw.items()})
        return out

    def merchant_pool(self, district: str, kind: str) -> list[str]:
        """The businesses of one kind in a county: stable for every seed, so names recur."""
        return self._pool(district, kind)[0]

    def _pool(self, district: str, kind: str) -> tuple[list[str], list[float]]:
        key = (district, kind)
        if key not in self._pools:
            d = self.table.get(district)
            rng = random.Random(f"merchants:{district}:{kind}")
            size = 8 if d.name.endswith("区") or district in CORE_DISTRICTS else 4
            place = _short(d)
            names: list[str] = []
            brands = rng.sample(T.BRANDS, size)
            for brand in brands:
                suffix = rng.choice(T.MERCHANT_KINDS[kind])
                if kind == "hotel" and district in T.SCENIC and rng.random() < 0.5:
                    name = rng.choice(T.SCENIC[district]) + brand + suffix
                elif kind != "online" and rng.random() < 0.5:
                    name = place + brand + suffix
                else:
                    name = brand + suffix
                if name not in names:
                    names.append(name)
            self._pools[key] = _weighted({n: 1.0 / (i + 1) for i, n in enumerate(names)})
        return self._pools[key]

    # -- when ----------------------------------------------------------------------------------

    def baseline_rate_at(self, t: float | datetime) -> float:
        """Baseline complaints per second at ``t`` (rhythm applied)."""
        ts = t.timestamp() if isinstance(t, datetime) else t
        return self.rate if self.flat else self.rate * self.rhythm(ts)

    def surge_windows(self, origin: float | datetime) -> list[tuple[Surge, datetime, datetime]]:
        """Each surge with its start and end for a simulation that starts at ``origin``."""
        o = origin.timestamp() if isinstance(origin, datetime) else origin
        out = []
        for s in self.surges:
            t0, t1 = s.window(o)
            out.append((s, datetime.fromtimestamp(t0, self.tz), datetime.fromtimestamp(t1, self.tz)))
        return out

    def rate_at(self, t: float | datetime, origin: float | datetime | None = None) -> float:
        """Complaints per second at ``t``: baseline plus active surges (offsets from ``origin``)."""
        ts = t.timestamp() if isinstance(t, datetime) else t
        o = ts if origin is None else (origin.timestamp() if isinstance(origin, datetime) else origin)
        extra = sum(s.rate(ts, *s.window(o)) for s in self.surges)
        return self.baseline_rate_at(ts) + self.surge_scale * extra

    def expected_count(self, start: datetime, end: datetime) -> float:
        """The expected number of complaints in [start, end) (for progress bars and checks)."""
        o, e = start.timestamp(), end.timestamp()
        total, t = 0.0, o
        while t < e:
            step = min(STEP_SECONDS, e - t)
            total += self.rate_at(t + step / 2, o) * step
            t += step
        return total

    def generate(self, start: datetime, end: datetime | None = None) -> Iterator[dict]:
        """Raw complaints with start <= received_at < end, in time order; endless if no end."""
        if start.tzinfo is None:
            start = start.replace(tzinfo=self.tz)
        origin = start.timestamp()
        stop = end.timestamp() if end is not None else math.inf
        tag = self.run_tag or start.astimezone(self.tz).strftime("%Y%m%d%H%M%S")
        prefix = f"SIM-{self.seed}-{tag}-"
        rng = random.Random(f"complaints:{self.seed}:{self.province}")
        windows = [(s, *s.window(origin)) for s in self.surges]
        edges = sorted({x for _, t0, t1 in windows for x in (t0, t1) if x > origin})
        n = 0
        t = origin
        while t < stop:
            i = bisect.bisect_right(edges, t)
            step_end = min(t + STEP_SECONDS, stop, edges[i] if i < len(edges) else math.inf)
            mid = (t + step_end) / 2
            rates = [self.baseline_rate_at(mid)] + [self.surge_scale * s.rate(mid, t0, t1) for s, t0, t1 in windows]
            total = sum(rates)
            if total > 0:
                sources = _weighted(dict(enumerate(rates)))
                at = t + rng.expovariate(total)
                while at < step_end:
                    src = _pick(rng, sources) if len(rates) > 1 else 0
                    n += 1
                    cid = f"{prefix}{n:09d}"
                    yield (self._complaint(rng, cid, at) if src == 0
                           else self._surge_complaint(rng, cid, at, windows[src - 1][0]))
                    at += rng.expovariate(total)
            t = step_end

    # -- what ----------------------------------------------------------------------------------

    def _complaint(self, rng: random.Random, cid: str, ts: float) -> dict:
        kind = _pick(rng, self._kinds)
        industry = _pick(rng, self._industry[kind])
        district = _pick(rng, self._districts_tourism if industry == "旅游" else self._districts)
        templates = T.INDUSTRIES[industry][kind]
        return self._build(rng, cid, ts, kind, industry, district, templates, T.INDUSTRIES[industry]["slots"],
                           T.INDUSTRIES[industry]["amount"], merchants=None, tags=None)

    def _surge_complaint(self, rng: random.Random, cid: str, ts: float, surge: Surge) -> dict:
        kind = _pick(rng, _weighted({k: v for k, v in surge.kinds.items() if v > 0}))
        templates = surge.templates.get(kind) or T.INDUSTRIES[surge.industry][kind]
        slots = {**T.INDUSTRIES[surge.industry]["slots"], **surge.slots}
        merchants = _weighted({m: 1.0 / (i + 1) for i, m in enumerate(surge.merchants)})
        return self._build(rng, cid, ts, kind, surge.industry, surge.district, templates, slots, surge.amount,
                           merchants=merchants, tags=[surge.tag])

    def _build(self, rng, cid, ts, kind, industry, district, templates, slots, amount_range, merchants, tags) -> dict:
        channel = _pick(rng, self._channels_office if self.rhythm.office_hours(ts) else self._channels_off)
        contact = self._contact(rng, kind, industry, channel)
        for _attempt in range(6):
            fill = _Slots(self, rng, ts, kind, industry, district, slots, amount_range, merchants, contact)
            text = expand(rng.choice(templates), fill, rng)
            if kind == "投诉" and rng.random() < 0.3:
                text += expand(rng.choice(T.CLOSINGS), fill, rng)
            if len(text) < MIN_TEXT:
                text = expand(rng.choice(T.SHORT_PREFIXES), fill, rng) + text
            if channel in ("12315", "12345", "110") and rng.random() < 0.25:
                openings = T.OPERATOR_OPENINGS[kind] if channel == "12315" else T.TRANSFER_OPENINGS
                text = rng.choice(openings) + text
            if contact.get("phone") and rng.random() < PHONE_IN_TEXT:
                tails = T.PHONE_TAILS if contact.get("name") else [x for x in T.PHONE_TAILS if "{name}" not in x]
                tail = expand(rng.choice(tails), fill, rng)
                text = (text[:-1] + tail if text.endswith("。") else text + tail.lstrip("，。")) + "。"
            text = _tidy(text)
            fillers = list(T.FILLERS)
            while len(text) < MIN_TEXT:
                text += fillers.pop(rng.randrange(len(fillers)))
            if len(text) <= MAX_TEXT:
                break
        else:
            text = text[:MAX_TEXT - 1] + "。"
        chosen = fill.chosen
        if "merchant" not in chosen and merchants is not None:
            chosen["merchant"] = _pick(rng, merchants)
        if "amount" not in chosen and kind == "投诉" and rng.random() < 0.5:
            chosen["amount"] = _amount(rng, *amount_range)
        rec = {"id": cid, "received_at": datetime.fromtimestamp(ts, self.tz).isoformat(timespec="milliseconds"),
               "channel": channel, "kind": kind, "district": district, "industry": industry}
        if "merchant" in chosen:
            rec["merchant"] = chosen["merchant"]
        if "amount" in chosen:
            rec["amount"] = chosen["amount"]
        rec["text"] = text
        if contact:
            rec["contact"] = contact
        if tags:
            rec["tags"] = list(tags)
        return rec

    @staticmethod
    def _contact(rng: random.Random, kind: str, industry: str, channel: str) -> dict:
        """Fake names and 1xx0000xxxx numbers: enough to exercise masking, never real people."""
        if industry == "职业索赔":
            return {"name": _name(rng), "phone": _phone(rng)}
        if channel == "mini-program":      # scan and write, no login: a phone at most
            return {"phone": _phone(rng)} if rng.random() < 0.6 else {}
        if kind == "举报" and rng.random() < 0.4:
            return {}                       # anonymous report
        if kind == "咨询" and rng.random() < 0.5:
            return {"phone": _phone(rng)}
        return {"name": _name(rng), "phone": _phone(rng)}


class _Slots:
    """One complaint's slot values (the resolver ``expand`` calls): a slot named twice is one word."""

    def __init__(self, sim: Simulator, rng: random.Random, ts: float, kind: str, industry: str, district: str,
                 slots: dict, amount_range: tuple[float, float], merchants, contact: dict):
        self.sim, self.rng, self.ts, self.kind, self.industry = sim, rng, ts, kind, industry
        self.district, self.division = district, sim.table.get(district)
        self.slots, self.amount_range, self.merchants, self.contact = slots, amount_range, merchants, contact
        self.memo: dict[str, str] = {}
        self.chosen: dict[str, object] = {}     # the merchant and amount the text names, for the record

    def __call__(self, key: str) -> str:
        if key not in self.memo:
            self.memo[key] = self._value(key)
        return self.memo[key]

    def _value(self, key: str) -> str:
        rng, d = self.rng, self.division
        if key == "merchant" or key.startswith("merchant:"):
            if self.merchants is not None:
                value = _pick(rng, self.merchants)
            else:
                kinds = key.partition(":")[2].split(",") if ":" in key else None
                kind_of = rng.choice(kinds) if kinds else _pick(rng, self.sim._merchant_kinds[self.industry])
                value = _pick(rng, self.sim._pool(self.district, kind_of))
            self.chosen["merchant"] = value
            return value
        if key == "amount" or key.startswith("amount:"):
            lo, _, hi = key.partition(":")[2].partition("-")
            if "amount" not in self.chosen:
                self.chosen["amount"] = (_amount(rng, float(lo), float(hi)) if hi
                                         else _amount(rng, *self.amount_range))
            return f"{self.chosen['amount']:g}"
        if key == "small":
            return str(rng.choice((3, 5, 8, 10, 15, 20, 30, 50, 80, 100, 200)))
        if key == "phone":
            return self.contact.get("phone") or _phone(rng)
        if key == "name":
            return self.contact.get("name") or _name(rng)
        if key == "date":
            day = datetime.fromtimestamp(self.ts - rng.randint(1, 40) * 86400, self.sim.tz)
            return f"{day.month}月{day.day}日"
        if key == "scenic":
            if self.district in T.SCENIC:
                return rng.choice(T.SCENIC[self.district])
            return _short(d) + rng.choice(("森林公园", "古镇景区", "生态园", "温泉度假村", "农业观光园"))
        if key == "county":
            return d.name
        if key == "city":
            return d.city_name
        if key in self.slots:
            return rng.choice(self.slots[key])
        if key in T.COMMON:
            return rng.choice(T.COMMON[key])
        raise KeyError(f"template slot {{{key}}} has no words ({self.industry} {self.kind})")


_PUNCT_FIX = re.compile(r"[，、]+(?=[。？！])|(?<=[。？！])[，。]+|，{2,}")


def _tidy(text: str) -> str:
    """Mend the punctuation left where an optional part or an empty slot dropped out."""
    text = _PUNCT_FIX.sub(lambda m: "，" if m.group(0).startswith("，，") else "", text)
    return text[:-1] + "。" if text.endswith(("，", "、")) else text


def _name(rng: random.Random) -> str:
    return rng.choice(T.SURNAMES) + "".join(rng.choice(T.GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randint(0, 9)}0000{rng.randint(0, 9999):04d}"


def _amount(rng: random.Random, lo: float, hi: float) -> float:
    """Log-uniform in [lo, hi], rounded the way people quote prices."""
    a = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    step = 1 if a < 200 else 10 if a < 5000 else 100
    return float(max(lo, round(a / step) * step))
