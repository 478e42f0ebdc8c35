"""The worker's atomic case steps against a real redis-server: redelivery, duplicates, holding."""
import asyncio

import redis.asyncio as aioredis

from streams.cases.config import default_case_config
from streams.cases.events import validate_event
from streams.cases.store import CaseWriter, parse_case

REC = {"id": "K1", "ts": 1790000000.0, "district": "140403", "province": "140000", "industry": "食品", "kind": "投诉"}


def test_redelivery_is_skipped_a_duplicate_returned_and_early_events_held(stack):
    settings = stack["settings"]
    r = stack["redis"]
    ev = lambda i, e, **kw: validate_event({"id": i, "complaint_id": "K1", "event": e,  # noqa: E731
                                            "at": "2026-09-29T12:00:00+08:00", **kw}, 2e9, settings.tz)[0]

    async def go():
        client = aioredis.from_url(settings.redis_url, decode_responses=True)
        w = CaseWriter(settings, default_case_config(), client)
        try:
            early = await w.apply("t/0/5", [(0, ev("e1", "accept"))])          # before the complaint: held
            again = await w.apply("t/0/5", [(0, ev("e1", "accept"))])          # the same message redelivered
            dup = await w.apply("t/1/9", [(0, ev("e1", "accept")), (1, ev("e2", "route", unit="某所"))])
            opened = await w.open_cases([(0, REC)])
            reopened = await w.open_cases([(0, REC), (1, {**REC, "id": "Q", "kind": "咨询"})])
            return early, again, dup, opened, reopened
        finally:
            await client.aclose()

    early, again, dup, opened, reopened = asyncio.run(go())
    assert (early["held"], early["applied"]) == (1, 0)
    assert (again["redelivered"], again["held"], again["duplicates"]) == (1, 0, [])
    assert dup["duplicates"] == [(0, "t/0/5:0")] and dup["held"] == 1
    assert opened == (1, 2) and reopened == (0, 0)            # idempotent; an enquiry gets no case
    case = parse_case("K1", r.hgetall("cc:case:K1"))
    assert sorted(e["id"] for e in case["events"]) == ["e1", "e2"] and case["kind"] == "投诉"
    assert not r.exists("cc:case:Q") and not r.exists("cc:cases:held:K1") and r.zcard("cc:cases:held") == 0
    assert r.smembers("cc:cases:d:20260921:140000") == {"K1"}
    assert r.hgetall("cc:cases:stats") == {"held": "2", "redelivered": "1", "opened": "1", "released": "2"}


def test_cached_day_figures_follow_time_and_changes(stack):
    """The reader keeps a day's sums until a case changes or a deadline passes: the figures
    as of three moments, and after a new event, equal a fresh computation."""
    from datetime import datetime

    from streams.cases import read
    from streams.cases.deadlines import WorkCalendar
    from streams.cases.kpis import kpis as pure

    settings = stack["settings"]
    r = stack["redis"]
    tz = settings.tz
    t0 = datetime(2026, 9, 29, 10, tzinfo=tz).timestamp()          # accept deadline 2026-10-15 00:00
    cfg = default_case_config()
    at = lambda *a: datetime(*a, tzinfo=tz).timestamp()  # noqa: E731

    async def put(events=(), open_=True):
        client = aioredis.from_url(settings.redis_url, decode_responses=True)
        w = CaseWriter(settings, cfg, client)
        try:
            if open_:
                await w.open_cases([(0, {**REC, "id": "D1", "ts": t0}), (1, {**REC, "id": "D2", "ts": t0 + 60})])
            if events:
                await w.apply("t/0/1", list(enumerate(events)))
        finally:
            await client.aclose()

    asyncio.run(put())
    q = dict(level="city", code="140400", since="2026-09-29", until="2026-09-30")

    def both(now):
        got = read.kpis(r, settings, now=now, cfg=cfg, **q)
        cases = read.read_cases(r, settings, "city", "140400", datetime(2026, 9, 29, tzinfo=tz),
                                datetime(2026, 9, 30, tzinfo=tz))
        return {k: got[k] for k in pure([], cfg, WorkCalendar(tz), now)}, pure(cases, cfg, WorkCalendar(tz), now)

    for now in (at(2026, 10, 1, 9), at(2026, 10, 14, 9), at(2026, 10, 15, 1)):
        cached, fresh = both(now)
        assert cached == fresh
    assert (fresh["open"], fresh["overdue"], fresh["on_time_first_check"]["denominator"]) == (2, 2, 2)
    _, mid = both(at(2026, 10, 14, 9))
    assert (mid["due_soon"], mid["overdue"], mid["on_time_first_check"]["denominator"]) == (2, 0, 0)
    ev = validate_event({"id": "x1", "complaint_id": "D1", "event": "accept", "at": "2026-10-09T09:00:00+08:00"},
                        2e9, tz)[0]
    asyncio.run(put([ev], open_=False))
    cached, fresh = both(at(2026, 10, 15, 1))
    assert cached == fresh and fresh["on_time_first_check"] == {"value": 0.5, "numerator": 1, "denominator": 2}
