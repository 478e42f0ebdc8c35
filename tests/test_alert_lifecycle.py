"""The alert lifecycle, SLA clocks and alert settings: pure functions, explicit times."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest

from alerts.config import AlertConfigError, default_alert_config, load_alert_config, parse_duration
from alerts.lifecycle import (ACTIONS, CLOSED_STATES, OPEN_STATES, STATE_LABELS, STATES, TZ, LifecycleError,
                              allowed_actions, apply, due_notices, iso, sla_status, urgency)

T0 = datetime(2025, 3, 15, 10, 0, tzinfo=TZ)
M, S = timedelta(minutes=1), timedelta(seconds=1)


def fresh(**over) -> dict:
    a = {"id": "a-000000000001", "state": "new", "state_label": "新预警", "opened_at": iso(T0), "score": 5.0}
    a.update(over)
    return a


def walk(*steps, alert=None) -> dict:
    """Apply (action, minutes after T0, kwargs) steps in turn."""
    a = alert or fresh()
    for action, minutes, kw in steps:
        a, _ = apply(a, action, "李值班", T0 + minutes * M, **kw)
    return a


DISPATCH = ("dispatch", 5, {"team": "食品安全快反分队"})


# -- transitions ---------------------------------------------------------------------------

def test_full_path_states_labels_times_and_log():
    a = fresh()
    seen = []
    for action, minutes, kw, state in [("ack", 2, {}, "acknowledged"), ("dispatch", 5, {"team": "食品安全快反分队"}, "dispatched"),
                                       ("respond", 20, {}, "responded"), ("onsite", 60, {"note": "已到达商场"}, "on_site"),
                                       ("close", 300, {"note": "责令退换"}, "closed")]:
        a, entry = apply(a, action, "李值班", T0 + minutes * M, **kw)
        assert a["state"] == state and a["state_label"] == STATE_LABELS[state]
        assert a[f"{state}_at"] == iso(T0 + minutes * M) and a[f"{state}_by"] == "李值班"
        assert entry["action"] == action and entry["to"] == state and entry["by"] == "李值班"
        assert entry["at"] == iso(T0 + minutes * M)
        seen.append(entry["from"])
    assert seen == ["new", "acknowledged", "dispatched", "responded", "on_site"]
    assert a["team"] == "食品安全快反分队" and a["ended_at"] == iso(T0 + 300 * M)
    assert a["on_site_note"] == "已到达商场" and a["closed_note"] == "责令退换"
    assert a["opened_at"].endswith("+08:00")


def test_dispatch_entry_carries_team_and_note():
    _, e = apply(fresh(), "dispatch", "李值班", T0, team="价格监管快反分队", note="景区门票")
    assert e["team"] == "价格监管快反分队" and e["note"] == "景区门票" and e["from"] == "new"


def test_ack_may_be_skipped():
    a = walk(DISPATCH)
    assert a["state"] == "dispatched" and "acknowledged_at" not in a


@pytest.mark.parametrize("path", [[DISPATCH], [DISPATCH, ("respond", 10, {})]])
def test_close_directly_from_dispatched_or_responded(path):
    a = walk(*path, ("close", 30, {}))
    assert a["state"] == "closed"


@pytest.mark.parametrize("state", OPEN_STATES)
def test_false_alarm_from_every_open_state_needs_a_reason(state):
    a = fresh(state=state)
    with pytest.raises(LifecycleError, match="reason"):
        apply(a, "false_alarm", "李值班", T0)
    with pytest.raises(LifecycleError, match="误报需填写原因"):
        apply(a, "false_alarm", "李值班", T0, note="  ")
    b, e = apply(a, "false_alarm", "李值班", T0 + M, note="节前正常波动")
    assert b["state"] == "false_alarm" and b["state_label"] == "误报" and b["reason"] == "节前正常波动"
    assert e["note"] == "节前正常波动" and b["ended_at"] == iso(T0 + M)


ALLOWED = {"ack": {"new"}, "dispatch": {"new", "acknowledged"}, "respond": {"dispatched"}, "onsite": {"responded"},
           "close": {"dispatched", "responded", "on_site"}, "false_alarm": set(OPEN_STATES)}


@pytest.mark.parametrize("state,action", [(s, a) for s, a in itertools.product(STATES, ACTIONS) if s not in ALLOWED[a]])
def test_every_refused_move(state, action):
    a = fresh(state=state)
    with pytest.raises(LifecycleError, match=f"cannot {action}: alert is") as ei:
        apply(a, action, "李值班", T0, team="综合快反分队", note="x")
    assert isinstance(ei.value, ValueError)
    assert state in str(ei.value)


@pytest.mark.parametrize("state", STATES)
def test_allowed_actions_match_the_table(state):
    assert set(allowed_actions({"state": state})) == {a for a, src in ALLOWED.items() if state in src}


def test_refusal_messages_are_clear_in_both_languages():
    with pytest.raises(LifecycleError) as ei:
        apply(fresh(), "close", "李值班", T0)
    assert str(ei.value).startswith("cannot close: alert is new (已结案 needs 已派单 first")
    with pytest.raises(LifecycleError, match=r"cannot onsite: alert is dispatched \(已到场 needs 已响应 first"):
        apply(walk(DISPATCH), "onsite", "李值班", T0)
    with pytest.raises(LifecycleError, match="already past 已确认"):
        apply(walk(DISPATCH), "ack", "李值班", T0)
    closed = walk(DISPATCH, ("close", 10, {}))
    with pytest.raises(LifecycleError, match="cannot respond: alert is closed .*已结案的预警已办结"):
        apply(closed, "respond", "李值班", T0)


def test_arguments_are_checked():
    with pytest.raises(LifecycleError, match="team is required"):
        apply(fresh(), "dispatch", "李值班", T0)
    with pytest.raises(LifecycleError, match="'by'"):
        apply(fresh(), "ack", "", T0)
    with pytest.raises(LifecycleError, match="unknown action 'reopen'"):
        apply(fresh(), "reopen", "李值班", T0)
    with pytest.raises(LifecycleError, match="timezone-aware"):
        apply(fresh(), "ack", "李值班", datetime(2025, 3, 15, 10, 0))
    with pytest.raises(LifecycleError, match="unknown state"):
        apply(fresh(state="lost"), "ack", "李值班", T0)


def test_apply_leaves_its_input_alone_and_stores_shanghai_time():
    a = fresh(phrases=["掉色"])
    b, _ = apply(a, "ack", "李值班", datetime(2025, 3, 15, 2, 0, tzinfo=timezone.utc))
    assert a["state"] == "new" and "acknowledged_at" not in a
    assert b["acknowledged_at"] == "2025-03-15T10:00:00+08:00"


# -- SLA clocks -------------------------------------------------------------------------------

def marks(alert, at) -> dict:
    return {s["name"]: s["mark"] for s in sla_status(alert, at)}


@pytest.mark.parametrize("after,mark", [
    (timedelta(0), "ok"), (7 * M + 29 * S, "ok"), (7 * M + 30 * S, "reminder"), (11 * M + 59 * S, "reminder"),
    (12 * M, "urging"), (15 * M, "urging"), (15 * M + S, "overdue"), (3 * 60 * M, "overdue")])
def test_dispatch_clock_marks_at_the_boundaries(after, mark):
    # 15 min limit: reminder at half (7m30s), urging with 20 % (3 min) left, overdue after 15 min
    st = {s["name"]: s for s in sla_status(fresh(), T0 + after)}
    assert st["dispatch"]["mark"] == mark
    assert st["dispatch"]["remaining_s"] == (15 * M - after).total_seconds()
    assert st["dispatch"]["label"] == "派单" and st["dispatch"]["stopped"] is None
    assert st["dispatch"]["started"] == iso(T0) and st["dispatch"]["due"] == iso(T0 + 15 * M)


def test_only_started_clocks_are_listed():
    assert [s["name"] for s in sla_status(fresh(), T0)] == ["dispatch", "feedback"]
    assert [s["name"] for s in sla_status(walk(DISPATCH), T0 + 5 * M)] == ["dispatch", "respond", "on_site", "feedback"]


@pytest.mark.parametrize("minutes,mark,remaining", [(15, "met", 0.0), (14, "met", 60.0), (15.5, "missed", -30.0)])
def test_dispatch_clock_met_or_missed(minutes, mark, remaining):
    a, _ = apply(fresh(), "dispatch", "李值班", T0 + minutes * M, team="综合快反分队")
    st = {s["name"]: s for s in sla_status(a, T0 + 10 * 60 * M)}
    assert st["dispatch"]["mark"] == mark and st["dispatch"]["remaining_s"] == remaining
    assert st["dispatch"]["stopped"] == iso(T0 + minutes * M)


@pytest.mark.parametrize("after,mark", [
    (22 * M + 29 * S, "ok"), (22 * M + 30 * S, "reminder"), (35 * M + 59 * S, "reminder"), (36 * M, "urging"),
    (45 * M, "urging"), (45 * M + S, "overdue")])
def test_respond_clock_runs_from_dispatch(after, mark):
    a = walk(DISPATCH)                       # dispatched at T0+5m; 45 min limit, urging 9 min before
    assert marks(a, T0 + 5 * M + after)["respond"] == mark


@pytest.mark.parametrize("after,mark", [
    (44 * M + 59 * S, "ok"), (45 * M, "reminder"), (71 * M + 59 * S, "reminder"), (72 * M, "urging"),
    (90 * M, "urging"), (90 * M + S, "overdue")])
def test_on_site_clock_runs_from_dispatch(after, mark):
    a = walk(DISPATCH, ("respond", 10, {}))  # responding does not stop the on-site clock
    assert marks(a, T0 + 5 * M + after)["on_site"] == mark


@pytest.mark.parametrize("after,mark", [
    (11 * 60 * M + 59 * M, "ok"), (12 * 60 * M, "reminder"), (19 * 60 * M + 11 * M + 59 * S, "reminder"),
    (19 * 60 * M + 12 * M, "urging"), (24 * 60 * M, "urging"), (24 * 60 * M + S, "overdue")])
def test_feedback_clock_runs_from_opened(after, mark):
    # 24 h: reminder at 12 h, urging with 4 h 48 min left (20 %)
    assert marks(walk(DISPATCH, ("respond", 10, {}), ("onsite", 50, {})), T0 + after)["feedback"] == mark


def test_respond_and_on_site_met_and_missed():
    a = walk(DISPATCH, ("respond", 50, {}), ("onsite", 95, {}))   # respond 45 min after dispatch, on site 90
    st = {s["name"]: s for s in sla_status(a, T0 + 200 * M)}
    assert st["respond"]["mark"] == "met" and st["respond"]["remaining_s"] == 0.0
    assert st["on_site"]["mark"] == "met" and st["feedback"]["mark"] == "ok"
    b = walk(DISPATCH, ("respond", 51, {}), ("onsite", 96, {}))
    st = {s["name"]: s for s in sla_status(b, T0 + 200 * M)}
    assert st["respond"]["mark"] == "missed" and st["on_site"]["mark"] == "missed"
    assert st["on_site"]["remaining_s"] == -60.0


def test_on_site_clock_dropped_when_closed_without_going_on_site():
    a = walk(DISPATCH, ("respond", 10, {}))
    assert marks(a, T0 + 100 * M)["on_site"] == "overdue"
    closed = walk(("close", 120, {}), alert=a)
    st = marks(closed, T0 + 200 * M)
    assert "on_site" not in st and st["feedback"] == "met" and st["respond"] == "met"


def test_clocks_stop_when_the_alert_ends():
    fa = walk(("false_alarm", 20, {"note": "重复统计"}))
    st = {s["name"]: s for s in sla_status(fa, T0 + 30 * 60 * M)}
    assert st["dispatch"]["mark"] == "missed" and st["dispatch"]["stopped"] == iso(T0 + 20 * M)
    assert st["feedback"]["mark"] == "met"
    closed = walk(DISPATCH, ("close", 60, {}))   # closed straight from dispatched: respond stops too
    st = {s["name"]: s for s in sla_status(closed, T0 + 30 * 60 * M)}
    assert st["respond"]["mark"] == "missed" and st["respond"]["stopped"] == iso(T0 + 60 * M)
    late = walk(DISPATCH, ("close", 25 * 60, {}))
    assert marks(late, T0 + 30 * 60 * M)["feedback"] == "missed"


def test_sla_needs_aware_now():
    with pytest.raises(ValueError, match="timezone-aware"):
        sla_status(fresh(), datetime(2025, 3, 15, 10, 0))


def test_custom_config_changes_limits_and_urging(tmp_path):
    p = tmp_path / "alerts.yaml"
    p.write_text(DEFAULT_YAML.replace("dispatch: {limit: 15m}", "dispatch: {limit: 10m, urging_before: 1m}")
                 .replace("reminder_at: 50%", "reminder_at: 0.8"), encoding="utf-8")
    cfg = load_alert_config(p)
    got = [{s["name"]: s["mark"] for s in sla_status(fresh(), T0 + t, cfg)}["dispatch"]
           for t in (7 * M + 59 * S, 8 * M, 9 * M, 10 * M + S)]
    assert got == ["ok", "reminder", "urging", "overdue"]


# -- notices ----------------------------------------------------------------------------------

def test_due_notices_step_by_step_and_once_each():
    a, sent, out = fresh(), set(), []
    for minutes in (0, 7, 7.5, 8, 12, 13, 15, 15.1, 16):
        for n in due_notices(a, T0 + minutes * M, sent):
            sent.add(n["key"])
            out.append((minutes, n["key"], n["event"]))
    assert out == [(7.5, "dispatch:reminder", "reminder"), (12, "dispatch:urging", "urging"),
                   (15.1, "dispatch:overdue", "overdue")]


def test_due_notice_fields():
    [n] = due_notices(fresh(), T0 + 8 * M, set())
    assert n == {"key": "dispatch:reminder", "alert_id": "a-000000000001", "clock": "dispatch", "label": "派单",
                 "event": "reminder", "event_label": "提醒卡", "due": iso(T0 + 15 * M), "remaining_s": 420.0,
                 "at": iso(T0 + 8 * M)}


def test_due_notices_skip_stale_lower_events_and_stopped_clocks():
    # a worker down for an hour: only the overdue notice goes out, not the stale reminder
    assert [n["key"] for n in due_notices(fresh(), T0 + 60 * M, set())] == ["dispatch:overdue"]
    assert due_notices(fresh(), T0 + 60 * M, {"dispatch:overdue"}) == []
    # an urging already sent silences a later check of the (lower) reminder too
    assert due_notices(fresh(), T0 + 13 * M, {"dispatch:urging"}) == []
    a = walk(DISPATCH)                      # dispatch clock stopped; respond and on_site started
    assert due_notices(a, T0 + 5 * M + 23 * M, set()) == [
        n for n in due_notices(a, T0 + 28 * M, set()) if n["clock"] == "respond"]
    assert {n["key"] for n in due_notices(a, T0 + 5 * M + 91 * M, set())} == {
        "respond:overdue", "on_site:overdue"}
    assert due_notices(walk(DISPATCH, ("close", 6, {})), T0 + 30 * 60 * M, set()) == []


# -- urgency ----------------------------------------------------------------------------------

def test_urgency_orders_overdue_first_then_least_time_then_score():
    now = T0 + 20 * M
    overdue = fresh(id="a-overdue", score=1.0)                                       # dispatch 5 min overdue
    soon = fresh(id="a-soon", opened_at=iso(T0 + 8 * M), score=2.0)                  # 3 min left
    later_hi = fresh(id="a-later-hi", opened_at=iso(T0 + 15 * M), score=9.0)          # 10 min left
    later_lo = fresh(id="a-later-lo", opened_at=iso(T0 + 15 * M), score=3.0)
    dispatched = walk(("dispatch", 19, {"team": "综合快反分队"}), alert=fresh(id="a-disp", opened_at=iso(T0 + 18 * M)))
    closed = walk(DISPATCH, ("close", 10, {}), alert=fresh(id="a-closed", score=99.0))
    order = sorted([closed, later_lo, dispatched, later_hi, soon, overdue], key=lambda a: urgency(a, now))
    assert [a["id"] for a in order] == ["a-overdue", "a-soon", "a-later-hi", "a-later-lo", "a-disp", "a-closed"]


# -- settings ---------------------------------------------------------------------------------

DEFAULT_YAML = """
cooldown: 6h
escalate_factor: 2
sla:
  reminder_at: 50%
  urging_before: 20%
  clocks:
    dispatch: {limit: 15m}
    respond: {limit: 45m}
    on_site: {limit: 90m}
    feedback: {limit: 24h}
teams:
  default: 综合快反分队
  by_industry: {食品: 食品安全快反分队}
  valid: [综合快反分队, 食品安全快反分队]
"""


def test_shipped_config_matches_the_domain_deadlines():
    cfg = default_alert_config()
    assert {c.name: c.limit for c in cfg.clocks} == {"dispatch": 15 * M, "respond": 45 * M, "on_site": 90 * M,
                                                     "feedback": timedelta(hours=24)}
    assert {c.name: c.label for c in cfg.clocks} == {"dispatch": "派单", "respond": "响应", "on_site": "到场",
                                                     "feedback": "反馈"}
    assert cfg.clock("dispatch").urging_before == 3 * M and cfg.reminder_at == 0.5
    assert cfg.cooldown == timedelta(hours=6) and cfg.escalate_factor == 2
    assert cfg.suggest_team("食品") == "食品安全快反分队" and cfg.suggest_team("价格") == "价格监管快反分队"
    assert cfg.suggest_team("产品质量") == "产品质量快反分队" and cfg.suggest_team("旅游") == "旅游市场工作专班"
    assert cfg.suggest_team("汽车") == "综合快反分队" and cfg.suggest_team("*") == "综合快反分队"
    assert set(cfg.team_by_industry.values()) <= set(cfg.teams)


@pytest.mark.parametrize("old,new,msg", [
    ("cooldown: 6h", "cooldown: 6h\ncooldwn: 2h", "unknown key cooldwn"),
    ("    respond: {limit: 45m}", "    respond: {limit: 45m}\n    onsite: {limit: 1h}", "unknown key sla.clocks.onsite"),
    ("dispatch: {limit: 15m}", "dispatch: {limit: 15m, limt: 2m}", "unknown key sla.clocks.dispatch.limt"),
    ("dispatch: {limit: 15m}", "dispatch: {limit: 15}", "sla.clocks.dispatch.limit: 15 needs a unit"),
    ("dispatch: {limit: 15m}", "dispatch: {limit: soon}", "sla.clocks.dispatch.limit: 'soon' is not a duration"),
    ("    feedback: {limit: 24h}\n", "", "sla.clocks: missing clock feedback"),
    ("reminder_at: 50%", "reminder_at: 150%", "sla.reminder_at: '150%' must be a share"),
    ("urging_before: 20%", "urging_before: 2h", "sla.urging_before: '2h' must be shorter"),
    ("escalate_factor: 2", "escalate_factor: 1", "escalate_factor: 1 must be a number above 1"),
    ("{食品: 食品安全快反分队}", "{食品: 无名分队}", "teams.by_industry.食品: '无名分队' is not in teams.valid"),
    ("{食品: 食品安全快反分队}", "{美食: 食品安全快反分队}", "teams.by_industry.美食: unknown industry"),
    ("default: 综合快反分队", "default: 别的分队", "teams.default"),
    ("valid: [综合快反分队, 食品安全快反分队]", "valid: []", "teams.valid"),
])
def test_bad_settings_are_named(tmp_path, old, new, msg):
    assert old in DEFAULT_YAML
    p = tmp_path / "alerts.yaml"
    p.write_text(DEFAULT_YAML.replace(old, new), encoding="utf-8")
    with pytest.raises(AlertConfigError) as ei:
        load_alert_config(p)
    assert isinstance(ei.value, ValueError)
    assert msg in str(ei.value) and str(p) in str(ei.value)


def test_missing_settings_file_is_named(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_alert_config(tmp_path / "nope.yaml")


def test_parse_duration():
    assert parse_duration("90m") == 90 * M and parse_duration("2d") == timedelta(days=2)
    assert parse_duration("30s") == 30 * S and parse_duration("1.5h") == 90 * M
    for bad in ("0m", "m", 5, "5 weeks"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_state_constants():
    assert set(OPEN_STATES) | set(CLOSED_STATES) == set(STATES)
    assert [STATE_LABELS[s] for s in STATES] == ["新预警", "已确认", "已派单", "已响应", "已到场", "已结案", "误报"]
