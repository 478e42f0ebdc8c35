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
from itertools import repeat
from pathlib import Path

import orjson
import redis.asyncio as aioredis

from config import Settings
from streams import keys
from streams.tally import add_fields, covers, fold_upto, minute_of, minutes_between, tally_args, window_ttls

_HERE = Path(__file__).resolve().parent
TALLY_LUA = (_HERE / "tally.lua").read_text()
COUNT_REJECT_LUA = (_HERE / "count_reject.lua").read_text()
FOLD_LUA = (_HERE / "fold.lua").read_text()
FOLD_CHUNK = 720          # minute buckets folded in one atomic step at most
READ_AHEAD_S = 900        # open minutes a reader looks at past now (future-dated complaints)
MAX_OPEN_MINUTES = 3000   # beyond: a watermark stale for two days (no worker folded)


def provinces() -> list[str]:
    from config.divisions import divisions

    return sorted({d.province_code for d in divisions().by_code.values()})


def read_tallies(client, province: str, buckets: list[tuple[str, str]], tz, now: float | None = None) -> list[dict]:
    """The tally hashes of ``province`` for ``buckets`` [(win, bucket)], win in m|h|d|all, as
    HGETALL returns them (field -> count), with the minutes not yet folded into an hour, day or
    the total added to it: one atomic read (MULTI) of the watermark, the buckets and the open
    minutes, so a fold running meanwhile never counts a minute twice or not at all."""
    if not buckets:
        return []
    now = time.time() if now is None else now
    fk = keys.fold(province)
    cands: list[str] = []
    if any(w != "m" for w, _ in buckets):
        upto = client.hget(fk, "upto")
        if upto:
            upto = upto.decode() if isinstance(upto, bytes) else upto
            ahead = minute_of(max(now, time.time()) + READ_AHEAD_S, tz)
            cands = [m for m in minutes_between(upto, ahead, tz, MAX_OPEN_MINUTES)
                     if any(covers(w, b, m) for w, b in buckets)]
    with client.pipeline(transaction=True) as p:      # one province: one slot on a cluster too
        p.hget(fk, "upto")
        for w, b in buckets:
            p.hgetall(keys.tally(w, b, province))
        for m in cands:
            p.hgetall(keys.tally("m", m, province))
        res = p.execute()
    upto, base, mins = res[0], res[1:1 + len(buckets)], res[1 + len(buckets):]
    if not cands or upto is None:
        return base
    upto = upto.decode() if isinstance(upto, bytes) else upto
    open_ = [(m, f) for m, f in zip(cands, mins) if f and m >= upto]
    out = []
    for (w, b), fields in zip(buckets, base):
        extra = [f for m, f in open_ if covers(w, b, m)]
        if extra:
            acc: dict = {}
            add_fields(acc, fields)
            for f in extra:
                add_fields(acc, f)
            as_bytes = any(isinstance(k, bytes) for k in acc)
            fields = {k: (str(v).encode() if as_bytes else str(v)) for k, v in acc.items()}
        out.append(fields)
    return out


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


def province_groups(rows: list) -> list[list[int]]:
    """Positions of tally rows (index, id, province, ...) split by province, in first-seen order."""
    groups: dict[str, list] = {}
    for j, r in enumerate(rows):
        groups.setdefault(r[2], []).append(j)
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


def days_with_data(client, province: str, days: list[str], tz, now: float | None = None) -> list[bool]:
    """Whether anything was tallied on each local day (YYYYmmdd) of ``province``: its day hash
    exists, or (a day not folded yet) one of its open minutes does."""
    if not days:
        return []
    now = time.time() if now is None else now
    upto = client.hget(keys.fold(province), "upto")
    upto = upto.decode() if isinstance(upto, bytes) else upto
    open_ = []
    if upto:
        ahead = minute_of(max(now, time.time()) + READ_AHEAD_S, tz)
        open_ = [m for m in minutes_between(upto, ahead, tz, MAX_OPEN_MINUTES) if m[:8] in set(days)]
    with client.pipeline(transaction=False) as p:
        for d in days:
            p.exists(keys.tally("d", d, province))
        for m in open_:
            p.exists(keys.tally("m", m, province))
        res = p.execute()
    have = {d for d, n in zip(days, res) if n} | {m[:8] for m, n in zip(open_, res[len(days):]) if n}
    return [d in have for d in days]


class TallyWriter:
    def __init__(self, settings: Settings, client: aioredis.Redis | None = None):
        self.settings = settings
        self.redis = client or redis_client(settings, asyncio=True)
        self.tz = settings.tz
        t = settings.tally
        self.grace = t.grace_seconds
        self.dedup_ttl = int(t.dedup_days * 86400)
        self.ttls = window_ttls(t)
        self.docs_ttl = int(t.keep_docs_days * 86400)
        self._tally = self.redis.register_script(TALLY_LUA)
        self._fold = self.redis.register_script(FOLD_LUA)
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
        rows = [(i, *tally_args(rec, self.tz, now, self.grace)) for i, rec in records]
        # the documents go beside the batch, one a line, as bytes (enrich's orjson output: no
        # raw line break in it): inside the batch's JSON they were escaped here and unescaped
        # by the script's JSON decoder, which cost more than the rest of the batch
        lines = [d if isinstance(d, bytes) else d.encode() for d in docs] if docs else None
        if lines is not None and (len(lines) != len(rows) or sum(map(bytes.count, lines, repeat(b"\n"))) > 0):
            raise ValueError("write_batch: one document per record, none with a line break")
        out = {"new": 0, "redelivered": 0, "duplicates": []}
        # one redis-server: the whole message in one step; a cluster: one step per province slot
        for group in (province_groups(rows) if keys.CLUSTER else [range(len(rows))]):
            batch = [rows[j] for j in group] if keys.CLUSTER else rows
            doc_arg = b"" if lines is None else b"\n".join(
                [lines[j] for j in group] if keys.CLUSTER else lines) + b"\n"
            new, redelivered, dups = await self._tally(
                keys=[keys.stats(batch[0][2])],
                args=[position, self.dedup_ttl, *self.ttls, self.docs_ttl, orjson.dumps(batch),
                      1 if keys.CLUSTER else 0, fold_upto(now, self.tz, self.grace), doc_arg])
            out["new"] += int(new)
            out["redelivered"] += int(redelivered)
            out["duplicates"] += [(int(dups[j]), dups[j + 1]) for j in range(0, len(dups), 2)]
        return out

    async def fold(self, province: str, now: float | None = None) -> int:
        """Fold the closed minutes of ``province`` into hour, day and total (see fold.lua); several
        workers may run it at once (the watermark is compared and moved in the same step).
        Returns the minute buckets folded that held counts (0 without a watermark)."""
        now = time.time() if now is None else now
        fk = keys.fold(province)
        target = fold_upto(now, self.tz, self.grace)
        total = 0
        while True:
            upto = await self.redis.hget(fk, "upto")
            if not upto or upto >= target:
                return total
            mins = minutes_between(upto, target, self.tz, FOLD_CHUNK)
            new_upto = target if len(mins) < FOLD_CHUNK else minute_of(
                datetime.strptime(mins[-1], "%Y%m%d%H%M").replace(tzinfo=self.tz).timestamp() + 60, self.tz)
            n = await self._fold(keys=[fk], args=[keys.tag(province), upto, new_upto, self.ttls[1], self.ttls[2],
                                                       self.ttls[0], *mins])
            if int(n) > 0:
                total += int(n)

    async def fold_all(self, now: float | None = None) -> int:
        """Fold every province that has a watermark."""
        total = 0
        for p in provinces():
            total += await self.fold(p, now)
        return total

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
