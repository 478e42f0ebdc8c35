"""What the screens and the intake API's wall view show, as numbers: counts of a selection over periods, broken down by kind,
industry and district, with the comparisons the bureaus make (vs yesterday, vs the same day last
year, vs the previous period).

Tallies are read from Redis through the key scheme of ``streams.keys`` and the window rules of
``streams.tally``; the shaping (``kpi_rows``, ``change``, ``ranking``, ``periods`` …) is pure and
tested without Redis. A period is summed from the coarsest buckets that fit: whole days, then
hours, then minutes (kept 48 h), and the part of an hour that has no minute buckets any more is
taken pro rata. A bucket that closed more than the grace period ago does not change, so its
parsed counts are cached: a wall refresh re-reads only today's day hash, the current hour and
the current minute.
"""
from __future__ import annotations

import calendar
import math
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from config import Settings
from config.divisions import DivisionTable, divisions
from streams import keys
from streams.numbers import significant
from streams.store import days_with_data as store_days_with_data, read_tallies
from streams.tally import bucket_range, floor_to

KINDS = ("投诉", "举报", "咨询")
TOTAL = "合计"
# A count key: (district, industry, kind). Channels are summed over: no screen cuts by them, and
# the counters are a quarter the size without.
Key = tuple[str, str, str]


# -- pure shaping ----------------------------------------------------------------------------

_FIELD_KEYS: dict = {}      # field -> (district, industry, kind) or None: the same few thousand fields recur
_MISSING = object()


def _field_key(f) -> tuple[str, str, str] | None:
    if isinstance(f, bytes):
        f = f.decode()
    parts = f.split("|")
    return (parts[0], parts[1], parts[2]) if len(parts) == 4 else None


def parse_tally(fields: dict) -> Counter:
    """A tally hash ({"district|industry|kind|channel": "n"}) as a Counter of
    (district, industry, kind), summed over channels."""
    out: dict = {}
    known = _FIELD_KEYS
    for f, c in fields.items():
        k = known.get(f, _MISSING)
        if k is _MISSING:
            k = _field_key(f)
            if len(known) < 200_000:
                known[f] = k
        if k is not None:
            out[k] = out.get(k, 0) + int(c)
    return Counter(out)


def select(counts: Counter, under: frozenset[str] | None = None, industry: str | None = None,
           kind: str | None = None) -> Counter:
    """The counts of one selection (districts under a code, one industry, one kind); None
    selects all."""
    if under is None and industry is None and kind is None:
        return counts
    return Counter({k: n for k, n in counts.items()
                    if (under is None or k[0] in under) and (industry is None or k[1] == industry)
                    and (kind is None or k[2] == kind)})


def by(counts: Counter, part: str) -> Counter:
    """Counts summed by one part of the key: district, industry or kind."""
    i = {"district": 0, "industry": 1, "kind": 2}[part]
    out: Counter = Counter()
    for k, n in counts.items():
        out[k[i]] += n
    return out


def change(current: float, previous: float) -> float | None:
    """Relative change in percent; None when there is nothing to compare with."""
    if previous is None or previous <= 0:
        return None
    return round((current - previous) / previous * 100, 1)


def coverage(since: datetime, until: datetime, first: datetime | None) -> float:
    """The share of [since, until) in which the system held data: 0 before its first tally
    (``first``; None when it holds none), 1 when the period starts on or after it."""
    if first is None or until <= since or first >= until:
        return 0.0
    if first <= since:
        return 1.0
    return (until - first) / (until - since)


def cover_hours(cover: float, hours: float) -> tuple[int, int]:
    """(hours with data, hours in the period), rounded as a screen says them."""
    total = max(1, round(hours))
    return min(total, round(cover * hours)), total


def comparison_state(cover: float, hours: float) -> str:
    """"full", "partial" or "none" for a comparison period ``cover`` of which has data."""
    have, total = cover_hours(cover, hours)
    if cover <= 0:
        return "none"
    return "full" if have >= total else "partial"


def kpi_rows(today: Counter, yesterday: Counter, last_year: Counter, cover_yesterday: float = 1.0,
             cover_last_year: float = 1.0, hours: float = 24.0) -> list[dict]:
    """One row per kind (投诉, 举报, 咨询) and the total: today's count and its changes.

    ``cover_*`` is the share of each comparison period that has data (:func:`coverage`) and
    ``hours`` its length: a period without data has None for its count and change (无数据, not
    0), a partial one None for its change (a part is not comparable with a whole); the row's
    ``*_state`` and ``*_hours`` (have, of) say which."""
    t, y, ly = by(today, "kind"), by(yesterday, "kind"), by(last_year, "kind")
    sy, sly = comparison_state(cover_yesterday, hours), comparison_state(cover_last_year, hours)
    rows = []
    for kind in (*KINDS, TOTAL):
        if kind == TOTAL:
            cur, prev, last = sum(t.values()), sum(y.values()), sum(ly.values())
        else:
            cur, prev, last = t.get(kind, 0), y.get(kind, 0), ly.get(kind, 0)
        rows.append({"kind": kind, "count": round(cur),
                     "yesterday": None if sy == "none" else round(prev),
                     "last_year": None if sly == "none" else round(last),
                     "vs_yesterday": change(cur, prev) if sy == "full" else None,
                     "vs_last_year": change(cur, last) if sly == "full" else None,
                     "yesterday_state": sy, "last_year_state": sly,
                     "yesterday_hours": cover_hours(cover_yesterday, hours),
                     "last_year_hours": cover_hours(cover_last_year, hours)})
    return rows


def surge_score(observed: float, expected: float) -> float:
    """How far a count is above its usual level, in the units the detectors use."""
    return round((observed - expected) / math.sqrt(expected + 1), 2)


def child_codes(table: DivisionTable, level: str, code: str) -> tuple[str, list[str]]:
    """The level and codes shown one step down from a selection (a county shows its siblings)."""
    d = table.get(code)
    if level == "province":
        kids = [c for c in table.children(code) if c.level == "city"]
        kids += [c for c in table.children(code) if c.level == "county"]  # counties directly under a province
        return "city", [c.code for c in kids]
    if level == "city":
        return "county", [c.code for c in table.children(code) if c.level == "county"]
    parent = d.parent_code or d.province_code
    return "county", [c.code for c in table.children(parent) if c.level == "county"]


def ranking(table: DivisionTable, codes: list[str], level: str, today: Counter, baseline: Counter,
            baseline_days: int) -> list[dict]:
    """Districts with today's count, the usual count at this time of day and the surge score,
    highest count first."""
    by_district = by(today, "district")
    base_district = by(baseline, "district")
    rows = []
    for code in codes:
        d = table.get(code)
        n = sum(v for k, v in by_district.items() if _rolls_up(table, k, code, level))
        b = sum(v for k, v in base_district.items() if _rolls_up(table, k, code, level)) / max(1, baseline_days)
        rows.append({"code": code, "name": d.name, "count": round(n), "expected": significant(b, 2, 1),
                     "score": surge_score(n, b), "ratio": round(n / b, 2) if b > 0 else None})
    rows.sort(key=lambda r: (-r["count"], r["code"]))
    return rows


def _rolls_up(table: DivisionTable, district: str, code: str, level: str) -> bool:
    if district == code:
        return True
    d = table.get(district)
    return d is not None and d.code_at(level) == code


def same_time_last_year(dt: datetime) -> datetime:
    """The same calendar day and time a year earlier (29 February becomes the 28th)."""
    try:
        return dt.replace(year=dt.year - 1)
    except ValueError:
        return dt.replace(year=dt.year - 1, day=28)


PERIOD_KINDS = ("day", "week", "month", "quarter", "custom")
PERIOD_NAMES = {"day": "日", "week": "周", "month": "月", "quarter": "季度", "custom": "自定义"}


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date          # exclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def label(self) -> str:
        s, e = self.start, self.end - timedelta(days=1)
        if self.kind == "day":
            return f"{s:%Y年%m月%d日}"
        if self.kind == "month":
            return f"{s.year}年{s.month}月"
        if self.kind == "quarter":
            return f"{s.year}年第{(s.month - 1) // 3 + 1}季度"
        return f"{s:%Y年%m月%d日}—{e:%Y年%m月%d日}"


def period_of(kind: str, anchor: date, end: date | None = None) -> Period:
    """The day, ISO week (Monday first), calendar month or quarter holding ``anchor``;
    ``custom`` runs from ``anchor`` to ``end`` inclusive."""
    if kind == "day":
        return Period(kind, anchor, anchor + timedelta(days=1))
    if kind == "week":
        s = anchor - timedelta(days=anchor.weekday())
        return Period(kind, s, s + timedelta(days=7))
    if kind == "month":
        s = anchor.replace(day=1)
        return Period(kind, s, _add_months(s, 1))
    if kind == "quarter":
        s = date(anchor.year, (anchor.month - 1) // 3 * 3 + 1, 1)
        return Period(kind, s, _add_months(s, 3))
    if kind == "custom":
        if end is None or end < anchor:
            raise ValueError("a custom period needs an end on or after its start")
        return Period(kind, anchor, end + timedelta(days=1))
    raise ValueError(f"period kind {kind!r} must be one of {', '.join(PERIOD_KINDS)}")


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    y, m = d.year + m // 12, m % 12 + 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def previous_period(p: Period) -> Period:
    """The period just before: the day, week, month or quarter before, or as many days before."""
    if p.kind in ("month", "quarter"):
        n = 1 if p.kind == "month" else 3
        return Period(p.kind, _add_months(p.start, -n), p.start)
    return Period(p.kind, p.start - timedelta(days=p.days), p.start)


def last_year_period(p: Period) -> Period:
    """The same calendar dates a year earlier."""
    def back(d: date) -> date:
        try:
            return d.replace(year=d.year - 1)
        except ValueError:
            return d.replace(year=d.year - 1, day=28)
    if p.kind in ("month", "quarter"):
        return Period(p.kind, back(p.start), _add_months(back(p.start), 1 if p.kind == "month" else 3))
    return Period(p.kind, back(p.start), back(p.start) + timedelta(days=p.days))


def decompose(since: datetime, until: datetime, minute_floor: datetime | None) -> list[tuple[str, datetime, datetime]]:
    """[since, until) as whole local days, hours and minutes, coarsest first.

    Minutes are used only from ``minute_floor`` on (older minute buckets have expired); an
    older partial hour is returned as ("h~", hour start, until) to be taken pro rata.
    """
    out: list[tuple[str, datetime, datetime]] = []
    cur = since
    while cur < until:
        day0 = floor_to(cur, "d")
        nxt_day = _next_day(day0)
        if cur == day0 and nxt_day <= until:
            out.append(("d", cur, nxt_day))
            cur = nxt_day
            continue
        hour0 = floor_to(cur, "h")
        nxt_hour = hour0 + timedelta(hours=1)
        if cur == hour0 and nxt_hour <= until:
            out.append(("h", cur, nxt_hour))
            cur = nxt_hour
            continue
        if minute_floor is not None and cur >= minute_floor:
            m0 = floor_to(cur, "m")
            out.append(("m", m0, m0 + timedelta(minutes=1)))
            cur = m0 + timedelta(minutes=1)
            continue
        stop = min(until, nxt_hour)
        out.append(("h~", cur, stop))
        cur = stop
    return out


def _next_day(day0: datetime) -> datetime:
    d = day0.date() + timedelta(days=1)
    return datetime(d.year, d.month, d.day, tzinfo=day0.tzinfo)


def bucket_start(key, tz) -> datetime | None:
    """The start of a tally bucket from its key (``cc:t:h:2026101409:140000``); None for
    another key."""
    if isinstance(key, bytes):
        key = key.decode()
    parts = key.split(":")
    if len(parts) < 4 or parts[-4] != "t" or parts[-3] not in Tallies.FMT:
        return None
    try:
        return datetime.strptime(parts[-2], Tallies.FMT[parts[-3]]).replace(tzinfo=tz)
    except ValueError:
        return None


def first_of(earliest: dict[str, datetime]) -> datetime | None:
    """The first moment with data from the earliest bucket start of each window ({"d": …,
    "h": …, "m": …}): the earliest day, narrowed to its earliest hour and that hour's earliest
    minute where those are still kept (a day bucket starts at midnight, its first complaint may
    come hours later)."""
    starts = [t for t in earliest.values() if t is not None]
    if not starts:
        return None
    first = min(starts)
    for win, span in (("h", None), ("m", timedelta(hours=1))):
        t = earliest.get(win)
        if t is None:
            continue
        end = _next_day(floor_to(first, "d")) if span is None else first + span
        if first <= t < end:
            first = t
    return first


# -- reading from Redis ----------------------------------------------------------------------

class Tallies:
    """Tally hashes of one province, read from Redis and parsed; closed buckets are cached."""

    FMT = {"m": "%Y%m%d%H%M", "h": "%Y%m%d%H", "d": "%Y%m%d"}
    STEP = {"m": timedelta(minutes=1), "h": timedelta(hours=1)}

    def __init__(self, settings: Settings, client, province: str = "140000", table: DivisionTable | None = None,
                 cache_size: int = 20000):
        self.settings = settings
        self.tz = settings.tz
        self.redis = client
        self.province = province
        self.table = table or divisions()
        self.grace = float(settings.tally.grace_seconds)
        self.keep_minutes = float(settings.tally.keep_minute_hours) * 3600
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str], Counter] = OrderedDict()
        self._periods: OrderedDict[tuple, Counter] = OrderedDict()
        self._lock = threading.Lock()
        self.memo: dict = {}
        self._days_seen: set[str] = set()     # day buckets known to exist (see days_with_data)
        self.reads = 0  # hashes fetched from Redis (tests check the cache with it)
        self._first: tuple[float, datetime | None] | None = None
        self._versions: dict[str, str] = {}   # late-write versions of buckets (keys.tally_versions)
        self._versions_all: str | None = None
        self._versions_checked = 0.0
        # bumped whenever late writes drop cached buckets: a read that began before a drop does
        # not store what it read (it may predate the late write), so no stale entry outlives it
        self.generation = 0
        self._versions_looked = False
        self.revised: dict[tuple[str, str], float] = {}   # (win, bucket) -> when a late write last moved it

    def now(self) -> datetime:
        return datetime.now(self.tz)

    WIDTH = {"m": 12, "h": 10, "d": 8}   # characters of a bucket's text in FMT
    FIRST_TTL = 30.0   # seconds a found first bucket is trusted (an import may add older history)

    def first_data(self, now: float | None = None) -> datetime | None:
        """When the system's data begins: the start of the earliest tally bucket of this
        province held in Redis (minute, hour or day); None when it holds none. Periods before it
        have no data (无数据); a bucket after it with no hash is a true 0."""
        now = time.time() if now is None else now
        hit = self._first
        if hit is not None and hit[1] is not None and now - hit[0] < self.FIRST_TTL:
            return hit[1]
        lowest: dict[str, str] = {}     # per window, the smallest bucket text: fixed width, so the earliest
        for k in self.redis.scan_iter(match=keys.tally("*", "*", self.province), count=10000):
            if isinstance(k, bytes):
                k = k.decode()
            parts = k.split(":")
            win, b = parts[-3], parts[-2]
            if win in self.WIDTH and len(b) == self.WIDTH[win] and (win not in lowest or b < lowest[win]):
                lowest[win] = b
        earliest = {w: t for w, b in lowest.items()
                    if (t := bucket_start(keys.tally(w, b, self.province), self.tz)) is not None}
        self._first = (now, first_of(earliest))
        return self._first[1]

    def _closed(self, win: str, start: datetime, now: float) -> bool:
        end = _next_day(start) if win == "d" else start + self.STEP[win]
        return end.timestamp() + self.grace + 5 < now

    VERSIONS_EVERY = 1.0   # seconds between checks for late writes (a wall refreshes every 2 s)

    def check_late_writes(self, force: bool = False) -> int:
        """Drop cached buckets that a late complaint (an import, a replay, a backlog) wrote into
        after they closed: the tally's atomic step bumps their version. One HGET when nothing
        moved; returns how many cached buckets were dropped."""
        mono = time.monotonic()
        if not force and mono - self._versions_checked < self.VERSIONS_EVERY:
            return 0
        self._versions_checked = mono
        vk = keys.tally_versions(self.province)
        gv = self.redis.hget(vk, "_all")
        gv = gv.decode() if isinstance(gv, bytes) else gv
        first_look, self._versions_looked = not self._versions_looked, True
        if gv == self._versions_all:
            return 0
        raw = self.redis.hgetall(vk)
        now_v = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
                 for k, v in raw.items()}
        dropped = 0
        with self._lock:
            for f, v in now_v.items():
                if f == "_all" or self._versions.get(f) == v:
                    continue
                win, _, b = f.partition(":")
                if not first_look:                        # what the first look finds is history
                    self.revised[(win, b)] = time.time()
                if self._cache.pop((win, b), None) is not None:
                    dropped += 1
            if len(self.revised) > 5000:
                cut = time.time() - 3600
                self.revised = {k: t for k, t in self.revised.items() if t >= cut}
            # totals of periods and memoised selections may hold a dropped bucket: recompute
            self._periods.clear()
            self.memo = {}
            self.generation += 1
            self._versions, self._versions_all = now_v, gv
        return dropped

    FILLING_S = 15.0   # a bucket a late write moved this recently is still filling (see filling)

    def filling(self, win: str, starts: list[datetime], within: float | None = None) -> bool:
        """Whether late complaints (a backfill, an import, a first start's seeded history) wrote
        into any of these buckets in the last ``within`` (FILLING_S) seconds: their counts are
        still arriving."""
        cut = time.time() - (self.FILLING_S if within is None else within)
        rev = self.revised
        return any(rev.get((win, s.astimezone(self.tz).strftime(self.FMT[win])), 0) >= cut for s in starts)

    def buckets(self, win: str, starts: list[datetime], now: float | None = None) -> list[Counter]:
        """The parsed counts of each bucket (window ``win`` starting at each of ``starts``)."""
        now = time.time() if now is None else now
        self.check_late_writes()
        out: list[Counter | None] = []
        missing: list[tuple[int, str, bool]] = []
        with self._lock:
            gen = self.generation
            for i, s in enumerate(starts):
                b = s.astimezone(self.tz).strftime(self.FMT[win])
                c = self._cache.get((win, b))
                if c is not None:
                    self._cache.move_to_end((win, b))
                out.append(c)
                if c is None:
                    missing.append((i, b, self._closed(win, s, now)))
        if missing:
            # the minutes not folded yet into an hour, day or the total are added (streams.store)
            raw = read_tallies(self.redis, self.province, [(win, b) for _, b, _ in missing], self.tz, now)
            self.reads += len(missing)
            with self._lock:
                for (i, b, closed), fields in zip(missing, raw):
                    c = parse_tally(fields)
                    out[i] = c
                    if closed and self.generation == gen:
                        self._cache[(win, b)] = c
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return out  # type: ignore[return-value]

    def total(self, win: str, since: datetime, until: datetime, now: float | None = None) -> Counter:
        starts = [s for s, _ in bucket_range(win, since, until, self.tz)]
        acc: Counter = Counter()
        for c in self.buckets(win, starts, now):
            acc.update(c)
        return acc

    def series(self, win: str, since: datetime, until: datetime, under: frozenset[str] | None = None,
               industry: str | None = None, now: float | None = None) -> list[tuple[datetime, int]]:
        """Per-bucket totals of a selection."""
        starts = [s for s, _ in bucket_range(win, since, until, self.tz)]
        return [(s, sum(select(c, under, industry).values())) for s, c in zip(starts, self.buckets(win, starts, now))]

    def days_with_data(self, since: datetime, until: datetime) -> tuple[int, int]:
        """(days with any tally at all, days) of the local days [since, until) touches: how much
        of a period the stored history covers, whatever the selection's counts (a day hash is
        kept forever and exists once anything was tallied that day). Days found are remembered."""
        starts = [s.astimezone(self.tz).strftime(self.FMT["d"]) for s, _ in bucket_range("d", since, until, self.tz)]
        known = self._days_seen
        with self._lock:
            missing = [b for b in starts if b not in known]
        if missing:
            found = [b for b, n in zip(missing, store_days_with_data(self.redis, self.province, missing, self.tz)) if n]
            with self._lock:
                known.update(found)
        return sum(1 for b in starts if b in known), len(starts)

    def period(self, since: datetime, until: datetime, now: float | None = None) -> Counter:
        """Counts in [since, until), from the coarsest buckets that fit (see :func:`decompose`).

        The whole days and hours at the start of a period are summed once and kept while they
        are closed, so a period that grows by the minute (today so far) costs only its minutes.
        """
        now_ts = time.time() if now is None else now
        since, until = since.astimezone(self.tz), until.astimezone(self.tz)
        minute_floor = datetime.fromtimestamp(now_ts - self.keep_minutes + 120, self.tz)
        parts = decompose(since, until, minute_floor)
        coarse = [p for p in parts if p[0] in ("d", "h")]
        acc = Counter(self._prefix(coarse, now_ts)) if coarse else Counter()
        starts = [a for w, a, _ in parts if w == "m"]
        for c in self.buckets("m", starts, now_ts) if starts else ():
            acc.update(c)
        partial = [(a, b) for w, a, b in parts if w == "h~"]
        if partial:
            hours = self.buckets("h", [floor_to(a, "h") for a, _ in partial], now_ts)
            for (a, b), c in zip(partial, hours):
                share = (b - a).total_seconds() / 3600
                for k, n in c.items():
                    acc[k] += n * share
        return acc

    def _prefix(self, coarse: list[tuple[str, datetime, datetime]], now_ts: float) -> Counter:
        key = (coarse[0][1].timestamp(), coarse[-1][2].timestamp())
        self.check_late_writes()
        with self._lock:
            gen = self.generation
            hit = self._periods.get(key)
        if hit is not None:
            return hit
        acc: Counter = Counter()
        for win in ("d", "h"):
            starts = [a for w, a, _ in coarse if w == win]
            for c in self.buckets(win, starts, now_ts) if starts else ():
                acc.update(c)
        if coarse[-1][2].timestamp() + self.grace + 5 < now_ts:
            with self._lock:
                if self.generation != gen:
                    return acc                  # late writes moved a bucket meanwhile: not kept
                self._periods[key] = acc
                while len(self._periods) > 512:
                    self._periods.popitem(last=False)
        return acc


def today_covers(tallies: Tallies, now: datetime) -> tuple[float, float, float]:
    """(share of yesterday up to this time with data, the same for this day last year, the
    hours since midnight): what :func:`kpi_rows` needs to tell 无数据 from 0."""
    first = tallies.first_data(now.timestamp())
    y_now, ly_now = now - timedelta(days=1), same_time_last_year(now)
    hours = (now - floor_to(now, "d")).total_seconds() / 3600
    return (coverage(floor_to(y_now, "d"), y_now, first), coverage(floor_to(ly_now, "d"), ly_now, first), hours)


def today_vs(tallies: Tallies, now: datetime) -> tuple[Counter, Counter, Counter]:
    """Today so far, yesterday up to the same time, the same day last year up to the same time."""
    day0 = floor_to(now, "d")
    today = tallies.period(day0, now, now.timestamp())
    y_now = now - timedelta(days=1)
    yesterday = tallies.period(floor_to(y_now, "d"), y_now, now.timestamp())
    ly_now = same_time_last_year(now)
    last_year = tallies.period(floor_to(ly_now, "d"), ly_now, now.timestamp())
    return today, yesterday, last_year


def usual_so_far(tallies: Tallies, now: datetime, days: int = 7, step_minutes: int = 5) -> Counter:
    """The sum over the previous ``days`` days of each day's counts up to this time of day.

    Taken at ``now`` rounded down to ``step_minutes`` (a usual level need not move by the
    second) and kept until the next step, so a wall refresh rarely pays for it.
    """
    at = now.replace(minute=now.minute - now.minute % step_minutes, second=0, microsecond=0)
    key = ("usual", at.timestamp(), days)
    tallies.check_late_writes()
    gen = tallies.generation
    hit = tallies.memo.get(key)
    if hit is not None:
        return hit
    acc: Counter = Counter()
    for k in range(1, days + 1):
        t = at - timedelta(days=k)
        acc.update(tallies.period(floor_to(t, "d"), t, now.timestamp()))
    if tallies.generation == gen:
        tallies.memo = {key: acc}
    return acc


def trend_24h(tallies: Tallies, now: datetime, under: frozenset[str], industry: str | None = None) -> dict:
    """The last 24 hours by hour (the current hour so far last) and the same hours a year earlier."""
    end = floor_to(now, "h") + timedelta(hours=1)
    start = end - timedelta(hours=24)
    cur = tallies.series("h", start, end, under, industry, now.timestamp())
    ly_start = same_time_last_year(start)
    ly = tallies.series("h", ly_start, ly_start + timedelta(hours=24), under, industry, now.timestamp())[:len(cur)]
    first = tallies.first_data(now.timestamp())
    counts, last_year = gaps(cur, first), gaps(ly, first)
    state = trend_state(first, tallies.filling("h", [s for s, _ in cur]))
    return {"hours": [s.strftime("%H:00") for s, _ in cur], "starts": [s.isoformat() for s, _ in cur],
            "counts": counts, "last_year": last_year, "state": state,
            "note": TREND_STATE_NOTES.get(state) or trend_note(last_year)}


TREND_STATE_NOTES = {"empty": "数据准备中：系统尚未收到投诉", "filling": "数据准备中：历史数据补录中，数字仍在增加"}


def trend_state(first: datetime | None, filling: bool) -> str:
    """"ready"; "empty" before the system holds any data (the trend is all gaps, not zeros);
    "filling" while late complaints (a first start's seeded history, an import) are still being
    written into its hours, so a low hour may only be one not read in yet."""
    if first is None:
        return "empty"
    return "filling" if filling else "ready"


def gaps(series: list[tuple[datetime, float]], first: datetime | None) -> list[float | None]:
    """An hourly series with None for each hour that ended before the system held any data
    (``first``; all None when it holds none): no data is a gap, a quiet hour since is 0."""
    return [None if first is None or s + timedelta(hours=1) <= first else n for s, n in series]


def trend_note(last_year: list[float | None]) -> str:
    """What the wall says of the 去年同期 line: nothing when whole, else how much has data."""
    have = sum(v is not None for v in last_year)
    if have == len(last_year):
        return ""
    return "去年同期无数据" if have == 0 else f"去年同期 仅有 {have}/{len(last_year)} 小时数据"


# -- complaint documents (masked texts, merchants) ---------------------------------------------

class Documents:
    """The hour document lists the stream keeps (``cc:docs:{hour}:{province}``, masked text,
    merchant, kind, channel, topics), for drill-downs and merchant rankings.

    Merchant counts of a closed hour are cached, so a quarter's ranking is read once."""

    def __init__(self, settings: Settings, client, province: str = "140000"):
        self.settings = settings
        self.tz = settings.tz
        self.redis = client
        self.province = province
        self.grace = float(settings.tally.grace_seconds)
        self._merchants: OrderedDict[str, Counter] = OrderedDict()
        self._lock = threading.Lock()

    def _keys(self, since: datetime, until: datetime) -> list[tuple[datetime, str]]:
        from streams.topicmodel import hour_keys

        starts = [s for s, _ in bucket_range("h", since, until, self.tz)]
        return list(zip(starts, hour_keys(self.province, since, until, self.tz)))

    def complaints(self, since: datetime, until: datetime, under: frozenset[str], industry: str | None = None,
                   limit: int = 200, phrase: str | None = None) -> list[dict]:
        """The newest complaints of a selection in [since, until), as the stream stored them
        (texts masked at intake): id, at, district, industry, kind, channel, merchant, text.
        ``industry`` "*" is every industry; ``phrase`` ("a|b") keeps those that carry it."""
        import orjson

        out: list[dict] = []
        lo, hi = since.timestamp(), until.timestamp()
        for _, key in reversed(self._keys(since, until)):
            raws = self.redis.lrange(key, 0, -1)
            for raw in reversed(raws):
                d = orjson.loads(raw)
                if not (lo <= d["ts"] < hi) or d["d"] not in under or (industry and industry != "*" and d["i"] != industry):
                    continue
                if phrase and phrase not in d.get("ph", ()):
                    continue
                out.append({"id": d["id"], "at": datetime.fromtimestamp(d["ts"], self.tz).strftime("%m-%d %H:%M"),
                            "district": d["d"], "industry": d["i"], "kind": d.get("k", ""),
                            "channel": d.get("c", ""), "merchant": d.get("m", ""), "text": d.get("t", "")})
                if len(out) >= limit:
                    return out
        return out

    def merchants(self, since: datetime, until: datetime, under: frozenset[str] | None = None,
                  industry: str | None = None) -> Counter:
        """Complaints per merchant in [since, until) (whole hours), for a selection."""
        import orjson

        now = time.time()
        acc: Counter = Counter()
        hours = self._keys(since, until)
        with self._lock:
            counts = [self._merchants.get(key) for _, key in hours]
        missing = [i for i, c in enumerate(counts) if c is None]
        for lo in range(0, len(missing), 500):       # uncached hours read in pipelined batches
            batch = missing[lo:lo + 500]
            with self.redis.pipeline(transaction=False) as p:
                for i in batch:
                    p.lrange(hours[i][1], 0, -1)
                raws = p.execute()
            for i, raw_list in zip(batch, raws):
                c = Counter()
                for raw in raw_list:
                    d = orjson.loads(raw)
                    if d.get("m"):
                        c[(d["d"], d["i"], d["m"])] += 1
                counts[i] = c
                start, key = hours[i]
                if start.timestamp() + 3600 + self.grace + 5 < now:
                    with self._lock:
                        self._merchants[key] = c
                        while len(self._merchants) > 5000:
                            self._merchants.popitem(last=False)
        for c in counts:
            for (dist, ind, m), n in c.items():
                if (under is None or dist in under) and (industry is None or ind == industry):
                    acc[m] += n
        return acc
