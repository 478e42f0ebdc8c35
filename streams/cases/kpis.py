"""The handling figures of a set of items, the way the bureaus compute them. Pure.

The set is the items **received** in the period (a cohort, e.g. all complaints and reports
received in 2026), in the district (with everything under it) and industry asked for; each
figure is evaluated **as of now**. Every rate is ``{"value", "numerator", "denominator"}``,
value = numerator / denominator rounded to 4 places (0.9986 = 99.86 %), ``null`` when the
denominator is 0. **An item still open and not yet due is not late**: it is in no on-time
denominator until its clock stops or runs out.

* ``on_time_first_check`` 按时初查率: items whose first-check clock (complaint: accept/refuse
  decision, 7 working days; report: decision to open a case, 15 working days; rapid item:
  instructing a team, 15 min) was decided, or ran out undecided; numerator: decided by the
  deadline.
* ``on_time_closing`` 按时办结率: items whose closing clock (mediation closed within 45
  working days of acceptance; rapid item closed within 24 h) was stopped by a close, or ran
  out; numerator: closed by the deadline. Refused items never start this clock; an item
  transferred out (转办) before closing is not in it.
* ``response_24h`` 24 小时回应率: items whose first handling event (any event but 回访) came,
  or 24 h passed without one; numerator: the first event within 24 h of receipt.
* ``mediation_success`` 调解成功率: closed complaints (办结, any outcome); numerator: outcome
  调解成功 (mediated).
* ``self_settlement`` 自行和解率: closed complaints; numerator: outcome 自行和解 (self_settled).
* ``satisfaction`` 满意度: items called back (回访) with a satisfaction; numerator: 满意 or
  基本满意 (the latest callback of an item counts).
* ``recovered_yuan`` 挽回经济损失: yuan recovered on the items' closes (the latest close of an item).
* ``open``: items with a clock running; ``due_soon``: of those, items past a 催办 moment but
  not yet overdue; ``overdue``: items with a running clock past its deadline.

Only complaints and reports (投诉, 举报) are items; enquiries are answered on the spot.
"""
from __future__ import annotations

import math

from streams.cases.config import CaseConfig
from streams.cases.deadlines import WorkCalendar, first_event, item_clocks

__all__ = ["RATES", "rate", "item_figures", "kpis", "sums", "add", "finish", "empty"]

RATES = ("on_time_first_check", "on_time_closing", "response_24h", "mediation_success", "self_settlement",
         "satisfaction")
RESPONSE_EVENTS = ("accept", "reject", "route", "mediation_start", "close", "transfer", "open_case")


def rate(numerator: int, denominator: int) -> dict:
    return {"value": round(numerator / denominator, 4) if denominator else None,
            "numerator": numerator, "denominator": denominator}


def _latest(events: list[dict], name: str) -> dict | None:
    best = None
    for e in events:
        if e["event"] == name and (best is None or (e["ts"], e["id"]) > (best["ts"], best["id"])):
            best = e
    return best


def item_figures(case: dict, cfg: CaseConfig, cal: WorkCalendar, now: float) -> dict:
    """What one item adds to each figure: {name: (numerator, denominator)} and the counts."""
    out = {k: [0, 0] for k in RATES}
    out.update(recovered_yuan=0.0, open=0, due_soon=0, overdue=0)
    if case["kind"] not in cfg.kinds:
        return out
    events = case.get("events", [])
    clocks = item_clocks(case, cfg, cal)
    for role, name in (("first_check", "on_time_first_check"), ("closing", "on_time_closing")):
        for c in clocks:
            if c.kpi == role:
                if role == "closing" and c.stopped_by == "transfer":
                    break                     # transferred out: not this bureau's closing
                s = c.settled(now)
                if s is not None:
                    out[name][1] += 1
                    out[name][0] += int(s)
                break
    first = first_event(events, RESPONSE_EVENTS)
    if first is not None or now > case["ts"] + cfg.response_within_s:
        out["response_24h"][1] = 1
        out["response_24h"][0] = int(first is not None and first["ts"] - case["ts"] <= cfg.response_within_s)
    close = _latest(events, "close")
    if close is not None:
        if case["kind"] == "投诉":
            out["mediation_success"] = [int(close["outcome"] == "mediated"), 1]
            out["self_settlement"] = [int(close["outcome"] == "self_settled"), 1]
        out["recovered_yuan"] = float(close.get("recovered_yuan") or 0.0)
    visit = _latest(events, "visit")
    if visit is not None:
        out["satisfaction"] = [int(visit["satisfaction"] in ("satisfied", "basically_satisfied")), 1]
    stages = [c.stage(now) for c in clocks if c.stopped is None]
    if stages:
        out["open"] = 1
        if "overdue" in stages:
            out["overdue"] = 1
        elif "urging" in stages:
            out["due_soon"] = 1
    return out


def empty() -> dict:
    return {**{k: rate(0, 0) for k in RATES}, "recovered_yuan": 0.0, "open": 0, "due_soon": 0, "overdue": 0,
            "items": 0}


def _changes_at(case: dict, cfg: CaseConfig, cal: WorkCalendar, now: float) -> float:
    """The next moment after ``now`` at which this item's figures change by time alone (a
    running clock reaching its 催办 moment or deadline, 24 h passing without a response)."""
    nxt = math.inf
    if case["kind"] not in cfg.kinds:
        return nxt
    for c in item_clocks(case, cfg, cal):
        if c.stopped is None:
            for m in (c.urging, c.deadline):
                if m >= now:
                    nxt = min(nxt, m)
    if first_event(case.get("events", []), RESPONSE_EVENTS) is None:
        t = case["ts"] + cfg.response_within_s
        if t >= now:
            nxt = min(nxt, t)
    return nxt


def sums(cases, cfg: CaseConfig, cal: WorkCalendar, now: float) -> tuple[dict, float]:
    """Raw sums of the figures (to add up across days) and until when they hold without a new event."""
    out = {"num": {k: 0 for k in RATES}, "den": {k: 0 for k in RATES}, "recovered_yuan": 0.0, "open": 0,
           "due_soon": 0, "overdue": 0, "items": 0}
    until = math.inf
    for case in cases:
        f = item_figures(case, cfg, cal, now)
        if case["kind"] in cfg.kinds:
            out["items"] += 1
        for k in RATES:
            out["num"][k] += f[k][0]
            out["den"][k] += f[k][1]
        out["recovered_yuan"] += f["recovered_yuan"]
        for k in ("open", "due_soon", "overdue"):
            out[k] += f[k]
        if f["open"] or f["response_24h"][1] == 0:
            until = min(until, _changes_at(case, cfg, cal, now))
    return out, until


def add(total: dict, part: dict) -> dict:
    for k in RATES:
        total["num"][k] += part["num"][k]
        total["den"][k] += part["den"][k]
    for k in ("recovered_yuan", "open", "due_soon", "overdue", "items"):
        total[k] += part[k]
    return total


def finish(total: dict) -> dict:
    out = {k: rate(total["num"][k], total["den"][k]) for k in RATES}
    out.update(recovered_yuan=round(total["recovered_yuan"], 2), open=total["open"], due_soon=total["due_soon"],
               overdue=total["overdue"], items=total["items"])
    return out


def kpis(cases, cfg: CaseConfig, cal: WorkCalendar, now: float) -> dict:
    """The figures of ``cases`` (an iterable of case dicts, already selected) as of ``now``."""
    return finish(sums(cases, cfg, cal, now)[0])
