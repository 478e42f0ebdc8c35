"""The duty console as its users expect it, in a real headless Chromium against
the real broker, redis-server, faust worker and dashboard server: the selected alert's series as
a chart (observed against expected, the alarm window shaded), the URL following the selection,
complaint ids, filters (state, severity, district, industry), closed alerts, silences for the
局长 (and none for the 值班员), and today's summary with nothing selected.

Plus the console's pure helpers, tested directly.
"""
from __future__ import annotations

import asyncio
import os
from datetime import datetime, timedelta, timezone

import pytest
import redis

from dashboard import alertview, demo, duty
from tests.conftest import make_complaints, publish_raw, wait_until
from tests.dashboard_site import assert_clean, headless, js_wait, running_site
from tests.dashboard_site import sign_in as site_sign_in

USERS = {"sunduty": ("duty", "duty-password-2", "孙值班"), "zhouhead": ("head", "head-password-2", "周局长")}
CST = timezone(timedelta(hours=8))
DB = 11


# -- pure helpers -------------------------------------------------------------------------------

def _alert(aid, district, industry, severity, state="new"):
    return {"id": aid, "district": district, "industry": industry, "severity": severity, "state": state}


def test_filter_alerts_by_level_district_and_industry():
    alerts = [_alert("a", "140403", "食品", "red"), _alert("b", "140105", "价格", "orange"),
              _alert("c", "140404", "食品", "yellow"), _alert("d", "140400", "旅游", "blue")]
    ids = lambda xs: [a["id"] for a in xs]  # noqa: E731
    assert ids(duty.filter_alerts(alerts)) == ["a", "b", "c", "d"]
    assert ids(duty.filter_alerts(alerts, ["red", "yellow"])) == ["a", "c"]
    # a city keeps its counties and itself; a county only itself
    assert ids(duty.filter_alerts(alerts, district="140400")) == ["a", "c", "d"]
    assert ids(duty.filter_alerts(alerts, district="140403")) == ["a"]
    assert ids(duty.filter_alerts(alerts, industry="食品")) == ["a", "c"]
    assert ids(duty.filter_alerts(alerts, ["red"], "140400", "食品")) == ["a"]
    assert duty.filter_alerts(alerts, ["orange"], "140400") == []


def test_expected_per_hour_and_chart_points():
    now = datetime(2026, 5, 3, 14, 25, tzinfo=CST)
    alert = {"since": "2026-05-03T12:00:00+08:00", "at": "2026-05-03T14:20:00+08:00", "expected": 6.0,
             "observed": 40}
    # measured over 12:00-15:00: three hours
    assert alertview.expected_per_hour(alert) == pytest.approx(2.0)
    assert alertview.alarm_window(alert, now) == (datetime(2026, 5, 3, 12, tzinfo=CST), datetime(2026, 5, 3, 15, tzinfo=CST))
    hours = [(datetime(2026, 5, 3, h, tzinfo=CST), n) for h, n in ((10, 1), (11, 2), (12, 9), (13, 14), (14, 17))]
    pts = alertview.chart_points(alert, hours, now, usual=[1.0, 1.5, 2.0, 2.5, 3.0])
    assert pts["observed"] == [1, 2, 9, 14, 17]
    assert pts["expected"] == [None, None, 2.0, 2.0, 2.0]
    assert pts["window"] == ("2026-05-03T12:00:00+08:00", "2026-05-03T15:00:00+08:00")
    fig = duty.figures.alert_series(pts["starts"], pts["observed"], pts["expected"], pts["window"], pts["usual"])
    names = [t.name for t in fig.data]
    assert names == ["近7日同时段均值", "实际件数", "预期（模型常态）"]
    assert len(fig.layout.shapes) == 1 and fig.layout.xaxis.tickformat == "%H:00<br>%m-%d"
    # no expectation without a number
    assert alertview.expected_per_hour({**alert, "expected": None}) is None


def test_chart_window_of_a_closed_alert_ends_after_it():
    now = datetime(2026, 5, 10, 9, 30, tzinfo=CST)
    start, end = duty.chart_window({"ended_at": "2026-05-03T14:20:00+08:00"}, now)
    assert end == datetime(2026, 5, 4, 3, tzinfo=CST) and end - start == timedelta(hours=72)
    start, end = duty.chart_window({}, now)
    assert end == datetime(2026, 5, 10, 10, tzinfo=CST)


def test_silence_form_checks_and_durations():
    assert duty.silence_problem("140400", None, "+4h", "  ") == "请填写原因"
    assert "至少" in duty.silence_problem(None, None, "+4h", "节日促销")
    assert duty.silence_problem(None, "食品", "+4h", "节日促销") is None
    opts = duty.until_options(7)
    assert opts[0] == {"label": "1小时后", "value": "+1h"} and opts[-1]["value"] == "+168h"
    assert all(int(o["value"][1:-1]) <= 7 * 24 for o in opts)
    assert duty.until_options(10)[-1] == {"label": "10天后（最长）", "value": "+240h"}
    assert duty.zh_reason("cannot add silence: a silence lasts at most 7 days (静默最长7天)") == "静默最长7天"
    assert duty.zh_reason("cannot add silence: district '1' is not known") == "输入有误，请检查后重试"


# -- the browser --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(services, tmp_path_factory):
    """Worker, a little history, complaints of one county and industry, and the dashboard."""
    def seed(site):
        settings, r = site["settings"], site["redis"]
        now = datetime.now(settings.tz)
        n = demo.seed_history(settings, now, days=4, rate=0.005, last_year_hours=2)
        mine = make_complaints(12, prefix=f"dz{site['tag']}-", district_pool=["140403"], industry="食品",
                               when=now.isoformat(timespec="seconds"))
        asyncio.run(publish_raw(settings, mine))
        demo.wait_tallied(r, n + len(mine), 120)
        return {"mine": [c["id"] for c in mine]}

    with running_site(services, tmp_path_factory.mktemp("console"), db=DB, secret="console-test", users=USERS,
                      seed=seed) as s:
        yield s


@pytest.fixture
def browser(tmp_path):
    with headless(tmp_path) as b:
        yield b


def store_of(site):
    from alerts.store import AlertStore

    return AlertStore(site["redis"])


def sign_in(driver, url: str, name: str, next_path: str) -> None:
    site_sign_in(driver, url, name, USERS[name][1], next_path)


def clear(store) -> None:
    for a in store.list("open"):
        store.act(a["id"], "false_alarm", "system", note="清理")
    for s in store.silences():
        store.remove_silence(s["id"], "system")


def raise_three(store, now: datetime, industries=("食品", "价格", "旅游")) -> dict[str, str]:
    """Red in 潞州区 (食品: where the site's complaints are), orange in 小店区, yellow in 忻府区; a
    series of their own per test (a closed series cools down)."""
    def det(district, industry, score, observed, expected, minutes_ago):
        since = (now - timedelta(minutes=minutes_ago)).replace(minute=0, second=0, microsecond=0)
        return {"series": f"county:{district}:{industry}", "level": "county", "district": district,
                "industry": industry, "since": since.isoformat(), "at": now.isoformat(), "observed": observed,
                "expected": expected, "score": score, "threshold": 7.0, "method": "share-scan"}
    out = {}
    red, orange, yellow = industries
    for level, d in (("red", det("140403", red, 12.0, 60, 10.0, 50)),
                     ("orange", det("140105", orange, 40.0, 20, 5.0, 30)),
                     ("yellow", det("140922", yellow, 100.0, 8, 3.0, 10))):
        aid, outcome = store.raise_or_update(d, now)
        assert outcome == "new", outcome
        assert store.get(aid)["severity"] == level
        out[level] = aid
    return out


QUEUE_IDS = """return Array.from(document.querySelectorAll('#duty-queue tr.row')).map(function (tr) {
  return JSON.parse(tr.id).index; });"""
CHART = """var g = document.querySelector('#duty-chart .js-plotly-plot');
if (!g || !g.data || !document.getElementById('duty-chart-box') ||
    document.getElementById('duty-chart-box').style.display === 'none') { return null; }
return {names: g.data.map(function (t) { return t.name; }),
        y: g.data.map(function (t) { return Array.from(t.y || []); }),
        shapes: (g.layout.shapes || []).length, ticks: Array.from(g.querySelectorAll('.xtick text')).map(function (t) { return t.textContent; })};"""


def queue_ids(driver) -> list[str]:
    return driver.execute_script(QUEUE_IDS)


def click_row(driver, aid: str) -> None:
    wait_until(lambda: driver.execute_script("""var want = arguments[0], hit = false;
      Array.from(document.querySelectorAll('#duty-queue tr.row')).forEach(function (tr) {
        if (JSON.parse(tr.id).index === want) { tr.click(); hit = true; } }); return hit;""", aid), 10, f"row {aid}")


def choose(driver, dropdown_id: str, label: str) -> None:
    """Open a dropdown and click the option with this label (then close it)."""
    from selenium.webdriver.common.keys import Keys

    js_wait(driver, f"return !!document.getElementById('{dropdown_id}')", 10, f"{dropdown_id} drawn")   # loaded lazily
    driver.execute_script("document.getElementById(arguments[0]).click()", dropdown_id)
    js_wait(driver, "return document.querySelectorAll('.dash-dropdown-option').length > 0", 5, f"{dropdown_id} to open")
    search = driver.find_elements("css selector", "input.dash-dropdown-search")
    if search and search[0].is_displayed():       # long lists draw only the first options: search
        search[0].send_keys(label)
        js_wait(driver, """var want = arguments[0]; return Array.from(document.querySelectorAll('.dash-dropdown-option'))
          .some(function (e) { return e.textContent.trim() === want; });""".replace("arguments[0]", repr(label)),
                5, f"{label} among the options")
    clicked = driver.execute_script("""var opts = Array.from(document.querySelectorAll('.dash-dropdown-option'));
      var want = arguments[0];
      var o = opts.find(function (e) { return e.textContent.trim() === want; });
      if (o) { o.click(); return true; } return opts.map(function (e) { return e.textContent; });""", label)
    assert clicked is True, f"no option {label!r} in {dropdown_id}: {clicked}"
    driver.find_element("tag name", "body").send_keys(Keys.ESCAPE)


def shot(driver, name: str) -> None:
    """With CONSOLE_SHOTS=dir, a PNG of the page at this step (to look at the console by eye)."""
    where = os.environ.get("CONSOLE_SHOTS")
    if where:
        os.makedirs(where, exist_ok=True)
        driver.save_screenshot(os.path.join(where, f"{name}.png"))


def detail_alert(driver) -> str | None:
    return driver.execute_script("var d = document.querySelector('#duty-detail [data-alert]');"
                                 "return d ? d.getAttribute('data-alert') : null;")


def test_chart_url_and_complaint_ids(site, browser):
    driver, _ = browser
    store = store_of(site)
    clear(store)
    now = datetime.now(site["settings"].tz)
    three = raise_three(store, now)
    sign_in(driver, site["url"], "sunduty", "/duty")
    js_wait(driver, "return document.querySelectorAll('#duty-queue tr.row').length >= 3", 20, "the queue")
    # nothing selected: today's summary fills the right-hand side, with the open alerts by level
    js_wait(driver, "return !!document.getElementById('duty-summary')", 10, "the summary")
    shot(driver, "duty-summary")
    assert driver.execute_script("return document.querySelector('#duty-sum-red .n').textContent") == "1"
    assert driver.execute_script("return document.querySelector('#duty-sum-orange .n').textContent") == "1"

    click_row(driver, three["red"])
    wait_until(lambda: detail_alert(driver) == three["red"], 15, "the red alert's detail")
    wait_until(lambda: driver.current_url.endswith(f"/duty?alert={three['red']}"), 5, "the URL to follow")
    chart = wait_until(lambda: driver.execute_script(CHART), 15, "the chart")
    assert "实际件数" in chart["names"] and "预期（模型常态）" in chart["names"], chart["names"]
    obs = chart["y"][chart["names"].index("实际件数")]
    exp = chart["y"][chart["names"].index("预期（模型常态）")]
    assert len(obs) == 72
    assert obs[-1] >= 12, f"the site's 12 complaints of 潞州区·食品 this hour: {obs[-6:]}"
    rate = alertview.expected_per_hour(store.get(three["red"]))
    window = [v for v in exp if v is not None]
    assert window and all(v == pytest.approx(rate, abs=1e-3) for v in window)
    assert exp[0] is None                     # outside the alarm window: no expectation drawn
    assert chart["shapes"] >= 1               # the alarm window, shaded
    assert chart["ticks"] and not any(c.isalpha() and c.isascii() for t in chart["ticks"] for c in t), chart["ticks"]
    shot(driver, "duty-selected")

    # the drill-down shows each complaint's id, and it is one the site published
    js_wait(driver, "return document.querySelectorAll('#duty-complaints td.cid').length > 0", 15, "complaint ids")
    cids = driver.execute_script("return Array.from(document.querySelectorAll('#duty-complaints td.cid'))"
                                 ".map(function (e) { return e.textContent; });")
    assert set(cids) & set(site["mine"]), cids[:5]

    # another row: the URL follows; the browser's back button returns to the first alert
    click_row(driver, three["orange"])
    wait_until(lambda: driver.current_url.endswith(f"?alert={three['orange']}"), 10, "the URL to follow again")
    wait_until(lambda: detail_alert(driver) == three["orange"], 15, "the orange alert's detail")
    driver.back()
    wait_until(lambda: detail_alert(driver) == three["red"], 15, "back to the red alert")

    # a fresh load of /duty?alert=<id> selects it (detail and the queue row)
    driver.get(f"{site['url']}/duty?alert={three['yellow']}")
    wait_until(lambda: detail_alert(driver) == three["yellow"], 20, "the linked alert")
    js_wait(driver, "return !!document.querySelector('#duty-queue tr.row.selected')", 10, "the row selected")
    sel = driver.execute_script("return JSON.parse(document.querySelector('#duty-queue tr.row.selected').id).index")
    assert sel == three["yellow"]

    # 返回概况: no selection, the URL drops the id, the summary is back
    driver.execute_script("document.getElementById('duty-deselect').click()")
    wait_until(lambda: driver.current_url.rstrip("/").endswith("/duty"), 10, "the URL without an alert")
    js_wait(driver, "return !!document.getElementById('duty-summary')", 10, "the summary again")


def test_filters_and_closed_alerts(site, browser):
    driver, _ = browser
    store = store_of(site)
    clear(store)
    now = datetime.now(site["settings"].tz)
    three = raise_three(store, now, ("商超", "汽车", "房地产"))
    mine = set(three.values())
    sign_in(driver, site["url"], "sunduty", "/duty")
    wait_until(lambda: mine <= set(queue_ids(driver)), 20, "the three alerts in the queue")

    choose(driver, "duty-severity", "红色预警")
    wait_until(lambda: set(queue_ids(driver)) & mine == {three["red"]}, 10, "only the red alert")
    choose(driver, "duty-severity", "橙色预警")      # a second level: both kept
    wait_until(lambda: set(queue_ids(driver)) & mine == {three["red"], three["orange"]}, 10, "red and orange")
    driver.execute_script("document.querySelector('#duty-severity .dash-dropdown-clear').click()")
    wait_until(lambda: mine <= set(queue_ids(driver)), 10, "all levels again")

    choose(driver, "duty-district", "长治市")           # a city: 潞州区 is under it
    wait_until(lambda: set(queue_ids(driver)) & mine == {three["red"]}, 10, "only 长治市's alert")
    driver.execute_script("document.querySelector('#duty-district .dash-dropdown-clear').click()")
    wait_until(lambda: mine <= set(queue_ids(driver)), 10, "all districts again")

    choose(driver, "duty-industry", "汽车")
    wait_until(lambda: set(queue_ids(driver)) & mine == {three["orange"]}, 10, "only 汽车")
    driver.execute_script("document.querySelector('#duty-industry .dash-dropdown-clear').click()")
    wait_until(lambda: mine <= set(queue_ids(driver)), 10, "all industries again")

    # closing an alert: it leaves 在办 and is listed under 已关闭 (and under 全部)
    store.act(three["yellow"], "false_alarm", "sunduty", note="重复来电")
    wait_until(lambda: three["yellow"] not in queue_ids(driver), 10, "the closed alert out of the open queue")
    choose(driver, "duty-state", "已关闭")
    wait_until(lambda: three["yellow"] in queue_ids(driver) and three["red"] not in queue_ids(driver), 10,
               "the closed list")
    state = driver.execute_script("""var want = arguments[0];
        var tr = Array.from(document.querySelectorAll('#duty-queue tr.row')).find(
        function (t) { return JSON.parse(t.id).index === want; }); return tr ? tr.textContent : null;""",
                                  three["yellow"])
    assert "误报" in state and "办结" in state, state
    choose(driver, "duty-state", "全部")
    wait_until(lambda: mine <= set(queue_ids(driver)), 10, "open and closed together")
    # the summary counts it among today's closed, with the officer by display name
    js_wait(driver, "return !!document.getElementById('duty-summary')", 10, "the summary")
    wait_until(lambda: "孙值班" in (driver.execute_script(
        "var e = document.getElementById('duty-sum-closed-list'); return e ? e.textContent : '';") or ""),
        10, "the closed alert in the summary with who closed it")


# Every cell of the table inside its own box and inside the list's box, the list not scrolling sideways.
FITS = """var box = document.getElementById(arguments[0]), sel = arguments[1];
var b = box.getBoundingClientRect(), out = [];
Array.from(box.querySelectorAll(sel)).forEach(function (c) {
  var r = c.getBoundingClientRect();
  if (r.width > 0 && (c.scrollWidth > c.clientWidth + 1 || r.right > b.right + 1 || r.left < b.left - 1)) {
    out.push(c.textContent + ' (' + c.scrollWidth + '>' + c.clientWidth + ')'); } });
if (box.scrollWidth > box.clientWidth + 1) { out.push('list ' + box.scrollWidth + '>' + box.clientWidth); }
return out;"""


def test_the_queue_fits_wide_counts_long_places_and_clocks(site, browser):
    """15344/9257.7 beside 太原市尖草坪区 · 一般消费纠纷 and an overdue clock of hours: every column,
    时限 last, fits the console's left half at 1920x1080 (it was clipped)."""
    driver, _ = browser
    store = store_of(site)
    clear(store)
    now = datetime.now(site["settings"].tz)
    long_ago = now - timedelta(hours=20, minutes=3)

    def det(district, industry, observed, expected, since, **kw):
        return {"series": kw.pop("series", f"county:{district}:{industry}"), "level": kw.pop("level", "county"),
                "district": district, "industry": industry, "since": since.replace(minute=0, second=0,
                microsecond=0).isoformat(), "at": since.isoformat(), "observed": observed, "expected": expected,
                "score": 99.0, "threshold": 7.0, "method": "share-scan", **kw}
    ids_ = [store.raise_or_update(det("140108", "一般消费纠纷", 15344, 9257.73, long_ago), long_ago)[0],
            store.raise_or_update(det("140107", "医疗器械", 12873, 0.000356, long_ago), long_ago)[0],
            store.raise_or_update(det("140000", "*", 23456, 12345.6, long_ago, series="phrase:140000:价格不合理|更换难",
                                      level="province", phrase="价格不合理|更换难", method="phrase-burst"), long_ago)[0]]
    assert all(ids_), ids_
    sign_in(driver, site["url"], "sunduty", "/duty")
    wait_until(lambda: set(ids_) <= set(queue_ids(driver)), 20, "the wide alerts in the queue")
    text = driver.execute_script("return document.getElementById('duty-queue').textContent")
    assert "15344/9257.7" in text and "12873/<0.001" in text and "超时" in text, text
    shot(driver, "duty-wide-queue")
    bad = driver.execute_script(FITS, "duty-queue", "th, td")
    assert not bad, bad[:10]
    # the time limit column is drawn whole: its right edge inside the list
    assert driver.execute_script("""var q = document.getElementById('duty-queue').getBoundingClientRect();
      return Array.from(document.querySelectorAll('#duty-queue td:last-child')).every(function (c) {
        var r = c.getBoundingClientRect(); return r.width > 40 && r.right <= q.right + 1; });""")
    clear(store)


def test_head_creates_and_lifts_a_silence(site, browser):
    driver, _ = browser
    store = store_of(site)
    clear(store)
    sign_in(driver, site["url"], "zhouhead", "/duty")
    js_wait(driver, "return !!document.getElementById('duty-silence-form')", 20, "the silence form")
    js_wait(driver, "return !!document.getElementById('duty-silence-none')", 10, "no silences yet")
    # refused without a reason
    choose(driver, "duty-silence-district", "长治市")
    driver.execute_script("document.getElementById('duty-silence-add').click()")
    js_wait(driver, "var e = document.getElementById('duty-silence-result'); return e && /请填写原因/.test(e.textContent)",
            10, "the missing reason")
    assert store.silences() == []

    choose(driver, "duty-silence-industry", "食品")
    choose(driver, "duty-silence-until", "1天后")
    driver.find_element("id", "duty-silence-reason").send_keys("节日促销，已知情况")
    t0 = datetime.now(site["settings"].tz)
    driver.execute_script("document.getElementById('duty-silence-add').click()")
    js_wait(driver, "return !!document.getElementById('duty-silence-done')", 10, "the silence added")
    sils = store.silences()
    assert len(sils) == 1
    s = sils[0]
    assert (s["district"], s["industry"], s["reason"], s["by"]) == ("140400", "食品", "节日促销，已知情况", "周局长")
    until = datetime.fromisoformat(s["until"])
    assert timedelta(hours=23, minutes=58) < until - t0 < timedelta(hours=24, minutes=2)
    js_wait(driver, f"return !!document.querySelector('[data-silence=\"{s['id']}\"] button.lift')", 10, "the silence listed")
    text = driver.execute_script(f"return document.querySelector('[data-silence=\"{s['id']}\"]').textContent")
    assert "长治市·食品" in text and "节日促销" in text and "周局长" in text, text

    shot(driver, "duty-silence")
    driver.execute_script(f"document.querySelector('[data-silence=\"{s['id']}\"] button.lift').click()")
    js_wait(driver, "return !!document.getElementById('duty-silence-lifted')", 10, "the silence lifted")
    js_wait(driver, "return !!document.getElementById('duty-silence-none')", 10, "the list empty again")
    assert store.silences() == []
    gone = [x for x in store.silences(active_only=False) if x["id"] == s["id"]][0]
    assert gone["removed_by"] == "周局长"


def test_duty_officer_sees_silences_read_only(site, browser):
    driver, _ = browser
    store = store_of(site)
    clear(store)
    sid = store.add_silence(district="140105", until="+2h", reason="设备检修", by="周局长")
    try:
        sign_in(driver, site["url"], "sunduty", "/duty")
        js_wait(driver, f"return !!document.querySelector('[data-silence=\"{sid}\"]')", 20, "the silence listed")
        assert driver.execute_script("return document.getElementById('duty-silence-form')") is None
        assert driver.execute_script("return document.querySelectorAll('#duty-silence-list button').length") == 0
        assert driver.execute_script("return !!document.getElementById('duty-silence-readonly')")
        assert "设备检修" in driver.execute_script("return document.getElementById('duty-silence-list').textContent")
        # a forged 解除 from this session is refused by the server
        ok = forged_lift(driver, site["url"], sid)
        assert ok, "the forged request should reach the callback"
        assert [x["id"] for x in store.silences()] == [sid]
    finally:
        store.remove_silence(sid, "system")


def forged_lift(driver, url: str, sid: str) -> bool:
    """POST the 解除 callback by hand from the signed-in page (as a crafted request would)."""
    body = {"inputs": [[{"id": {"index": sid, "type": "duty-silence-lift"}, "property": "n_clicks", "value": 1}]],
            "state": [{"id": "duty-silence-version", "property": "data", "value": 0}],
            "changedPropIds": [f'{{"index":"{sid}","type":"duty-silence-lift"}}.n_clicks']}
    res = driver.execute_async_script("""var done = arguments[arguments.length - 1];
      var body = arguments[0];
      fetch('/_dash-dependencies').then(function (r) { return r.json(); }).then(function (deps) {
        var cb = deps.find(function (d) { return d.output.indexOf('duty-silence-result.children@') >= 0; });
        body.output = cb.output;
        body.outputs = cb.output.replace(/^\\.\\./, '').replace(/\\.\\.$/, '').split('...').map(function (o) {
          var i = o.lastIndexOf('.'); return {id: o.slice(0, i), property: o.slice(i + 1).split('@')[0]}; });
        var csrf = (document.cookie.match(/_csrf_token=([^;]+)/) || [])[1] || '';
        return fetch('/_dash-update-component', {method: 'POST', headers: {'Content-Type': 'application/json',
          'X-CSRFToken': decodeURIComponent(csrf)}, body: JSON.stringify(body)});
      }).then(function (r) { return r.text().then(function (t) { done([r.status, t]); }); })
        .catch(function (e) { done([0, String(e)]); });""", body)
    status, text = res
    return status == 200 and "无权解除静默" in text


def test_soak_slope_and_summary():
    from dashboard import soak

    flat = [(t * 60.0, 100.0 + (0.5 if t % 2 else 0.0), 40.0) for t in range(20)]
    s = soak.summary(flat)
    assert s["start_mb"] == 140.0 and s["peak_mb"] == 140.5
    assert abs(s["slope_half_mb_h"]) < 3            # noise around a level: no trend
    rising = [(t * 60.0, 80.0 + t * 3.28, 40.0) for t in range(26)]     # 87 -> 169 MB in 25 min, as reported
    r = soak.summary(rising)
    assert r["end_mb"] - r["start_mb"] == pytest.approx(82, abs=0.1)
    assert r["slope_mb_h"] == pytest.approx(196.8, abs=0.1) and r["slope_half_mb_h"] == pytest.approx(196.8, abs=0.1)
    assert soak.slope([(0, 1.0), (60, 2.0)]) is None
