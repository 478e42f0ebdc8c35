"""Alerts as the screens show them: labels, SLA clocks as countdowns, urgency colours.

Reads ``alerts.store.AlertStore`` and ``alerts.lifecycle.sla_status``; the formatting here is
pure. The countdowns are re-drawn every second in the browser (``assets/clock.js``) from each
clock's due time, so the server re-sends an alert only when it changes.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from alerts.lifecycle import ACTION_LABELS, ACTIONS, STATE_LABELS, allowed_actions, sla_status  # noqa: F401
from alerts import severity as _sev
from streams.numbers import usual_text

MARK_CLASS = {"ok": "sla-ok", "reminder": "sla-reminder", "urging": "sla-urging", "overdue": "sla-overdue",
              "met": "sla-met", "missed": "sla-missed"}
MARK_LABELS = {"ok": "正常", "reminder": "提醒", "urging": "催办", "overdue": "超时", "met": "达标", "missed": "超时"}
MARK_RANK = {"overdue": 0, "urging": 1, "reminder": 2, "ok": 3, "missed": 4, "met": 5}


def state_label(state: str | None) -> str:
    return STATE_LABELS.get(state or "", state or "")


def is_new(alert: dict) -> bool:
    return alert.get("state") == "new"


def place(alert: dict) -> str:
    """长治市潞州区 (city and county), or the name the alert carries."""
    city, name = alert.get("city_name") or "", alert.get("district_name") or alert.get("district") or ""
    return name if not city or name.startswith(city) else city + name


def fmt_duration(seconds: float) -> str:
    """12:05 for 12 minutes 5 s, 1:02:03 past an hour, 2天3时 past a day; negative with a minus."""
    sign = "-" if seconds < 0 else ""
    s = int(abs(seconds))
    if s >= 86400:
        return f"{sign}{s // 86400}天{s % 86400 // 3600}时"
    if s >= 3600:
        return f"{sign}{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return f"{sign}{s // 60}:{s % 60:02d}"


def clock_text(c: dict) -> str:
    """派单 剩 12:05 / 派单 超时 3:10 / 派单 达标."""
    label = c.get("label") or c.get("name")
    mark = c.get("mark")
    if mark in ("met", "missed"):
        return f"{label} {MARK_LABELS[mark]}"
    rem = c.get("remaining_s")
    if rem is None:
        return f"{label}"
    return f"{label} 超时 {fmt_duration(-rem)}" if rem < 0 else f"{label} 剩 {fmt_duration(rem)}"


def sla(alert: dict, now: datetime) -> list[dict]:
    """The alert's SLA clocks (``alerts.lifecycle.sla_status``)."""
    return list(sla_status(alert, now))


def running_clock(clocks: list[dict]) -> dict | None:
    """The most pressing clock still running (not stopped), for a one-line countdown."""
    live = [c for c in clocks if not c.get("stopped") and c.get("mark") not in ("met", "missed")]
    if not live:
        return None
    return min(live, key=lambda c: (MARK_RANK.get(c.get("mark"), 9), c.get("remaining_s") or 0))


def due_epoch(clock: dict) -> float | None:
    due = clock.get("due")
    if due is None:
        return None
    if isinstance(due, datetime):
        return due.timestamp()
    try:
        return datetime.fromisoformat(str(due)).timestamp()
    except ValueError:
        return None


def what(alert: dict) -> str:
    """The alert's subject: its industry, 全部行业 for all of them, or 「短语」 for a phrase alert."""
    if alert.get("phrase"):
        return f"「{alert['phrase']}」"
    ind = alert.get("industry") or ""
    return "全部行业" if ind == "*" else ind


def phrase_key(alert: dict) -> str | None:
    """A phrase alert's phrase as the topic documents store it ("a|b"), from its series."""
    if not alert.get("phrase"):
        return None
    return alert.get("phrase_key") or None


def fmt_expected(exp) -> str:
    """The usual count, readable when it is small: 4.2, 0.04, 0.0012, <0.001 (never a misleading 0.0)."""
    return usual_text(exp)


def headline(alert: dict) -> str:
    """长治市潞州区 · 产品质量 37件（常态 4.2）."""
    exp = alert.get("expected")
    exp_text = f"（常态 {fmt_expected(exp)}）" if isinstance(exp, (int, float)) else ""
    return f"{place(alert)} · {what(alert)} {alert.get('observed', '')}件{exp_text}"


# -- warning levels (alerts/severity.py) --------------------------------------------------------

def severity(alert: dict) -> str:
    """red / orange / yellow / blue (as the store returned it; blue when missing)."""
    lv = alert.get("severity")
    return lv if lv in _sev.RANK else "blue"


def severity_tag(alert: dict) -> str:
    """红色预警 / 橙色预警 / 黄色预警 / 蓝色预警."""
    return _sev.tag(severity(alert))


def severity_label(alert: dict) -> str:
    """红色 / 橙色 / 黄色 / 蓝色."""
    return _sev.label(severity(alert))


def severity_class(alert: dict) -> str:
    """The CSS class that colours a level: sev-red, sev-orange, sev-yellow, sev-blue."""
    return f"sev-{severity(alert)}"


def urgency_key(alert: dict) -> tuple:
    """Most urgent first: warning level, then score, then the newest."""
    return _sev.urgency_key(alert)


def most_urgent(alerts: list[dict]) -> tuple[dict | None, int]:
    """(the alert the banner shows, how many other open alerts): severity first, then score, then newest."""
    return _sev.most_urgent(alerts)


# -- the selected alert's series (the duty console's chart) -------------------------------------

CHART_HOURS = 72


def _hour_floor(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def alarm_window(alert: dict, now: datetime) -> tuple[datetime, datetime] | None:
    """[since, end of the last hour the detector scored) of the surge: the alarm window."""
    try:
        since = datetime.fromisoformat(alert["since"])
        at = datetime.fromisoformat(alert.get("at") or alert["since"])
    except (KeyError, TypeError, ValueError):
        return None
    end = _hour_floor(at) + timedelta(hours=1)
    if alert.get("ended_at"):
        try:
            end = max(end, min(_hour_floor(datetime.fromisoformat(alert["ended_at"])) + timedelta(hours=1), now))
        except ValueError:
            pass
    return (since, end) if end > since else None


def expected_per_hour(alert: dict) -> float | None:
    """The detector's expectation as a rate per hour: the alert's expected count over the hours
    it was measured on (from ``since`` to the end of the hour of ``at``)."""
    exp = alert.get("expected")
    if not isinstance(exp, (int, float)) or isinstance(exp, bool):
        return None
    try:
        since = datetime.fromisoformat(alert["since"])
        at = datetime.fromisoformat(alert.get("at") or alert["since"])
    except (KeyError, TypeError, ValueError):
        return None
    hours = max(1.0, ((_hour_floor(at) + timedelta(hours=1)) - since).total_seconds() / 3600)
    return exp / hours


def chart_points(alert: dict, hours: list[tuple[datetime, float]], now: datetime,
                 usual: list[float | None] | None = None) -> dict:
    """What the console's chart draws: ``starts`` (ISO), ``observed``, ``expected`` (the
    detector's rate per hour inside the alarm window, None outside), ``usual`` and ``window``
    (ISO start and end) for an alert and its hourly counts ``hours``."""
    win = alarm_window(alert, now)
    rate = expected_per_hour(alert)
    starts = [s for s, _ in hours]
    expected = [round(rate, 3) if (rate is not None and win and win[0] <= s < win[1]) else None for s in starts]
    return {"starts": [s.isoformat() for s in starts], "observed": [n for _, n in hours], "expected": expected,
            "usual": usual, "window": (win[0].isoformat(), win[1].isoformat()) if win else None}
