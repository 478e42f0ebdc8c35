"""The streaming core end to end, with the real Tansu broker, redis-server and faust workers."""
import asyncio
import threading
import time

import httpx
import orjson
import pytest

from streams.intake import Intake
from streams.readmodel import ReadModel
from streams.services import EmbeddedRedis, free_port
from tests.conftest import live_workers, make_complaints, publish_raw, start_worker, wait_until


def accepted(r) -> int:
    return int(r.hget("cc:stats", "accepted") or 0)


def rejects(r) -> dict:
    return {k: int(v) for k, v in r.hgetall("cc:rejects").items()}


def test_api_to_tallies_at_every_level_and_window(stack, procs, api):
    start_worker(procs, stack)
    pool = ["140403", "140404", "140105", "140400"]  # two 长治 counties, one 太原 county, 长治 itself
    batch = make_complaints(120, prefix="lvl", district_pool=pool)
    r = httpx.post(api + "/api/v1/complaints", json=batch, timeout=30, headers=api.headers)
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 120
    wait_until(lambda: accepted(stack["redis"]) == 120, 30, "120 tallied")

    def count(**q):
        res = httpx.get(api + "/api/v1/counts", params={"window": "day", **q}, timeout=10, headers=api.headers)
        assert res.status_code == 200, res.text
        return res.json()["total"]

    assert count(level="province", code="140000") == 120
    assert count(level="city", code="140400") == 90      # 140403 + 140404 + 140400 itself
    assert count(level="city", code="140100") == 30
    assert count(level="county", code="140403") == 30
    assert count(level="province", code="140000", industry="旅游") == 24
    assert count(level="province", code="140000", kind="咨询") == 40
    assert count(level="province", code="140000", channel="12345") == 40
    assert count(level="province", code="140000", window="hour") == 120
    assert count(level="province", code="140000", window="minute") == 120
    assert count(level="province", code="140000", window="total") == 120
    bad = httpx.get(api + "/api/v1/counts", params={"level": "city", "code": "140403"}, headers=api.headers)
    assert bad.status_code == 400 and "county" in bad.json()["error"]


def test_late_events_land_in_their_own_window(stack, procs, api):
    start_worker(procs, stack)
    read = ReadModel(stack["settings"], stack["redis"])
    now = time.time()
    local = lambda t: time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(t + 8 * 3600))  # noqa: E731
    within = make_complaints(3, prefix="g", district_pool=["140403"], when=local(now - 120))
    beyond = make_complaints(2, prefix="l", district_pool=["140403"], when="2024-10-01T10:15:00+08:00")
    assert httpx.post(api + "/api/v1/complaints", json=within + beyond, headers=api.headers).status_code == 202
    wait_until(lambda: accepted(stack["redis"]) == 5, 30, "5 tallied")
    old = read.counts("county", "140403", "hour", "2024-10-01T10:00:00", "2024-10-01T11:00:00")
    assert old[0]["count"] == 2  # a year late, still in its own hour
    assert int(stack["redis"].hget("cc:stats", "late_after_grace")) == 2  # the 2-minute-late ones are within grace
    recent = read.counts("county", "140403", "minute", local(now - 180), local(now + 60))
    assert sum(x["count"] for x in recent) == 3


def test_kill_9_mid_stream_then_restart_counts_each_complaint_once(stack, procs):
    n = 30_000
    w = start_worker(procs, stack)
    complaints = make_complaints(n, prefix="k")
    sender = threading.Thread(target=lambda: asyncio.run(
        publish_raw(stack["settings"], complaints, per_message=100, pace_s=0.01)))
    sender.start()
    r = stack["redis"]
    wait_until(lambda: accepted(r) > 3000, 60, "the worker to be part-way through")
    w.kill9()
    killed_at = accepted(r)
    assert killed_at < n, "the kill must land mid-stream"
    start_worker(procs, stack)
    sender.join(120)
    wait_until(lambda: accepted(r) >= n, 120, f"{n} tallied after restart")
    time.sleep(2)  # any straggling redelivery would show up now
    assert accepted(r) == n
    read = ReadModel(stack["settings"], r)
    assert read.total("province", "140000") == n
    assert rejects(r) == {}


def test_two_workers_share_partitions_and_count_exactly(stack, procs):
    n = 20_000
    start_worker(procs, stack)
    start_worker(procs, stack, wait=False)
    r = stack["redis"]
    topic = stack["settings"].complaints_topic
    wait_until(lambda: len(live_workers(r, topic)) == 2 and
               sum(len([p for p in w["partitions"] if p.startswith(topic + "/")]) for w in live_workers(r, topic)) == 4,
               60, "two workers splitting four partitions")
    asyncio.run(publish_raw(stack["settings"], make_complaints(n, prefix="two"), per_message=200))
    wait_until(lambda: accepted(r) >= n, 90, f"{n} tallied")
    time.sleep(2)
    assert accepted(r) == n
    assert ReadModel(stack["settings"], r).total("province", "140000") == n
    busy = [w for w in live_workers(r, topic) if w["complaints"] > 0]
    assert len(busy) == 2, "both workers did part of the work"


def test_redis_restart_keeps_tallies_from_the_append_only_file(stack, procs, tmp_path):
    own = EmbeddedRedis(free_port(), tmp_path / "own").start()
    env = dict(stack["env"], REDIS_URL=own.url(0))
    from config import load_settings
    import redis as redis_lib
    settings = load_settings(env)
    stack["env"].update(env)  # the worker started below uses this Redis
    r = own.client(decode_responses=True)
    try:
        start_worker(procs, {**stack, "redis": r})
        asyncio.run(publish_raw(settings, make_complaints(2000, prefix="aof")))
        wait_until(lambda: accepted(r) == 2000, 60, "2000 tallied")
        before = ReadModel(settings, r).counts("province", "140000", "day")
        own.stop()  # redis-server flushes its AOF on SIGTERM
        # the worker waits for Redis rather than losing what arrives meanwhile
        asyncio.run(publish_raw(settings, make_complaints(500, prefix="while-down")))
        time.sleep(1)
        own.start()
        r = own.client(decode_responses=True)
        read = ReadModel(settings, r)
        wait_until(lambda: accepted(r) == 2500, 60, "the 500 sent during the outage to be tallied")
        after = read.counts("province", "140000", "day")
        assert sum(x["count"] for x in after) == sum(x["count"] for x in before) + 500
        assert read.total("province", "140000") == 2500
    finally:
        own.stop()


def test_same_id_twice_is_counted_once(stack, procs, api):
    start_worker(procs, stack)
    r = stack["redis"]
    one = make_complaints(1, prefix="dup")
    assert httpx.post(api + "/api/v1/complaints", json=one, headers=api.headers).status_code == 202
    wait_until(lambda: accepted(r) == 1, 30, "the first copy tallied")
    again = httpx.post(api + "/api/v1/complaints", json=one, headers=api.headers)
    assert again.status_code == 409 and "already accepted" in again.text
    # behind the API's back, straight onto the topic: the worker's atomic dedup catches it
    asyncio.run(publish_raw(stack["settings"], one))
    asyncio.run(publish_raw(stack["settings"], make_complaints(2, prefix="pair", district_pool=["140403"], id="same")))
    wait_until(lambda: rejects(r).get("duplicate_id", 0) == 3, 30, "three duplicates dead-lettered")
    assert accepted(r) == 2
    assert int(r.hget("cc:stats", "duplicate")) == 3


BAD_BODIES = [
    (b'{"id": "x", "text": ', 400, "malformed_json", "not valid JSON"),
    (b'{"id": "x", "text": "\xb2\xbb\xba\xc3"}', 400, "not_utf8", "not valid UTF-8"),
]


def test_bad_input_is_explained_dead_lettered_counted_and_harmless(stack, procs, api):
    w = start_worker(procs, stack)
    r = stack["redis"]
    expected: dict[str, int] = {}
    for body, status, code, words in BAD_BODIES:
        res = httpx.post(api + "/api/v1/complaints", content=body, headers={**api.headers, "content-type": "application/json"})
        assert res.status_code == status and words in res.json()["error"]
        expected[code] = expected.get(code, 0) + 1
    cases = [({"district": "999999"}, "district.unknown", "999999"),
             ({"text": None}, "text.missing", "text is required"),
             ({"received_at": None}, "received_at.missing", "received_at is required"),
             ({"text": "很长" * 40000}, "text.too_long", "limit is 5000")]
    for i, (over, code, words) in enumerate(cases):
        c = make_complaints(1, prefix=f"bad{i}-")[0]
        c.update(over)
        c = {k: v for k, v in c.items() if v is not None}
        res = httpx.post(api + "/api/v1/complaints", json=[c], headers=api.headers)
        assert res.status_code == 422 and words in res.text
        assert res.json()["items"][0]["errors"][0]["field"] == code.split(".")[0]
        expected[code] = expected.get(code, 0) + 1
    giant = b"[" + b",".join([orjson.dumps(make_complaints(1, prefix="g")[0])] * 60000) + b"]"
    res = httpx.post(api + "/api/v1/complaints", content=giant, headers={**api.headers, "content-type": "application/json"})
    assert res.status_code == 413 and "limit" in res.json()["error"]
    expected["too_large"] = 1

    async def straight_onto_the_topic():
        async with Intake(stack["settings"], "test") as it:
            for value in (b"not json at all", b"\xff\xfe\x00", orjson.dumps({"id": "q", "district": "140403"})):
                await it.producer.send_and_wait(stack["settings"].complaints_topic, value)
    asyncio.run(straight_onto_the_topic())
    expected["malformed_json"] += 1
    expected["not_utf8"] += 1
    expected["received_at.missing"] += 1
    wait_until(lambda: rejects(r) == expected, 30, f"rejects counted as {expected}")
    assert accepted(r) == 0

    async def dead_letters():
        from tests.conftest import consume_all
        return await consume_all(stack["settings"], stack["settings"].dead_letter_topic, sum(expected.values()))
    letters = [orjson.loads(v) for v in asyncio.run(dead_letters())]
    assert sum(expected.values()) == len(letters)
    assert all(x["reason"] and x["reason_code"] and x["ref"] for x in letters)
    assert all("13812345678" not in x["raw"] for x in letters), "dead letters hold masked phone numbers only"
    # still alive and still counting
    assert w.alive()
    assert httpx.post(api + "/api/v1/complaints", json=make_complaints(5, prefix="after"), headers=api.headers).status_code == 202
    wait_until(lambda: accepted(r) == 5, 30, "good complaints after the bad ones")


def test_healthz_reports_each_part(stack, procs, api):
    res = httpx.get(api + "/healthz")
    assert res.status_code == 503 and res.json()["workers"]["ok"] is False
    assert res.json()["broker"]["ok"] and res.json()["redis"]["ok"]
    start_worker(procs, stack)
    wait_until(lambda: httpx.get(api + "/healthz").status_code == 200, 20, "healthz 200")
    body = httpx.get(api + "/healthz").json()
    assert body["status"] == "ok" and body["workers"]["live"] == 1


def test_openapi_describes_the_intake(stack, api):
    spec = httpx.get(api + "/openapi.json", headers=api.headers).json()
    post = spec["paths"]["/api/v1/complaints"]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]["oneOf"][0]
    assert set(schema["required"]) >= {"id", "received_at", "district", "text"}
    assert "/api/v1/counts" in spec["paths"] and "/healthz" in spec["paths"]


def test_no_pii_reaches_kafka_or_redis(stack, procs, api):
    start_worker(procs, stack)
    c = make_complaints(3, prefix="pii", text="我是张三，电话13812345678，身份证14040319900101123X")
    assert httpx.post(api + "/api/v1/complaints", json=c, headers=api.headers).status_code == 202
    wait_until(lambda: accepted(stack["redis"]) == 3, 30, "3 tallied")
    from tests.conftest import consume_all
    values = asyncio.run(consume_all(stack["settings"], stack["settings"].complaints_topic, 1))
    blob = b"".join(values).decode()
    assert "13812345678" not in blob and "14040319900101123X" not in blob and "张三" not in blob
    assert "138****5678" in blob
    dump = " ".join(str(stack["redis"].dump(k)) for k in stack["redis"].keys("*"))
    assert "13812345678" not in dump


def test_a_dead_broker_is_reported_and_nothing_is_accepted_meanwhile(stack, procs, tmp_path):
    from streams.services import EmbeddedBroker

    own = EmbeddedBroker(free_port(), tmp_path / "own").start()
    stack["env"]["KAFKA_BROKER"] = f"127.0.0.1:{own.port}"
    port = free_port()
    p = procs("-m", "streams.api", "--port", str(port), name="api")
    url = f"http://127.0.0.1:{port}"
    try:
        def up():
            try:
                return httpx.get(url + "/healthz", timeout=5).json()["broker"]["ok"]
            except httpx.HTTPError:
                return not p.alive() and p.output()
        wait_until(up, 30, "the API to see its broker")
        own.stop(kill=True)
        health = httpx.get(url + "/healthz", timeout=20)
        assert health.status_code == 503 and health.json()["broker"]["ok"] is False
        from tests.conftest import ApiURL
        res = httpx.post(url + "/api/v1/complaints", json=make_complaints(1, prefix="down"), timeout=40,
                         headers=ApiURL(url, stack["redis"]).headers)
        assert res.status_code == 503 and "nothing was accepted" in res.json()["error"]
    finally:
        own.stop()
