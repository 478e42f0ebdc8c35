"""Alert settings: de-duplication, SLA clocks and teams, from ``config/alerts.yaml``.

``load_alert_config(path=None)`` reads and checks the file; any unknown key or bad value
raises :class:`AlertConfigError` (a ``ValueError``) naming the key, e.g.
``config/alerts.yaml: sla.clocks.dispatch.limit: '15' needs a unit, e.g. 15m``.

>>> cfg = default_alert_config()
>>> cfg.clock("dispatch").limit.total_seconds()
900.0
>>> cfg.suggest_team("食品"), cfg.suggest_team("汽车")
('食品安全快反分队', '综合快反分队')
"""
from __future__ import annotations

import os

import re
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from config import CONFIG_DIR, DEFAULTS_FILE, read_yaml

__all__ = ["ALERTS_FILE", "CLOCKS", "AlertConfigError", "Clock", "AlertConfig", "load_alert_config",
           "default_alert_config", "parse_duration"]

ALERTS_FILE = CONFIG_DIR / "alerts.yaml"
CLOCKS = ("dispatch", "respond", "on_site", "feedback")
_DEFAULT_LABELS = {"dispatch": "派单", "respond": "响应", "on_site": "到场", "feedback": "反馈"}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class AlertConfigError(ValueError):
    """The alert settings file has a key or value the system cannot use."""


@dataclass(frozen=True)
class Clock:
    """One SLA clock: its limit and when the urging card is due (time left before the limit)."""

    name: str
    label: str
    limit: timedelta
    urging_before: timedelta


@dataclass(frozen=True)
class AlertConfig:
    cooldown: timedelta = timedelta(hours=6)
    escalate_factor: float = 2.0
    max_samples: int = 10
    reminder_at: float = 0.5
    clocks: tuple[Clock, ...] = ()
    team_default: str = "综合快反分队"
    team_by_industry: dict = field(default_factory=dict)
    teams: tuple[str, ...] = ()
    source: str = ""
    detection: dict = field(default_factory=dict)
    silence_max_days: int = 7
    # Warning-level rules (alerts/severity.py); empty: the defaults there.
    severity: dict = field(default_factory=dict)

    def clock(self, name: str) -> Clock:
        for c in self.clocks:
            if c.name == name:
                return c
        raise KeyError(f"no SLA clock named {name!r}; known: {', '.join(c.name for c in self.clocks)}")

    def suggest_team(self, industry: str | None) -> str:
        return self.team_by_industry.get(industry or "", self.team_default)


def parse_duration(value, key: str = "duration") -> timedelta:
    """'15m' / '6h' / '30s' / '2d' -> timedelta; a bare number is refused (which unit?)."""
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            secs = float(m.group(1)) * _UNITS[m.group(2)]
            if secs > 0:
                return timedelta(seconds=secs)
            raise AlertConfigError(f"{key}: {value!r} must be longer than zero")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise AlertConfigError(f"{key}: {value!r} needs a unit, e.g. {value}m (s, m, h or d)")
    raise AlertConfigError(f"{key}: {value!r} is not a duration; write a number and a unit, e.g. 15m, 6h")


def _share(value, key: str) -> float:
    """'50%' or 0.5 -> 0.5; must be strictly between 0 and 1."""
    v = None
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            v = float(value.strip()[:-1]) / 100
        except ValueError:
            v = None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        v = float(value)
    if v is None or not 0 < v < 1:
        raise AlertConfigError(f"{key}: {value!r} must be a share between 0 and 1, e.g. 50% or 0.5")
    return v


def _urging(value, limit: timedelta, key: str) -> timedelta:
    """'20%' (of the limit) or a duration shorter than the limit."""
    if isinstance(value, str) and value.strip().endswith("%") or isinstance(value, float) and 0 < value < 1:
        return limit * _share(value, key)
    d = parse_duration(value, key)
    if d >= limit:
        raise AlertConfigError(f"{key}: {value!r} must be shorter than the clock's limit ({limit})")
    return d


def _mapping(value, key: str, known: tuple[str, ...] | None, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise AlertConfigError(f"{where}: {key} must be a mapping, got {type(value).__name__}")
    if known is not None:
        bad = [k for k in value if k not in known]
        if bad:
            names = ", ".join(f"{key}.{b}" if key else str(b) for b in bad)
            raise AlertConfigError(f"{where}: unknown key{'s' if len(bad) > 1 else ''} {names} "
                                   f"(known: {', '.join(known)})")
    return value


def _industries() -> set[str]:
    try:
        raw = read_yaml(DEFAULTS_FILE)
        inds = set(raw.get("complaints", {}).get("industries") or ())
        unc = raw.get("complaints", {}).get("unclassified")
        return inds | ({unc} if unc else set())
    except Exception:  # the settings file has its own checks; do not fail alerts on it
        return set()


def load_alert_config(path: str | Path | None = None) -> AlertConfig:
    """Read and check the alert settings (``config/alerts.yaml`` by default)."""
    p = Path(path) if path else Path(os.environ.get("ALERT_SETTINGS_FILE") or ALERTS_FILE)
    where = str(p)
    raw = read_yaml(p, "alert settings file", AlertConfigError)

    def err(key: str, msg: str) -> AlertConfigError:
        return AlertConfigError(f"{where}: {key}: {msg}")

    top = _mapping(raw, "", ("cooldown", "escalate_factor", "max_samples", "sla", "teams", "detection",
                             "silence_max_days", "severity"), where)
    silence_max_days = top.get("silence_max_days", 7)
    if isinstance(silence_max_days, bool) or not isinstance(silence_max_days, int) or not 1 <= silence_max_days <= 90:
        raise err("silence_max_days", f"{silence_max_days!r} must be a whole number of days from 1 to 90")
    detection = _detection(top.get("detection") or {}, where)
    cooldown = parse_duration(top.get("cooldown", "6h"), f"{where}: cooldown")
    esc = top.get("escalate_factor", 2)
    if isinstance(esc, bool) or not isinstance(esc, (int, float)) or esc <= 1:
        raise err("escalate_factor", f"{esc!r} must be a number above 1")
    max_samples = top.get("max_samples", 10)
    if isinstance(max_samples, bool) or not isinstance(max_samples, int) or not 0 <= max_samples <= 100:
        raise err("max_samples", f"{max_samples!r} must be a whole number from 0 to 100")

    sla = _mapping(top.get("sla"), "sla", ("reminder_at", "urging_before", "clocks"), where)
    reminder_at = _share(sla.get("reminder_at", "50%"), f"{where}: sla.reminder_at")
    urging_default = sla.get("urging_before", "20%")
    raw_clocks = _mapping(sla.get("clocks"), "sla.clocks", CLOCKS, where)
    missing = [c for c in CLOCKS if c not in raw_clocks]
    if missing:
        raise err("sla.clocks", f"missing clock{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    clocks = []
    for name in CLOCKS:
        key = f"sla.clocks.{name}"
        c = _mapping(raw_clocks[name], key, ("limit", "label", "urging_before"), where)
        if "limit" not in c:
            raise err(key, "needs a limit, e.g. {limit: 15m}")
        limit = parse_duration(c["limit"], f"{where}: {key}.limit")
        label = c.get("label", _DEFAULT_LABELS[name])
        if not isinstance(label, str) or not label.strip():
            raise err(f"{key}.label", f"{label!r} must be a non-empty text")
        urg_key = f"{key}.urging_before" if "urging_before" in c else "sla.urging_before"
        urging = _urging(c.get("urging_before", urging_default), limit, f"{where}: {urg_key}")
        clocks.append(Clock(name, label.strip(), limit, urging))

    teams = _mapping(top.get("teams"), "teams", ("default", "by_industry", "valid"), where)
    valid = teams.get("valid")
    if not isinstance(valid, list) or not valid or not all(isinstance(t, str) and t.strip() for t in valid):
        raise err("teams.valid", "must be a non-empty list of team names")
    valid = tuple(dict.fromkeys(t.strip() for t in valid))
    default = teams.get("default", "综合快反分队")
    if not isinstance(default, str) or default.strip() not in valid:
        raise err("teams.default", f"{default!r} is not in teams.valid")
    by_ind = _mapping(teams.get("by_industry"), "teams.by_industry", None, where)
    known_inds = _industries()
    for ind, team in by_ind.items():
        if known_inds and ind not in known_inds:
            raise err(f"teams.by_industry.{ind}", f"unknown industry (known: {', '.join(sorted(known_inds))})")
        if not isinstance(team, str) or team.strip() not in valid:
            raise err(f"teams.by_industry.{ind}", f"{team!r} is not in teams.valid")
    return AlertConfig(cooldown=cooldown, escalate_factor=float(esc), max_samples=max_samples,
                       reminder_at=reminder_at, clocks=tuple(clocks), team_default=default.strip(),
                       team_by_industry={str(k): v.strip() for k, v in by_ind.items()}, teams=valid,
                       source=where, detection=detection, silence_max_days=silence_max_days,
                       severity=_severity(top.get("severity"), where))


def _severity(raw, where: str) -> dict:
    """The ``severity`` section checked (alerts/severity.py), defaults filled in."""
    from alerts.severity import SeverityError, parse_rules

    try:
        return parse_rules(raw, f"{where}: severity")
    except SeverityError as e:
        raise AlertConfigError(str(e)) from None


DETECTION_DEFAULTS = {
    "threshold": {"county": 5.0, "city": 5.0, "province": 5.0},
    "min_count": 2, "hold": 0.3, "halflife": "28d", "windows": [1, 2, 3, 4, 6, 8, 12, 18, 24, 36, 48, 72],
    "grace": "7d", "history": "56d", "tick": "1s", "suppress": "6h", "context_hours": 6,
    "province": "140000",
    "phrase_min_count": 10, "phrase_min_score": 6.0, "phrase_every": "5m",
}


def _detection(raw, where: str) -> dict:
    """The ``detection`` section, defaults filled in, durations as seconds (``*_s``)."""
    d = _mapping(raw, "detection", tuple(DETECTION_DEFAULTS), where)

    def err(key: str, msg: str) -> AlertConfigError:
        return AlertConfigError(f"{where}: detection.{key}: {msg}")

    out: dict = {}
    thr = _mapping(d.get("threshold", {}), "detection.threshold", ("county", "city", "province"), where)
    out["threshold"] = {}
    for level, default in DETECTION_DEFAULTS["threshold"].items():
        v = thr.get(level, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
            raise err(f"threshold.{level}", f"{v!r} must be a number above 0")
        out["threshold"][level] = float(v)
    pms = d.get("phrase_min_score", DETECTION_DEFAULTS["phrase_min_score"])
    if isinstance(pms, bool) or not isinstance(pms, (int, float)) or not pms > 0:
        raise err("phrase_min_score", f"{pms!r} must be a number above 0")
    out["phrase_min_score"] = float(pms)
    for key, lo, hi in (("min_count", 1, 1000), ("context_hours", 1, 72), ("phrase_min_count", 0, 100000)):
        v = d.get(key, DETECTION_DEFAULTS[key])
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise err(key, f"{v!r} must be a whole number from {lo} to {hi}")
        out[key] = v
    prov = str(d.get("province", DETECTION_DEFAULTS["province"]))
    if not (len(prov) == 6 and prov.isdigit() and prov.endswith("0000")):
        raise err("province", f"{prov!r} must be a 6-digit province code such as 140000")
    out["province"] = prov
    hold = d.get("hold", DETECTION_DEFAULTS["hold"])
    if isinstance(hold, bool) or not isinstance(hold, (int, float)) or not 0 <= hold <= 1:
        raise err("hold", f"{hold!r} must be a number from 0 to 1")
    out["hold"] = float(hold)
    wins = d.get("windows", DETECTION_DEFAULTS["windows"])
    if (not isinstance(wins, list) or not wins
            or not all(isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= 24 * 14 for w in wins)):
        raise err("windows", f"{wins!r} must be a list of window lengths in hours (1 to 336)")
    out["windows"] = sorted(set(wins))
    for key in ("halflife", "grace", "history", "tick", "suppress", "phrase_every"):
        out[key + "_s"] = parse_duration(d.get(key, DETECTION_DEFAULTS[key]), f"{where}: detection.{key}").total_seconds()
    if out["tick_s"] > 5:
        raise err("tick", "must be at most 5s (an alert is due within 5 s of the complaint that crosses the bar)")
    return out


@lru_cache(maxsize=1)
def default_alert_config() -> AlertConfig:
    """``config/alerts.yaml``, read once."""
    return load_alert_config()
