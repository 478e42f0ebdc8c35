"""Case handling figures as text: the plain formatting the wall's 办理情况 panel, the duty
console's 督办 list, the review and the reports share. Pure (no Dash, no Redis).

A rate whose denominator is 0 reads 无数据, never 0 %; money is shown in 万元; a clock's time
left reads 剩 3小时20分 or 超期 2天4小时.
"""
from __future__ import annotations

NO_DATA = "无数据"

# (key, label) of the rates, in the order the bureaus report them
RATES = (("on_time_first_check", "按时初查率"), ("on_time_closing", "按时办结率"), ("response_24h", "24小时回应率"),
         ("mediation_success", "调解成功率"), ("self_settlement", "自行和解率"), ("satisfaction", "满意度"))
# national yardsticks ../shared/DOMAIN.md gives (only those it gives)
NATIONAL = {"mediation_success": 0.509}
# the wall's rows: five rates (自行和解率 is in the review and reports)
WALL_RATES = ("on_time_first_check", "on_time_closing", "response_24h", "mediation_success", "satisfaction")
LABEL = dict(RATES)
STAGE = {"urging": "临期", "overdue": "超期"}


def fmt_rate(r: dict | None) -> str:
    """{"value", "numerator", "denominator"} → "66.67%"; 无数据 when nothing is in the denominator."""
    if not r or not r.get("denominator") or r.get("value") is None:
        return NO_DATA
    return f"{r['value'] * 100:.2f}%"


def fmt_share(v: float | None) -> str:
    return NO_DATA if v is None else f"{v * 100:.2f}%"


def fmt_wan(yuan: float | None) -> str:
    """Yuan → 万元 with two decimals (6250.5 → 0.63)."""
    return NO_DATA if yuan is None else f"{yuan / 10000:,.2f}"


def fmt_points(a: dict | None, b: dict | None) -> str:
    """The change of a rate against another, in percentage points; 无数据 when either has none."""
    if not a or not b or a.get("value") is None or b.get("value") is None:
        return NO_DATA
    d = (a["value"] - b["value"]) * 100
    return "持平" if abs(d) < 0.005 else f"{'+' if d > 0 else '−'}{abs(d):.2f}个百分点"


def fmt_left(seconds: float) -> str:
    """Seconds to a deadline → 剩 3小时20分 / 超期 2天4小时 (minutes only under a day)."""
    s = int(abs(seconds))
    d, rest = divmod(s, 86400)
    h, rest = divmod(rest, 3600)
    m = rest // 60
    if d:
        text = f"{d}天{h}小时" if h else f"{d}天"
    elif h:
        text = f"{h}小时{m}分" if m else f"{h}小时"
    else:
        text = f"{max(m, 1) if s else 0}分"
    return f"超期 {text}" if seconds < 0 else f"剩 {text}"


def wall_rows(today: dict | None, year: dict | None) -> list[dict]:
    """The wall panel's rows: [{"label", "today", "year", "national"}], all text."""
    rows = []
    for k in WALL_RATES:
        rows.append({"key": k, "label": LABEL[k], "today": fmt_rate(today[k]) if today else "…",
                     "year": fmt_rate(year[k]) if year else "…",
                     "national": fmt_share(NATIONAL[k]) if k in NATIONAL else ""})
    rows.append({"key": "recovered_yuan", "label": "挽回损失(万元)",
                 "today": fmt_wan(today["recovered_yuan"]) if today else "…",
                 "year": fmt_wan(year["recovered_yuan"]) if year else "…", "national": ""})
    return rows


def counts_text(k: dict | None) -> list[tuple[str, str, str]]:
    """[(label, number, css class)] of the open / due-soon / overdue counts."""
    if not k:
        return [("在办", "…", "open"), ("临期", "…", "due"), ("超期", "…", "over")]
    return [("在办", f"{k['open']:,}", "open"), ("临期", f"{k['due_soon']:,}", "due"), ("超期", f"{k['overdue']:,}", "over")]


def due_rows(items: list[dict]) -> list[dict]:
    """The 督办 list's rows grouped by unit (most urgent unit first), items most urgent first."""
    out = []
    for it in items:
        out.append({"unit": it.get("unit") or "未分流", "district": it["district_name"], "industry": it["industry"],
                    "kind": it["kind"], "clock": it["label"], "stage": STAGE.get(it["stage"], it["stage"]),
                    "stage_key": it["stage"], "deadline": it["deadline"][:16].replace("T", " "),
                    "left": fmt_left(it["remaining_s"]), "id": it["complaint_id"], "remaining_s": it["remaining_s"]})
    first = {}
    for r in out:
        first.setdefault(r["unit"], r["remaining_s"])
    out.sort(key=lambda r: (first[r["unit"]], r["unit"], r["remaining_s"]))
    return out


def handling_table(cur: dict | None, prev: dict | None, last_year: dict | None) -> list[list[str]]:
    """The review's and reports' 办理情况 table: [指标, 本期, 上期, 较上期, 去年同期, 较去年]."""
    rows = []
    for k, label in RATES:
        c, p, ly = (x[k] if x else None for x in (cur, prev, last_year))
        rows.append([label, fmt_rate(c), fmt_rate(p), fmt_points(c, p), fmt_rate(ly), fmt_points(c, ly)])
    rows.append(["挽回经济损失(万元)", *(fmt_wan(x["recovered_yuan"]) if x else NO_DATA for x in (cur, prev)), "",
                 fmt_wan(last_year["recovered_yuan"]) if last_year else NO_DATA, ""])
    return rows


def slowest_units(cases_by_unit: dict[str, tuple[int, int]], top: int = 5) -> list[tuple[str, int, int, str]]:
    """Units by overdue share: [(unit, overdue, items, share text)], worst first; units without items left out."""
    rows = [(u, o, n) for u, (o, n) in cases_by_unit.items() if n]
    rows.sort(key=lambda x: (-x[1] / x[2], -x[1], x[0]))
    return [(u, o, n, f"{o / n * 100:.1f}%") for u, o, n in rows[:top]]
