"""The wall's view model: what one view of the command-centre wall shows, as plain data.

One function, :func:`wall_view`, assembles it; the wall's refresh callback (``dashboard/wall.py``)
draws from it and ``GET /api/v1/wall`` (``streams/api.py``) answers it as JSON
(:func:`to_json`), so the API says exactly what the wall shows. No Dash here, and nothing from
``dashboard/``: the intake API imports this module.

A view is (level, code): the province, a city or a county of the wall's province. It holds

* ``kpis``: today's count per kind (投诉, 举报, 咨询, 合计) with the changes against yesterday and
  the same day last year (``streams.counts.kpi_rows``; None and a state where a comparison has
  no data);
* ``districts``: the districts one level down (a county shows its siblings) with today's count,
  the usual count at this time of day and the surge score, and the warning level of the open
  alerts on each (``hot``);
* ``industries``: today's count per industry, largest first;
* ``trend``: the last 24 hours by hour (``starts``, ``counts``) and the same hours a year
  earlier (``last_year``), None where there is no data; ``state`` says whether the figures are
  ``ready``, ``empty`` (no data yet) or ``filling`` (late complaints still being written in);
* ``state``: ``empty`` before the system holds any data (the wall's panels then say 数据准备中
  instead of drawing zeros), else ``ready``;
* ``rising``: the rising phrases of the last hour (None while not computed yet);
* ``alerts``: the open alerts, most urgent first, with their warning level
  (``alerts/severity.py``) and SLA clocks.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from alerts import severity as sev
from alerts.lifecycle import STATE_LABELS, sla_status
from streams.counts import (Tallies, by, child_codes, kpi_rows, ranking, select, today_covers, today_vs, trend_24h,
                            usual_so_far)
from streams.numbers import significant

LEVELS = ("province", "city", "county")
BASELINE_DAYS = 7
RISING_ROWS = 6


class ViewError(ValueError):
    """A view that does not exist: ``status`` 422 for a bad level, 404 for an unknown code."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class Sources:
    """Where a view's figures come from: the division table, the province's tally reader,
    ``under(level, code)`` (every code counted towards a selection) and ``alerts()`` (the alert
    store, or None when there is none)."""

    table: object
    tallies: Tallies
    under: Callable[[str, str], frozenset]
    alerts: Callable[[], object] = lambda: None

    @property
    def province(self) -> str:
        return self.tallies.province


def check_view(table, level: str, code: str, province: str):
    """The division of a view, or :class:`ViewError` saying what is wrong with it."""
    if level not in LEVELS:
        raise ViewError(422, f"level {level!r} must be one of {', '.join(LEVELS)}")
    d = table.get(str(code))
    if d is None:
        raise ViewError(404, f"code {code!r} is not in the GB/T 2260 division table")
    if d.level != level:
        raise ViewError(422, f"code {code} ({d.name}) is a {d.level}, not a {level}")
    if d.province_code != province:
        raise ViewError(404, f"code {code} ({d.name}) is not in the wall's province {province} "
                             f"({table.get(province).name})")
    return d


def selection_names(table, code: str) -> list[str]:
    """[province, city, county] names down to the selection (山西省 › 长治市 › 潞州区)."""
    d = table.get(code)
    names = [table.get(d.province_code).name]
    if d.level in ("city", "county") and d.city_code:
        names.append(table.get(d.city_code).name)
    if d.level == "county":
        names.append(d.name)
    return names


def district_view(table, level: str, code: str, today: Counter, baseline: Counter) -> dict:
    """The districts one level down (a county: its siblings), ranked, and which one is selected."""
    lv, codes = child_codes(table, level, code)
    rows = ranking(table, codes, lv, today, baseline, BASELINE_DAYS)
    return {"level": lv, "rows": rows, "selected": code if level == "county" else None}


def hot_levels(table, alerts: list[dict], level: str) -> dict[str, str]:
    """{code at ``level``: the most urgent warning level of the open alerts on it or inside it}
    (a county's alert marks its city on the province view; a city-wide alert marks no county)."""
    out: dict[str, str] = {}
    for a in alerts:
        d = table.get(str(a.get("district") or ""))
        code = d.code_at(level) if d is not None else ""
        lv = a.get("severity") if a.get("severity") in sev.RANK else "blue"
        if code and (code not in out or sev.RANK[lv] < sev.RANK[out[code]]):
            out[code] = lv
    return out


def numbers(src: Sources, level: str, code: str, now: datetime) -> dict:
    """The counts of a view: ``kpis``, ``industries`` [(industry, count)], ``districts``, ``trend``."""
    tallies = src.tallies
    tallies.check_late_writes(force=True)   # one HGET: a late write before this view is in it
    under = None if level == "province" else src.under(level, code)
    today, yesterday, last_year = today_vs(tallies, now)
    cover_y, cover_ly, hours = today_covers(tallies, now)
    baseline = usual_so_far(tallies, now, BASELINE_DAYS)
    mine = select(today, under)
    trend = trend_24h(tallies, now, under)
    return {
        "kpis": kpi_rows(mine, select(yesterday, under), select(last_year, under), cover_y, cover_ly, hours),
        "industries": sorted(by(mine, "industry").items(), key=lambda kv: (-kv[1], kv[0])),
        "districts": district_view(src.table, level, code, today, baseline),
        "trend": trend,
        # "empty" before the system holds any data: the panels say 数据准备中, not 0
        "state": "empty" if trend["state"] == "empty" else "ready",
    }


def open_alerts(store, now: datetime, limit: int = 50) -> list[dict]:
    """The open alerts, most urgent first, each with its SLA clocks (``_clocks``)."""
    if store is None:
        return []
    alerts = [{**a, "_clocks": list(sla_status(a, now))} for a in store.list(states="open", limit=limit, now=now)]
    return sorted(alerts, key=sev.urgency_key)


def rising_rows(topics: dict | None, rows: int = RISING_ROWS) -> dict | None:
    """The phrase list of the wall: the rising phrases first (with their usual count), then,
    after a note, the rest by count. None while the topics are not computed yet."""
    if topics is None:
        return None
    burst = topics["phrases"]["by_burst"] if topics.get("baseline_ok") else []
    rising = [{"topic": x["topic"], "count": x["count"], "expected": x.get("expected"), "rising": True}
              for x in burst if x["rising"]][:rows]
    seen = {r["topic"] for r in rising}
    rest = [x for x in topics["phrases"]["by_count"] if x["topic"] not in seen]
    room = rows - len(rising)
    if rising and room < 2:
        rest = []                       # a note with nothing under it would be an orphan
    note, more = "", []
    if room > 0 and rest:
        note = ("近1小时无明显上升，按件数排列" if not rising else "其余按件数") if topics.get("baseline_ok") \
            else "历史数据不足，按件数排列"
        more = [{"topic": x["topic"], "count": x["count"], "expected": None, "rising": False}
                for x in rest[:room - 1 if rising else room]]
    return {"rising": rising, "note": note, "more": more}


def wall_view(src: Sources, level: str, code: str, now: datetime, *, topics: dict | None = None,
              with_alerts: bool = True) -> dict:
    """Everything the wall shows for (level, code) at ``now``; ``topics`` are the selection's
    last hour of phrases (``ReadModel.topics``), None when not computed yet."""
    check_view(src.table, level, code, src.province)
    out = numbers(src, level, code, now)
    alerts = open_alerts(src.alerts(), now) if with_alerts else []
    out["districts"]["hot"] = hot_levels(src.table, alerts, out["districts"]["level"])
    out.update(level=level, code=code, names=selection_names(src.table, code), at=now.isoformat(),
               alerts=alerts, rising=rising_rows(topics))
    return out


ALERT_FIELDS = ("id", "state", "severity", "level", "district", "district_name", "city_name", "industry", "phrase",
                "observed", "expected", "score", "threshold", "window_hours", "since", "opened_at", "updated_at")


def alert_json(a: dict) -> dict:
    """An open alert as the API gives it: what the wall's ticker and banner show (no samples)."""
    out = {k: a.get(k) for k in ALERT_FIELDS if k in a}
    if isinstance(out.get("expected"), float):
        out["expected"] = significant(out["expected"], 3)
    lv = a.get("severity") if a.get("severity") in sev.RANK else "blue"
    out.update(severity=lv, severity_label=sev.tag(lv), state_label=STATE_LABELS.get(a.get("state") or "", ""),
               clocks=[{k: c.get(k) for k in ("name", "label", "due", "remaining_s", "mark", "stopped")}
                       for c in a.get("_clocks", ())])
    return out


def to_json(view: dict) -> dict:
    """The view as ``GET /api/v1/wall`` answers it."""
    t = view["trend"]
    return {
        "level": view["level"], "code": view["code"], "names": view["names"], "at": view["at"],
        "state": view["state"],
        "kpis": view["kpis"],
        "districts": view["districts"],
        "industries": [{"industry": i, "count": round(n)} for i, n in view["industries"]],
        "trend": {"starts": t["starts"], "hours": t["hours"], "counts": t["counts"], "last_year": t["last_year"],
                  "state": t["state"], "note": t["note"]},
        "rising": view["rising"],
        "alerts": [alert_json(a) for a in view["alerts"]],
    }


def wall_province(settings) -> str:
    """The province the wall shows (settings ``dashboard.province``, else the simulator's)."""
    return settings.dashboard.province
