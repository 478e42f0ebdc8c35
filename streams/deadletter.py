"""Dead-letter records: what was wrong with an input, safe to store and to show. Pure."""
from __future__ import annotations

import json
import time
import uuid

from nlp.pii import mask_contact, mask_text

RAW_KEEP_CHARS = 2000

# reason codes for inputs that never got as far as field checks
MALFORMED_JSON = "malformed_json"
NOT_UTF8 = "not_utf8"
TOO_LARGE = "too_large"
DUPLICATE_ID = "duplicate_id"
NOT_AN_OBJECT = "not_an_object"


def safe_raw(raw) -> str:
    """The offending input as text, PII masked and cut to a bounded size."""
    if isinstance(raw, (bytes, bytearray)):
        text = bytes(raw[: RAW_KEEP_CHARS * 4]).decode("utf-8", errors="replace")
    elif isinstance(raw, dict):
        shown = dict(raw)
        if "contact" in shown:
            try:
                shown["contact"] = mask_contact(shown["contact"])
            except Exception:  # noqa: BLE001 - whatever it is, it is not shown
                shown["contact"] = "(masked)"
        text = json.dumps(shown, ensure_ascii=False, default=str)
    else:
        text = json.dumps(raw, ensure_ascii=False, default=str) if not isinstance(raw, str) else raw
    if len(text) > RAW_KEEP_CHARS:
        text = text[:RAW_KEEP_CHARS] + f"…(+{len(text) - RAW_KEEP_CHARS} chars)"
    return mask_text(text)


# Field errors whose reason has a name of its own (counted under it, e.g. as `duplicate` in stats).
NAMED_REASONS = {("id", "duplicate"): DUPLICATE_ID}


def reason_code(errors: list[dict]) -> str:
    e = errors[0]
    named = NAMED_REASONS.get((e.get("field"), e["code"]))
    if named:
        return named
    return f"{e['field']}.{e['code']}" if e.get("field") else e["code"]


def record(raw, errors: list[dict], source: str, ref: str | None = None, now: float | None = None) -> dict:
    """A dead-letter record. ``ref`` identifies the rejected item so it is counted once."""
    return {
        "ref": ref or f"{source}:{uuid.uuid4().hex}",
        "reason_code": reason_code(errors),
        "reason": "; ".join(e["message"] for e in errors),
        "errors": errors,
        "source": source,
        "at": time.time() if now is None else now,
        "raw": safe_raw(raw),
    }
