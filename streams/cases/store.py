"""Case state in Redis: the worker's atomic steps and the decoding of a stored case.

Keys (see streams/keys.py): ``cc:case:{cid}`` (hash: ``c`` the complaint's base fields as JSON,
``e:{eid}`` one event each), ``cc:cev:{eid}`` (event dedup), ``cc:cases:d:{day}:{province}``
(case ids by local day of receipt), ``cc:cases:open`` (ids the timer looks at, scored by when),
``cc:cases:due`` (ids with a clock in 催办 or overdue, scored by deadline), ``cc:cases:held`` and
``cc:cases:held:{cid}`` (events waiting for their complaint), ``cc:cases:notice:{cid}:{clock}:{stage}``
(a notice sent once), ``cc:cases:ver`` (field ``{day}:{province}``: changes to that day's
cases, so readers refetch only changed days), ``cc:cases:stats``.

Case events travel on the complaints topic, many to a message, in an envelope
``{"v": 1, "rec": "case", "src", "at", "items": [...]}`` with the header ``c12315-rec: case``,
signed like complaints (streams.intake). The worker validates every event again either way
(events are small) and applies a message's events in one Lua step (apply_events.lua).
"""
from __future__ import annotations

import time
from pathlib import Path

import orjson

from streams import keys
from streams.cases.config import CaseConfig
from streams.cases.events import validate_event
from streams.schema import error
from streams.tally import minute_bucket

_HERE = Path(__file__).resolve().parent
APPLY_LUA = keys.lua((_HERE / "apply_events.lua").read_text())     # key names of this mode (cluster: {cases})
OPEN_LUA = keys.lua((_HERE / "open_cases.lua").read_text())
TAKE_HELD_LUA = keys.lua((_HERE / "take_held.lua").read_text())
REC_HEADER = "c12315-rec"
REC_CASE = b"case"


def is_case_message(value: bytes | None, headers) -> bool:
    """A message of case events: the header says so, or (from other producers) the envelope."""
    if headers:
        pairs = headers.items() if hasattr(headers, "items") else headers
        for k, v in pairs:
            if k in (REC_HEADER, REC_HEADER.encode()):
                return bytes(v or b"") == REC_CASE
    if value and b'"rec"' in value[:200]:
        try:
            doc = orjson.loads(value)
        except orjson.JSONDecodeError:
            return False
        return isinstance(doc, dict) and doc.get("rec") == "case"
    return False


def envelope(events: list[dict], source: str, at: float | None = None) -> bytes:
    return orjson.dumps({"v": 1, "rec": "case", "src": source, "at": at or time.time(), "items": events})


def decode_events(value: bytes, now: float, tz) -> tuple[list[tuple[int, dict]], list[tuple[int, object, list[dict]]], str]:
    """(valid [(index, event)], rejects [(index, raw, errors)], source) of one case message."""
    try:
        doc = orjson.loads(value)
    except orjson.JSONDecodeError as e:
        return [], [(0, value, [error("", "malformed_json", f"the message is not valid JSON: {e}")])], "kafka"
    items = doc.get("items") if isinstance(doc, dict) and isinstance(doc.get("items"), list) else [doc]
    src = doc.get("src") if isinstance(doc, dict) and isinstance(doc.get("src"), str) else "kafka"
    valid, rejects, first = [], [], {}
    for i, raw in enumerate(items):
        ev, errs = validate_event(raw, now, tz)
        if errs:
            rejects.append((i, raw, errs))
        elif first.setdefault(ev["id"], i) != i:
            rejects.append((i, raw, [error("id", "duplicate", f"event id {ev['id']!r} appears twice in one message "
                                                              f"(items {first[ev['id']]} and {i})")]))
        else:
            valid.append((i, ev))
    return valid, rejects, src[:32]


def stored_event(ev: dict) -> str:
    return orjson.dumps({k: v for k, v in ev.items() if k != "complaint_id"}).decode()


def case_base(rec: dict, day: str = "") -> str:
    base = {"ts": rec["ts"], "d": rec["district"], "i": rec["industry"], "k": rec["kind"]}
    if day:
        base["dk"] = f"{day}:{rec['province']}"     # its cc:cases:ver field
    if rec.get("tags"):
        base["tg"] = rec["tags"]
    return orjson.dumps(base).decode()


def first_moment(rec: dict, cfg: CaseConfig, delays: dict | None = None) -> float:
    """A lower bound of the first notice moment of a new item's clocks that start at receipt
    (the timer need not look at it before then; any event makes it look at once). A
    working-day clock's time starts at the next midnight and skips days off, so n working
    days take at least n x 24 h. ``delays``: a cache of the delay by (kind, rapid) for ``cfg``."""
    tags = rec.get("tags")
    rapid = bool(tags) and not cfg.rapid_tags.isdisjoint(tags)
    key = (rec["kind"], rapid)
    delay = delays.get(key) if delays is not None else None
    if delay is None:
        limits = [c.limit * 86400 if c.working_days else c.limit for c in cfg.clocks_for(rec["kind"], rapid)
                  if c.start == "received"]
        delay = cfg.reminder_at * min(limits) if limits else 0.0
        if delays is not None:
            delays[key] = delay
    return rec["ts"] + delay


def parse_case(cid: str, fields: dict) -> dict | None:
    """A stored case hash as the dict the pure code reads (None if it holds no complaint)."""
    base = fields.get("c")
    if not base:
        return None
    b = orjson.loads(base)
    events = [orjson.loads(v) for k, v in fields.items() if k.startswith("e:")]
    return {"id": cid, "ts": b["ts"], "district": b["d"], "industry": b["i"], "kind": b["k"],
            "tags": b.get("tg") or [], "events": events}


class CaseWriter:
    """The worker's two atomic steps (async Redis)."""

    def __init__(self, settings, cfg: CaseConfig, client):
        self.settings, self.cfg, self.redis = settings, cfg, client
        self.tz = settings.tz
        self.dedup_ttl = int(settings.tally.dedup_days * 86400)
        self._apply = client.register_script(APPLY_LUA)
        self._open = client.register_script(OPEN_LUA)
        self._delays: dict = {}                    # first_moment's delay by (kind, rapid)

    async def apply(self, position: str, events: list[tuple[int, dict]], now: float | None = None) -> dict:
        if not events:
            return {"applied": 0, "held": 0, "redelivered": 0, "duplicates": []}
        now = time.time() if now is None else now
        batch = orjson.dumps([(i, e["id"], e["complaint_id"], stored_event(e)) for i, e in events])
        a, h, r, dups = await self._apply(keys=[keys.CASES_OPEN], args=[position, self.dedup_ttl, self.cfg.keep_s, int(self.cfg.hold_s), now, batch])
        return {"applied": int(a), "held": int(h), "redelivered": int(r),
                "duplicates": [(int(dups[j]), dups[j + 1]) for j in range(0, len(dups), 2)]}

    async def open_cases(self, records: list[tuple[int, dict]], now: float | None = None) -> tuple[int, int]:
        """Open a case for each item (投诉/举报) among validated complaint records. Idempotent."""
        batch = []
        kinds = self.cfg.kinds
        for _, rec in records:
            if rec["kind"] in kinds:
                day = minute_bucket(rec, self.tz)[:8]       # the local day (a cached look-up)
                batch.append((rec["id"], case_base(rec, day), day, rec["province"],
                              first_moment(rec, self.cfg, self._delays)))
        if not batch:
            return 0, 0
        now = time.time() if now is None else now
        o, r = await self._open(keys=[keys.CASES_OPEN], args=[self.cfg.keep_s, now, orjson.dumps(batch)])
        return int(o), int(r)
