"""The worker's case timer: 提醒卡, 催办卡 and overdue notices once each; held events expired.

Every ``notices.tick_s`` the worker holding the lease (``cc:cases:timer``, like the surge
detector's) looks at the cases whose next moment has come (``cc:cases:open`` is scored by
it; the event step sets a changed case's score to now):

* each running clock's moments that have passed (reminder at half the time, urging before
  the deadline, overdue at it) are marked once (``cc:cases:notice:{cid}:{clock}:{stage}``, SET
  NX) and sent through the notification channels (alerts.notify.Notifier, events reminder /
  urging / overdue). A moment that passed more than ``notices.max_lag`` ago (a backfill, a
  seeded history, a worker that was down) is marked but not sent; more than
  ``notices.max_per_minute`` are marked and counted (``notices_capped``) rather than sent;
* the case is re-scored with its next moment (or dropped once no clock runs), and is in
  ``cc:cases:due`` (the 督办 list) while a clock is in 催办 or overdue;
* events that waited ``hold_hours`` for a complaint that never came are dead-lettered
  (``complaint_id.unknown``; ``complaint_id.not_an_item`` if the complaint is an enquiry).
"""
from __future__ import annotations

import asyncio
import logging
import math
import os
import socket
import time
from datetime import datetime

import orjson
import redis

from alerts.notify import Notifier, load_notify_config
from streams.store import redis_client
from config.divisions import divisions
from streams import keys
from streams.app import S, app
from streams.cases.config import default_case_config
from streams.cases.deadlines import STAGES, item_clocks
from streams.cases.read import _fetch, _unit, calendar
from streams.schema import error

log = logging.getLogger("streams.cases")
WORKER = f"{socket.gethostname()}-{os.getpid()}"
BATCH = 2000
TICK_BUDGET_S = 0.5
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
"""


def notice_alert(case: dict, clock, stage: str, tz, table) -> dict:
    """A case notice in the shape the notification channels format (an SLA notice of an 'alert')."""
    d = table.get(case["district"])
    alert = {"id": f"case:{case['id']}:{clock.name}", "kind": "case", "complaint_id": case["id"],
             "level": d.level if d else "county", "district": case["district"],
             "district_name": d.full_name if d else case["district"], "industry": case["industry"],
             "opened_at": datetime.fromtimestamp(case["ts"], tz).isoformat(),
             "sla": [{"name": clock.name, "label": clock.label, "mark": stage,
                      "due": datetime.fromtimestamp(clock.deadline, tz).isoformat()}]}
    if d is not None:
        alert.update(city=d.city_code, city_name=d.city_name, province=d.province_code)
    unit = _unit(case)
    if unit:
        alert["team"] = unit
    return alert


class CaseTimer:
    def __init__(self, settings=S, cfg=None, client=None):
        self.settings = settings
        self.cfg = cfg or default_case_config()
        self.r = client or redis_client(settings.redis_url, socket_timeout=10)
        self.cal = calendar(settings, self.cfg)
        self.table = divisions()
        self.renew = self.r.register_script(_RENEW)
        from streams.cases.store import TAKE_HELD_LUA
        self.take_held = self.r.register_script(TAKE_HELD_LUA)
        self.sent_at: list[float] = []

    def holds_lease(self) -> bool:
        ttl = int(max(5.0, 4 * self.cfg.tick_s) * 1000)
        return bool(self.renew(keys=[keys.CASES_TIMER], args=[WORKER, ttl]))

    def _may_send(self, now: float) -> bool:
        self.sent_at = [t for t in self.sent_at if t > now - 60]
        if len(self.sent_at) >= self.cfg.notice_max_per_minute:
            return False
        self.sent_at.append(now)
        return True

    def step(self, now: float) -> tuple[list[tuple[dict, str]], list[tuple[dict, list, str]]]:
        """One tick: (notices to send, dead letters to send)."""
        if not self.holds_lease():
            return [], []
        out: list = []
        t0 = time.monotonic()
        while True:        # catch up (after downtime or a backfill) a little each tick
            got, more = self._notices(now)
            out += got
            if not more or time.monotonic() - t0 > TICK_BUDGET_S:
                break
        return out, self._expire_held(now)

    def _notices(self, now: float) -> tuple[list[tuple[dict, str]], bool]:
        out = []
        ids = self.r.zrangebyscore(keys.CASES_OPEN, "-inf", now, start=0, num=BATCH)
        if not ids:
            return out, False
        cases = {c["id"]: c for c in _fetch(self.r, ids)}
        stats = {"notices": 0, "notices_late": 0, "notices_capped": 0}
        keep = self.cfg.keep_s
        with self.r.pipeline(transaction=False) as p:
            for cid in ids:
                case = cases.get(cid)
                if case is None:                       # expired or never a case
                    p.zrem(keys.CASES_OPEN, cid).zrem(keys.CASES_DUE, cid)
                    continue
                running = [c for c in item_clocks(case, self.cfg, self.cal) if c.stopped is None]
                nxt, due = math.inf, math.inf
                for c in running:
                    for stage in STAGES:
                        m = c.moment(stage)
                        if m > now:
                            nxt = min(nxt, m)
                        elif self.r.set(keys.case_notice(cid, c.name, stage), "1", nx=True, ex=keep):
                            if now - m > self.cfg.notice_max_lag_s:
                                stats["notices_late"] += 1
                            elif not self._may_send(now):
                                stats["notices_capped"] += 1
                            else:
                                stats["notices"] += 1
                                out.append((notice_alert(case, c, stage, self.settings.tz, self.table), stage))
                    if c.stage(now) in ("urging", "overdue"):
                        due = min(due, c.deadline)
                if due < math.inf:
                    p.zadd(keys.CASES_DUE, {cid: due})
                else:
                    p.zrem(keys.CASES_DUE, cid)
                if not running:
                    p.zrem(keys.CASES_OPEN, cid)
                else:   # all overdue: look again in a day (an event re-scores it at once)
                    p.zadd(keys.CASES_OPEN, {cid: nxt if nxt < math.inf else now + 86400})
            for k, v in stats.items():
                if v:
                    p.hincrby(keys.CASES_STATS, k, v)
            p.execute()
        return out, len(ids) == BATCH

    def _expire_held(self, now: float) -> list[tuple[dict, list, str]]:
        out = []
        for cid in self.r.zrangebyscore(keys.CASES_HELD, "-inf", now - self.cfg.hold_s, start=0, num=500):
            res = self.take_held(keys=[keys.CASES_OPEN], args=[cid, now])
            if not res or res[0] != "taken":
                continue
            enquiry = res[1] == "1"
            flat = res[2:]
            for i in range(0, len(flat), 2):
                raw = {**orjson.loads(flat[i + 1]), "complaint_id": cid}
                if enquiry:
                    errs = [error("complaint_id", "not_an_item", f"complaint {cid!r} is not an item with a case "
                                                                 f"(only {', '.join(self.cfg.kinds)} have one)")]
                else:
                    errs = [error("complaint_id", "unknown", f"complaint {cid!r} did not arrive within "
                                                             f"{self.cfg.hold_s / 3600:g} h of the event")]
                out.append((raw, errs, f"case-held:{raw.get('id', cid)}"))
        return out


_state: dict = {}


@app.timer(interval=default_case_config().tick_s)
async def case_clocks():
    """Send due 提醒卡/催办卡/overdue notices; dead-letter events whose complaint never came."""
    if "timer" not in _state:
        _state["timer"] = CaseTimer(S)
        _state["notifier"] = Notifier(load_notify_config())
    t: CaseTimer = _state["timer"]
    try:
        notices, dead = await asyncio.to_thread(t.step, time.time())
    except redis.RedisError as e:
        log.warning("case timer skipped a tick: Redis unavailable (%s)", e.__class__.__name__)
        return
    for alert, stage in notices:
        await _state["notifier"].send(alert, stage)
    if dead:
        from streams.agents import send_dead_letter
        for raw, errs, ref in dead:
            await send_dead_letter(raw, errs, ref, "case-timer")
