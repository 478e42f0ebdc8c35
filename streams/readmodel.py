"""The read API over Redis: what the HTTP API, the dashboard and the alerts read.

``ReadModel(settings).counts(level, code, window, since, until, industry=, kind=, channel=)``
returns one count per event-time window. Tallies are stored at the most specific district
of each complaint and rolled up here through the division table.
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import redis

from config import Settings
from config.divisions import LEVELS, divisions
from streams import keys
from streams.store import read_tallies, redis_client
from streams.tally import bucket_range
from streams.topicmodel import DocCache

DEFAULT_SPAN = {"minute": timedelta(hours=1), "hour": timedelta(hours=24), "day": timedelta(days=30)}
MAX_BUCKETS = 20000
# A window ending now is counted again when a document joins one of its hours (the lists only
# grow: a late complaint, an import, too) or after this long, as the window slides past the hour.
TOPICS_TTL_S = 10.0
TOPICS_KEPT = 512


class QueryError(ValueError):
    """A query the read model cannot answer; the message says why."""


class ReadModel:
    def __init__(self, settings: Settings, client: redis.Redis | None = None):
        self.settings = settings
        self.tz = settings.tz
        self.redis = client or redis_client(settings)
        self.table = divisions()
        self._under: dict[tuple[str, str], frozenset[str]] = {}
        self._docs = DocCache(self.redis)  # hour document lists read so far (topics)
        # topics of a window ending now, by (level, code, window, industry, top): (the lengths of
        # the hour lists they were counted from, when, the result)
        self._topics: dict[tuple, tuple[tuple[int, ...], float, dict]] = {}
        self.topic_runs = 0                # how many times topics were counted (not answered from cache)

    # -- helpers -------------------------------------------------------------------------
    def documents(self, code: str, since: datetime, until: datetime) -> list:
        """The topic documents (``streams.topicmodel.Doc``) of ``code``'s province in the hours
        touching [since, until), from the same incremental cache ``topics`` reads."""
        from streams.topicmodel import hour_keys

        return self._docs.docs(hour_keys(self.table.get(code).province_code, since, until, self.tz))

    def districts_under(self, level: str, code: str) -> frozenset[str]:
        """Every code whose complaints count towards (level, code), the code itself included."""
        key = (level, code)
        if key not in self._under:
            if level not in LEVELS:
                raise QueryError(f"level {level!r} must be one of {', '.join(LEVELS)}")
            d = self.table.get(code)
            if d is None:
                raise QueryError(f"code {code!r} is not in the GB/T 2260 division table")
            if d.level != level:
                raise QueryError(f"code {code} ({d.name}) is a {d.level}, not a {level}")
            self._under[key] = frozenset(x.code for x in self.table.by_code.values()
                                         if x.code_at(level) == code or x.code == code)
        return self._under[key]

    def parse_time(self, value) -> datetime:
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=self.tz)
        try:
            dt = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise QueryError(f"{value!r} is not an ISO 8601 date-time") from None
        return dt if dt.tzinfo else dt.replace(tzinfo=self.tz)

    @staticmethod
    def _match(fields: dict, under: frozenset[str], industry, kind, channel) -> int:
        total = 0
        for f, c in fields.items():
            d, ind, k, ch = f.split("|")
            if d in under and (industry is None or ind == industry) and (kind is None or k == kind) \
                    and (channel is None or ch == channel):
                total += int(c)
        return total

    # -- queries -------------------------------------------------------------------------
    def counts(self, level: str, code: str, window: str = "hour", since=None, until=None,
               industry: str | None = None, kind: str | None = None, channel: str | None = None) -> list[dict]:
        """Counts per window in [since, until): [{"start": iso, "bucket": id, "count": n}]."""
        if window == "total":
            return [{"start": None, "bucket": "all", "count": self.total(level, code, industry, kind, channel)}]
        if window not in DEFAULT_SPAN:
            raise QueryError(f"window {window!r} must be one of minute, hour, day, total")
        under = self.districts_under(level, code)
        until_dt = self.parse_time(until) if until else datetime.now(self.tz)
        since_dt = self.parse_time(since) if since else until_dt - DEFAULT_SPAN[window]
        if since_dt >= until_dt:
            raise QueryError("since must be before until")
        win = keys.WINDOWS[window]
        span = (until_dt - since_dt).total_seconds() / {"m": 60, "h": 3600, "d": 86400}[win]
        if span > MAX_BUCKETS:
            raise QueryError(f"{int(span)} {window} windows asked for; at most {MAX_BUCKETS} in one query")
        buckets = bucket_range(win, since_dt, until_dt, self.tz)
        province = self.table.get(code).province_code
        results = read_tallies(self.redis, province, [(win, b) for _, b in buckets], self.tz)
        return [{"start": start.isoformat(), "bucket": b, "count": self._match(fields, under, industry, kind, channel)}
                for (start, b), fields in zip(buckets, results)]

    def total(self, level: str, code: str, industry=None, kind=None, channel=None) -> int:
        """The running total since the system started counting."""
        under = self.districts_under(level, code)
        fields = read_tallies(self.redis, self.table.get(code).province_code, [("all", "all")], self.tz)[0]
        return self._match(fields, under, industry, kind, channel)

    def stats(self) -> dict:
        s: dict = {}
        with self.redis.pipeline(transaction=False) as p:
            for k in keys.stats_keys():
                p.hgetall(k)
            for h in p.execute():
                for k, v in h.items():
                    s[k] = s.get(k, 0) + int(v)
        for k in ("accepted", "rejected", "duplicate", "redelivered", "late_after_grace"):
            s.setdefault(k, 0)
        s["rejects_by_reason"] = {k: int(v) for k, v in self.redis.hgetall(keys.REJECTS).items()}
        return s

    def workers(self) -> list[dict]:
        names = list(self.redis.scan_iter(match=keys.HEARTBEAT + "*", count=1000))
        out = []
        with self.redis.pipeline(transaction=False) as p:   # one slot per key on a cluster: no MGET
            for n in names:
                p.get(n)
            raws = p.execute() if names else []
        for raw in raws:
            if raw:
                w = json.loads(raw)
                w["age_s"] = round(time.time() - w.get("at", 0), 1)
                out.append(w)
        return sorted(out, key=lambda w: w["worker"])

    def topics(self, level: str, code: str, window: str = "hour", industry: str | None = None,
               at=None, top: int = 20, since=None, until=None) -> dict:
        """Hot topics of a selection: top phrases and keywords by count and by burst.

        The period is the ``window`` (hour, day, week) ending ``at`` (default now), or any
        [since, until). Each topic has its count, the expected count from its own baseline,
        a burst score, a trend (counts in the periods before) and sample complaint ids.
        """
        from nlp.burst import burst_scores
        from streams.topicmodel import BASELINE, TREND, WINDOWS, count_topics, real_phrases, window_keys

        under = self.districts_under(level, code)
        province = self.table.get(code).province_code
        if since is not None or until is not None:
            end = self.parse_time(until) if until else datetime.now(self.tz)
            start = self.parse_time(since) if since else end - WINDOWS["day"]
            if start >= end:
                raise QueryError("since must be before until")
            if end - start > timedelta(days=400):
                raise QueryError("a topic period is at most 400 days")
            span, step, n_base, n_trend, window = end - start, end - start, 4, 4, "custom"
        else:
            if window not in WINDOWS:
                raise QueryError(f"window {window!r} must be one of {', '.join(WINDOWS)}")
            end = self.parse_time(at) if at else datetime.now(self.tz)
            span = WINDOWS[window]
            step, n_base = BASELINE[window]
            n_trend = TREND[window]
        windows = [(end - span, end)]
        windows += [(end - span - k * step, end - k * step) for k in range(1, n_base + 1)]
        windows += [(end - (k + 1) * span, end - k * span) for k in range(1, n_trend + 1)]
        hour_lists = window_keys(province, windows, self.tz)
        cache_key = lengths = None
        if window != "custom" and at is None:
            # the wall asks every refresh, the API on every request: one LLEN per hour list when
            # nothing was written into the window's hours (a late document is counted at once)
            cache_key = (level, code, window, industry, top, tuple(hour_lists))
            with self.redis.pipeline(transaction=False) as p:
                for k in hour_lists:
                    p.llen(k)
                lengths = tuple(p.execute())
            hit = self._topics.get(cache_key)
            if hit is not None and hit[0] == lengths and time.monotonic() - hit[1] < TOPICS_TTL_S:
                return hit[2]
        self.topic_runs += 1
        docs = self._docs.docs(hour_lists)
        counts = [count_topics(docs, a.timestamp(), b.timestamp(), under, industry, keep_samples=(i == 0))
                  for i, (a, b) in enumerate(windows)]
        now_c, base_c, trend_c = counts[0], counts[1:1 + n_base], counts[1 + n_base:]
        # Without history (a system just started) nothing can be called rising.
        base_windows = [(a.timestamp(), b.timestamp()) for a, b in windows[1:1 + n_base]]
        covered = sum(1 for a, b in base_windows if any(a <= d.ts < b for d in docs))
        baseline_ok = covered >= max(1, n_base // 2)
        nlp = self.settings.nlp
        result = {"level": level, "code": code, "name": self.table.get(code).full_name, "window": window,
                  "industry": industry, "start": windows[0][0].isoformat(), "end": end.isoformat(),
                  "docs": now_c.docs, "baseline_ok": baseline_ok,
                  "baseline": f"{covered} of {n_base} baseline periods have complaints in the province"}
        genuine = real_phrases(now_c, *base_c)
        for kind in ("phrases", "keywords"):
            observed = getattr(now_c, kind)
            if kind == "phrases":
                observed = type(observed)({p: n for p, n in observed.items() if p in genuine})
            bursts = burst_scores(observed, [getattr(b, kind) for b in base_c], min_count=nlp.min_count,
                                  rising_score=nlp.rising_score if baseline_ok else float("inf"))
            by_burst = {b.topic: b for b in bursts}

            def item(topic: str) -> dict:
                b = by_burst.get(topic)
                return {"topic": topic.replace("|", ""), "parts": topic.split("|"), "count": observed[topic],
                        "expected": b.expected if b else None, "score": b.score if b else None,
                        "rising": bool(b and b.rising),
                        "trend": [getattr(t, kind)[topic] for t in reversed(trend_c)] + [observed[topic]],
                        "samples": now_c.samples.get(topic, [])}
            result[kind] = {"by_count": [item(t) for t, _ in observed.most_common(top)],
                            "by_burst": [item(b.topic) for b in bursts[:top]]}
        if cache_key is not None:
            if len(self._topics) >= TOPICS_KEPT:
                self._topics.pop(next(iter(self._topics)), None)
            self._topics[cache_key] = (lengths, time.monotonic(), result)
        return result

    def cloud_terms(self, level: str, code: str, window: str = "day", industry: str | None = None, at=None,
                    since=None, until=None, top: int = 60) -> tuple[dict[str, float], set[str], dict]:
        """Weights and rising topics for a keyword cloud of a selection (and the topics read)."""
        from nlp.cloud import merge_weights

        t = self.topics(level, code, window, industry, at, top, since, until)
        least = 2 if t["docs"] >= 10 else 1  # a word said once in a busy period is noise on a wall
        phrases = {x["topic"]: x["count"] for x in t["phrases"]["by_count"] if x["count"] >= least}
        keywords = {x["topic"]: x["count"] for x in t["keywords"]["by_count"] if x["count"] >= least}
        rising = {x["topic"] for kind in ("phrases", "keywords") for x in t[kind]["by_burst"] if x["rising"]}
        weights = merge_weights(phrases, keywords, top)
        return weights, rising & set(weights), t

    def latency_samples(self) -> list[float]:
        out: list[float] = []
        for k in self.redis.scan_iter(match=keys.LATENCY + "*", count=1000):
            out.extend(float(x) for x in self.redis.lrange(k, 0, -1))
        return out
