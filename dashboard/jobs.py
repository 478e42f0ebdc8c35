"""The slow work of the screens, run in the background process (see ``dashboard.background``).

Each function is called with plain arguments and returns plain data; the process keeps one
ReadModel, whose document cache makes the next call on the same hours cheap.
"""
from __future__ import annotations

import base64

from config import Settings

_settings: Settings | None = None
_read = None

# The wall's cloud is drawn once at twice its panel's size at 1080p (sharp at 4K) and in its
# proportions; the browser scales it to the panel. Its smallest word is WALL_CLOUD_MIN_FONT PNG
# pixels, so at least 18 px on a 1080p screen while the panel is at least half the PNG's size
# (the browser test measures it with the banner up).
WALL_CLOUD_SIZE = (1080, 336)      # the panel is about 549x171 px at 1080p with the banner up
WALL_CLOUD_MIN_FONT = 40


def init(raw: dict, parent_pid: int | None = None) -> None:
    global _settings, _read
    _settings = Settings(raw)
    _read = None
    if parent_pid is not None:
        from dashboard.lifeline import watch_parent

        watch_parent(parent_pid)


def read():
    global _read
    if _read is None:
        from streams.readmodel import ReadModel

        if _settings is None:
            from config import settings
            init(settings().raw)
        _read = ReadModel(_settings)
        _read.topics = _memo_topics(_read.topics)     # cloud_terms calls self.topics: it gets the memo too
    return _read


def prepare() -> bool:
    """Run first in a new background process (``dashboard.background``): the imports, the read
    model and the cloud's font, so that the first screen a user opens does not wait for them."""
    import wordcloud  # noqa: F401

    from nlp.cloud import find_cjk_font

    read()
    try:
        find_cjk_font()
    except Exception:  # noqa: BLE001 - a missing font is reported where a cloud is drawn
        pass
    return True


MEMO_TOP = 60      # topics of a fixed period are scored once, for this many, and cut for fewer
MEMO_SIZE = 8      # periods kept (each a few hundred KB)


def _memo_topics(topics_fn):
    """``ReadModel.topics`` remembering the last few fixed periods (``since`` and ``until`` given).

    The review asks for the same period twice, for its phrase table (top 20) and for its cloud
    (top 60): scoring a month against its baseline takes seconds, so it is done once. Windows
    relative to now (the wall's) are not remembered."""
    from collections import OrderedDict

    memo: OrderedDict = OrderedDict()

    def cut(result: dict, top: int) -> dict:
        out = dict(result)
        for kind in ("phrases", "keywords"):
            out[kind] = {k: v[:top] for k, v in result[kind].items()}
        return out

    def wrapped(level, code, window="hour", industry=None, at=None, top=20, since=None, until=None):
        if since is None or until is None or at is not None or top > MEMO_TOP:
            return topics_fn(level, code, window, industry, at, top, since, until)
        key = (level, code, window, industry, str(since), str(until))
        hit = memo.get(key)
        if hit is None:
            hit = topics_fn(level, code, window, industry, None, MEMO_TOP, since, until)
            memo[key] = hit
            while len(memo) > MEMO_SIZE:
                memo.popitem(last=False)
        else:
            memo.move_to_end(key)
        return cut(hit, top)

    return wrapped


def topics(level: str, code: str, window: str = "hour", top: int = 20, industry: str | None = None,
           since: str | None = None, until: str | None = None) -> dict:
    return read().topics(level, code, window, industry, None, top, since, until)


def cloud(level: str, code: str, window: str = "day", industry: str | None = None, since: str | None = None,
          until: str | None = None, size="wall", top: int = 60, title: str | None = None,
          min_font_size: int | None = None) -> dict:
    """The keyword cloud of a selection as PNG bytes, with the words and the topics behind it.

    ``png`` is None (and ``note`` says why) when there is nothing to draw or no font."""
    from nlp.cloud import CloudError, render_cloud

    weights, rising, t = read().cloud_terms(level, code, window, industry, None, since, until, top)
    out = {"png": None, "weights": weights, "rising": sorted(rising), "docs": t["docs"], "note": ""}
    if not weights:
        out["note"] = "所选范围暂无热词"
        return out
    try:
        out["png"] = render_cloud(weights, rising, size=size, title=title, min_font_size=min_font_size,
                                  cache_dir=_settings.data_dir / "cache" / "cloud" if _settings else None)
    except CloudError as e:
        out["note"] = f"热词云无法绘制：{e}"
        return out
    out["note"] = f"{t['docs']:,} 件" + (" · 紫色为上升" if rising else "")
    return out


def wall_cloud(level: str, code: str) -> tuple[str | None, str]:
    """(data URI of the PNG, note) of the selection's last 24 hours, for the wall."""
    c = cloud(level, code, "day", size=WALL_CLOUD_SIZE, min_font_size=WALL_CLOUD_MIN_FONT)
    if c["png"] is None:
        return None, c["note"]
    return "data:image/png;base64," + base64.b64encode(c["png"]).decode(), c["note"]


def case_kpis(level: str, code: str, period: str = "year", since: str | None = None, until: str | None = None) -> dict:
    """The handling figures (``streams.cases.read.kpis``) of a selection: ``period`` "today" or
    "year" (so far, as of now), or "range" with ``since`` and ``until``. The first province-wide
    year of a process takes seconds cold, so this runs here, never in a refresh."""
    from datetime import datetime

    from streams.cases.read import kpis

    r = read()
    if period in ("today", "year"):
        now = datetime.now(_settings.tz)
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        since, until = (start if period == "today" else start.replace(month=1, day=1)).isoformat(), now.isoformat()
    return kpis(r.redis, _settings, level, code, since, until)


def due_list(level: str, code: str, limit: int = 200) -> list[dict]:
    """The 督办 list (``streams.cases.read.due_items``): clocks due soon or overdue, most urgent first."""
    from streams.cases.read import due_items

    return due_items(read().redis, _settings, level, code, limit=limit)


def handling(level: str, code: str, spans: dict, industry: str | None, now_iso: str) -> dict:
    """The 办理情况 of a review period (``reports.handling_data``): ``spans`` {name: (since, until)}
    as ISO text."""
    from datetime import datetime

    from dashboard.reports import handling_data

    return handling_data(read().redis, _settings, level, code, spans, industry, datetime.fromisoformat(now_iso))
