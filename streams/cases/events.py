"""One case event: checked, normalised and masked. Pure (no Kafka, Redis or HTTP).

A case event says what happened to a complaint and when::

    {"id": "E-1", "complaint_id": "SX-1", "event": "close", "at": "2026-10-09T16:00:00+08:00",
     "outcome": "mediated", "recovered_yuan": 300}

``validate_event(raw, now, tz)`` returns ``(event, [])`` or ``(None, errors)``; each error names
the field (the same shape as complaint errors, so dead letters and 422 answers look alike).

* ``event``: accept, reject, route, mediation_start, close, visit, transfer, open_case, or a
  Chinese name (受理, 不予受理, 分流, 调解开始, 办结, 回访, 转办, 立案 …).
* ``close`` needs ``outcome`` (mediated, failed, terminated, withdrawn, self_settled, or
  调解成功, 调解不成, 终止, 撤回, 自行和解) and may carry ``recovered_yuan`` (yuan, >= 0).
* ``visit`` needs ``satisfaction`` (satisfied, basically_satisfied, unsatisfied, or 满意,
  基本满意, 不满意).
* ``transfer`` needs a ``reason``; any event may name the ``unit`` (or ``team``) handling it and
  set ``rapid: true`` (the item is a rapid-response item from then on).
* Free text (unit, reason) is stripped of control characters and masked (names, phones, ID
  numbers) before it goes anywhere; error messages quote values masked.

>>> from zoneinfo import ZoneInfo
>>> ev, errs = validate_event({"id": "e1", "complaint_id": "c1", "event": "办结", "at": "2026-10-09 16:00",
...                            "outcome": "调解成功", "recovered_yuan": "300元"}, now=2e9, tz=ZoneInfo("Asia/Shanghai"))
>>> ev["event"], ev["outcome"], ev["recovered_yuan"], ev["at"], errs
('close', 'mediated', 300.0, '2026-10-09T16:00:00+08:00', [])
"""
from __future__ import annotations

from datetime import datetime, tzinfo

from nlp.pii import mask_text, quote, strip_controls
from streams.schema import EARLIEST_LOCAL, ID_RE, error, too_deep

__all__ = ["EVENT_ALIASES", "OUTCOME_ALIASES", "SATISFACTION_ALIASES", "FIELDS", "validate_event", "EVENT_LABELS",
           "OUTCOME_LABELS", "SATISFACTION_LABELS"]

EVENT_LABELS = {"accept": "受理", "reject": "不予受理", "route": "分流", "mediation_start": "调解开始",
                "close": "办结", "visit": "回访", "transfer": "转办", "open_case": "立案"}
EVENT_ALIASES = {**{k: k for k in EVENT_LABELS}, **{v: k for k, v in EVENT_LABELS.items()},
                 "不予立案": "reject", "不受理": "reject", "终止受理": "reject", "派单": "route", "分派": "route",
                 "指派": "route", "开始调解": "mediation_start", "调解": "mediation_start", "处置": "mediation_start",
                 "结案": "close", "办结反馈": "close", "反馈": "close", "回访调查": "visit", "移送": "transfer",
                 "转交": "transfer", "退回": "transfer"}
OUTCOME_LABELS = {"mediated": "调解成功", "failed": "调解不成", "terminated": "终止", "withdrawn": "撤回",
                  "self_settled": "自行和解"}
OUTCOME_ALIASES = {**{k: k for k in OUTCOME_LABELS}, **{v: k for k, v in OUTCOME_LABELS.items()},
                   "调解成功结案": "mediated", "达成调解协议": "mediated", "调解失败": "failed", "调解未成功": "failed",
                   "未达成调解协议": "failed", "终止调解": "terminated", "中止": "terminated", "撤诉": "withdrawn",
                   "投诉人撤回": "withdrawn", "撤回投诉": "withdrawn", "和解": "self_settled", "自行和解结案": "self_settled"}
SATISFACTION_LABELS = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}
SATISFACTION_ALIASES = {**{k: k for k in SATISFACTION_LABELS}, **{v: k for k, v in SATISFACTION_LABELS.items()},
                        "非常满意": "satisfied", "比较满意": "basically_satisfied", "一般": "basically_satisfied",
                        "很不满意": "unsatisfied", "非常不满意": "unsatisfied"}

FIELDS = {
    "id": ("string", True, "unique event id, 1-64 of A-Z a-z 0-9 _ . : - (deduplicates: the same id twice counts once)"),
    "complaint_id": ("string", True, "id of the complaint the event belongs to"),
    "event": ("string", True, "accept | reject | route | mediation_start | close | visit | transfer | open_case "
                              "(受理 不予受理 分流 调解开始 办结 回访 转办 立案 accepted)"),
    "at": ("string", True, "when it happened, ISO 8601; without an offset it is Asia/Shanghai local time"),
    "outcome": ("string", False, "close only, required: mediated | failed | terminated | withdrawn | self_settled "
                                 "(调解成功 调解不成 终止 撤回 自行和解)"),
    "recovered_yuan": ("number", False, "close only: losses recovered for the consumer, yuan"),
    "satisfaction": ("string", False, "visit only, required: satisfied | basically_satisfied | unsatisfied "
                                      "(满意 基本满意 不满意)"),
    "unit": ("string", False, "the unit or team handling the item (team is accepted as a synonym)"),
    "reason": ("string", False, "why (required for a transfer)"),
    "rapid": ("boolean", False, "true: the item is a rapid-response item (快反) from this event on"),
}
MAX_UNIT = 64
MAX_REASON = 500
MAX_YUAN = 1e9
FUTURE_TOLERANCE_S = 300


def json_schema() -> dict:
    props = {k: {"type": t, "description": d} for k, (t, _r, d) in FIELDS.items()}
    return {"type": "object", "required": [k for k, v in FIELDS.items() if v[1]], "properties": props,
            "example": {"id": "EV-SX-1-close", "complaint_id": "SX-20261009-000123", "event": "close",
                        "at": "2026-10-09T16:00:00+08:00", "outcome": "mediated", "recovered_yuan": 300}}


def _clean(v):
    return strip_controls(v) if isinstance(v, str) else v


def _parse_time(value, tz: tzinfo) -> datetime:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, tz)
    if not isinstance(value, str):
        raise ValueError(f"must be an ISO 8601 date-time string, got {type(value).__name__}")
    s = strip_controls(value).strip().replace("/", "-")
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        raise ValueError(f"{quote(value)} is not an ISO 8601 date-time (e.g. 2026-10-09T16:00:00+08:00)") from None
    return dt.replace(tzinfo=tz) if dt.tzinfo is None else dt.astimezone(tz)


def _id(raw: dict, key: str, errs: list) -> str | None:
    v = raw.get(key)
    if isinstance(v, int) and not isinstance(v, bool):
        v = str(v)
    if v is None or v == "":
        errs.append(error(key, "missing", f"{key} is required"))
    elif not isinstance(v, str) or ID_RE.fullmatch(v) is None:
        errs.append(error(key, "invalid", f"{key} {quote(v)} must be 1-64 characters of A-Z a-z 0-9 _ . : -"))
    else:
        return v
    return None


def _choice(raw: dict, key: str, aliases: dict, errs: list, labels: dict) -> str | None:
    v = _clean(raw.get(key))
    canon = aliases.get(v.strip()) or aliases.get(v.strip().lower()) if isinstance(v, str) and v.strip() else None
    if canon is None:
        known = " | ".join(f"{k} ({l})" for k, l in labels.items())
        if v in (None, ""):
            errs.append(error(key, "missing", f"{key} is required: {known}"))
        else:
            errs.append(error(key, "unknown", f"{key} {quote(v)} is not one of {known}"))
    return canon


def validate_event(raw, now: float, tz: tzinfo) -> tuple[dict | None, list[dict]]:
    """The normalised event, or the errors (never both)."""
    if not isinstance(raw, dict):
        return None, [error("", "not_an_object", f"a case event must be a JSON object, got {type(raw).__name__}")]
    if too_deep(raw):
        return None, [error("", "too_deep", "the case event nests objects or lists too deeply")]
    errs: list[dict] = []
    out: dict = {}
    eid = _id(raw, "id", errs)
    cid = _id(raw, "complaint_id", errs)
    ev = _choice(raw, "event", EVENT_ALIASES, errs, EVENT_LABELS)
    at = _clean(raw.get("at"))
    if at in (None, ""):
        errs.append(error("at", "missing", "at is required (when it happened, ISO 8601)"))
    else:
        try:
            dt = _parse_time(at, tz)
            ts = dt.timestamp()
            if ts > now + FUTURE_TOLERANCE_S:
                errs.append(error("at", "in_future", f"at {dt.isoformat()} is in the future"))
            elif dt < EARLIEST_LOCAL.replace(tzinfo=tz):
                errs.append(error("at", "too_old", f"at {dt.isoformat()} is before 2000-01-01"))
            else:
                out["at"], out["ts"] = dt.isoformat(), ts
        except (ValueError, OverflowError, OSError) as e:
            errs.append(error("at", "invalid", f"at {e}"))
    if ev == "close":
        out["outcome"] = _choice(raw, "outcome", OUTCOME_ALIASES, errs, OUTCOME_LABELS)
    elif raw.get("outcome") not in (None, ""):
        errs.append(error("outcome", "not_allowed", "outcome belongs to a close (办结) event only"))
    ry = _clean(raw.get("recovered_yuan"))
    if ry not in (None, ""):
        if ev != "close":
            errs.append(error("recovered_yuan", "not_allowed", "recovered_yuan belongs to a close (办结) event only"))
        else:
            try:
                if isinstance(ry, bool) or not isinstance(ry, (int, float, str)):
                    raise ValueError
                y = float(ry.replace(",", "").replace("元", "").strip()) if isinstance(ry, str) else float(ry)
                if not 0 <= y <= MAX_YUAN:
                    errs.append(error("recovered_yuan", "out_of_range", f"recovered_yuan {quote(y)} must be between 0 and {MAX_YUAN:.0f}"))
                else:
                    out["recovered_yuan"] = round(y, 2)
            except (TypeError, ValueError, OverflowError):
                errs.append(error("recovered_yuan", "invalid", f"recovered_yuan {quote(ry)} is not a number of yuan"))
    if ev == "visit":
        out["satisfaction"] = _choice(raw, "satisfaction", SATISFACTION_ALIASES, errs, SATISFACTION_LABELS)
    elif raw.get("satisfaction") not in (None, ""):
        errs.append(error("satisfaction", "not_allowed", "satisfaction belongs to a visit (回访) event only"))
    unit = _clean(raw.get("unit") if raw.get("unit") not in (None, "") else raw.get("team"))
    if unit not in (None, ""):
        if not isinstance(unit, str) or len(unit) > MAX_UNIT:
            errs.append(error("unit", "invalid", f"unit must be a string of at most {MAX_UNIT} characters"))
        elif unit.strip():
            out["unit"] = mask_text(unit.strip())
    reason = strip_controls(raw["reason"], multiline=True) if isinstance(raw.get("reason"), str) else raw.get("reason")
    if reason not in (None, ""):
        if not isinstance(reason, str) or len(reason) > MAX_REASON:
            errs.append(error("reason", "invalid", f"reason must be a string of at most {MAX_REASON} characters"))
        elif reason.strip():
            out["reason"] = mask_text(reason.strip())
    if ev == "transfer" and not out.get("reason") and not any(e["field"] == "reason" for e in errs):
        errs.append(error("reason", "missing", "a transfer (转办) needs a reason"))
    rapid = raw.get("rapid")
    if rapid not in (None, False):
        if rapid is not True:
            errs.append(error("rapid", "invalid", "rapid must be true or false"))
        else:
            out["rapid"] = True
    if errs:
        return None, errs
    out.update(id=eid, complaint_id=cid, event=ev)
    return out, []
