"""The Dash app: three screens on one server, everything served by the app itself.

- ``/wall``: the command-centre wall display (no sign-in, read-only);
- ``/duty``: the duty console (sign-in: 值班员, 局长, 观察员);
- ``/review``: the bureau heads' review with exports (sign-in: 局长, 观察员).

Scripts, styles, the alert sound and the map's stand-in world outline all come from this
server (``serve_locally``, ``assets/``, ``topojsonURL``); nothing is fetched from outside,
because command centres sit on offline intranets. The screens read the tallies and topics
through ``streams.readmodel`` / Redis and alerts through ``alerts.store``.
"""
from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import dash
import flask
import redis
from dash import Input, Output, dcc, html

from streams.store import redis_client
from config import Settings, settings as default_settings
from config.divisions import divisions
from dashboard import auth, ids
from dashboard.background import Background
from dashboard.geo import Boundaries, load_boundaries
from dashboard.session import session_csrf, session_user
from streams.counts import Documents, Tallies

log = logging.getLogger(__name__)
ASSETS = Path(__file__).resolve().parent / "assets"
TITLE = "12315 消费投诉举报预警系统"


@dataclass
class Context:
    """What every screen reads from: settings, Redis, tallies, boundaries, alerts, users."""

    settings: Settings
    redis: redis.Redis
    tallies: Tallies
    docs: Documents
    boundaries: Boundaries
    background: Background
    users: auth.Users
    sessions: auth.Sessions
    province: str
    timings: deque = field(default_factory=lambda: deque(maxlen=2000))
    lookup: object = None
    alerts_error: str = ""
    font_builder: object = None
    _store: object = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def table(self):
        return divisions()

    def alerts(self):
        """The AlertStore, or None when the alerts package has none (yet)."""
        with self._lock:
            if self._store is None:
                try:
                    from alerts.store import AlertStore

                    self._store = AlertStore(self.redis)
                except Exception as e:  # noqa: BLE001 - shown as "alerts unavailable"; retried next time
                    if str(e) != self.alerts_error:
                        log.warning("alerts unavailable: %s", e)
                    self.alerts_error = str(e)
                    return None
                self.alerts_error = ""
            return self._store


def make_context(settings: Settings, client: redis.Redis | None = None, env: dict | None = None) -> Context:
    client = client or redis_client(settings.redis_url)
    conf = settings.dashboard
    province = conf.province
    return Context(settings=settings, redis=client, tallies=Tallies(settings, client, province),
                   docs=Documents(settings, client, province),
                   boundaries=load_boundaries(settings, env), background=Background(settings.raw),
                   users=auth.Users(auth.users_path(settings, env)),
                   sessions=auth.Sessions(client, float(conf.session_idle_minutes) * 60,
                                          float(conf.session_max_hours) * 3600),
                   province=province)


def create_app(settings: Settings | None = None, client: redis.Redis | None = None, env: dict | None = None,
               warm: bool = True) -> dash.Dash:
    """The Dash app with its three screens; ``settings`` default to ``config.settings()``,
    ``env`` (boundary files, users file, secret key) to ``os.environ``."""
    settings = settings or default_settings()
    ctx = make_context(settings, client, env)
    server = flask.Flask(__name__)
    server.config.update(
        SECRET_KEY=auth.secret_key(settings, env),
        SESSION_COOKIE_NAME="c12315_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=bool(settings.dashboard.secure_cookies),
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    app = dash.Dash(
        __name__, server=server, title=TITLE, update_title=None, assets_folder=str(ASSETS),
        serve_locally=True, external_scripts=[], external_stylesheets=[], compress=False,
        suppress_callback_exceptions=True, meta_tags=[{"name": "viewport", "content": "width=device-width"}],
        on_error=callback_failed,
    )
    app.config.include_assets_files = True
    app.ctx = ctx
    app.index_string = INDEX
    app.layout = html.Div([dcc.Location(id=ids.URL, refresh=False), html.Div(id=ids.PAGE, className="page")])

    from dashboard import duty, review, supervise, wall

    pages = {"/wall": wall, "/duty": duty, "/review": review}

    @app.callback(Output(ids.PAGE, "children"), Input(ids.URL, "pathname"), Input(ids.URL, "search"))
    def route(pathname, search):
        path = (pathname or "/").rstrip("/") or "/"
        if path == "/":
            return home(session_user(ctx))
        page = pages.get(path)
        if page is None:
            return html.Div([html.H1("页面不存在"), html.A("返回首页", href="/")], className="notfound")
        if path in auth.SCREENS:
            user = session_user(ctx)
            if user is None or not user.may_open(path):
                return html.Div([html.H1("请先登录"), html.A("登录", href=f"/login?next={path}")], className="notfound")
            return page.layout(ctx, user, search or "")
        return page.layout(ctx, search or "")

    from streams.readmodel import ReadModel

    ctx.lookup = ReadModel(settings, ctx.redis)    # division look-ups in request threads
    wall.register(app, ctx)
    duty.register(app, ctx)
    supervise.register(app, ctx)     # the console's 督办 list
    review.register(app, ctx)
    install_security(server, ctx)
    install_callback_checks(app)
    install_timing(server, ctx)
    install_fonts(server, ctx, env, prepare=warm)
    if warm:
        # plotly imports numpy at its first figure: imported here, in one thread, so that the warm-up
        # thread and a request thread drawing at the same time never find it half-initialised (seen
        # as "partially initialized module 'numpy' has no attribute 'isscalar'")
        import numpy  # noqa: F401

        threading.Thread(target=warm_up, args=(ctx,), name="dashboard-warm-up", daemon=True).start()
    return app


def warm_up(ctx: Context) -> None:
    """Read the closed buckets the wall needs before the first browser asks (cold, with a year
    of history, that is a few hundred Redis hashes), and start the topics process."""
    from datetime import datetime

    from dashboard import jobs, wall

    try:
        sel = wall.initial_selection(ctx, "")
        nums = wall.wall_numbers(ctx, sel, datetime.now(ctx.settings.tz))
        wall.build_figures(ctx, sel, nums, "count", 1.0)     # plotly loads its validators on first use
        ctx.background.get(("rising", sel["level"], sel["code"]), jobs.topics, sel["level"], sel["code"], "hour", 20,
                           max_age=15)
        ctx.background.get(("cloud", sel["level"], sel["code"]), jobs.wall_cloud, sel["level"], sel["code"], max_age=60)
        # the handling figures of this year: seconds cold, so asked for now
        ctx.background.get(("cases-year", sel["level"], sel["code"]), jobs.case_kpis, sel["level"], sel["code"], "year",
                           max_age=30)
    except Exception as e:  # noqa: BLE001 - a cold cache is only slower
        log.warning("warm-up failed: %s", e)
    try:
        from dashboard import review
        review.warm_up(ctx)                 # the review's first screen (this month and quarter)
    except Exception as e:  # noqa: BLE001 - a cold cache is only slower
        log.warning("review warm-up failed: %s", e)


def home(user: auth.User | None):
    links = [("/wall", "指挥中心大屏", "实时投诉举报、地区分布、热词与预警（无需登录）"),
             ("/duty", "值班台", "预警队列、派单、处置与时限（需登录）"),
             ("/review", "研判分析", "热词、同比环比、商户、预警时效与报告导出（局长）")]
    return html.Div([
        html.H1(TITLE),
        html.Div([html.A([html.H2(t), html.P(d)], href=h, className="home-card") for h, t, d in links],
                 className="home-cards"),
        html.P(f"已登录：{user.display}（{user.role_label}）" if user else "", className="home-user"),
    ], className="home")


# -- security --------------------------------------------------------------------------------

def _screen_of(body: dict) -> str | None:
    """Which protected screen a Dash callback request belongs to (by its output ids)."""
    text = str(body.get("output", "")) + str(body.get("outputs", ""))
    if "duty-" in text:
        return "/duty"
    if "review-" in text:
        return "/review"
    return None


def callback_failed(err: Exception):
    """Every callback's last resort: a value no control sends, or a fault, leaves the page as it
    was (no update) instead of an error 500; the log gets the cause (control characters escaped)."""
    try:
        which = str(dash.ctx.outputs_list)[:200]
    except Exception:  # noqa: BLE001 - outside a request context
        which = "?"
    log.error("callback for %s failed: %s", which, err.__class__.__name__, exc_info=err)
    return None


def callback_request_problem(body, callback_map: dict) -> str | None:
    """What is wrong with the shape of a Dash callback request (None when nothing): one the
    dash-renderer never sends (not an object, an unknown output, inputs or state that do not
    match the callback) would otherwise end in an error 500 inside Dash."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    out = body.get("output")
    if not isinstance(out, str) or out not in callback_map:
        return "unknown callback output"
    if not isinstance(body.get("outputs"), (dict, list)):
        return "outputs must be an object or a list"
    if not isinstance(body.get("changedPropIds", []), list):
        return "changedPropIds must be a list"
    cb = callback_map[out]
    for part in ("inputs", "state"):
        got, want = body.get(part, []), cb.get(part, [])
        if not isinstance(got, list) or len(got) != len(want):
            return f"{part} do not match the callback"
        for item in got:
            items = item if isinstance(item, list) else [item]       # a wildcard (ALL) input is a list
            if not all(isinstance(i, dict) and "id" in i and isinstance(i.get("property"), str) for i in items):
                return f"every one of {part} needs an id and a property"
    return None


def install_callback_checks(app: dash.Dash) -> None:
    """Refuse (400, one line) a callback request of a shape the page never sends."""
    @app.server.before_request
    def check_callback_shape():
        req = flask.request
        if req.method == "POST" and (req.path.rstrip("/") or "/") == "/_dash-update-component":
            problem = callback_request_problem(req.get_json(silent=True), app.callback_map)
            if problem:
                return flask.Response(f"bad callback request: {problem}", 400,
                                      content_type="text/plain; charset=utf-8")
        return None


def install_security(server: flask.Flask, ctx: Context) -> None:
    @server.before_request
    def guard():
        req = flask.request
        if req.method == "POST":
            origin = req.headers.get("Origin")
            if origin and origin != "null" and origin.rstrip("/") != req.host_url.rstrip("/"):
                return flask.Response("cross-origin request refused", 403)
        path = req.path.rstrip("/") or "/"
        user = session_user(ctx)
        if req.method == "GET" and path in auth.SCREENS:
            if user is None:
                return flask.redirect(f"/login?next={path}")
            if not user.may_open(path):
                return flask.Response(f"{user.role_label}无权打开此页面", 403, content_type="text/plain; charset=utf-8")
        if req.method == "POST" and path == "/_dash-update-component":
            body = req.get_json(silent=True) or {}
            screen = _screen_of(body if isinstance(body, dict) else {"output": str(body)})
            if screen is not None and (user is None or not user.may_open(screen)):
                return flask.Response("sign-in required", 403)
            if user is not None and not auth.same_token(req.headers.get(auth.CSRF_HEADER), session_csrf()):
                return flask.Response("CSRF token missing or wrong; reload the page", 403)
        return None

    @server.route("/login", methods=["GET", "POST"])
    def login():
        req = flask.request
        next_url = auth.safe_next(req.values.get("next"))
        if req.method == "GET":
            token = flask.session.get("login_csrf") or secrets.token_urlsafe(32)
            flask.session["login_csrf"] = token
            return auth.login_page(token, next_url)
        if not auth.same_token(req.form.get("csrf"), flask.session.get("login_csrf")):
            return flask.Response("CSRF token missing or wrong; reload the sign-in page", 403)
        name, password = (req.form.get("username") or "").strip(), req.form.get("password") or ""
        token = flask.session["login_csrf"]
        user, status, message = auth.sign_in(ctx.users, ctx.sessions, name, password, req.remote_addr or "")
        if user is None:   # throttled per (client, name): another client signs in at once
            return auth.login_page(token, next_url, message, name), status
        ctx.sessions.delete(flask.session.get("sid"))
        sid, csrf = ctx.sessions.create(user)
        flask.session.clear()
        flask.session["sid"] = sid
        if not user.may_open(next_url) and next_url in auth.SCREENS:
            next_url = "/duty"
        resp = flask.redirect(next_url)
        resp.set_cookie(auth.CSRF_COOKIE, csrf, httponly=False, samesite="Strict",
                        secure=server.config["SESSION_COOKIE_SECURE"])
        log.info("sign-in: %s (%s)", user.name, user.role)
        return resp

    @server.route("/logout", methods=["POST"])
    def logout():
        user = session_user(ctx)
        if user is not None and not auth.same_token(flask.request.form.get("csrf"), session_csrf()):
            return flask.Response("CSRF token missing or wrong", 403)
        ctx.sessions.delete(flask.session.get("sid"))
        flask.session.clear()
        resp = flask.redirect("/login")
        resp.delete_cookie(auth.CSRF_COOKIE)
        return resp

    @server.after_request
    def headers(resp):
        # Nothing may load from elsewhere: the browser enforces what the tests check.
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; media-src 'self' data:; "
            "style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
            "connect-src 'self'; font-src 'self' data:; frame-ancestors 'self'; form-action 'self'")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        return resp


def install_fonts(server: flask.Flask, ctx: Context, env: dict | None, prepare: bool = True) -> None:
    """/fonts/fonts.css and the WOFF files it names (see ``dashboard.fonts``)."""
    from dashboard import fonts

    folder = fonts.cache_dir(env)
    conf = ctx.settings.dashboard
    srcs = fonts.sources({"font_regular": conf.font_regular, "font_bold": conf.font_bold})
    if prepare:
        try:
            ctx.font_builder = fonts.ensure(srcs, folder)
        except OSError as e:
            log.warning("cannot prepare the web fonts in %s: %s", folder, e)

    @server.route("/fonts/fonts.css")
    def font_css():
        files = fonts.ready(srcs, folder)
        resp = flask.Response(fonts.stylesheet(files) if files else "/* fonts not prepared yet */\n",
                              content_type="text/css; charset=utf-8")
        resp.headers["Cache-Control"] = "max-age=3600" if files else "no-cache"
        return resp

    @server.route("/fonts/<name>")
    def font_file(name: str):
        files = {p.name: p for p in fonts.ready(srcs, folder).values()}
        if name not in files:
            return flask.Response("no such font", 404)
        resp = flask.send_file(files[name], mimetype="font/woff", max_age=365 * 86400)
        return resp


def install_timing(server: flask.Flask, ctx: Context) -> None:
    """Server time of every callback, kept for /healthz and sent as a Server-Timing header."""
    @server.before_request
    def start():
        flask.g.c12315_t0 = time.perf_counter()

    @server.after_request
    def stop(resp):
        t0 = getattr(flask.g, "c12315_t0", None)
        if t0 is not None and flask.request.path == "/_dash-update-component":
            ms = (time.perf_counter() - t0) * 1000
            body = flask.request.get_json(silent=True) or {}
            ctx.timings.append((str(body.get("output", ""))[:120], ms, time.strftime("%H:%M:%S")))
            resp.headers["Server-Timing"] = f"app;dur={ms:.1f}"
        return resp

    @server.route("/healthz")
    def healthz():
        try:
            ok = bool(ctx.redis.ping())
        except redis.RedisError as e:
            return flask.jsonify({"redis": f"down: {e}"}), 503
        times = sorted(t[1] for t in ctx.timings)
        summary = {"n": len(times)}
        if times:
            summary.update(p50_ms=round(times[len(times) // 2], 1),
                           p99_ms=round(times[min(len(times) - 1, int(len(times) * 0.99))], 1),
                           max_ms=round(times[-1], 1))
        worst = sorted(ctx.timings, key=lambda t: -t[1])[:5]
        wall = sorted(t[1] for t in ctx.timings if t[0].startswith("..wall-kpis"))
        return flask.jsonify({"redis": "up" if ok else "down", "callbacks": summary,
                              "wall_refresh": {"n": len(wall), **({"p50_ms": round(wall[len(wall) // 2], 1),
                                                                   "max_ms": round(wall[-1], 1)} if wall else {})},
                              "slowest": [{"output": o, "ms": round(ms, 1), "at": at} for o, ms, at in worst],
                              "alerts": ctx.alerts() is not None or ctx.alerts_error,
                              "boundaries": {lvl: ctx.boundaries.has(lvl) for lvl in ("city", "county")}})


INDEX = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
{%metas%}
<title>{%title%}</title>
{%favicon%}
<link rel="stylesheet" href="/fonts/fonts.css">
{%css%}
</head>
<body>
{%app_entry%}
<footer>
{%config%}
{%scripts%}
{%renderer%}
</footer>
</body>
</html>"""
