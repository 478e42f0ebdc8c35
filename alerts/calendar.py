"""The complaint calendar: statutory holidays, make-up workdays (调休) and shopping peaks.

Loaded from ``config/calendar.yaml`` (editable; see the comments there).  A bad entry
raises :class:`CalendarError` naming the entry and what is wrong with it.

>>> from datetime import datetime
>>> is_known_peak(datetime(2025, 3, 15, 10))
True
>>> peak_multiplier(datetime(2025, 3, 15, 10))
2.5
>>> default_calendar().is_makeup_workday(datetime(2025, 9, 28))
True
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import yaml

from config import CONFIG_DIR

__all__ = ["CALENDAR_FILE", "CalendarError", "Calendar", "Event", "load_calendar",
           "default_calendar", "is_known_peak", "peak_multiplier", "is_holiday", "is_workday"]

CALENDAR_FILE = CONFIG_DIR / "calendar.yaml"
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates as strings, so a bad date is reported by entry."""


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


class CalendarError(ValueError):
    """The calendar file has an entry the system cannot use."""


@dataclass(frozen=True)
class Event:
    name: str
    kind: str            # "holiday" | "peak"
    start: date
    end: date            # inclusive
    multiplier: float


@dataclass
class Calendar:
    events: list[Event] = field(default_factory=list)
    makeup_workdays: set[date] = field(default_factory=set)
    # recurring peaks kept as rules so any year works: (name, month, day, days, multiplier, years)
    recurring: list[tuple] = field(default_factory=list)
    source: str = ""

    def __post_init__(self) -> None:
        self._by_day: dict[date, list[Event]] = {}
        self._years_expanded: set[int] = set()
        for ev in self.events:
            self._add(ev)

    def _add(self, ev: Event) -> None:
        d = ev.start
        while d <= ev.end:
            self._by_day.setdefault(d, []).append(ev)
            d += timedelta(days=1)

    def _expand(self, year: int) -> None:
        if year in self._years_expanded:
            return
        self._years_expanded.add(year)
        for name, month, day, days, mult, years in self.recurring:
            if years and year not in years:
                continue
            start = date(year, month, day)
            self._add(Event(name, "peak", start, start + timedelta(days=days - 1), mult))

    def events_on(self, at: date | datetime) -> list[Event]:
        d = _as_date(at)
        self._expand(d.year)
        self._expand(d.year - 1)  # a peak starting late in the previous year
        return list(self._by_day.get(d, ()))

    def is_holiday(self, at: date | datetime) -> bool:
        return any(e.kind == "holiday" for e in self.events_on(at))

    def is_makeup_workday(self, at: date | datetime) -> bool:
        return _as_date(at) in self.makeup_workdays

    def is_workday(self, at: date | datetime) -> bool:
        """Mon-Fri that is not a holiday, or a make-up workday (调休上班)."""
        d = _as_date(at)
        if self.is_makeup_workday(d):
            return True
        return d.weekday() < 5 and not self.is_holiday(d)

    def is_known_peak(self, at: date | datetime) -> bool:
        """True on any calendar day with a known effect on volume (a holiday or a peak)."""
        return bool(self.events_on(at))

    def peak_multiplier(self, at: date | datetime) -> float:
        """Product of the multipliers of the events on that day; 1.0 on an ordinary day."""
        m = 1.0
        for e in self.events_on(at):
            m *= e.multiplier
        return m


def _as_date(at) -> date:
    if isinstance(at, datetime):
        return at.date()
    if isinstance(at, date):
        return at
    raise TypeError(f"expected a date or datetime, got {at!r}")


def _parse_date(value, where: str, key: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise CalendarError(f"{where}: {key} must be a date YYYY-MM-DD, got {value!r}")


def _parse_multiplier(value, where: str) -> float:
    if isinstance(value, bool):
        raise CalendarError(f"{where}: multiplier must be a positive number, got {value!r}")
    try:
        m = float(value)
    except (TypeError, ValueError):
        raise CalendarError(f"{where}: multiplier must be a positive number, got {value!r}") from None
    if not (0.0 < m < 100.0):
        raise CalendarError(f"{where}: multiplier must be a positive number below 100, got {value!r}")
    return m


def _entry_name(i: int, entry, section: str) -> str:
    name = entry.get("name") if isinstance(entry, dict) else None
    return f"{section}[{i}]" + (f" ({name})" if name else "")


def parse_calendar(raw, source: str = "<calendar>") -> Calendar:
    """Check a loaded YAML document and build the :class:`Calendar`."""
    if not isinstance(raw, dict):
        raise CalendarError(f"{source}: expected a mapping with 'holidays' and 'peaks'")
    unknown = set(raw) - {"holidays", "peaks"}
    if unknown:
        raise CalendarError(f"{source}: unknown section(s) {sorted(unknown)}; expected holidays, peaks")
    events: list[Event] = []
    makeup: set[date] = set()
    for i, entry in enumerate(raw.get("holidays") or []):
        where = f"{source}: holidays[{i}]" if not isinstance(entry, dict) else \
            f"{source}: {_entry_name(i, entry, 'holidays')}"
        if not isinstance(entry, dict):
            raise CalendarError(f"{where}: expected a mapping, got {entry!r}")
        bad = set(entry) - {"name", "start", "end", "multiplier", "makeup_workdays"}
        if bad:
            raise CalendarError(f"{where}: unknown key(s) {sorted(bad)}")
        for key in ("name", "start", "multiplier"):
            if key not in entry:
                raise CalendarError(f"{where}: missing '{key}'")
        start = _parse_date(entry["start"], where, "start")
        end = _parse_date(entry.get("end", entry["start"]), where, "end")
        if end < start:
            raise CalendarError(f"{where}: end {end} is before start {start}")
        if (end - start).days > 14:
            raise CalendarError(f"{where}: {start}..{end} is longer than 15 days")
        mult = _parse_multiplier(entry["multiplier"], where)
        days = entry.get("makeup_workdays") or []
        if not isinstance(days, list):
            raise CalendarError(f"{where}: makeup_workdays must be a list of dates, got {days!r}")
        for d in days:
            md = _parse_date(d, where, "makeup_workdays")
            if start <= md <= end:
                raise CalendarError(f"{where}: make-up workday {md} falls inside the holiday")
            makeup.add(md)
        events.append(Event(str(entry["name"]), "holiday", start, end, mult))
    recurring = []
    for i, entry in enumerate(raw.get("peaks") or []):
        where = f"{source}: {_entry_name(i, entry, 'peaks')}" if isinstance(entry, dict) else \
            f"{source}: peaks[{i}]"
        if not isinstance(entry, dict):
            raise CalendarError(f"{where}: expected a mapping, got {entry!r}")
        bad = set(entry) - {"name", "month_day", "days", "multiplier", "years"}
        if bad:
            raise CalendarError(f"{where}: unknown key(s) {sorted(bad)}")
        for key in ("name", "month_day", "multiplier"):
            if key not in entry:
                raise CalendarError(f"{where}: missing '{key}'")
        m = _MONTH_DAY.match(str(entry["month_day"]))
        try:
            month, day = int(m.group(1)), int(m.group(2))
            date(2024, month, day)  # a leap year accepts 02-29
        except (AttributeError, ValueError):
            raise CalendarError(f"{where}: month_day must be \"MM-DD\", got {entry['month_day']!r}") from None
        days = entry.get("days", 1)
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 31:
            raise CalendarError(f"{where}: days must be an integer 1..31, got {days!r}")
        years = entry.get("years") or []
        if not isinstance(years, list) or not all(isinstance(y, int) and not isinstance(y, bool) for y in years):
            raise CalendarError(f"{where}: years must be a list of years, got {years!r}")
        recurring.append((str(entry["name"]), month, day, days, _parse_multiplier(entry["multiplier"], where),
                          frozenset(years)))
    return Calendar(events=events, makeup_workdays=makeup, recurring=recurring, source=source)


def load_calendar(path: str | Path | None = None) -> Calendar:
    p = Path(path) if path else CALENDAR_FILE
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise CalendarError(f"cannot read calendar {p}: {exc}") from None
    try:
        raw = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise CalendarError(f"{p}: not valid YAML: {exc}") from None
    return parse_calendar(raw, source=p.name)


@lru_cache(maxsize=1)
def default_calendar() -> Calendar:
    return load_calendar()


def is_known_peak(at: date | datetime) -> bool:
    """True on a holiday or a shopping/consumer-rights peak of ``config/calendar.yaml``."""
    return default_calendar().is_known_peak(at)


def peak_multiplier(at: date | datetime) -> float:
    """Expected complaint volume that day relative to an ordinary day (1.0 if none)."""
    return default_calendar().peak_multiplier(at)


def is_holiday(at: date | datetime) -> bool:
    return default_calendar().is_holiday(at)


def is_workday(at: date | datetime) -> bool:
    return default_calendar().is_workday(at)
