"""What lies behind an alert: its top phrases, merchants and (masked) sample complaints.

``summarize(docs, ...)`` is pure: it reads the topic documents the stream worker stored for
each complaint (``cc:docs:{YYYYmmddHH}:{province}``: masked text, district, industry,
merchant, keywords, phrases; see ``streams/processing.enrich``) and counts them for one
series.  ``read_context`` is its thin Redis adapter.
"""
from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta

from nlp.pii import mask_text

__all__ = ["summarize", "read_context", "doc_keys"]


def _under(table, district: str, level: str):
    cache: dict[str, bool] = {}

    def ok(code: str) -> bool:
        if code not in cache:
            d = table.get(code)
            cache[code] = bool(d) and (code == district or d.code_at(level) == district)
        return cache[code]
    return ok


def summarize(docs: list[dict], *, district: str, level: str, industry: str | None, table,
              since: float | None = None, top: int = 5, samples: int = 5, tz=None, phrase: str | None = None) -> dict:
    """Top phrases (keywords when no phrase repeats), merchants and newest samples of a series
    (of the complaints that carry ``phrase``, encoded "a|b", when given)."""
    ok = _under(table, district, level)
    phrases, keywords, merchants = Counter(), Counter(), Counter()
    picked = []
    for d in docs:
        if since is not None and float(d.get("ts", 0)) < since:
            continue
        if not ok(str(d.get("d", ""))) or (industry and industry != "*" and d.get("i") != industry):
            continue
        if phrase and phrase not in d.get("ph", ()):
            continue
        picked.append(d)
        phrases.update(dict.fromkeys((p.replace("|", "") for p in d.get("ph", ())), 1))
        keywords.update(dict.fromkeys(d.get("kw", ()), 1))
        if d.get("m"):
            merchants[d["m"]] += 1
    terms = [p for p, n in phrases.most_common(top) if n >= 2]
    if len(terms) < top:
        terms += [k for k, n in keywords.most_common(top * 2) if n >= 2 and k not in terms
                  and not any(k in t for t in terms)][:top - len(terms)]
    picked.sort(key=lambda d: float(d.get("ts", 0)), reverse=True)
    return {
        "phrases": terms,
        "merchants": [[m, n] for m, n in merchants.most_common(top)],
        "samples": [{"id": d.get("id"), "at": datetime.fromtimestamp(float(d.get("ts", 0)), tz).isoformat(),
                     "text": mask_text(str(d.get("t", "")))[:300]} for d in picked[:samples]],
        "complaints": len(picked),
    }


def doc_keys(province: str, end: datetime, hours: int) -> list[str]:
    start = end.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    from streams import keys

    return [keys.docs((start + timedelta(hours=h)).strftime('%Y%m%d%H'), province) for h in range(hours)]


def read_context(client, det: dict, province: str, table, now: datetime, hours: int = 6,
                 max_docs: int = 20000) -> dict:
    """``summarize`` over the last ``hours`` hours of documents (newest ``max_docs`` per hour)."""
    level, district, phrase = det["level"], det["district"], det.get("phrase_key")
    needle = None
    if phrase:
        needle = f'"{phrase}"'
    elif level == "county":
        needle = f'"d":"{district}"'
    elif level == "city":
        needle = f'"d":"{district[:4]}'
    since_dt = datetime.fromisoformat(det["since"]) if det.get("since") else now - timedelta(hours=hours)
    hours = max(1, min(hours, int((now - since_dt) / timedelta(hours=1)) + 1))
    keys = doc_keys(province, now, hours)
    with client.pipeline(transaction=False) as p:
        for k in keys:
            p.lrange(k, -max_docs, -1)
        raw = p.execute()
    docs = []
    for lst in raw:
        for s in lst:
            if needle and needle not in s:
                continue
            try:
                docs.append(json.loads(s))
            except ValueError:
                continue
    return summarize(docs, district=district, level=level, industry=det.get("industry"), table=table,
                     since=since_dt.timestamp(), tz=now.tzinfo, phrase=phrase)
