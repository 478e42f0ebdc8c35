"""The producing side: validated complaints onto the complaints topic, rejects onto the DLQ.

Used by the HTTP API, the importer and the simulator. Complaints travel many to a Kafka
message (an envelope ``{"v": 1, "src", "at", "items": [...]}``) because faust's cost is
per message, not per record (FAUST_ON_TANSU.md).
"""
from __future__ import annotations

import time

import orjson
from aiokafka import AIOKafkaProducer

from config import Settings
from streams import deadletter
from streams.kafka_security import aiokafka_kwargs

MAX_MESSAGE_BYTES = 900_000


def envelope(items: list[dict], source: str, accepted_at: float | None = None) -> bytes:
    """Items are Rules.validate output: normalised and masked ("norm": 1)."""
    return orjson.dumps({"v": 1, "norm": 1, "src": source, "at": (accepted_at or time.time()), "items": items})


def chunks(items: list[dict], size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


class Intake:
    def __init__(self, settings: Settings, source: str, linger_ms: int = 5):
        self.settings = settings
        self.source = source
        self.batch_size = settings.raw["kafka"]["batch_size"]
        self.producer = AIOKafkaProducer(
            **aiokafka_kwargs(settings), linger_ms=linger_ms, acks="all",
            max_batch_size=1 << 20, max_request_size=4 << 20, enable_idempotence=False,
            request_timeout_ms=10000,
            client_id=f"c12315-intake-{source}")

    async def start(self) -> None:
        await self.producer.start()

    async def stop(self) -> None:
        await self.producer.stop()

    async def __aenter__(self):
        await self.start()
        return self

    async def __aexit__(self, *exc):
        await self.stop()

    async def publish(self, records: list[dict], wait: bool = True) -> int:
        """Send normalised records; with ``wait`` returns once the broker acknowledged all."""
        now = time.time()
        futures = []
        for part in chunks(records, self.batch_size):
            value = envelope(part, self.source, now)
            if len(value) > MAX_MESSAGE_BYTES and len(part) > 1:
                half = len(part) // 2
                futures += [await self.producer.send(self.settings.complaints_topic, envelope(p, self.source, now))
                            for p in (part[:half], part[half:])]
            else:
                futures.append(await self.producer.send(self.settings.complaints_topic, value))
        if wait:
            for f in futures:
                await f
        return len(records)

    async def dead_letter(self, raw, errors: list[dict], ref: str | None = None) -> dict:
        return (await self.dead_letter_many([(raw, errors, ref)]))[0]

    async def dead_letter_many(self, items: list[tuple[object, list[dict], str | None]]) -> list[dict]:
        """Send rejected inputs [(raw, errors, ref)] to the dead-letter topic; wait for the acks."""
        recs = [deadletter.record(raw, errors, self.source, ref) for raw, errors, ref in items]
        futures = [await self.producer.send(self.settings.dead_letter_topic, orjson.dumps(r), key=r["ref"].encode())
                   for r in recs]
        for f in futures:
            await f
        return recs
