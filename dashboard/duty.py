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
from urllib.parse import parse_qs

from dash import ALL, Input, Output, State, ctx as dash_ctx, dcc, html, no_update

from alerts.store import silence_label
from dashboard import alertview, ids
from streams.access import role_may
from dashboard.app import session_csrf, session_user

QUEUE_LIMIT = 200
DETAIL_HASH = "duty-detail-hash"


def layout(ctx, user, search: str = ""):
    q = parse_qs((search or "").lstrip("?"))
    wanted = (q.get("alert") or [None])[-1]
    store = ctx.alerts()
    teams = store.teams if store is not None else []
    can = user.may_act
    return html.Div([
        dcc.Interval(id=ids.DUTY_TICK, interval=2000),
        dcc.Store(id=ids.DUTY_SELECTED, data=wanted),
        dcc.Store(id=ids.DUTY_KNOWN, data=None),
        dcc.Store(id=ids.DUTY_VERSION, data=0),
        dcc.Store(id=ids.DUTY_SHOW, data={}),
        dcc.Store(id=ids.DUTY_SOUND, data=None),
        dcc.Store(id=DETAIL_HASH, data=None),
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
            html.Section([html.H2("预警队列（按紧急程度）"), html.Div(id=ids.DUTY_QUEUE, className="queue")],
                         className="duty-left"),
            html.Section([
                html.Div(id=ids.DUTY_DETAIL, className="detail", children=html.P("请在左侧选择一条预警", className="muted")),
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
            ], className="duty-right"),
        ], className="duty-main"),
    ], className="duty")


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


def queue_rows(alerts: list[dict], selected: str | None, now: datetime):
    if not alerts:
        return html.P("当前没有在办预警", className="muted")
    head = html.Thead(html.Tr([html.Th(x) for x in ("等级", "状态", "地区 · 行业", "件数/常态", "开出", "时限")]))
    rows = []
    for a in alerts:
        c = alertview.running_clock(a["_clocks"])
        exp = a.get("expected")
        rows.append(html.Tr([
            html.Td(html.Span(alertview.severity_label(a), className=f"sev-badge {alertview.severity_class(a)}")),
            html.Td(html.Span(alertview.state_label(a.get("state")), className=f"state state-{a.get('state')}")),
            html.Td(f"{alertview.place(a)} · {alertview.what(a)}"),
            html.Td(f"{a.get('observed', '')}/{alertview.fmt_expected(exp)}" if isinstance(exp, (int, float))
                    else str(a.get("observed", ""))),
            html.Td(_ago(a.get("opened_at"), now)),
            html.Td(_sla_span(c) if c else ""),
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
    head = html.Thead(html.Tr([html.Th(x) for x in ("时间", "地区", "类型", "渠道", "商户", "内容")]))
    body = [html.Tr([html.Td(r["at"]), html.Td(getattr(table.get(r["district"]), "name", r["district"])),
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
                  Input(ids.DUTY_TICK, "n_intervals"), Input(ids.DUTY_VERSION, "data"), Input(ids.DUTY_SELECTED, "data"),
                  State(ids.DUTY_KNOWN, "data"), State(ids.DUTY_SHOW, "data"))
    def queue(_n, _v, selected, known, shown):
        store = ctx.alerts()
        if store is None:
            return html.P("预警模块未启用", className="muted"), known, no_update, "", shown
        now = datetime.now(ctx.settings.tz)
        alerts = [{**a, "_clocks": alertview.sla(a, now)} for a in store.list("open", limit=QUEUE_LIMIT, now=now)]
        open_ids = [a["id"] for a in alerts]
        new_ids = [a["id"] for a in alerts if alertview.is_new(a)]
        fresh = [i for i in open_ids if known is not None and i not in known]
        title = f"({len(new_ids)}) 新预警 · 值班台" if new_ids else "值班台 · 12315 预警"
        cue = {"title": title, "play": bool(fresh), "n": len(fresh), "ids": fresh}
        key = _digest([[a["id"], a.get("state"), a.get("observed"), a.get("updated_at"), a.get("severity"),
                        [(c.get("name"), c.get("mark")) for c in a["_clocks"]]] for a in alerts] + [selected])
        shown = dict(shown or {})
        body = no_update
        if shown.get("queue") != key:
            shown["queue"] = key
            body = queue_rows(alerts, selected, now)
        count = f"在办 {len(alerts)} 条，其中新预警 {len(new_ids)} 条"
        silences = silence_line(store, now)
        if silences:   # active silences: their alerts are not raised while they last
            count = [count, silences]
        send_cue = cue if (fresh or shown.get("title") != title) else no_update
        shown["title"] = title
        return body, sorted(set(open_ids) | set(known or [])), send_cue, count, shown

    @app.callback(Output(ids.DUTY_SELECTED, "data"), Output(ids.DUTY_RESULT, "children", allow_duplicate=True),
                  Input({"type": ids.DUTY_ROW, "index": ALL}, "n_clicks"), prevent_initial_call=True)
    def pick(clicks):
        t = dash_ctx.triggered_id
        if not isinstance(t, dict) or not any(clicks or []):
            return no_update, no_update
        value = next((x["value"] for x in dash_ctx.triggered if x.get("value")), None)
        if not value:
            return no_update, no_update
        return t["index"], ""

    @app.callback(Output(ids.DUTY_DETAIL, "children"), Output(ids.DUTY_COMPLAINTS, "children"),
                  Output({"type": ids.DUTY_ACTION, "index": ALL}, "disabled"), Output(ids.DUTY_TEAM, "value"),
                  Output(DETAIL_HASH, "data"),
                  Input(ids.DUTY_SELECTED, "data"), Input(ids.DUTY_VERSION, "data"), Input(ids.DUTY_TICK, "n_intervals"),
                  State(ids.DUTY_TEAM, "value"), State(DETAIL_HASH, "data"))
    def show(selected, _v, _n, team, shown):
        store = ctx.alerts()
        n_actions = len(alertview.ACTIONS)
        alert = store.get(selected) if (store is not None and selected) else None
        if alert is None:
            msg = html.P("请在左侧选择一条预警" if not selected else f"预警 {selected} 不存在", className="muted")
            return msg, "", [True] * n_actions, no_update, None
        now = datetime.now(ctx.settings.tz)
        user = session_user(ctx)
        allowed = set(alertview.allowed_actions(alert)) if user is not None and user.may_act else set()
        disabled = [a not in allowed for a in alertview.ACTIONS]
        history = store.history(alert["id"])
        clocks = alertview.sla(alert, now)
        key = _digest([alert, len(history), [(c.get("name"), c.get("mark")) for c in clocks]])
        trigger = dash_ctx.triggered_id
        if trigger == ids.DUTY_TICK and shown == key:
            return no_update, no_update, disabled, no_update, no_update
        body = detail(alert, clocks, history, display_names(ctx))
        rows = alert_complaints(ctx, alert, now)
        new_team = (alert.get("team") or alert.get("suggested_team")) if trigger != ids.DUTY_TICK or not team else no_update
        return body, complaints_table(rows, ctx.table), disabled, new_team, key

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
