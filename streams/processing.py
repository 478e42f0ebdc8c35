"""What the tally agent does with one Kafka message, minus the I/O. Pure functions.

A message holds an envelope ``{"v": 1, "src", "at", "items": [...]}`` (from our intake),
or a bare complaint object, or a JSON list of them (from other producers).

Only a message whose intake signature (header ``c12315-sig``, see streams.intake) is valid
is trusted as already validated and masked; one HMAC per message, not per record. Every
other message, whatever it claims (``"norm": 1``), is outside input: each record is
validated and masked in full, and still counted if it is valid.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import orjson

from nlp.pii import mask_text, quote, strip_controls
from streams import deadletter
from streams.intake import SIG_HEADER, signed
from streams.schema import Rules, error, json_too_deep


@dataclass
class Decoded:
    valid: list[tuple[int, dict]] = field(default_factory=list)         # (index in message, record)
    rejects: list[tuple[int, object, list[dict]]] = field(default_factory=list)  # (index, raw, errors)
    accepted_at: float | None = None
    source: str = "kafka"
    signed: bool = False


def signature_of(headers) -> bytes | None:
    """The intake signature among a Kafka message's headers (a list of pairs or a mapping)."""
    if not headers:
        return None
    pairs = headers.items() if hasattr(headers, "items") else headers
    for k, v in pairs:
        if k == SIG_HEADER or k == SIG_HEADER.encode():
            return bytes(v) if v is not None else None
    return None


def decode_message(value: bytes | None, rules: Rules, now: float, signature: bytes | None = None,
                   key: bytes | None = None) -> Decoded:
    """The message's valid records and its rejects. Its records skip the full validation only
    if ``signature`` is the intake's HMAC of ``value`` under ``key``."""
    out = Decoded()
    if value is None:
        out.rejects.append((0, b"", [error("", deadletter.MALFORMED_JSON, "the message has no value")]))
        return out
    try:
        doc = orjson.loads(value)      # bytes: orjson checks the UTF-8 itself (a decode first cost more)
    except orjson.JSONDecodeError:
        # the rare bad message: told apart and worded as before
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError as e:
            out.rejects.append((0, value, [error("", deadletter.NOT_UTF8,
                                                 f"the message is not valid UTF-8: byte 0x{value[e.start]:02x} at position {e.start}")]))
            return out
        try:
            doc = orjson.loads(text)
        except orjson.JSONDecodeError as e:
            deep = json_too_deep(e)
            out.rejects.append((0, value, [deep or error("", deadletter.MALFORMED_JSON, f"the message is not valid JSON: {e}")]))
            return out
    normalised = False
    if isinstance(doc, dict) and "items" in doc and isinstance(doc.get("items"), list):
        items = doc["items"]
        out.signed = signed(key, value, signature)
        normalised = out.signed and doc.get("norm") == 1
        at = doc.get("at")
        if out.signed:
            out.accepted_at = float(at) if isinstance(at, (int, float)) and not isinstance(at, bool) else None
        src = doc.get("src")
        src = strip_controls(src)[:32] if isinstance(src, str) and src else "kafka"
        out.source = src if out.signed else mask_text(src)
    elif isinstance(doc, list):
        items = doc
    else:
        items = [doc]
    seen_in_message: dict[str, int] = {}
    for i, raw in enumerate(items):
        if normalised and isinstance(raw, dict):
            rec, errs = rules.check_normalised(raw, now)
        else:
            rec, errs = rules.validate(raw, now)
        if errs:
            out.rejects.append((i, raw, errs))
            continue
        first = seen_in_message.setdefault(rec["id"], i)
        if first != i:
            out.rejects.append((i, raw, [error("id", "duplicate", f"id {quote(rec['id'])} appears twice in one message "
                                                                  f"(items {first} and {i})")]))
            continue
        out.valid.append((i, rec))
    return out


def duplicate_errors(record_id: str, first_position: str) -> list[dict]:
    return [error("id", "duplicate", f"complaint id {quote(record_id)} was already accepted (first at {first_position}); "
                                     "counted once, this copy was not counted")]


class TextAnalysis:
    """The nlp/ pieces the agent enriches with: phrase extraction and industry classification."""

    def __init__(self, settings):
        from nlp.classify import IndustryClassifier, OnlineLearner
        from nlp.extract import Extractor
        from nlp.phrases import encode_phrase

        self.encode_phrase = encode_phrase
        # Every record enrich() sees was masked before it got here (Rules.validate for outside
        # input, the signed intake for ours: decode_message), so the worker's extractor does
        # not mask again: a copy of the default one, sharing its caches, with mask off. Masking
        # a masked text again was ~60 µs of ~180 a complaint (tests/test_processing.py checks
        # that the terms are the same).
        self.extractor = copy.copy(Extractor.default())
        self.extractor.mask = False
        nlp = settings.nlp
        self.unclassified = settings.complaints.unclassified
        self.min_probability = nlp.classify_min_probability
        # Complaints that arrive with an industry (12315 platform exports carry one) teach the
        # model this bureau's wording; it classifies with what it has learned.
        self.learner = (OnlineLearner(unclassified=self.unclassified, refresh_seconds=60, save_seconds=300,
                                      max_per_second=nlp.learn_max_per_second)
                        if nlp.learn_online else None)
        self.classifier = self.learner.model if self.learner else IndustryClassifier.load()

    def close(self) -> None:
        if self.learner is not None:
            self.learner.save()


def enrich(records: list[tuple[int, dict]], nlp: TextAnalysis | None) -> list[bytes]:
    """One document per record (masked text + topics; JSON as bytes, as Redis stores it),
    classifying records that have no industry.

    The document is what topic counts, samples and drill-downs read later.
    """
    docs = []
    for _, rec in records:
        doc = {"id": rec["id"], "ts": rec["ts"], "d": rec["district"], "i": rec["industry"], "k": rec["kind"],
               "c": rec["channel"], "t": rec["text"]}
        if rec.get("merchant"):
            doc["m"] = rec["merchant"]
        if nlp is not None:
            terms = nlp.extractor.extract(rec["text"])
            doc["kw"] = list(terms.keywords)
            doc["ph"] = [nlp.encode_phrase(p) for p in terms.phrases]
            if terms.units:
                doc["u"] = list(terms.units)
            if rec["industry"] == nlp.unclassified:
                industry, p = nlp.classifier.predict_tokens(terms.tokens)
                if p >= nlp.min_probability:
                    rec["industry"] = doc["i"] = industry
                    doc["ib"], doc["ip"] = "model", round(p, 3)
            elif nlp.learner is not None:
                nlp.learner.observe(terms.tokens, rec["industry"])
        docs.append(orjson.dumps(doc))
    return docs
