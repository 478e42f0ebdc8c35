"""Surge detection inside the stream worker: a faust timer over the tallies in Redis.

Every ``detection.tick`` (1 s) the worker holding the detector lease reads the current
hour's tally hash, scores it (:class:`alerts.live.LiveDetector`), and raises or updates
alerts in the :class:`alerts.store.AlertStore`; new, grouped and escalated alerts, and SLA
reminders, urgings and overdue marks, go to the :class:`alerts.notify.Notifier` (which
queues and retries in the background, so a dead webhook never stalls the stream).

* **One detector for the cluster.** The lease is a Redis key (``cc:alerts:detector``, 5 s,
  renewed every tick); a second worker stands by and takes over within 5 s of the first
  one's death.  Even two detectors at once would be harmless: raising is atomic and
  idempotent per series.
* **Late complaints are counted.** An import, a replay or a backlog writes into hours the
  detector has already learned; the tally's atomic step bumps those hours' versions
  (``cc:tver:{province}``, ``streams.keys.tally_versions``). Every tick one HGET tells whether
  any moved; if so exactly the hours that moved are read again and folded into what the
  detector learned (:meth:`alerts.live.LiveDetector.revise`: it goes back to its copy of the
  scan before those hours and learns the hours since again, so for the last three days it is
  what learning them on time gives; at most FOLD_DUTY of its time). An hour learned at its close is
  read once more when the tally's grace period is over (complaints within the grace are not
  "late" and bump no version).
* **Nothing to lose on a restart.** The detector keeps no state of its own: a worker that
  takes the lease rebuilds it from the last ``detection.history`` of hourly tallies
  (Redis is the truth), and open alerts, their audit trails and the notices already sent
  live in Redis.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from datetime import datetime, timedelta

import redis

from alerts.config import default_alert_config
from alerts.context import read_context
from alerts.live import LiveDetector, SeriesIndex, hour_floor, phrase_detections
from alerts.notify import Notifier, load_notify_config
from alerts.store import AlertStore
from config.divisions import divisions
from streams import keys
from streams.store import read_tallies, redis_client
from streams.app import S, app

log = logging.getLogger("alerts.agents")
LEASE = "cc:alerts:detector"
STATUS = "cc:alerts:detector:status"
WORKER = f"{socket.gethostname()}-{os.getpid()}"
COLD_REBUILD_S = 10.0
FOLD_EVERY_S = 1.0           # how often the detector looks for late writes (one HGET when none)
FOLD_DUTY = 0.25             # at most this share of the detector's time goes to folding late writes in
NOTIFY_EVENTS = {"new": "new", "grouped": "grouped", "escalated": "escalated"}

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
"""


class Detection:
    """The detector's I/O around :class:`LiveDetector` (sync Redis, run in a thread)."""

    def __init__(self, settings=S) -> None:
        self.settings = settings
        self.cfg = default_alert_config()
        self.det_cfg = self.cfg.detection
        self.r = redis_client(settings.redis_url, socket_timeout=5)
        self.store = AlertStore(self.r, self.cfg)
        self.table = divisions()
        self.province = self.det_cfg["province"]
        self.index = SeriesIndex(self.province, settings.complaints.industries, self.table)
        self.live: LiveDetector | None = None
        self.renew = self.r.register_script(_RENEW)
        self.context_at: dict[str, float] = {}
        self.raised: dict[str, tuple[int, float]] = {}      # series -> (observed, when) last written
        self.last_notices = 0.0
        self.rebuilt_at = 0.0
        self.read = None                  # a ReadModel for phrase alerts; its document cache is kept
        self.phrases_at = 0.0
        self.recent_phrases: dict[str, float] = {}   # phrase key -> when it last became a detection
        self.grace = float(settings.tally.grace_seconds)
        self.versions: dict[str, str] = {}           # tally versions as last folded (keys.tally_versions)
        self.versions_all: str | None = None
        self.folded_at = 0.0
        self.fold_wait = FOLD_EVERY_S             # longer after a costly fold (see fold_late)
        self.settle: dict[datetime, float] = {}      # hour learned at its close -> when its grace is over

    def _hours(self, hours: list[datetime]) -> list[dict]:
        """Hour tallies, with the minutes not folded into their hour yet (streams.store)."""
        return read_tallies(self.r, self.province, [("h", h.strftime("%Y%m%d%H")) for h in hours], self.settings.tz)

    def _hour_fields(self, hour: datetime) -> dict:
        return self._hours([hour])[0]

    def holds_lease(self) -> bool:
        ttl = int(max(5.0, 4 * self.det_cfg["tick_s"]) * 1000)
        return bool(self.renew(keys=[LEASE], args=[WORKER, ttl]))

    def rebuild(self, now: datetime) -> None:
        """A fresh detector, taught every closed hour of ``detection.history``."""
        t0 = time.perf_counter()
        live = LiveDetector(self.index, self.det_cfg)
        self._read_versions()             # before the hours: a late write from now on is folded in
        hours = int(self.det_cfg["history_s"] // 3600)
        current = hour_floor(now)
        first = current - timedelta(hours=hours)
        buckets = [first + timedelta(hours=h) for h in range(hours)]
        for a in range(0, len(buckets), 168):
            chunk = buckets[a:a + 168]
            for b, fields in zip(chunk, self._hours(chunk)):
                if fields or live.last_hour is not None:
                    live.commit(b, fields)
        learned_before = self.live.panel.steps if self.live is not None else -1
        self.live = live
        self.settle = {}
        if buckets:
            self._settles(buckets[-1])
        self.rebuilt_at = time.monotonic()
        # a cold detector relearns every few seconds: say so only when it learned something new
        say = log.info if live.panel.steps != learned_before else log.debug
        say("surge detector rebuilt from %d hours of tallies in %.1f s (%d series, %s)", live.panel.steps,
            time.perf_counter() - t0, self.index.n, "warm" if live.warm else
            f"warming up: {live.panel.grace_period - live.panel.steps} more hours before the first alarm")
        self._status(now)

    def _read_versions(self) -> None:
        vk = keys.tally_versions(self.province)
        self.versions = self.r.hgetall(vk)
        self.versions_all = self.versions.get("_all")

    def _settles(self, hour: datetime) -> None:
        """Read ``hour`` once more when the tally's grace period after it is over."""
        due = (hour + timedelta(hours=1)).timestamp() + self.grace + 5
        if due > time.time():
            self.settle[hour] = due

    def fold_late(self, now: datetime, force: bool = False) -> int:
        """Fold late complaints into what the detector has learned: the learned hours whose
        tally version moved (or whose grace period just ended) are read again, and those whose
        counts changed are relearned (:meth:`LiveDetector.revise`). One HGET when nothing
        moved; returns how many hours changed."""
        live = self.live
        if live is None or (not force and time.monotonic() - self.folded_at < self.fold_wait):
            return 0
        self.folded_at = time.monotonic()
        hours = {h for h, due in self.settle.items() if due <= now.timestamp()}
        for h in hours:
            del self.settle[h]
        vk = keys.tally_versions(self.province)
        gv = self.r.hget(vk, "_all")
        if gv != self.versions_all:
            now_v = self.r.hgetall(vk)
            for f, v in now_v.items():
                if f.startswith("h:") and self.versions.get(f) != v:
                    try:
                        hours.add(datetime.strptime(f[2:], "%Y%m%d%H").replace(tzinfo=self.settings.tz))
                    except ValueError:
                        continue
            self.versions, self.versions_all = now_v, now_v.get("_all")
        todo = sorted(h for h in hours if live.knows(h))
        if not todo:
            return 0
        tallies = self._hours(todo)
        t0, replayed = time.perf_counter(), live.replayed
        n = live.revise(dict(zip(todo, tallies)))
        took = time.perf_counter() - t0
        # relearning from a copy costs up to ~80 hours of learning: while an import keeps writing
        # into past hours, fold at most FOLD_DUTY of the time (the writes are batched meanwhile)
        self.fold_wait = max(FOLD_EVERY_S, took / FOLD_DUTY)
        if n:
            log.info("surge detector folded late complaints into %d learned hour(s) (%s), %d hours relearned "
                     "in %.2f s", n, ", ".join(f"{h:%m-%d %H}:00" for h in todo[:5]) + (" …" if len(todo) > 5 else ""),
                     live.replayed - replayed, took)
            self._status(now)
        return n

    def _status(self, now: datetime) -> None:
        live = self.live
        self.r.hset(STATUS, mapping={"worker": WORKER, "at": now.isoformat(), "hours_learned": live.panel.steps,
                                     "warm": int(live.warm), "series": self.index.n,
                                     "grace_hours": live.panel.grace_period, "late_hours_folded": live.revisions})
        self.r.expire(STATUS, 60)

    def step(self, now: datetime) -> list[tuple[dict, str]]:
        """One tick: learn closed hours, score the current one, raise alerts.

        Returns ``(alert, event)`` pairs to notify.
        """
        if not self.holds_lease():
            self.live = None                    # someone else detects; rebuild if we take over
            return []
        if self.live is None or (not self.live.warm and time.monotonic() - self.rebuilt_at >= COLD_REBUILD_S):
            # cold: history may still be arriving (a first start seeds it after the workers
            # are up, an import may backfill), so relearn it until there is enough
            self.rebuild(now)
        live = self.live
        current = hour_floor(now)
        if live.last_hour is not None and live.last_hour < current - timedelta(hours=1):
            h = live.last_hour + timedelta(hours=1)
            while h < current:
                live.commit(h, self._hour_fields(h))
                self._settles(h)
                h += timedelta(hours=1)
            self._status(now)
        elif live.last_hour is None:
            prev = current - timedelta(hours=1)
            live.commit(prev, self._hour_fields(prev))
            self._settles(prev)
        self.fold_late(now)
        out = []
        dets = live.tick(now, self._hour_fields(current))
        if live.warm and time.monotonic() - self.phrases_at >= self.det_cfg["phrase_every_s"]:
            self.phrases_at = time.monotonic()
            try:
                dets += self._phrase_dets(now)
            except redis.RedisError:
                raise
            except Exception:  # noqa: BLE001 - a phrase alert's failure must not stop district detection
                log.exception("phrase alerts skipped this minute")
        for det in dets:
            out += self._raise(det, now)
        if time.monotonic() - self.last_notices >= 5:
            self.last_notices = time.monotonic()
            for alert, notice in self.store.pending_notices(now):
                if self.store.mark_notice_sent(alert["id"], notice["key"]):
                    out.append((alert, notice["event"]))
        return out

    def _phrase_dets(self, now: datetime) -> list[dict]:
        """Rising phrases of the province's last hour that no district alert explains."""
        if not self.settings.nlp.enabled or self.det_cfg["phrase_min_count"] <= 0:
            return []
        from streams.readmodel import ReadModel

        t0 = time.perf_counter()
        if self.read is None:
            self.read = ReadModel(self.settings, self.r)
        t = self.read.topics("province", self.province, window="hour", at=now, top=50)
        if not t["baseline_ok"]:
            return []
        since = now - timedelta(hours=1)
        live = self.live
        recent = now.timestamp() - live.suppress_s
        busy = {s.key for s, last in zip(self.index.series, live.last_alarm) if last >= recent}
        self.recent_phrases = {k: at for k, at in self.recent_phrases.items() if at >= recent}
        dets = phrase_detections(t["phrases"]["by_burst"], self.read.documents(self.province, since, now),
                                 province=self.province, table=self.table, busy=busy,
                                 min_count=self.det_cfg["phrase_min_count"],
                                 min_score=self.det_cfg["phrase_min_score"], now=now, since=since,
                                 recent=set(self.recent_phrases))
        for d in dets:
            self.recent_phrases[d["phrase_key"]] = now.timestamp()
        log.info("phrase alerts: %d phrases rising, %d to raise (%.2f s)",
                 sum(1 for b in t["phrases"]["by_burst"] if b["rising"]), len(dets), time.perf_counter() - t0)
        return dets

    def _raise(self, det: dict, now: datetime) -> list[tuple[dict, str]]:
        key = det["series"]
        seen = self.raised.get(key)
        if seen and seen[0] == det["observed"] and time.monotonic() - seen[1] < 60:
            return []                       # nothing new: no write, no "updated" in the audit trail
        self.raised[key] = (det["observed"], time.monotonic())
        # the context (phrases, merchants, samples) is read when a series first alarms and
        # then at most once a minute: cheap ticks, fresh enough alerts
        last = self.context_at.get(key, 0.0)
        if time.monotonic() - last >= 60:
            try:
                ctx = read_context(self.r, det, self.province, self.table, now, self.det_cfg["context_hours"])
                det.update(phrases=ctx["phrases"], merchants=ctx["merchants"], samples=ctx["samples"])
            except (ValueError, KeyError, TypeError):  # an odd document: an alert without context beats none
                log.exception("context of %s could not be read", key)
            self.context_at[key] = time.monotonic()
        aid, outcome = self.store.raise_or_update(det, now)
        if aid and outcome in NOTIFY_EVENTS:
            log.warning("surge alert %s (%s): %s observed %s, expected %.1f, score %.1f", aid, outcome, key,
                        det["observed"], det["expected"], det["score"])
            alert = self.store.get(aid)
            if alert:
                return [(alert, NOTIFY_EVENTS[outcome])]
        return []


_state: dict = {}


def _on_result(alert_id, event, channel, ok, attempts, error):
    d = _state.get("detection")
    if d is not None:
        d.store.record_delivery(alert_id, event, channel, ok, attempts, error)
    if not ok:
        log.warning("alert %s (%s) not delivered to %s after %d attempts: %s", alert_id, event, channel, attempts, error)


@app.timer(interval=default_alert_config().detection["tick_s"])
async def detect_surges():
    """Score the hour in progress and raise, update and notify surge alerts."""
    if "detection" not in _state:
        _state["detection"] = Detection(S)
        _state["notifier"] = Notifier(load_notify_config(), on_result=_on_result)
    d: Detection = _state["detection"]
    try:
        todo = await asyncio.to_thread(d.step, datetime.now(S.tz))
    except redis.RedisError as e:
        log.warning("surge detection skipped a tick: Redis unavailable (%s)", e.__class__.__name__)
        d.live = None
        return
    for alert, event in todo:
        await _state["notifier"].send(alert, event)
