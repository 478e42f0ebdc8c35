"""The one Redis writer of the stream processors: atomic dedup + tally, reject counting;
and ``redis_client()``, the one place a Redis client is built (single server or Redis Cluster).

A thin adapter: it turns validated records into the Lua script's arguments (pure code in
``streams.tally``) and runs the script. On one redis-server all of one Kafka message is one
atomic step; on a Redis Cluster (``REDIS_CLUSTER=1`` or a ``redis+cluster://`` URL) it is one
atomic step per province of the message (every key of a province is in its slot), which keeps
the exactly-once argument: each complaint's dedup mark and its counts move together.
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


def _plain_url(url: str) -> str:
    for scheme in ("redis+cluster://", "rediss+cluster://"):
        if url.startswith(scheme):
            return scheme.replace("+cluster", "") + url[len(scheme):]
    return url


def redis_client(url, *, asyncio: bool = False, cluster: bool | None = None, decode_responses: bool = True, **kw):
    """A Redis client for ``url`` (or a Settings: its redis_url): redis.Redis, or
    redis.cluster.RedisCluster when the cluster is selected (``cluster``, default: the key
    scheme's mode, ``keys.CLUSTER``); ``asyncio=True`` gives the redis.asyncio equivalents."""
    url = getattr(url, "redis_url", url)
    cluster = keys.CLUSTER or str(url).startswith(("redis+cluster://", "rediss+cluster://")) \
        if cluster is None else cluster
    url = _plain_url(str(url))
    if cluster:
        kw.pop("db", None)
        if asyncio:
            from redis.asyncio.cluster import RedisCluster as AsyncCluster
            return AsyncCluster.from_url(url, decode_responses=decode_responses, **kw)
        from redis.cluster import RedisCluster
        return RedisCluster.from_url(url, decode_responses=decode_responses, **kw)
    if asyncio:
        return aioredis.Redis.from_url(url, decode_responses=decode_responses, **kw)
    import redis
    return redis.Redis.from_url(url, decode_responses=decode_responses, **kw)


def province_groups(rows: list) -> list[list]:
    """Tally rows (index, id, province, ...) split by province, in first-seen order."""
    groups: dict[str, list] = {}
    for r in rows:
        groups.setdefault(r[2], []).append(r)
    return list(groups.values())


async def first_positions(client, records: list[dict]) -> list:
    """The stream position each record's id was first counted at (None: never), in order: one
    MGET on a redis-server, one per province (its slot) on a cluster (async client)."""
    if not keys.CLUSTER:
        return await client.mget([keys.SEEN + rec["id"] for rec in records]) if records else []
    out: list = [None] * len(records)
    by_prov: dict[str, list[int]] = {}
    for j, rec in enumerate(records):
        by_prov.setdefault(rec["province"], []).append(j)
    for prov, idx in by_prov.items():
        for j, v in zip(idx, await client.mget([keys.seen(prov, records[j]["id"]) for j in idx])):
            out[j] = v
    return out


class TallyWriter:
    def __init__(self, settings: Settings, client: aioredis.Redis | None = None):
        self.settings = settings
        self.redis = client or redis_client(settings, asyncio=True)
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
        rows = [(i, *tally_args(rec, self.tz, now, self.grace), d) for (i, rec), d in zip(records, docs)]
        out = {"new": 0, "redelivered": 0, "duplicates": []}
        # one redis-server: the whole message in one step; a cluster: one step per province slot
        for group in (province_groups(rows) if keys.CLUSTER else [rows]):
            new, redelivered, dups = await self._tally(
                keys=[keys.stats(group[0][2])],
                args=[position, self.dedup_ttl, *self.ttls, self.docs_ttl, orjson.dumps(group),
                      1 if keys.CLUSTER else 0])
            out["new"] += int(new)
            out["redelivered"] += int(redelivered)
            out["duplicates"] += [(int(dups[j]), dups[j + 1]) for j in range(0, len(dups), 2)]
        return out

    async def count_reject(self, ref: str, reason_code: str, at: float | None = None) -> bool:
        day = datetime.fromtimestamp(at or time.time(), self.tz).strftime("%Y%m%d")
        reasons, stats = keys.reject_stats_keys()
        return bool(await self._reject(keys=[keys.REJ + ref, reasons, keys.rejects_day(day), stats],
                                       args=[reason_code, self.dedup_ttl]))

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
