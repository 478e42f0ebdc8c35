"""Case handling on the screens: the wall's 办理情况 panel and the duty console's 督办 list
(the plain formatting they share with the review and the reports is ``dashboard/handling.py``).

The figures come from ``streams.cases.read`` (``kpis`` and ``due_items``), always through the
background process (``dashboard.jobs.case_kpis`` / ``jobs.due_list``): the first province-wide
"this year" query of a process takes seconds, and a wall refresh must never wait for it.

Formatting rules: a rate whose denominator is 0 reads 无数据, never 0 %; money is shown in
万元; a clock's time left reads 剩 3小时20分 or 超期 2天4小时.
"""
from __future__ import annotations

from dash import Input, Output, dcc, html

from dashboard import ids
from dashboard.handling import (  # noqa: F401 - the formatting, used here and by the review and the reports
    LABEL, NATIONAL, NO_DATA, RATES, STAGE, WALL_RATES, counts_text, due_rows, fmt_left, fmt_points, fmt_rate,
    fmt_share, fmt_wan, handling_table, slowest_units, wall_rows)

DUE_REFRESH_S = 10


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


def short_place(name: str) -> str:
    """A district's name without its province (the console serves one): 山西省长治市平顺县 -> 长治市平顺县.

    >>> short_place("山西省长治市平顺县"), short_place("内蒙古自治区呼和浩特市"), short_place("平顺县")
    ('长治市平顺县', '呼和浩特市', '平顺县')
    """
    import re

    return re.sub(r"^\S{2,7}?(省|自治区)(?=\S)", "", name or "")


def _date_time(text: str) -> list:
    """2026-11-25 00:00 as a date and a time that break only between them (never at a hyphen)."""
    day, _, clock = text.partition(" ")
    return [html.Span(day, className="nb"), " ", html.Span(clock, className="nb")] if clock else [text]


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
            html.Td(r["clock"], className="due-clock"), html.Td(html.Span(r["stage"], className=f"due-stage due-{r['stage_key']}")),
            html.Td(r["left"], className="left"),
            html.Td(_date_time(r["deadline"]), className="t"),
            html.Td(short_place(r["district"]), className="place"), html.Td(r["industry"], className="ind"),
            html.Td(r["id"], className="cid")], className=f"due-row due-{r['stage_key']}"))
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
