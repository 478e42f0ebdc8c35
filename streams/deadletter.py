"""Dead-letter records: what was wrong with an input, safe to store and to show. Pure.

A record never repeats a raw value: its ``raw`` is the input with every string masked
(``nlp.pii.mask_value``: keys too, names from any contact within masked everywhere, numbers
that hold a phone or ID masked, nesting cut at 32 levels), then cut to a bounded size; its
error messages are masked again on the way in.
"""
from __future__ import annotations

import json
import re
import time
import uuid

import orjson

from nlp.pii import mask_text, mask_value, strip_controls

RAW_KEEP_CHARS = 2000

# reason codes for inputs that never got as far as field checks
MALFORMED_JSON = "malformed_json"
NOT_UTF8 = "not_utf8"
TOO_LARGE = "too_large"
DUPLICATE_ID = "duplicate_id"


def safe_raw(raw) -> str:
    """The offending input as text, every string in it masked, cut to a bounded size.

    Bytes that parse as JSON are masked value by value; other bytes and text are masked as
    text. Whatever is cut, is cut after masking (a number straddling a cut stays masked),
    and an input that was already cut loses its last characters (they may be half a number).
    """
    if raw is None:
        return ""
    if isinstance(raw, (bytes, bytearray)):
        raw = bytes(raw)
        try:
            raw = orjson.loads(raw)          # orjson refuses nesting beyond 1024 levels
        except orjson.JSONDecodeError:
            keep = RAW_KEEP_CHARS * 4
            text = raw[:keep].decode("utf-8", errors="replace")
            if len(raw) > keep:
                text = text[:-64]
            return _cut(_no_tail_digits(mask_text(strip_controls(text, multiline=True))))
    if isinstance(raw, str):
        return _cut(_no_tail_digits(mask_text(strip_controls(raw[: RAW_KEEP_CHARS + 64], multiline=True))))
    shown = mask_value(raw, max_chars=RAW_KEEP_CHARS * 2)
    return _cut(json.dumps(shown, ensure_ascii=False, default=str))


_TAIL_DIGITS = re.compile(r"\d(?:[ .\-()]?\d){4,}$")


def _no_tail_digits(text: str) -> str:
    """A text that ends in 5 or more digits loses them: it may be a body cut by a size limit,
    and they half a phone or ID number that masking could not recognise."""
    return _TAIL_DIGITS.sub("…", text) if text[-1:].isdigit() else text


def _cut(text: str) -> str:
    if len(text) > RAW_KEEP_CHARS:
        return text[:RAW_KEEP_CHARS] + f"…(+{len(text) - RAW_KEEP_CHARS} chars)"
    return text


def safe_errors(errors: list[dict]) -> list[dict]:
    """Error entries with their messages masked and stripped of control characters (the
    validator already quotes values masked; this covers messages made elsewhere)."""
    out = []
    for e in errors:
        e = dict(e)
        e["message"] = mask_text(strip_controls(str(e.get("message", ""))))[:500]
        out.append(e)
    return out


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
    errors = safe_errors(errors)
    return {
        "ref": ref or f"{source}:{uuid.uuid4().hex}",
        "reason_code": reason_code(errors),
        "reason": "; ".join(e["message"] for e in errors),
        "errors": errors,
        "source": mask_text(strip_controls(str(source)))[:64],
        "at": time.time() if now is None else now,
        "raw": safe_raw(raw),
    }
