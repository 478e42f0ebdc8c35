"""Case handling on the screens (issue 14): the wall's 办理情况 panel, the duty console's 督办
list, and the plain formatting the review and the reports share.

The figures come from ``streams.cases.read`` (``kpis`` and ``due_items``), always through the
background process (``dashboard.jobs.case_kpis`` / ``jobs.due_list``): the first province-wide
"this year" query of a process takes seconds, and a wall refresh must never wait for it.

Formatting rules: a rate whose denominator is 0 reads 无数据, never 0 %; money is shown in
万元; a clock's time left reads 剩 3小时20分 or 超期 2天4小时.
"""
from __future__ import annotations

from datetime import datetime

from dash import Input, Output, dcc, html

from dashboard import ids

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
DUE_REFRESH_S = 10


# -- pure formatting -----------------------------------------------------------------------------

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


# -- the wall's panel -----------------------------------------------------------------------------

def wall_panel_body(today: dict | None, year: dict | None):
    head = html.Tr([html.Th(""), html.Th("今日"), html.Th("今年"), html.Th("全国")])
    body = [html.Tr([html.Td(r["label"], className="h-label"),
                     html.Td(r["today"], className="h-num" + (" nodata" if r["today"] == NO_DATA else ""),
                             id=f"h-today-{r['key']}"),
                     html.Td(r["year"], className="h-num" + (" nodata" if r["year"] == NO_DATA else ""),
                             id=f"h-year-{r['key']}"),
                     html.Td(r["national"], className="h-nat")]) for r in wall_rows(today, year)]
    counts = html.Div([html.Span([html.Span(label, className="c-label"), html.Span(n, className=f"c-num c-{cls}",
                                                                                  id=f"h-count-{cls}")],
                                 className="c-item") for label, n, cls in counts_text(year)],
                      className="h-counts")
    return [html.Table([html.Thead(head), html.Tbody(body)], className="h-table"), counts]


# -- the duty console's 督办 list ------------------------------------------------------------------

def section(ctx):
    """The 督办 list's place in the console (under the alert queue)."""
    return html.Div([
        dcc.Interval(id=ids.DUTY_DUE_TICK, interval=DUE_REFRESH_S * 1000),
        html.H2("督办（临期、超期事项，按承办单位）", className="due-title"),
        html.Div(id=ids.DUTY_DUE, className="due-list", children=html.P("正在载入……", className="muted")),
    ], className="due-box")


def due_table(items: list[dict] | None, err: str | None = None):
    if items is None:
        return html.P(f"督办清单暂不可用：{err}" if err else "正在载入……", className="muted")
    rows = due_rows(items)
    if not rows:
        return html.P("暂无临期或超期事项", className="muted")
    head = html.Tr([html.Th(x) for x in ("承办单位", "时限", "状态", "剩余", "截止", "地区", "行业", "编号")])
    trs, last = [], None
    for r in rows:
        trs.append(html.Tr([
            html.Td(r["unit"] if r["unit"] != last else "", className="unit"),
            html.Td(r["clock"]), html.Td(html.Span(r["stage"], className=f"due-stage due-{r['stage_key']}")),
            html.Td(r["left"], className="left"), html.Td(r["deadline"], className="t"), html.Td(r["district"]),
            html.Td(r["industry"]), html.Td(r["id"], className="cid")], className=f"due-row due-{r['stage_key']}"))
        last = r["unit"]
    over = sum(r["stage_key"] == "overdue" for r in rows)
    return [html.P(f"共 {len(rows)} 项：超期 {over} 项，临期 {len(rows) - over} 项", className="due-sum"),
            html.Table([html.Thead(head), html.Tbody(trs)], className="due-table")]


def register(app, ctx) -> None:
    from dashboard import jobs

    @app.callback(Output(ids.DUTY_DUE, "children"), Input(ids.DUTY_DUE_TICK, "n_intervals"))
    def due(_n):
        key = ("due", "province", ctx.province)
        items = ctx.background.get(key, jobs.due_list, "province", ctx.province, max_age=DUE_REFRESH_S)
        return due_table(items, ctx.background.error(key))


def today_and_year(now: datetime) -> tuple[tuple[str, str], tuple[str, str]]:
    """(since, until) of today and of this year so far, as ISO text (the background job's arguments)."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    year = day.replace(month=1, day=1)
    return (day.isoformat(), now.isoformat()), (year.isoformat(), now.isoformat())
