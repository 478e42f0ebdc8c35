"""Case handling end to end: real broker, redis-server, worker and API."""
import asyncio

import httpx
import orjson

from tests.conftest import consume_all, start_worker, wait_until

R = "2026-09-29T10:00:00+08:00"       # a Tuesday: 7 working days run out at 2026-10-15 00:00 (National Day)


def complaint(cid, kind="投诉", district="140403", industry="食品", when=R):
    return {"id": cid, "received_at": when, "channel": "12315", "kind": kind, "district": district,
            "industry": industry, "text": f"{cid}：买的东西有质量问题，商家拒绝退换",
            "contact": {"name": "李四", "phone": "13912345678"}}


def ev(eid, cid, event, at, **kw):
    return {"id": eid, "complaint_id": cid, "event": event, "at": at, **kw}


COMPLAINTS = [complaint("A"), complaint("B"), complaint("C"), complaint("E"), complaint("R", kind="举报", industry="价格"),
              complaint("X", district="140105"), complaint("Q", kind="咨询")]
EVENTS = [
    ev("A1", "A", "受理", "2026-10-10T09:00:00+08:00", unit="潞州区市场监管局"),   # the make-up Saturday: on time
    ev("A2", "A", "办结", "2026-10-16T09:00:00+08:00", outcome="调解成功", recovered_yuan=6000),
    ev("A3", "A", "回访", "2026-10-17T09:00:00+08:00", satisfaction="满意"),
    ev("B1", "B", "accept", "2026-10-14T23:00:00+08:00"),                           # an hour before 24:00: on time
    ev("B2", "B", "close", "2026-10-19T09:00:00+08:00", outcome="self_settled", recovered_yuan="150.5"),
    ev("B3", "B", "visit", "2026-10-19T10:00:00+08:00", satisfaction="unsatisfied"),
    ev("C1", "C", "accept", "2026-10-15T08:00:00+08:00"),                           # 8 hours late
    ev("C2", "C", "close", "2026-10-16T08:00:00+08:00", outcome="failed"),
    ev("R1", "R", "分流", "2026-09-29T12:00:00+08:00", unit="价格监督检查科"),
    ev("R2", "R", "立案", "2026-10-26T15:00:00+08:00"),                              # 15 working days: by 10-27 00:00
    ev("X1", "X", "accept", "2026-09-30T09:00:00+08:00"),
]
HELD = [ev("H1", "H", "accept", "2026-10-09T10:00:00+08:00"),
        ev("H2", "H", "close", "2026-10-20T10:00:00+08:00", outcome="mediated", recovered_yuan=100)]


def stats(r) -> dict:
    return {k: int(v) for k, v in r.hgetall("cc:cases:stats").items()}


def post(api, path, body):
    return httpx.post(api + path, json=body, headers=api.headers, timeout=30)


def kpis(api, **q):
    res = httpx.get(api + "/api/v1/kpis", params={"since": "2026-09-01", "until": "2026-10-01", **q},
                    headers=api.headers, timeout=30)
    assert res.status_code == 200, res.text
    return res.json()


def test_known_histories_give_exact_figures_and_events_count_once(stack, procs, api):
    start_worker(procs, stack)
    r = stack["redis"]
    # events for H arrive before H: held, then applied when H comes
    res = post(api, "/api/v1/case-events", HELD)
    assert res.status_code == 202, res.text
    assert res.json()["waiting"] == ["H1", "H2"]
    wait_until(lambda: stats(r).get("held") == 2, 30, "two events held")
    assert post(api, "/api/v1/complaints", COMPLAINTS + [complaint("H")]).status_code == 202
    wait_until(lambda: stats(r).get("opened") == 7, 30, "7 cases opened (the enquiry gets none)")
    wait_until(lambda: stats(r).get("released") == 2, 30, "the held events released")
    assert post(api, "/api/v1/case-events", EVENTS).status_code == 202
    wait_until(lambda: stats(r).get("applied") == len(EVENTS), 30, "the events applied")

    k = kpis(api, level="city", code="140400")
    assert {key: k[key] for key in ("on_time_first_check", "on_time_closing", "response_24h", "mediation_success",
                                    "self_settlement", "satisfaction")} == {
        "on_time_first_check": {"value": 0.6667, "numerator": 4, "denominator": 6},   # C and E late
        "on_time_closing": {"value": 1.0, "numerator": 4, "denominator": 4},
        "response_24h": {"value": 0.1667, "numerator": 1, "denominator": 6},          # only R routed within 24 h
        "mediation_success": {"value": 0.5, "numerator": 2, "denominator": 4},
        "self_settlement": {"value": 0.25, "numerator": 1, "denominator": 4},
        "satisfaction": {"value": 0.5, "numerator": 1, "denominator": 2},
    }
    assert (k["recovered_yuan"], k["open"], k["due_soon"], k["overdue"]) == (6250.5, 1, 0, 1)
    food = kpis(api, level="county", code="140403", industry="食品")               # R (价格) and X (太原) out
    assert food["on_time_first_check"] == {"value": 0.6, "numerator": 3, "denominator": 5}
    prov = kpis(api, level="province", code="140000")
    assert prov["on_time_first_check"]["denominator"] == 7 and prov["response_24h"]["numerator"] == 2
    empty = kpis(api, level="city", code="140400", since="2026-11-01", until="2026-11-02")
    assert empty["mediation_success"] == {"value": None, "numerator": 0, "denominator": 0}

    # the same events again: refused by the API, and (sent past it) dead-lettered by the worker; nothing changes
    again = post(api, "/api/v1/case-events", EVENTS[:2])
    assert again.status_code == 409 and len(again.json()["duplicates"]) == 2

    async def resend():
        from streams.cases.api import publish_events
        from streams.cases.events import validate_event
        from streams.intake import Intake
        async with Intake(stack["settings"], source="test") as it:
            await publish_events(it, [validate_event(e, 2e9, stack["settings"].tz)[0] for e in EVENTS[:3]])
    asyncio.run(resend())
    # 2 refused by the API and 3 by the worker, each dead-lettered once
    wait_until(lambda: int(r.hget("cc:rejects", "duplicate_id") or 0) == 5, 30, "5 duplicates dead-lettered")
    assert kpis(api, level="city", code="140400") | {"as_of": None} == k | {"as_of": None}
    assert stats(r)["applied"] == len(EVENTS)
    # a new event changes the figures at once (the reader's per-day cache follows each change)
    assert post(api, "/api/v1/case-events", [ev("C3", "C", "回访", "2026-10-17T09:00:00+08:00",
                                                satisfaction="基本满意")]).status_code == 202
    wait_until(lambda: kpis(api, level="city", code="140400")["satisfaction"] ==
               {"value": 0.6667, "numerator": 2, "denominator": 3}, 30, "the callback counted")


def test_bad_events_are_422_dead_lettered_and_counted_and_need_the_submit_scope(stack, procs, api):
    start_worker(procs, stack)
    r = stack["redis"]
    bad = [ev("Z1", "A", "close", "2026-10-16T09:00:00+08:00"),                      # no outcome
           ev("Z2", "A", "visit", "2026-10-16T09:00:00+08:00", satisfaction="马马虎虎"),
           {"id": "Z3", "complaint_id": "A", "event": "办结", "at": "yesterday", "outcome": "调解成功",
            "reason": "联系电话13912345678"}]
    res = post(api, "/api/v1/case-events", bad + [ev("ok", "A", "accept", "2026-10-10T09:00:00+08:00")])
    assert res.status_code == 422
    assert [(i["index"], i["errors"][0]["field"], i["errors"][0]["code"]) for i in res.json()["items"]] == [
        (0, "outcome", "missing"), (1, "satisfaction", "unknown"), (2, "at", "invalid")]
    wait_until(lambda: r.hgetall("cc:rejects") == {"outcome.missing": "1", "satisfaction.unknown": "1", "at.invalid": "1"},
               30, "three rejects counted by reason")
    dl = asyncio.run(consume_all(stack["settings"], stack["settings"].dead_letter_topic, 3))
    assert len(dl) == 3 and not any(b"13912345678" in m for m in dl)
    assert stats(r) == {}                                   # nothing accepted
    reader = api.token_headers("reader", "read")
    assert httpx.post(api + "/api/v1/case-events", json=bad[:1], headers=reader).status_code == 403
    assert httpx.get(api + "/api/v1/kpis", params={"level": "city", "code": "140400"}, headers=reader).status_code == 200
    assert httpx.get(api + "/api/v1/kpis", params={"level": "city", "code": "140403"}, headers=reader).status_code == 400
    submitter = api.token_headers("feeder", "submit")
    assert httpx.get(api + "/api/v1/kpis", params={"level": "city", "code": "140400"}, headers=submitter).status_code == 403
