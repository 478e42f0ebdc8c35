"""Reading case figures from Redis: for the HTTP API and the dashboard (plain functions).

``kpis(redis, settings, level, code, since=None, until=None, industry=None)`` returns the
fixed shape of ``GET /api/v1/kpis``: the six rates ``{value, numerator, denominator}``,
``recovered_yuan``, ``open``, ``due_soon``, ``overdue``, plus what was asked (``level``,
``code``, ``name``, ``since``, ``until``, ``industry``), ``as_of`` and ``items``.
The items are those received in [since, until) (default: this calendar year up to now) at
or under the district; the figures are as of now (streams/cases/kpis.py says how each is
computed).

``due_items(redis, settings, level, code, industry=None, limit=200)`` is the 督办 list:
items with a clock in its 催办 window or overdue, most urgent first, each with its unit and
clock (label, deadline, seconds left; negative when overdue).

``redis`` is a synchronous client with ``decode_responses=True``.
"""
from __future__ import annotations

import gc
import math
import time
from contextlib import contextmanager
from collections import OrderedDict
from datetime import datetime, timedelta

from config.divisions import LEVELS, divisions
from streams import keys
from streams.cases.config import CaseConfig, default_case_config
from streams.cases.deadlines import WorkCalendar, item_clocks
from streams.cases.kpis import add, finish, sums
from streams.cases.store import parse_case

__all__ = ["QueryError", "kpis", "due_items", "read_cases", "districts_under", "calendar"]

MAX_DAYS = 800
CHUNK = 2000


class QueryError(ValueError):
    """A query that cannot be answered; the message says why (HTTP 400)."""


_under: dict = {}
_cal: dict = {}


def calendar(settings, cfg: CaseConfig) -> WorkCalendar:
    key = (str(settings.tz), cfg.unknown_years)
    if key not in _cal:
        _cal[key] = WorkCalendar(settings.tz, cfg.unknown_years)
    return _cal[key]


def districts_under(level: str, code: str) -> frozenset[str]:
    key = (level, code)
    if key not in _under:
        if level not in LEVELS:
            raise QueryError(f"level {level!r} must be one of {', '.join(LEVELS)}")
        table = divisions()
        d = table.get(code)
        if d is None:
            raise QueryError(f"code {code!r} is not in the GB/T 2260 division table")
        if d.level != level:
            raise QueryError(f"code {code} ({d.name}) is a {d.level}, not a {level}")
        _under[key] = frozenset(x.code for x in table.by_code.values() if x.code_at(level) == code or x.code == code)
    return _under[key]


def _time(value, tz, what: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    try:
        dt = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise QueryError(f"{what} {str(value)[:40]!r} is not an ISO 8601 date or date-time") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=tz)


def _fetch(r, ids: list[str]) -> list[dict]:
    out = []
    for a in range(0, len(ids), CHUNK):
        part = ids[a:a + CHUNK]
        with r.pipeline(transaction=False) as p:
            for cid in part:
                p.hgetall(keys.CASE + cid)
            for cid, fields in zip(part, p.execute()):
                c = parse_case(cid, fields)
                if c is not None:
                    out.append(c)
    return out


def _days(since: datetime, until: datetime, tz) -> list[str]:
    day, last = since.astimezone(tz).date(), until.astimezone(tz).date()
    days = []
    while day <= last:
        days.append(day.strftime("%Y%m%d"))
        day += timedelta(days=1)
    return days


def _select(cases, under, industry, lo: float, hi: float) -> list[dict]:
    return [c for c in cases if lo <= c["ts"] < hi and c["district"] in under
            and (industry is None or c["industry"] == industry)]


def read_cases(r, settings, level: str, code: str, since: datetime, until: datetime,
               industry: str | None = None) -> list[dict]:
    """The cases received in [since, until) at or under (level, code), of ``industry`` if given."""
    under = districts_under(level, code)
    province = divisions().get(code).province_code
    by_day = _day_cases(r, _days(since, until, settings.tz), province)
    return _select((c for _v, cases in by_day.values() for c in cases), under, industry,
                   since.timestamp(), until.timestamp())


_DAY_CACHE: "OrderedDict[tuple[str, str], tuple[str, list[dict]]]" = OrderedDict()
_SUM_CACHE: "OrderedDict[tuple, tuple[str, float, dict]]" = OrderedDict()
DAY_CACHE_DAYS = 400
SUM_CACHE_ENTRIES = 20000


def _day_cases(r, days: list[str], province: str) -> dict[str, tuple[str, list[dict]]]:
    """{day: (version, cases received that day, parsed)}; a day is read again only when its
    version (``cc:cases:ver``, bumped by every change to one of its cases) moved."""
    fields = [f"{d}:{province}" for d in days]
    gen, *versions = r.hmget(keys.CASES_VERSION, ["_gen", *fields])
    out: dict[str, tuple[str, list[dict]]] = {}
    stale = []
    for d, v in zip(days, versions):
        if v is None:
            continue
        v = f"{gen}/{v}"
        got = _DAY_CACHE.get((d, province))
        if got is not None and got[0] == v:
            _DAY_CACHE.move_to_end((d, province))
            out[d] = got
        else:
            stale.append((d, v))
    if stale:
        with r.pipeline(transaction=False) as p:
            for d, _v in stale:
                p.smembers(keys.cases_day(d, province))
            members = p.execute()
        for (d, v), ids in zip(stale, members):
            out[d] = _DAY_CACHE[(d, province)] = (v, _fetch(r, list(ids)))
        while len(_DAY_CACHE) > DAY_CACHE_DAYS:
            _DAY_CACHE.popitem(last=False)
    return out


@contextmanager
def _gc_paused():
    """Reading a year of cases makes a million small objects; the cyclic collector would scan
    them again and again (measured: twice the time). Paused meanwhile; what the caches keep is
    then frozen out of later collections."""
    was = gc.isenabled()
    before = len(_DAY_CACHE)
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
        if len(_DAY_CACHE) != before:
            gc.freeze()


def _figures(r, settings, cfg, cal, level, code, since: datetime, until: datetime, industry, now: float) -> dict:
    """Raw sums over the period. A whole local day's sums are kept until one of its cases
    changes (its version moves) or a moment passes that changes them by time alone."""
    under = districts_under(level, code)
    province = divisions().get(code).province_code
    tz = settings.tz
    lo, hi = since.timestamp(), until.timestamp()
    total = None
    for d, (v, cases) in _day_cases(r, _days(since, until, tz), province).items():
        start = datetime.strptime(d, "%Y%m%d").replace(tzinfo=tz)
        d_lo, d_hi = start.timestamp(), (start + timedelta(days=1)).timestamp()
        key = (d, province, level, code, industry, id(cfg))
        got = _SUM_CACHE.get(key) if lo <= d_lo and d_hi <= hi else None
        if got is not None and got[0] == v and now < got[1]:
            part = got[2]
        else:
            part, valid = sums(_select(cases, under, industry, lo, hi), cfg, cal, now)
            if lo <= d_lo and d_hi <= hi:
                _SUM_CACHE[key] = (v, valid, part)
                while len(_SUM_CACHE) > SUM_CACHE_ENTRIES:
                    _SUM_CACHE.popitem(last=False)
        total = add(total, part) if total is not None else add(sums([], cfg, cal, now)[0], part)
    return total if total is not None else sums([], cfg, cal, now)[0]


def kpis(r, settings, level: str, code: str, since=None, until=None, industry: str | None = None,
         now: float | None = None, cfg: CaseConfig | None = None) -> dict:
    cfg = cfg or default_case_config()
    tz = settings.tz
    now = time.time() if now is None else now
    until_dt = _time(until, tz, "until") if until else datetime.fromtimestamp(now, tz)
    since_dt = _time(since, tz, "since") if since else datetime(until_dt.year, 1, 1, tzinfo=tz)
    if since_dt >= until_dt:
        raise QueryError("since must be before until")
    if (until_dt - since_dt).days > MAX_DAYS:
        raise QueryError(f"at most {MAX_DAYS} days in one query")
    if industry is not None and industry not in settings.complaints.industries_and_unclassified:
        raise QueryError(f"industry {industry[:20]!r} is not one of the configured industries")
    with _gc_paused():
        out = finish(_figures(r, settings, cfg, calendar(settings, cfg), level, code, since_dt, until_dt, industry,
                              now))
    out.update(level=level, code=code, name=divisions().get(code).full_name, since=since_dt.isoformat(),
               until=until_dt.isoformat(), industry=industry,
               as_of=datetime.fromtimestamp(now, tz).isoformat(timespec="seconds"))
    return out


def _unit(case: dict) -> str | None:
    units = sorted((e["ts"], e["unit"]) for e in case["events"] if e.get("unit"))
    return units[-1][1] if units else None


def due_items(r, settings, level: str, code: str, industry: str | None = None, limit: int = 200,
              now: float | None = None, cfg: CaseConfig | None = None) -> list[dict]:
    """The 督办 list: running clocks in 催办 or overdue, most urgent (earliest deadline) first."""
    cfg = cfg or default_case_config()
    now = time.time() if now is None else now
    under = districts_under(level, code)
    table = divisions()
    ids = r.zrange(keys.CASES_DUE, 0, -1)
    cal = calendar(settings, cfg)
    out = []
    for case in _fetch(r, ids):
        if case["district"] not in under or (industry is not None and case["industry"] != industry):
            continue
        for c in item_clocks(case, cfg, cal):
            stage = c.stage(now)
            if stage in ("urging", "overdue"):
                d = table.get(case["district"])
                out.append({"complaint_id": case["id"], "district": case["district"],
                            "district_name": d.full_name if d else case["district"], "industry": case["industry"],
                            "kind": case["kind"], "unit": _unit(case), "clock": c.name, "label": c.label,
                            "received_at": datetime.fromtimestamp(case["ts"], settings.tz).isoformat(),
                            "deadline": datetime.fromtimestamp(c.deadline, settings.tz).isoformat(),
                            "stage": stage, "remaining_s": math.floor(c.deadline - now)})
    out.sort(key=lambda x: x["remaining_s"])
    return out[:limit]
