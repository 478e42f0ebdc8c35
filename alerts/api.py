"""HTTP endpoints of the alert lifecycle (mounted by ``streams/api.py`` under /api/v1).

A thin adapter over :class:`alerts.store.AlertStore`; the dashboard's duty console calls
the same store.  Every endpoint answers JSON; an illegal step is a 409 that says why.

  GET    /api/v1/alerts?state=open|closed|all&limit=N     the queue (open: most urgent first)
  GET    /api/v1/alerts/{id}                               one alert, with SLA clocks, audit trail, deliveries
  POST   /api/v1/alerts/{id}/{action}                      action: ack, dispatch, respond, onsite, close,
                                                           false_alarm; body {"team": ..., "note": ...}
  GET    /api/v1/alerts-teams                              the teams a dispatch may name
  GET    /api/v1/silences                                  active silences
  POST   /api/v1/silences                                  {"district", "industry", "level", "until", "reason"}
  DELETE /api/v1/silences/{id}

Who acts is the API token's name (set on ``request.state.actor`` by the API's token check,
``streams/api.py``); a ``by`` in a body or query is ignored.  Scopes: GETs need ``read``,
alert actions ``act``, creating and ending silences ``admin`` (``streams.access``).
"""
from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime

from streams.store import redis_client
import redis
from fastapi import APIRouter, Body, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from alerts.lifecycle import ACTIONS, LifecycleError, sla_status
from alerts.store import AlertStore

__all__ = ["router"]


def _problem(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _actor(request: Request) -> str | None:
    """The caller's token name (checked by the API before the route runs), never the body's."""
    return getattr(request.state, "actor", None)


def router(settings, notifier_factory=None) -> APIRouter:
    """The alert routes. Closing an alert (close, false_alarm) sends a 'closed' notice through
    ``notifier_factory()``; by default the router builds its own :class:`alerts.notify.Notifier`
    from config/notify.yaml on the first close and drains it when the app stops."""
    state: dict = {}

    def own_notifier():
        if "notifier" not in state:
            from alerts.notify import Notifier, load_notify_config

            state["notifier"] = Notifier(load_notify_config())
        return state["notifier"]

    @asynccontextmanager
    async def lifespan(app):
        yield
        if "notifier" in state:
            await state["notifier"].drain(5)
            await state["notifier"].close()

    notifier_factory = notifier_factory or own_notifier
    r = APIRouter(lifespan=lifespan)

    def store() -> AlertStore:
        if "store" not in state:
            client = redis_client(settings.redis_url, socket_timeout=3)
            state["store"] = AlertStore(client)
        return state["store"]

    def now() -> datetime:
        return datetime.now(settings.tz)

    async def call(fn, *a, **kw):
        try:
            return await run_in_threadpool(fn, *a, **kw)
        except redis.RedisError as e:
            raise _Unavailable(e) from None

    @r.get("/api/v1/alerts")
    async def list_alerts(state_: str = Query("open", alias="state", pattern="^(open|closed|all)$"),
                          limit: int = Query(200, ge=1, le=1000)):
        """Alerts: open ones most urgent first, each with its SLA clocks."""
        try:
            t = now()
            alerts = await call(store().list, None if state_ == "all" else state_, None, limit, now=t)
            cfg = store().config
            for a in alerts:
                a["sla"] = sla_status(a, t, cfg)
            return {"state": state_, "count": len(alerts), "alerts": alerts}
        except _Unavailable as e:
            return e.response

    @r.get("/api/v1/alerts-teams")
    async def teams():
        return {"teams": store().teams}

    @r.get("/api/v1/alerts/{alert_id}")
    async def get_alert(alert_id: str):
        try:
            a = await call(store().get, alert_id)
            if a is None:
                return _problem(404, f"no alert {alert_id!r}")
            a["sla"] = sla_status(a, now(), store().config)
            a["history"] = await call(store().history, alert_id)
            a["deliveries"] = await call(store().deliveries, alert_id)
            return a
        except _Unavailable as e:
            return e.response

    @r.post("/api/v1/alerts/{alert_id}/{action}")
    async def act(alert_id: str, action: str, request: Request, body: dict = Body(default_factory=dict)):
        """Move an alert on as the token's name; ``team`` for dispatch, ``note`` for false_alarm."""
        if action not in ACTIONS:
            return _problem(404, f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
        by = _actor(request)
        if not by:
            return _problem(401, "an API token is required to act on an alert")
        team = body.get("team")
        if action == "dispatch" and team is not None and team not in store().teams:
            return _problem(422, f"team {team!r} is not one of {', '.join(store().teams)} (config/alerts.yaml teams.valid)")
        try:
            alert = await call(store().act, alert_id, action, by, team=team, note=body.get("note"),
                               now=now())
        except KeyError as e:
            return _problem(404, str(e.args[0]) if e.args else f"no alert {alert_id!r}")
        except LifecycleError as e:
            return _problem(409, str(e))
        except ValueError as e:
            return _problem(422, str(e))
        except _Unavailable as e:
            return e.response
        if alert.get("state") in ("closed", "false_alarm"):
            await notifier_factory().send(alert, "closed")
        return alert

    @r.get("/api/v1/silences")
    async def silences(all_: bool = Query(False, alias="all")):
        try:
            return {"silences": await call(store().silences, now(), not all_)}
        except _Unavailable as e:
            return e.response

    @r.post("/api/v1/silences", status_code=201)
    async def add_silence(request: Request, body: dict = Body(...)):
        """Silence alerts of a district (and everything under it), an industry or a level until a time
        (ISO 8601, or from now: "+2h", "+3d"); a reason is required; at most alerts.silence_max_days."""
        by = _actor(request)
        if not by:
            return _problem(401, "an API token is required to add a silence")
        try:
            sid = await call(store().add_silence, district=body.get("district"), industry=body.get("industry"),
                             level=body.get("level"), start=body.get("start"), until=body.get("until"),
                             reason=body.get("reason"), by=by, now=now())
        except ValueError as e:
            return _problem(422, str(e))
        except _Unavailable as e:
            return e.response
        return JSONResponse({"id": sid}, status_code=201)

    @r.delete("/api/v1/silences/{silence_id}")
    async def remove_silence(silence_id: str, request: Request):
        by = _actor(request)
        if not by:
            return _problem(401, "an API token is required to end a silence")
        try:
            ok = await call(store().remove_silence, silence_id, by, now())
        except _Unavailable as e:
            return e.response
        return {"removed": bool(ok)} if ok else _problem(404, f"no silence {silence_id!r}")

    return r


class _Unavailable(Exception):
    def __init__(self, e: Exception):
        self.response = _problem(503, f"Redis is unavailable ({e.__class__.__name__})")
