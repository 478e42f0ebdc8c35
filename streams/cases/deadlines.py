"""Working days and the clocks of one item. Pure (the holiday table is data in a package).

**Working days** follow the State Council's holiday and make-up-workday (调休) calendar as
published each year, read from the maintained ``chinesecalendar`` package (``import
chinese_calendar``), not from hand-written dates. A year the package does not know is
either refused (:class:`CalendarYearUnknown`, with the years it knows and what to do) or
taken as Monday-Friday (``calendar.unknown_years: weekdays`` in config/cases.yaml), which is
announced once per year in the log.

**A working-day deadline** follows the counting rule of the 2019 complaint and report rules
(the day the period starts does not count; the period ends at 24:00 of its last day): a
clock of N working days started at ``t`` runs out at 24:00 local time of the N-th working day
after the date of ``t``. Its time runs only on working days, so "half the time" is the
middle of the working time: for 7 working days, 12:00 of the 4th working day.

**A wall-clock deadline** (rapid-response items: 15 min, 45 min, 24 h) is ``t + limit``.

Reminders: 提醒卡 when ``reminder_at`` (half) of the time is gone; 催办卡 ``urging_before`` the
deadline (a working week for the long clocks, 20 % of the limit for the short ones), never
before the reminder; overdue at the deadline.

>>> from zoneinfo import ZoneInfo
>>> cal = WorkCalendar(ZoneInfo("Asia/Shanghai"))
>>> from datetime import datetime
>>> t = datetime(2026, 9, 29, 10, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()   # Tue before National Day
>>> datetime.fromtimestamp(cal.add_working_days(t, 7), cal.tz).isoformat()   # 10-10 (Sat) is a make-up workday
'2026-10-15T00:00:00+08:00'
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache

import chinese_calendar

from streams.cases.config import CaseConfig, ClockRule

__all__ = ["CalendarYearUnknown", "WorkCalendar", "Clock", "item_clocks", "is_rapid", "first_event", "STAGES"]

log = logging.getLogger("streams.cases")
STAGES = ("reminder", "urging", "overdue")


class CalendarYearUnknown(ValueError):
    """A working-day deadline falls in a year the holiday calendar package does not know."""


def _known_years() -> tuple[int, int]:
    try:
        chinese_calendar.is_workday(date(2026, 1, 5))
    except NotImplementedError:
        pass
    years = sorted({d.year for d in chinese_calendar.constants.holidays})
    return years[0], years[-1]


KNOWN_YEARS = _known_years()


class WorkCalendar:
    """Working days of the State Council calendar (chinesecalendar) in local time ``tz``."""

    def __init__(self, tz: tzinfo, unknown_years: str = "weekdays"):
        if unknown_years not in ("weekdays", "error"):
            raise ValueError("unknown_years must be weekdays or error")
        self.tz = tz
        self.unknown_years = unknown_years
        self._warned: set[int] = set()
        self._days: dict[tuple[date, int], list[date]] = {}
        self._midnights: dict[date, float] = {}
        self._points: dict[tuple[date, int, float], float] = {}

    def is_workday(self, d: date) -> bool:
        return _is_workday(d, self.unknown_years == "error", self._warned)

    def working_days_after(self, d: date, n: int) -> list[date]:
        """The first ``n`` working days after ``d`` (``d`` itself not counted)."""
        key = (d, n)
        got = self._days.get(key)
        if got is None:
            if len(self._days) > 100_000:
                self._days.clear()
            got = self._days[key] = self._working_days_after(d, n)
        return got

    def _working_days_after(self, d: date, n: int) -> list[date]:
        out = []
        cur = d
        while len(out) < n:
            cur += timedelta(days=1)
            if self.is_workday(cur):
                out.append(cur)
        return out

    def _midnight(self, d: date) -> float:
        m = self._midnights.get(d)
        if m is None:
            m = self._midnights[d] = datetime(d.year, d.month, d.day, tzinfo=self.tz).timestamp()
        return m

    def working_point(self, start: float, n: int, position: float) -> float:
        """The moment ``position`` (a share of 0..1) of an ``n``-working-day clock started at
        ``start`` is reached: working time runs only on the working days after the start date."""
        start_date = datetime.fromtimestamp(start, self.tz).date()
        key = (start_date, n, position)
        got = self._points.get(key)
        if got is not None:
            return got
        if len(self._points) > 200_000:
            self._points.clear()
        got = self._points[key] = self._point(start_date, n, position)
        return got

    def _point(self, start_date: date, n: int, position: float) -> float:
        days = self.working_days_after(start_date, n)
        p = position * n
        k = min(max(int(-(-p // 1)), 1), n)      # the 1-based working day holding the point
        offset = p - (k - 1)
        return self._midnight(days[k - 1]) + offset * 86400 if offset < 1 else \
            self._midnight(days[k - 1] + timedelta(days=1))

    def add_working_days(self, start: float, n: int) -> float:
        """24:00 of the n-th working day after the date of ``start``."""
        return self.working_point(start, n, 1.0)


@lru_cache(maxsize=8192)
def _lookup(d: date) -> bool | None:
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:
        return None


def _is_workday(d: date, strict: bool, warned: set[int]) -> bool:
    known = _lookup(d)
    if known is not None:
        return known
    if strict:
        raise CalendarYearUnknown(
            f"the holiday calendar (chinesecalendar {getattr(chinese_calendar, '__version__', '?')}) knows the years "
            f"{KNOWN_YEARS[0]}-{KNOWN_YEARS[1]}, not {d.year}: upgrade it (pip install -U chinesecalendar, then pin "
            f"the version in requirements.txt) once the State Council has published {d.year}'s holidays, or set "
            "calendar.unknown_years: weekdays in config/cases.yaml")
    if d.year not in warned:
        warned.add(d.year)
        log.warning("the holiday calendar does not know %d yet: Monday-Friday are taken as its working days "
                    "(upgrade chinesecalendar once the State Council publishes %d's holidays)", d.year, d.year)
    return d.weekday() < 5


@dataclass(frozen=True)
class Clock:
    """One clock of one item: when it started, its moments, and when (if) it stopped."""

    name: str
    label: str
    kpi: str | None
    start: float
    reminder: float
    urging: float
    deadline: float
    stopped: float | None          # the first stop event's time; None while it runs
    stopped_by: str | None = None  # that event's name

    def on_time(self) -> bool | None:
        """True/False once decided; None while running and not yet due (not late)."""
        if self.stopped is not None:
            return self.stopped <= self.deadline
        return None

    def settled(self, now: float) -> bool | None:
        """On time (True), late (False), or undecided (None: still running, not yet due)."""
        if self.stopped is not None:
            return self.stopped <= self.deadline
        if now > self.deadline:
            return False
        return None

    def stage(self, now: float) -> str | None:
        """The notice stage a running clock has reached at ``now``: reminder, urging, overdue."""
        if self.stopped is not None:
            return None
        if now >= self.deadline:
            return "overdue"
        if now >= self.urging:
            return "urging"
        if now >= self.reminder:
            return "reminder"
        return None

    def moment(self, stage: str) -> float:
        return {"reminder": self.reminder, "urging": self.urging, "overdue": self.deadline}[stage]


def first_event(events: list[dict], names) -> dict | None:
    """The earliest event (by ``ts``, then id) whose name is in ``names``."""
    best = None
    for e in events:
        if e["event"] in names and (best is None or (e["ts"], e["id"]) < (best["ts"], best["id"])):
            best = e
    return best


def is_rapid(case: dict, cfg: CaseConfig) -> bool:
    """Rapid-response: the complaint carries a rapid tag, or one of its events says ``rapid``."""
    return bool(case.get("rapid")) or bool(cfg.rapid_tags & set(case.get("tags") or ())) or \
        any(e.get("rapid") for e in case.get("events", ()))


def make_clock(rule: ClockRule, start: float, stopped: float | None, cal: WorkCalendar, reminder_at: float,
               stopped_by: str | None = None) -> Clock:
    if rule.working_days:
        n = int(rule.limit)
        deadline = cal.add_working_days(start, n)
        reminder = cal.working_point(start, n, reminder_at)
        before = rule.urging_before if rule.urging_share else rule.urging_before / n
        urging = max(cal.working_point(start, n, 1 - before), reminder)
    else:
        deadline = start + rule.limit
        reminder = start + reminder_at * rule.limit
        before = rule.urging_before * rule.limit if rule.urging_share else rule.urging_before
        urging = max(deadline - before, reminder)
    return Clock(rule.name, rule.label, rule.kpi, start, reminder, urging, deadline, stopped, stopped_by)


def item_clocks(case: dict, cfg: CaseConfig, cal: WorkCalendar) -> list[Clock]:
    """Every clock of an item that has started: ``case`` is ``{"ts", "kind", "tags", "events": [...]}``.

    A clock that starts at an event (mediation from acceptance) exists only once that event
    happened; it stops at the first of its stop events (one before the start counts at the start).
    """
    memo = case.get("_clocks")
    if memo is not None and memo[0] is cfg and memo[1] is cal:
        return memo[2]             # a case read from Redis is never changed in place: its clocks hold
    events = case.get("events", [])
    out = []
    for rule in cfg.clocks_for(case["kind"], is_rapid(case, cfg)):
        if rule.start == "received":
            start = case["ts"]
        else:
            ev = first_event(events, (rule.start,))
            if ev is None:
                continue
            start = ev["ts"]
        stop = first_event(events, rule.stop)
        stopped = None if stop is None else max(stop["ts"], start)
        out.append(make_clock(rule, start, stopped, cal, cfg.reminder_at, None if stop is None else stop["event"]))
    case["_clocks"] = (cfg, cal, out)
    return out
