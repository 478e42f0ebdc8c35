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
    yield {"broker": broker, "redis": rds, "data_dir": data}
    broker.stop()
    rds.stop()


@pytest.fixture
def stack(services, tmp_path):
    """Environment for one test: its own topics, group and Redis db flushed clean."""
    tag = uuid.uuid4().hex[:8]
    env = {
        "KAFKA_BROKER": f"127.0.0.1:{services['broker'].port}",
        "REDIS_URL": f"redis://127.0.0.1:{services['redis'].port}/0",
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

    c = AIOKafkaConsumer(topic, bootstrap_servers=settings.broker, auto_offset_reset="earliest",
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
