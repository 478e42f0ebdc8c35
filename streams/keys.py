"""The Redis key scheme of the stream (every key it writes is named here), and where the others live.

  cc:seen:{id}                       dedup: first stream position of complaint {id} (TTL dedup_days)
  cc:t:{win}:{bucket}:{province}     tally hash, win in m|h|d|all, bucket = local time
                                     YYYYmmddHHMM | YYYYmmddHH | YYYYmmdd | all;
                                     field "{district}|{industry}|{kind}|{channel}" -> count
  cc:stats                           hash: accepted, redelivered, duplicate, late_after_grace, rejected
  cc:rej:{ref}                       dedup of dead-letter counting
  cc:rejects                         hash: reason code -> count (all time)
  cc:rejects:d:{YYYYmmdd}            hash: reason code -> count (that local day)
  cc:hb:worker:{name}                worker heartbeat (JSON, expires)
  cc:lat:{name}                      recent accept->visible latency samples of a worker (ms)

  cc:docs:{YYYYmmddHH}:{province}    topic documents of that hour (masked text, phrases; streams/store.py)

  Case handling (issue 14; streams/cases/store.py):
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
(alerts/store.py: alerts, audit trails, silences), ``cc:alerts:detector*`` (alerts/agents.py: the
detector's lease and status), ``cc:dash:*`` (dashboard/auth.py: sessions, failed sign-ins).
"""
PREFIX = "cc:"
SEEN = PREFIX + "seen:"
STATS = PREFIX + "stats"
REJ = PREFIX + "rej:"
REJECTS = PREFIX + "rejects"
HEARTBEAT = PREFIX + "hb:worker:"
LATENCY = PREFIX + "lat:"
CASE = PREFIX + "case:"
CASE_EVENT_SEEN = PREFIX + "cev:"
CASES_OPEN = PREFIX + "cases:open"
CASES_DUE = PREFIX + "cases:due"
CASES_HELD = PREFIX + "cases:held"
CASES_STATS = PREFIX + "cases:stats"
CASES_VERSION = PREFIX + "cases:ver"
CASES_TIMER = PREFIX + "cases:timer"


def cases_day(day: str, province: str) -> str:
    return f"{PREFIX}cases:d:{day}:{province}"


def case_notice(cid: str, clock: str, stage: str) -> str:
    return f"{PREFIX}cases:notice:{cid}:{clock}:{stage}"

WINDOWS = {"minute": "m", "hour": "h", "day": "d", "total": "all"}
BUCKET_LEN = {"m": 12, "h": 10, "d": 8}


def tally(win: str, bucket: str, province: str) -> str:
    return f"{PREFIX}t:{win}:{bucket}:{province}"


def tally_versions(province: str) -> str:
    """Hash ``{win}:{bucket}`` -> how many times a late complaint wrote into that bucket after it
    closed, plus ``_all`` (their sum), bumped in the tally's atomic step: readers that cache
    closed buckets re-read exactly those whose version moved (``streams/tally.lua``)."""
    return f"{PREFIX}tver:{province}"


def rejects_day(day: str) -> str:
    return f"{REJECTS}:d:{day}"


def field(district: str, industry: str, kind: str, channel: str) -> str:
    return f"{district}|{industry}|{kind}|{channel}"
