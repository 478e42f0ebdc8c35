"""Warning levels, Chinese-only screens and type read across a room, in a real headless Chromium
against the real broker, redis-server, faust worker and dashboard server.

The site here has its own users with display names, as ``make run`` makes them (值班员, 局长),
so that a login never reaches the screen.
"""
from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timedelta

import pytest
import redis

from dashboard import demo
from tests.conftest import make_complaints, publish_raw, wait_until
from tests.dashboard_site import assert_clean, headless, js_wait, running_site
from tests.dashboard_site import sign_in as site_sign_in

USERS = {"zhaoduty": ("duty", "duty-password-1", "赵值班"), "qianhead": ("head", "head-password-1", "钱局长")}
COLOURS = {"red": "rgb(229, 57, 53)", "orange": "rgb(251, 140, 0)", "yellow": "rgb(253, 216, 53)",
           "blue": "rgb(30, 136, 229)"}
BANNER_ON = "!!document.querySelector('#wall-banner.on')"
TAGS = {"red": "红色预警", "orange": "橙色预警", "yellow": "黄色预警", "blue": "蓝色预警"}

# Latin letters a screen may show, each a proper name a user knows it by:
#   PNG, XLSX, CSV  the export buttons name the file format the download will have
#   4S (店)         a car dealership's usual Chinese name, in merchant names as complainants write them
LATIN_ALLOWED = {"PNG", "XLSX", "CSV"}
LATIN_ALLOWED_IN = ("4S店",)


@pytest.fixture(scope="module")
def site(services, tmp_path_factory):
    """Worker, a little history and the dashboard server on a Redis database of their own."""
    def seed(site):
        n = demo.seed_history(site["settings"], datetime.now(site["settings"].tz), days=8, rate=0.01, last_year_hours=26)
        demo.wait_tallied(site["redis"], n, 120)

    with running_site(services, tmp_path_factory.mktemp("levels"), db=7, secret="levels-test", users=USERS,
                      seed=seed) as s:
        yield s


@pytest.fixture
def browser(tmp_path):
    with headless(tmp_path) as b:
        b[0].set_script_timeout(120)     # reading every text node of a screen on a loaded machine
        yield b


def store_of(site):
    from alerts.store import AlertStore

    return AlertStore(site["redis"])


def sign_in(driver, url: str, name: str, next_path: str) -> None:
    site_sign_in(driver, url, name, USERS[name][1], next_path)


def clear_alerts(store) -> None:
    for a in store.list("open"):
        store.act(a["id"], "false_alarm", "system", note="清理")


def three_alerts(store, now: datetime, industries=("食品", "价格", "旅游")) -> dict[str, str]:
    """Red (oldest, lowest score: red by its ratio), orange, and yellow (newest, highest score):
    the banner must pick by level first."""
    def det(district, industry, score, observed, expected, minutes_ago):
        since = now - timedelta(minutes=minutes_ago)
        return {"series": f"county:{district}:{industry}", "level": "county", "district": district,
                "industry": industry, "since": since.isoformat(), "at": now.isoformat(), "observed": observed,
                "expected": expected, "score": score, "threshold": 7.0, "method": "share-scan"}
    out = {}
    red, orange, yellow = industries                  # a series of its own per test (cooldown)
    for level, d, opened in (("red", det("140403", red, 12.0, 60, 10.0, 50), now - timedelta(minutes=40)),
                             ("orange", det("140105", orange, 40.0, 20, 5.0, 30), now - timedelta(minutes=20)),
                             ("yellow", det("140922", yellow, 100.0, 8, 3.0, 10), now - timedelta(minutes=5))):
        aid, outcome = store.raise_or_update(d, opened)
        assert outcome == "new", outcome
        assert store.get(aid)["severity"] == level
        out[level] = aid
    return out


# -- JavaScript run in the page ---------------------------------------------------------------

# Every visible piece of text (HTML and SVG, placeholders of visible inputs) with its font size.
VISIBLE_TEXT = """
var out = [];
// each element's own style is read once (memo), not once for every text node below it: an open
// dropdown on a loaded machine made the old walk up the ancestors run past the script timeout
var memo = new Map();
function styled(e) {
  if (!e || e.nodeType !== 1) { return true; }
  if (memo.has(e)) { return memo.get(e); }
  var cs = getComputedStyle(e);
  var v = !(cs.display === 'none' || cs.visibility === 'hidden' || parseFloat(cs.opacity) === 0) && styled(e.parentElement);
  memo.set(e, v);
  return v;
}
function shown(el) {
  if (!styled(el)) { return false; }
  var r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0;
}
var w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (var n = w.nextNode(); n; n = w.nextNode()) {
  var t = n.nodeValue.replace(/\\s+/g, ' ').trim();
  var el = n.parentElement;
  if (!t || !el || /^(SCRIPT|STYLE|NOSCRIPT|TITLE)$/.test(el.tagName) || !shown(el)) { continue; }
  out.push({text: t, size: parseFloat(getComputedStyle(el).fontSize), tag: el.tagName,
            cls: String(el.getAttribute('class') || ''), id: el.id || (el.closest('[id]') || {}).id || ''});
}
document.querySelectorAll('input, textarea').forEach(function (i) {
  if (i.placeholder && shown(i) && !i.value) {
    out.push({text: i.placeholder, size: parseFloat(getComputedStyle(i).fontSize), tag: 'placeholder', cls: '', id: i.id});
  }
});
return out;
"""


def latin_words(items: list[dict]) -> list[tuple[str, str]]:
    """(word, where) for each run of Latin letters that is neither a unit nor an allowed name."""
    import re

    bad = []
    for it in items:
        if it["tag"] == "TD" and "cid" in it["cls"].split():
            continue          # a complaint's id as its channel issued it (data, not a UI string)
        text = it["text"]
        for name in LATIN_ALLOWED_IN:
            text = text.replace(name, "")
        for m in re.finditer(r"[A-Za-z]+", text):
            word = m.group()
            if word in LATIN_ALLOWED:
                continue
            # one or two letters written into a Chinese word (T恤, U盘, 4S店): complaint vocabulary, as
            # the topics read it from the data, not a UI string
            if len(word) <= 2 and re.match(r"[\u4e00-\u9fff]", text[m.end():m.end() + 1]):
                continue
            # a number's unit in a chart's axis ("1.2k", "3M")
            if re.fullmatch(r"[kKM]", word) and re.search(r"\d" + word + r"\b", it["text"]):
                continue
            bad.append((word, f"{it['tag']}#{it['id']}.{it['cls'][:40]}: {it['text'][:60]}"))
    return bad


def close_popups(driver, still_open: str) -> None:
    """Close an open dropdown or calendar with Escape, as a user does."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    time.sleep(0.3)


def open_dropdowns_and_pickers(driver) -> list[dict]:
    """Open each dropdown and date picker in turn and read what it shows."""
    seen = []
    opened = {"dropdowns": 0, "searchable": 0, "search": 0, "calendars": 0, "months": 0}
    n = driver.execute_script("return document.querySelectorAll('.dash-dropdown').length")
    is_open = "return !!document.querySelector('.dash-dropdown-content, .dash-dropdown-search, [role=listbox]')"
    for i in range(n):
        driver.execute_script("document.querySelectorAll('.dash-dropdown')[arguments[0]].click()", i)
        wait_until(lambda: driver.execute_script(is_open), 20, "the dropdown to open")
        now_seen = driver.execute_script(VISIBLE_TEXT)
        opened["dropdowns"] += 1
        # a dropdown with a search box (state and level filters have none) names it 搜索
        opened["searchable"] += bool(driver.execute_script(
            "return !!document.querySelector('.dash-dropdown-content input, .dash-dropdown-search')"))
        opened["search"] += any(i["tag"] == "placeholder" and i["text"] == "搜索" for i in now_seen)
        seen += now_seen
        close_popups(driver, is_open)
    pickers = driver.execute_script("return document.querySelectorAll('.dash-datepicker').length")
    calendar_open = ("return Array.from(document.querySelectorAll('.dash-datepicker-calendar'))"
                     ".some(function (e) { return e.getBoundingClientRect().height > 0; })")
    for i in range(pickers):
        driver.find_elements("css selector", ".dash-datepicker .dash-datepicker-input-wrapper")[i].click()
        wait_until(lambda: driver.execute_script(calendar_open), 20, "the calendar")
        now_seen = driver.execute_script(VISIBLE_TEXT)
        opened["calendars"] += 1
        # the weekdays' row in Chinese (一 … 日, not Mo … Su); a two-month calendar names its months 2026年12月
        texts = {i["text"] for i in now_seen}
        opened["months"] += {"一", "六", "日"} <= texts
        seen += now_seen
        close_popups(driver, calendar_open)
    # what was opened was read: each dropdown's search box, each calendar's weekdays in Chinese
    assert opened["dropdowns"] == n and opened["search"] == opened["searchable"] > 0, opened
    assert opened["months"] == opened["calendars"] == pickers, opened
    return seen


# -- plain functions ------------------------------------------------------------------------------

def _texts(component) -> list[str]:
    """Every string in a Dash component tree."""
    out = []
    if isinstance(component, str):
        return [component]
    if isinstance(component, (list, tuple)):
        for c in component:
            out += _texts(c)
        return out
    kids = getattr(component, "children", None)
    return _texts(kids) if kids is not None else out


def test_banner_picks_level_then_score_then_newest_and_counts_every_other_open_alert():
    from dashboard.wall import banner

    def a(i, sev, score, opened, state="acknowledged"):
        return {"id": i, "severity": sev, "score": score, "opened_at": opened, "state": state, "_clocks": [],
                "district_name": f"地{i}", "industry": "食品", "observed": 10, "expected": 2.0}
    alerts = [a("y", "yellow", 500, "2025-03-15T10:09:00+08:00", "new"), a("r1", "red", 20, "2025-03-15T10:00:00+08:00"),
              a("r2", "red", 20, "2025-03-15T10:05:00+08:00"), a("o", "orange", 90, "2025-03-15T10:08:00+08:00")]
    children, cls = banner(alerts)
    assert cls == "banner on sev-red flash"                   # flashes: one alert is still new
    assert children[1].__dict__["data-alert"] == "r2" and "红色预警" in _texts(children) and "另有3条在办" in _texts(children)
    children, cls = banner([x for x in alerts if x["state"] != "new"])
    assert cls == "banner on sev-red" and "另有2条在办" in _texts(children)
    children, cls = banner([alerts[0]])
    assert cls == "banner on sev-yellow flash" and "黄色预警" in _texts(children) and not any("另有" in t for t in _texts(children))
    assert banner([]) == ([], "banner")


def test_rising_list_has_no_orphan_note():
    from dashboard.wall import rising_items

    rising = [{"topic": f"短语{i}", "count": 10 + i, "expected": 1.0, "rising": True} for i in range(5)]
    topics = {"baseline_ok": True, "phrases": {"by_burst": rising, "by_count": rising + [{"topic": "其他", "count": 3}]}}
    texts = _texts(rising_items(topics, rows=6))
    assert "其余按件数" not in texts                            # one row left: no note with nothing under it
    texts = _texts(rising_items(topics, rows=7))
    assert "其余按件数" in texts and texts.index("其余按件数") < texts.index("其他")


def test_small_usual_counts_are_not_shown_as_zero():
    from dashboard.alertview import fmt_expected, headline

    assert [fmt_expected(x) for x in (4.24, 0.04, 0.004, 0.0012, 0.0004, 0, None)] == \
        ["4.2", "0.04", "0.004", "0.0012", "<0.001", "0", ""]
    assert headline({"district_name": "潞州区", "city_name": "长治市", "industry": "食品", "observed": 48,
                     "expected": 0.04}) == "长治市潞州区 · 食品 48件（常态 0.04）"


def test_officers_and_channels_by_their_chinese_names():
    from dashboard.duty import actor, channel_label

    names = {"zhaoduty": "赵值班"}
    assert [actor(b, names) for b in ("system", "zhaoduty", None)] == ["系统", "赵值班", ""]
    assert [channel_label(c) for c in ("mini-program", "letter", "visit", "other", "12315")] == \
        ["小程序", "来信", "来访", "其他", "12315"]


def test_wall_figures_draw_no_type_under_18px():
    from dashboard import figures

    rows = [{"code": f"1404{i:02d}", "name": f"县{i}", "count": i, "expected": 1.0, "score": i / 2} for i in range(20)]
    figs = [figures.industry_bars([(f"行业{i}", i + 1) for i in range(12)]),
            figures.trend([f"{h:02d}:00" for h in range(24)], list(range(24)), [0] * 24),
            figures.ranked_bars(rows, "count", None), figures.empty("暂无数据")]
    sizes = []
    for f in figs:
        d = f.to_plotly_json()
        stack = [d]
        while stack:
            x = stack.pop()
            if isinstance(x, dict):
                sizes += [v["size"] for k, v in x.items() if k in ("font", "tickfont", "textfont")
                          and isinstance(v, dict) and isinstance(v.get("size"), (int, float))]
                stack += list(x.values())
            elif isinstance(x, (list, tuple)):
                stack += list(x)
    assert sizes and min(sizes) >= 18, sorted(sizes)[:5]
    bars = figures.ranked_bars(rows, "count", None)
    assert len(bars.data[0].y) == figures.RANKED_MAX and "前14名" in bars.layout.title.text
    assert figures.industry_bars([(f"行业{i}", i + 1) for i in range(12)]).layout.yaxis.dtick == 1


# -- in the browser -------------------------------------------------------------------------------

def test_levels_in_their_colours_and_the_banner_shows_the_most_urgent(site, browser):
    driver, rec = browser
    store = store_of(site)
    clear_alerts(store)
    now = datetime.now(site["settings"].tz)
    ids = three_alerts(store, now)
    driver.get(site["url"] + "/wall?rotate=0")
    js_wait(driver, f"return {BANNER_ON}", 30, "the banner")

    top, others = None, None
    from alerts.severity import most_urgent

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:   # the worker's own detector may open alerts meanwhile
        opened = store.list("open")
        want, n_others = most_urgent(opened)
        top = driver.execute_script("var e = document.querySelector('#banner-text'); return e && e.dataset.alert")
        others = driver.execute_script("var e = document.getElementById('banner-more'); return e && e.textContent")
        if top == want["id"] and others == f"另有{len(opened) - 1}条在办" and len(store.list("open")) == len(opened):
            break
        time.sleep(0.3)
    assert top == ids["red"] == want["id"], "level first: the oldest, lowest-scored red beats a newer orange and yellow"
    assert others == f"另有{len(opened) - 1}条在办"
    banner = driver.find_element("id", "wall-banner")
    assert TAGS["red"] in banner.text and "食品" in banner.text
    assert "sev-red" in banner.get_attribute("class") and "flash" in banner.get_attribute("class")
    # the banner's stripes are the level's colour
    bg = driver.execute_script("return getComputedStyle(document.getElementById('wall-banner')).backgroundImage")
    assert "229, 57, 53" in bg, bg
    # the ticker: each alert with its level badge in its colour, most urgent first
    js_wait(driver, "return document.querySelectorAll('#wall-ticker .sev-badge').length >= 3", 10, "the ticker")
    badges = driver.execute_script(
        "return Array.from(document.querySelectorAll('#wall-ticker .sev-badge')).map(function (b) {"
        " return [b.textContent, getComputedStyle(b).backgroundColor]; })")
    mine = [b for b in badges if b[0] in ("红色", "橙色", "黄色")]
    assert mine[:3] == [["红色", COLOURS["red"]], ["橙色", COLOURS["orange"]], ["黄色", COLOURS["yellow"]]], badges

    # most urgent first means score second: a second red with a higher score takes the banner
    red2, _ = store.raise_or_update({"series": "county:140581:汽车", "level": "county", "district": "140581",
                                     "industry": "汽车", "since": (now - timedelta(minutes=30)).isoformat(),
                                     "at": now.isoformat(), "observed": 90, "expected": 4.0, "score": 300.0,
                                     "threshold": 7.0}, now - timedelta(minutes=30))
    assert store.get(red2)["severity"] == "red"
    js_wait(driver, f"return document.querySelector('#banner-text').dataset.alert == '{red2}'", 10, "the higher red")
    wait_until(lambda: driver.execute_script("return document.getElementById('banner-more').textContent")
               == f"另有{len(store.list('open')) - 1}条在办", 15, "the true count of the others")

    # the duty console: the queue's level column and the detail in the level's colour
    sign_in(driver, site["url"], "zhaoduty", f"/duty?alert={ids['orange']}")
    js_wait(driver, "return document.querySelectorAll('#duty-queue tr.row').length >= 4", 20, "the queue")
    rows = driver.execute_script(
        "return Array.from(document.querySelectorAll('#duty-queue tr.row')).map(function (r) {"
        " var b = r.querySelector('.sev-badge'); return [r.textContent, b.textContent, getComputedStyle(b).backgroundColor]; })")
    for level, place in (("red", "潞州区"), ("orange", "小店区"), ("yellow", "五台县")):
        row = next(r for r in rows if place in r[0])
        assert row[1:] == [{"red": "红色", "orange": "橙色", "yellow": "黄色"}[level], COLOURS[level]], row
    js_wait(driver, "return !!document.getElementById('duty-detail-level')", 10, "the detail")
    level = driver.execute_script("var e = document.getElementById('duty-detail-level');"
                                  "return [e.textContent, getComputedStyle(e).backgroundColor]")
    assert level == [TAGS["orange"], COLOURS["orange"]]
    # acknowledged: the banner stays on the most urgent open alert and stops flashing once none is new
    for a in store.list("open"):
        store.act(a["id"], "ack", "zhaoduty")
    driver.get(site["url"] + "/wall?rotate=0")
    try:
        js_wait(driver, "return !!document.querySelector('#wall-banner.on:not(.flash) #banner-text')", 15, "a calm banner")
    except AssertionError:
        states = [(x["id"], x["state"], x["series"]) for x in store.list("open")]
        raise AssertionError(f"{driver.find_element('id', 'wall-banner').get_attribute('class')} {states}") from None
    assert "已确认" in driver.find_element("id", "banner-text").text
    clear_alerts(store)
    js_wait(driver, "return !!document.querySelector('#wall-banner:not(.on)')", 15, "no banner")


def test_no_latin_letters_and_no_text_under_18px_on_the_three_screens(site, browser):
    driver, rec = browser
    store = store_of(site)
    clear_alerts(store)
    now = datetime.now(site["settings"].tz)
    # the alerts are raised before their complaints are published: three complaints of a county's
    # 药品 in a quiet hour are a surge to the worker's own detector too (its series' usual count is
    # ~0.04 an hour), which may raise county:140403:药品 first and turn this raise into an update; raised
    # first, the worker's detection can only update the test's red alert
    ids = three_alerts(store, now, ("药品", "汽车", "产品质量"))
    # complaints behind the red alert, from the mini-program channel (shown as 小程序)
    marker = uuid.uuid4().hex[:6]
    before = demo.accepted(site["redis"])
    complaints = make_complaints(3, prefix=f"l{marker}-", district_pool=["140403"], industry="药品",
                                 channel="mini-program", text="药店卖过期药品，店员不给退款")
    asyncio.run(publish_raw(site["settings"], complaints, per_message=50))
    demo.wait_tallied(site["redis"], before + len(complaints), 30)
    store.act(ids["red"], "ack", "zhaoduty")                   # the history names the officer
    found = {}
    driver.get(site["url"] + "/wall?rotate=0")
    js_wait(driver, "return !!document.getElementById('kpi-合计') && "
                    f"{BANNER_ON} && "
                    "document.querySelectorAll('#wall-trend .xtick').length > 0", 30, "the wall")
    js_wait(driver, "return document.getElementById('wall-rising').textContent.indexOf('计算中') < 0", 60, "the phrases")
    found["/wall"] = driver.execute_script(VISIBLE_TEXT)
    sign_in(driver, site["url"], "zhaoduty", f"/duty?alert={ids['red']}")
    js_wait(driver, "return !!document.getElementById('duty-detail-title') && "
                    "document.getElementById('duty-history').textContent.indexOf('赵值班') >= 0", 20, "the detail")
    js_wait(driver, "return document.getElementById('duty-complaints').textContent.indexOf('小程序') >= 0", 20,
            "the complaints, their channel in Chinese")
    found["/duty"] = driver.execute_script(VISIBLE_TEXT) + open_dropdowns_and_pickers(driver)
    history = driver.find_element("id", "duty-history").text
    assert "赵值班" in history and "系统" in history and "zhaoduty" not in history
    driver.get("about:blank")        # /duty stops polling before its session goes (no 403 in the console)
    driver.delete_all_cookies()
    sign_in(driver, site["url"], "qianhead", "/review?period=day")
    js_wait(driver, "return document.querySelectorAll('#review-compare tr').length == 5", 60, "the comparison")
    found["/review"] = driver.execute_script(VISIBLE_TEXT) + open_dropdowns_and_pickers(driver)
    # the cloud's smallest word as the card shows the PNG
    from dashboard.review import CLOUD_SCREEN_MIN_FONT

    js_wait(driver, "var i = document.querySelector('#review-cloud img'); return !!(i && i.complete && i.naturalWidth > 0)",
            120, "the review's cloud")
    w, nw = driver.execute_script("var i = document.querySelector('#review-cloud img'); return [i.clientWidth, i.naturalWidth];")
    assert CLOUD_SCREEN_MIN_FONT * w / nw >= 18, f"the review cloud's smallest word is {CLOUD_SCREEN_MIN_FONT * w / nw:.1f} px"
    bad = {page: latin_words(items) for page, items in found.items()}
    assert not any(bad.values()), {p: b[:15] for p, b in bad.items() if b}
    # nor any text under 18 px at 1080p on the console and the review (open dropdowns and calendars too)
    small = {page: sorted({(i["size"], i["tag"], i["id"], i["text"][:20]) for i in items if i["size"] < 18})[:15]
             for page, items in found.items()}
    assert not any(small.values()), small
    clear_alerts(store)


def test_no_text_under_18px_on_the_wall_at_1080p_with_the_banner_up(site, browser):
    driver, rec = browser
    store = store_of(site)
    clear_alerts(store)
    three_alerts(store, datetime.now(site["settings"].tz), ("医疗器械", "商超", "房地产"))
    driver.get(site["url"] + "/wall?rotate=0")
    js_wait(driver, "return !!document.getElementById('kpi-合计') && "
                    f"{BANNER_ON} && "
                    "document.querySelectorAll('#wall-trend .xtick').length > 0 && "
                    "document.querySelectorAll('#wall-industry .ytick').length > 0", 30, "the wall")
    js_wait(driver, "return document.getElementById('wall-rising').textContent.indexOf('计算中') < 0", 60, "the phrases")
    import time

    time.sleep(2.5)                                       # a refresh with the banner's height in the layout
    items = driver.execute_script(VISIBLE_TEXT)
    svg = [i for i in items if i["tag"].lower() in ("text", "tspan")]
    assert len(svg) > 20, "the charts' SVG text is measured too"
    small = sorted((i for i in items if i["size"] < 18), key=lambda i: i["size"])
    assert not small, [(i["size"], i["tag"], i["id"], i["text"][:30]) for i in small[:20]]
    # every industry keeps its bar label, and none is cut off by the panel
    labels = driver.execute_script(
        "var p = document.querySelector('#wall-industry').getBoundingClientRect();"
        "return Array.from(document.querySelectorAll('#wall-industry .ytick text')).map(function (t) {"
        " var r = t.getBoundingClientRect(); return [t.textContent, r.top >= p.top - 1 && r.bottom <= p.bottom + 1]; })")
    bars = driver.execute_script("return document.querySelector('#wall-industry .js-plotly-plot').data[0].y.length")
    assert len(labels) == bars and all(inside for _, inside in labels), labels
    # the trend's first hour and the y axis' 0 do not touch
    gap = driver.execute_script(
        "var x = document.querySelector('#wall-trend .xtick text').getBoundingClientRect();"
        "var ys = Array.from(document.querySelectorAll('#wall-trend .ytick text'));"
        "var y0 = ys.find(function (t) { return t.textContent.trim() === '0'; });"
        "if (!y0) { return 99; } var y = y0.getBoundingClientRect();"
        "var dx = Math.max(x.left - y.right, y.left - x.right), dy = Math.max(x.top - y.bottom, y.top - x.bottom);"
        "return Math.max(dx, dy);")
    assert gap > 0, f"the first hour's label overlaps the 0 by {-gap:.1f} px"
    # the phrase rows: each shown whole inside its panel or not at all (never cut through)
    rows = driver.execute_script(
        "var p = document.getElementById('wall-rising').getBoundingClientRect();"
        "return Array.from(document.querySelectorAll('#wall-rising li')).map(function (li) {"
        " var r = li.getBoundingClientRect(); var across = r.left < p.right - 1;"
        " return [li.textContent, !across ? 'hidden' : (r.bottom <= p.bottom + 1 ? 'whole' : 'cut')]; })")
    assert any(s == "whole" for _, s in rows) and not [t for t, s in rows if s == "cut"], rows
    # the cloud's smallest word, as the browser scales the PNG into its panel (object-fit: contain)
    from dashboard.jobs import WALL_CLOUD_MIN_FONT

    js_wait(driver, "var c = document.getElementById('wall-cloud');"
                    "return !!(c && c.getAttribute('src') && c.complete && c.naturalWidth > 0)", 120, "the cloud")
    w, h, nw, nh = driver.execute_script("var c = document.getElementById('wall-cloud');"
                                         "return [c.clientWidth, c.clientHeight, c.naturalWidth, c.naturalHeight];")
    shown = min(w / nw, h / nh)
    assert WALL_CLOUD_MIN_FONT * shown >= 18, f"the cloud's smallest word is {WALL_CLOUD_MIN_FONT * shown:.1f} px in a {w}x{h} box"
    clear_alerts(store)
