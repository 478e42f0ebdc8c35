"""Fixtures: a real Tansu broker and a real redis-server on free loopback ports.

Each test that needs Kafka gets its own topics and consumer group (``stack`` fixture),
so tests share the two servers but not their data.
"""
from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from config import load_settings  # noqa: E402
from streams.services import EmbeddedBroker, EmbeddedRedis, free_port  # noqa: E402


@pytest.fixture(scope="session")
def services(tmp_path_factory):
    """The two servers, started once for the session."""
    data = tmp_path_factory.mktemp("data")
    broker = EmbeddedBroker(free_port(), data).start()
    rds = EmbeddedRedis(free_port(), data).start()
    # the embedded redis-server asks for its generated password: clients use rds.url(db)
    yield {"broker": broker, "redis": rds, "data_dir": data, "redis_url": rds.url}
    broker.stop()
    rds.stop()


@pytest.fixture
def stack(services, tmp_path):
    """Environment for one test: its own topics, group and Redis db flushed clean."""
    tag = uuid.uuid4().hex[:8]
    env = {
        "KAFKA_BROKER": f"127.0.0.1:{services['broker'].port}",
        "REDIS_URL": services["redis"].url(0),
        "DATA_DIR": str(tmp_path),
        "COMPLAINTS_TOPIC": f"complaints-{tag}",
        "DEAD_LETTER_TOPIC": f"complaints-dlq-{tag}",
        "CONSUMER_GROUP": f"tally-{tag}",
        "KAFKA_PARTITIONS": "4",
    }
    r = redis.Redis.from_url(env["REDIS_URL"], decode_responses=True)
    r.flushdb()
    settings = load_settings({**os.environ, **env})
    yield {"env": {**os.environ, **env}, "settings": settings, "redis": r, "services": services}
    r.close()


async def consume_all(settings, topic: str, expect: int, timeout: float = 20.0) -> list[bytes]:
    """Read a topic from the start until ``expect`` messages arrived (or time out)."""
    from aiokafka import AIOKafkaConsumer

    from streams.kafka_security import aiokafka_kwargs

    c = AIOKafkaConsumer(topic, **aiokafka_kwargs(settings), auto_offset_reset="earliest",
                         enable_auto_commit=False, group_id=None)
    await c.start()
    out: list[bytes] = []
    try:
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while len(out) < expect and loop.time() < end:
            batch = await c.getmany(timeout_ms=500)
            for msgs in batch.values():
                out.extend(m.value for m in msgs)
    finally:
        await c.stop()
    return out


# -- processes -----------------------------------------------------------------------------
import json  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402


def wait_until(pred, timeout: float, what: str, interval: float = 0.05):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


class Proc:
    """A project process (worker, API, CLI) run as a real subprocess with the test's env."""

    def __init__(self, args: list[str], env: dict, log: Path):
        self.args, self.env, self.log = args, env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Proc":
        self.proc = subprocess.Popen([sys.executable, *self.args], env=self.env, cwd=ROOT,
                                     stdout=open(self.log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def live_workers(r, topic: str) -> list[dict]:
    """Workers whose fresh heartbeat shows partitions of ``topic`` assigned."""
    out = []
    for k in r.scan_iter(match="cc:hb:worker:*"):
        raw = r.get(k)
        if raw:
            w = json.loads(raw)
            if time.time() - w["at"] < 5 and any(p.startswith(topic + "/") for p in w["partitions"]):
                out.append(w)
    return out


@pytest.fixture
def procs(stack, tmp_path):
    """Start project processes; all are stopped at the end of the test."""
    started: list[Proc] = []

    def start(*args: str, name: str = "proc") -> Proc:
        p = Proc(list(args), stack["env"], tmp_path / f"{name}-{len(started)}.log").start()
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


def start_worker(procs, stack, wait: bool = True) -> Proc:
    w = procs("-m", "streams", "worker", "-l", "warn", name="worker")
    if wait:
        topic = stack["settings"].complaints_topic
        wait_until(lambda: live_workers(stack["redis"], topic) or (not w.alive() and w.output()[-2000:]),
                   60, "a worker to join the group")
        assert w.alive(), w.output()[-2000:]
    return w


def wait_http(url: str, proc: Proc, what: str, timeout: float = 30, headers: dict | None = None) -> None:
    """Wait until ``url`` answers 200, failing with the process's output if it died first."""
    import httpx

    def up():
        try:
            return httpx.get(url, timeout=1, headers=headers).status_code == 200
        except httpx.HTTPError:
            return not proc.alive() and proc.output()
    wait_until(up, timeout, what)
    assert proc.alive(), proc.output()


class ApiURL(str):
    """The API's base URL (a str) with ``.headers``: a bearer token of every scope, named ``tester``;
    ``.token_headers(name, scopes)`` makes another token (``scopes`` as for ``streams.tokens add``)."""

    def __new__(cls, url: str, r):
        self = super().__new__(cls, url)
        self.redis = r
        self.headers = self.token_headers("tester", "all")
        return self

    def token_headers(self, name: str, scopes: str = "all") -> dict:
        from streams.tokens import Tokens
        return {"Authorization": "Bearer " + Tokens(self.redis).add(name, scopes, replace=True)}


@pytest.fixture
def api(stack, procs):
    """The intake API on a free port (with ``stack["env"]`` as it is when requested); its base URL
    (an :class:`ApiURL`: send ``headers=api.headers``)."""
    from streams.services import free_port

    port = free_port()
    p = procs("-m", "streams.api", "--port", str(port), name="api")
    url = ApiURL(f"http://127.0.0.1:{port}", stack["redis"])
    wait_http(url + "/openapi.json", p, "the API to answer", headers=url.headers)
    return url


def make_complaints(n: int, prefix: str = "c", district_pool=None, when: str | None = None, **over) -> list[dict]:
    """n valid raw complaints spread over Shanxi counties, industries, kinds and channels."""
    from config.divisions import divisions

    pool = district_pool or [d.code for d in divisions().counties_of("140000")]
    inds = ["食品", "商超", "旅游", "产品质量", "价格"]
    kinds = ["咨询", "投诉", "举报"]
    chans = ["12315", "12345", "mini-program"]
    when = when or time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(time.time() + 8 * 3600))
    out = []
    for i in range(n):
        c = {"id": f"{prefix}{i}", "received_at": when, "channel": chans[i % 3], "kind": kinds[i % 3],
             "district": pool[i % len(pool)], "industry": inds[i % 5], "text": f"第{i}件：衣服洗后掉色，商家拒绝退换",
             "contact": {"name": "张三", "phone": "13812345678"}}
        c.update(over)
        out.append(c)
    return out


async def publish_raw(settings, complaints: list[dict], per_message: int = 100, pace_s: float = 0.0) -> None:
    """Validate and publish like the intake does, optionally paced (for mid-stream crashes)."""
    from streams.intake import Intake
    from streams.schema import Rules

    rules = Rules(settings)
    recs = [rules.validate(c)[0] for c in complaints]
    assert all(recs)
    async with Intake(settings, source="test") as it:
        for i in range(0, len(recs), per_message):
            await it.publish(recs[i:i + per_message])
            if pace_s:
                await asyncio.sleep(pace_s)
