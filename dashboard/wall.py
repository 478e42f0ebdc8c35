"""The command-centre wall (/wall): read-only, no sign-in, fits 1920×1080 and 3840×2160.

Every 2 s one callback refreshes the counts, the district view, the industries, the 24-hour
trend and the alerts; a part whose data did not change is not sent again (no flicker), and the
map gets only its new numbers (``Patch``) while the selection stays. Topics and the keyword
cloud are computed in the background (``dashboard.background``) and shown when ready. The
selection moves province → city → county by a click on the map or by itself (rotation); URL
parameters: ``?code=140400`` starts there, ``rotate=0`` stops the rotation, ``mode=surge``
colours by surge.
"""
from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime
from urllib.parse import parse_qs

import redis

from dash import Input, Output, Patch, State, ctx as dash_ctx, dcc, html, no_update

from alerts.store import silence_label
from dashboard import alertview, figures, ids, jobs, supervise
from dashboard.geo import seat_points
from streams import wallview
from streams.counts import by, child_codes, today_vs
from streams.numbers import usual_text
from streams.wallview import hot_levels  # noqa: F401 - the wall's map marks (tests import it from here)

GRAPH_CONFIG = {"displayModeBar": False, "responsive": True, "topojsonURL": "/assets/topojson/",
                "scrollZoom": False, "doubleClick": False}
MANUAL_PAUSE_S = 120           # a click stops the rotation this long
KIND_CLASS = {"投诉": "kpi-complaint", "举报": "kpi-report", "咨询": "kpi-enquiry", "合计": "kpi-total"}
LOADING = "加载中…"             # what a panel says until its first figures arrive (never zeros)
EMPTY = "数据准备中：系统尚未收到投诉"   # what it says while the system holds no data at all


def _params(search: str) -> dict:
    q = parse_qs((search or "").lstrip("?"))
    return {k: v[-1] for k, v in q.items()}


def initial_selection(ctx, search: str) -> dict:
    p = _params(search)
    code = p.get("code") or ctx.province
    d = ctx.table.get(code)
    if d is None or d.province_code != ctx.province:
        d = ctx.table.get(ctx.province)
    return {"level": d.level, "code": d.code, "manual": 0, "i": 0, "rotate": p.get("rotate", "1") != "0"}


def layout(ctx, search: str = ""):
    p = _params(search)
    sel = initial_selection(ctx, search)
    rotate_s = float(ctx.settings.dashboard.rotate_seconds)
    panel = lambda title, body, cls="", extra=None: html.Section(  # noqa: E731
        [html.Header([html.H2(title), *(extra or [])], className="panel-head"), html.Div(body, className="panel-body")],
        className=f"panel {cls}")
    return html.Div([
        dcc.Interval(id=ids.WALL_TICK, interval=int(float(ctx.settings.dashboard.refresh_seconds) * 1000)),
        dcc.Interval(id=ids.WALL_SLOW, interval=3000),
        dcc.Interval(id=ids.WALL_ROTATE, interval=int(rotate_s * 1000), disabled=not sel["rotate"]),
        dcc.Store(id=ids.WALL_SEL, data=sel),
        dcc.Store(id=ids.WALL_VIEW, data={"h": 1080}),
        dcc.Store(id=ids.WALL_HASH, data={}),
        dcc.Store(id=ids.WALL_CASES_HASH, data=None),
        html.Header([
            html.Div([html.Span("12315", className="brand-num"), html.H1("消费投诉举报预警指挥大屏")], className="brand"),
            html.Nav([html.Button("全省", id=ids.WALL_HOME, className="crumb-btn"),
                      html.Button("上一级", id=ids.WALL_UP, className="crumb-btn"),
                      html.Span(id=ids.WALL_CRUMB, className="crumb")], className="crumbs"),
            html.Div([html.Div(id=ids.WALL_CLOCK, className="clock"),
                      html.Div(id=ids.WALL_UPDATED, className="updated")], className="clock-box"),
        ], className="wall-header"),
        html.Div(id=ids.WALL_BANNER, className="banner", role="alert"),
        html.Main([
            html.Div([
                panel("今日受理", html.Div(id=ids.WALL_KPIS, className="kpis",
                                       children=html.Div(LOADING, className="muted pending")), "panel-kpis"),
                panel("行业分布（今日）", dcc.Graph(id=ids.WALL_INDUSTRY, config=GRAPH_CONFIG, className="graph",
                                               figure=figures.empty(LOADING)), "panel-industry"),
            ], className="col col-left"),
            html.Div([
                panel(html.Span(id=ids.WALL_MAP_TITLE, children="地区分布"),
                      dcc.Graph(id=ids.WALL_MAP, config=GRAPH_CONFIG, className="graph",
                                figure=figures.empty(LOADING)), "panel-map",
                      [dcc.RadioItems(id=ids.WALL_MODE, options=[{"label": "按数量", "value": "count"},
                                                                 {"label": "按激增", "value": "surge"}],
                                      value="surge" if p.get("mode") == "surge" else "count", inline=True,
                                      className="mode-toggle")]),
                panel("近24小时趋势（按小时，虚线为去年同期）",
                      dcc.Graph(id=ids.WALL_TREND, config=GRAPH_CONFIG, className="graph",
                                figure=figures.empty(LOADING)), "panel-trend"),
            ], className="col col-center"),
            html.Div([
                panel("热词云（近24小时）", [html.Img(id=ids.WALL_CLOUD, className="cloud-img", alt="热词云"),
                                      html.Div(id=ids.WALL_CLOUD_NOTE, className="cloud-note", children="热词计算中…")],
                      "panel-cloud"),
                panel("办理情况", html.Div(id=ids.WALL_CASES, className="handling",
                                       children=supervise.wall_panel_body(None, None)), "panel-handling"),
                panel("上升最快的短语（近1小时）", html.Ol(id=ids.WALL_RISING, className="rising",
                                                 children=[html.Li("计算中…", className="muted pending")]),
                      "panel-rising"),
            ], className="col col-right"),
        ], className="wall-main"),
        html.Footer([html.Span("在办预警", className="ticker-label"),
                     html.Div(html.Div(id=ids.WALL_TICKER, className="ticker-track"), className="ticker-window")],
                    className="wall-ticker"),
    ], className="wall", id="wall-root")


# -- what one refresh computes (plain functions, tested without a browser) ---------------------

def sources(ctx) -> wallview.Sources:
    """The view model's sources (``streams.wallview``): what GET /api/v1/wall reads too."""
    return wallview.Sources(table=ctx.table, tallies=ctx.tallies, under=ctx.lookup.districts_under, alerts=ctx.alerts)


def selection_name(ctx, sel: dict) -> list[str]:
    return wallview.selection_names(ctx.table, sel["code"])


def district_view(ctx, sel: dict, today, baseline) -> dict:
    return wallview.district_view(ctx.table, sel["level"], sel["code"], today, baseline)


def wall_numbers(ctx, sel: dict, now: datetime) -> dict:
    """The counts the 2-second refresh shows (``streams.wallview.numbers``), as plain data."""
    return wallview.numbers(sources(ctx), sel["level"], sel["code"], now)


def wall_view(ctx, sel: dict, now: datetime) -> dict:
    """Everything the 2-second refresh shows: the view model GET /api/v1/wall answers too."""
    return wallview.wall_view(sources(ctx), sel["level"], sel["code"], now)


def open_alerts(ctx, now: datetime) -> list[dict]:
    return wallview.open_alerts(ctx.alerts(), now)


def active_silences(ctx, now: datetime) -> list[dict]:
    store = ctx.alerts()
    return store.silences(now) if store is not None else []


def silence_items(silences: list[dict]):
    """A small ticker line per active silence: "静默中：长治市·食品 至05-03 08:00（原因）"."""
    return [html.Span("静默中：" + silence_label(x), className="ticker-item silence") for x in silences[:3]]


def trend_figure(t: dict, scale: float):
    """The 24-hour trend; before the system holds any data it says so (数据准备中), no empty axes."""
    if t.get("state") == "empty":
        return figures.empty(t["note"], scale)
    return figures.trend(t["hours"], t["counts"], t["last_year"], scale, note=t.get("note", ""))


def build_figures(ctx, sel: dict, nums: dict, mode: str, scale: float) -> tuple:
    return (figures.industry_bars(nums["industries"], scale), district_figure(ctx, nums["districts"], mode, scale),
            trend_figure(nums["trend"], scale))


def _digest(value) -> str:
    return hashlib.blake2b(json.dumps(value, sort_keys=True, default=str, ensure_ascii=False).encode(),
                           digest_size=10).hexdigest()


def _pct(v: float | None) -> tuple[str, str]:
    if v is None:
        return "—", "flat"
    if v > 0:
        return f"▲{v:.1f}%", "up"
    if v < 0:
        return f"▼{-v:.1f}%", "down"
    return "0.0%", "flat"


def _versus(r: dict, which: str) -> tuple[str, str]:
    """The change against yesterday or last year as the card says it: ▲/▼ %, or 无数据 when the
    period held no data, or how much of it did when only part did ("仅6/20小时": only 6 of the
    period's 20 hours have data; no percentage then: a part is not comparable with a whole)."""
    state = r.get(f"{which}_state", "full")
    if state == "none":
        return "无数据", "flat nodata"
    if state == "partial":
        have, total = r[f"{which}_hours"]
        return f"仅{have}/{total}小时", "flat partial"     # of the period's hours, only these have data
    return _pct(r[f"vs_{which}"])


def kpi_cards(rows: list[dict]):
    cards = []
    for r in rows:
        y, yc = _versus(r, "yesterday")
        ly, lyc = _versus(r, "last_year")
        cards.append(html.Div([
            html.Div(r["kind"], className="kpi-label"),
            html.Div(f"{r['count']:,}", className="kpi-value", id=f"kpi-{r['kind']}"),
            html.Div([html.Span("较昨日同时 "), html.Span(y, className=f"chg {yc}")], className="kpi-chg"),
            html.Div([html.Span("较去年同日 "), html.Span(ly, className=f"chg {lyc}")], className="kpi-chg"),
        ], className=f"kpi {KIND_CLASS.get(r['kind'], '')}"))
    return cards


def ticker_items(alerts: list[dict], now: datetime):
    if not alerts:
        return [html.Span("当前无在办预警", className="ticker-item calm")]
    items = []
    for a in sorted(alerts, key=alertview.urgency_key):
        c = alertview.running_clock(a["_clocks"])
        clock = []
        if c is not None:
            clock = [html.Span(alertview.clock_text(c), className=f"sla {alertview.MARK_CLASS.get(c.get('mark'), '')}",
                               **{"data-due": str(alertview.due_epoch(c) or ""), "data-label": c.get("label") or ""})]
        items.append(html.Span([html.Span(alertview.severity_label(a), className=f"sev-badge {alertview.severity_class(a)}"),
                                html.Span(alertview.state_label(a.get("state")), className="state"),
                                html.Span(alertview.headline(a), className="what"), *clock],
                               className="ticker-item" + (" is-new" if alertview.is_new(a) else "")))
    return items


def banner(alerts: list[dict]):
    """The most urgent open alert (warning level first, then score, then the newest) in its level's
    colour, with the true count of the others; it flashes while any alert is new (not acknowledged)."""
    a, others = alertview.most_urgent(alerts)
    if a is None:
        return [], "banner"
    c = alertview.running_clock(a["_clocks"])
    more = f"另有{others}条在办" if others else ""
    flash = " flash" if any(alertview.is_new(x) for x in alerts) else ""
    return [html.Div(alertview.severity_tag(a), className="banner-tag", id="banner-tag"),
            html.Div([html.Span(alertview.headline(a), className="banner-what"),
                      html.Span(alertview.state_label(a.get("state")), className="banner-state")],
                     className="banner-text", id="banner-text", **{"data-alert": a.get("id", "")}),
            html.Div(more, className="banner-more", id="banner-more"),
            html.Div(alertview.clock_text(c) if c else "", className="banner-clock sla",
                     **{"data-due": str(alertview.due_epoch(c) or "") if c else "", "data-label": (c or {}).get("label") or ""}),
            ], f"banner on {alertview.severity_class(a)}{flash}"


def rising_items(topics: dict | None, rows: int = 6):
    """Rising phrases first (violet, with their usual count); the rest of the list by count
    (``streams.wallview.rising_rows``: what GET /api/v1/wall lists)."""
    r = wallview.rising_rows(topics, rows)
    if r is None:
        return [html.Li("计算中…", className="muted pending")]
    items = [html.Li([html.Span(x["topic"], className="phrase hot"), html.Span(f"{x['count']}件", className="n"),
                      html.Span(f"常态 {usual_text(x['expected'])}" if x["expected"] is not None else "", className="exp"),
                      html.Span("↑", className="arrow")]) for x in r["rising"]]
    if r["note"]:
        items.append(html.Li(r["note"], className="muted note"))
        items += [html.Li([html.Span(x["topic"], className="phrase"), html.Span(f"{x['count']}件", className="n")])
                  for x in r["more"]]
    return items or [html.Li("近1小时暂无短语", className="muted")]


# -- callbacks -------------------------------------------------------------------------------

def register(app, ctx) -> None:
    app.clientside_callback(
        """function(n, cur) {
            var h = window.innerHeight, w = window.innerWidth;
            if (cur && cur.h === h && cur.w === w) { return window.dash_clientside.no_update; }
            return {h: h, w: w};
        }""",
        Output(ids.WALL_VIEW, "data"), Input(ids.WALL_TICK, "n_intervals"), State(ids.WALL_VIEW, "data"))

    @app.callback(
        Output(ids.WALL_KPIS, "children"), Output(ids.WALL_INDUSTRY, "figure"), Output(ids.WALL_MAP, "figure"),
        Output(ids.WALL_MAP_TITLE, "children"), Output(ids.WALL_TREND, "figure"), Output(ids.WALL_CRUMB, "children"),
        Output(ids.WALL_TICKER, "children"), Output(ids.WALL_BANNER, "children"), Output(ids.WALL_BANNER, "className"),
        Output(ids.WALL_HASH, "data"), Output(ids.WALL_UPDATED, "children"),
        Input(ids.WALL_TICK, "n_intervals"), Input(ids.WALL_SEL, "data"), Input(ids.WALL_MODE, "value"),
        Input(ids.WALL_VIEW, "data"), State(ids.WALL_HASH, "data"))
    def refresh(_n, sel, mode, view, seen):
        now = datetime.now(ctx.settings.tz)
        seen = dict(seen or {})
        scale = max(0.5, min(4.0, (view or {}).get("h", 1080) / 1080))
        try:
            nums = wall_view(ctx, sel, now)
            alerts = nums["alerts"]
            silences = active_silences(ctx, now)
        except redis.RedisError:
            # keep what the screen shows and say so; the next refresh tries again
            return (*[no_update] * 10, html.Span(f"数据连接中断 {now:%H:%M:%S}", className="stale"))
        out = {}

        def changed(part: str, value) -> bool:
            h = _digest(value)
            if seen.get(part) == h:
                return False
            seen[part] = h
            return True

        place = " › ".join(selection_name(ctx, sel))
        empty = nums["state"] == "empty"          # no data yet: the panels say so, no zeros
        out["kpis"] = ((html.Div(EMPTY, className="muted pending") if empty else kpi_cards(nums["kpis"]))
                       if changed("kpis", [nums["kpis"], empty]) else no_update)
        out["industry"] = ((figures.empty(EMPTY, scale) if empty else figures.industry_bars(nums["industries"], scale))
                           if changed("industry", [nums["industries"], scale, empty]) else no_update)
        dv = nums["districts"]
        frame = [sel["level"], sel["code"], mode, scale, dv["level"], ctx.boundaries.has(dv["level"]), empty]
        if empty:
            out["map"] = figures.empty(EMPTY, scale) if changed("map-frame", frame) else no_update
        elif changed("map-frame", frame):
            seen["map-data"] = _digest([dv["rows"], dv["hot"]])
            out["map"] = district_figure(ctx, dv, mode, scale)
        elif changed("map-data", [dv["rows"], dv["hot"]]):
            out["map"] = district_patch(ctx, dv, mode, scale)
        else:
            out["map"] = no_update
        unit = "市" if dv["level"] == "city" else "县（市、区）"
        out["map_title"] = f"{place} · 各{unit}今日{'激增度' if mode == 'surge' else '件数'}"
        t = nums["trend"]
        out["trend"] = trend_figure(t, scale) if changed("trend", [t, scale]) else no_update
        out["crumb"] = place if changed("crumb", place) else no_update
        key = [[a["id"], a.get("state"), a.get("observed"), a.get("severity"), a.get("score"),
                [(c.get("name"), c.get("mark"), str(c.get("due"))) for c in a["_clocks"]]] for a in alerts]
        key.append([[x["id"], x["until"]] for x in silences])
        if changed("alerts", key):
            out["ticker"] = ticker_items(alerts, now) + silence_items(silences)
            out["banner"], out["banner_cls"] = banner(alerts)
        else:
            out["ticker"] = out["banner"] = out["banner_cls"] = no_update
        return (out["kpis"], out["industry"], out["map"], out["map_title"], out["trend"], out["crumb"], out["ticker"],
                out["banner"], out["banner_cls"], seen, f"更新于 {now:%H:%M:%S}")

    @app.callback(Output(ids.WALL_CASES, "children"), Output(ids.WALL_CASES_HASH, "data"),
                  Input(ids.WALL_SLOW, "n_intervals"), Input(ids.WALL_SEL, "data"), State(ids.WALL_CASES_HASH, "data"))
    def handling(_n, sel, seen):
        key = (sel["level"], sel["code"])
        today = ctx.background.get(("cases-today",) + key, jobs.case_kpis, *key, "today", max_age=10)
        year = ctx.background.get(("cases-year",) + key, jobs.case_kpis, *key, "year", max_age=30)
        rows = [supervise.wall_rows(today, year), supervise.counts_text(year)]
        h = _digest(rows)
        if h == seen:
            return no_update, no_update          # unchanged: the panel is not sent again (no flicker)
        return supervise.wall_panel_body(today, year), h

    @app.callback(Output(ids.WALL_CLOUD, "src"), Output(ids.WALL_CLOUD_NOTE, "children"), Output(ids.WALL_RISING, "children"),
                  Input(ids.WALL_SLOW, "n_intervals"), Input(ids.WALL_SEL, "data"))
    def slow(_n, sel):
        key = (sel["level"], sel["code"])
        cloud = ctx.background.get(("cloud",) + key, jobs.wall_cloud, *key, max_age=60)
        topics = ctx.background.get(("rising",) + key, jobs.topics, *key, "hour", 20, max_age=15)
        err = ctx.background.error(("cloud",) + key)
        if cloud is None:
            src, note = no_update, (f"热词云暂不可用：{err}" if err else "热词计算中…")
        else:
            src, note = (cloud[0] or ""), cloud[1]
        return src, note, rising_items(topics)

    @app.callback(Output(ids.WALL_SEL, "data"),
                  Input(ids.WALL_ROTATE, "n_intervals"), Input(ids.WALL_MAP, "clickData"),
                  Input(ids.WALL_HOME, "n_clicks"), Input(ids.WALL_UP, "n_clicks"), State(ids.WALL_SEL, "data"),
                  prevent_initial_call=True)
    def move(_r, click, _home, _up, sel):
        trigger = dash_ctx.triggered_id
        sel = dict(sel)
        now = time.time()
        if trigger == ids.WALL_ROTATE:
            if not sel.get("rotate") or now - sel.get("manual", 0) < MANUAL_PAUSE_S:
                return no_update
            return {**rotation_step(ctx, sel), "manual": sel.get("manual", 0), "rotate": True}
        if trigger == ids.WALL_HOME:
            return {**sel, "level": "province", "code": ctx.province, "manual": now, "i": 0}
        if trigger == ids.WALL_UP:
            d = ctx.table.get(sel["code"])
            up = d.parent_code if d.level != "province" else d.code
            return {**sel, "level": ctx.table.get(up).level, "code": up, "manual": now}
        if trigger == ids.WALL_MAP and click and click.get("points"):
            pt = click["points"][0]
            code = pt.get("location") or pt.get("customdata")
            if isinstance(code, list):
                code = code[0]
            d = ctx.table.get(str(code)) if code else None
            if d is None or d.province_code != ctx.province:
                return no_update
            return {**sel, "level": d.level, "code": d.code, "manual": now}
        return no_update


def rotation_step(ctx, sel: dict) -> dict:
    """The next stop of the rotation: the province, then each city followed by its busiest county."""
    stops: list[str] = [ctx.province]
    _, cities = child_codes(ctx.table, "province", ctx.province)
    now = datetime.now(ctx.settings.tz)
    today, _, _ = today_vs(ctx.tallies, now)
    counties = by(today, "district")
    for city in cities:
        stops.append(city)
        kids = [c.code for c in ctx.table.children(city) if c.level == "county"]
        if kids:
            stops.append(max(kids, key=lambda k: (counties.get(k, 0), k)))
    i = (int(sel.get("i", 0)) + 1) % len(stops)
    d = ctx.table.get(stops[i])
    return {"level": d.level, "code": d.code, "i": i}


def district_figure(ctx, dv: dict, mode: str, scale: float):
    """Boundaries when the site configured a file for this level, else bubbles at the districts'
    seats (config/division_seats.csv), else (a district with no known seat) ranked bars."""
    rows = dv["rows"]
    codes = [r["code"] for r in rows]
    hot = dv.get("hot") or {}
    geo = ctx.boundaries.features(dv["level"], codes)
    if geo is not None:
        return figures.district_map(geo, rows, mode, dv["selected"], scale, hot=hot)
    if not ctx.boundaries.has(dv["level"]):
        points = seat_points(codes)
        if points is not None:
            return figures.seat_map(points, rows, mode, dv["selected"], scale, hot=hot)
    return figures.ranked_bars(rows, mode, dv["selected"], scale, hot=hot)


def district_patch(ctx, dv: dict, mode: str, scale: float = 1.0):
    """Only the new numbers for the map already drawn (same districts, same order)."""
    rows = dv["rows"]
    codes = [r["code"] for r in rows]
    geo = ctx.boundaries.features(dv["level"], codes)
    if geo is None:
        if not ctx.boundaries.has(dv["level"]) and seat_points(codes) is not None:
            return _seat_patch(district_figure(ctx, dv, mode, scale))
        return _bars_patch(rows, mode, dv["selected"], dv.get("hot"))
    z, _ = figures._metric(rows, mode)
    p = Patch()
    p["data"][0]["locations"] = [r["code"] for r in rows]
    p["data"][0]["customdata"] = [r["code"] for r in rows]
    p["data"][0]["z"] = z
    widths, colours = figures.district_lines([r["code"] for r in rows], dv["selected"], dv.get("hot") or {}, scale)
    p["data"][0]["marker"]["line"] = {"color": colours, "width": widths}
    p["data"][0]["text"] = [f"{r['name']}<br>今日 {r['count']} 件<br>常态 {r['expected']:g}<br>激增度 {r['score']:g}"
                            for r in rows]
    if mode == "count":
        p["data"][0]["zmax"] = max(1, max(z) if z else 1)
    lon, lat, labels = figures.district_labels(geo, rows)
    p["data"][1]["text"] = labels
    p["data"][1]["lon"] = lon
    p["data"][1]["lat"] = lat
    return p


def _seat_patch(fig):
    """The bubbles' new numbers, colours, sizes and rings (the same districts, so the same frame)."""
    p = Patch()
    d = fig.data[0]
    for k in ("x", "y", "customdata", "text", "hovertext"):
        p["data"][0][k] = list(d[k])
    p["data"][0]["marker"] = d.marker.to_plotly_json()
    return p


def _bars_patch(rows: list[dict], mode: str, selected: str | None, hot: dict | None = None):
    fig = figures.ranked_bars(rows, mode, selected, hot=hot)
    p = Patch()
    for k in ("x", "y", "customdata", "text"):
        p["data"][0][k] = list(fig.data[0][k])
    p["data"][0]["marker"]["color"] = list(fig.data[0].marker.color)
    p["layout"]["xaxis"]["range"] = list(fig.layout.xaxis.range)
    return p
