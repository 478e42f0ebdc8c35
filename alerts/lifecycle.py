"""The surge-alert lifecycle and its SLA clocks: pure functions, no I/O.

States (Chinese labels on screens)::

    new 新预警 ─▶ acknowledged 已确认 ─▶ dispatched 已派单 ─▶ responded 已响应 ─▶ on_site 已到场 ─▶ closed 已结案
      └──────── (ack may be skipped) ──────▲          └──────────────┴─▶ closed (on site only where needed)
    any open state ─▶ false_alarm 误报 (a reason is required)

``apply(alert, action, by, now, team=None, note=None) -> (new_alert, log_entry)`` moves an
alert (a dict) and refuses a move that is not allowed with :class:`LifecycleError`, whose
message says why in English and Chinese.

SLA clocks (limits in ``config/alerts.yaml``; Changzhi's rapid-response deadlines):

========  ====  =========================  =======================================
clock     标签   starts                     stops
========  ====  =========================  =======================================
dispatch  派单   opened                     dispatched (or the alert ends first)
respond   响应   dispatched                 responded (or the alert ends first)
on_site   到场   dispatched                 on site; dropped if closed without it
feedback  反馈   opened                     closed or false alarm
========  ====  =========================  =======================================

A running clock is ``ok``, then ``reminder`` (提醒卡) once ``reminder_at`` of its limit
has passed, ``urging`` (催办卡) when ``urging_before`` or less is left, and ``overdue``
after its deadline.  A stopped clock is ``met`` (stopped at or before the deadline) or
``missed``.  Clocks that have not started are not listed.

Datetimes must be timezone-aware; alerts hold ISO strings in Asia/Shanghai time.
"""
from __future__ import annotations

import copy
import math
from datetime import datetime
from zoneinfo import ZoneInfo

from alerts.config import AlertConfig, default_alert_config

__all__ = ["TZ", "STATES", "OPEN_STATES", "CLOSED_STATES", "STATE_LABELS", "ACTIONS", "ACTION_LABELS",
           "MARKS", "EVENTS", "EVENT_LABELS", "LifecycleError", "apply", "allowed_actions", "is_open",
           "sla_status", "due_notices", "urgency", "iso", "parse_time"]

TZ = ZoneInfo("Asia/Shanghai")

STATES = ("new", "acknowledged", "dispatched", "responded", "on_site", "closed", "false_alarm")
OPEN_STATES = STATES[:5]
CLOSED_STATES = ("closed", "false_alarm")
STATE_LABELS = {"new": "新预警", "acknowledged": "已确认", "dispatched": "已派单", "responded": "已响应",
                "on_site": "已到场", "closed": "已结案", "false_alarm": "误报"}

# action -> (target state, states it may start from)
_MOVES = {
    "ack": ("acknowledged", ("new",)),
    "dispatch": ("dispatched", ("new", "acknowledged")),
    "respond": ("responded", ("dispatched",)),
    "onsite": ("on_site", ("responded",)),
    "close": ("closed", ("dispatched", "responded", "on_site")),
    "false_alarm": ("false_alarm", OPEN_STATES),
}
ACTIONS = tuple(_MOVES)
ACTION_LABELS = {"ack": "确认", "dispatch": "派单", "respond": "响应", "onsite": "到场", "close": "结案",
                 "false_alarm": "标记误报"}

MARKS = ("ok", "reminder", "urging", "overdue", "met", "missed")
EVENTS = ("reminder", "urging", "overdue")          # in rising severity
EVENT_LABELS = {"reminder": "提醒卡", "urging": "催办卡", "overdue": "已超时"}


class LifecycleError(ValueError):
    """An action the alert's state (or the arguments) does not allow."""


def iso(t: datetime) -> str:
    """An aware datetime as an ISO string in Asia/Shanghai time."""
    return _aware(t, "time").astimezone(TZ).isoformat()


def parse_time(value, what: str = "time") -> datetime | None:
    """An ISO string or aware datetime -> aware datetime; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{what}: {value!r} is not an ISO 8601 time") from None
    return _aware(value, what)


def _aware(t, what: str) -> datetime:
    if not isinstance(t, datetime):
        raise ValueError(f"{what} must be a datetime, got {type(t).__name__}")
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (e.g. Asia/Shanghai), got {t.isoformat()}")
    return t


def is_open(alert: dict) -> bool:
    return alert.get("state") in OPEN_STATES


def allowed_actions(alert: dict) -> list[str]:
    """The actions the alert's state allows, in workflow order."""
    return [a for a, (_, src) in _MOVES.items() if alert.get("state") in src]


def _refusal(action: str, state: str) -> str:
    target, src = _MOVES[action]
    tl = STATE_LABELS[target]
    if state in CLOSED_STATES:
        return (f"cannot {action}: alert is {state} ({STATE_LABELS[state]}的预警已办结，"
                f"不能再{ACTION_LABELS[action]})")
    if STATES.index(state) < min(STATES.index(s) for s in src):
        needs = STATE_LABELS[src[0]]
        return f"cannot {action}: alert is {state} ({tl} needs {needs} first; 请先{_step_to(src[0])})"
    return f"cannot {action}: alert is already {state} ({STATE_LABELS[state]}, already past {tl}; 已过{tl}阶段)"


def _step_to(state: str) -> str:
    for a, (target, _) in _MOVES.items():
        if target == state:
            return ACTION_LABELS[a]
    return STATE_LABELS[state]


def apply(alert: dict, action: str, by: str, now: datetime, team: str | None = None,
          note: str | None = None) -> tuple[dict, dict]:
    """Apply ``action`` by user ``by`` at ``now``; returns (new alert, log entry).

    The input dict is not changed.  Refusals raise :class:`LifecycleError`.
    """
    if action not in _MOVES:
        raise LifecycleError(f"unknown action {action!r}; use one of {', '.join(ACTIONS)} (未知操作)")
    if not isinstance(by, str) or not by.strip():
        raise LifecycleError(f"cannot {action}: 'by' (the user acting) is required (需填写操作人)")
    try:
        now = _aware(now, "now")
    except ValueError as e:
        raise LifecycleError(f"cannot {action}: {e}") from None
    team = team.strip() if isinstance(team, str) else team
    note = note.strip() if isinstance(note, str) else note
    if action == "dispatch" and not team:
        raise LifecycleError("cannot dispatch: a team is required (派单需指定快反分队或工作专班)")
    if action == "false_alarm" and not note:
        raise LifecycleError("cannot false_alarm: a reason (note) is required (标记误报需填写原因)")
    state = alert.get("state", "new")
    if state not in STATES:
        raise LifecycleError(f"cannot {action}: alert has an unknown state {state!r} (未知状态)")
    target, src = _MOVES[action]
    if state not in src:
        raise LifecycleError(_refusal(action, state))
    at = iso(now)
    new = copy.deepcopy(alert)
    new["state"] = target
    new["state_label"] = STATE_LABELS[target]
    new[f"{target}_at"] = at
    new[f"{target}_by"] = by.strip()
    new["updated_at"] = at
    if action == "dispatch":
        new["team"] = team
    if action == "false_alarm":
        new["reason"] = note
    elif note:
        new[f"{target}_note"] = note
    if target in CLOSED_STATES:
        new["ended_at"] = at
    entry = {"at": at, "action": action, "by": by.strip(), "from": state, "to": target,
             "label": STATE_LABELS[target], "team": team if action == "dispatch" else None, "note": note or None}
    return new, entry


# -- SLA clocks ----------------------------------------------------------------------------

def _clock_times(alert: dict, name: str) -> tuple[datetime | None, datetime | None, bool]:
    """(started, stopped, dropped) of a clock from the alert's timestamps."""
    t = {k: parse_time(alert.get(f"{k}_at"), f"{k}_at") for k in
         ("opened", "dispatched", "responded", "on_site", "closed", "false_alarm")}
    end = t["closed"] or t["false_alarm"]
    if name == "dispatch":
        return t["opened"], _first(t["dispatched"], end), False
    if name == "respond":
        return t["dispatched"], _first(t["responded"], t["on_site"], end), False
    if name == "on_site":
        if t["on_site"] is None and end is not None:
            return t["dispatched"], end, True       # closed without going on site: not needed
        return t["dispatched"], t["on_site"], False
    if name == "feedback":
        return t["opened"], end, False
    raise KeyError(name)


def _first(*ts):
    ts = [t for t in ts if t is not None]
    return min(ts) if ts else None


def sla_status(alert: dict, now: datetime, config: AlertConfig | None = None) -> list[dict]:
    """The started SLA clocks of ``alert`` at ``now``.

    Each: {name, label, started, due, stopped, remaining_s, mark}.  ``remaining_s`` is the
    time left at ``now`` (negative when overdue), or for a stopped clock the slack it
    stopped with (negative when missed).
    """
    now = _aware(now, "now")
    cfg = config or default_alert_config()
    out = []
    for clock in cfg.clocks:
        started, stopped, dropped = _clock_times(alert, clock.name)
        if started is None or dropped:
            continue
        due = started + clock.limit
        if stopped is not None:
            remaining = (due - stopped).total_seconds()
            mark = "met" if stopped <= due else "missed"
        else:
            remaining = (due - now).total_seconds()
            mark = _running_mark(now, started, due, clock, cfg)
        out.append({"name": clock.name, "label": clock.label, "started": iso(started), "due": iso(due),
                    "stopped": iso(stopped) if stopped else None, "remaining_s": remaining, "mark": mark})
    return out


def _running_mark(now: datetime, started: datetime, due: datetime, clock, cfg: AlertConfig) -> str:
    if now > due:
        return "overdue"
    if due - now <= clock.urging_before:
        return "urging"
    if now - started >= clock.limit * cfg.reminder_at:
        return "reminder"
    return "ok"


def due_notices(alert: dict, now: datetime, sent: set[str] | frozenset = frozenset(),
                config: AlertConfig | None = None) -> list[dict]:
    """Reminder / urging / overdue notices due now and not yet in ``sent``.

    One per running clock at most: the most severe event reached.  When a worker was down
    and a clock is already overdue, only the overdue notice goes out (no stale reminder).
    Keys are "<clock>:<event>", e.g. "dispatch:reminder".
    """
    out = []
    for s in sla_status(alert, now, config):
        if s["mark"] not in EVENTS:
            continue
        key = f"{s['name']}:{s['mark']}"
        higher = EVENTS[EVENTS.index(s["mark"]):]
        if any(f"{s['name']}:{e}" in sent for e in higher):
            continue
        out.append({"key": key, "alert_id": alert.get("id"), "clock": s["name"], "label": s["label"],
                    "event": s["mark"], "event_label": EVENT_LABELS[s["mark"]], "due": s["due"],
                    "remaining_s": s["remaining_s"], "at": iso(now)})
    return out


def urgency(alert: dict, now: datetime, config: AlertConfig | None = None) -> tuple:
    """Sort key, most urgent first: open before closed, overdue first, then least time
    left on any running clock, then highest score, then oldest."""
    score = alert.get("score")
    score = score if isinstance(score, (int, float)) and not math.isnan(score) else 0.0
    opened = alert.get("opened_at") or ""
    if not is_open(alert):
        return (2, math.inf, -score, opened)
    running = [s for s in sla_status(alert, now, config) if s["stopped"] is None]
    overdue = any(s["mark"] == "overdue" for s in running)
    least = min((s["remaining_s"] for s in running), default=math.inf)
    return (0 if overdue else 1, least, -score, opened)
