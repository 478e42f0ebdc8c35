"""The Redis alert store on a real redis-server: raise/update, replays, concurrency,
grouping, cooldown, silences, actions and their audit trail, SLA notices, deliveries."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta

import pytest
import redis

from alerts.config import default_alert_config
from alerts.lifecycle import TZ, LifecycleError, iso
from alerts.store import AlertStore, alert_id, district_covers

T0 = datetime(2025, 3, 15, 10, 20, tzinfo=TZ)
M, H = timedelta(minutes=1), timedelta(hours=1)


def det(district="140403", industry="产品质量", level="county", since="2025-03-15T10:00:00+08:00",
        at=None, **over) -> dict:
    d = {"series": f"{level}:{district}:{industry}", "level": level, "district": district, "industry": industry,
         "at": at or since, "observed": 12, "expected": 3.0, "score": 4.0, "threshold": 3.0, "since": since,
         "method": "seasonal", "phrases": [["掉色", 7], ["退换难", 4]], "merchants": [["某商场", 6]],
         "samples": [{"id": "c1", "text": "衣服掉色，电话13812345678，身份证140402199001011234"}]}
    d.update(over)
    return d


@pytest.fixture
def store(stack):
    return AlertStore(stack["redis"])


def run_threads(n, fn):
    """Run fn(i) in n threads released together; returns results (or exceptions) by index."""
    barrier = threading.Barrier(n)
    out = [None] * n

    def body(i):
        barrier.wait()
        try:
            out[i] = fn(i)
        except Exception as e:  # noqa: BLE001 - collected for the assertions
            out[i] = e

    ts = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    return out


# -- raise / update ---------------------------------------------------------------------------

def test_new_alert_fields_team_and_masked_samples(store, stack):
    aid, outcome = store.raise_or_update(det(), T0)
    assert outcome == "new" and aid == alert_id("county:140403:产品质量", "2025-03-15T10:00:00+08:00")
    assert aid.startswith("a-") and len(aid) == 14
    a = store.get(aid)
    assert a["state"] == "new" and a["state_label"] == "新预警" and a["opened_at"] == iso(T0)
    assert (a["district_name"], a["city"], a["city_name"], a["group"]) == ("潞州区", "140400", "长治市", "140400:产品质量")
    assert (a["province"], a["province_name"], a["level"], a["industry"]) == ("140000", "山西省", "county", "产品质量")
    assert a["ratio"] == 4.0 and a["score"] == 4.0 and a["team"] == a["suggested_team"] == "产品质量快反分队"
    assert a["group_lead"] is None
    text = a["samples"][0]["text"]
    assert "13812345678" not in text and "138****5678" in text and "140402199001011234" not in text
    raw = " ".join(stack["redis"].get(k) or "" for k in stack["redis"].scan_iter("cc:alert:*") if stack["redis"].type(k) == "string")
    assert "13812345678" not in raw
    [h] = store.history(aid)
    assert h["action"] == "raised" and h["by"] == "system" and h["at"] == iso(T0) and h["outcome"] == "new"


def test_detection_team_wins_and_default_team(store):
    a1, _ = store.raise_or_update(det(industry="食品"), T0)
    a2, _ = store.raise_or_update(det(industry="汽车"), T0)
    a3, _ = store.raise_or_update(det(industry="价格", team="旅游市场工作专班"), T0)
    assert [store.get(a)["team"] for a in (a1, a2, a3)] == ["食品安全快反分队", "综合快反分队", "旅游市场工作专班"]
    assert store.suggest_team("旅游") == "旅游市场工作专班" and "价格监管快反分队" in store.teams


def test_update_keeps_one_alert_and_takes_max_score(store):
    aid, _ = store.raise_or_update(det(), T0)
    later = det(at="2025-03-15T11:00:00+08:00", observed=20, expected=4.0, score=6.0, phrases=[["起球", 9]],
                samples=[{"id": "c2", "text": "起球严重"}])
    assert store.raise_or_update(later, T0 + H) == (aid, "updated")
    # an older detection replayed late does not roll the numbers back, and the score stays the max
    assert store.raise_or_update(det(score=3.0), T0 + H + M) == (aid, "updated")
    # a new episode (another since) on a series with an open alert updates it too
    assert store.raise_or_update(det(since="2025-03-15T12:00:00+08:00", at="2025-03-15T12:00:00+08:00", score=5.0,
                                     observed=15, samples=["第三件 13900001111"]), T0 + 2 * H) == (aid, "updated")
    a = store.get(aid)
    assert (a["observed"], a["expected"], a["ratio"], a["score"]) == (15, 3.0, 5.0, 6.0)
    assert a["at"] == "2025-03-15T12:00:00+08:00" and a["since"] == "2025-03-15T10:00:00+08:00"
    assert a["samples"][0] == "第三件 139****1111" and [s["id"] for s in a["samples"][1:]] == ["c2", "c1"]
    assert a["updated_at"] == iso(T0 + 2 * H) and a["phrases"] == det()["phrases"]
    assert store.list() == [a]
    assert [h["action"] for h in store.history(aid)] == ["raised", "updated", "updated"]  # the stale replay changed nothing


def test_replay_is_idempotent(store):
    aid, _ = store.raise_or_update(det(), T0)
    before = store.get(aid)
    for _ in range(3):
        assert store.raise_or_update(det(), T0 + 5 * M) == (aid, "updated")
    assert store.get(aid) == before and len(store.history(aid)) == 1
    assert len(store.list()) == 1


def test_escalation_at_twice_the_notified_score(store):
    aid, _ = store.raise_or_update(det(score=4.0), T0)
    assert store.raise_or_update(det(at="2025-03-15T11:00:00+08:00", score=7.9), T0 + H)[1] == "updated"
    assert store.raise_or_update(det(at="2025-03-15T12:00:00+08:00", score=8.0), T0 + 2 * H)[1] == "escalated"
    # the escalated score is the new base; a replay of it does not escalate again
    assert store.raise_or_update(det(at="2025-03-15T12:00:00+08:00", score=8.0), T0 + 2 * H)[1] == "updated"
    assert store.raise_or_update(det(at="2025-03-15T13:00:00+08:00", score=15.0), T0 + 3 * H)[1] == "updated"
    assert store.raise_or_update(det(at="2025-03-15T14:00:00+08:00", score=16.0), T0 + 4 * H)[1] == "escalated"
    a = store.get(aid)
    assert a["notified_score"] == 16.0 and a["escalations"] == 2 and a["first_score"] == 4.0


def test_eight_threads_raise_one_alert(store):
    d = det()
    out = run_threads(8, lambda i: store.raise_or_update(dict(d, observed=12 + i), T0))
    assert not [o for o in out if isinstance(o, Exception)], out
    assert sorted(o[1] for o in out) == ["new"] + ["updated"] * 7
    assert len({o[0] for o in out}) == 1
    assert len(store.list()) == 1 and len(store.list("open")) == 1
    assert store.history(out[0][0])[0]["action"] == "raised"


def test_eight_threads_on_one_group_elect_one_lead(store):
    counties = ["140403", "140404", "140405", "140406", "140423", "140425", "140426", "140427"]
    out = run_threads(8, lambda i: store.raise_or_update(det(district=counties[i], industry="食品"), T0 + i * M))
    assert not [o for o in out if isinstance(o, Exception)], out
    assert sorted(o[1] for o in out) == ["grouped"] * 7 + ["new"]
    lead = next(o[0] for o in out if o[1] == "new")
    assert all(store.get(o[0])["group_lead"] == lead for o in out if o[1] == "grouped")


def test_bad_detections_are_refused(store):
    with pytest.raises(ValueError, match="lacks since"):
        store.raise_or_update({"series": "county:140403:食品"}, T0)
    with pytest.raises(ValueError, match="level:district:industry"):
        store.raise_or_update({"series": "140403", "since": "x"}, T0)
    with pytest.raises(ValueError, match="timezone-aware"):
        store.raise_or_update(det(), datetime(2025, 3, 15, 10))


# -- grouping ------------------------------------------------------------------------------------

def test_grouping_by_city_and_industry(store):
    a1, o1 = store.raise_or_update(det(district="140403", industry="食品"), T0)
    a2, o2 = store.raise_or_update(det(district="140404", industry="食品"), T0 + M)
    a3, o3 = store.raise_or_update(det(district="140400", level="city", industry="食品"), T0 + 2 * M)
    a4, o4 = store.raise_or_update(det(district="140404", industry="价格"), T0 + 3 * M)
    a5, o5 = store.raise_or_update(det(district="140105", industry="食品"), T0 + 4 * M)      # 太原
    assert (o1, o2, o3, o4, o5) == ("new", "grouped", "grouped", "new", "new")
    assert store.get(a2)["group_lead"] == a1 and store.get(a3)["group_lead"] == a1
    gs = {g["group"]: g for g in store.groups(now=T0 + 5 * M)}
    assert set(gs) == {"140400:食品", "140400:价格", "140100:食品"}
    g = gs["140400:食品"]
    assert (g["city"], g["city_name"], g["industry"], g["lead"], g["open"]) == ("140400", "长治市", "食品", a1, 3)
    assert {a["id"] for a in g["alerts"]} == {a1, a2, a3}
    # the lead closes: the next new alert of the group points at the earliest one still open
    store.act(a1, "false_alarm", "李值班", note="重复", now=T0 + 6 * M)
    a6, o6 = store.raise_or_update(det(district="140405", industry="食品"), T0 + 7 * M)
    assert o6 == "grouped" and store.get(a6)["group_lead"] == a2
    assert {g["group"]: g["lead"] for g in store.groups(now=T0 + 8 * M)}["140400:食品"] == a2
    assert {g["group"]: g["open"] for g in store.groups(now=T0 + 8 * M)}["140400:食品"] == 3
    assert {g["group"]: g["open"] for g in store.groups(open_only=False, now=T0 + 8 * M)}["140400:食品"] == 3
    assert len({g["group"]: g for g in store.groups(open_only=False, now=T0 + 8 * M)}["140400:食品"]["alerts"]) == 4


# -- cooldown ------------------------------------------------------------------------------------

def test_cooldown_after_close_and_false_alarm(store):
    aid, _ = store.raise_or_update(det(), T0)
    store.act(aid, "dispatch", "李值班", team="产品质量快反分队", now=T0 + 5 * M)
    store.act(aid, "close", "李值班", now=T0 + H)
    nxt = det(since="2025-03-15T12:00:00+08:00")
    assert store.raise_or_update(nxt, T0 + H + 5 * H + 59 * M) == (None, "cooldown")
    # replaying the closed episode never reopens it, however late
    assert store.raise_or_update(det(), T0 + 30 * H) == (None, "cooldown")
    new_id, outcome = store.raise_or_update(nxt, T0 + H + 6 * H)
    assert outcome == "new" and new_id == alert_id(nxt["series"], nxt["since"]) != aid
    # other series are not held back
    assert store.raise_or_update(det(industry="食品"), T0 + 2 * H)[1] == "new"
    other, _ = store.raise_or_update(det(district="140404"), T0)
    store.act(other, "false_alarm", "李值班", note="测试数据", now=T0 + M)
    assert store.raise_or_update(det(district="140404", since="2025-03-15T11:00:00+08:00"), T0 + 2 * H) == (None, "cooldown")


# -- silences ------------------------------------------------------------------------------------

def test_city_silence_covers_its_counties_not_others(store, stack):
    sid = store.add_silence(district="140400", until=T0 + 2 * H, reason="上党区美食节，预期投诉增多", by="王科长", now=T0)
    assert store.is_silenced(det(district="140404"), T0)["id"] == sid
    assert store.raise_or_update(det(district="140404"), T0) == (None, "silenced")
    assert store.raise_or_update(det(district="140404"), T0 + M) == (None, "silenced")     # replay: counted once
    assert store.raise_or_update(det(district="140400", level="city"), T0)[1] == "silenced"
    assert store.silenced_stats() == {"total": 2, sid: 2}
    assert stack["redis"].hget("cc:alerts:silenced", "total") == "2"
    assert store.raise_or_update(det(district="140105"), T0)[1] == "new"                     # 太原 not covered
    assert store.raise_or_update(det(district="140000", level="province"), T0)[1] == "new"   # the province is above it
    assert store.list() and all(a["city"] != "140400" for a in store.list())


def test_silence_by_province_industry_and_level(store):
    store.add_silence(district="140000", industry="旅游", until=T0 + H, reason="国庆", by="王科长", now=T0)
    assert store.raise_or_update(det(district="140105", industry="旅游"), T0)[1] == "silenced"
    assert store.raise_or_update(det(district="140105", industry="食品"), T0)[1] == "new"
    assert store.raise_or_update(det(district="410102", industry="旅游"), T0)[1] == "new"     # 河南
    store.add_silence(level="county", until=T0 + H, reason="只看市级", by="王科长", now=T0)
    assert store.raise_or_update(det(district="410102", industry="汽车"), T0)[1] == "silenced"
    assert store.raise_or_update(det(district="410100", level="city", industry="汽车"), T0)[1] == "new"


def test_county_silence_does_not_cover_its_city():
    assert district_covers("140404", "140404") and district_covers("140400", "140404")
    assert district_covers("140000", "140404") and district_covers("140000", "140400")
    assert not district_covers("140404", "140400") and not district_covers("140400", "140105")
    assert district_covers("420000", "429004")         # 仙桃, a county directly under Hubei


def test_expired_future_and_removed_silences_do_not_apply(store):
    old = store.add_silence(district="140400", until=T0 + 30 * M, reason="临时", by="王科长", now=T0)
    assert store.is_silenced(det(), T0 + 29 * M)["id"] == old
    assert store.is_silenced(det(), T0 + 30 * M) is None
    assert store.raise_or_update(det(), T0 + 31 * M)[1] == "new"
    later = store.add_silence(district="140404", start=T0 + H, until=T0 + 3 * H, reason="夜市", by="王科长", now=T0)
    assert store.is_silenced(det(district="140404"), T0 + 59 * M) is None
    assert store.is_silenced(det(district="140404"), T0 + H)["id"] == later
    assert [s["id"] for s in store.silences(T0 + 2 * H)] == [later]
    assert {s["id"] for s in store.silences(T0 + 2 * H, active_only=False)} == {old, later}
    assert store.remove_silence(later, "王科长", now=T0 + 90 * M) is True
    assert store.remove_silence(later, "王科长") is False and store.remove_silence("s-nope", "王科长") is False
    assert store.is_silenced(det(district="140404"), T0 + 2 * H) is None
    s = next(s for s in store.silences(T0, active_only=False) if s["id"] == later)
    assert s["removed_by"] == "王科长" and s["reason"] == "夜市" and s["by"] == "王科长" and s["district_name"] == "上党区"


def test_open_alert_keeps_updating_under_a_silence_but_does_not_escalate(store):
    aid, _ = store.raise_or_update(det(score=4.0), T0)
    store.add_silence(district="140403", until=T0 + 5 * H, reason="已知情况", by="王科长", now=T0 + M)
    assert store.raise_or_update(det(at="2025-03-15T11:00:00+08:00", score=9.0), T0 + H) == (aid, "updated")
    assert store.get(aid)["score"] == 9.0 and store.get(aid)["notified_score"] == 4.0


@pytest.mark.parametrize("kw,msg", [
    ({"until": T0 - M}, "not in the future"),
    ({"until": None}, "until is required"),
    ({"reason": " "}, "a reason is required"),
    ({"by": ""}, "'by'"),
    ({"district": "149999"}, "not a known 6-digit division code"),
    ({"level": "town"}, "level 'town'"),
    ({"district": None}, "give at least one of district, industry, level"),
    ({"start": T0 + 3 * H}, "start must be before until"),
])
def test_silence_arguments_are_checked(store, kw, msg):
    args = {"district": "140400", "until": T0 + 2 * H, "reason": "活动", "by": "王科长", "now": T0}
    args.update(kw)
    with pytest.raises(ValueError, match=msg):
        store.add_silence(**args)


# -- actions -------------------------------------------------------------------------------------

def test_act_full_flow_and_audit_trail(store):
    aid, _ = store.raise_or_update(det(), T0)
    store.act(aid, "ack", "李值班", now=T0 + 2 * M)
    store.act(aid, "dispatch", "李值班", team="产品质量快反分队", note="联系商场 13812345678", now=T0 + 5 * M)
    store.act(aid, "respond", "张队长", now=T0 + 20 * M)
    store.act(aid, "onsite", "张队长", now=T0 + 60 * M)
    a = store.act(aid, "close", "张队长", note="商家同意退换", now=T0 + 5 * H)
    assert a == store.get(aid) and a["state"] == "closed" and a["team"] == "产品质量快反分队"
    h = store.history(aid)
    assert [(e["action"], e["by"]) for e in h] == [("raised", "system"), ("ack", "李值班"), ("dispatch", "李值班"),
                                                   ("respond", "张队长"), ("onsite", "张队长"), ("close", "张队长")]
    assert h[2]["team"] == "产品质量快反分队" and h[2]["at"] == iso(T0 + 5 * M)
    assert h[2]["note"] == "联系商场 138****5678"                          # notes are masked too
    assert h[5]["note"] == "商家同意退换" and h[5]["from"] == "on_site" and h[5]["to"] == "closed"
    assert store.list("open") == [] and [x["id"] for x in store.list("closed")] == [aid]
    assert store.list(["closed"]) == store.list("closed")


def test_act_refusals(store):
    aid, _ = store.raise_or_update(det(), T0)
    with pytest.raises(KeyError, match="a-doesnotexist"):
        store.act("a-doesnotexist", "ack", "李值班", now=T0)
    with pytest.raises(LifecycleError, match="unknown team '夜班小组'"):
        store.act(aid, "dispatch", "李值班", team="夜班小组", now=T0)
    with pytest.raises(LifecycleError, match="cannot close: alert is new"):
        store.act(aid, "close", "李值班", now=T0)
    assert store.get(aid)["state"] == "new" and len(store.history(aid)) == 1


def test_concurrent_conflicting_actions_apply_once(store):
    aid, _ = store.raise_or_update(det(), T0)
    store.act(aid, "dispatch", "李值班", team="产品质量快反分队", now=T0 + M)
    out = run_threads(8, lambda i: store.act(aid, "close" if i % 2 else "false_alarm", f"官员{i}", note="并发",
                                             now=T0 + 10 * M))
    ok = [o for o in out if isinstance(o, dict)]
    refused = [o for o in out if isinstance(o, LifecycleError)]
    assert len(ok) == 1 and len(refused) == 7, out
    assert store.get(aid)["state"] == ok[0]["state"] in ("closed", "false_alarm")
    h = store.history(aid)
    assert [e["action"] for e in h[:2]] == ["raised", "dispatch"] and len(h) == 3 and h[2]["to"] == ok[0]["state"]
    assert h[2]["by"] == ok[0][f"{ok[0]['state']}_by"]
    out = run_threads(4, lambda i: store.raise_or_update(det(), T0 + 20 * M))
    assert all(o == (None, "cooldown") for o in out)


# -- lists -------------------------------------------------------------------------------------

def test_list_selections(store):
    a1, _ = store.raise_or_update(det(district="140403", score=3.0), T0)
    a2, _ = store.raise_or_update(det(district="140404", score=9.0), T0 + 10 * M)
    a3, _ = store.raise_or_update(det(district="140105", score=5.0), T0 + 20 * M)
    store.act(a3, "false_alarm", "李值班", note="误报", now=T0 + 21 * M)
    # at T0+16m a1's dispatch clock is overdue: it leads although its score is lowest
    assert [a["id"] for a in store.list("open", now=T0 + 16 * M)] == [a1, a2]
    assert [a["id"] for a in store.list(now=T0 + 30 * M)] == [a3, a2, a1]              # newest first
    assert [a["id"] for a in store.list(since=T0 + 5 * M)] == [a3, a2]
    assert [a["id"] for a in store.list("open", since=T0 + 5 * M)] == [a2]
    assert [a["id"] for a in store.list(["false_alarm", "new"], limit=2)] == [a3, a2]
    assert [a["id"] for a in store.list("closed")] == [a3]
    with pytest.raises(ValueError, match="unknown alert state"):
        store.list(["reopened"])
    assert store.get("a-nope") is None and store.history("a-nope") == []


# -- SLA notices -------------------------------------------------------------------------------

def test_pending_notices_and_mark_sent_once(store):
    aid, _ = store.raise_or_update(det(), T0)
    assert store.pending_notices(T0 + 7 * M) == []
    [(a, n)] = store.pending_notices(T0 + 8 * M)
    assert a["id"] == aid and n["key"] == "dispatch:reminder" and n["event"] == "reminder"
    assert store.mark_notice_sent(aid, "dispatch:reminder") is True
    assert store.mark_notice_sent(aid, "dispatch:reminder") is False
    assert store.pending_notices(T0 + 9 * M) == []
    assert [n["key"] for _, n in store.pending_notices(T0 + 13 * M)] == ["dispatch:urging"]
    out = run_threads(8, lambda i: store.mark_notice_sent(aid, "dispatch:urging"))
    assert sorted(out) == [False] * 7 + [True]
    store.act(aid, "dispatch", "李值班", team="产品质量快反分队", now=T0 + 14 * M)
    assert [n["key"] for _, n in store.pending_notices(T0 + 14 * M + 23 * M)] == ["respond:reminder"]
    store.act(aid, "close", "李值班", now=T0 + 40 * M)
    assert store.pending_notices(T0 + 30 * H) == []


def test_pending_notices_most_urgent_first(store):
    a1, _ = store.raise_or_update(det(district="140403"), T0)
    a2, _ = store.raise_or_update(det(district="140105"), T0 - 10 * M)
    got = [(a["id"], n["key"]) for a, n in store.pending_notices(T0 + 8 * M)]
    assert got == [(a2, "dispatch:overdue"), (a1, "dispatch:reminder")]


# -- deliveries --------------------------------------------------------------------------------

def test_deliveries_and_failure_counts(store):
    aid, _ = store.raise_or_update(det(), T0)
    store.record_delivery(aid, "new", "wecom", True, 1, now=T0)
    e = store.record_delivery(aid, "new", "sms", False, 3, "gateway refused 13812345678", now=T0 + M)
    store.record_delivery(aid, "dispatch:reminder", "sms", False, 1, "timeout", now=T0 + 8 * M)
    assert e["error"] == "gateway refused 138****5678" and e["ok"] is False and e["attempts"] == 3
    d = store.deliveries(aid)
    assert [(x["event"], x["channel"], x["ok"]) for x in d] == [("new", "wecom", True), ("new", "sms", False),
                                                               ("dispatch:reminder", "sms", False)]
    assert store.delivery_failures() == {"total": 2, "sms": 2}
    with pytest.raises(KeyError, match="a-nope"):
        store.record_delivery("a-nope", "new", "sms", True, 1)


# -- durability --------------------------------------------------------------------------------

def test_everything_is_read_back_by_a_new_store(store, stack):
    aid, _ = store.raise_or_update(det(), T0)
    store.act(aid, "dispatch", "李值班", team="产品质量快反分队", now=T0 + 5 * M)
    sid = store.add_silence(district="140100", until=T0 + 3 * H, reason="展会", by="王科长", now=T0)
    store.mark_notice_sent(aid, "respond:reminder")
    store.record_delivery(aid, "new", "sms", False, 2, "timeout", now=T0)
    url = stack["env"]["REDIS_URL"]
    other = AlertStore(redis.Redis.from_url(url, decode_responses=True), default_alert_config())
    assert other.get(aid) == store.get(aid) and other.history(aid) == store.history(aid)
    assert other.raise_or_update(det(), T0 + H) == (aid, "updated")
    assert other.is_silenced(det(district="140105"), T0 + H)["id"] == sid
    assert other.mark_notice_sent(aid, "respond:reminder") is False
    assert other.deliveries(aid) == store.deliveries(aid) and other.delivery_failures() == {"total": 1, "sms": 1}


def test_survives_a_redis_restart(tmp_path):
    from streams.services import EmbeddedRedis, free_port

    srv = EmbeddedRedis(free_port(), tmp_path, appendfsync="always").start()
    try:
        r = srv.client(decode_responses=True)
        s = AlertStore(r)
        aid, _ = s.raise_or_update(det(), T0)
        s.act(aid, "ack", "李值班", now=T0 + M)
        sid = s.add_silence(district="140100", until=T0 + 3 * H, reason="展会", by="王科长", now=T0)
        s.mark_notice_sent(aid, "dispatch:reminder")
        before = {k: r.dump(k) for k in r.scan_iter("cc:*")}
        r.close()
        srv.stop(kill=True)                           # no clean shutdown: the AOF alone must hold it
        srv = EmbeddedRedis(srv.port, tmp_path, appendfsync="always").start()
        r = srv.client(decode_responses=True)
        s = AlertStore(r)
        assert {k: r.dump(k) for k in r.scan_iter("cc:*")} == before
        assert s.get(aid)["state"] == "acknowledged" and [e["action"] for e in s.history(aid)] == ["raised", "ack"]
        assert s.raise_or_update(det(), T0 + H) == (aid, "updated")
        assert s.is_silenced(det(district="140105"), T0 + H)["id"] == sid
        assert s.mark_notice_sent(aid, "dispatch:reminder") is False
        r.close()
    finally:
        srv.stop()


def test_key_scheme(store, stack):
    aid, _ = store.raise_or_update(det(), T0)
    store.add_silence(district="140100", until=T0 + H, reason="展会", by="王科长", now=T0)
    store.raise_or_update(det(district="140105"), T0)
    store.mark_notice_sent(aid, "dispatch:reminder")
    store.record_delivery(aid, "new", "sms", False, 1, "x", now=T0)
    keys = set(stack["redis"].keys("*"))
    assert all(k.startswith(("cc:alert:", "cc:alerts:", "cc:silence")) for k in keys), keys
    assert {f"cc:alert:{aid}", f"cc:alert:{aid}:log", f"cc:alert:{aid}:sent", f"cc:alert:{aid}:deliveries",
            "cc:alerts:all", "cc:alerts:open", "cc:alerts:series:county:140403:产品质量",
            "cc:alerts:group:140400:产品质量", "cc:alerts:silenced", "cc:alerts:delivery_failures",
            "cc:silences"} <= keys
    assert json.loads(stack["redis"].get(f"cc:alert:{aid}"))["id"] == aid
