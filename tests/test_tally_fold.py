"""The hot path writes minute buckets only; closed minutes are folded into hour, day and total.

Pure rules without Redis; the Lua steps against a real redis-server (the ``services`` fixture):
counts read through ``read_tallies`` are the same before and after any fold, a fold never
counts a minute twice (two workers folding at once), and a late complaint into a folded minute
lands in every window and bumps the version of every bucket it changed."""
import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import redis

from config import load_settings
from streams import keys
from streams.store import TallyWriter, read_tallies, redis_client
from streams.tally import covers, fold_upto, minute_of, minutes_between

TZ = ZoneInfo("Asia/Shanghai")


def ts(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=TZ).timestamp()


def test_pure_minute_rules():
    assert minute_of(ts("2026-12-04 23:59:30"), TZ) == "202612042359"
    assert minutes_between("202612042358", "202612050001", TZ) == ["202612042358", "202612042359", "202612050000"]
    assert minutes_between("202612042358", "202612050001", TZ, limit=2) == ["202612042358", "202612042359"]
    assert minutes_between("202612050001", "202612050001", TZ) == []
    # a minute is folded once it ended at least the grace period ago
    assert fold_upto(ts("2026-12-04 10:05:00"), TZ, 300) == "202612041000"
    assert fold_upto(ts("2026-12-04 10:05:59"), TZ, 300) == "202612041000"
    assert fold_upto(ts("2026-12-04 10:06:00"), TZ, 300) == "202612041001"
    assert covers("h", "2026120410", "202612041059") and not covers("h", "2026120410", "202612041100")
    assert covers("d", "20261204", "202612042359") and not covers("d", "20261204", "202612050000")
    assert covers("all", "all", "202001010000") and not covers("m", "202612041000", "202612041000")


def rec(i: int, when: float, district: str = "140105", province: str = "140000") -> dict:
    return {"id": f"f{i}", "ts": when, "province": province, "district": district, "industry": "食品",
            "kind": "投诉", "channel": "12315"}


def test_fold_keeps_every_read_exact_and_is_idempotent(services):
    url = services["redis"].url(3)
    r = redis.Redis.from_url(url, decode_responses=True)
    r.flushdb()
    settings = load_settings({"REDIS_URL": url})
    now = ts("2026-12-04 10:30:10")
    times = [ts("2026-12-04 09:58:20"), ts("2026-12-04 10:01:00"), ts("2026-12-04 10:01:59"),
             ts("2026-12-04 10:27:00"), ts("2026-12-04 10:29:50")]

    def read(at):
        got = read_tallies(r, "140000", [("h", "2026120409"), ("h", "2026120410"), ("d", "20261204"),
                                         ("all", "all"), ("m", "202612041001")], TZ, now=at)
        return [sum(int(v) for v in f.values()) for f in got]

    async def run():
        w = TallyWriter(settings, redis_client(url, asyncio=True))
        w2 = TallyWriter(settings, redis_client(url, asyncio=True))
        out = await w.write_batch("t/0/1", [(i, rec(i, t)) for i, t in enumerate(times)], now=now)
        assert out["new"] == 5
        # a province's first batch puts the watermark where a fold now would (past the grace):
        # the three complaints before it went into every window, the two after it into their minute only
        assert r.hget(keys.fold("140000"), "upto") == fold_upto(now, TZ, 300) == "202612041025"
        assert sum(map(int, r.hgetall(keys.tally("h", "2026120410", "140000")).values())) == 2
        assert sum(map(int, r.hgetall(keys.tally("all", "all", "140000")).values())) == 3
        assert r.ttl(keys.tally("m", "202612041001", "140000")) > 0          # past the watermark: kept keep_minute_hours
        assert r.ttl(keys.tally("m", "202612041027", "140000")) == -1        # open: no TTL until it is folded
        assert read(now) == [1, 4, 5, 5, 2]
        # two workers fold at once, later: each open minute is folded once
        later = now + 3600
        a, b = await asyncio.gather(w.fold("140000", later), w2.fold("140000", later))
        assert a + b == 2
        assert r.hget(keys.fold("140000"), "upto") == fold_upto(later, TZ, 300)
        assert r.ttl(keys.tally("m", "202612041027", "140000")) > 0
        assert sum(map(int, r.hgetall(keys.tally("h", "2026120410", "140000")).values())) == 4
        assert sum(map(int, r.hgetall(keys.tally("all", "all", "140000")).values())) == 5
        assert read(later) == [1, 4, 5, 5, 2]
        assert await w.fold("140000", later) == 0 and read(later) == [1, 4, 5, 5, 2]
        # reads never move while minutes fold: a fold between watermark and buckets is one MULTI away
        more = [(i, rec(100 + i, later - 30)) for i in range(3)]
        await w.write_batch("t/0/5", more, now=later)
        assert read(later) == [1, 4, 8, 8, 2]
        assert await w.fold("140000", later + 400) == 1 and read(later + 400) == [1, 4, 8, 8, 2]
        # a late complaint into a folded minute: every window, and a version for each bucket it changed
        v0 = r.hgetall(keys.tally_versions("140000"))
        out = await w.write_batch("t/0/2", [(0, rec(99, ts("2026-12-04 10:01:30")))], now=later)
        assert out["new"] == 1
        assert read(later) == [1, 5, 9, 9, 3]
        assert sum(map(int, r.hgetall(keys.tally("h", "2026120410", "140000")).values())) == 5
        v1 = r.hgetall(keys.tally_versions("140000"))
        for f in ("m:202612041001", "h:2026120410", "d:20261204"):
            assert int(v1[f]) == int(v0.get(f, 0)) + 1, f
        assert await w.fold("140000", later) == 0 and read(later) == [1, 5, 9, 9, 3]
        # a redelivery changes nothing
        again = await w.write_batch("t/0/2", [(0, rec(99, ts("2026-12-04 10:01:30")))], now=later)
        assert again == {"new": 0, "redelivered": 1, "duplicates": []}
        assert read(later) == [1, 5, 9, 9, 3]
        await w.close()
        await w2.close()

    asyncio.run(run())
    r.close()


def test_the_worker_folds_closed_minutes_and_reads_do_not_move(stack, procs, tmp_path):
    """A real worker (grace 5 s): complaints of this minute are counted in their minute only, then
    its fold timer moves them into hour, day and total once the minute is over; the read
    model's counts are the same before and after."""
    import time as _time

    from config import load_settings as _load
    from streams.readmodel import ReadModel
    from tests.conftest import make_complaints, publish_raw, start_worker, wait_until

    (tmp_path / "grace.yaml").write_text("tally:\n  grace_seconds: 5\n", encoding="utf-8")
    stack["env"]["SETTINGS_FILE"] = str(tmp_path / "grace.yaml")
    settings = _load(stack["env"])
    r = stack["redis"]
    start_worker(procs, stack)
    if _time.time() % 60 > 50:                          # not at the very end of a minute
        _time.sleep(61 - _time.time() % 60)
    now = _time.time()
    local = _time.strftime("%Y-%m-%dT%H:%M:%S+08:00", _time.gmtime(now + 8 * 3600))
    asyncio.run(publish_raw(settings, make_complaints(40, prefix="fold", district_pool=["140105"], when=local)))
    wait_until(lambda: int(r.hget(keys.STATS, "accepted") or 0) == 40, 60, "40 tallied")
    total_key = keys.tally("all", "all", "140000")
    assert sum(map(int, r.hgetall(total_key).values())) == 0      # the minute is open: written alone
    read = ReadModel(settings, r)
    hour = datetime.fromtimestamp(now, TZ).strftime("%Y-%m-%dT%H:00:00")

    def counts():
        return (read.total("province", "140000"),
                read.counts("county", "140105", "hour", hour, hour[:11] + "23:59:59")[0]["count"],
                sum(x["count"] for x in read.counts("province", "140000", "day")))
    before = counts()
    assert before == (40, 40, 40)
    wait_until(lambda: sum(map(int, r.hgetall(total_key).values())) == 40, 120, "the worker's fold timer")
    assert r.hget(keys.fold("140000"), "upto") > datetime.fromtimestamp(now, TZ).strftime("%Y%m%d%H%M")
    assert counts() == before
