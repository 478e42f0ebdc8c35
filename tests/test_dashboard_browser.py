"""The three screens in a real headless Chromium (Debian's chromium + chromium-driver, selenium),
against the real broker, redis-server, faust worker and the dashboard server.

Every test fails on a request to anywhere but 127.0.0.1 and on any error in the browser console.
"""
from __future__ import annotations

import asyncio
import io
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import redis

from config.divisions import divisions
from dashboard import demo
from dashboard.browser import scrollbars, viewport
from tests.conftest import make_complaints, publish_raw, wait_until
from tests.dashboard_site import assert_clean, headless, js_wait, running_site
from tests.dashboard_site import sign_in as site_sign_in

USERS = {"zhang": ("duty", "duty-password-1"), "li": ("head", "head-password-1"), "wang": ("viewer", "viewer-password-1")}
DISPLAY = {"zhang": "张伟", "li": "李局长", "wang": "王芳"}


@pytest.fixture(scope="module")
def site(services, tmp_path_factory):
    """Worker, a little history and the dashboard server, on the session's broker and Redis
    (a Redis database of their own, so other tests' flushes do not touch them)."""
    def seed(site):
        n = demo.seed_history(site["settings"], datetime.now(site["settings"].tz), days=8, rate=0.01, last_year_hours=26)
        demo.wait_tallied(site["redis"], n, 120)

    users = {name: (role, pw, DISPLAY[name]) for name, (role, pw) in USERS.items()}
    with running_site(services, tmp_path_factory.mktemp("dashboard"), db=6, secret="browser-test", users=users,
                      seed=seed) as s:
        yield s


@pytest.fixture
def browser(tmp_path):
    with headless(tmp_path) as (driver, rec):
        yield driver, rec, tmp_path


def sign_in(driver, url: str, name: str, next_path: str) -> None:
    site_sign_in(driver, url, name, USERS[name][1], next_path)


def kpi_total(driver) -> int | None:
    text = driver.execute_script("var e = document.getElementById('kpi-合计'); return e ? e.textContent : null;")
    return int(text.replace(",", "")) if text else None


def publish(site, complaints: list[dict], wait: bool = True) -> None:
    """Through the intake into the stream; with ``wait``, until the worker has tallied them."""
    before = demo.accepted(site["redis"])
    asyncio.run(publish_raw(site["settings"], complaints, per_message=200))
    if wait:
        demo.wait_tallied(site["redis"], before + len(complaints), 30)


def alert_store(site):
    from alerts.store import AlertStore

    return AlertStore(site["redis"])


# -- wall ------------------------------------------------------------------------------------

MAP_LABELS = """return Array.from(document.querySelectorAll('#wall-map .geo text')).filter(function (e) {
  return !e.closest('.infolayer') && !e.closest('.hoverlayer'); }).map(function (e) {
  var b = e.getBoundingClientRect(); return [e.textContent, b.left, b.top, b.right, b.bottom]; });"""


def map_label_clashes(driver) -> tuple[int, list]:
    """(how many labels the map draws, the pairs whose drawn boxes touch or overlap)."""
    from dashboard.geo import boxes_overlap

    labels = driver.execute_script(MAP_LABELS)
    return len(labels), [(a[0], b[0]) for i, a in enumerate(labels) for b in labels[i + 1:]
                         if boxes_overlap(a[1:], b[1:], gap=1.0) > 0]


def test_wall_loads_offline_fits_both_screens_and_counts_change_as_complaints_arrive(site, browser):
    driver, rec, _ = browser
    driver.get(site["url"] + "/wall?rotate=0")
    js_wait(driver, "return !!document.getElementById('kpi-合计') && "
                    "document.querySelectorAll('#wall-map .choroplethlocation').length == 11", 30, "the wall")
    assert driver.execute_script("return document.documentElement.lang") == "zh-CN"
    assert "山西省" in driver.find_element("id", "wall-crumb").text
    js_wait(driver, "return /\\d{4}年/.test(document.getElementById('wall-clock').textContent)", 5, "the clock")
    assert scrollbars(driver) == {"x": 0, "y": 0}
    # the cities' labels as drawn: none touches another (太原市 and 阳泉市 did)
    wait_until(lambda: map_label_clashes(driver)[0] == 11, 10, "the cities' labels")
    assert not map_label_clashes(driver)[1]
    size_1080 = driver.execute_script("return parseFloat(getComputedStyle(document.getElementById('kpi-合计')).fontSize)")
    before = kpi_total(driver)
    # 25 complaints now: the wall shows them within a few refreshes, without reloading the page
    driver.execute_script("window.__not_reloaded = true;")
    publish(site, make_complaints(25, prefix=f"w{uuid.uuid4().hex[:6]}-"), wait=False)
    wait_until(lambda: kpi_total(driver) == before + 25, 20, f"the total to go from {before} to {before + 25}")
    assert driver.execute_script("return window.__not_reloaded === true")
    # the same wall on a 4K screen: no scrollbars, type twice as large
    viewport(driver, 3840, 2160)
    js_wait(driver, "return document.documentElement.clientHeight == 2160", 5, "the 4K viewport")
    time.sleep(1)
    assert scrollbars(driver) == {"x": 0, "y": 0}
    size_4k = driver.execute_script("return parseFloat(getComputedStyle(document.getElementById('kpi-合计')).fontSize)")
    assert size_4k == pytest.approx(2 * size_1080, rel=0.05)
    wait_until(lambda: map_label_clashes(driver)[0] == 11, 10, "the cities' labels at 4K")
    assert not map_label_clashes(driver)[1]
    assert_clean(rec)


def test_a_click_on_the_map_moves_from_province_to_city_to_county(site, browser):
    from selenium.webdriver.common.action_chains import ActionChains

    driver, rec, _ = browser
    driver.get(site["url"] + "/wall?rotate=0")
    js_wait(driver, "return document.querySelectorAll('#wall-map .choroplethlocation').length == 11", 30, "the city map")

    def click(code: str) -> None:
        i = driver.execute_script(
            "return document.querySelector('#wall-map .js-plotly-plot').data[0].locations.indexOf(arguments[0])", code)
        assert i >= 0, code
        path = driver.find_elements("css selector", "#wall-map .choroplethlocation")[i]
        ActionChains(driver).move_to_element(path).click().perform()

    click("140400")
    js_wait(driver, "return document.getElementById('wall-crumb').textContent.indexOf('长治市') >= 0", 10, "长治市")
    js_wait(driver, "return document.querySelectorAll('#wall-map .choroplethlocation').length == 12", 10, "长治's counties")
    wait_until(lambda: map_label_clashes(driver)[0] == 12, 10, "长治's county labels")
    assert not map_label_clashes(driver)[1]
    click("140403")
    js_wait(driver, "return document.getElementById('wall-crumb').textContent.indexOf('潞州区') >= 0", 10, "潞州区")
    driver.find_element("id", "wall-home").click()
    js_wait(driver, "return document.getElementById('wall-crumb').textContent == '山西省'", 10, "back to the province")
    assert_clean(rec)


def test_a_scripted_surge_raises_a_banner_that_cannot_be_missed(site, browser):
    from streams.simgen import Simulator, load_surges, select_surges

    driver, rec, _ = browser
    S = site["settings"]
    store = alert_store(site)
    for a in store.list("open"):          # the stream's own detector may have raised some meanwhile
        store.act(a["id"], "false_alarm", "test", note="清理")
    driver.get(site["url"] + "/wall?rotate=0")
    js_wait(driver, "return !!document.getElementById('kpi-合计')", 30, "the wall")
    js_wait(driver, "return !document.getElementById('wall-banner').classList.contains('on')", 10, "no banner")
    now = datetime.now(S.tz)
    start = now - timedelta(minutes=40)
    surge = select_surges(load_surges(S), [f"ebike-battery@{start:%Y-%m-%dT%H:%M}"], S.tz)[0]
    sim = Simulator(S, seed=99, surges=[surge], rate_per_second=0.0, surge_scale=5.0, run_tag=uuid.uuid4().hex[:8])
    surge_complaints = list(sim.generate(start, now - timedelta(seconds=5)))
    assert len(surge_complaints) >= 5
    # the detector scores the hour in progress (closed hours are learned once), so the scripted
    # surge is kept inside it: earlier complaints are moved to the hour's first seconds
    hour = now.replace(minute=0, second=0, microsecond=0)
    for i, c in enumerate(surge_complaints):
        if datetime.fromisoformat(c["received_at"]) < hour:
            c["received_at"] = min(hour + timedelta(seconds=i % 50), now - timedelta(seconds=1)).isoformat()
    publish(site, surge_complaints)
    d = divisions().get(surge.district)
    # the stream's own detector (in the worker) raises the alert
    series = f"county:{surge.district}:{surge.industry}"
    wait_until(lambda: [a for a in store.list("open") if a["series"] == series], 30, "the detector's surge alert")
    aid = next(a["id"] for a in store.list("open") if a["series"] == series)
    js_wait(driver, "return document.getElementById('wall-banner').classList.contains('on')", 10, "the banner")
    banner = driver.find_element("id", "wall-banner")
    assert d.name in banner.text and surge.industry in banner.text
    level = store.get(aid)["severity"]
    assert {"red": "红色预警", "orange": "橙色预警", "yellow": "黄色预警", "blue": "蓝色预警"}[level] in banner.text
    box = driver.execute_script("var r = document.getElementById('wall-banner').getBoundingClientRect();"
                                "return [r.width, r.height, innerWidth, innerHeight];")
    assert box[0] >= 0.95 * box[2] and box[1] >= 0.08 * box[3], box        # across the screen, a tenth of its height
    assert driver.execute_script("return getComputedStyle(document.getElementById('wall-banner')).animationName") == "alarm"
    assert scrollbars(driver) == {"x": 0, "y": 0}
    # with the banner up the map is at its smallest: still no city label touches another (太原市 and
    # 阳泉市 did, and 太原市 and 晋中市)
    wait_until(lambda: map_label_clashes(driver)[0] == 11, 10, "the cities' labels")
    last = None
    for _ in range(3):                      # the map redraws once the banner has taken its room
        time.sleep(1)
        last = map_label_clashes(driver)[1]
    assert not last, last
    js_wait(driver, f"return document.getElementById('wall-ticker').textContent.indexOf('{d.name}') >= 0", 5, "the ticker")
    first = driver.execute_script("return document.querySelector('#wall-banner .sla').textContent")
    assert first.startswith("派单 剩 ")
    wait_until(lambda: driver.execute_script("return document.querySelector('#wall-banner .sla').textContent") != first,
               4, "the SLA clock to count down")
    # acknowledged on the console: the banner shows it as 已确认 (or a more urgent alert the stream's
    # own detector raised meanwhile) and flashes only while some alert is still new
    alert_store(site).act(aid, "ack", "zhang")
    js_wait(driver, "var b = document.getElementById('wall-banner');"
                    f"return b.textContent.indexOf('{d.name}') < 0 || b.textContent.indexOf('已确认') >= 0", 10,
            "the banner to show the acknowledgement")
    news = [a for a in store.list("open") if a["state"] == "new"]
    if not news:
        js_wait(driver, "return !document.getElementById('wall-banner').classList.contains('flash')", 10,
                "the banner to stop flashing")
    alert_store(site).act(aid, "false_alarm", "zhang", note="测试")
    assert_clean(rec)


# -- duty console ----------------------------------------------------------------------------

def test_duty_console_signs_in_acknowledges_dispatches_and_drills_down(site, browser):
    from selenium.webdriver.common.by import By

    driver, rec, _ = browser
    S = site["settings"]
    store = alert_store(site)
    for a in store.list("open"):                      # a clean queue
        store.act(a["id"], "false_alarm", "test", note="清理")
    driver.get(site["url"] + "/duty")
    assert "/login" in driver.current_url              # no session: sign in first
    now = datetime.now(S.tz)
    marker = uuid.uuid4().hex[:6]
    complaints = make_complaints(3, prefix=f"d{marker}-", district_pool=["140105"], industry="食品",
                                 text=f"外卖里吃出异物{marker}，联系电话13812345678，商家不理")
    publish(site, complaints)
    first, _ = store.raise_or_update(demo.detection("140105", "食品", now, 19, 3.1, phrases=["外卖异物"],
                                                    minutes_ago=15), now)
    sign_in(driver, site["url"], "zhang", "/duty")
    row = ROW.format(text="小店区")
    js_wait(driver, f"return !!{row}", 20, "the alert in the queue")
    # the stream's own detector may raise alerts of its own meanwhile: count what the page shows
    js_wait(driver, "var m = /^\\((\\d+)\\) 新预警/.exec(document.title); "
                    "return m && +m[1] == document.querySelectorAll('#duty-queue tr.row.is-new').length", 10, "the tab title")
    driver.execute_script(f"{row}.click()")
    js_wait(driver, "var d = document.getElementById('duty-detail-title'); return d && d.textContent.indexOf('小店区') >= 0",
            10, "the alert's detail")
    # drill-down: the complaints behind the alert, masked
    js_wait(driver, f"return document.getElementById('duty-complaints').textContent.indexOf('{marker}') >= 0", 20,
            "the alert's complaints")
    complaints_text = driver.find_element(By.ID, "duty-complaints").text
    assert "138****5678" in complaints_text and "13812345678" not in driver.page_source
    # acknowledge: recorded with the officer's name
    ack = driver.find_element(By.CSS_SELECTOR, ".actions .act-ack")
    js_wait(driver, "return !document.querySelector('.actions .act-ack').disabled", 10, "the ack button")
    ack.click()
    wait_until(lambda: store.get(first)["state"] == "acknowledged", 10, "the acknowledgement")
    assert store.get(first)["acknowledged_by"] == "张伟"  # the officer's display name, not the login
    assert [h["action"] for h in store.history(first)][-1] == "ack"
    js_wait(driver, "return document.getElementById('duty-history').textContent.indexOf('已确认') >= 0", 10, "the history")
    js_wait(driver, f"return !{row}.classList.contains('is-new')", 10, "the row to calm down")
    # dispatch to the team suggested for the industry
    js_wait(driver, "return !document.querySelector('.actions .act-dispatch').disabled", 10, "the dispatch button")
    driver.find_element(By.CSS_SELECTOR, ".actions .act-dispatch").click()
    wait_until(lambda: store.get(first)["state"] == "dispatched", 10, "the dispatch")
    assert store.get(first)["team"] == "食品安全快反分队"
    # a new alert while the console is open: a sound cue and the tab title
    cues = driver.execute_script("return window.__c12315_cues || 0")
    second, _ = store.raise_or_update(demo.detection("140922", "旅游", now, 52, 9.5, minutes_ago=30), now)
    js_wait(driver, f"return (window.__c12315_cues || 0) > {cues}", 10, "the sound cue")
    js_wait(driver, "return /^\\(\\d+\\) 新预警/.test(document.title)", 10, "the tab title")
    assert driver.execute_script("var a = document.getElementById('duty-audio'); return a.src.endsWith('/assets/alert.wav')")
    js_wait(driver, f"return !!{ROW.format(text='五台县')}", 10, "the second alert queued")
    for aid in (first, second):
        store.act(aid, "false_alarm", "test", note="测试结束")
    assert_clean(rec)


def test_a_viewer_sees_the_console_but_cannot_act(site, browser):
    driver, rec, _ = browser
    now = datetime.now(site["settings"].tz)
    aid, _ = alert_store(site).raise_or_update(demo.detection("140581", "价格", now, 12, 2.0, minutes_ago=10), now)
    sign_in(driver, site["url"], "wang", "/duty")
    row = ROW.format(text="高平市")
    js_wait(driver, f"return !!{row}", 60, "the queue")          # a loaded 2-core machine: generous
    driver.execute_script(f"{row}.click()")
    js_wait(driver, "return !!document.getElementById('duty-detail-title')", 30, "the detail")
    time.sleep(1)
    assert driver.execute_script("return Array.from(document.querySelectorAll('.actions button')).every(b => b.disabled)")
    assert alert_store(site).get(aid)["state"] == "new"
    alert_store(site).act(aid, "false_alarm", "test", note="测试结束")
    assert_clean(rec)


# -- review ----------------------------------------------------------------------------------

ROW = ("Array.from(document.querySelectorAll('#duty-queue tr.row'))"
       ".find(function (r) {{ return r.textContent.indexOf('{text}') >= 0; }})")


def wait_file(folder: Path, suffix: str, timeout: float = 90) -> Path:
    def done():
        files = [p for p in folder.glob(f"*{suffix}") if not p.name.endswith(".crdownload")]
        return files[0] if files and files[0].stat().st_size > 0 else None
    return wait_until(done, timeout, f"a {suffix} download")


def test_review_exports_download_valid_files(site, browser):
    import docx
    import openpyxl

    driver, rec, downloads = browser
    sign_in(driver, site["url"], "li", "/review?period=day")
    js_wait(driver, "return document.querySelectorAll('#review-compare tr').length == 5", 30, "the comparison")
    js_wait(driver, "return !!document.querySelector('#review-cloud img') || "
                    "document.getElementById('review-cloud').textContent.length > 0", 120, "the cloud")
    assert "今日" not in driver.find_element("id", "review-title").text
    driver.find_element("id", "review-export-xlsx").click()
    xlsx = wait_file(downloads, ".xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(xlsx.read_bytes()))
    assert wb.sheetnames[0] == "总体" and [c.value for c in wb["总体"][2]][:2] == ["类型", "本期"]
    driver.find_element("id", "review-export-png").click()
    png = wait_file(downloads, ".png", 120)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    driver.find_element("id", "review-report-month").click()
    report = wait_file(downloads, ".docx", 120)
    doc = docx.Document(io.BytesIO(report.read_bytes()))
    assert "月分析" in doc.paragraphs[0].text and any("一、总体情况" in p.text for p in doc.paragraphs)
    assert report.name.startswith("月分析_")
    assert_clean(rec)


def test_the_apps_own_chinese_font_loads_in_the_browser(site, browser):
    """For display machines without a Chinese font: the app cuts and serves its own (once per
    machine, in the background; see dashboard/fonts.py)."""
    import httpx

    driver, rec, _ = browser
    css = wait_until(lambda: (lambda t: t if "@font-face" in t else None)(httpx.get(site["url"] + "/fonts/fonts.css").text),
                     180, "the web font to be cut")
    driver.get(site["url"] + "/wall?rotate=0")
    js_wait(driver, "return !!document.getElementById('kpi-合计')", 30, "the wall")
    url = css.split('url("')[1].split('"')[0]
    status = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "var f = new FontFace('ProbeFromApp', 'url(' + arguments[0] + ')');"
        "f.load().then(function (x) { document.fonts.add(x);"
        "  done([x.status, document.fonts.check('20px ProbeFromApp', '投诉举报咨询潞州区')]); })"
        " .catch(function (e) { done(['error', String(e)]); });", url)
    assert status == ["loaded", True], status
    assert_clean(rec)
