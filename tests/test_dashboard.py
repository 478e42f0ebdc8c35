"""The dashboard without a browser: the numbers it shows, its map, its security, its exports and
its refresh time with a year of history (real redis-server from the fixtures)."""
from __future__ import annotations

import io
import json
import random
import re
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from config import ROOT_DIR, Settings
from streams import keys
from dashboard.bench import dash_post, year_of_tallies
from tests.conftest import ROOT



def geo_env() -> dict:
    """Boundary files for the map: Shanxi's from ../shared/data/geo/ here, a synthetic stand-in
    elsewhere (tests/geo_fixture.py); either way real files the app reads as a site would."""
    import tempfile

    from tests.geo_fixture import boundary_files

    cities, counties = boundary_files(Path(tempfile.gettempdir()) / "c12315-test-geo")
    return {"BOUNDARY_CITIES": str(cities), "BOUNDARY_COUNTIES": str(counties)}


def put(r, win: str, when: datetime, counts: dict[tuple, int]) -> None:
    """Write a tally hash as the stream's Lua step would: field district|industry|kind|channel."""
    fmt = {"m": "%Y%m%d%H%M", "h": "%Y%m%d%H", "d": "%Y%m%d"}[win]
    key = keys.tally(win, when.strftime(fmt), "140000")
    for (d, i, k, c), n in counts.items():
        r.hincrby(key, keys.field(d, i, k, c), n)


def app_for(stack, tmp_path, **env):
    from dashboard.app import create_app

    e = {"DASHBOARD_USERS": str(tmp_path / "users.json"), "DASHBOARD_SECRET_KEY": "test-secret", **env}
    return create_app(stack["settings"], stack["redis"], env=e, warm=False)


# -- pure shaping ----------------------------------------------------------------------------

def test_tally_fields_are_summed_over_channels_and_selected():
    from streams.counts import by, parse_tally, select

    c = parse_tally({"140403|食品|投诉|12315": "3", "140403|食品|投诉|12345": "2", "140105|旅游|咨询|110": "4",
                     "broken": "9"})
    assert c == Counter({("140403", "食品", "投诉"): 5, ("140105", "旅游", "咨询"): 4})
    assert by(select(c, frozenset({"140403"})), "kind") == {"投诉": 5}
    assert select(c) is c and by(c, "industry") == {"食品": 5, "旅游": 4}


def test_a_period_is_cut_into_days_hours_minutes_and_an_old_partial_hour_pro_rata():
    from zoneinfo import ZoneInfo

    from streams.counts import decompose

    tz = ZoneInfo("Asia/Shanghai")
    t = lambda *a: datetime(*a, tzinfo=tz)  # noqa: E731
    parts = decompose(t(2026, 3, 1), t(2026, 3, 3, 2, 30), minute_floor=t(2026, 3, 3))
    assert [p[0] for p in parts] == ["d", "d", "h", "h"] + ["m"] * 30
    old = decompose(t(2025, 3, 3), t(2025, 3, 3, 2, 30), minute_floor=t(2026, 3, 1))
    assert [p[0] for p in old] == ["h", "h", "h~"] and old[-1][1:] == (t(2025, 3, 3, 2), t(2025, 3, 3, 2, 30))


def test_kpi_rows_compare_with_yesterday_and_last_year():
    from streams.counts import change, kpi_rows

    today = Counter({("140403", "食品", "投诉"): 30, ("140403", "食品", "咨询"): 70})
    yday = Counter({("140403", "食品", "投诉"): 20, ("140403", "食品", "咨询"): 80})
    rows = {r["kind"]: r for r in kpi_rows(today, yday, Counter())}
    assert {k: rows["投诉"][k] for k in ("kind", "count", "yesterday", "last_year", "vs_yesterday", "vs_last_year",
                                        "yesterday_state")} == {
        "kind": "投诉", "count": 30, "yesterday": 20, "last_year": 0, "vs_yesterday": 50.0, "vs_last_year": None,
        "yesterday_state": "full"}
    assert rows["合计"]["count"] == 100 and rows["合计"]["vs_yesterday"] == 0.0
    assert rows["举报"]["vs_yesterday"] is None
    assert change(90, 100) == -10.0


def test_review_periods_and_their_comparisons():
    from streams.counts import last_year_period, period_of, previous_period, same_time_last_year

    m = period_of("month", date(2026, 3, 15))
    assert (m.start, m.end, m.label()) == (date(2026, 3, 1), date(2026, 4, 1), "2026年3月")
    assert (previous_period(m).start, previous_period(m).end) == (date(2026, 2, 1), date(2026, 3, 1))
    q = period_of("quarter", date(2026, 5, 2))
    assert (q.start, q.end, q.label()) == (date(2026, 4, 1), date(2026, 7, 1), "2026年第2季度")
    assert previous_period(q).start == date(2026, 1, 1) and last_year_period(q).start == date(2025, 4, 1)
    w = period_of("week", date(2026, 11, 26))          # a Thursday
    assert w.start == date(2026, 11, 23) and w.days == 7
    c = period_of("custom", date(2026, 1, 30), date(2026, 2, 2))
    assert c.days == 4 and previous_period(c).start == date(2026, 1, 26)
    leap = datetime(2028, 2, 29, 10, 0)
    assert same_time_last_year(leap) == datetime(2027, 2, 28, 10, 0)
    with pytest.raises(ValueError):
        period_of("custom", date(2026, 2, 2), date(2026, 1, 1))


def test_districts_rank_one_level_down_with_a_surge_score():
    from config.divisions import divisions
    from streams.counts import child_codes, ranking

    t = divisions()
    level, cities = child_codes(t, "province", "140000")
    assert level == "city" and len(cities) == 11 and "140400" in cities
    level, counties = child_codes(t, "city", "140400")
    assert level == "county" and "140403" in counties
    assert child_codes(t, "county", "140403") == ("county", counties)     # a county shows its siblings
    today = Counter({("140403", "产品质量", "投诉"): 37, ("140105", "食品", "咨询"): 10})
    usual = Counter({("140403", "产品质量", "投诉"): 7 * 4, ("140105", "食品", "咨询"): 7 * 10})
    rows = {r["code"]: r for r in ranking(t, cities, "city", today, usual, 7)}
    assert rows["140400"]["count"] == 37 and rows["140400"]["expected"] == 4.0
    assert rows["140400"]["score"] == pytest.approx(33 / 5 ** 0.5, abs=0.01)
    assert rows["140100"]["score"] == 0.0


def test_countdowns_and_sparklines_read_at_a_glance():
    from dashboard.alertview import clock_text, fmt_duration
    from dashboard.figures import sparkline

    assert fmt_duration(725) == "12:05" and fmt_duration(-190) == "-3:10" and fmt_duration(3723) == "1:02:03"
    assert fmt_duration(90000) == "1天1时"
    assert clock_text({"label": "派单", "remaining_s": 300, "mark": "ok"}) == "派单 剩 5:00"
    assert clock_text({"label": "响应", "remaining_s": -61, "mark": "overdue"}) == "响应 超时 1:01"
    assert clock_text({"label": "到场", "remaining_s": 5, "mark": "met"}) == "到场 达标"
    assert sparkline([0, 1, 2, 3]) == "▁▃▆█" and sparkline([2, 2]) == "▄▄"


# -- tallies from Redis --------------------------------------------------------------------

def test_today_yesterday_and_last_year_come_from_the_tallies(stack):
    from streams.counts import Tallies, kpi_rows, same_time_last_year, today_vs, trend_24h

    S, r = stack["settings"], stack["redis"]
    now = datetime(2026, 10, 14, 10, 30, tzinfo=S.tz)          # a fixed past morning: all buckets closed
    k = ("140403", "产品质量", "投诉", "12315")
    for h in range(10):
        put(r, "h", now.replace(hour=h, minute=0), {k: 2})
        put(r, "h", now.replace(hour=h, minute=0) - timedelta(days=1), {k: 1})
        put(r, "h", same_time_last_year(now).replace(hour=h, minute=0), {k: 3})
    put(r, "h", now.replace(minute=0), {k: 4})                  # 10:00-11:00 today: 4 so far
    put(r, "h", now.replace(minute=0) - timedelta(days=1), {k: 6})  # yesterday's 10:xx hour
    put(r, "h", same_time_last_year(now).replace(minute=0), {k: 12})
    put(r, "m", now.replace(minute=5), {k: 1})                  # today 10:00-10:30 by the minute: 2
    put(r, "m", now.replace(minute=25), {k: 1})
    put(r, "m", now.replace(minute=40), {k: 2})                  # (not yet: after 10:30)
    put(r, "m", now.replace(minute=10) - timedelta(days=1), {k: 3})  # yesterday 10:00-10:30: 3
    tallies = Tallies(S, r)
    today, yesterday, last_year = today_vs(tallies, now)
    rows = {x["kind"]: x for x in kpi_rows(today, yesterday, last_year)}
    # hours 0-9 whole, then the minutes of the 10:00 hour up to 10:30; a year ago minute buckets
    # have expired, so half of that 10:00 hour is taken pro rata (12 / 2)
    assert rows["投诉"]["count"] == 20 + 2 and rows["投诉"]["yesterday"] == 10 + 3 and rows["投诉"]["last_year"] == 30 + 6
    t = trend_24h(tallies, now, None)
    assert len(t["counts"]) == 24 and t["hours"][-1] == "10:00" and t["counts"][-1] == 4 and t["last_year"][-1] == 12
    reads = tallies.reads
    today_vs(tallies, now)
    assert tallies.reads - reads <= 10, "only the buckets still within the grace period are read again"
    reads = tallies.reads
    today_vs(tallies, now + timedelta(seconds=1))
    assert tallies.reads - reads <= 10


def test_wall_refreshes_answer_and_send_only_what_changed_with_a_year_of_history(stack, tmp_path):
    """How fast they answer is `make bench`'s (dashboard/bench.py), not a test's."""
    from dashboard.app import warm_up
    from streams.counts import today_vs

    S, r = stack["settings"], stack["redis"]
    now = datetime.now(S.tz)
    year_of_tallies(r, now)
    app = app_for(stack, tmp_path, **geo_env())
    try:
        warm_up(app.ctx)
        today, _, last_year = today_vs(app.ctx.tallies, now)
        assert sum(today.values()) > 0 and sum(last_year.values()) > 0
        client = app.server.test_client()
        for page in ("/wall", "/_dash-layout", "/_dash-dependencies"):     # what a browser asks for first
            assert client.get(page).status_code == 200
        seen = {}
        sent = []
        for i, sel in enumerate([{"level": "province", "code": "140000"}] * 12 + [{"level": "city", "code": "140400"}] * 4
                                + [{"level": "county", "code": "140403"}] * 4):
            sel = {**sel, "manual": 0, "i": 0, "rotate": False}
            res = dash_post(client, app, "wall-kpis", [
                {"id": "wall-tick", "property": "n_intervals", "value": i},
                {"id": "wall-sel", "property": "data", "value": sel},
                {"id": "wall-mode", "property": "value", "value": "count" if i % 7 else "surge"},
                {"id": "wall-view", "property": "data", "value": {"h": 1080, "w": 1920}}],
                [{"id": "wall-hash", "property": "data", "value": seen}], "wall-tick.n_intervals")
            assert res.status_code == 200, res.data[:500]
            sent.append(len(res.data))
            seen = res.get_json()["response"]["wall-hash"]["data"]
        # the first refresh of a view sends everything; the same view again only what changed
        assert sent[1] < sent[0] and sent[12] > sent[13], sent
    finally:
        app.ctx.background.shutdown()


# -- map -----------------------------------------------------------------------------------

def test_the_map_draws_the_configured_boundaries_offline(stack, tmp_path):
    from dashboard import wall
    from dashboard.geo import load_boundaries

    b = load_boundaries(stack["settings"], geo_env())
    assert b.has("city") and b.has("county")
    assert len(b.cities["features"]) == 11 and len(b.counties["features"]) == 117
    fc = b.features("county", ["140403", "140404"])
    assert [f["properties"]["code"] for f in fc["features"]] == ["140403", "140404"]
    assert b.features("county", ["140403", "999999"]) is None
    app = app_for(stack, tmp_path, **geo_env())
    try:
        ctx = app.ctx
        dv = wall.district_view(ctx, {"level": "city", "code": "140400"}, Counter({("140403", "食品", "投诉"): 5}), Counter())
        fig = wall.district_figure(ctx, dv, "count", 1.0)
        assert fig.data[0].type == "choropleth" and fig.data[0].featureidkey == "properties.code"
        assert "140403" in fig.data[0].locations and fig.layout.geo.visible is False
        assert wall.GRAPH_CONFIG["topojsonURL"] == "/assets/topojson/"
        stand_in = app.server.test_client().get("/assets/topojson/world_110m.json")
        assert stand_in.status_code == 200 and json.loads(stand_in.data)["type"] == "Topology"
    finally:
        app.ctx.background.shutdown()


def test_without_a_boundary_file_the_district_view_is_a_map_of_seats(stack, tmp_path):
    """(More in tests/test_dashboard_map.py; a view with a district of no known seat is ranked bars.)"""
    from dashboard import wall

    app = app_for(stack, tmp_path)
    try:
        dv = wall.district_view(app.ctx, {"level": "province", "code": "140000"},
                                Counter({("140403", "食品", "投诉"): 5, ("140105", "食品", "投诉"): 9}), Counter())
        fig = wall.district_figure(app.ctx, dv, "count", 1.0)
        assert fig.data[0].type == "scatter" and list(fig.data[0].customdata)[:2] == ["140100", "140400"]
    finally:
        app.ctx.background.shutdown()


def test_a_missing_boundary_file_is_named(stack):
    from dashboard.geo import BoundaryError, load_boundaries

    with pytest.raises(BoundaryError, match="nowhere.json does not exist"):
        load_boundaries(stack["settings"], {"BOUNDARY_CITIES": "/nowhere.json"})


# -- sign-in, sessions, CSRF, roles --------------------------------------------------------------

def sign_in(client, name: str, password: str, next_path: str = "/duty"):
    page = client.get(f"/login?next={next_path}").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"username": name, "password": password, "csrf": token, "next": next_path})


def act_inputs(action: str) -> list:
    from dashboard.alertview import ACTIONS

    return [[{"id": {"index": a, "type": "duty-action"}, "property": "n_clicks", "value": 1 if a == action else None}
             for a in ACTIONS]]


def act_state(alert_id: str, team=None, note="") -> list:
    return [{"id": "duty-selected", "property": "data", "value": alert_id},
            {"id": "duty-team", "property": "value", "value": team},
            {"id": "duty-note", "property": "value", "value": note},
            {"id": "duty-version", "property": "data", "value": 0}]


def test_the_console_needs_a_signed_in_user_csrf_and_a_role_that_may_act(stack, tmp_path):
    from alerts.store import AlertStore
    from dashboard import demo

    app = app_for(stack, tmp_path)
    ctx = app.ctx
    ctx.users.add("zhang", "duty", "duty-password-1", "张值班")
    ctx.users.add("wang", "viewer", "viewer-password-1")
    stored = json.loads((tmp_path / "users.json").read_text())
    assert "duty-password-1" not in json.dumps(stored) and stored["users"]["zhang"]["password"].startswith("scrypt:")
    now = datetime.now(stack["settings"].tz)
    aid, _ = AlertStore(stack["redis"]).raise_or_update(demo.detection("140403", "产品质量", now, 37, 4.2), now)
    try:
        c = app.server.test_client()
        assert c.get("/wall").status_code == 200                       # the wall needs no sign-in
        r = c.get("/duty")
        assert r.status_code == 302 and r.headers["Location"].endswith("/login?next=/duty")
        assert c.get("/review").status_code == 302
        # a callback of the console without a session
        res = dash_post(c, app, "duty-version", act_inputs("ack"), act_state(aid), '{"index":"ack","type":"duty-action"}.n_clicks')
        assert res.status_code == 403
        # the sign-in form needs its CSRF token; a wrong password is refused
        assert c.post("/login", data={"username": "zhang", "password": "duty-password-1"}).status_code == 403
        assert sign_in(c, "zhang", "wrong-password").status_code == 401
        r = sign_in(c, "zhang", "duty-password-1")
        assert r.status_code == 302 and r.headers["Location"] == "/duty"
        assert c.get("/duty").status_code == 200
        assert c.get("/review").status_code == 403                     # review is for 局长 and 观察员
        token = c.get_cookie("_csrf_token").value
        changed = '{"index":"ack","type":"duty-action"}.n_clicks'
        assert dash_post(c, app, "duty-version", act_inputs("ack"), act_state(aid), changed).status_code == 403
        assert dash_post(c, app, "duty-version", act_inputs("ack"), act_state(aid), changed,
                         {"X-CSRFToken": token, "Origin": "http://evil.example"}).status_code == 403
        res = dash_post(c, app, "duty-version", act_inputs("ack"), act_state(aid), changed, {"X-CSRFToken": token})
        assert res.status_code == 200, res.data[:300]
        assert "已确认" in json.dumps(res.get_json(), ensure_ascii=False)
        alert = AlertStore(stack["redis"]).get(aid)
        assert alert["state"] == "acknowledged" and alert["acknowledged_by"] == "张值班"  # display name, not the login
        # an illegal step is explained, not applied
        res = dash_post(c, app, "duty-version", act_inputs("close"), act_state(aid), changed.replace("ack", "close"),
                        {"X-CSRFToken": token})
        assert "未执行" in json.dumps(res.get_json(), ensure_ascii=False)
        assert AlertStore(stack["redis"]).get(aid)["state"] == "acknowledged"
        # sign out: the session is gone on the server
        assert c.post("/logout", data={"csrf": "wrong"}).status_code == 403
        sid_keys = list(stack["redis"].scan_iter(match="cc:dash:session:*"))
        assert len(sid_keys) == 1
        c.post("/logout", data={"csrf": token})
        assert not list(stack["redis"].scan_iter(match="cc:dash:session:*"))
        assert c.get("/duty").status_code == 302
        # a viewer sees the console but cannot act, even by forging the request
        v = app.server.test_client()
        sign_in(v, "wang", "viewer-password-1")
        assert v.get("/duty").status_code == 200 and v.get("/review").status_code == 200
        res = dash_post(v, app, "duty-version", act_inputs("dispatch"), act_state(aid, team="产品质量快反分队"),
                        changed.replace("ack", "dispatch"), {"X-CSRFToken": v.get_cookie("_csrf_token").value})
        assert "无处置权限" in json.dumps(res.get_json(), ensure_ascii=False)
        assert AlertStore(stack["redis"]).get(aid)["state"] == "acknowledged"
        # five wrong passwords make this client wait (other clients: tests/test_security_signin.py)
        for _ in range(5):
            sign_in(app.server.test_client(), "wang", "nope-nope-nope")
        assert sign_in(app.server.test_client(), "wang", "viewer-password-1").status_code == 429
        # the next page may only be on this site
        from dashboard.auth import safe_next
        assert safe_next("//evil.example/x") == "/duty" and safe_next("https://evil.example") == "/duty"
        assert safe_next("/review?period=day") == "/review?period=day"
    finally:
        ctx.background.shutdown()


def test_sessions_expire_when_idle(stack, tmp_path):
    from dashboard.app import create_app

    raw = {**stack["settings"].raw, "dashboard": {"session_idle_minutes": 1 / 30}}   # 2 s
    app = create_app(Settings(raw), stack["redis"], env={"DASHBOARD_USERS": str(tmp_path / "u.json"),
                                                         "DASHBOARD_SECRET_KEY": "k"}, warm=False)
    try:
        app.ctx.users.add("li", "head", "head-password-1")
        c = app.server.test_client()
        sign_in(c, "li", "head-password-1", "/review")
        assert c.get("/review").status_code == 200
        time.sleep(3)
        assert c.get("/review").status_code == 302
    finally:
        app.ctx.background.shutdown()


# -- review and its exports ----------------------------------------------------------------------

def test_review_numbers_tables_and_reports_are_valid_documents(stack, tmp_path):
    import docx
    import openpyxl

    from alerts.store import AlertStore
    from dashboard import demo, reports
    from streams.counts import period_of

    S, r = stack["settings"], stack["redis"]
    k = ("140403", "产品质量", "投诉", "12315")
    for day, n in ((date(2026, 9, 10), 5), (date(2026, 10, 10), 8), (date(2025, 10, 10), 4)):
        put(r, "d", datetime(day.year, day.month, day.day, tzinfo=S.tz), {k: n, ("140105", "食品", "咨询", "110"): 1})
    # the three months compared are covered day by day (太原's enquiries): 长治's other days are real zeros
    for first in (date(2026, 9, 1), date(2026, 10, 1), date(2025, 10, 1)):
        for i in range(31 if first.month == 10 else 30):
            day = first + timedelta(days=i)
            put(r, "d", datetime(day.year, day.month, day.day, tzinfo=S.tz), {("140105", "食品", "咨询", "110"): 1})
    app = app_for(stack, tmp_path)
    try:
        now = datetime(2026, 11, 5, 9, 0, tzinfo=S.tz)
        opened = datetime(2026, 10, 10, 9, 0, tzinfo=S.tz)
        store = AlertStore(r)
        aid, _ = store.raise_or_update(demo.detection("140403", "产品质量", opened, 8, 1.0), opened)
        store.act(aid, "dispatch", "zhang", team="产品质量快反分队", now=opened + timedelta(minutes=10))
        store.act(aid, "close", "zhang", now=opened + timedelta(hours=2))
        data = reports.review_data(app.ctx, period_of("month", date(2026, 10, 3)), "140400", None, now)
        kinds = {x["name"]: x for x in data["kinds"]}
        assert kinds["投诉"]["current"] == 8 and kinds["投诉"]["previous"] == 5 and kinds["投诉"]["last_year"] == 4
        assert kinds["投诉"]["mom"] == 60.0 and kinds["投诉"]["yoy"] == 100.0
        assert kinds["咨询"]["current"] == 0, "太原's enquiry is not 长治's"
        assert [a["id"] for a in data["alerts"]] == [aid]
        sla = {s["clock"]: s for s in data["sla"]}
        assert sla["派单"]["met"] == 1 and sla["派单"]["rate"] == 100.0 and sla["响应"]["missed"] == 1
        xlsx = reports.tables_xlsx(data, None)
        wb = openpyxl.load_workbook(io.BytesIO(xlsx))
        assert wb.sheetnames == ["总体", "行业", "地区", "热点短语", "商户", "预警", "时效"]
        assert [c.value for c in wb["总体"][3]] == ["投诉", 8, 5, 0.6, 4, 1.0]
        assert wb["总体"]["D3"].number_format == "+0.0%;-0.0%;0.0%" and wb["总体"]["A2"].value == "类型"
        from PIL import Image
        png = io.BytesIO()
        Image.new("RGB", (40, 20), "white").save(png, "PNG")
        for kind, word in (("month", "月分析"), ("quarter", "季度报告")):
            doc = docx.Document(io.BytesIO(reports.report_docx(data, None, png.getvalue(), kind)))
            text = "\n".join(p.text for p in doc.paragraphs)
            assert word in text and "环比上升 60.0%" in text and len(doc.inline_shapes) >= 1
        running = reports.spans(period_of("month", date(2026, 11, 1)), now)
        assert running["current"][1] == now and running["previous"][1] == datetime(2026, 10, 5, 9, 0, tzinfo=S.tz)
    finally:
        app.ctx.background.shutdown()


def test_the_app_serves_everything_itself():
    from dashboard.app import ASSETS, INDEX

    assert (ASSETS / "topojson" / "world_110m.json").is_file() and (ASSETS / "alert.wav").is_file()
    text = "\n".join(p.read_text(encoding="utf-8") for p in ASSETS.rglob("*") if p.suffix in (".css", ".js"))
    assert not re.search(r"https?://", text) and "@import" not in text and "url(" not in text
    assert "cdn" not in INDEX.lower()
    assert ROOT == ROOT_DIR


def test_the_wall_rotates_from_province_to_each_city_and_its_busiest_county(stack, tmp_path):
    from dashboard import wall

    put(stack["redis"], "m", datetime.now(stack["settings"].tz), {("140403", "食品", "投诉", "12315"): 9,
                                                                  ("140404", "食品", "投诉", "12315"): 2})
    app = app_for(stack, tmp_path)
    try:
        ctx = app.ctx
        sel = wall.initial_selection(ctx, "?rotate=1")
        stops = []
        for _ in range(8):
            sel = {**sel, **wall.rotation_step(ctx, sel)}
            stops.append(sel["code"])
        assert stops[0] == "140100" and stops[2] == "140200"
        i = stops.index("140400")
        assert stops[i + 1] == "140403", "a city is followed by its busiest county"
        assert wall.initial_selection(ctx, "?code=140400&rotate=0") == {"level": "city", "code": "140400", "manual": 0,
                                                                          "i": 0, "rotate": False}
        assert wall.initial_selection(ctx, "?code=110000")["code"] == "140000"    # not this province: ignored
    finally:
        ctx.background.shutdown()


def test_the_audit_trail_folds_the_detectors_updates():
    from dashboard.duty import condensed

    trail = [{"action": "raised", "by": "system"}] + [{"action": "updated", "by": "system", "at": f"t{i}"} for i in range(5)] \
        + [{"action": "ack", "by": "zhang"}, {"action": "updated", "by": "system", "at": "t9"}]
    out = condensed(trail)
    assert [h["action"] for h in out] == ["raised", "updated", "ack", "updated"]
    assert out[1]["label"] == "数据更新 ×5" and out[1]["at"] == "t4" and "label" not in out[3]


def test_the_app_can_serve_its_own_chinese_font(stack, tmp_path):
    from dashboard import fonts

    srcs = fonts.sources({})
    assert srcs, "Debian's fonts-noto-cjk (make setup installs it) is needed to cut the web font"
    made = fonts.build({"regular": srcs["regular"]}, tmp_path / "f", chars="投诉举报咨询0123456789")
    woff = Path(made[0]).read_bytes()
    assert woff[:4] == b"wOFF" and len(woff) < 60_000
    css = fonts.stylesheet({"regular": Path(made[0])})
    assert 'font-family: "C12315 Sans"' in css and 'local("Microsoft YaHei")' in css and f"/fonts/{Path(made[0]).name}" in css
    charset = fonts.charset()
    assert len(charset) > 7000 and "潞" in charset and "掉" in charset
    app = app_for(stack, tmp_path, DASHBOARD_FONT_CACHE=str(tmp_path / "empty"))
    try:
        c = app.server.test_client()
        assert c.get("/fonts/fonts.css").get_data(as_text=True).startswith("/*")   # not cut yet: local fonts only
        assert c.get("/fonts/nothing.woff").status_code == 404
        assert '<link rel="stylesheet" href="/fonts/fonts.css">' in c.get("/wall").get_data(as_text=True)
    finally:
        app.ctx.background.shutdown()


def test_an_alert_names_its_industry_all_industries_or_its_phrase():
    from dashboard.alertview import headline, phrase_key, what

    base = {"level": "county", "district": "140403", "district_name": "潞州区", "city_name": "长治市",
            "observed": 12, "expected": 2.0}
    assert what({**base, "industry": "产品质量"}) == "产品质量"
    assert what({**base, "industry": "*"}) == "全部行业"
    phrase = {**base, "level": "province", "district": "140000", "industry": "*", "phrase": "涂层脱落",
              "phrase_key": "涂层|脱落"}
    assert what(phrase) == "「涂层脱落」" and "「涂层脱落」 12件" in headline(phrase)
    assert phrase_key(phrase) == "涂层|脱落" and phrase_key({**base, "industry": "食品"}) is None


def test_a_fixed_periods_topics_are_scored_once_for_the_table_and_the_cloud():
    from dashboard.jobs import MEMO_TOP, _memo_topics

    calls = []

    def topics(level, code, window="hour", industry=None, at=None, top=20, since=None, until=None):
        calls.append(top)
        items = [{"topic": f"t{i}", "count": 100 - i} for i in range(top)]
        return {"docs": 5, "phrases": {"by_count": items, "by_burst": items[:3]},
                "keywords": {"by_count": items, "by_burst": []}}

    memo = _memo_topics(topics)
    cloud = memo("province", "140000", "day", None, None, 60, "2026-11-01", "2026-12-01")
    table = memo("province", "140000", "day", None, None, 20, "2026-11-01", "2026-12-01")
    assert calls == [MEMO_TOP] and len(cloud["phrases"]["by_count"]) == 60
    assert table["phrases"]["by_count"] == cloud["phrases"]["by_count"][:20] and table["docs"] == 5
    memo("province", "140000", "day", None, None, 20, "2026-10-01", "2026-11-01")      # another period
    memo("province", "140000", "hour", None, None, 20, None, None)                      # relative to now: never kept
    memo("province", "140000", "hour", None, None, 20, None, None)
    assert calls == [MEMO_TOP, MEMO_TOP, 20, 20]
