"""The duty console (/duty): the alert queue, most urgent first, with SLA countdowns; acting on
an alert (确认, 派单, 响应, 到场, 结案, 误报); its history; and its complaints (masked).

Signed-in users only; 观察员 (viewer) see everything and change nothing. Every action is
recorded by the alert store with the user's name. A new alert plays a sound and puts its
count in the browser tab's title. ``/duty?alert=<id>`` opens one alert (notification links).
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
import logging
from urllib.parse import parse_qs

from dash import ALL, Input, Output, State, ctx as dash_ctx, dcc, html, no_update

from alerts import severity as _sev
from alerts.lifecycle import CLOSED_STATES
from alerts.store import district_covers, silence_label
from dashboard import alertview, figures, ids, supervise
from streams.access import role_may
from dashboard.session import session_csrf, session_user

log = logging.getLogger(__name__)

QUEUE_LIMIT = 200
DETAIL_HASH = "duty-detail-hash"
CHART_HASH = "duty-chart-hash"
CHART_TICK = "duty-chart-tick"     # the chart is redrawn once a minute (the current hour grows)


def layout(ctx, user, search: str = ""):
    q = parse_qs((search or "").lstrip("?"))
    wanted = (q.get("alert") or [None])[-1]
    store = ctx.alerts()
    teams = store.teams if store is not None else []
    can = user.may_act
    state0 = "open"
    if store is not None and wanted:
        try:
            got = store.get(wanted)
        except Exception:  # noqa: BLE001 - a bad id shows as "不存在" below
            got = None
        if got is not None and got.get("state") in CLOSED_STATES:
            state0 = "closed"      # a link to a closed alert opens the closed list with it
    industries = list(ctx.settings.complaints.industries)
    return html.Div([
        dcc.Interval(id=ids.DUTY_TICK, interval=2000),
        dcc.Interval(id=CHART_TICK, interval=60000),
        dcc.Store(id=ids.DUTY_SELECTED, data=wanted),
        dcc.Store(id=ids.DUTY_KNOWN, data=None),
        dcc.Store(id=ids.DUTY_VERSION, data=0),
        dcc.Store(id=ids.DUTY_SHOW, data={}),
        dcc.Store(id=ids.DUTY_SOUND, data=None),
        dcc.Store(id=DETAIL_HASH, data=None),
        dcc.Store(id=CHART_HASH, data=None),
        dcc.Store(id=ids.DUTY_URL_SINK, data=None),
        dcc.Store(id=ids.DUTY_SIL_HASH, data=None),
        dcc.Store(id=ids.DUTY_SIL_VERSION, data=0),
        html.Audio(id="duty-audio", src="/assets/alert.wav", preload="auto"),
        html.Header([
            html.H1("值班台 · 预警处置"),
            html.Div(id=ids.DUTY_COUNT, className="duty-count"),
            html.Nav([html.A("指挥大屏", href="/wall", target="_blank"),
                      *([html.A("研判分析", href="/review")] if user.may_open("/review") else [])],
                     className="duty-nav"),
            html.Div([html.Span(f"{user.display}（{user.role_label}）", className="who"),
                      *signin_failures(ctx, user),
                      html.Form([dcc.Input(type="hidden", name="csrf", value=session_csrf() or ""),
                                 html.Button("退出", type="submit", id="duty-logout")],
                                action="/logout", method="POST", className="logout")], className="user-box"),
        ], className="duty-header"),
        html.Main([
            html.Section([
                html.H2("预警队列（按紧急程度）"),
                html.Div([
                    html.Label(["状态", dcc.Dropdown(id=ids.DUTY_STATE, options=STATE_FILTERS, value=state0,
                                                   clearable=False, labels=ids.DROPDOWN_LABELS)]),
                    html.Label(["等级", dcc.Dropdown(id=ids.DUTY_SEVERITY, options=SEVERITY_FILTERS, value=[], multi=True,
                                                   placeholder="全部等级", labels=ids.DROPDOWN_LABELS)]),
                    html.Label(["地区", dcc.Dropdown(id=ids.DUTY_DISTRICT, options=district_options(ctx), value=None,
                                                   placeholder="全部地区", labels=ids.DROPDOWN_LABELS)]),
                    html.Label(["行业", dcc.Dropdown(id=ids.DUTY_INDUSTRY, options=[{"label": i, "value": i} for i in industries],
                                                   value=None, placeholder="全部行业", labels=ids.DROPDOWN_LABELS)]),
                ], className="duty-filters"),
                html.Div(id=ids.DUTY_QUEUE, className="queue"),
                html.H2("静默规则", className="silence-title"),
                html.Div(id=ids.DUTY_SIL_LIST, className="silence-list"),
                silence_form(ctx, user),
                supervise.section(ctx),
            ], className="duty-left"),
            html.Section([
                html.Button("返回概况", id=ids.DUTY_DESELECT, n_clicks=0, className="back", style={"display": "none"}),
                html.Div(id=ids.DUTY_DETAIL, className="detail", children=html.P("正在载入……", className="muted")),
                html.Div(dcc.Graph(id=ids.DUTY_CHART, config=GRAPH_CONFIG, style={"height": f"{CHART_PX}px"},
                                   figure=figures.empty("", theme=figures.DARK)),
                         id=ids.DUTY_CHART_BOX, className="duty-chart", style={"display": "none"}),
                html.Div([
                    html.Div([
                        html.Label(["派单对象", dcc.Dropdown(id=ids.DUTY_TEAM, options=[{"label": t, "value": t} for t in teams],
                                                         value=None, clearable=False, disabled=not can,
                                                         placeholder="选择快反分队/工作专班", labels=ids.DROPDOWN_LABELS)],
                                   className="team"),
                        html.Label(["备注（误报须填写原因）", dcc.Input(id=ids.DUTY_NOTE, type="text", value="", maxLength=500,
                                                           disabled=not can, debounce=False)], className="note"),
                        html.Div([html.Button(label, id={"type": ids.DUTY_ACTION, "index": action}, disabled=True,
                                              className=f"act act-{action}")
                                  for action, label in ((a, alertview.ACTION_LABELS[a]) for a in alertview.ACTIONS)],
                                 className="actions"),
                        html.Div(id=ids.DUTY_RESULT, className="result", role="status"),
                        html.P("观察员只读，不能处置预警" if not can else "", className="muted"),
                    ], className="action-bar"),
                    html.H3("相关投诉（已脱敏）"),
                    html.Div(id=ids.DUTY_COMPLAINTS, className="complaints"),
                ], id=ids.DUTY_SELECTED_ONLY, style={"display": "none"}),
            ], className="duty-right"),
        ], className="duty-main"),
    ], className="duty")


GRAPH_CONFIG = {"displayModeBar": False, "responsive": True, "scrollZoom": False, "doubleClick": False}
CHART_PX = 320
STATE_FILTERS = [{"label": "在办", "value": "open"}, {"label": "已关闭", "value": "closed"},
                 {"label": "全部", "value": "all"}]
SEVERITY_FILTERS = [{"label": _sev.tag(lv), "value": lv} for lv in ("red", "orange", "yellow", "blue")]
CLOSED_LIMIT = 100


def district_options(ctx) -> list[dict]:
    """The province's cities, each followed by its counties (市 · 县), for the filters."""
    t = ctx.table
    prov = t.get(ctx.province)
    if prov is None:
        return []
    out = []
    for city in sorted((c for c in t.children(prov.code) if c.level == "city"), key=lambda c: c.code):
        out.append({"label": city.name, "value": city.code})
        for county in sorted((c for c in t.children(city.code) if c.level == "county"), key=lambda c: c.code):
            out.append({"label": f"{city.name} · {county.name}", "value": county.code})
    return out


def silence_form(ctx, user):
    """The 局长's form to add a silence (admin scope); nothing for the other roles."""
    if not role_may(user.role, "admin"):
        return html.P("静默规则由局长设置，值班员与观察员只读", className="muted", id="duty-silence-readonly")
    store = ctx.alerts()
    max_days = store.config.silence_max_days if store is not None else 7
    industries = list(ctx.settings.complaints.industries)
    return html.Div([
        html.Label(["地区", dcc.Dropdown(id=ids.DUTY_SIL_DISTRICT, options=district_options(ctx), value=None,
                                       placeholder="全部地区", labels=ids.DROPDOWN_LABELS)]),
        html.Label(["行业", dcc.Dropdown(id=ids.DUTY_SIL_INDUSTRY, options=[{"label": i, "value": i} for i in industries],
                                       value=None, placeholder="全部行业", labels=ids.DROPDOWN_LABELS)]),
        html.Label(["结束", dcc.Dropdown(id=ids.DUTY_SIL_UNTIL, options=until_options(max_days), value="+4h",
                                       clearable=False, labels=ids.DROPDOWN_LABELS)]),
        html.Label(["原因（必填）", dcc.Input(id=ids.DUTY_SIL_REASON, type="text", value="", maxLength=200,
                                        placeholder="如：节日促销，已知情况")], className="reason"),
        html.Button("添加静默", id=ids.DUTY_SIL_ADD, n_clicks=0, className="act"),
        html.Div(id=ids.DUTY_SIL_RESULT, className="result", role="status"),
    ], className="silence-form", id="duty-silence-form")


def until_options(max_days: int) -> list[dict]:
    """How long a silence lasts, from an hour to alerts.silence_max_days."""
    hours = [1, 2, 4, 8, 12, 24, 48, 72, 24 * 7, 24 * 14, 24 * 30, 24 * 90]
    out = []
    for h in hours:
        if h > max_days * 24:
            break
        out.append({"label": f"{h}小时后" if h < 24 else f"{h // 24}天后", "value": f"+{h}h"})
    if not out or out[-1]["value"] != f"+{max_days * 24}h":
        out.append({"label": f"{max_days}天后（最长）", "value": f"+{max_days * 24}h"})
    return out


# -- plain helpers ----------------------------------------------------------------------------

def silence_line(store, now: datetime):
    """The silences in force, one small line ("静默中：…至…（原因）"), or None."""
    silences = store.silences(now)
    if not silences:
        return None
    return html.Span("静默中：" + "；".join(silence_label(x) for x in silences[:3])
                     + (f" 等{len(silences)}项" if len(silences) > 3 else ""), className="silences", id="duty-silences")


def signin_failures(ctx, user) -> list:
    """For the 局长 (admin scope): today's wrong passwords per user name, a small line."""
    if not role_may(user.role, "admin"):
        return []
    try:
        counts = ctx.sessions.failure_counts()
    except Exception:  # noqa: BLE001 - Redis trouble shows elsewhere
        return []
    if not counts:
        return []
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:3]
    return [html.Span(f"今日登录失败 {sum(counts.values())} 次（" + "、".join(f"{n} {c}次" for n, c in top) + "）",
                      className="signin-failures", id="duty-signin-failures")]


def _digest(value) -> str:
    return hashlib.blake2b(json.dumps(value, sort_keys=True, default=str, ensure_ascii=False).encode(),
                           digest_size=10).hexdigest()


def _ago(iso: str | None, now: datetime) -> str:
    if not iso:
        return ""
    s = (now - datetime.fromisoformat(iso)).total_seconds()
    return f"{int(s // 60)}分钟前" if s < 3600 else f"{s / 3600:.1f}小时前"


LOG_LABELS = {"raised": "开出预警", "updated": "数据更新", "escalated": "预警升级", "notified": "已通知"}


def _when(iso: str | None) -> str:
    """11-24 14:05:09 (date and time, local)."""
    return (iso or "")[5:19].replace("T", " ")


def _ratio(r) -> str:
    return f"为常态的 {r:.1f} 倍，" if isinstance(r, (int, float)) else ""


def _sla_span(c: dict):
    return html.Span(alertview.clock_text(c), className=f"sla {alertview.MARK_CLASS.get(c.get('mark'), '')}",
                     **({"data-due": str(alertview.due_epoch(c) or ""), "data-label": c.get("label") or ""}
                        if not c.get("stopped") else {}))


def queue_rows(alerts: list[dict], selected: str | None, now: datetime, empty_text: str = "当前没有在办预警"):
    if not alerts:
        return html.P(empty_text, className="muted", id="duty-queue-empty")
    head = html.Thead(html.Tr([html.Th(x) for x in ("等级", "状态", "地区 · 行业", "件数/常态", "开出", "时限")]))
    rows = []
    for a in alerts:
        c = alertview.running_clock(a["_clocks"])
        exp = a.get("expected")
        rows.append(html.Tr([
            html.Td(html.Span(alertview.severity_label(a), className=f"sev-badge {alertview.severity_class(a)}")),
            html.Td(html.Span(alertview.state_label(a.get("state")), className=f"state state-{a.get('state')}")),
            html.Td(f"{alertview.place(a)} · {alertview.what(a)}", className="what"),
            # 15344/9257.7 may break after the slash (the number itself never): the clocks keep their room
            html.Td([f"{a.get('observed', '')}/", html.Wbr(), alertview.fmt_expected(exp)]
                    if isinstance(exp, (int, float)) else str(a.get("observed", "")), className="n"),
            html.Td(_ago(a.get("opened_at"), now)),
            html.Td(_sla_span(c) if c else (f"{_when(a.get('ended_at'))[6:]} 办结" if a.get("ended_at") else ""),
                    className="limit"),
        ], id={"type": ids.DUTY_ROW, "index": a["id"]}, n_clicks=0,
            className=f"row {alertview.severity_class(a)}" + (" selected" if a["id"] == selected else "")
            + (" is-new" if alertview.is_new(a) else "")))
    return html.Table([head, html.Tbody(rows)], className="queue-table")


# Who acted, as the screen names them: the detector and the system in Chinese, people by their
# display name from the users file (never the login).
ACTOR_LABELS = {"system": "系统", "detector": "系统（检测）", "demo": "演示"}
# Channels as the bureau names them (config/settings.yaml complaints.channels).
CHANNEL_LABELS = {"mini-program": "小程序", "letter": "来信", "visit": "来访", "other": "其他", "12315": "12315",
                  "12345": "12345", "110": "110"}


def display_names(ctx) -> dict[str, str]:
    """{login: display name} of the dashboard's users (empty when the file cannot be read)."""
    try:
        return {n: (u.get("display") or n) for n, u in ctx.users.load().items() if isinstance(u, dict)}
    except Exception:  # noqa: BLE001 - a broken users file must not blank the console
        return {}


def actor(by: str | None, names: dict[str, str] | None = None) -> str:
    """系统 for the detector, a user's display name for a login, else the name as recorded."""
    if not by:
        return ""
    return ACTOR_LABELS.get(by) or (names or {}).get(by) or by


def channel_label(channel: str | None) -> str:
    return CHANNEL_LABELS.get(channel or "", channel or "")


def detail(alert: dict, clocks: list[dict], history: list[dict], names: dict[str, str] | None = None):
    phrases = "、".join(str(p) if not isinstance(p, (list, tuple)) else str(p[0]) for p in alert.get("phrases") or [])
    merchants = "、".join(f"{m[0]}（{m[1]}）" if isinstance(m, (list, tuple)) and len(m) > 1 else str(m)
                         for m in alert.get("merchants") or [])
    exp = alert.get("expected")
    facts = [("预警等级", html.Span(alertview.severity_tag(alert), className=f"sev-badge {alertview.severity_class(alert)}",
                                id="duty-detail-level")),
             ("状态", alertview.state_label(alert.get("state"))), ("地区", alertview.place(alert)),
             ("行业", alertview.what(alert)),
             ("件数", f"{alert.get('observed')}（常态 {alertview.fmt_expected(exp)}，{_ratio(alert.get('ratio'))}"
                    f"激增度 {alert.get('score') or 0:.1f}）"
              if isinstance(exp, (int, float)) else str(alert.get("observed"))),
             ("起始", (alert.get("since") or "")[:16].replace("T", " ")),
             ("开出", (alert.get("opened_at") or "")[:19].replace("T", " ")),
             ("派单对象", alert.get("team") or "—"), ("热点短语", phrases or "—"), ("涉及商户", merchants or "—")]
    clock_rows = [html.Tr([html.Td(c.get("label")), html.Td(_when(c.get("due"))), html.Td(_sla_span(c)),
                           html.Td(alertview.MARK_LABELS.get(c.get("mark"), ""), className=alertview.MARK_CLASS.get(c.get("mark"), ""))])
                  for c in clocks]
    hist = [html.Li([html.Span(_when(h.get("at")), className="t"),
                     html.Span(h.get("label") or LOG_LABELS.get(h.get("action"), h.get("action") or ""), className="a"),
                     html.Span(actor(h.get("by"), names), className="by"),
                     html.Span(h.get("team") or "", className="team"), html.Span(h.get("note") or "", className="n")])
            for h in condensed(history)]
    return html.Div([
        html.H2(alertview.headline(alert), id="duty-detail-title"),
        html.Dl([x for k, v in facts for x in (html.Dt(k), html.Dd(v))], className="facts"),
        html.H3("处置时限"),
        html.Table([html.Thead(html.Tr([html.Th(x) for x in ("环节", "到期", "倒计时", "状态")])), html.Tbody(clock_rows)],
                   className="sla-table") if clock_rows else html.P("无", className="muted"),
        html.H3("处置记录"),
        html.Ol(hist, className="history", id="duty-history"),
    ], **{"data-alert": alert["id"], "data-state": alert.get("state", "")})


def condensed(history: list[dict]) -> list[dict]:
    """The audit trail with each run of the detector's data updates shown as one line
    (数据更新 ×N, at the last one); people's actions are all kept."""
    out: list[dict] = []
    for h in history:
        if h.get("action") == "updated" and out and out[-1].get("action") == "updated":
            n = out[-1].get("_n", 1) + 1
            out[-1] = {**h, "_n": n, "label": f"数据更新 ×{n}", "note": out[-1].get("note")}
        else:
            out.append(dict(h))
    return out


def complaints_table(rows: list[dict], table):
    if not rows:
        return html.P("暂无相关投诉记录", className="muted")
    head = html.Thead(html.Tr([html.Th(x) for x in ("编号", "时间", "地区", "类型", "渠道", "商户", "内容")]))
    body = [html.Tr([html.Td(r.get("id") or "", className="cid"), html.Td(r["at"]), html.Td(getattr(table.get(r["district"]), "name", r["district"])),
                     html.Td(r["kind"]), html.Td(channel_label(r["channel"])), html.Td(r["merchant"]), html.Td(r["text"], className="text")])
            for r in rows]
    return html.Table([head, html.Tbody(body)], className="complaints-table")


def alert_complaints(ctx, alert: dict, now: datetime, limit: int = 100) -> list[dict]:
    """The complaints behind an alert: its district and industry since the surge began."""
    since = datetime.fromisoformat(alert.get("since") or alert["opened_at"])
    end = datetime.fromisoformat(alert["ended_at"]) if alert.get("ended_at") else now
    since = min(since, end - timedelta(hours=1))
    under = ctx.lookup.districts_under(alert.get("level") or "county", alert["district"])
    rows = ctx.docs.complaints(since, end + timedelta(minutes=1), under, alert.get("industry"), limit,
                               phrase=alertview.phrase_key(alert))
    if not rows:  # documents expired or topics off: the alert's own samples
        rows = [{"id": s.get("id", ""), "at": (s.get("at") or "")[5:16].replace("T", " "), "district": alert["district"],
                 "industry": alert.get("industry", ""), "kind": s.get("kind", ""), "channel": s.get("channel", ""),
                 "merchant": s.get("merchant", ""), "text": s.get("text", "")}
                for s in alert.get("samples") or [] if isinstance(s, dict)]
    return rows



def filter_alerts(alerts: list[dict], severities=None, district: str | None = None,
                  industry: str | None = None) -> list[dict]:
    """The alerts a filter keeps: any of ``severities`` (red, orange …; empty keeps all), in
    ``district`` or under it, of ``industry`` (None keeps all)."""
    sev = set(severities or [])
    return [a for a in alerts
            if (not sev or alertview.severity(a) in sev)
            and (not district or district_covers(str(district), str(a.get("district") or "")))
            and (not industry or a.get("industry") == industry)]


def queue_alerts(store, state: str, now: datetime, open_alerts: list[dict]) -> list[dict]:
    """The queue's alerts for a state filter: open (most urgent first), closed (newest first) or
    all (open first)."""
    if state == "closed":
        return store.list("closed", limit=CLOSED_LIMIT, now=now)
    if state == "all":
        return open_alerts + store.list("closed", limit=CLOSED_LIMIT, now=now)
    return open_alerts


def overdue(alerts: list[dict]) -> list[tuple[dict, dict]]:
    """(alert, clock) of the open alerts with a clock past its time limit, most late first."""
    out = []
    for a in alerts:
        late = [c for c in a.get("_clocks") or [] if c.get("mark") == "overdue" and not c.get("stopped")]
        if late:
            out.append((a, min(late, key=lambda c: c.get("remaining_s") or 0)))
    out.sort(key=lambda ac: ac[1].get("remaining_s") or 0)
    return out


def summary(open_alerts: list[dict], closed_today: list[dict], silences: list[dict], now: datetime,
            names: dict[str, str] | None = None):
    """With no alert selected: today's picture (open alerts by level, overdue time limits,
    alerts closed today, silences in force)."""
    by_level = {lv: 0 for lv in ("red", "orange", "yellow", "blue")}
    for a in open_alerts:
        by_level[alertview.severity(a)] += 1
    late = overdue(open_alerts)
    tiles = [html.Div([html.Div(str(n), className="n"), html.Div(_sev.tag(lv), className="l")],
                      className=f"tile sev-tile sev-{lv}", id=f"duty-sum-{lv}") for lv, n in by_level.items()]
    tiles.append(html.Div([html.Div(str(len(late)), className="n"), html.Div("时限超时", className="l")],
                          className="tile", id="duty-sum-overdue"))
    tiles.append(html.Div([html.Div(str(len(closed_today)), className="n"), html.Div("今日已关闭", className="l")],
                          className="tile", id="duty-sum-closed"))

    def link(a, extra):
        return html.Li([html.Span(alertview.severity_label(a), className=f"sev-badge {alertview.severity_class(a)}"),
                        html.A(f"{alertview.place(a)} · {alertview.what(a)}", href=f"/duty?alert={a['id']}",
                               className="sum-link"), html.Span(extra, className="muted")])
    late_list = [link(a, alertview.clock_text(c)) for a, c in late[:6]]
    closed_list = []
    for a in closed_today[:6]:
        who = actor(a.get(f"{a.get('state')}_by"), names)
        closed_list.append(link(a, f"{alertview.state_label(a.get('state'))} {_when(a.get('ended_at'))[6:]}"
                                   + (f"（{who}）" if who else "")))
    return html.Div([
        html.H2(f"今日概况 · {now:%m月%d日 %H:%M}", id="duty-summary-title"),
        html.P("请在左侧选择一条预警查看曲线、处置记录和相关投诉", className="muted"),
        html.Div(tiles, className="sum-tiles"),
        html.H3("时限超时"),
        html.Ul(late_list, className="sum-list", id="duty-sum-late") if late_list else html.P("无", className="muted"),
        html.H3("今日已关闭"),
        html.Ul(closed_list, className="sum-list", id="duty-sum-closed-list") if closed_list
        else html.P("今日尚无办结的预警", className="muted"),
        html.H3("静默中"),
        html.P("；".join(silence_label(x) for x in silences[:5]) if silences else "无", className="muted"),
    ], className="duty-summary", id="duty-summary")


def silence_rows(silences: list[dict], can_lift: bool):
    """The silences in force, each with who set it and (for the 局长) a 解除 button."""
    if not silences:
        return html.P("当前没有静默规则", className="muted", id="duty-silence-none")
    items = []
    for x in silences:
        items.append(html.Li([
            html.Span(silence_label(x), className="what"),
            html.Span(f"设置人 {x.get('by') or ''}", className="muted by"),
            *([html.Button("解除", id={"type": ids.DUTY_SIL_LIFT, "index": x["id"]}, n_clicks=0, className="lift")]
              if can_lift else []),
        ], **{"data-silence": x["id"]}))
    return html.Ul(items, className="silences-ul")


def chart_window(alert: dict, now: datetime) -> tuple[datetime, datetime]:
    """The 72 hours the chart shows: up to now for an open alert, up to half a day after its end
    for a closed one (never past now)."""
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    if alert.get("ended_at"):
        try:
            ended = datetime.fromisoformat(alert["ended_at"]).astimezone(now.tzinfo)
            end = min(end, ended.replace(minute=0, second=0, microsecond=0) + timedelta(hours=13))
        except ValueError:
            pass
    return end - timedelta(hours=alertview.CHART_HOURS), end


def alert_chart(ctx, alert: dict, now: datetime, usual_days: int = 7):
    """The selected alert's series (its district and industry, hour by hour, 72 h) against the
    detector's expectation and the same hour's mean over the previous days."""
    start, end = chart_window(alert, now)
    try:
        under = ctx.lookup.districts_under(alert.get("level") or "county", alert["district"])
    except Exception:  # noqa: BLE001 - a division renamed since: the code alone
        under = frozenset({alert["district"]})
    industry = alert.get("industry")
    industry = None if industry in (None, "", "*") else industry
    n = alertview.CHART_HOURS
    full = ctx.tallies.series("h", start - timedelta(days=usual_days), end, under, industry, now.timestamp())
    hours = full[-n:]
    before = [c for _, c in full]
    off = len(full) - n
    usual = [round(sum(before[off + i - 24 * k] for k in range(1, usual_days + 1)) / usual_days, 2)
             if off + i - 24 * usual_days >= 0 else None for i in range(n)]
    pts = alertview.chart_points(alert, hours, now, usual)
    fig = figures.alert_series(pts["starts"], pts["observed"], pts["expected"], pts["window"], pts["usual"])
    fig.update_layout(height=CHART_PX)       # the box's height: the axis labels stay inside it
    return fig



def silence_problem(district, industry, until, reason) -> str | None:
    """What is missing from the silence form, in Chinese (None when it may be sent)."""
    if not isinstance(reason, str) or not reason.strip():
        return "请填写原因"
    if not district and not industry:
        return "请至少选择地区或行业（不能静默全部预警）"
    if not isinstance(until, str) or not until.startswith("+"):
        return "请选择结束时间"
    return None


def zh_reason(message: str) -> str:
    """The Chinese part of a store's refusal ("… (静默最长7天)"), or a general line."""
    import re

    parts = re.findall(r"[（(]([^()（）]*[\u4e00-\u9fff][^()（）]*)[)）]", message)
    return "；".join(parts) if parts else "输入有误，请检查后重试"


# -- callbacks --------------------------------------------------------------------------------

def register(app, ctx) -> None:
    app.clientside_callback(
        """function(cue) {
            if (!cue) { return window.dash_clientside.no_update; }
            document.title = cue.title;
            if (cue.play) {
                window.__c12315_cues = (window.__c12315_cues || 0) + 1;
                var a = document.getElementById('duty-audio');
                if (a) { try { a.currentTime = 0; var p = a.play(); if (p && p.catch) { p.catch(function () {}); } } catch (e) {} }
            }
            return '';
        }""",
        Output("duty-audio", "title"), Input(ids.DUTY_SOUND, "data"))

    @app.callback(Output(ids.DUTY_QUEUE, "children"), Output(ids.DUTY_KNOWN, "data"), Output(ids.DUTY_SOUND, "data"),
                  Output(ids.DUTY_COUNT, "children"), Output(ids.DUTY_SHOW, "data"),
                  Output(ids.DUTY_SIL_LIST, "children"), Output(ids.DUTY_SIL_HASH, "data"),
                  Input(ids.DUTY_TICK, "n_intervals"), Input(ids.DUTY_VERSION, "data"), Input(ids.DUTY_SELECTED, "data"),
                  Input(ids.DUTY_STATE, "value"), Input(ids.DUTY_SEVERITY, "value"), Input(ids.DUTY_DISTRICT, "value"),
                  Input(ids.DUTY_INDUSTRY, "value"), Input(ids.DUTY_SIL_VERSION, "data"),
                  State(ids.DUTY_KNOWN, "data"), State(ids.DUTY_SHOW, "data"), State(ids.DUTY_SIL_HASH, "data"))
    def queue(_n, _v, selected, state, severities, district, industry, _sv, known, shown, sil_shown):
        store = ctx.alerts()
        if store is None:
            off = html.P("预警模块未启用", className="muted")
            return off, known, no_update, "", shown, off, None
        now = datetime.now(ctx.settings.tz)
        alerts = [{**a, "_clocks": alertview.sla(a, now)} for a in store.list("open", limit=QUEUE_LIMIT, now=now)]
        open_ids = [a["id"] for a in alerts]
        new_ids = [a["id"] for a in alerts if alertview.is_new(a)]
        fresh = [i for i in open_ids if known is not None and i not in known]
        title = f"({len(new_ids)}) 新预警 · 值班台" if new_ids else "值班台 · 12315 预警"
        cue = {"title": title, "play": bool(fresh), "n": len(fresh), "ids": fresh}
        state = state if state in ("open", "closed", "all") else "open"
        listed = queue_alerts(store, state, now, alerts)
        listed = [a if "_clocks" in a else {**a, "_clocks": []} for a in listed]
        shown_alerts = filter_alerts(listed, severities if isinstance(severities, list) else [],
                                     district if isinstance(district, str) else None,
                                     industry if isinstance(industry, str) else None)
        key = _digest([[a["id"], a.get("state"), a.get("observed"), a.get("updated_at"), a.get("severity"),
                        [(c.get("name"), c.get("mark")) for c in a["_clocks"]]] for a in shown_alerts]
                      + [selected, state, severities, district, industry])
        shown = dict(shown or {})
        body = no_update
        if shown.get("queue") != key:
            shown["queue"] = key
            filtered = bool(severities) or bool(district) or bool(industry)
            empty = {"open": "当前没有在办预警", "closed": "没有已关闭的预警", "all": "没有预警"}[state]
            body = queue_rows(shown_alerts, selected, now, "没有符合筛选条件的预警" if filtered else empty)
        count = f"在办 {len(alerts)} 条，其中新预警 {len(new_ids)} 条"
        if len(shown_alerts) != len(alerts) or state != "open":
            count += f"；列表 {len(shown_alerts)} 条"
        silences = silence_line(store, now)
        if silences:   # active silences: their alerts are not raised while they last
            count = [count, silences]
        send_cue = cue if (fresh or shown.get("title") != title) else no_update
        shown["title"] = title
        sil_body, sil_key = silence_list(store, now, sil_shown)
        return body, sorted(set(open_ids) | set(known or [])), send_cue, count, shown, sil_body, sil_key

    def silence_list(store, now, shown):
        """The silences in force (with 解除 for the 局长); no update while they stay the same."""
        user = session_user(ctx)
        can = user is not None and role_may(user.role, "admin")
        sils = store.silences(now)
        key = _digest([[x["id"], x.get("until")] for x in sils] + [can])
        if key == shown:
            return no_update, no_update
        return silence_rows(sils, can), key

    @app.callback(Output(ids.DUTY_SELECTED, "data"), Output(ids.DUTY_RESULT, "children", allow_duplicate=True),
                  Input({"type": ids.DUTY_ROW, "index": ALL}, "n_clicks"), Input(ids.DUTY_DESELECT, "n_clicks"),
                  prevent_initial_call=True)
    def pick(clicks, back):
        t = dash_ctx.triggered_id
        if t == ids.DUTY_DESELECT:
            return (None, "") if back else (no_update, no_update)
        if not isinstance(t, dict) or not any(clicks or []):
            return no_update, no_update
        value = next((x["value"] for x in dash_ctx.triggered if x.get("value")), None)
        if not value:
            return no_update, no_update
        return t["index"], ""

    # the URL follows the selection (/duty?alert=<id>), without reloading the page: the browser's
    # history gets an entry per selection, so 后退 goes back to the previous alert
    app.clientside_callback(
        """function(selected) {
            var want = selected ? ('?alert=' + encodeURIComponent(selected)) : '';
            if (window.location.pathname === '/duty' && window.location.search !== want) {
                window.history.pushState({}, '', '/duty' + want);
            }
            return want;
        }""",
        Output(ids.DUTY_URL_SINK, "data"), Input(ids.DUTY_SELECTED, "data"))

    @app.callback(Output(ids.DUTY_DETAIL, "children"), Output(ids.DUTY_COMPLAINTS, "children"),
                  Output({"type": ids.DUTY_ACTION, "index": ALL}, "disabled"), Output(ids.DUTY_TEAM, "value"),
                  Output(DETAIL_HASH, "data"), Output(ids.DUTY_SELECTED_ONLY, "style"), Output(ids.DUTY_DESELECT, "style"),
                  Input(ids.DUTY_SELECTED, "data"), Input(ids.DUTY_VERSION, "data"), Input(ids.DUTY_TICK, "n_intervals"),
                  State(ids.DUTY_TEAM, "value"), State(DETAIL_HASH, "data"))
    def show(selected, _v, _n, team, shown):
        store = ctx.alerts()
        n_actions = len(alertview.ACTIONS)
        hidden, shown_style, back = {"display": "none"}, {"display": "block"}, {"display": "inline-block"}
        alert = store.get(selected) if (store is not None and isinstance(selected, str) and selected) else None
        now = datetime.now(ctx.settings.tz)
        trigger = dash_ctx.triggered_id
        if alert is None:
            if selected:
                msg = html.P(f"预警 {selected} 不存在", className="muted")
                return msg, "", [True] * n_actions, no_update, None, hidden, back
            if store is None:
                return html.P("预警模块未启用", className="muted"), "", [True] * n_actions, no_update, None, hidden, hidden
            open_alerts = [{**a, "_clocks": alertview.sla(a, now)} for a in store.list("open", limit=QUEUE_LIMIT, now=now)]
            day0 = now.replace(hour=0, minute=0, second=0, microsecond=0)
            closed_today = [a for a in store.list("closed", limit=CLOSED_LIMIT, now=now)
                            if a.get("ended_at") and datetime.fromisoformat(a["ended_at"]) >= day0]
            closed_today.sort(key=lambda a: a.get("ended_at") or "", reverse=True)
            silences = store.silences(now)
            key = _digest(["summary", now.strftime("%H:%M"),
                           [(a["id"], a.get("state"), a.get("severity"), [c.get("mark") for c in a["_clocks"]])
                            for a in open_alerts], [a["id"] for a in closed_today], [x["id"] for x in silences]])
            if shown == key:
                return no_update, no_update, [True] * n_actions, no_update, no_update, no_update, no_update
            body = summary(open_alerts, closed_today, silences, now, display_names(ctx))
            return body, "", [True] * n_actions, no_update, key, hidden, hidden
        user = session_user(ctx)
        allowed = set(alertview.allowed_actions(alert)) if user is not None and user.may_act else set()
        disabled = [a not in allowed for a in alertview.ACTIONS]
        history = store.history(alert["id"])
        clocks = alertview.sla(alert, now)
        key = _digest([alert, len(history), [(c.get("name"), c.get("mark")) for c in clocks], now.strftime("%H")])
        if trigger == ids.DUTY_TICK and shown == key:
            return no_update, no_update, disabled, no_update, no_update, no_update, no_update
        body = detail(alert, clocks, history, display_names(ctx))
        rows = alert_complaints(ctx, alert, now)
        new_team = (alert.get("team") or alert.get("suggested_team")) if trigger != ids.DUTY_TICK or not team else no_update
        return body, complaints_table(rows, ctx.table), disabled, new_team, key, shown_style, back

    # the chart in a callback of its own: a first read of 10 days of hour tallies must not hold up
    # the detail; redrawn when the selection changes and once a minute (the current hour grows)
    @app.callback(Output(ids.DUTY_CHART, "figure"), Output(ids.DUTY_CHART_BOX, "style"), Output(CHART_HASH, "data"),
                  Input(ids.DUTY_SELECTED, "data"), Input(CHART_TICK, "n_intervals"), State(CHART_HASH, "data"))
    def chart(selected, _n, shown):
        store = ctx.alerts()
        alert = store.get(selected) if (store is not None and isinstance(selected, str) and selected) else None
        if alert is None:
            return (no_update, no_update, no_update) if shown is None else (no_update, {"display": "none"}, None)
        now = datetime.now(ctx.settings.tz)
        key = _digest([selected, now.strftime("%Y%m%d%H%M"), alert.get("at"), alert.get("ended_at")])
        if key == shown:
            return no_update, no_update, no_update
        try:
            fig = alert_chart(ctx, alert, now)
        except Exception as e:  # noqa: BLE001 - the rest of the detail still shows
            log.warning("duty chart for %s failed: %s", alert.get("id"), e)
            fig = figures.empty("曲线暂不可用", theme=figures.DARK)
        return fig, {"display": "block"}, key

    @app.callback(Output(ids.DUTY_SIL_RESULT, "children"), Output(ids.DUTY_SIL_VERSION, "data"),
                  Output(ids.DUTY_SIL_REASON, "value"),
                  Input(ids.DUTY_SIL_ADD, "n_clicks"),
                  State(ids.DUTY_SIL_DISTRICT, "value"), State(ids.DUTY_SIL_INDUSTRY, "value"),
                  State(ids.DUTY_SIL_UNTIL, "value"), State(ids.DUTY_SIL_REASON, "value"),
                  State(ids.DUTY_SIL_VERSION, "data"), prevent_initial_call=True)
    def add_silence(clicks, district, industry, until, reason, version):
        if not clicks:
            return no_update, no_update, no_update
        user = session_user(ctx)
        if user is None or not role_may(user.role, "admin"):
            return html.Span("无权设置静默（仅局长）", className="err"), no_update, no_update
        store = ctx.alerts()
        if store is None:
            return html.Span("预警模块未启用", className="err"), no_update, no_update
        problem = silence_problem(district, industry, until, reason)
        if problem:
            return html.Span(f"未添加：{problem}", className="err"), no_update, no_update
        try:
            store.add_silence(district=district or None, industry=industry or None, until=until,
                              reason=reason.strip(), by=user.display)
        except ValueError as e:
            return html.Span(f"未添加：{zh_reason(str(e))}", className="err"), no_update, no_update
        return html.Span("已添加静默", className="ok", id="duty-silence-done"), (version or 0) + 1, ""

    @app.callback(Output(ids.DUTY_SIL_RESULT, "children", allow_duplicate=True),
                  Output(ids.DUTY_SIL_VERSION, "data", allow_duplicate=True),
                  Input({"type": ids.DUTY_SIL_LIFT, "index": ALL}, "n_clicks"), State(ids.DUTY_SIL_VERSION, "data"),
                  prevent_initial_call=True)
    def lift_silence(clicks, version):
        t = dash_ctx.triggered_id
        if not isinstance(t, dict) or not any(c for c in clicks or []):
            return no_update, no_update
        if not next((x["value"] for x in dash_ctx.triggered if x.get("value")), None):
            return no_update, no_update
        user = session_user(ctx)
        if user is None or not role_may(user.role, "admin"):
            return html.Span("无权解除静默（仅局长）", className="err"), no_update
        store = ctx.alerts()
        if store is None or not isinstance(t.get("index"), str):
            return no_update, no_update
        if not store.remove_silence(t["index"], user.display):
            return html.Span("未解除：该静默已结束或不存在", className="err"), (version or 0) + 1
        return html.Span("已解除静默", className="ok", id="duty-silence-lifted"), (version or 0) + 1

    @app.callback(Output(ids.DUTY_RESULT, "children"), Output(ids.DUTY_VERSION, "data"), Output(ids.DUTY_NOTE, "value"),
                  Input({"type": ids.DUTY_ACTION, "index": ALL}, "n_clicks"),
                  State(ids.DUTY_SELECTED, "data"), State(ids.DUTY_TEAM, "value"), State(ids.DUTY_NOTE, "value"),
                  State(ids.DUTY_VERSION, "data"), prevent_initial_call=True)
    def act(clicks, selected, team, note, version):
        t = dash_ctx.triggered_id
        if not isinstance(t, dict) or not any(c for c in clicks or []):
            return no_update, no_update, no_update
        action = t["index"]
        user = session_user(ctx)
        if user is None or not user.may_act:
            return html.Span("无处置权限（观察员只读）", className="err"), no_update, no_update
        store = ctx.alerts()
        if store is None or not selected:
            return html.Span("请先选择一条预警", className="err"), no_update, no_update
        from alerts.lifecycle import LifecycleError

        try:
            new = store.act(selected, action, user.display, team=team if action == "dispatch" else None,
                            note=(note or "").strip() or None)
        except (LifecycleError, KeyError, ValueError) as e:
            msg = str(e.args[0] if e.args else e)
            zh = msg[msg.find("(") + 1:msg.rfind(")")] if "(" in msg and msg.endswith(")") else msg
            return html.Span(f"未执行：{zh}", className="err"), no_update, no_update
        label = alertview.ACTION_LABELS.get(action, action)
        return (html.Span(f"已{label}：{alertview.place(new)} · {alertview.what(new)} → {alertview.state_label(new['state'])}",
                          className="ok", id="duty-done"), (version or 0) + 1, "")
