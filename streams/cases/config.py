"""Case settings from ``config/cases.yaml``, typed and checked on load.

``load_case_config(path=None)`` raises :class:`CaseConfigError` (a ``ValueError``) naming the
key, e.g. ``config/cases.yaml: clocks.accept.limit: '7' needs a unit, e.g. 7wd or 15m``.

>>> cfg = default_case_config()
>>> c = cfg.clock("accept")
>>> c.limit, c.working_days, c.kpi
(7, True, 'first_check')
>>> cfg.clock("instruct").limit, cfg.clock("instruct").working_days
(900.0, False)
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from config import CONFIG_DIR, read_yaml

__all__ = ["CASES_FILE", "EVENTS", "CaseConfigError", "ClockRule", "CaseConfig", "load_case_config",
           "default_case_config", "parse_span"]

CASES_FILE = CONFIG_DIR / "cases.yaml"
EVENTS = ("accept", "reject", "route", "mediation_start", "close", "visit", "transfer", "open_case")
KPI_ROLES = ("first_check", "closing")
_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(wd|s|m|h|d|%)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class CaseConfigError(ValueError):
    """The case settings file has a key or value the system cannot use."""


def parse_span(value, key: str, allow_share: bool = False) -> tuple[float, str]:
    """'7wd' -> (7, 'wd'); '15m' -> (900.0, 's'); '20%' -> (0.2, '%') when ``allow_share``."""
    m = _SPAN.match(value) if isinstance(value, str) else None
    if not m:
        raise CaseConfigError(f"{key}: {value!r} needs a unit, e.g. 7wd or 15m" + (" or 20%" if allow_share else ""))
    n, unit = float(m.group(1)), m.group(2)
    if unit == "%":
        if not allow_share or not 0 < n < 100:
            raise CaseConfigError(f"{key}: {value!r}: a share must be between 0% and 100%" if allow_share
                                  else f"{key}: {value!r}: a share is not allowed here")
        return n / 100, "%"
    if n <= 0:
        raise CaseConfigError(f"{key}: {value!r} must be more than 0")
    if unit == "wd":
        if n != int(n):
            raise CaseConfigError(f"{key}: {value!r}: working days are whole days")
        return int(n), "wd"
    return n * _UNITS[unit], "s"


@dataclass(frozen=True)
class ClockRule:
    """One clock: runs from ``start`` (``received`` or an event) until the first ``stop`` event."""

    name: str
    label: str
    kinds: tuple[str, ...]          # empty: every kind (rapid clocks)
    start: str                      # "received" or an event name
    limit: float                    # working days if working_days, else seconds
    working_days: bool
    stop: tuple[str, ...]
    urging_before: float            # a share of the limit if urging_share, else in the limit's unit
    urging_share: bool
    kpi: str | None                 # first_check | closing | None
    rapid: bool


@dataclass(frozen=True)
class CaseConfig:
    clocks: tuple[ClockRule, ...]
    reminder_at: float = 0.5
    rapid_tags: frozenset[str] = frozenset()
    response_within_s: float = 86400.0
    kinds: tuple[str, ...] = ("投诉", "举报")
    hold_s: float = 86400.0
    keep_s: int = 800 * 86400
    unknown_years: str = "weekdays"
    tick_s: float = 5.0
    notice_max_lag_s: float = 3600.0
    notice_max_per_minute: int = 30
    source: str = ""

    def clock(self, name: str) -> ClockRule:
        for c in self.clocks:
            if c.name == name:
                return c
        raise KeyError(f"no clock named {name!r}; known: {', '.join(c.name for c in self.clocks)}")

    def clocks_for(self, kind: str, rapid: bool) -> list[ClockRule]:
        """The clocks an item of ``kind`` runs: the rapid set for a rapid item, else its kind's."""
        if rapid:
            return [c for c in self.clocks if c.rapid]
        return [c for c in self.clocks if not c.rapid and kind in c.kinds]


_CLOCK_KEYS = {"label", "kinds", "from", "limit", "stop", "urging_before", "kpi"}
_TOP_KEYS = {"calendar", "reminder_at", "clocks", "rapid", "response_within", "kinds", "hold_hours", "keep_days",
             "notices"}


def _clock(name: str, raw, where: str, rapid: bool) -> ClockRule:
    if not isinstance(raw, dict):
        raise CaseConfigError(f"{where}: must be a mapping")
    unknown = set(raw) - _CLOCK_KEYS
    if unknown:
        raise CaseConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(_CLOCK_KEYS))}")
    for k in ("limit", "stop"):
        if k not in raw:
            raise CaseConfigError(f"{where}.{k}: missing")
    limit, unit = parse_span(raw["limit"], f"{where}.limit")
    start = raw.get("from", "received")
    if start != "received" and start not in EVENTS:
        raise CaseConfigError(f"{where}.from: {start!r} must be received or one of {', '.join(EVENTS)}")
    stop = raw["stop"]
    if not isinstance(stop, list) or not stop or any(s not in EVENTS for s in stop):
        raise CaseConfigError(f"{where}.stop: must be a list of events ({', '.join(EVENTS)})")
    kinds = raw.get("kinds", [])
    if not isinstance(kinds, list) or any(k not in ("投诉", "举报", "咨询") for k in kinds) or (not rapid and not kinds):
        raise CaseConfigError(f"{where}.kinds: must be a list of 投诉, 举报, 咨询")
    ub, ub_unit = parse_span(raw.get("urging_before", "20%"), f"{where}.urging_before", allow_share=True)
    if ub_unit not in ("%", unit):
        raise CaseConfigError(f"{where}.urging_before: {raw.get('urging_before')!r} must be a share (20%) or in "
                              f"the limit's unit ({'wd' if unit == 'wd' else 's/m/h/d'})")
    if ub_unit != "%" and ub >= limit:
        raise CaseConfigError(f"{where}.urging_before: {raw.get('urging_before')!r} is not shorter than the limit")
    kpi = raw.get("kpi")
    if kpi is not None and kpi not in KPI_ROLES:
        raise CaseConfigError(f"{where}.kpi: {kpi!r} must be one of {', '.join(KPI_ROLES)}")
    return ClockRule(name=name, label=str(raw.get("label") or name), kinds=tuple(kinds), start=start,
                     limit=limit, working_days=unit == "wd", stop=tuple(stop), urging_before=ub,
                     urging_share=ub_unit == "%", kpi=kpi, rapid=rapid)


def parse_case_config(raw: dict, source: str = "config/cases.yaml") -> CaseConfig:
    def fail(key: str, what: str):
        raise CaseConfigError(f"{source}: {key}: {what}")

    unknown = set(raw) - _TOP_KEYS
    if unknown:
        fail(", ".join(sorted(unknown)), f"unknown key(s); known: {', '.join(sorted(_TOP_KEYS))}")
    try:
        clocks = [_clock(n, c, f"clocks.{n}", False) for n, c in (raw.get("clocks") or {}).items()]
        rapid = raw.get("rapid") or {}
        clocks += [_clock(n, c, f"rapid.clocks.{n}", True) for n, c in (rapid.get("clocks") or {}).items()]
    except CaseConfigError as e:
        raise CaseConfigError(f"{source}: {e}") from None
    names = [c.name for c in clocks]
    if len(set(names)) != len(names):
        fail("clocks", "clock names must be unique across clocks and rapid.clocks")
    r = raw.get("reminder_at", 0.5)
    if not isinstance(r, (int, float)) or isinstance(r, bool) or not 0 < r < 1:
        fail("reminder_at", f"{r!r} must be a share between 0 and 1")
    tags = rapid.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        fail("rapid.tags", "must be a list of strings")
    try:
        resp, unit = parse_span(raw.get("response_within", "24h"), "response_within")
    except CaseConfigError as e:
        raise CaseConfigError(f"{source}: {e}") from None
    if unit != "s":
        fail("response_within", "must be a wall-clock duration, e.g. 24h")
    kinds = raw.get("kinds", ["投诉", "举报"])
    if not isinstance(kinds, list) or any(k not in ("投诉", "举报", "咨询") for k in kinds):
        fail("kinds", "must be a list of 投诉, 举报, 咨询")
    cal = raw.get("calendar") or {}
    uy = cal.get("unknown_years", "weekdays")
    if uy not in ("weekdays", "error"):
        fail("calendar.unknown_years", f"{uy!r} must be weekdays or error")
    n = raw.get("notices") or {}
    try:
        lag, lag_unit = parse_span(n.get("max_lag", "1h"), "notices.max_lag")
        tick, tick_unit = parse_span(f"{n.get('tick_s', 5)}s", "notices.tick_s")
    except CaseConfigError as e:
        raise CaseConfigError(f"{source}: {e}") from None
    if lag_unit != "s":
        fail("notices.max_lag", "must be a wall-clock duration, e.g. 1h")
    mpm = n.get("max_per_minute", 30)
    if not isinstance(mpm, int) or isinstance(mpm, bool) or mpm < 0:
        fail("notices.max_per_minute", f"{mpm!r} must be a whole number >= 0")
    for k in ("hold_hours", "keep_days"):
        v = raw.get(k, 24 if k == "hold_hours" else 800)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or v <= 0:
            fail(k, f"{v!r} must be a number > 0")
    return CaseConfig(clocks=tuple(clocks), reminder_at=float(r), rapid_tags=frozenset(tags),
                      response_within_s=resp, kinds=tuple(kinds), hold_s=float(raw.get("hold_hours", 24)) * 3600,
                      keep_s=int(float(raw.get("keep_days", 800)) * 86400), unknown_years=uy, tick_s=tick,
                      notice_max_lag_s=lag, notice_max_per_minute=mpm, source=source)


def load_case_config(path: str | Path | None = None) -> CaseConfig:
    """``path``, else the file named by ``CASE_SETTINGS_FILE``, else config/cases.yaml."""
    path = Path(path or os.environ.get("CASE_SETTINGS_FILE") or CASES_FILE)
    return parse_case_config(read_yaml(path, "case settings file", CaseConfigError), str(path))


@lru_cache(maxsize=1)
def default_case_config() -> CaseConfig:
    return load_case_config()
