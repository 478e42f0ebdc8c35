"""The rising phrases of a window ending now (GET /api/v1/wall's ``rising``, the wall's phrase
list) are counted once and answered from cache until a document joins one of the window's hours
or the window has slid on (streams/readmodel.py); a late complaint is in the very next answer.

A real broker, redis-server and faust worker write the topic documents, as in production.
"""
from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

from streams import keys
from streams.readmodel import ReadModel
from streams.wallview import rising_rows
from tests.conftest import make_complaints, publish_raw, start_worker, wait_until


def _tallied(r, n: int) -> None:
    wait_until(lambda: int(r.hget(keys.STATS, "accepted") or 0) >= n, 60, f"{n} complaints tallied")


def test_repeated_calls_are_answered_from_cache_and_a_late_complaint_shows_in_the_next(stack, procs, monkeypatch):
    import streams.readmodel as readmodel
    import streams.topicmodel as topicmodel

    S, r = stack["settings"], stack["redis"]
    start_worker(procs, stack)
    now = datetime.now(S.tz)
    asyncio.run(publish_raw(S, make_complaints(12, prefix="tc-a-", when=(now - timedelta(minutes=5)).isoformat())))
    _tallied(r, 12)

    counted = []
    real = topicmodel.count_topics

    def counting(*a, **kw):
        counted.append(1)
        return real(*a, **kw)
    monkeypatch.setattr(topicmodel, "count_topics", counting)

    read = ReadModel(S, r)
    first = wait_until(lambda: (t := read.topics("province", "140000", "hour", None, None, 20))["docs"] == 12 and t,
                       20, "the 12 documents in the hour's topics")
    runs, calls = read.topic_runs, len(counted)
    assert calls > 0
    # the wall's refresh and repeated API calls: nothing counted again, the same answer
    for _ in range(5):
        again = read.topics("province", "140000", "hour", None, None, 20)
    assert read.topic_runs == runs and len(counted) == calls
    assert again == first and rising_rows(again) == rising_rows(first)
    # another selection is its own entry
    county = read.topics("county", "140105", "hour", None, None, 20)
    assert read.topic_runs == runs + 1 and county["docs"] < 12

    # a late complaint (event time 40 minutes back, inside the window): in the next answer
    late_at = now - timedelta(minutes=40)
    hour_lists = [keys.docs(f"{h:%Y%m%d%H}", "140000") for h in {late_at.replace(minute=0, second=0, microsecond=0),
                                                               now.replace(minute=0, second=0, microsecond=0)}]
    written = sum(r.llen(k) for k in hour_lists)
    assert written == 12
    asyncio.run(publish_raw(S, make_complaints(3, prefix="tc-late-", when=late_at.isoformat())))
    _tallied(r, 15)
    wait_until(lambda: sum(r.llen(k) for k in hour_lists) == 15, 20, "the late documents written")
    assert read.topics("province", "140000", "hour", None, None, 20)["docs"] == 15     # the very next answer
    assert len(counted) > calls and read.topic_runs > runs + 1

    # with nothing written, the window still slides on: counted again after TOPICS_TTL_S
    runs = read.topic_runs
    monkeypatch.setattr(readmodel, "TOPICS_TTL_S", 0.2)
    read.topics("province", "140000", "hour", None, None, 20)
    time.sleep(0.3)
    read.topics("province", "140000", "hour", None, None, 20)
    assert read.topic_runs == runs + 1
    # a period of its own (the review's) is never served from this cache
    since, until = (now - timedelta(hours=1)).isoformat(), (now + timedelta(minutes=1)).isoformat()
    before = read.topic_runs
    read.topics("province", "140000", None, None, None, 20, since, until)
    read.topics("province", "140000", None, None, None, 20, since, until)
    assert read.topic_runs == before + 2
