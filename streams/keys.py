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

WINDOWS = {"minute": "m", "hour": "h", "day": "d", "total": "all"}
BUCKET_LEN = {"m": 12, "h": 10, "d": 8}


def tally(win: str, bucket: str, province: str) -> str:
    return f"{PREFIX}t:{win}:{bucket}:{province}"


def rejects_day(day: str) -> str:
    return f"{REJECTS}:d:{day}"


def field(district: str, industry: str, kind: str, channel: str) -> str:
    return f"{district}|{industry}|{kind}|{channel}"
