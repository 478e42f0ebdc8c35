"""The wall's map on a fresh start with no boundary file, and honest comparisons.

Pure tests of the seat lookup and of the no-data logic, then a real headless Chromium against
a real broker, redis-server, faust worker and dashboard that was given NO boundary file and
no history from last year: the wall draws the cities at their seats, a click drills down, the
surging district has its warning level's colour, and missing history is a gap or 无数据.
"""
from __future__ import annotations

import csv
import os
import uuid
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis

from config import load_settings
from config.divisions import divisions
from dashboard import demo, figures
from dashboard.geo import SEATS_FILE, missing_seats, seat_points, seats
from streams.counts import (bucket_start, child_codes, comparison_state, coverage, gaps, kpi_rows, ranking,
                            trend_note)
from tests.dashboard_site import assert_clean, headless, js_wait, running_site

TZ = ZoneInfo("Asia/Shanghai")
RED = "#e53935"


# -- seats: pure -------------------------------------------------------------------------------

def test_every_shanxi_division_has_a_seat_where_it_is():
    table = divisions()
    shanxi = [c for c, d in table.by_code.items() if d.province_code == "140000"]
    assert len(shanxi) == 129 and missing_seats(shanxi) == []
    s = seats()
    # north to south: 大同 above 太原 above 长治 above 运城; west to east: 吕梁 west of 阳泉
    assert s["140200"][1] > s["140100"][1] > s["140400"][1] > s["140800"][1]
    assert s["141100"][0] < s["140300"][0]
    for lon, lat in (s[c] for c in shanxi):
        assert 110.2 < lon < 114.6 and 34.5 < lat < 40.8          # Shanxi's bounding box
    # renamed since the source table: 云州区 (was 大同县) sits where 大同县's seat was
    rows = {r["code"]: r for r in csv.DictReader(open(SEATS_FILE, encoding="utf-8"))}
    assert rows["140215"]["cpca_code"] == "140227" and rows["140403"]["cpca_code"] == "140402"


def test_codes_without_a_seat_are_counted_and_a_view_holding_one_falls_back():
    table = divisions()
    missing = missing_seats(table.by_code)
    assert 0 < len(missing) <= 28 and "659012" in missing           # 白杨市 (2023) has no seat in the source
    assert seat_points(["140100", "140200"]) == {"140100": seats()["140100"], "140200": seats()["140200"]}
    assert seat_points(["140100", "659012"]) is None and seat_points([]) is None


def test_the_seat_map_places_colours_and_keeps_the_click_convention():
    table = divisions()
    level, codes = child_codes(table, "province", "140000")
    today = Counter({("140403", "食品", "投诉"): 60, ("140105", "食品", "投诉"): 9, ("140202", "食品", "投诉"): 3})
    rows = ranking(table, codes, level, today, Counter(), 7)
    fig = figures.seat_map(seat_points(codes), rows, "count", None, hot={"140400": "red", "140100": "yellow"})
    d = fig.data[0]
    assert d.type == "scatter" and list(d.customdata) == [r["code"] for r in rows] and len(d.customdata) == 11
    i = {c: k for k, c in enumerate(d.customdata)}
    assert d.y[i["140200"]] > d.y[i["140800"]] and d.x[i["140300"]] > d.x[i["141100"]]
    assert d.marker.color[i["140400"]] == RED and d.marker.color[i["140100"]] == "#fdd835"
    assert d.marker.color[i["140200"]] not in (RED, "#fb8c00", "#fdd835", "#1e88e5")
    assert d.marker.size[i["140400"]] > d.marker.size[i["140100"]] > d.marker.size[i["140200"]]
    quiet = figures.seat_map(seat_points(codes), rows, "count", None, hot={"140900": "blue"}).data[0]
    assert quiet.marker.size[i["140900"]] >= 26 > quiet.marker.size[i["141000"]]     # an alert is never a dot
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio > 1    # a degree of lat is longer
    assert min(d.textfont.size, fig.layout.font.size) >= figures.MIN_FONT


def test_surge_mode_ranks_districts_beyond_the_colour_cap():
    rows = [{"code": f"1401{k:02d}", "name": f"区{k}", "count": 10 * k, "expected": 1.0, "score": s}
            for k, s in enumerate([15.0, 40.2, 22.5, 160.0, 15.0001, 3.0])]
    z, _ = figures._metric(rows, "surge")
    assert z == [r["score"] for r in rows] and len(set(z)) == len(z)
    bars = figures.ranked_bars(rows, "surge", None, hot={"140103": "orange"})
    assert list(bars.data[0].x) == sorted(z) and list(bars.data[0].text)[-1] == "160"
    assert list(bars.data[0].marker.color)[-1] == "#fb8c00"          # the alerting district in its level's colour
    table = divisions()
    level, codes = child_codes(table, "city", "140400")
    today = Counter({("140403", "食品", "投诉"): 90, ("140404", "食品", "投诉"): 40})
    base = Counter({("140403", "食品", "投诉"): 7, ("140404", "食品", "投诉"): 7})
    ranked = ranking(table, codes, level, today, base, 7)
    fig = figures.seat_map(seat_points(codes), ranked, "surge", None).data[0]
    i = {c: k for k, c in enumerate(fig.customdata)}
    assert fig.text[i["140403"]] == f"潞州区 {ranked[0]['score']:g}" and ranked[0]["score"] > ranked[1]["score"] > 15
    assert fig.marker.color[i["140403"]] == fig.marker.color[i["140404"]]  # both past the colour cap


# -- no data vs 0: pure --------------------------------------------------------------------------

def test_a_period_before_the_first_data_has_none_and_a_quiet_hour_since_is_zero():
    first = datetime(2026, 10, 14, 4, 0, tzinfo=TZ)
    day0 = datetime(2026, 10, 14, tzinfo=TZ)
    assert coverage(day0, day0 + timedelta(hours=10), first) == pytest.approx(0.6)
    assert coverage(day0 - timedelta(days=365), day0 - timedelta(days=364), first) == 0
    assert coverage(day0 + timedelta(hours=5), day0 + timedelta(hours=6), first) == 1
    assert coverage(day0, day0 + timedelta(hours=10), None) == 0
    series = [(day0 + timedelta(hours=h), 0) for h in range(8)]
    assert gaps(series, first) == [None] * 4 + [0] * 4
    assert gaps(series, datetime(2026, 10, 14, 4, 30, tzinfo=TZ))[3:5] == [None, 0]  # a partial hour has data
    assert gaps(series, None) == [None] * 8
    assert trend_note([None] * 24) == "去年同期无数据"
    assert trend_note([None] * 18 + [0] * 6) == "去年同期 仅有 6/24 小时数据" and trend_note([0] * 24) == ""
    assert comparison_state(0.0, 10) == "none" and comparison_state(0.6, 10) == "partial"
    assert comparison_state(1.0, 10) == "full" and comparison_state(0.99, 10) == "full"


def test_kpi_rows_say_no_data_and_partial_instead_of_zero_and_percentages():
    today = Counter({("140403", "食品", "投诉"): 12})
    yday = Counter({("140403", "食品", "投诉"): 6})
    full = {r["kind"]: r for r in kpi_rows(today, yday, Counter(), 1.0, 1.0, 10)}
    assert full["投诉"]["vs_yesterday"] == 100.0 and full["投诉"]["last_year"] == 0 and full["投诉"]["vs_last_year"] is None
    rows = {r["kind"]: r for r in kpi_rows(today, yday, Counter(), 0.6, 0.0, 10)}
    assert rows["投诉"]["yesterday_state"] == "partial" and rows["投诉"]["vs_yesterday"] is None
    assert rows["投诉"]["yesterday_hours"] == (6, 10)
    assert rows["合计"]["last_year_state"] == "none" and rows["合计"]["last_year"] is None
    from dashboard.wall import _versus

    assert _versus(rows["投诉"], "last_year")[0] == "无数据"
    assert _versus(rows["投诉"], "yesterday")[0] == "仅6/10小时"
    assert _versus(full["投诉"], "yesterday")[0] == "▲100.0%"


def test_the_first_data_is_the_earliest_day_narrowed_to_its_hour_and_minute():
    from streams.counts import first_of

    d = datetime(2026, 10, 14, tzinfo=TZ)
    assert first_of({}) is None
    assert first_of({"d": d, "h": d.replace(hour=21), "m": d.replace(hour=21, minute=35)}) == d.replace(hour=21, minute=35)
    assert first_of({"d": d, "h": d.replace(hour=21), "m": d + timedelta(days=300)}) == d.replace(hour=21)
    assert first_of({"d": d, "h": d + timedelta(days=2)}) == d                 # that day's hours expired
    assert first_of({"h": d.replace(hour=3)}) == d.replace(hour=3)


def test_bucket_start_reads_tally_keys_only():
    assert bucket_start("cc:t:h:2026101409:140000", TZ) == datetime(2026, 10, 14, 9, tzinfo=TZ)
    assert bucket_start(b"cc:t:d:20261014:140000", TZ) == datetime(2026, 10, 14, tzinfo=TZ)
    assert bucket_start("cc:t:m:202610140905:140000", TZ) == datetime(2026, 10, 14, 9, 5, tzinfo=TZ)
    assert bucket_start("cc:docs:2026101409:140000", TZ) is None and bucket_start("cc:t:h:bad:140000", TZ) is None


def test_tallies_first_data_is_the_earliest_bucket(services):
    from streams.counts import Tallies

    env = {**os.environ, "REDIS_URL": services["redis"].url(12)}
    r = redis.Redis.from_url(env["REDIS_URL"], decode_responses=True)
    r.flushdb()
    try:
        t = Tallies(load_settings(env), r)
        assert t.first_data() is None
        r.hset("cc:t:h:2026101409:140000", "140403|食品|投诉|12315", 1)
        r.hset("cc:t:d:20261015:140000", "140403|食品|投诉|12315", 1)
        r.hset("cc:t:h:2025101409:110000", "110101|食品|投诉|12315", 1)       # another province
        assert t.first_data() == datetime(2026, 10, 14, 9, tzinfo=t.tz)
        # a day bucket starts at midnight; its first hour and minute say when the data began
        r.hset("cc:t:d:20261014:140000", "140403|食品|投诉|12315", 2)
        r.hset("cc:t:m:202610140917:140000", "140403|食品|投诉|12315", 1)
        t._first = None
        assert t.first_data() == datetime(2026, 10, 14, 9, 17, tzinfo=t.tz)
    finally:
        r.flushdb()
        r.close()


# -- in a browser: a fresh stack without boundary files ----------------------------------------

@pytest.fixture(scope="module")
def site(services, tmp_path_factory):
    """Worker, six hours of complaints (nothing a year ago), an open red alert on 潞州区 and the
    dashboard, with NO boundary file configured."""
    from alerts.store import AlertStore
    from streams.simgen import Simulator

    def seed(site):
        settings, r = site["settings"], site["redis"]
        assert not (settings.raw.get("dashboard") or {}).get("boundaries")
        now = datetime.now(settings.tz)
        first = now - timedelta(hours=6)
        items = list(Simulator(settings, seed=7, rate_per_second=0.01, run_tag="map").generate(first, now - timedelta(seconds=5)))
        n = demo.publish(settings, items, "map-test")
        demo.wait_tallied(r, n, 120)
        store = AlertStore(r)
        det = {"series": "county:140403:食品", "level": "county", "district": "140403", "industry": "食品",
               "since": (now - timedelta(minutes=30)).isoformat(), "at": now.isoformat(), "observed": 60,
               "expected": 10.0, "score": 12.0, "threshold": 7.0, "method": "share-scan"}
        aid, _ = store.raise_or_update(det, now - timedelta(minutes=20))
        assert store.get(aid)["severity"] == "red"
        # the first complaint, not the start of the simulated span: at night, at 0.01/s and the
        # daily rhythm, the first one may come an hour or more after it
        return {"first": min(datetime.fromisoformat(str(i["received_at"])) for i in items)}

    with running_site(services, tmp_path_factory.mktemp("map"), db=11, secret="map-test", boundaries=False,
                      seed=seed) as s:
        yield s


@pytest.fixture
def browser(tmp_path):
    with headless(tmp_path) as b:
        yield b


MAP = "document.querySelector('#wall-map .js-plotly-plot')"
POINTS = "#wall-map .scatterlayer .trace:first-child .points path"


def test_a_fresh_wall_without_boundary_files_draws_the_cities_at_their_seats(site, browser):
    from selenium.webdriver.common.action_chains import ActionChains

    driver, rec = browser
    driver.get(site["url"] + "/wall?rotate=0")
    js_wait(driver, f"var g = {MAP}; return g && g.data && g.data[0] && g.data[0].type == 'scatter' && "
                    f"g.data[0].customdata.length == 11 && document.querySelectorAll('{POINTS}').length == 11",
            30, "the city map")
    data = driver.execute_script(f"var d = {MAP}.data[0]; return {{x: d.x, y: d.y, c: d.customdata, "
                                 "colour: d.marker.color};")
    i = {c: k for k, c in enumerate(data["c"])}
    assert set(i) == {c for c in divisions().by_code if c.startswith("14") and c.endswith("00") and c != "140000"}
    assert data["y"][i["140200"]] > data["y"][i["140100"]] > data["y"][i["140800"]]     # 大同 north of 太原, 运城
    assert data["x"][i["140300"]] > data["x"][i["141100"]]                              # 阳泉 east of 吕梁
    # on screen too: 大同's bubble above 运城's
    tops = driver.execute_script(f"return Array.from(document.querySelectorAll('{POINTS}'))"
                                 ".map(function (p) { return p.getBoundingClientRect().top; });")
    assert tops[i["140200"]] < tops[i["140800"]]
    # the open red alert in 潞州区 marks its city in red, drawn so
    assert data["colour"][i["140400"]] == RED
    fill = driver.execute_script(f"return document.querySelectorAll('{POINTS}')[arguments[0]].style.fill", i["140400"])
    assert fill == "rgb(229, 57, 53)"
    assert [c for k, c in enumerate(data["colour"]) if c == RED] == [RED]
    driver.save_screenshot(str(site["tmp"] / "wall-seat-map.png"))

    def click(code: str) -> None:
        k = driver.execute_script(f"return {MAP}.data[0].customdata.indexOf(arguments[0])", code)
        assert k >= 0, code
        ActionChains(driver).move_to_element(driver.find_elements("css selector", POINTS)[k]).click().perform()

    click("140400")
    js_wait(driver, "return document.getElementById('wall-crumb').textContent.indexOf('长治市') >= 0", 10, "长治市")
    js_wait(driver, f"return {MAP}.data[0] && {MAP}.data[0].customdata && {MAP}.data[0].customdata.length == 12 && "
                    f"document.querySelectorAll('{POINTS}').length == 12", 10, "长治's 12 counties")
    colour = driver.execute_script(f"var d = {MAP}.data[0]; return d.marker.color[d.customdata.indexOf('140403')]")
    assert colour == RED
    driver.save_screenshot(str(site["tmp"] / "wall-seat-map-changzhi.png"))
    click("140404")
    js_wait(driver, "return document.getElementById('wall-crumb').textContent.indexOf('上党区') >= 0", 10, "上党区")
    # back to the province, coloured by surge: still the map, the alerting city still red
    driver.find_element("id", "wall-home").click()
    driver.execute_script("document.querySelector('#wall-mode input[value=surge]').click()")
    js_wait(driver, f"var d = {MAP}.data[0]; return document.getElementById('wall-map-title').textContent"
                    ".indexOf('激增度') >= 0 && d && d.customdata && d.customdata.length == 11", 10, "the surge map")
    colour = driver.execute_script(f"var d = {MAP}.data[0]; return d.marker.color[d.customdata.indexOf('140400')]")
    assert colour == RED
    sizes = driver.execute_script("return Array.from(document.querySelectorAll('#wall-map .textpoint text'))"
                                  ".map(function (e) { return parseFloat(getComputedStyle(e).fontSize); })")
    assert len(sizes) == 11 and min(sizes) >= 18, sizes
    from dashboard.browser import viewport

    viewport(driver, 3840, 2160)
    js_wait(driver, "return Array.from(document.querySelectorAll('#wall-map .textpoint text'))"
                    ".every(function (e) { return parseFloat(getComputedStyle(e).fontSize) >= 36; })", 10, "4K type")
    driver.save_screenshot(str(site["tmp"] / "wall-seat-map-surge-4k.png"))
    assert_clean(rec)


def test_missing_history_is_a_gap_and_no_data_not_zero(site, browser):
    driver, rec = browser
    driver.get(site["url"] + "/wall?rotate=0")
    trend = "document.querySelector('#wall-trend .js-plotly-plot')"
    js_wait(driver, f"var g = {trend}; return g && g.data && g.data.length == 2 && "
                    "!!document.getElementById('kpi-合计')", 30, "the trend and the cards")
    ly, cur = driver.execute_script(f"var g = {trend}; return [g.data[0].y, g.data[1].y];")
    assert len(ly) == 24 and all(v is None for v in ly), ly            # nothing seeded a year ago: all gaps
    # this year: gaps before the first complaint (about 6 h ago), numbers since
    first_hour = site["first"].replace(minute=0, second=0, microsecond=0)
    starts = [datetime.now(site["settings"].tz).replace(minute=0, second=0, microsecond=0) - timedelta(hours=23 - k)
              for k in range(24)]
    assert [v is None for v in cur] == [s < first_hour for s in starts], (
        cur, sorted(site["redis"].scan_iter(match="cc:t:*"))[:5])
    assert sum(v for v in cur if v) > 0
    notes = driver.execute_script("return Array.from(document.querySelectorAll('#wall-trend .annotation-text'))"
                                  ".map(function (e) { return e.textContent; })")
    assert "去年同期无数据" in notes
    cards = driver.execute_script("return Array.from(document.querySelectorAll('#wall-kpis .kpi'))"
                                  ".map(function (e) { return e.textContent; })")
    assert len(cards) == 4 and all("较去年同日 无数据" in c for c in cards), cards
    assert not any("%" in c for c in cards), cards
    # yesterday up to this time ended before the first complaint (6 h ago)
    assert all("较昨日同时 无数据" in c for c in cards), cards
    assert_clean(rec)


def test_a_partial_comparison_says_how_much_of_it_has_data(site, browser):
    """A complaint from the middle of yesterday's comparison period (midnight to this time a day
    ago): from then on the system held data, so 较昨日同时 has data for part of the period."""
    from streams.tally import floor_to

    driver, rec = browser
    tz = site["settings"].tz
    now = datetime.now(tz)
    y_now = now - timedelta(days=1)
    y0 = floor_to(y_now, "d")
    at = y0 + (y_now - y0) / 2
    hours = (now - floor_to(now, "d")).total_seconds() / 3600
    have = round((y_now - at).total_seconds() / 3600)
    item = {"id": f"MAP-{uuid.uuid4().hex[:8]}", "received_at": at.isoformat(), "channel": "12315", "kind": "投诉",
            "district": "140403", "industry": "食品", "merchant": "某超市", "text": "买到过期面包，要求退款"}
    demo.wait_tallied(site["redis"], demo.accepted(site["redis"]) + demo.publish(site["settings"], [item], "map-test"), 30)
    driver.get(site["url"] + "/wall?rotate=0")
    want = f"较昨日同时 仅{have}/{max(1, round(hours))}小时"
    js_wait(driver, "return Array.from(document.querySelectorAll('#wall-kpis .kpi-chg'))"
                    ".some(function (e) { return e.textContent.indexOf(arguments[0]) >= 0; })".replace(
                        "arguments[0]", repr(want)), 60, want)
    # it fits its card: nothing cut off at 1080p
    cut = driver.execute_script("return Array.from(document.querySelectorAll('#wall-kpis .kpi-chg'))"
                                ".filter(function (e) { return e.scrollWidth > e.clientWidth + 1; }).length")
    assert cut == 0
    driver.save_screenshot(str(site["tmp"] / "wall-partial.png"))
    assert_clean(rec)


def test_with_a_boundary_file_the_alerting_district_is_outlined_in_its_colour():
    def square(code, x):
        ring = [[x, 36], [x, 37], [x + 1, 37], [x + 1, 36], [x, 36]]
        return {"type": "Feature", "id": code, "properties": {"code": code, "name": code},
                "geometry": {"type": "Polygon", "coordinates": [ring]}}
    geo = {"type": "FeatureCollection", "features": [square("140403", 113), square("140404", 112)]}
    rows = [{"code": c, "name": n, "count": k, "expected": 1.0, "score": 1.0}
            for c, n, k in (("140403", "潞州区", 9), ("140404", "上党区", 2))]
    fig = figures.district_map(geo, rows, "count", "140404", hot={"140403": "orange"})
    line = fig.data[0].marker.line
    assert list(line.color) == ["#fb8c00", figures.SELECTED] and line.width[0] > line.width[1] > 1


# -- the boundary map's labels: pure geometry ---------------------------------------------------

def _label_boxes(fig, geojson, scale: float = 1.0) -> list[tuple[str, tuple]]:
    """Each name-and-count label of a boundary map as (text, (left, top, right, bottom)) in screen
    px, from the figure's label positions and font size (geo: the projection the wall uses)."""
    from dashboard import geo

    t = fig.data[1]
    font = t.textfont.size
    k = geo.px_per_radian(geo.mercator_bounds(geojson)) * scale
    return [(s, geo.label_box(lon, lat, geo.label_size(s, font), k)) for lon, lat, s in zip(t.lon, t.lat, t.text)]


def _clashes(boxes, gap: float) -> list[tuple[str, str]]:
    from dashboard.geo import boxes_overlap

    return [(a[0], b[0]) for i, a in enumerate(boxes) for b in boxes[i + 1:] if boxes_overlap(a[1], b[1], gap) > 0]


def test_no_two_labels_of_the_boundary_map_touch(tmp_path):
    from dashboard.geo import MAX_SHIFT_PX, Boundaries, _load, mercator, mercator_bounds, px_per_radian
    from tests.geo_fixture import REAL, boundary_files

    cities_file, counties_file = boundary_files(tmp_path)
    b = Boundaries(_load(str(cities_file)), _load(str(counties_file)))
    table = divisions()
    views = [("city", [d.code for d in table.children("140000")])]
    views += [("county", [d.code for d in table.children(c) if d.level == "county"]) for _, codes in views[:1] for c in codes]
    real = cities_file == REAL[0]
    raw_clash = False
    for level, codes in views:
        # wide counts on the busiest: a label as wide as its count
        rows = [{"code": c, "name": table.get(c).name, "count": 15344 if i == 0 else 9 * i, "expected": 1.0, "score": 0.0}
                for i, c in enumerate(codes)]
        fc = b.features(level, codes)
        assert fc is not None, (level, codes[:3])
        for scale in (1.0, 2.0):                       # 1920x1080 and 3840x2160
            fig = figures.district_map(fc, rows, "count", None, scale)
            boxes = _label_boxes(fig, fc, scale)
            assert len(boxes) == len(codes)
            assert not _clashes(boxes, gap=2.0), (level, codes[0], scale, _clashes(boxes, 2.0))
        # each label stays by its own district: moved at most 52 px (1080p) from the district's label point
        centroids = figures._centroids(fc)
        k = px_per_radian(mercator_bounds(fc))
        t = fig.data[1]
        for lon, lat, r in zip(t.lon, t.lat, rows):
            (x0, y0), (x1, y1) = mercator(*centroids[r["code"]]), mercator(lon, lat)
            assert ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 * k <= MAX_SHIFT_PX + 0.5, r["name"]
        # and the rule was needed: at their label points some labels touched (the real Shanxi map)
        plain = [(s, _box_at(centroids[r["code"]], s, k)) for s, r in zip(t.text, rows)]
        raw_clash |= bool(_clashes(plain, gap=2.0))
    if real:
        assert raw_clash
    # the places depend on the districts, not on the ranking: other counts, another order, same places
    codes = views[0][1]
    fc = b.features("city", codes)
    one = figures.district_map(fc, [{"code": c, "name": table.get(c).name, "count": 10 + i, "expected": 1.0, "score": 0.0}
                                    for i, c in enumerate(codes)], "count", None).data[1]
    rev = list(reversed(codes))
    two = figures.district_map(b.features("city", rev), [{"code": c, "name": table.get(c).name, "count": 90 - i,
                                                          "expected": 1.0, "score": 0.0} for i, c in enumerate(rev)],
                               "count", None).data[1]
    where_one = {s.split("<br>")[0]: (x, y) for x, y, s in zip(one.lon, one.lat, one.text)}
    where_two = {s.split("<br>")[0]: (x, y) for x, y, s in zip(two.lon, two.lat, two.text)}
    assert where_one == where_two


def _box_at(point, text, k):
    from dashboard.geo import label_box, label_size

    return label_box(point[0], point[1], label_size(text, 18), k)
