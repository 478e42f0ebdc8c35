"""How the simulator plays out an item's case: realistic delays and outcome mixes. Pure.

``plan(rec, seed, cfg, cal)`` returns the raw case events (for ``POST /api/v1/case-events``
or the intake) that one validated complaint record will see, each with its time; the same
seed gives the same plan, so the live simulator keeps only (time, id, seed) per pending
case and re-plans when an event falls due.

Mixes (roughly what the reports describe; configurable only here):

* enquiries (咨询): no case;
* rapid items (快反, ~4 % of complaints): a team instructed within 3-14 min (6 % late, up
  to 25 min), responding within 45 min, closed within 1-20 h (3 % after 24 h);
* complaints (投诉): first handled (分流) within 1-20 h (8 % after 24 h); 5 % refused and
  2 % transferred; otherwise accepted within 1-4 working days (3 % after the 7-working-day
  limit), mediation started the same day and closed after 2-30 working days (3 % after 45);
  outcomes 调解成功 52 %, 调解不成 18 %, 自行和解 12 %, 撤回 9 %, 终止 9 %; losses recovered on
  a success or a settlement; 70 % called back: 满意 62 %, 基本满意 24 %, 不满意 14 %;
* reports (举报): routed within hours; a decision within 2-12 working days (3 % late): 40 %
  立案, 60 % 不予立案.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from streams.cases.config import CaseConfig
from streams.cases.deadlines import WorkCalendar

__all__ = ["RAPID_SHARE", "plan", "rapid_tag"]

RAPID_SHARE = 0.04
RAPID_INDUSTRIES = ("旅游", "食品", "商超", "一般消费纠纷")
UNITS = ("市场监管所", "消费维权科", "价格监督检查科", "食品安全快反分队", "综合快反分队", "12315指挥中心")


def rapid_tag(rec: dict, rng: random.Random) -> bool:
    """Whether the simulator marks this complaint as a rapid-response item."""
    return rec["kind"] == "投诉" and rec["industry"] in RAPID_INDUSTRIES and rng.random() < RAPID_SHARE * 2.5


def _workday_time(cal: WorkCalendar, start: float, days: int, rng: random.Random) -> float:
    """Working hours (08:30-17:30) of the ``days``-th working day after ``start``'s date."""
    d = cal.working_days_after(datetime.fromtimestamp(start, cal.tz).date(), max(days, 1))[-1]
    t = datetime(d.year, d.month, d.day, 8, 30, tzinfo=cal.tz) + timedelta(minutes=rng.randrange(0, 540))
    return t.timestamp()


def _pick(rng: random.Random, table: list[tuple[str, float]]) -> str:
    x = rng.random()
    for name, p in table:
        if x < p:
            return name
        x -= p
    return table[-1][0]


def plan(rec: dict, seed: int, cfg: CaseConfig, cal: WorkCalendar) -> list[dict]:
    """The case events of one complaint record, sorted by time, each with ``at`` (ISO) and ``ts``."""
    if rec["kind"] not in cfg.kinds:
        return []
    rng = random.Random(seed)
    t0 = rec["ts"]
    cid = rec["id"]
    unit = f"{rng.choice(UNITS)}"
    out: list[tuple[float, str, dict]] = []

    def add(event: str, ts: float, **kw):
        out.append((max(ts, t0 + 1), event, kw))

    rapid = bool(cfg.rapid_tags & set(rec.get("tags") or ()))
    if rapid:
        late = rng.random() < 0.06
        t_route = t0 + (rng.uniform(16, 25) if late else rng.uniform(3, 14)) * 60
        add("route", t_route, unit=unit)
        t_resp = t_route + rng.uniform(5, 30) * 60
        add("mediation_start", t_resp)
        t_close = t0 + (rng.uniform(25, 40) if rng.random() < 0.03 else rng.uniform(1, 20)) * 3600
        _close(add, rng, max(t_close, t_resp + 60), rec)
    elif rec["kind"] == "投诉":
        add("route", t0 + (rng.uniform(25, 60) if rng.random() < 0.08 else rng.uniform(1, 20)) * 3600, unit=unit)
        x = rng.random()
        if x < 0.05:
            add("reject", _workday_time(cal, t0, rng.randint(1, 5), rng), reason="不属于市场监管部门职责范围")
        elif x < 0.07:
            add("transfer", _workday_time(cal, t0, rng.randint(1, 3), rng), reason="属地管辖，转有关部门办理")
        else:
            days = rng.randint(8, 10) if rng.random() < 0.03 else rng.randint(1, 4)
            t_acc = _workday_time(cal, t0, days, rng)
            add("accept", t_acc, unit=unit)
            add("mediation_start", t_acc + rng.uniform(0.5, 6) * 3600)
            med = rng.randint(46, 50) if rng.random() < 0.03 else rng.randint(2, 30)
            _close(add, rng, _workday_time(cal, t_acc, med, rng), rec)
    else:  # 举报
        add("route", t0 + rng.uniform(1, 8) * 3600, unit=unit)
        days = rng.randint(16, 18) if rng.random() < 0.03 else rng.randint(2, 12)
        t_dec = _workday_time(cal, t0, days, rng)
        if rng.random() < 0.4:
            add("open_case", t_dec)
        else:
            add("reject", t_dec, reason="经核查，未发现违法行为")
    out.sort(key=lambda x: x[0])
    events = []
    for n, (ts, event, kw) in enumerate(out):
        e = {"id": f"{cid}:ev{n}", "complaint_id": cid, "event": event,
             "at": datetime.fromtimestamp(ts, cal.tz).isoformat(timespec="seconds"), "ts": ts, **kw}
        events.append(e)
    return events


def _close(add, rng: random.Random, ts: float, rec: dict) -> None:
    outcome = _pick(rng, [("mediated", 0.52), ("failed", 0.18), ("self_settled", 0.12), ("withdrawn", 0.09),
                          ("terminated", 0.09)])
    kw = {"outcome": outcome}
    if outcome in ("mediated", "self_settled"):
        amount = rec.get("amount") or rng.lognormvariate(6.0, 1.1)
        kw["recovered_yuan"] = round(min(float(amount), 200_000) * rng.uniform(0.3, 1.0), 2)
    add("close", ts, **kw)
    if rng.random() < 0.7:
        sat = _pick(rng, [("satisfied", 0.62), ("basically_satisfied", 0.24), ("unsatisfied", 0.14)])
        add("visit", ts + rng.uniform(1, 3) * 86400, satisfaction=sat)


class CasePlayer:
    """The simulator's pending case events: complaints in, the events that have fallen due out.

    Keeps one small tuple per pending case (heap of next time, id, step, seed, the few fields
    of the record the plan needs) and re-plans from the seed when a step falls due.
    """

    def __init__(self, cfg: CaseConfig, cal: WorkCalendar, seed: int):
        import heapq
        self.cfg, self.cal, self.seed = cfg, cal, seed
        self.heap: list = []
        self._push = heapq.heappush
        self._pop = heapq.heappop
        self.planned = 0
        self.sent = 0

    def _seed(self, cid: str) -> int:
        import zlib
        return zlib.crc32(cid.encode()) ^ (self.seed & 0xFFFFFFFF)

    def add(self, recs: list[dict], now: float) -> list[dict]:
        """Plan the cases of newly sent complaint records; returns the events already due."""
        due = []
        for rec in recs:
            if rec["kind"] not in self.cfg.kinds:
                continue
            small = {"id": rec["id"], "ts": rec["ts"], "kind": rec["kind"], "industry": rec["industry"],
                     "tags": [t for t in rec.get("tags") or () if t in self.cfg.rapid_tags]}
            if rec.get("amount"):
                small["amount"] = rec["amount"]
            s = self._seed(rec["id"])
            events = plan(small, s, self.cfg, self.cal)
            self.planned += 1
            for i, e in enumerate(events):
                if e["ts"] > now:
                    self._push(self.heap, (e["ts"], rec["id"], i, s, small))
                    break
                due.append(e)
        self.sent += len(due)
        return [_raw(e) for e in due]

    def due(self, now: float, limit: int = 20_000) -> list[dict]:
        """Events whose time has come (at most ``limit``); their cases' next steps are queued."""
        out = []
        while self.heap and self.heap[0][0] <= now and len(out) < limit:
            _ts, cid, i, s, small = self._pop(self.heap)
            events = plan(small, s, self.cfg, self.cal)
            j = i
            while j < len(events) and events[j]["ts"] <= now:
                out.append(events[j])
                j += 1
            if j < len(events):
                self._push(self.heap, (events[j]["ts"], cid, j, s, small))
        self.sent += len(out)
        return [_raw(e) for e in out]

    def pending(self) -> list:
        return list(self.heap)


def _raw(e: dict) -> dict:
    return {k: v for k, v in e.items() if k != "ts"}
