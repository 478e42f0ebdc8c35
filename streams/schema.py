"""The complaint record: one schema, one validator used by the API, the importer and the agents.

``Rules(settings).validate(raw, now)`` returns ``(record, [])`` for a good complaint, the
record normalised and its PII masked, or ``(None, errors)`` where every error names the
field and says what is wrong. Pure: no Kafka, Redis or HTTP here.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime

from config import Settings
from config.divisions import DivisionTable, divisions
from nlp.pii import mask_contact, mask_text

ID_RE = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
EARLIEST = datetime(2000, 1, 1).timestamp()

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
    "contact": ("object", False, "complainant {name, phone, id_number}; masked at intake, never stored unmasked"),
    "tags": ("array", False, "labels, e.g. the simulator's surge name"),
}


def json_schema(settings: Settings) -> dict:
    """JSON Schema of one complaint, for the OpenAPI description."""
    c = settings.raw["complaints"]
    props = {}
    for name, (typ, _req, desc) in FIELDS.items():
        props[name] = {"type": typ, "description": desc}
    props["district"]["pattern"] = r"^\d{6}$"
    props["industry"]["enum"] = list(c["industries"])
    props["kind"]["examples"] = list(c["kinds"])
    props["channel"]["examples"] = list(c["channels"])
    props["text"]["maxLength"] = c["max_text_chars"]
    props["contact"]["properties"] = {k: {"type": "string"} for k in ("name", "phone", "id_number")}
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
        c = self.settings.raw["complaints"]
        self.table = self.table or divisions()
        self.tz = self.settings.tz
        self.unclassified = c["unclassified"]
        # the unclassified marker is what intake writes for "no industry given"
        self.industries = frozenset(c["industries"]) | {self.unclassified}
        self.channels = {k: v for k, v in CHANNEL_ALIASES.items() if v in c["channels"]}
        self.channels.update({ch: ch for ch in c["channels"]})
        self.kinds = {k: v for k, v in KIND_ALIASES.items() if v in c["kinds"]}
        self.kinds.update({k: k for k in c["kinds"]})
        self._canon_channels = frozenset(c["channels"])
        self._canon_kinds = frozenset(c["kinds"])
        self.max_text = c["max_text_chars"]
        self.max_merchant = c["max_merchant_chars"]
        self.max_amount = c["max_amount_yuan"]
        self.future_tolerance = c["future_tolerance_seconds"]

    def check_normalised(self, rec, now: float) -> tuple[dict | None, list[dict]]:
        """Cheap re-check of a record that our intake already validated and masked.

        The worker trusts the intake's masking (it ran at the boundary) but still refuses
        anything that would corrupt the tallies, so a hand-made envelope cannot.
        """
        try:
            ok = (ID_RE.match(rec["id"]) is not None and EARLIEST <= rec["ts"] <= now + self.future_tolerance
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
        s = value.strip().replace("/", "-")
        try:
            dt = datetime.fromisoformat(s)
        except ValueError:
            raise ValueError(f"{value[:40]!r} is not an ISO 8601 date-time (e.g. 2024-10-01T10:15:00+08:00)") from None
        return dt.replace(tzinfo=self.tz) if dt.tzinfo is None else dt.astimezone(self.tz)

    def validate(self, raw, now: float | None = None) -> tuple[dict | None, list[dict]]:
        if not isinstance(raw, dict):
            return None, [error("", "not_an_object", f"a complaint must be a JSON object, got {type(raw).__name__}")]
        errs: list[dict] = []
        out: dict = {}

        cid = raw.get("id")
        if isinstance(cid, int) and not isinstance(cid, bool):
            cid = str(cid)
        if cid is None or cid == "":
            errs.append(error("id", "missing", "id is required"))
        elif not isinstance(cid, str) or not ID_RE.match(cid):
            errs.append(error("id", "invalid", f"id {str(cid)[:80]!r} must be 1-64 characters of A-Z a-z 0-9 _ . : -"))
        else:
            out["id"] = cid

        ra = raw.get("received_at")
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
                elif ts < EARLIEST:
                    errs.append(error("received_at", "too_old", f"received_at {dt.isoformat()} is before 2000-01-01"))
                else:
                    out["received_at"] = dt.isoformat()
                    out["ts"] = ts
            except (ValueError, OverflowError, OSError) as e:
                errs.append(error("received_at", "invalid", f"received_at {e}"))

        ch = raw.get("channel")
        if ch is None or ch == "":
            errs.append(error("channel", "missing", "channel is required"))
        else:
            key = str(ch).strip()
            canon = self.channels.get(key) or self.channels.get(key.lower())
            if canon is None:
                errs.append(error("channel", "unknown", f"channel {key[:40]!r} is not one of {', '.join(sorted(set(self.channels.values())))}"))
            else:
                out["channel"] = canon

        kd = raw.get("kind")
        if kd is None or kd == "":
            errs.append(error("kind", "missing", "kind is required (投诉, 举报 or 咨询)"))
        else:
            key = str(kd).strip()
            canon = self.kinds.get(key) or self.kinds.get(key.lower())
            if canon is None:
                errs.append(error("kind", "unknown", f"kind {key[:40]!r} is not one of 投诉, 举报, 咨询"))
            else:
                out["kind"] = canon

        dc = raw.get("district")
        if isinstance(dc, int) and not isinstance(dc, bool):
            dc = str(dc)
        if dc is None or dc == "":
            errs.append(error("district", "missing", "district is required (6-digit GB/T 2260 code)"))
        elif not isinstance(dc, str) or len(dc) != 6 or not dc.isdigit():
            errs.append(error("district", "invalid", f"district {str(dc)[:40]!r} is not a 6-digit code"))
        else:
            d = self.table.by_code.get(dc)
            if d is None:
                errs.append(error("district", "unknown", f"district {dc} is not in the GB/T 2260 division table (2024)"))
            else:
                out["district"] = dc
                out["province"] = d.province_code

        ind = raw.get("industry")
        if ind is None or ind == "":
            out["industry"] = self.unclassified
        elif not isinstance(ind, str) or ind.strip() not in self.industries:
            errs.append(error("industry", "unknown", f"industry {str(ind)[:40]!r} is not one of {'、'.join(c for c in self.settings.raw['complaints']['industries'])}"))
        else:
            out["industry"] = ind.strip()

        text = raw.get("text")
        if text is None or (isinstance(text, str) and not text.strip()):
            errs.append(error("text", "missing", "text is required and may not be blank"))
        elif not isinstance(text, str):
            errs.append(error("text", "invalid", f"text must be a string, got {type(text).__name__}"))
        elif len(text) > self.max_text:
            errs.append(error("text", "too_long", f"text has {len(text)} characters; the limit is {self.max_text}"))

        merchant = raw.get("merchant")
        if merchant not in (None, ""):
            if not isinstance(merchant, str):
                errs.append(error("merchant", "invalid", "merchant must be a string"))
            elif len(merchant) > self.max_merchant:
                errs.append(error("merchant", "too_long", f"merchant has {len(merchant)} characters; the limit is {self.max_merchant}"))
            else:
                out["merchant"] = merchant.strip()

        amount = raw.get("amount")
        if amount not in (None, ""):
            try:
                if isinstance(amount, bool):
                    raise ValueError
                a = float(str(amount).replace(",", "").replace("元", "")) if isinstance(amount, str) else float(amount)
                if not (0 <= a <= self.max_amount):
                    errs.append(error("amount", "out_of_range", f"amount {a} must be between 0 and {self.max_amount} yuan"))
                else:
                    out["amount"] = round(a, 2)
            except (TypeError, ValueError):
                errs.append(error("amount", "invalid", f"amount {str(amount)[:40]!r} is not a number of yuan"))

        contact = raw.get("contact")
        if contact not in (None, "", {}) and not isinstance(contact, (dict, str)):
            errs.append(error("contact", "invalid", "contact must be an object {name, phone, id_number} or a string"))

        tags = raw.get("tags")
        if tags not in (None, []):
            if not isinstance(tags, list) or not all(isinstance(t, str) and len(t) <= 64 for t in tags) or len(tags) > 16:
                errs.append(error("tags", "invalid", "tags must be a list of at most 16 strings of at most 64 characters"))
            else:
                out["tags"] = tags

        if errs:
            return None, errs
        masked = mask_contact(contact) if contact not in (None, "", {}) else {}
        names = (str(contact.get("name") or ""),) if isinstance(contact, dict) else ()
        out["text"] = mask_text(text.strip(), names)
        if masked:
            out["contact"] = masked
        return out, []
