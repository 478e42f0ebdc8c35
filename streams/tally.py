"""Tallying rules: which event-time windows a complaint counts in. Pure functions.

Windows are tumbling and local (Asia/Shanghai by default): a minute, an hour and a
calendar day, plus the running total. The bucket of a window is a pure function of
``received_at``, so replays and late events land where they belong.
"""
from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from streams import keys


_minute_cache: dict[tuple[int, tzinfo], str] = {}


def minute_bucket(record: dict, tz: tzinfo) -> str:
    """YYYYmmddHHMM of the record's local minute; the hour and day are its prefixes."""
    m = int(record["ts"] // 60)
    key = (m, tz)
    b = _minute_cache.get(key)
    if b is None:
        if len(_minute_cache) > 100_000:
            _minute_cache.clear()
        b = _minute_cache[key] = datetime.fromtimestamp(m * 60, tz).strftime("%Y%m%d%H%M")
    return b


def is_late(record: dict, now: float, grace_seconds: float) -> bool:
    """Later than the grace period: still counted in its own window, but flagged."""
    return now - record["ts"] > grace_seconds


def tally_args(record: dict, tz: tzinfo, now: float, grace_seconds: float) -> tuple[str, str, str, str, int]:
    """The five values the Lua writer needs for one complaint."""
    return (record["id"], record["province"],
            keys.field(record["district"], record["industry"], record["kind"], record["channel"]),
            minute_bucket(record, tz), 1 if is_late(record, now, grace_seconds) else 0)


_FMT = {"m": "%Y%m%d%H%M", "h": "%Y%m%d%H", "d": "%Y%m%d"}
_STEP = {"m": timedelta(minutes=1), "h": timedelta(hours=1)}


def floor_to(dt: datetime, win: str) -> datetime:
    if win == "m":
        return dt.replace(second=0, microsecond=0)
    if win == "h":
        return dt.replace(minute=0, second=0, microsecond=0)
    return dt.replace(hour=0, minute=0, second=0, microsecond=0)


def bucket_range(win: str, since: datetime, until: datetime, tz: tzinfo) -> list[tuple[datetime, str]]:
    """Window starts and bucket ids covering [since, until), in local time."""
    cur = floor_to(since.astimezone(tz), win)
    end = until.astimezone(tz)
    out = []
    while cur < end:
        out.append((cur, cur.strftime(_FMT[win])))
        if win == "d":  # calendar days: step by date, not by 24 h
            d = cur.date() + timedelta(days=1)
            cur = datetime(d.year, d.month, d.day, tzinfo=tz)
        else:
            cur = (cur + _STEP[win]).astimezone(tz)
    return out


def window_ttls(tally) -> tuple[int, int, int]:
    """Seconds to keep minute/hour/day buckets (0 = keep); ``tally`` is ``settings.tally``."""
    return (int(tally.keep_minute_hours * 3600), int(tally.keep_hour_days * 86400),
            int(tally.keep_day_days * 86400))


# -- the fold: minutes are written alone, folded into hour/day/total once closed -------------

def minute_of(ts: float, tz: tzinfo) -> str:
    """YYYYmmddHHMM of the local minute holding epoch second ``ts``."""
    return minute_bucket({"ts": ts}, tz)


def minutes_between(first: str, end: str, tz: tzinfo, limit: int | None = None) -> list[str]:
    """Minute buckets in [first, end), in order (at most ``limit``)."""
    t = datetime.strptime(first, _FMT["m"]).replace(tzinfo=tz).timestamp()
    out: list[str] = []
    while limit is None or len(out) < limit:
        b = minute_of(t, tz)
        if b >= end:
            break
        out.append(b)
        t += 60
    return out


def fold_upto(now: float, tz: tzinfo, grace_seconds: float) -> str:
    """The watermark a fold at ``now`` moves to: every minute before it ended at least the grace
    period ago (a complaint still within the grace is counted in its minute only)."""
    return minute_of(now - grace_seconds, tz)


def covers(win: str, bucket: str, minute: str) -> bool:
    """Whether the minute bucket ``minute`` counts towards (win, bucket): h, d or all."""
    if win == "all":
        return True
    if win in ("h", "d"):
        return minute[:BUCKET_WIDTH[win]] == bucket
    return False


BUCKET_WIDTH = {"m": 12, "h": 10, "d": 8}


def add_fields(into: dict, fields: dict) -> None:
    """Sum a tally hash (field -> count, as Redis returns it) into ``into`` (field -> int)."""
    for f, c in fields.items():
        into[f] = into.get(f, 0) + int(c)
