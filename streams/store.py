"""The one Redis writer of the stream processors: atomic dedup + tally, reject counting.

A thin adapter: it turns validated records into the Lua script's arguments (pure code in
``streams.tally``) and runs the script; all of one Kafka message is one atomic step.
"""
from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import orjson
import redis.asyncio as aioredis

from config import Settings
from streams import keys
from streams.tally import tally_args, window_ttls

_HERE = Path(__file__).resolve().parent
TALLY_LUA = (_HERE / "tally.lua").read_text()
COUNT_REJECT_LUA = (_HERE / "count_reject.lua").read_text()


class TallyWriter:
    def __init__(self, settings: Settings, client: aioredis.Redis | None = None):
        self.settings = settings
        self.redis = client or aioredis.from_url(settings.redis_url, decode_responses=True)
        self.tz = settings.tz
        t = settings.raw["tally"]
        self.grace = t["grace_seconds"]
        self.dedup_ttl = int(t["dedup_days"] * 86400)
        self.ttls = window_ttls(t)
        self.docs_ttl = int(t["keep_docs_days"] * 86400)
        self._tally = self.redis.register_script(TALLY_LUA)
        self._reject = self.redis.register_script(COUNT_REJECT_LUA)

    async def write_batch(self, position: str, records: list[tuple[int, dict]], now: float | None = None,
                          docs: list[str] | None = None) -> dict:
        """Dedup and tally ``records`` [(index in message, record)] found at stream ``position``.

        ``docs`` (one per record, JSON) go to the hour's document list of each newly counted one.

        Returns {"new": n, "redelivered": n, "duplicates": [(index, first_position)]}.
        """
        if not records:
            return {"new": 0, "redelivered": 0, "duplicates": []}
        now = time.time() if now is None else now
        docs = docs or [""] * len(records)
        batch = orjson.dumps([(i, *tally_args(rec, self.tz, now, self.grace), d) for (i, rec), d in zip(records, docs)])
        new, redelivered, dups = await self._tally(args=[position, self.dedup_ttl, *self.ttls, self.docs_ttl, batch])
        return {"new": int(new), "redelivered": int(redelivered),
                "duplicates": [(int(dups[j]), dups[j + 1]) for j in range(0, len(dups), 2)]}

    async def count_reject(self, ref: str, reason_code: str, at: float | None = None) -> bool:
        day = datetime.fromtimestamp(at or time.time(), self.tz).strftime("%Y%m%d")
        return bool(await self._reject(args=[ref, reason_code, day, self.dedup_ttl]))

    async def heartbeat(self, name: str, state: dict, ttl: int = 10) -> None:
        await self.redis.set(keys.HEARTBEAT + name, json.dumps(state, ensure_ascii=False), ex=ttl)

    async def latency_samples(self, name: str, samples_ms: list[float], keep: int = 20000) -> None:
        if samples_ms:
            k = keys.LATENCY + name
            async with self.redis.pipeline(transaction=False) as p:
                p.rpush(k, *[round(x, 1) for x in samples_ms]).ltrim(k, -keep, -1).expire(k, 3600)
                await p.execute()

    async def close(self) -> None:
        await self.redis.aclose()
