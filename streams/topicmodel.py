"""Hot topics read from the hour document lists in Redis (``cc:docs:{YYYYmmddHH}:{province}``).

The lists are append-only, so the reader keeps what it has parsed and fetches only new
entries (LLEN, then LRANGE from where it stopped): a wall screen asking every few seconds
costs a few LLENs. Counting and scoring are pure (``count_topics``, ``nlp.burst``).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import orjson

from streams.tally import bucket_range

WINDOWS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}
# baseline: the same window this far back, this many times; trend: consecutive windows before
BASELINE = {"hour": (timedelta(days=1), 7), "day": (timedelta(days=1), 7), "week": (timedelta(days=7), 4)}
TREND = {"hour": 12, "day": 7, "week": 4}
SAMPLES = 5


@dataclass(slots=True)
class Doc:
    id: str
    ts: float
    district: str
    industry: str
    keywords: tuple[str, ...]
    phrases: tuple[str, ...]      # "a|b" (nlp.phrases.encode_phrase)
    units: tuple[str, ...]        # phrase parts that are not keywords (for PMI)


@dataclass
class Counts:
    docs: int = 0
    phrases: Counter = field(default_factory=Counter)
    keywords: Counter = field(default_factory=Counter)
    parts: Counter = field(default_factory=Counter)
    samples: dict[str, list[str]] = field(default_factory=dict)


def parse_doc(raw: str | bytes) -> Doc:
    d = orjson.loads(raw)
    return Doc(d["id"], d["ts"], d["d"], d["i"], tuple(d.get("kw", ())), tuple(d.get("ph", ())),
               tuple(d.get("u", ())))


def count_topics(docs, since: float, until: float, districts: frozenset[str], industry: str | None,
                 keep_samples: bool = False) -> Counts:
    """Document counts of each phrase and keyword among the selected docs in [since, until)."""
    c = Counts()
    for d in docs:
        if not (since <= d.ts < until) or d.district not in districts or (industry and d.industry != industry):
            continue
        c.docs += 1
        c.phrases.update(d.phrases)
        c.keywords.update(d.keywords)
        c.parts.update(d.units)
        if keep_samples:
            for t in (*d.phrases, *d.keywords):
                s = c.samples.setdefault(t, [])
                if len(s) < SAMPLES:
                    s.append(d.id)
    return c


def window_keys(province: str, windows: list[tuple[datetime, datetime]], tz) -> list[str]:
    """The hour lists touching any of ``windows``, oldest first (each once): for an hour's
    topics, the hours around the same hour of the days before, not every hour between."""
    seen: dict[str, None] = {}
    for a, b in sorted(windows):
        for k in hour_keys(province, a, b, tz):
            seen[k] = None
    return sorted(seen, key=lambda k: k.split(":")[2])


class DocCache:
    """Hour lists parsed so far; a list not asked for in ``keep_s`` seconds is dropped, so a
    long-running reader holds what its recent questions need, not everything it ever read."""

    def __init__(self, redis, keep_s: float = 900.0):
        self.redis = redis
        self.lists: dict[str, list[Doc]] = {}
        self.used: dict[str, float] = {}
        self.keep_s = keep_s

    def _evict(self, now: float) -> None:
        for k in [k for k, t in self.used.items() if now - t > self.keep_s]:
            self.lists.pop(k, None)
            self.used.pop(k, None)

    def docs(self, keys: list[str]) -> list[Doc]:
        import time

        now = time.monotonic()
        for k in keys:
            self.used[k] = now
        self._evict(now)
        with self.redis.pipeline(transaction=False) as p:
            for k in keys:
                p.llen(k)
            lengths = p.execute()
        stale = []
        for k, n in zip(keys, lengths):
            have = self.lists.get(k)
            if have is None or n < len(have):  # new, or expired and started again
                self.lists[k] = have = []
            if n > len(have):
                stale.append((k, len(have)))
        if stale:
            with self.redis.pipeline(transaction=False) as p:
                for k, start in stale:
                    p.lrange(k, start, -1)
                fresh = p.execute()
            for (k, _), raws in zip(stale, fresh):
                self.lists[k].extend(parse_doc(r) for r in raws)
        out: list[Doc] = []
        for k in keys:
            out.extend(self.lists.get(k, ()))
        return out


def real_phrases(counts: Counts, *others: Counts) -> set[str]:
    """Candidates that are phrases, not accidents, over the windows (``PhraseStats.genuine``:
    PMI above -1 bit, so that the main noun's problems are kept)."""
    from nlp.phrases import PhraseStats

    kw, ph, parts, n = Counter(), Counter(), Counter(), 0
    for c in (counts, *others):
        kw.update(c.keywords)
        ph.update(c.phrases)
        parts.update(c.parts)
        n += c.docs
    stats = PhraseStats.from_counts(kw, ph, n, parts)
    return {p for p in counts.phrases if stats.genuine(p.split("|"))}


def hour_keys(province: str, since: datetime, until: datetime, tz) -> list[str]:
    from streams import keys

    return [keys.docs(b, province) for _, b in bucket_range("h", since, until, tz)]
