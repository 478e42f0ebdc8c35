"""The complaint record: one schema, one validator used by the API, the importer and the agents.

``Rules(settings).validate(raw, now)`` returns ``(record, [])`` for a good complaint, the
record normalised and its PII masked, or ``(None, errors)`` where every error names the
field and says what is wrong. Pure: no Kafka, Redis or HTTP here.

Safe inputs: a complaint nested deeper than ``MAX_DEPTH`` (32) levels is refused before
anything else looks at it; control and format characters (C0/C1, zero-width, bidi
overrides: Unicode Cf) are removed from every string but the id before it is checked, so a
text of zero-width spaces is blank; the id must match its rule in full (``"NL-1\n"`` is
refused); an error message quotes a value only masked and cut (``nlp.pii.quote``).
PII: names found in the contact (any shape) or announced in the text are masked in the
text, merchant, tags and contact, as are phone, ID, card, plate and e-mail numbers.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime

from config import Settings
from config.divisions import DivisionTable, divisions
from nlp.pii import MAX_DEPTH, contact_names, mask_contact, mask_text, names_in_text, quote, strip_controls

# Matched with fullmatch: "$" would accept a trailing newline.
ID_RE = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")
EARLIEST_LOCAL = datetime(2000, 1, 1)     # in the settings' time zone (Rules.earliest)


def too_deep(value, limit: int = MAX_DEPTH) -> bool:
    """True if ``value`` nests containers more than ``limit`` levels (the value itself is
    level 1). Iterative: a 100,000-deep value costs no stack."""
    if isinstance(value, dict):       # the common case: a flat complaint, or one flat contact
        inner = [v for v in value.values() if isinstance(v, (dict, list, tuple))]
        if not inner or (limit >= 2 and all(
                not any(isinstance(x, (dict, list, tuple)) for x in (v.values() if isinstance(v, dict) else v))
                for v in inner)):
            return False
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            children = v.values()
        elif isinstance(v, (list, tuple)):
            children = v
        else:
            continue
        if d > limit:
            return True
        stack.extend((c, d + 1) for c in children if isinstance(c, (dict, list, tuple)))
    return False


def json_too_deep(e: Exception) -> dict | None:
    """The too_deep error for a JSON parser's refusal of deep nesting (orjson stops at 1024
    levels): such a body breaks the same 32-level rule and gets the same 422, not a 400."""
    if "depth limit" in str(e) or "recursion" in str(e).lower():
        return error("", "too_deep", f"the JSON nests objects or lists more than {MAX_DEPTH} levels deep")
    return None


def clean(value, multiline: bool = False):
    """A string without control/format characters (other values unchanged)."""
    return strip_controls(value, multiline) if isinstance(value, str) else value

# Spellings found in exports and other systems, mapped to the canonical values.
CHANNEL_ALIASES = {
    "12315": "12315", "12315平台": "12315", "全国12315平台": "12315", "platform": "12315",
    "12345": "12345", "12345热线": "12345", "市长热线": "12345", "hotline": "12345",
    "110": "110", "110联动": "110", "police": "110",
    "mini-program": "mini-program", "miniprogram": "mini-program", "小程序": "mini-program",
    "扫码": "mini-program", "二维码": "mini-program", "qr": "mini-program",
    "letter": "letter", "来信": "letter", "信件": "letter", "市长信箱": "letter", "mailbox": "letter",
    "visit": "visit", "来访": "visit", "走访": "visit",
    "other": "other", "其他": "other", "其它": "other",
}
KIND_ALIASES = {
    "投诉": "投诉", "complaint": "投诉",
    "举报": "举报", "report": "举报",
    "咨询": "咨询", "enquiry": "咨询", "inquiry": "咨询", "consultation": "咨询",
}

# Documented in the README and served as the API's JSON schema.
FIELDS = {
    "id": ("string", True, "unique id, 1-64 of A-Z a-z 0-9 _ . : -"),
    "received_at": ("string", True, "event time, ISO 8601; without an offset it is Asia/Shanghai local time"),
    "channel": ("string", True, "12315 | 12345 | 110 | mini-program | letter | visit | other (Chinese names accepted)"),
    "kind": ("string", True, "投诉 | 举报 | 咨询 (complaint/report/enquiry accepted)"),
    "district": ("string", True, "6-digit GB/T 2260 code of province, city or county"),
    "industry": ("string", False, "one of the configured industries; missing = 未分类 (classified later)"),
    "merchant": ("string", False, "name of the business complained about"),
    "amount": ("number", False, "amount in dispute, yuan"),
    "text": ("string", True, "the complaint in the complainant's words"),
    "contact": ("object", False, "complainant, e.g. {name, phone, id_number}, under any keys, or a plain string "
                                 "(\"我叫王小明 13812345678\"); masked at intake, its names masked in every field, "
                                 "never stored unmasked"),
    "tags": ("array", False, "labels, e.g. the simulator's surge name"),
}


def json_schema(settings: Settings) -> dict:
    """JSON Schema of one complaint, for the OpenAPI description."""
    c = settings.complaints
    props = {}
    for name, (typ, _req, desc) in FIELDS.items():
        props[name] = {"type": typ, "description": desc}
    props["district"]["pattern"] = r"^\d{6}$"
    props["industry"]["enum"] = list(c.industries)
    props["kind"]["examples"] = list(c.kinds)
    props["channel"]["examples"] = list(c.channels)
    props["text"]["maxLength"] = c.max_text_chars
    props["contact"]["properties"] = {k: {"type": "string"} for k in ("name", "phone", "id_number")}
    props["contact"]["type"] = ["object", "string"]
    props["tags"]["items"] = {"type": "string"}
    return {"type": "object", "required": [k for k, v in FIELDS.items() if v[1]], "properties": props,
            "example": {"id": "SX-20241001-000123", "received_at": "2024-10-01T10:15:00+08:00",
                        "channel": "12315", "kind": "投诉", "district": "140403", "industry": "产品质量",
                        "merchant": "某商场", "amount": 299.0, "text": "新买的衣服洗了一次就严重掉色，商家拒绝退换。",
                        "contact": {"name": "张三", "phone": "13800000000"}}}


def error(field: str, code: str, message: str) -> dict:
    return {"field": field, "code": code, "message": message}


@dataclass
class Rules:
    """The settings-derived rules a complaint is checked against."""

    settings: Settings
    table: DivisionTable | None = None

    def __post_init__(self) -> None:
        c = self.settings.complaints
        self.table = self.table or divisions()
        self.tz = self.settings.tz
        self.unclassified = c.unclassified
        # the unclassified marker is what intake writes for "no industry given"
        self.industries = frozenset(c.industries) | {self.unclassified}
        self.channels = {k: v for k, v in CHANNEL_ALIASES.items() if v in c.channels}
        self.channels.update({ch: ch for ch in c.channels})
        self.kinds = {k: v for k, v in KIND_ALIASES.items() if v in c.kinds}
        self.kinds.update({k: k for k in c.kinds})
        self._canon_channels = frozenset(c.channels)
        self._canon_kinds = frozenset(c.kinds)
        self.max_text = c.max_text_chars
        self.max_merchant = c.max_merchant_chars
        self.max_amount = c.max_amount_yuan
        self.future_tolerance = c.future_tolerance_seconds
        # 2000-01-01T00:00 local time is the earliest accepted moment
        self.earliest = EARLIEST_LOCAL.replace(tzinfo=self.tz).timestamp()

    def check_normalised(self, rec, now: float) -> tuple[dict | None, list[dict]]:
        """Cheap re-check of a record that our intake already validated and masked.

        Only for records whose message carries a valid intake signature (streams.intake):
        the worker trusts the intake's masking (it ran at the boundary) but still refuses
        anything that would corrupt the tallies. Anything else goes through ``validate``.
        """
        try:
            ok = (ID_RE.fullmatch(rec["id"]) is not None and self.earliest <= rec["ts"] <= now + self.future_tolerance
                  and rec["channel"] in self._canon_channels and rec["kind"] in self._canon_kinds
                  and rec["industry"] in self.industries and isinstance(rec["text"], str)
                  and len(rec["text"]) <= self.max_text
                  and self.table.by_code[rec["district"]].province_code == rec["province"])
        except (KeyError, TypeError, AttributeError):
            ok = False
        return (rec, []) if ok else self.validate(rec, now)

    def parse_time(self, value) -> datetime:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, self.tz)
        if not isinstance(value, str):
            raise ValueError(f"must be an ISO 8601 date-time string, got {type(value).__name__}")
        s = strip_controls(value).strip().replace("/", "-")
        try:
            dt = datetime.fromisoformat(s)
        except ValueError:
            raise ValueError(f"{quote(value)} is not an ISO 8601 date-time (e.g. 2024-10-01T10:15:00+08:00)") from None
        return dt.replace(tzinfo=self.tz) if dt.tzinfo is None else dt.astimezone(self.tz)

    def validate(self, raw, now: float | None = None) -> tuple[dict | None, list[dict]]:
        if not isinstance(raw, dict):
            return None, [error("", "not_an_object", f"a complaint must be a JSON object, got {type(raw).__name__}")]
        if too_deep(raw):
            return None, [error("", "too_deep", f"the complaint nests objects or lists more than {MAX_DEPTH} levels deep")]
        errs: list[dict] = []
        out: dict = {}

        # Names first: every message below quotes values with them masked.
        contact = raw.get("contact")
        if isinstance(contact, str):
            contact = clean(contact)
        text = clean(raw.get("text"), multiline=True)
        merchant = clean(raw.get("merchant"))
        names = contact_names(contact) if isinstance(contact, (dict, list, str)) else ()
        names = tuple(dict.fromkeys((*names, *names_in_text(text if isinstance(text, str) else ""),
                                     *names_in_text(merchant if isinstance(merchant, str) else ""))))

        def q(value) -> str:
            return quote(value, names)

        cid = raw.get("id")
        if isinstance(cid, int) and not isinstance(cid, bool):
            cid = str(cid)
        if cid is None or cid == "":
            errs.append(error("id", "missing", "id is required"))
        elif not isinstance(cid, str) or ID_RE.fullmatch(cid) is None:
            errs.append(error("id", "invalid", f"id {q(cid)} must be 1-64 characters of A-Z a-z 0-9 _ . : - "
                                               "(nothing else, no spaces or line breaks)"))
        else:
            out["id"] = cid

        ra = clean(raw.get("received_at"))
        if ra is None or ra == "":
            errs.append(error("received_at", "missing", "received_at is required"))
        else:
            try:
                dt = self.parse_time(ra)
                ts = dt.timestamp()
                now = time.time() if now is None else now
                if ts > now + self.future_tolerance:
                    errs.append(error("received_at", "in_future",
                                      f"received_at {dt.isoformat()} is in the future (now {datetime.fromtimestamp(now, self.tz).isoformat(timespec='seconds')})"))
                elif ts < self.earliest:
                    errs.append(error("received_at", "too_old", f"received_at {dt.isoformat()} is before 2000-01-01 (local time)"))
                else:
                    out["received_at"] = dt.isoformat()
                    out["ts"] = ts
            except (ValueError, OverflowError, OSError) as e:
                errs.append(error("received_at", "invalid", f"received_at {e}"))

        ch = clean(raw.get("channel"))
        if ch is None or ch == "":
            errs.append(error("channel", "missing", "channel is required"))
        else:
            key = ch.strip() if isinstance(ch, str) else (str(ch) if isinstance(ch, int) and not isinstance(ch, bool) else None)
            canon = (self.channels.get(key) or self.channels.get(key.lower())) if key else None
            if canon is None:
                errs.append(error("channel", "unknown", f"channel {q(ch)} is not one of {', '.join(sorted(set(self.channels.values())))}"))
            else:
                out["channel"] = canon

        kd = clean(raw.get("kind"))
        if kd is None or kd == "":
            errs.append(error("kind", "missing", "kind is required (投诉, 举报 or 咨询)"))
        else:
            key = kd.strip() if isinstance(kd, str) else None
            canon = (self.kinds.get(key) or self.kinds.get(key.lower())) if key else None
            if canon is None:
                errs.append(error("kind", "unknown", f"kind {q(kd)} is not one of 投诉, 举报, 咨询"))
            else:
                out["kind"] = canon

        dc = clean(raw.get("district"))
        if isinstance(dc, int) and not isinstance(dc, bool):
            dc = str(dc)
        if dc is None or dc == "":
            errs.append(error("district", "missing", "district is required (6-digit GB/T 2260 code)"))
        elif not isinstance(dc, str) or len(dc) != 6 or not dc.isdigit() or not dc.isascii():
            errs.append(error("district", "invalid", f"district {q(dc)} is not a 6-digit code"))
        else:
            d = self.table.by_code.get(dc)
            if d is None:
                errs.append(error("district", "unknown", f"district {dc} is not in the GB/T 2260 division table (2024)"))
            else:
                out["district"] = dc
                out["province"] = d.province_code

        ind = clean(raw.get("industry"))
        if ind is None or ind == "":
            out["industry"] = self.unclassified
        elif not isinstance(ind, str) or ind.strip() not in self.industries:
            errs.append(error("industry", "unknown", f"industry {q(ind)} is not one of {'、'.join(self.settings.complaints.industries)}"))
        else:
            out["industry"] = ind.strip()

        if text is None or (isinstance(text, str) and not text.strip()):
            errs.append(error("text", "missing", "text is required and may not be blank "
                                                 "(control and zero-width characters do not count)"))
        elif not isinstance(text, str):
            errs.append(error("text", "invalid", f"text must be a string, got {type(text).__name__}"))
        elif len(text) > self.max_text:
            errs.append(error("text", "too_long", f"text has {len(text)} characters; the limit is {self.max_text}"))

        if merchant not in (None, ""):
            if not isinstance(merchant, str):
                errs.append(error("merchant", "invalid", "merchant must be a string"))
            elif len(merchant) > self.max_merchant:
                errs.append(error("merchant", "too_long", f"merchant has {len(merchant)} characters; the limit is {self.max_merchant}"))
            elif merchant.strip():
                out["merchant"] = mask_text(merchant.strip(), names)

        amount = clean(raw.get("amount"))
        if amount not in (None, ""):
            try:
                if isinstance(amount, bool) or not isinstance(amount, (int, float, str)):
                    raise ValueError
                a = float(amount.replace(",", "").replace("元", "")) if isinstance(amount, str) else float(amount)
                if not (0 <= a <= self.max_amount):   # NaN fails this too
                    errs.append(error("amount", "out_of_range", f"amount {q(a)} must be between 0 and {self.max_amount} yuan"))
                else:
                    out["amount"] = round(a, 2)
            except (TypeError, ValueError, OverflowError):
                errs.append(error("amount", "invalid", f"amount {q(amount)} is not a number of yuan"))

        if contact not in (None, "", {}) and not isinstance(contact, (dict, str)):
            errs.append(error("contact", "invalid", "contact must be an object (e.g. {name, phone, id_number}) or a string"))

        tags = raw.get("tags")
        if tags not in (None, []):
            if isinstance(tags, list):
                tags = [clean(t) for t in tags]
            if not isinstance(tags, list) or not all(isinstance(t, str) and len(t) <= 64 for t in tags) or len(tags) > 16:
                errs.append(error("tags", "invalid", "tags must be a list of at most 16 strings of at most 64 characters"))
            else:
                out["tags"] = [mask_text(t.strip(), names) for t in tags if t.strip()]

        if errs:
            return None, errs
        masked = mask_contact(contact, names, names_complete=True) if contact not in (None, "", {}) else {}
        out["text"] = mask_text(text.strip(), names)
        if masked:
            out["contact"] = masked
        return out, []
