"""Late complaints (an import of a past export, a replay, a backlog) reach every screen: a bucket
the dashboard has read as closed and cached is re-read once a late complaint writes into it."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import redis

from streams import keys
from streams.counts import Tallies
from tests.conftest import make_complaints, publish_raw, start_worker, wait_until


def test_an_hour_the_wall_read_as_closed_shows_late_complaints(stack, procs):
    S = stack["settings"]
    start_worker(procs, stack)
    r = redis.Redis.from_url(stack["env"]["REDIS_URL"])
    hour = (datetime.now(S.tz) - timedelta(hours=6)).replace(minute=0, second=0, microsecond=0)
    when = (hour + timedelta(minutes=10)).isoformat()
    pool = ["140105"]

    def tallied() -> int:
        return int(r.hget(keys.STATS, "accepted") or 0)

    asyncio.run(publish_raw(S, make_complaints(40, prefix="late-a-", district_pool=pool, when=when)))
    wait_until(lambda: tallied() >= 40, 60, "the first complaints to be tallied")
    tallies = Tallies(S, r)
    tallies.VERSIONS_EVERY = 0.0          # check on every read (the wall's default is once a second)

    def shown() -> int:
        return dict(tallies.series("h", hour, hour + timedelta(hours=1)))[hour]

    assert shown() == 40
    reads = tallies.reads
    assert shown() == 40 and tallies.reads == reads, "a closed hour is cached, not read again"

    asyncio.run(publish_raw(S, make_complaints(25, prefix="late-b-", district_pool=pool, when=when)))
    wait_until(lambda: tallied() >= 65, 60, "the late complaints to be tallied")
    assert r.hget(keys.tally_versions("140000"), f"h:{hour:%Y%m%d%H}") is not None
    assert shown() == 65, "the late complaints reach the cached hour"
    reads = tallies.reads
    assert shown() == 65 and tallies.reads == reads, "and the hour is cached again"
    # the day's total and the hour's other windows follow too
    day = hour.replace(hour=0)
    assert sum(tallies.total("h", hour, hour + timedelta(hours=1)).values()) == 65
    assert sum(tallies.buckets("d", [day])[0].values()) >= 65
