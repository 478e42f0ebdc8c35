"""The review (/review) for bureau heads: pick a period (day, week, month, quarter, custom),
a district and an industry; see the keyword cloud, the top phrases with their trend, the
comparison with the previous period and the same period last year, the most complained-about
merchants and the alert history with SLA compliance. Exports: the cloud as PNG, the tables as
XLSX or CSV, and the monthly analysis (月分析) and quarterly report (季报告) as one Word
document each.

Callbacks check what they are sent (:func:`check_selection`): a request forged or garbled
(an unknown period, a bad date, an unknown district or industry, a list where a string
belongs) is answered with a message on the page, never an error 500.
"""
from __future__ import annotations

import functools
import logging
import re
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs

from dash import Input, Output, State, ctx as dash_ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import alertview, figures, ids, jobs, reports
from streams.counts import PERIOD_NAMES, period_of

CLOUD_SCREEN = (1300, 700)
# Its smallest word in PNG pixels: the card shows the PNG about 900 px wide at 1080p (0.69 of it),
# so 28 is 19 px on the screen (the browser test measures it).
CLOUD_SCREEN_MIN_FONT = 28
COMPUTING = "计算中…"      # what a panel says until its numbers come (and again after a change)
PANELS = ("REVIEW_COMPARE", "REVIEW_INDUSTRIES", "REVIEW_DISTRICTS", "REVIEW_CLOUD", "REVIEW_PHRASES",
          "REVIEW_MERCHANTS", "REVIEW_SLA", "REVIEW_ALERTS", "REVIEW_HANDLING")
EARLIEST = date(2000, 1, 1)
MAX_CUSTOM_DAYS = 2 * 366

log = logging.getLogger(__name__)


def district_options(ctx) -> list[dict]:
    t = ctx.table
    prov = t.get(ctx.province)
    out = [{"label": prov.name, "value": prov.code}]
    for city in sorted((c for c in t.children(prov.code) if c.level == "city"), key=lambda c: c.code):
        out.append({"label": city.name, "value": city.code})
        for county in sorted((c for c in t.children(city.code) if c.level == "county"), key=lambda c: c.code):
            out.append({"label": f"{city.name} · {county.name}", "value": county.code})
    return out


def layout(ctx, user, search: str = ""):
    today = datetime.now(ctx.settings.tz).date()
    q = parse_qs((search or "").lstrip("?"))
    kind = (q.get("period") or ["month"])[-1]
    kind = kind if kind in PERIOD_NAMES else "month"
    industries = list(ctx.settings.complaints.industries_and_unclassified)
    card = lambda title, body, span, extra=None: html.Section(  # noqa: E731
        [html.H2(title), *(extra or []), body], className=f"review-card span-{span}")
    panel = lambda pid, cls=None: html.Div(COMPUTING, id=pid, className=cls)  # noqa: E731 - says so until filled
    return html.Div([
        dcc.Download(id=ids.REVIEW_DOWNLOAD),
        html.Header([
            html.H1("研判分析"),
            html.Nav([html.A("指挥大屏", href="/wall", target="_blank"), html.A("值班台", href="/duty")], className="review-nav"),
            html.Div([html.Span(f"{user.display}（{user.role_label}）", className="who")], className="user-box"),
        ], className="review-header"),
        html.Div([
            html.Label(["周期", dcc.RadioItems(id=ids.REVIEW_PERIOD, value=kind, inline=True,
                                             options=[{"label": v, "value": k} for k, v in PERIOD_NAMES.items()])]),
            html.Label(["日期（所在周期）", dcc.DatePickerSingle(id=ids.REVIEW_DATE, date=today, display_format="YYYY-MM-DD",
                                                         max_date_allowed=today, first_day_of_week=1,
                                                         month_format=ids.MONTH_FORMAT, placeholder="选择日期")]),
            html.Label(["自定义起止", dcc.DatePickerRange(id=ids.REVIEW_RANGE, start_date=today.replace(day=1), end_date=today,
                                                     display_format="YYYY-MM-DD", max_date_allowed=today, first_day_of_week=1,
                                                     month_format=ids.MONTH_FORMAT, start_date_placeholder_text="开始日期",
                                                     end_date_placeholder_text="结束日期")]),
            html.Label(["地区", dcc.Dropdown(id=ids.REVIEW_DISTRICT, options=district_options(ctx), value=ctx.province,
                                           clearable=False, labels=ids.DROPDOWN_LABELS)]),
            html.Label(["行业", dcc.Dropdown(id=ids.REVIEW_INDUSTRY, value="",
                                           options=[{"label": "全部行业", "value": ""}] + [{"label": i, "value": i} for i in industries],
                                           clearable=False, labels=ids.DROPDOWN_LABELS)]),
            html.Div([html.Button("导出词云 PNG", id=ids.REVIEW_EXPORT_PNG), html.Button("导出表格 XLSX", id=ids.REVIEW_EXPORT_XLSX),
                      html.Button("导出表格 CSV", id=ids.REVIEW_EXPORT_CSV),
                      html.Button("月分析报告", id=ids.REVIEW_REPORT_MONTH), html.Button("季度报告", id=ids.REVIEW_REPORT_QUARTER)],
                     className="review-exports"),
        ], className="review-controls"),
        html.Div(id=ids.REVIEW_TITLE, className="review-title"),
        dcc.Loading(html.Div(id=ids.REVIEW_STATUS, className="review-status"), type="dot", color="#4fc3f7"),
        html.Div([
            card("同比环比", panel(ids.REVIEW_COMPARE), 4),
            card("行业", panel(ids.REVIEW_INDUSTRIES), 4),
            card("地区", panel(ids.REVIEW_DISTRICTS), 4),
            card("热词云", panel(ids.REVIEW_CLOUD, "review-cloud"), 6),
            card("热点短语与趋势", panel(ids.REVIEW_PHRASES), 6),
            card("被投诉较多的经营者", panel(ids.REVIEW_MERCHANTS), 4),
            card("预警处置时效", panel(ids.REVIEW_SLA), 8),
            card("预警记录", panel(ids.REVIEW_ALERTS), 12),
            card("办理情况（本期受理事项的办理时效与结果）", panel(ids.REVIEW_HANDLING), 12),
        ], className="review-grid"),
    ], className="review")


# -- plain helpers ----------------------------------------------------------------------------

class BadSelection(ValueError):
    """A callback got a value no control of the page can send; the message is shown as is."""


def _date(value) -> date | None:
    """A date picker's value ("2026-10-03" or "2026-10-03T00:00:00"); None when empty;
    BadSelection for anything else."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadSelection("日期格式不正确")
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.]{0,15})?", value)
    if not m:
        raise BadSelection("日期格式不正确（应为 YYYY-MM-DD）")
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise BadSelection("日期不存在") from None


def check_selection(ctx, kind, anchor, start, end, district, industry, today: date) -> tuple:
    """The review's controls as sent by the browser, checked: (kind, anchor, start, end,
    district code, industry or None). Anything a control cannot send raises BadSelection
    with a message for the page."""
    if kind in (None, ""):
        kind = "month"
    if not isinstance(kind, str) or kind not in PERIOD_NAMES:
        raise BadSelection("未知的统计周期")
    dates = []
    for v in (anchor, start, end):
        d = _date(v)
        if d is not None and not EARLIEST <= d <= today:
            raise BadSelection(f"日期须在 {EARLIEST:%Y-%m-%d} 至今天之间")
        dates.append(d)
    anchor, start, end = dates
    if kind == "custom":
        s, e = start or today, end or today
        if abs((e - s).days) >= MAX_CUSTOM_DAYS:
            raise BadSelection(f"自定义区间最长 {MAX_CUSTOM_DAYS} 天")
    if district in (None, ""):
        district = ctx.province
    if not isinstance(district, str) or not re.fullmatch(r"\d{6}", district) or ctx.table.get(district) is None:
        raise BadSelection("未知的地区代码")
    industries = list(ctx.settings.complaints.industries_and_unclassified)
    if industry in (None, ""):
        industry = None
    elif not isinstance(industry, str) or industry not in industries:
        raise BadSelection("未知的行业")
    return kind, anchor, start, end, district, industry


def guarded(fallback):
    """A callback that answers ``fallback(message)`` instead of an error 500: for a bad selection
    its message, for anything unexpected a short note (the cause goes to the log)."""
    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args):
            try:
                return fn(*args)
            except BadSelection as e:
                return fallback(f"无法查询：{e}")
            except PreventUpdate:
                raise
            except Exception:  # noqa: BLE001 - the page gets a message, the log the traceback
                log.exception("review callback %s failed", fn.__name__)
                return fallback("查询出错，请稍后重试；如仍出错请联系管理员")
        return inner
    return wrap


def choose_period(kind: str, anchor, start, end, today: date):
    anchor = (anchor if isinstance(anchor, date) else _date(anchor)) or today
    if kind == "custom":
        s = (start if isinstance(start, date) else _date(start)) or today
        e = (end if isinstance(end, date) else _date(end)) or today
        return period_of("custom", min(s, e), max(s, e))
    return period_of(kind or "month", anchor)


def _pct_cell(v):
    text = reports.pct(v)
    cls = "num" + (" rise" if v is not None and v > 0 else "")
    return html.Td(text, className=cls)


def _count_cell(v):
    """A count, or 无数据 (muted) when its span has no stored data at all: never a 0."""
    return html.Td(reports.count(v), className="num" + (" nodata" if v is None else ""))


def compare_table(rows: list[dict], first: str = "类型", notes: list[str] | None = None):
    """本期 / 上期 / 环比 / 去年同期 / 同比; a span without data reads 无数据, a comparison not made
    has no percentage, and the notes under the table say why (once)."""
    if not rows:
        return html.P("无数据", className="muted")
    head = html.Thead(html.Tr([html.Th(first), html.Th("本期", className="num"), html.Th("上期", className="num"),
                               html.Th("环比", className="num"), html.Th("去年同期", className="num"), html.Th("同比", className="num")]))
    body = [html.Tr([html.Td(r["name"]), _count_cell(r["current"]), _count_cell(r["previous"]),
                     _pct_cell(r["mom"]), _count_cell(r["last_year"]), _pct_cell(r["yoy"])]) for r in rows]
    return html.Div([html.Table([head, html.Tbody(body)]),
                     *[html.P(n, className="muted compare-note") for n in (notes or [])]])


def phrases_table(rows: list[dict]):
    if not rows:
        return html.P("所选范围暂无短语（文本保存期外或无投诉）", className="muted")
    head = html.Thead(html.Tr([html.Th("短语"), html.Th("件数", className="num"), html.Th("常态", className="num"),
                               html.Th("趋势（前4期→本期）")]))
    body = [html.Tr([html.Td([r["phrase"], html.Span(" ↑", className="rise") if r["rising"] else ""]),
                     html.Td(r["count"], className="num"), html.Td("—" if r["expected"] is None else r["expected"], className="num"),
                     html.Td([html.Span(spark(r["trend"]), className="spark"),
                              html.Span(" " + reports.trend_text(r["trend"], "→"), className="muted")])]) for r in rows]
    return html.Table([head, html.Tbody(body)])


def alerts_table(rows: list[dict]):
    if not rows:
        return html.P("本期无预警", className="muted")
    head = html.Thead(html.Tr([html.Th(x) for x in ("开出", "级别", "地区", "行业", "件数", "状态", "派单对象")]
                              + [html.Th(label) for _, label in reports.CLOCKS]))
    body = [html.Tr([html.Td(a["opened"]),
                     html.Td(html.Span(alertview.severity_label(a), className=f"sev-badge {alertview.severity_class(a)}")),
                     html.Td(a["place"]), html.Td(a["industry"]), html.Td(a["observed"], className="num"),
                     html.Td(a["state"]), html.Td(a["team"])]
                    + [html.Td(alertview.MARK_LABELS.get(a["marks"][n], ""), className=alertview.MARK_CLASS.get(a["marks"][n], ""))
                       for n, _ in reports.CLOCKS]) for a in rows[:50]]
    return html.Table([head, html.Tbody(body)])


def sla_table(rows: list[dict]):
    head = html.Thead(html.Tr([html.Th(x) for x in ("环节", "达标", "超时", "办理中", "其中已超时", "达标率")]))
    body = [html.Tr([html.Td(s["clock"]), html.Td(s["met"], className="num"), html.Td(s["missed"], className="num"),
                     html.Td(s["running"], className="num"), html.Td(s["overdue"], className="num"),
                     html.Td("—" if s["rate"] is None else f"{s['rate']}%", className="num")]) for s in rows]
    return html.Table([head, html.Tbody(body)])


def spark(trend: list) -> str:
    """The trend in block characters; a period without data is a blank, not the lowest block."""
    marks = iter(figures.sparkline([v for v in trend if v is not None]))
    return "".join(" " if v is None else next(marks) for v in trend)


def merchants_table(rows: list[dict], note: str):
    if not rows:
        return html.P("无经营者数据" + note, className="muted")
    return html.Div([html.Table([html.Thead(html.Tr([html.Th("经营者"), html.Th("件数", className="num")])),
                                 html.Tbody([html.Tr([html.Td(m["name"]), html.Td(m["count"], className="num")])
                                             for m in rows[:10]])]),
                     html.P(note, className="muted") if note else ""])


def topic_args(data: dict) -> tuple:
    industry = None if data["industry"] == "全部行业" else data["industry"]
    return (data["level"], data["code"], "day", 20, industry, data["start"].isoformat(), data["end"].isoformat())


def cloud_args(data: dict, size, title: str | None = None) -> tuple:
    industry = None if data["industry"] == "全部行业" else data["industry"]
    return (data["level"], data["code"], "day", industry, data["start"].isoformat(), data["end"].isoformat(), size, 60, title,
            CLOUD_SCREEN_MIN_FONT if size == CLOUD_SCREEN else None)


def scope(ctx, kind, anchor, start, end, district, industry) -> dict:
    """The checked selection without its numbers (what the topics and the cloud need): level,
    code, industry, the period and the [start, end) it covers so far. Costs no Redis read."""
    now = datetime.now(ctx.settings.tz)
    kind, anchor, start, end, code, industry = check_selection(ctx, kind, anchor, start, end, district, industry,
                                                               now.date())
    period = choose_period(kind, anchor, start, end, now.date())
    s, e = reports.spans(period, now)["current"]
    if e == now:
        # a running period's topics up to the next 5 minutes: the same key (and the value the
        # background process computed) for every request in those 5 minutes
        e = min(e.replace(second=0, microsecond=0) + timedelta(minutes=5 - now.minute % 5),
                datetime(period.end.year, period.end.month, period.end.day, tzinfo=now.tzinfo))
    return {"level": ctx.table.get(code).level, "code": code, "industry": industry or "全部行业", "period": period,
            "start": s, "end": e, "now": now, "raw_industry": industry}


def with_known_trend(ctx, topics: dict | None, now: datetime) -> dict | None:
    """The topics with ``trend_known`` (see :func:`reports.trend_known`) for the phrase tables."""
    if not topics:
        return topics
    docs_from = now - timedelta(days=float(ctx.settings.tally.keep_docs_days))
    return {**topics, "trend_known": reports.trend_known(ctx, topics, docs_from)}


def handling_view(hd: dict | None):
    """The review's 办理情况 panel: the rates against 上期 and 去年同期, the slowest units, the outcomes."""
    from dashboard.supervise import handling_table

    if hd is None:
        return html.P("暂无办理数据", className="muted")
    k = hd["kpis"]
    cur = k.get("current") or {}
    head = ["指标", "本期", "上期", "较上期", "去年同期", "较去年同期"]
    rates = html.Table([html.Thead(html.Tr([html.Th(h) for h in head])),
                        html.Tbody([html.Tr([html.Td(c) for c in row]) for row in
                                    handling_table(k.get("current"), k.get("previous"), k.get("last_year"))])],
                       className="handling-rates")
    units = (html.Table([html.Thead(html.Tr([html.Th(h) for h in ("承办单位", "超时或超期", "事项", "占比")])),
                         html.Tbody([html.Tr([html.Td(str(c)) for c in u]) for u in hd["units"]])])
             if hd["units"] else html.P("本期无承办单位数据", className="muted"))
    outcomes = (html.Table([html.Thead(html.Tr([html.Th(h) for h in ("办结方式", "件数", "占比")])),
                            html.Tbody([html.Tr([html.Td(str(c)) for c in o]) for o in hd["outcomes"]])])
                if hd["outcomes"] else html.P("本期受理的事项尚无办结", className="muted"))
    return html.Div([
        html.P(f"本期受理 {cur.get('items', 0):,} 件，在办 {cur.get('open', 0):,} 件，临期 {cur.get('due_soon', 0):,} 件，"
               f"超期 {cur.get('overdue', 0):,} 件；分母为 0 的比率记为“无数据”。", className="muted"),
        html.Div([html.Div([html.H3("时效与结果"), rates]), html.Div([html.H3("办理较慢的承办单位"), units]),
                  html.Div([html.H3("办结方式"), outcomes])], className="handling-cols"),
    ])


def handling_args(data: dict) -> tuple:
    """The arguments of ``jobs.handling`` for a selection (the review's data)."""
    sp = {k: (a.isoformat(), b.isoformat()) for k, (a, b) in data["spans"].items()}
    industry = None if data["industry"] == "全部行业" else data["industry"]
    return (data["level"], data["code"], sp, industry, data["now"].replace(second=0, microsecond=0).isoformat())


def selection(ctx, kind, anchor, start, end, district, industry):
    sc = scope(ctx, kind, anchor, start, end, district, industry)
    return reports.review_data(ctx, sc["period"], sc["code"], sc["raw_industry"], sc["now"])


def warm_up(ctx) -> None:
    """Read what the review's first screen needs (this month and quarter of the province, with
    the periods they are compared with) before a head opens it: cold, with a year of history,
    that is a few hundred tally hashes and a quarter of merchant lists; afterwards the closed
    ones come from the caches."""
    now = datetime.now(ctx.settings.tz)
    sc = scope(ctx, "month", None, None, None, ctx.province, None)
    t_args, c_args = topic_args(sc), cloud_args(sc, CLOUD_SCREEN)
    ctx.background.get(("review-topics",) + t_args, jobs.topics, *t_args, max_age=float("inf"))
    ctx.background.get(("review-cloud",) + c_args, jobs.cloud, *c_args, max_age=float("inf"))
    for kind in ("month", "quarter"):
        reports.review_data(ctx, period_of(kind, now.date()), ctx.province, None, now)


# -- callbacks --------------------------------------------------------------------------------

def register(app, ctx) -> None:
    inputs = [Input(ids.REVIEW_PERIOD, "value"), Input(ids.REVIEW_DATE, "date"), Input(ids.REVIEW_RANGE, "start_date"),
              Input(ids.REVIEW_RANGE, "end_date"), Input(ids.REVIEW_DISTRICT, "value"), Input(ids.REVIEW_INDUSTRY, "value")]
    states = [State(i.component_id, i.component_property) for i in inputs]

    def table_message(msg):
        return ("", *(html.P("—", className="muted"),) * 6, html.P(msg, className="review-error"))

    @app.callback(Output(ids.REVIEW_TITLE, "children"), Output(ids.REVIEW_COMPARE, "children"),
                  Output(ids.REVIEW_INDUSTRIES, "children"), Output(ids.REVIEW_DISTRICTS, "children"),
                  Output(ids.REVIEW_MERCHANTS, "children"), Output(ids.REVIEW_SLA, "children"),
                  Output(ids.REVIEW_ALERTS, "children"), Output(ids.REVIEW_STATUS, "children"), *inputs)
    @guarded(table_message)
    def tables(kind, anchor, start, end, district, industry):
        data = selection(ctx, kind, anchor, start, end, district, industry)
        note = ""
        if data["start"] < data["docs_from"]:
            note = f"（文本保存 {ctx.settings.tally.keep_docs_days:g} 天，更早的经营者与短语不计）"
        notes = reports.compare_notes(data)
        return (reports.title(data), compare_table(data["kinds"], "类型", notes), compare_table(data["industries"], "行业"),
                compare_table(data["districts"], "地区"), merchants_table(data["merchants"], note),
                sla_table(data["sla"]), alerts_table(data["alerts"]), "")

    @app.callback(Output(ids.REVIEW_CLOUD, "children"), Output(ids.REVIEW_PHRASES, "children"), *inputs)
    @guarded(lambda msg: (html.P(msg, className="muted"), ""))
    def topics(kind, anchor, start, end, district, industry):
        data = scope(ctx, kind, anchor, start, end, district, industry)
        t_args, c_args = topic_args(data), cloud_args(data, CLOUD_SCREEN)
        ctx.background.get(("review-cloud",) + c_args, jobs.cloud, *c_args, max_age=float("inf"))  # queued at once
        try:
            topics = ctx.background.wait(("review-topics",) + t_args, jobs.topics, *t_args, timeout=120)
            cloud = ctx.background.wait(("review-cloud",) + c_args, jobs.cloud, *c_args, timeout=120)
        except (TimeoutError, RuntimeError) as e:
            return html.P(f"热词暂不可用：{e}", className="muted"), ""
        topics = with_known_trend(ctx, topics, data["now"])
        if cloud["png"] is None:
            img = html.P(cloud["note"], className="muted")
        else:
            import base64
            img = html.Div([html.Img(src="data:image/png;base64," + base64.b64encode(cloud["png"]).decode(), alt="热词云"),
                            html.P(cloud["note"], className="muted")])
        return img, phrases_table(reports.phrase_rows(topics))

    @app.callback(Output(ids.REVIEW_HANDLING, "children"), *inputs)
    @guarded(lambda msg: html.P(msg, className="muted"))
    def handling(kind, anchor, start, end, district, industry):
        data = scope(ctx, kind, anchor, start, end, district, industry)
        data["spans"] = reports.spans(data["period"], data["now"])
        h_args = handling_args(data)
        try:
            hd = ctx.background.wait(("review-handling",) + h_args[:2] + (str(h_args[2]),) + h_args[3:],
                                     jobs.handling, *h_args, timeout=120)
        except (TimeoutError, RuntimeError) as e:
            return html.P(f"办理数据暂不可用：{e}", className="muted")
        return handling_view(hd)

    # A change of the selection: every panel says 计算中… at once (in the browser), until its
    # callback answers with the new numbers, so an old cloud never stands under a new title.
    app.clientside_callback(
        "function () { return Array(%d).fill(%s); }" % (len(PANELS), repr(COMPUTING).replace("'", '"')),
        *[Output(getattr(ids, p), "children", allow_duplicate=True) for p in PANELS], *inputs,
        prevent_initial_call=True)

    @app.callback(Output(ids.REVIEW_DOWNLOAD, "data"), Output(ids.REVIEW_STATUS, "children", allow_duplicate=True),
                  Input(ids.REVIEW_EXPORT_PNG, "n_clicks"), Input(ids.REVIEW_EXPORT_XLSX, "n_clicks"),
                  Input(ids.REVIEW_REPORT_MONTH, "n_clicks"), Input(ids.REVIEW_REPORT_QUARTER, "n_clicks"),
                  Input(ids.REVIEW_EXPORT_CSV, "n_clicks"),
                  *states, prevent_initial_call=True)
    @guarded(lambda msg: (no_update, html.Span(msg, className="review-error")))
    def export(_png, _xlsx, _month, _quarter, _csv, kind, anchor, start, end, district, industry):
        trigger = dash_ctx.triggered_id
        if trigger not in (ids.REVIEW_EXPORT_PNG, ids.REVIEW_EXPORT_XLSX, ids.REVIEW_REPORT_MONTH,
                           ids.REVIEW_REPORT_QUARTER, ids.REVIEW_EXPORT_CSV):
            return no_update, no_update
        if trigger in (ids.REVIEW_REPORT_MONTH, ids.REVIEW_REPORT_QUARTER):
            kind = "month" if trigger == ids.REVIEW_REPORT_MONTH else "quarter"
        data = selection(ctx, kind, anchor, start, end, district, industry)
        stem = re.sub(r"[\\/:*?\"<>| ]", "", f"{data['place']}_{data['label']}_{data['industry']}")
        try:
            if trigger in (ids.REVIEW_EXPORT_XLSX, ids.REVIEW_EXPORT_CSV):
                t_args = topic_args(data)
                topics = with_known_trend(ctx, ctx.background.wait(("review-topics",) + t_args, jobs.topics, *t_args,
                                                                   timeout=120), data["now"])
                if trigger == ids.REVIEW_EXPORT_CSV:
                    return dcc.send_bytes(reports.tables_csv(data, topics), f"研判表格_{stem}.csv"), "已导出表格"
                return dcc.send_bytes(reports.tables_xlsx(data, topics), f"研判表格_{stem}.xlsx"), "已导出表格"
            c_args = cloud_args(data, "print", f"{data['place']} {data['label']} 投诉举报热词")
            cloud = ctx.background.wait(("review-cloud",) + c_args, jobs.cloud, *c_args, timeout=180)
            if trigger == ids.REVIEW_EXPORT_PNG:
                if cloud["png"] is None:
                    return no_update, cloud["note"]
                return dcc.send_bytes(cloud["png"], f"热词云_{stem}.png"), "已导出词云"
            t_args = topic_args(data)
            topics = with_known_trend(ctx, ctx.background.wait(("review-topics",) + t_args, jobs.topics, *t_args,
                                                               timeout=120), data["now"])
            h_args = handling_args(data)
            data["handling"] = ctx.background.wait(("review-handling",) + h_args[:2] + (str(h_args[2]),) + h_args[3:],
                                                   jobs.handling, *h_args, timeout=120)
            doc = reports.report_docx(data, topics, cloud["png"], kind, trend_data=reports.trend(ctx, data))
            name = "月分析" if kind == "month" else "季报告"
            return dcc.send_bytes(doc, f"{name}_{stem}.docx"), f"已生成{name}"
        except (TimeoutError, RuntimeError) as e:
            return no_update, f"导出失败：{e}"
