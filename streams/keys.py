"""The Redis key scheme of the stream (every key it writes is named here), and where the others live.

Redis Cluster (``REDIS_CLUSTER=1`` or a ``redis+cluster://`` REDIS_URL, read once at import):
every key of one province carries the province code as a hash tag, ``{140000}``, so each
atomic step of the tally (one Lua call per province of a message) touches one slot and the
provinces spread over the cluster's nodes. On a single redis-server the names are the same
without the braces and without the per-province dedup/stats prefix (``cc:seen:{id}``,
``cc:stats``), so existing data and tools keep working. Families whose Lua steps touch
several keys get a family tag in cluster mode: ``{rej}`` (dead-letter counting) and
``{cases}`` (case handling), each one slot.

A complaint id is deduplicated WITHIN ITS PROVINCE in cluster mode (``cc:{140000}:seen:{id}``):
the same id sent for two provinces counts once in each. On one redis-server it is global.

Below, ``{p}`` is the province code, tagged (``{140000}``) in cluster mode and bare otherwise.

  cc:seen:{id}                       dedup: first stream position of complaint {id} (TTL dedup_days)
                                     (cluster: cc:{p}:seen:{id})
  cc:t:{win}:{bucket}:{p}            tally hash, win in m|h|d|all, bucket = local time
                                     YYYYmmddHHMM | YYYYmmddHH | YYYYmmdd | all;
                                     field "{district}|{industry}|{kind}|{channel}" -> count
  cc:t:fold:{p}                      hash, upto = the fold watermark: minute buckets before it are
                                     folded into h/d/all; from it on only the minute bucket is
                                     written, and readers add those minutes (streams/fold.lua)
  cc:tver:{p}                        hash {win}:{bucket} -> late writes into that closed bucket
  cc:stats                           hash: accepted, redelivered, duplicate, late_after_grace, rejected
                                     (cluster: cc:{p}:stats per province + cc:{rej}:stats; readers
                                     sum them, ``stats_keys()``)
  cc:rej:{ref}                       dedup of dead-letter counting     (cluster: cc:{rej}:rej:{ref})
  cc:rejects                         hash: reason code -> count (all time)  (cluster: cc:{rej}:rejects)
  cc:rejects:d:{YYYYmmdd}            hash: reason code -> count (that local day)
  cc:hb:worker:{name}                worker heartbeat (JSON, expires)
  cc:lat:{name}                      recent accept->visible latency samples of a worker (ms)

  cc:docs:{YYYYmmddHH}:{p}           topic documents of that hour (masked text, phrases; streams/store.py)

  Case handling (streams/cases/store.py; cluster: every name below starts cc:{cases}: instead of cc:):
  cc:case:{cid}                      hash: c = the item's base fields (JSON), e:{eid} = one event (JSON)
  cc:cev:{eid}                       dedup: stream position of case event {eid} (TTL dedup_days)
  cc:cases:d:{YYYYmmdd}:{province}   set of case ids received that local day
  cc:cases:open                      zset: case ids the timer looks at next, scored by when
  cc:cases:due                       zset: case ids with a clock in 催办 or overdue, scored by deadline
  cc:cases:held / cc:cases:held:{cid}  events waiting for their complaint (zset by first held; hash)
  cc:cases:notice:{cid}:{clock}:{stage}  a 提醒卡/催办卡/overdue notice sent once
  cc:cases:stats                     hash: opened, applied, held, released, held_expired, redelivered, notices…
  cc:cases:ver                       hash: {YYYYmmdd}:{province} -> changes to that day's cases (reader caches)
  cc:cases:timer                     the case timer's lease

District, city and province counts are rolled up at read time from the most specific code
each complaint carries, through the division table.

Other families, each named in its own module: ``cc:alert:*``, ``cc:alerts:*``, ``cc:silence*``
(alerts/store.py: alerts, audit trails, silences; in cluster mode they start ``cc:{alerts}:``, one
slot, as its WATCH/MULTI steps and Lua touch several at once), ``cc:alerts:detector*`` (alerts/agents.py: the
detector's lease and status), ``cc:dash:*`` (dashboard/auth.py: sessions, failed sign-ins).
"""
import os


def cluster_from_env(env=None) -> bool:
    """Redis Cluster selected: ``REDIS_CLUSTER=1`` or a ``redis+cluster://`` URL."""
    env = os.environ if env is None else env
    return str(env.get("REDIS_CLUSTER", "")).strip().lower() in ("1", "true", "yes", "on") \
        or str(env.get("REDIS_URL", "")).startswith(("redis+cluster://", "rediss+cluster://"))


CLUSTER = cluster_from_env()
PREFIX = "cc:"
_REJ = PREFIX + ("{rej}:" if CLUSTER else "")         # dead-letter counting: one slot in a cluster
_CASES = PREFIX + ("{cases}:" if CLUSTER else "")     # case handling: one slot in a cluster
ALERTS = PREFIX + ("{alerts}:" if CLUSTER else "")    # alerts/store.py's keys (WATCH/MULTI, Lua): one slot
API = PREFIX + ("{api}:" if CLUSTER else "")          # streams/tokens.py's keys (MULTI over both): one slot
SEEN = PREFIX + "seen:"                               # single redis-server only; see seen_prefix()
STATS = PREFIX + "stats"                              # single redis-server; see stats() / stats_keys()
REJECT_STATS = _REJ + "stats"                         # the dead-letter counter's stats hash
REJ = _REJ + "rej:"
REJECTS = _REJ + "rejects"
HEARTBEAT = PREFIX + "hb:worker:"
LATENCY = PREFIX + "lat:"
CASE = _CASES + "case:"
CASE_EVENT_SEEN = _CASES + "cev:"
CASES_OPEN = _CASES + "cases:open"
CASES_DUE = _CASES + "cases:due"
CASES_HELD = _CASES + "cases:held"
CASES_STATS = _CASES + "cases:stats"
CASES_VERSION = _CASES + "cases:ver"
CASES_TIMER = _CASES + "cases:timer"


def tag(province: str) -> str:
    """The province as it appears in its keys: ``{140000}`` (a hash tag) in cluster mode."""
    return "{" + province + "}" if CLUSTER else province


def seen_prefix(province: str) -> str:
    """Prefix of the dedup keys of complaints of ``province`` (``+ id``)."""
    return f"{PREFIX}{tag(province)}:seen:" if CLUSTER else SEEN


def seen(province: str, complaint_id: str) -> str:
    return seen_prefix(province) + complaint_id


def stats(province: str) -> str:
    """The stats hash the tally step of ``province`` bumps."""
    return f"{PREFIX}{tag(province)}:stats" if CLUSTER else STATS


def stats_keys(provinces=None) -> list[str]:
    """Every stats hash a reader sums (one on a single redis-server)."""
    if not CLUSTER:
        return [STATS]
    if provinces is None:
        from config.divisions import divisions
        provinces = sorted({d.province_code for d in divisions().by_code.values()})
    return [REJECT_STATS, *(stats(p) for p in provinces)]


def lua(src: str) -> str:
    """A Lua script of the case family with its key names for this mode (``'cc:case…'``,
    ``'cc:cev:…'`` become ``'cc:{cases}:…'`` in cluster mode)."""
    if not CLUSTER:
        return src
    # a complaint's dedup key is in its province's slot, unknown here: on a cluster the timer
    # cannot tell a 咨询 (no case) from a complaint that never came, and says the latter
    src = src.replace("redis.call('EXISTS', 'cc:seen:' .. cid)", "0")
    return src.replace("'cc:case", "'" + _CASES + "case").replace("'cc:cev:", "'" + _CASES + "cev:")


def cases_day(day: str, province: str) -> str:
    return f"{_CASES}cases:d:{day}:{province}"


def case_notice(cid: str, clock: str, stage: str) -> str:
    return f"{_CASES}cases:notice:{cid}:{clock}:{stage}"

WINDOWS = {"minute": "m", "hour": "h", "day": "d", "total": "all"}


def tally(win: str, bucket: str, province: str) -> str:
    return f"{PREFIX}t:{win}:{bucket}:{tag(province)}"


def docs(hour: str, province: str) -> str:
    """The topic documents of local hour ``hour`` (YYYYmmddHH) of ``province``."""
    return f"{PREFIX}docs:{hour}:{tag(province)}"


def fold(province: str) -> str:
    """Hash, field ``upto``: the province's fold watermark, a minute bucket; every minute bucket
    before it is folded into its hour, day and the total (``streams/fold.lua``); those from it
    on are counted in their minute only, and readers add them (``streams.store.read_tallies``)."""
    return f"{PREFIX}t:fold:{tag(province)}"


def tally_versions(province: str) -> str:
    """Hash ``{win}:{bucket}`` -> how many times a late complaint wrote into that bucket after it
    closed, plus ``_all`` (their sum), bumped in the tally's atomic step: readers that cache
    closed buckets re-read exactly those whose version moved (``streams/tally.lua``)."""
    return f"{PREFIX}tver:{tag(province)}"


def rejects_day(day: str) -> str:
    return f"{REJECTS}:d:{day}"


def reject_stats_keys() -> tuple[str, str]:
    """(all-time reasons hash, stats hash) the dead-letter counter bumps."""
    return REJECTS, (REJECT_STATS if CLUSTER else STATS)


def field(district: str, industry: str, kind: str, channel: str) -> str:
    return f"{district}|{industry}|{kind}|{channel}"
