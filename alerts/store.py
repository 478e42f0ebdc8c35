"""Surge alerts in Redis: raise/update from detections, lifecycle actions, silences, SLA
notices and delivery logs.

Everything is plain Redis keys (JSON strings, lists, sets, sorted sets, hashes), so it
survives a restart of Redis (AOF) or of the workers, and every write is idempotent under a
replay of the same detections.  Writes that read first run under WATCH/MULTI (optimistic
locking, retried on conflict), so concurrent workers never raise two alerts for one series
and two officers never both move one alert.

Keys (``{id}`` an alert id ``a-<12 hex>``, ``{sid}`` a silence id ``s-<10 hex>``):

=====================================  ======  =============================================
key                                    type    holds
=====================================  ======  =============================================
cc:alert:{id}                          string  the alert, JSON
cc:alert:{id}:log                      list    audit trail, JSON entries (raised, updated, actions)
cc:alert:{id}:deliveries               list    notification deliveries, JSON entries
cc:alert:{id}:sent                     set     SLA notice keys already sent ("dispatch:reminder")
cc:alerts:all                          zset    every alert id, scored by opened time (epoch s)
cc:alerts:open                         zset    open alert ids, scored by opened time
cc:alerts:closed                       zset    closed / false-alarm ids, scored by end time
cc:alerts:series:{series}              hash    open (id or ""), closed_at, closed_id
cc:alerts:group:{city}:{industry}      zset    open alert ids of the group, in creation order
cc:alerts:silenced                     hash    episodes suppressed: total, and per silence id
cc:alerts:delivery_failures            hash    failed deliveries: total, and per channel
cc:silence:{sid}                       string  the silence, JSON
cc:silence:{sid}:episodes              set     episodes it suppressed ("series|since"), counted once
cc:silences                            zset    every silence id, scored by creation time
=====================================  ======  =============================================

On a Redis Cluster (``REDIS_CLUSTER=1``) every name starts ``cc:{alerts}:`` instead of ``cc:``
(``streams.keys.ALERTS``): one hash slot, as the WATCH/MULTI steps and the Lua touch several.
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
import time
import uuid
import re
from datetime import datetime, timedelta
from pathlib import Path

import redis

from alerts.config import AlertConfig, default_alert_config, load_alert_config
from alerts.lifecycle import (CLOSED_STATES, OPEN_STATES, STATE_LABELS, STATES, TZ, LifecycleError, apply,
                              due_notices, iso, parse_time, urgency)
from alerts.severity import severity_of
from streams import keys
from nlp.pii import mask_contact, mask_text

__all__ = ["AlertStore", "alert_id", "district_covers", "LEVELS"]

LEVELS = ("province", "city", "county")
_MAX_RETRIES = 200
_SAMPLE_TEXT_KEYS = ("text", "summary", "title", "snippet")
_SAMPLE_CONTACT_KEYS = ("contact", "complainant")

_COUNT_SILENCED = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[2], 'total', 1)
  redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
  return 1
end
return 0
"""


def alert_id(series: str, since: str) -> str:
    """Deterministic id of the alert of one surge episode: a replay finds the same id."""
    return "a-" + hashlib.sha1(f"{series}|{since}".encode("utf-8")).hexdigest()[:12]


def _division(code: str):
    try:
        from config.divisions import divisions
        return divisions().get(code)
    except Exception:  # pragma: no cover - the table ships with the project
        return None


def district_covers(silence_district: str, district: str) -> bool:
    """True when ``district`` is ``silence_district`` or lies under it (province > city > county)."""
    s, d = str(silence_district), str(district)
    if s == d:
        return True
    div = _division(d)
    if div is not None and s in (div.province_code, div.city_code, div.parent_code):
        return True
    if len(s) == 6 and len(d) == 6:
        if s.endswith("0000"):
            return d[:2] == s[:2]
        if s.endswith("00"):
            return d[:4] == s[:4]
    return False


def _num(v):
    """A JSON-safe number: NaN/inf/non-numbers -> None."""
    if isinstance(v, bool) or v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    if math.isnan(f) or math.isinf(f):
        return None
    return int(f) if isinstance(v, int) else f


def _dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _ts(t: datetime) -> float:
    return t.timestamp()


def _lenient_time(value) -> datetime | None:
    """Detection times for comparison only; a naive time is taken as Asia/Shanghai."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=TZ)
    if isinstance(value, str) and value:
        try:
            t = datetime.fromisoformat(value)
        except ValueError:
            return None
        return t if t.tzinfo else t.replace(tzinfo=TZ)
    return None


_RELATIVE = re.compile(r"^\s*\+\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$", re.I)
_REL_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
              "d": 86400, "day": 86400, "w": 7 * 86400, "week": 7 * 86400, "month": 30 * 86400,
              "y": 365 * 86400, "year": 365 * 86400}


def silence_until(value, now: datetime) -> datetime | None:
    """A silence's end: an aware datetime, an ISO 8601 time with offset, or a span from now such
    as ``+2h``, ``+3d``, ``+1 week`` (``+100 years`` parses, and is then refused as too long).

    >>> from datetime import timezone
    >>> silence_until("+2h", datetime(2026, 1, 1, tzinfo=timezone.utc)).isoformat()
    '2026-01-01T02:00:00+00:00'
    """
    if isinstance(value, str):
        m = _RELATIVE.match(value)
        if m:
            unit = m.group(2).lower()
            unit = unit[:-1] if unit.endswith("s") and unit[:-1] in _REL_UNITS else unit
            if unit not in _REL_UNITS:
                raise ValueError(f"until {value!r}: unknown unit {m.group(2)!r} (use m, h, d or w, e.g. +2h)")
            secs = float(m.group(1)) * _REL_UNITS[unit]
            if secs > 1e11:
                raise ValueError(f"until {value!r} is far too long")
            return now + timedelta(seconds=secs)
    return parse_time(value, "until")


def silence_label(sil: dict) -> str:
    """A silence in one short zh-CN line for the wall and the console: what, until when, why.

    >>> silence_label({"district": "140400", "district_name": "长治市", "industry": "食品", "level": None,
    ...                "until": "2026-05-03T08:00:00+08:00", "reason": "节日促销"})
    '长治市·食品 至05-03 08:00（节日促销）'
    """
    level = {"county": "县级", "city": "市级", "province": "省级"}.get(sil.get("level") or "", "")
    what = "·".join(x for x in (sil.get("district_name") or sil.get("district"), sil.get("industry"),
                                level and f"{level}预警") if x) or "全部"
    until = str(sil.get("until") or "")
    until = f"{until[5:10]} {until[11:16]}" if len(until) >= 16 else until
    reason = str(sil.get("reason") or "").strip()
    return f"{what} 至{until}" + (f"（{reason[:40]}）" if reason else "")


def _mask_sample(s):
    """A sample complaint with its free text masked again and contacts masked (defense in depth)."""
    if isinstance(s, str):
        return mask_text(s)
    if isinstance(s, dict):
        out = {}
        for k, v in s.items():
            if k in _SAMPLE_TEXT_KEYS and isinstance(v, str):
                out[k] = mask_text(v)
            elif k in _SAMPLE_CONTACT_KEYS:
                out[k] = mask_contact(v)
            else:
                out[k] = v
        return out
    return mask_text(str(s))


def _sample_key(s) -> str:
    if isinstance(s, dict):
        return str(s.get("id") or s.get("text") or _dumps(s))
    return str(s)


class AlertStore:
    """Alerts, silences, SLA notices and deliveries in Redis (sync client, decode_responses=True)."""

    def __init__(self, client: redis.Redis, config: AlertConfig | str | Path | None = None):
        self.r = client
        if config is None:
            config = default_alert_config()
        elif isinstance(config, (str, Path)):
            config = load_alert_config(config)
        self.config: AlertConfig = config
        self._count_silenced = self.r.register_script(_COUNT_SILENCED)

    # -- keys --------------------------------------------------------------------------
    @staticmethod
    def _k_alert(aid: str) -> str:
        return keys.ALERTS + f"alert:{aid}"

    @staticmethod
    def _k_series(series: str) -> str:
        return keys.ALERTS + f"alerts:series:{series}"

    @staticmethod
    def _k_group(group: str) -> str:
        return keys.ALERTS + f"alerts:group:{group}"

    # -- teams -------------------------------------------------------------------------
    @property
    def teams(self) -> list[str]:
        """The teams a dispatch may choose (``teams.valid`` in config/alerts.yaml)."""
        return list(self.config.teams)

    def suggest_team(self, industry: str | None) -> str:
        return self.config.suggest_team(industry)

    # -- detections --------------------------------------------------------------------
    def _normalise(self, det: dict) -> dict:
        if not isinstance(det, dict):
            raise ValueError(f"a detection must be a dict, got {type(det).__name__}")
        missing = [k for k in ("series", "since") if not det.get(k)]
        if missing:
            raise ValueError(f"detection lacks {', '.join(missing)}: {_dumps({k: str(v) for k, v in det.items()})[:300]}")
        series = str(det["series"])
        parts = series.split(":", 2)
        if len(parts) != 3:
            raise ValueError(f"detection series {series!r} must be level:district:industry")
        level = det.get("level") or parts[0]
        district = str(det.get("district") or parts[1])
        industry = det.get("industry") or parts[2]
        if level not in LEVELS:
            raise ValueError(f"detection level {level!r} must be one of {', '.join(LEVELS)}")
        if not (len(district) == 6 and district.isdigit()):
            raise ValueError(f"detection district {district!r} must be a 6-digit division code")
        since = det["since"].isoformat() if isinstance(det["since"], datetime) else str(det["since"])
        at = det.get("at") or since
        at = at.isoformat() if isinstance(at, datetime) else str(at)
        div = _division(district)
        city = det.get("city")
        if not city:
            if level == "province" or district.endswith("0000"):
                city = district
            elif div is not None:
                city = div.city_code or div.parent_code or div.province_code
            else:
                city = district[:4] + "00"
        city = str(city)
        cdiv = _division(city)
        province = str(det.get("province") or (div.province_code if div else district[:2] + "0000"))
        pdiv = _division(province)
        return {"series": series, "level": level, "district": district, "industry": industry,
                "district_name": det.get("district_name") or (div.name if div else ""),
                "city": city, "city_name": det.get("city_name") or (cdiv.name if cdiv else ""),
                "province": province, "province_name": det.get("province_name") or (pdiv.name if pdiv else ""),
                "since": since, "at": at, "observed": _num(det.get("observed")),
                "expected": _num(det.get("expected")), "score": _num(det.get("score")) or 0.0,
                "threshold": _num(det.get("threshold")), "method": det.get("method"),
                "phrases": list(det.get("phrases") or []), "merchants": list(det.get("merchants") or []),
                "samples": [_mask_sample(s) for s in (det.get("samples") or [])],
                "team": det.get("team"), "phrase": det.get("phrase"), "phrase_key": det.get("phrase_key")}

    @staticmethod
    def _ratio(observed, expected):
        if observed is None or not expected or expected <= 0:
            return None
        return round(observed / expected, 3)

    def _merge_samples(self, new: list, old: list) -> list:
        out, seen = [], set()
        for s in list(new) + list(old):
            k = _sample_key(s)
            if k not in seen:
                seen.add(k)
                out.append(s)
        return out[: self.config.max_samples]

    def _build(self, aid: str, d: dict, now: datetime, lead: str | None) -> dict:
        at = iso(now)
        team = d["team"] or self.suggest_team(d["industry"])
        return {
            "id": aid, "series": d["series"], "level": d["level"], "district": d["district"],
            "district_name": d["district_name"], "city": d["city"], "city_name": d["city_name"],
            "province": d["province"], "province_name": d["province_name"],
            "industry": d["industry"], "group": f"{d['city']}:{d['industry']}",
            "state": "new", "state_label": STATE_LABELS["new"], "opened_at": at, "updated_at": at,
            "since": d["since"], "at": d["at"], "observed": d["observed"], "expected": d["expected"],
            "ratio": self._ratio(d["observed"], d["expected"]), "score": d["score"],
            "first_score": d["score"], "notified_score": d["score"], "threshold": d["threshold"],
            "method": d["method"], "phrases": d["phrases"], "merchants": d["merchants"],
            "samples": self._merge_samples(d["samples"], []), "team": team, "suggested_team": team,
            "group_lead": lead, "updates": 0, "escalations": 0, "phrase": d.get("phrase"),
            "phrase_key": d.get("phrase_key"),
        }

    def _merge(self, cur: dict, d: dict, now: datetime) -> tuple[dict, bool]:
        """(new alert, escalated) for a detection on the series of open alert ``cur``."""
        new = copy.deepcopy(cur)
        t_new, t_cur = _lenient_time(d["at"]), _lenient_time(cur.get("at"))
        newer = t_cur is None or (t_new is not None and t_new >= t_cur)
        if newer:
            new.update(at=d["at"], observed=d["observed"], expected=d["expected"],
                       ratio=self._ratio(d["observed"], d["expected"]), threshold=d["threshold"],
                       method=d["method"] or cur.get("method"))
            if d["phrases"]:
                new["phrases"] = d["phrases"]
            if d["merchants"]:
                new["merchants"] = d["merchants"]
        new["score"] = max(cur.get("score") or 0.0, d["score"])
        old = cur.get("samples") or []     # newest detection's samples first
        new["samples"] = self._merge_samples(d["samples"], old) if newer else self._merge_samples(old, d["samples"])
        notified = cur.get("notified_score") or 0.0
        escalated = notified > 0 and d["score"] >= self.config.escalate_factor * notified
        if escalated:
            new["notified_score"] = d["score"]
            new["escalations"] = cur.get("escalations", 0) + 1
        if new != cur:
            new["updated_at"] = iso(now)
            new["updates"] = cur.get("updates", 0) + 1
        return new, escalated

    def raise_or_update(self, det: dict, now: datetime) -> tuple[str | None, str]:
        """Raise an alert from a detection, or update the open one of its series.

        Returns (alert id or None, outcome): "new", "grouped", "updated", "escalated",
        "cooldown" or "silenced".  Atomic under concurrent callers and idempotent under
        replays: the id is ``alert_id(series, since)``, and a series has one open alert.
        """
        now = parse_time(now, "now")
        d = self._normalise(det)
        aid = alert_id(d["series"], d["since"])
        skey = self._k_series(d["series"])
        for _ in range(_MAX_RETRIES):
            with self.r.pipeline(transaction=True) as p:   # explicit: a cluster pipeline watches only then
                try:
                    p.watch(skey)
                    open_id = p.hget(skey, "open")
                    if open_id:
                        p.watch(self._k_alert(open_id))
                        raw = p.get(self._k_alert(open_id))
                        cur = json.loads(raw) if raw else None
                        if cur and cur.get("state") in OPEN_STATES:
                            return open_id, self._update(p, cur, d, now)
                    p.watch(self._k_alert(aid))
                    raw = p.get(self._k_alert(aid))
                    if raw:
                        cur = json.loads(raw)
                        if cur.get("state") in OPEN_STATES:      # pointer lost: repair and update
                            return aid, self._update(p, cur, d, now, repair=skey)
                        return None, "cooldown"                   # a replay never reopens an episode
                    closed_at = parse_time(p.hget(skey, "closed_at"), "closed_at")
                    if closed_at is not None and now - closed_at < self.config.cooldown:
                        return None, "cooldown"
                    sil = self.is_silenced(d, now)
                    if sil is not None:
                        p.reset()
                        self._count_silenced(keys=[keys.ALERTS + f"silence:{sil['id']}:episodes", keys.ALERTS + "alerts:silenced"],
                                             args=[f"{d['series']}|{d['since']}", sil["id"]])
                        return None, "silenced"
                    group = f"{d['city']}:{d['industry']}"
                    gkey = self._k_group(group)
                    p.watch(gkey)
                    lead = p.zrange(gkey, 0, 0)
                    lead = lead[0] if lead else None
                    last = p.zrange(gkey, -1, -1, withscores=True)
                    # group order is creation order (the lead is the first still open), even
                    # when callers' clocks disagree
                    gscore = max(_ts(now), last[0][1] + 0.001) if last else _ts(now)
                    alert = self._build(aid, d, now, lead)
                    entry = {"at": iso(now), "action": "raised", "by": "system", "outcome": "grouped" if lead else "new",
                             "observed": alert["observed"], "expected": alert["expected"], "score": alert["score"],
                             "det_at": d["at"], "group_lead": lead, "team": alert["team"], "note": None}
                    ts = _ts(now)
                    p.multi()
                    p.set(self._k_alert(aid), _dumps(alert))
                    p.rpush(f"{self._k_alert(aid)}:log", _dumps(entry))
                    p.hset(skey, "open", aid)
                    p.zadd(keys.ALERTS + "alerts:all", {aid: ts})
                    p.zadd(keys.ALERTS + "alerts:open", {aid: ts})
                    p.zadd(gkey, {aid: gscore})
                    p.execute()
                    return aid, "grouped" if lead else "new"
                except redis.WatchError:
                    time.sleep(0.001)
                    continue
        raise RuntimeError(f"raise_or_update: gave up on series {d['series']} after {_MAX_RETRIES} conflicts")

    def _update(self, p, cur: dict, d: dict, now: datetime, repair: str | None = None) -> str:
        new, escalated = self._merge(cur, d, now)
        if escalated and self.is_silenced(d, now) is not None:
            new["notified_score"], new["escalations"] = cur.get("notified_score"), cur.get("escalations", 0)
            escalated = False
        outcome = "escalated" if escalated else "updated"
        p.multi()
        if new != cur:
            p.set(self._k_alert(cur["id"]), _dumps(new))
            p.rpush(f"{self._k_alert(cur['id'])}:log", _dumps(
                {"at": iso(now), "action": outcome, "by": "system", "observed": new["observed"],
                 "expected": new["expected"], "score": d["score"], "det_at": d["at"], "team": None, "note": None}))
        if repair:
            p.hset(repair, "open", cur["id"])
        p.execute()
        return outcome

    # -- reading -----------------------------------------------------------------------
    def _rated(self, alert: dict) -> dict:
        """The alert with its warning level (``severity``: red, orange, yellow, blue; alerts/severity.py),
        judged on read from its current numbers and the configured rules."""
        alert["severity"] = severity_of(alert, self.config.severity or None)
        return alert

    def get(self, alert_id: str) -> dict | None:
        raw = self.r.get(self._k_alert(alert_id))
        return self._rated(json.loads(raw)) if raw else None

    def _many(self, ids: list[str]) -> list[dict]:
        if not ids:
            return []
        return [self._rated(json.loads(x)) for x in self.r.mget([self._k_alert(i) for i in ids]) if x]

    @staticmethod
    def _states(states) -> set[str] | None:
        if states is None:
            return None
        if states == "open":
            return set(OPEN_STATES)
        if states == "closed":
            return set(CLOSED_STATES)
        if isinstance(states, str):
            states = [states]
        out = set(states)
        bad = sorted(out - set(STATES))
        if bad:
            raise ValueError(f"unknown alert state(s) {', '.join(bad)}; use open, closed or {', '.join(STATES)}")
        return out

    def list(self, states=None, since=None, limit: int = 200, *, now: datetime | None = None) -> list[dict]:
        """Alerts in ``states`` (None: all; "open"; "closed"; or state names) opened at or after
        ``since``.  Open-only selections are sorted most urgent first, others newest first."""
        wanted = self._states(states)
        since_t = parse_time(since, "since")
        lo = _ts(since_t) if since_t else "-inf"
        now = parse_time(now, "now") or datetime.now(TZ)
        if wanted is not None and wanted <= set(OPEN_STATES):
            ids = self.r.zrangebyscore(keys.ALERTS + "alerts:open", lo, "+inf")
            alerts = [a for a in self._many(ids) if a.get("state") in wanted]
            alerts.sort(key=lambda a: urgency(a, now, self.config))
            return alerts[:limit]
        out: list[dict] = []
        start, page = 0, 500
        while len(out) < limit:
            ids = self.r.zrevrangebyscore(keys.ALERTS + "alerts:all", "+inf", lo, start=start, num=page)
            if not ids:
                break
            out.extend(a for a in self._many(ids) if wanted is None or a.get("state") in wanted)
            start += page
        return out[:limit]

    def groups(self, open_only: bool = True, *, now: datetime | None = None) -> list[dict]:
        """Alerts grouped by city and industry, most urgent group first.

        Each: {group, city, city_name, industry, lead (the first alert of the group still
        open, or None), open (how many are open), alerts (most urgent first)}.
        """
        now = parse_time(now, "now") or datetime.now(TZ)
        alerts = self.list("open" if open_only else None, limit=10 ** 9, now=now)
        by: dict[str, list[dict]] = {}
        for a in alerts:
            by.setdefault(a.get("group") or f"{a.get('city')}:{a.get('industry')}", []).append(a)
        names = list(by)
        with self.r.pipeline(transaction=False) as p:
            for g in names:
                p.zrange(self._k_group(g), 0, 0)
            leads = dict(zip(names, (x[0] if x else None for x in p.execute())))
        out = []
        for g, members in by.items():
            members.sort(key=lambda a: urgency(a, now, self.config))
            out.append({"group": g, "city": members[0].get("city"), "city_name": members[0].get("city_name"),
                        "industry": members[0].get("industry"), "lead": leads[g],
                        "open": sum(a.get("state") in OPEN_STATES for a in members), "alerts": members})
        out.sort(key=lambda grp: urgency(grp["alerts"][0], now, self.config))
        return out

    def history(self, alert_id: str) -> list[dict]:
        """The alert's audit trail, oldest first."""
        return [json.loads(x) for x in self.r.lrange(f"{self._k_alert(alert_id)}:log", 0, -1)]

    # -- actions -----------------------------------------------------------------------
    def act(self, alert_id: str, action: str, by: str, *, team: str | None = None, note: str | None = None,
            now: datetime | None = None) -> dict:
        """Apply a lifecycle action (ack, dispatch, respond, onsite, close, false_alarm).

        Unknown id: KeyError.  A refused move: LifecycleError (a ValueError).  Of two
        concurrent conflicting actions exactly one applies; the other sees the new state
        and is refused.
        """
        now = parse_time(now, "now") or datetime.now(TZ)
        if action == "dispatch" and isinstance(team, str) and team.strip() and team.strip() not in self.config.teams:
            raise LifecycleError(f"cannot dispatch: unknown team {team.strip()!r}; choose one of "
                                 f"{', '.join(self.config.teams)} (派单对象不在快反分队名单中)")
        note = mask_text(note) if isinstance(note, str) else note
        key = self._k_alert(alert_id)
        for _ in range(_MAX_RETRIES):
            with self.r.pipeline(transaction=True) as p:
                try:
                    p.watch(key)
                    raw = p.get(key)
                    if raw is None:
                        raise KeyError(f"no alert with id {alert_id!r} (预警不存在)")
                    cur = json.loads(raw)
                    new, entry = apply(cur, action, by, now, team=team, note=note)
                    closing = new["state"] in CLOSED_STATES
                    skey = self._k_series(cur["series"])
                    if closing:
                        p.watch(skey)
                        owns = p.hget(skey, "open") == alert_id
                    p.multi()
                    p.set(key, _dumps(new))
                    p.rpush(f"{key}:log", _dumps(entry))
                    if closing:
                        p.zrem(keys.ALERTS + "alerts:open", alert_id)
                        p.zadd(keys.ALERTS + "alerts:closed", {alert_id: _ts(now)})
                        p.zrem(self._k_group(cur.get("group") or f"{cur['city']}:{cur['industry']}"), alert_id)
                        fields = {"closed_at": iso(now), "closed_id": alert_id}
                        if owns:
                            fields["open"] = ""
                        p.hset(skey, mapping=fields)
                    p.execute()
                    return self._rated(new)
                except redis.WatchError:
                    time.sleep(0.001)
                    continue
        raise RuntimeError(f"act: gave up on alert {alert_id} after {_MAX_RETRIES} conflicts")

    # -- silences ----------------------------------------------------------------------
    def add_silence(self, *, district: str | None = None, industry: str | None = None, level: str | None = None,
                    start: datetime | str | None = None, until: datetime | str, reason: str, by: str,
                    now: datetime | None = None) -> str:
        """Silence new alerts matching district (and everything under it), industry and level
        from ``start`` (default now) until ``until``.  Returns the silence id."""
        now = parse_time(now, "now") or datetime.now(TZ)
        until_t = silence_until(until, now)
        start_t = parse_time(start, "start") or now
        max_days = self.config.silence_max_days
        problems = []
        if until_t is None:
            problems.append("until is required")
        elif until_t <= now:
            problems.append(f"until {iso(until_t)} is not in the future")
        elif start_t >= until_t:
            problems.append("start must be before until")
        elif until_t - max(start_t, now) > timedelta(days=max_days):
            days = (until_t - max(start_t, now)).total_seconds() / 86400
            problems.append(f"a silence lasts at most {max_days} days (alerts.silence_max_days); this one would "
                            f"last {days:,.1f} days (静默最长{max_days}天)")
        if start_t - now > timedelta(days=max_days):
            problems.append(f"start may be at most {max_days} days ahead")
        if not isinstance(reason, str) or not reason.strip():
            problems.append("a reason is required (需填写原因)")
        if not isinstance(by, str) or not by.strip():
            problems.append("'by' (the user) is required (需填写操作人)")
        if district is not None:
            district = str(district)
            if not (len(district) == 6 and district.isdigit()) or _division(district) is None:
                problems.append(f"district {district!r} is not a known 6-digit division code")
        if level is not None and level not in LEVELS:
            problems.append(f"level {level!r} must be one of {', '.join(LEVELS)}")
        if industry is not None and (not isinstance(industry, str) or not industry.strip()):
            problems.append("industry must be a non-empty name (or None for all)")
        if district is None and industry is None and level is None:
            problems.append("give at least one of district, industry, level (a silence of everything is refused)")
        if problems:
            raise ValueError("cannot add silence: " + "; ".join(problems))
        sid = "s-" + uuid.uuid4().hex[:10]
        div = _division(district) if district else None
        sil = {"id": sid, "district": district, "district_name": div.name if div else None,
               "industry": industry.strip() if industry else None, "level": level, "start": iso(start_t),
               "until": iso(until_t), "reason": mask_text(reason.strip()), "by": by.strip(),
               "created_at": iso(now), "removed_at": None, "removed_by": None}
        with self.r.pipeline(transaction=True) as p:
            p.set(keys.ALERTS + f"silence:{sid}", _dumps(sil))
            p.zadd(keys.ALERTS + "silences", {sid: _ts(now)})
            p.execute()
        return sid

    @staticmethod
    def _active(sil: dict, now: datetime) -> bool:
        return (not sil.get("removed_at") and parse_time(sil["start"]) <= now < parse_time(sil["until"]))

    def silences(self, now: datetime | None = None, active_only: bool = True) -> list[dict]:
        """Silences, newest first; by default only those in force at ``now``."""
        now = parse_time(now, "now") or datetime.now(TZ)
        ids = self.r.zrevrange(keys.ALERTS + "silences", 0, -1)
        if not ids:
            return []
        sils = [json.loads(x) for x in self.r.mget([keys.ALERTS + f"silence:{i}" for i in ids]) if x]
        if active_only:
            sils = [s for s in sils if self._active(s, now)]
        return sils

    def remove_silence(self, silence_id: str, by: str, now: datetime | None = None) -> bool:
        """End a silence now (kept for the record).  False when unknown or already removed."""
        if not isinstance(by, str) or not by.strip():
            raise ValueError("cannot remove silence: 'by' (the user) is required (需填写操作人)")
        now = parse_time(now, "now") or datetime.now(TZ)
        key = keys.ALERTS + f"silence:{silence_id}"
        for _ in range(_MAX_RETRIES):
            with self.r.pipeline(transaction=True) as p:
                try:
                    p.watch(key)
                    raw = p.get(key)
                    if not raw:
                        return False
                    sil = json.loads(raw)
                    if sil.get("removed_at"):
                        return False
                    sil.update(removed_at=iso(now), removed_by=by.strip())
                    p.multi()
                    p.set(key, _dumps(sil))
                    p.execute()
                    return True
                except redis.WatchError:
                    continue
        raise RuntimeError(f"remove_silence: gave up on {silence_id}")

    @staticmethod
    def _matches(sil: dict, det: dict) -> bool:
        if sil.get("level") and sil["level"] != det.get("level"):
            return False
        if sil.get("industry") and sil["industry"] != det.get("industry"):
            return False
        if sil.get("district") and not district_covers(sil["district"], det.get("district", "")):
            return False
        return True

    def is_silenced(self, det: dict, now: datetime) -> dict | None:
        """The active silence covering the detection (the one lasting longest), else None."""
        now = parse_time(now, "now")
        d = det
        if not (det.get("level") and det.get("district") and det.get("industry")):
            parts = str(det.get("series", "")).split(":", 2)
            if len(parts) == 3:
                d = {"level": det.get("level") or parts[0], "district": det.get("district") or parts[1],
                     "industry": det.get("industry") or parts[2]}
        hits = [s for s in self.silences(now) if self._matches(s, d)]
        return max(hits, key=lambda s: s["until"]) if hits else None

    def silenced_stats(self) -> dict:
        """{"total": n, <silence id>: n}: episodes suppressed, each counted once."""
        return {k: int(v) for k, v in self.r.hgetall(keys.ALERTS + "alerts:silenced").items()}

    # -- SLA notices -------------------------------------------------------------------
    def pending_notices(self, now: datetime) -> list[tuple[dict, dict]]:
        """(alert, notice) for every SLA notice due now and not yet marked sent, most urgent first.

        Only open alerts have running clocks (the feedback clock stops when an alert is
        closed or marked a false alarm), so closed alerts never have a notice due.
        """
        now = parse_time(now, "now")
        alerts = self._many(self.r.zrange(keys.ALERTS + "alerts:open", 0, -1))
        alerts = [a for a in alerts if a.get("state") in OPEN_STATES]
        if not alerts:
            return []
        with self.r.pipeline(transaction=False) as p:
            for a in alerts:
                p.smembers(f"{self._k_alert(a['id'])}:sent")
            sent = p.execute()
        alerts_sent = sorted(zip(alerts, sent), key=lambda x: urgency(x[0], now, self.config))
        return [(a, n) for a, s in alerts_sent for n in due_notices(a, now, set(s), self.config)]

    def mark_notice_sent(self, alert_id: str, key: str) -> bool:
        """Claim notice ``key`` of an alert: True only for the first caller (send it), else False."""
        return self.r.sadd(f"{self._k_alert(alert_id)}:sent", key) == 1

    # -- deliveries --------------------------------------------------------------------
    def record_delivery(self, alert_id: str, event: str, channel: str, ok: bool, attempts: int,
                        error: str | None = None, *, now: datetime | None = None) -> dict:
        """Append a delivery attempt to the alert's log; failures are also counted per channel."""
        if not self.r.exists(self._k_alert(alert_id)):
            raise KeyError(f"no alert with id {alert_id!r} (预警不存在)")
        now = parse_time(now, "now") or datetime.now(TZ)
        entry = {"at": iso(now), "event": event, "channel": channel, "ok": bool(ok), "attempts": int(attempts),
                 "error": mask_text(str(error)) if error else None}
        with self.r.pipeline(transaction=True) as p:
            p.rpush(f"{self._k_alert(alert_id)}:deliveries", _dumps(entry))
            if not ok:
                p.hincrby(keys.ALERTS + "alerts:delivery_failures", "total", 1)
                p.hincrby(keys.ALERTS + "alerts:delivery_failures", str(channel), 1)
            p.execute()
        return entry

    def deliveries(self, alert_id: str) -> list[dict]:
        return [json.loads(x) for x in self.r.lrange(f"{self._k_alert(alert_id)}:deliveries", 0, -1)]

    def delivery_failures(self) -> dict:
        """{"total": n, <channel>: n}."""
        return {k: int(v) for k, v in self.r.hgetall(keys.ALERTS + "alerts:delivery_failures").items()}
