"""The worker's side of case handling: apply case-event messages, open cases for complaints.

Called from streams.agents (the tally agent) for every message: a case-event message is
validated and applied here in one atomic Redis step; a complaint message, once tallied, opens
its items' cases (idempotent, so a crash between the two steps loses nothing on redelivery).
"""
from __future__ import annotations

import time

from streams.cases.config import default_case_config
from streams.cases.store import CaseWriter, decode_events
from streams.store import redis_client
from streams.schema import error

_writer: list = []


def writer(settings) -> CaseWriter:
    if not _writer:
        client = redis_client(settings, asyncio=True)
        _writer.append(CaseWriter(settings, default_case_config(), client))
    return _writer[0]


def duplicate_event_errors(eid: str, first: str) -> list[dict]:
    return [error("id", "duplicate", f"case event id {eid!r} was already applied (first at {first}); "
                                     "applied once, this copy changed nothing")]


async def process_case_message(settings, value: bytes, position: str, send_dead_letter, retry) -> dict:
    """Apply one message of case events; dead-letter the bad and duplicate ones. Returns counts."""
    now = time.time()
    valid, rejects, source = decode_events(value, now, settings.tz)
    w = writer(settings)
    result = await retry("case events", w.apply, position, valid, now)
    by_index = dict(valid)
    rejects = list(rejects)
    for index, first in result["duplicates"]:
        rejects.append((index, by_index[index], duplicate_event_errors(by_index[index]["id"], first)))
    for index, raw, errs in rejects:
        await send_dead_letter(raw, errs, f"{position}:{index}", source)
    result["rejected"] = len(rejects)
    return result


async def open_cases(settings, records, retry) -> None:
    if records:
        await retry("open cases", writer(settings).open_cases, records)
