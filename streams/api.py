"""The intake HTTP API: POST complaints, GET counts, topics, clouds, alerts (alerts/api.py), healthz.

`python -m streams.api` serves it on 127.0.0.1:8000 (settings api.host / api.port).
A thin adapter: validation is ``streams.schema``, publishing ``streams.intake``,
reading ``streams.readmodel``.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from contextlib import asynccontextmanager
from datetime import datetime

import orjson
import redis
import redis.asyncio as aioredis
from aiokafka.errors import KafkaError
from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from streams.store import first_positions, redis_client
from config import Settings, SettingsError, settings as load_default
from streams import deadletter
from streams.access import required_scope
from streams.intake import Intake
from streams.readmodel import QueryError, ReadModel
from streams.schema import Rules, error, json_schema, json_too_deep
from streams.tokens import bearer, lookup_async

WORKER_STALE_S = 10


def problem(status: int, message: str, headers: dict | None = None, **extra) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)


def create_app(settings: Settings | None = None) -> FastAPI:
    S = settings or load_default()
    rules = Rules(S)
    api_cfg = S.api
    state: dict = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        state["intake"] = Intake(S, source="api")
        state["redis"] = redis_client(S.redis_url, asyncio=True, socket_timeout=3)
        state["read"] = ReadModel(S)
        try:
            await state["intake"].start()
        except KafkaError as e:
            raise SystemExit(f"cannot reach the Kafka broker at {S.broker} ({e.__class__.__name__}): "
                             "start it (make run) or set KAFKA_BROKER") from None
        yield
        await state["intake"].stop()
        await state["redis"].aclose()

    app = FastAPI(title="12315 complaint intake", version="1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None,  # their pages load scripts from a CDN; intranets have none
                  description="Accepts complaints onto the stream and serves live tallies from Redis.")
    one = json_schema(S)

    from alerts.api import router as alerts_router        # with its own 'closed' notifier
    app.include_router(alerts_router(S))
    from streams.cases.api import router as cases_router      # case events and KPIs
    app.include_router(cases_router(S, lambda: state))

    @app.middleware("http")
    async def authorize(request: Request, call_next):
        """Every route but /healthz needs a valid token with the route's scope (streams.access)."""
        need = required_scope(request.method, request.url.path)
        if need is None:
            return await call_next(request)
        token = bearer(request.headers.get("authorization"))
        if token is None:
            return problem(401, "an API token is required: send 'Authorization: Bearer <token>' "
                                "(python -m streams.tokens add NAME --scopes ...)",
                           headers={"WWW-Authenticate": "Bearer"})
        try:
            who = await lookup_async(state["redis"], token)
        except aioredis.RedisError as e:
            return problem(503, f"Redis is unavailable ({e.__class__.__name__}); cannot check the API token")
        if who is None:
            return problem(401, "the API token is not valid (unknown or revoked)",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if need not in who.get("scopes", ()):
            return problem(403, f"token {who['name']!r} lacks the '{need}' scope this request needs "
                                f"(it has: {', '.join(who.get('scopes', ())) or 'none'})")
        request.state.actor = who["name"]      # the audit trail's "by": never a field of the body
        request.state.scopes = tuple(who.get("scopes", ()))
        return await call_next(request)

    async def reject(status: int, message: str, rejects: list[tuple[object, list[dict]]], **extra) -> JSONResponse:
        try:
            await state["intake"].dead_letter_many([(raw, errs, None) for raw, errs in rejects])
        except KafkaError:
            pass  # the client still hears why; only the dead-letter copy is missing
        return problem(status, message, **extra)

    @app.post("/api/v1/complaints", status_code=202,
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                  "schema": {"oneOf": [one, {"type": "array", "items": one}]}}}}},
              responses={202: {"description": "accepted: the broker has acknowledged every complaint"},
                         400: {"description": "body is not UTF-8 JSON"}, 409: {"description": "all ids already accepted"},
                         413: {"description": "body or batch too large"}, 422: {"description": "field errors; nothing accepted"},
                         503: {"description": "broker unavailable; nothing accepted"}})
    async def post_complaints(request: Request):
        """Accept one complaint (an object) or a batch (a list); all or nothing for field errors."""
        media = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
        if media != "application/json":
            return problem(415, "complaints are accepted as JSON only: send 'Content-Type: application/json' "
                                f"(got {media[:60] or 'no content type'})")
        length = request.headers.get("content-length")
        if length is None:
            return problem(411, "a Content-Length header is required (chunked bodies are not accepted)")
        if not length.strip().isdigit():
            return problem(400, "the Content-Length header is not a whole number")
        if int(length) > api_cfg.max_body_bytes:       # refused before a byte of the body is read
            msg = f"the body is {int(length)} bytes; the limit is {api_cfg.max_body_bytes}"
            return await reject(413, msg, [(None, [error("", deadletter.TOO_LARGE, f"body of {int(length)} bytes, not read")])])
        body = await request.body()
        if len(body) > api_cfg.max_body_bytes:
            return await reject(413, f"the body is {len(body)} bytes; the limit is {api_cfg.max_body_bytes}",
                                [(body[:4000], [error("", deadletter.TOO_LARGE, f"body of {len(body)} bytes")])])
        if not body.strip():
            return problem(400, "the body is empty; send a complaint object or a list of them")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as e:
            msg = f"the body is not valid UTF-8: byte 0x{body[e.start]:02x} at position {e.start}"
            return await reject(400, msg, [(body, [error("", deadletter.NOT_UTF8, msg)])])
        try:
            doc = orjson.loads(text)
        except orjson.JSONDecodeError as e:
            if (deep := json_too_deep(e)) is not None:
                return await reject(422, deep["message"], [(body, [deep])])
            msg = f"the body is not valid JSON: {e}"
            return await reject(400, msg, [(body, [error("", deadletter.MALFORMED_JSON, msg)])])
        items = doc if isinstance(doc, list) else [doc]
        if not items:
            return problem(400, "the list is empty")
        if len(items) > api_cfg.max_batch:
            msg = f"{len(items)} complaints in one request; the limit is {api_cfg.max_batch}"
            return await reject(413, msg, [(body[:4000], [error("", deadletter.TOO_LARGE, msg)])])

        now = time.time()
        good, bad = [], []
        for i, raw in enumerate(items):
            rec, errs = rules.validate(raw, now)
            if errs:
                rid = raw.get("id") if isinstance(raw, dict) else None   # echoed only as a short string
                bad.append({"index": i, "id": rid[:64] if isinstance(rid, str) else None, "errors": errs})
            else:
                good.append((i, rec))
        if bad:
            return await reject(422, f"{len(bad)} of {len(items)} complaints are invalid; none were accepted",
                                [(items[b["index"]], b["errors"]) for b in bad], items=bad)

        # Duplicates: within the batch, and ids already counted. The worker's atomic dedup is
        # the truth; this check just tells the client at once.
        seen_ids: dict[str, int] = {}
        fresh, dups = [], []
        try:
            counted = await first_positions(state["redis"], [rec for _, rec in good])
        except aioredis.RedisError:
            counted = [None] * len(good)
        for (i, rec), prior in zip(good, counted):
            if rec["id"] in seen_ids:
                dups.append({"index": i, "id": rec["id"], "errors": [error(
                    "", deadletter.DUPLICATE_ID, f"id {rec['id']!r} appears twice in this request (items {seen_ids[rec['id']]} and {i})")]})
            elif prior:
                dups.append({"index": i, "id": rec["id"], "errors": [error(
                    "", deadletter.DUPLICATE_ID, f"complaint id {rec['id']!r} was already accepted; it is counted once")]})
            else:
                seen_ids[rec["id"]] = i
                fresh.append(rec)
        if dups:
            try:
                await state["intake"].dead_letter_many([(items[d["index"]], d["errors"], None) for d in dups])
            except KafkaError:
                pass
        if not fresh:
            return problem(409, "every complaint in the request was already accepted", duplicates=dups)
        try:
            await asyncio.wait_for(state["intake"].publish(fresh), timeout=15)
        except (KafkaError, asyncio.TimeoutError) as e:
            return problem(503, f"the broker did not acknowledge ({e.__class__.__name__}); nothing was accepted, retry later")
        return JSONResponse({"accepted": len(fresh), "ids": [r["id"] for r in fresh], "duplicates": dups},
                            status_code=202)

    @app.get("/api/v1/counts")
    async def get_counts(level: str = Query(..., description="province | city | county"),
                         code: str = Query(..., description="6-digit GB/T 2260 code at that level"),
                         window: str = Query("hour", description="minute | hour | day | total"),
                         since: str | None = Query(None, description="ISO 8601; default: 1 h / 24 h / 30 d before until"),
                         until: str | None = Query(None, description="ISO 8601, exclusive; default now"),
                         industry: str | None = None, kind: str | None = None, channel: str | None = None):
        """Tallies per event-time window, read from Redis."""
        read: ReadModel = state["read"]
        try:
            series = await run_in_threadpool(read.counts, level, code, window, since, until, industry, kind, channel)
        except QueryError as e:
            return problem(400, str(e))
        except Exception as e:  # noqa: BLE001 - redis down
            return problem(503, f"Redis is unavailable ({e.__class__.__name__})")
        d = read.table.get(code)
        return {"level": level, "code": code, "name": d.full_name, "window": window,
                "filters": {"industry": industry, "kind": kind, "channel": channel},
                "total": sum(x["count"] for x in series), "series": series}

    def wall_sources():
        """The wall view model's sources (one tally reader kept across requests: its cache of
        closed buckets, checked against late writes, makes a request cost the open buckets)."""
        if "wall" not in state:
            from alerts.store import AlertStore
            from streams.counts import Tallies
            from streams.wallview import Sources, wall_province

            client = redis_client(S.redis_url, socket_timeout=5)
            read: ReadModel = state["read"]
            store = AlertStore(client)
            state["wall"] = Sources(table=read.table, tallies=Tallies(S, client, wall_province(S), read.table),
                                    under=read.districts_under, alerts=lambda: store)
        return state["wall"]

    @app.get("/api/v1/wall")
    async def get_wall(level: str = Query(..., description="province | city | county"),
                       code: str = Query(..., description="6-digit GB/T 2260 code at that level, in the wall's province")):
        """Exactly what the command-centre wall shows for this view (``streams.wallview``): kpis,
        districts, industries, trend (starts, counts, last_year; null where there is no data),
        rising phrases of the last hour, open alerts with their warning level."""
        from streams.wallview import ViewError, check_view, to_json, wall_view

        read: ReadModel = state["read"]
        try:
            src = wall_sources()
            check_view(src.table, level, code, src.province)
            topics = await run_in_threadpool(read.topics, level, code, "hour", None, None, 20)
            now = datetime.now(S.tz)
            view = await run_in_threadpool(wall_view, src, level, code, now, topics=topics)
        except ViewError as e:
            return problem(e.status, str(e))
        except QueryError as e:
            return problem(422, str(e))
        except redis.RedisError as e:
            return problem(503, f"Redis is unavailable ({e.__class__.__name__})")
        return to_json(view)

    @app.get("/api/v1/topics")
    async def get_topics(level: str = Query(..., description="province | city | county"),
                         code: str = Query(..., description="6-digit GB/T 2260 code at that level"),
                         window: str = Query("hour", description="hour | day | week, ending at `at`"),
                         industry: str | None = None,
                         at: str | None = Query(None, description="ISO 8601 end of the window; default now"),
                         since: str | None = Query(None, description="a custom period instead of the window"),
                         until: str | None = None,
                         top: int = Query(20, ge=1, le=200)):
        """Hot phrases and keywords: top by count and by burst against their own baseline."""
        read: ReadModel = state["read"]
        try:
            return await run_in_threadpool(read.topics, level, code, window, industry, at, top, since, until)
        except QueryError as e:
            return problem(400, str(e))

    @app.get("/api/v1/cloud.png", response_class=Response,
             responses={200: {"content": {"image/png": {}}, "description": "the keyword cloud"}})
    async def get_cloud(level: str = Query(..., description="province | city | county"),
                        code: str = Query(..., description="6-digit GB/T 2260 code at that level"),
                        window: str = Query("day", description="hour | day | week, ending at `at`"),
                        industry: str | None = None, at: str | None = None,
                        since: str | None = None, until: str | None = None,
                        size: str = Query("wall", description="wall (1920×1080) | wall4k | print (A4, 300 dpi)"),
                        top: int = Query(60, ge=5, le=200)):
        """The keyword cloud of a selection as a PNG; rising topics in the warm colour. Cached."""
        from nlp.cloud import CloudError, render_cloud

        read: ReadModel = state["read"]
        try:
            weights, rising, t = await run_in_threadpool(read.cloud_terms, level, code, window, industry, at,
                                                         since, until, top)
            if not weights:
                return problem(404, f"no complaints with topics in {t['name']} for this period")
            png = await run_in_threadpool(render_cloud, weights, rising, size=size,
                                          cache_dir=str(S.data_dir / "cache" / "clouds"))
        except (QueryError, CloudError) as e:
            return problem(400, str(e))
        return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=10"})

    @app.get("/api/v1/stats")
    async def get_stats():
        """Accepted, duplicate, late and rejected counts (by reason)."""
        try:
            return await run_in_threadpool(state["read"].stats)
        except Exception as e:  # noqa: BLE001
            return problem(503, f"Redis is unavailable ({e.__class__.__name__})")

    @app.get("/healthz")
    async def healthz():
        """Broker, Redis and worker state; 200 when all are up, 503 otherwise."""
        embedded = os.environ.get("EMBEDDED_SERVICES", "").split(",")  # set by `make run`
        out: dict = {"broker": {"address": S.broker, "embedded": S.broker_embedded or "broker" in embedded},
                     "redis": {"embedded": S.redis_embedded or "redis" in embedded}}
        try:
            # ask the broker now: partitions_for() would answer from cached metadata
            meta = await asyncio.wait_for(state["intake"].producer.client.fetch_all_metadata(), 3)
            out["broker"].update(ok=True, partitions=len(meta.partitions_for_topic(S.complaints_topic) or ()))
        except Exception as e:  # noqa: BLE001
            out["broker"].update(ok=False, error=f"{e.__class__.__name__}: unreachable")
        try:
            await state["redis"].ping()
            out["redis"]["ok"] = True
            workers = await run_in_threadpool(state["read"].workers)
            live = [w for w in workers if w["age_s"] <= WORKER_STALE_S]
            out["workers"] = {"ok": bool(live), "live": len(live),
                              "detail": [{k: w.get(k) for k in ("worker", "age_s", "partitions", "complaints", "rejected")}
                                         for w in workers]}
        except Exception as e:  # noqa: BLE001
            out["redis"].update(ok=False, error=f"{e.__class__.__name__}: unreachable")
            out["workers"] = {"ok": False, "live": 0, "detail": []}
        ok = out["broker"]["ok"] and out["redis"]["ok"] and out["workers"]["ok"]
        out["status"] = "ok" if ok else "degraded"
        return JSONResponse(out, status_code=200 if ok else 503)

    return app


def main(argv: list[str] | None = None) -> None:
    from streams.services import check_port, ServiceError
    try:
        S = load_default()
    except SettingsError as e:
        sys.exit(f"configuration error: {e}")
    ap = argparse.ArgumentParser(prog="python -m streams.api", description="Serve the complaint intake HTTP API.")
    ap.add_argument("--host", default=S.api.host, help="address to listen on (default %(default)s)")
    ap.add_argument("--port", type=int, default=S.api.port, help="port (default %(default)s; env API_PORT)")
    args = ap.parse_args(argv)
    try:
        check_port(args.port, "intake API", "API_PORT")
    except ServiceError as e:
        sys.exit(str(e))
    import uvicorn
    uvicorn.run(create_app(S), host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
