"""HTTP routes of case handling: ``POST /api/v1/case-events`` and ``GET /api/v1/kpis``.

Included by streams.api (``app.include_router(router(S, lambda: state))``); the token check
there gives ``POST /api/v1/case-events`` the ``submit`` scope and ``GET /api/v1/kpis`` ``read``
(streams.access).

POST takes one event or a list, all or nothing for field errors (422 with each bad item's
errors, each one dead-lettered and counted), the same size and media rules as complaints;
202 ``{"accepted", "ids", "duplicates", "waiting"}`` once the broker acknowledged them
(``waiting``: ids of events whose complaint has not arrived yet; they are held, not lost);
409 when every event was applied before (the same event twice changes nothing).
"""
from __future__ import annotations

import asyncio
import time

import orjson
import redis.asyncio as aioredis
from aiokafka.errors import KafkaError
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from streams.store import redis_client
from streams import deadletter, keys
from streams.cases.events import json_schema, validate_event
from streams.cases.read import QueryError, kpis
from streams.cases.store import REC_CASE, REC_HEADER, envelope
from streams.intake import SIG_HEADER, chunks, sign
from streams.schema import error


def problem(status: int, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


async def publish_events(intake, events: list[dict]) -> int:
    """Send validated events onto the complaints topic, signed and marked as case events."""
    futures = []
    for part in chunks(events, intake.batch_size):
        value = envelope(part, intake.source)
        futures.append(await intake.producer.send(
            intake.settings.complaints_topic, value,
            headers=[(SIG_HEADER, sign(intake.key, value)), (REC_HEADER, REC_CASE)]))
    for f in futures:
        await f
    return len(events)


def router(settings, get_state) -> APIRouter:
    api_cfg = settings.api
    one = json_schema()
    r = APIRouter()
    sync_redis: list = []

    def reader():
        if not sync_redis:
            import redis
            sync_redis.append(redis_client(settings.redis_url, socket_timeout=10))
        return sync_redis[0]

    async def reject(status: int, message: str, rejects, **extra) -> JSONResponse:
        try:
            await get_state()["intake"].dead_letter_many([(raw, errs, None) for raw, errs in rejects])
        except KafkaError:
            pass
        return problem(status, message, **extra)

    @r.post("/api/v1/case-events", status_code=202,
            openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                "schema": {"oneOf": [one, {"type": "array", "items": one}]}}}}},
            responses={202: {"description": "accepted: the broker has acknowledged every event"},
                       409: {"description": "every event was applied before"},
                       422: {"description": "field errors; nothing accepted"}})
    async def post_case_events(request: Request):
        """Accept one case event (an object) or a list; all or nothing for field errors."""
        state = get_state()
        media = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
        if media != "application/json":
            return problem(415, "case events are accepted as JSON only: send 'Content-Type: application/json'")
        length = request.headers.get("content-length")
        if length is None:
            return problem(411, "a Content-Length header is required (chunked bodies are not accepted)")
        if not length.strip().isdigit():
            return problem(400, "the Content-Length header is not a whole number")
        if int(length) > api_cfg.max_body_bytes:
            msg = f"the body is {int(length)} bytes; the limit is {api_cfg.max_body_bytes}"
            return await reject(413, msg, [(None, [error("", deadletter.TOO_LARGE, msg)])])
        body = await request.body()
        if len(body) > api_cfg.max_body_bytes:
            msg = f"the body is {len(body)} bytes; the limit is {api_cfg.max_body_bytes}"
            return await reject(413, msg, [(body[:4000], [error("", deadletter.TOO_LARGE, msg)])])
        if not body.strip():
            return problem(400, "the body is empty; send a case event object or a list of them")
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError as e:
            code = deadletter.NOT_UTF8 if "utf-8" in str(e).lower() else deadletter.MALFORMED_JSON
            msg = f"the body is not valid {'UTF-8' if code == deadletter.NOT_UTF8 else 'JSON'}: {e}"
            return await reject(400, msg, [(body, [error("", code, msg)])])
        items = doc if isinstance(doc, list) else [doc]
        if not items:
            return problem(400, "the list is empty")
        if len(items) > api_cfg.max_batch:
            msg = f"{len(items)} events in one request; the limit is {api_cfg.max_batch}"
            return await reject(413, msg, [(body[:4000], [error("", deadletter.TOO_LARGE, msg)])])
        now = time.time()
        good, bad = [], []
        for i, raw in enumerate(items):
            ev, errs = validate_event(raw, now, settings.tz)
            if errs:
                rid = raw.get("id") if isinstance(raw, dict) else None
                bad.append({"index": i, "id": rid[:64] if isinstance(rid, str) else None, "errors": errs})
            else:
                good.append((i, ev))
        if bad:
            return await reject(422, f"{len(bad)} of {len(items)} case events are invalid; none were accepted",
                                [(items[b["index"]], b["errors"]) for b in bad], items=bad)
        rds: aioredis.Redis = state["redis"]
        try:
            seen = await rds.mget([keys.CASE_EVENT_SEEN + ev["id"] for _, ev in good])
            # on a cluster a complaint's dedup key is in its province's slot (unknown here): not looked up
            known = [None] * len(good) if keys.CLUSTER else await rds.mget([keys.SEEN + ev["complaint_id"] for _, ev in good])
        except aioredis.RedisError:
            seen = known = [None] * len(good)
        first: dict[str, int] = {}
        fresh, dups, waiting = [], [], []
        for (i, ev), prior, k in zip(good, seen, known):
            if ev["id"] in first:
                dups.append({"index": i, "id": ev["id"], "errors": [error(
                    "", deadletter.DUPLICATE_ID, f"event id {ev['id']!r} appears twice in this request "
                                                 f"(items {first[ev['id']]} and {i})")]})
            elif prior:
                dups.append({"index": i, "id": ev["id"], "errors": [error(
                    "", deadletter.DUPLICATE_ID, f"case event id {ev['id']!r} was already applied; it counts once")]})
            else:
                first[ev["id"]] = i
                fresh.append(ev)
                if not k:
                    waiting.append(ev["id"])
        if dups:
            try:
                await state["intake"].dead_letter_many([(items[d["index"]], d["errors"], None) for d in dups])
            except KafkaError:
                pass
        if not fresh:
            return problem(409, "every case event in the request was already applied", duplicates=dups)
        try:
            await asyncio.wait_for(publish_events(state["intake"], fresh), timeout=15)
        except (KafkaError, asyncio.TimeoutError) as e:
            return problem(503, f"the broker did not acknowledge ({e.__class__.__name__}); nothing was accepted, retry later")
        return JSONResponse({"accepted": len(fresh), "ids": [e["id"] for e in fresh], "duplicates": dups,
                             "waiting": waiting}, status_code=202)

    @r.get("/api/v1/kpis")
    async def get_kpis(level: str = Query(..., description="province | city | county"),
                       code: str = Query(..., description="6-digit GB/T 2260 code at that level"),
                       since: str | None = Query(None, description="ISO 8601; items received from then (default: 1 January)"),
                       until: str | None = Query(None, description="ISO 8601, exclusive (default now)"),
                       industry: str | None = None):
        """Handling figures of the items received in [since, until), as of now (see the README)."""
        try:
            return await run_in_threadpool(kpis, reader(), settings, level, code, since, until, industry)
        except QueryError as e:
            return problem(400, str(e))
        except Exception as e:  # noqa: BLE001 - redis down
            import redis
            if isinstance(e, redis.RedisError):
                return problem(503, f"Redis is unavailable ({e.__class__.__name__})")
            raise

    return r
