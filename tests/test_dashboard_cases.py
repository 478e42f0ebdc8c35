"""Case handling on the screens: the wall's 办理情况 panel, the duty console's 督办
list, and the formatting they share. The browser tests run a real headless Chromium against the
real broker, redis-server, faust worker and dashboard server; the case histories go through the
pipeline (complaints and case events published, signed, to the topic the worker reads).
"""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
import redis

from dashboard import supervise
from dashboard.browser import viewport
from tests.conftest import publish_raw, wait_until
from tests.dashboard_site import assert_clean, headless, js_wait, running_site

USERS = {"sunduty": ("duty", "duty-password-1", "孙值班"), "zhouhead": ("head", "head-password-1", "周局长")}
UNIT = "潞州区市场监管局"
# the overdue item: an id as long as an export's (the 督办 list's 编号 column must still fit)
OVER = "over-SX-20261205-12315-140403-000000000123456789"


# -- pure formatting --------------------------------------------------------------------------------

def test_a_rate_without_denominator_reads_no_data_never_zero():
    assert supervise.fmt_rate({"value": None, "numerator": 0, "denominator": 0}) == "无数据"
    assert supervise.fmt_rate(None) == "无数据"
    assert supervise.fmt_rate({"value": 0.0, "numerator": 0, "denominator": 3}) == "0.00%"
    assert supervise.fmt_rate({"value": 0.6667, "numerator": 2, "denominator": 3}) == "66.67%"
    assert supervise.fmt_points({"value": 0.75}, {"value": None}) == "无数据"
    assert supervise.fmt_points({"value": 0.75}, {"value": 0.5}) == "+25.00个百分点"
    assert supervise.fmt_points({"value": 0.5}, {"value": 0.75}) == "−25.00个百分点"
    assert supervise.fmt_points({"value": 0.5}, {"value": 0.5}) == "持平"
    assert supervise.fmt_wan(6250.5) == "0.63"
    assert supervise.fmt_wan(56342600) == "5,634.26"


def test_clock_texts():
    assert supervise.fmt_left(3 * 3600 + 20 * 60 + 5) == "剩 3小时20分"
    assert supervise.fmt_left(-(2 * 86400 + 4 * 3600)) == "超期 2天4小时"
    assert supervise.fmt_left(-86400) == "超期 1天"
    assert supervise.fmt_left(30) == "剩 1分"


def test_wall_rows_put_national_figure_beside_mediation_only():
    k = {key: {"value": None, "numerator": 0, "denominator": 0} for key, _ in supervise.RATES}
    k["mediation_success"] = {"value": 0.5, "numerator": 1, "denominator": 2}
    k.update(recovered_yuan=12000.0, open=3, due_soon=1, overdue=1)
    rows = {r["key"]: r for r in supervise.wall_rows(k, k)}
    assert rows["mediation_success"]["national"] == "50.90%"
    assert rows["mediation_success"]["year"] == "50.00%"
    assert rows["on_time_closing"]["today"] == "无数据" and rows["on_time_closing"]["national"] == ""
    assert rows["recovered_yuan"]["year"] == "1.20"
    assert supervise.counts_text(k) == [("在办", "3", "open"), ("临期", "1", "due"), ("超期", "1", "over")]


def test_due_rows_group_by_unit_most_urgent_unit_first():
    def item(cid, unit, left, stage="overdue"):
        return {"complaint_id": cid, "unit": unit, "district_name": "山西省长治市潞州区", "industry": "食品", "kind": "投诉",
                "label": "受理时限", "deadline": "2026-11-20T00:00:00+08:00", "stage": stage, "remaining_s": left}
    rows = supervise.due_rows([item("a", "甲局", -100), item("b", "乙局", -50), item("c", "甲局", 500, "urging"),
                               item("d", None, 900, "urging")])
    assert [(r["id"], r["unit"], r["stage"]) for r in rows] == [("a", "甲局", "超期"), ("c", "甲局", "临期"),
                                                                 ("b", "乙局", "超期"), ("d", "未分流", "临期")]


def test_handling_table_against_previous_and_last_year():
    def k(med, den=4):
        out = {key: {"value": None, "numerator": 0, "denominator": 0} for key, _ in supervise.RATES}
        out["mediation_success"] = {"value": med, "numerator": 0, "denominator": den}
        out["recovered_yuan"] = 20000.0
        return out
    rows = {r[0]: r for r in supervise.handling_table(k(0.75), k(0.5), None)}
    assert rows["调解成功率"] == ["调解成功率", "75.00%", "50.00%", "+25.00个百分点", "无数据", "无数据"]
    assert rows["按时办结率"][1:] == ["无数据"] * 5
    assert rows["挽回经济损失(万元)"][1:3] == ["2.00", "2.00"]
    assert supervise.slowest_units({"甲": (1, 4), "乙": (3, 4), "丙": (0, 0)}) == [("乙", 3, 4, "75.0%"),
                                                                               ("甲", 1, 4, "25.0%")]


# -- through the pipeline, in a browser --------------------------------------------------------------

def complaint(cid, when: datetime, district="140403", industry="食品", kind="投诉"):
    return {"id": cid, "received_at": when.isoformat(), "channel": "12315", "kind": kind, "district": district,
            "industry": industry, "text": "买的东西有质量问题，商家拒绝退换",
            "contact": {"name": "李四", "phone": "13912345678"}}


def history(now: datetime, tag: str) -> tuple[list[dict], list[dict]]:
    """Four items: one overdue (routed to a unit, never accepted), one mediated with money back and
    a satisfied callback, one failed, one received an hour ago (open, not yet due)."""
    old = now - timedelta(days=20)
    c = [complaint(f"{tag}-{OVER}", old), complaint(f"{tag}-ok", old), complaint(f"{tag}-fail", old + timedelta(hours=1)),
         complaint(f"{tag}-new", now - timedelta(hours=1))]

    def ev(eid, cid, event, at, **kw):
        return {"id": f"{tag}-{eid}", "complaint_id": f"{tag}-{cid}", "event": event, "at": at.isoformat(), **kw}
    e = [ev("o1", OVER, "route", old + timedelta(hours=1), unit=UNIT),
         ev("k1", "ok", "accept", old + timedelta(hours=2)),
         ev("k2", "ok", "close", old + timedelta(days=3), outcome="mediated", recovered_yuan=12000),
         ev("k3", "ok", "visit", old + timedelta(days=4), satisfaction="satisfied"),
         ev("f1", "fail", "accept", old + timedelta(days=2)),
         ev("f2", "fail", "close", old + timedelta(days=6), outcome="failed")]
    return c, e


async def publish_events(settings, events: list[dict]) -> None:
    from streams.cases.api import publish_events as send
    from streams.cases.events import validate_event
    from streams.intake import Intake

    tz = settings.tz
    good = []
    for raw in events:
        ev, errs = validate_event(raw, datetime.now(tz).timestamp(), tz)
        assert ev is not None, errs
        good.append(ev)
    async with Intake(settings, source="test") as it:
        await send(it, good)


@pytest.fixture(scope="module")
def site(services, tmp_path_factory):
    def seed(site):
        settings, r = site["settings"], site["redis"]
        complaints, events = history(datetime.now(settings.tz), site["tag"])
        asyncio.run(publish_raw(settings, complaints))
        wait_until(lambda: int(r.hget("cc:cases:stats", "opened") or 0) == len(complaints), 60, "cases opened")
        asyncio.run(publish_events(settings, events))
        wait_until(lambda: int(r.hget("cc:cases:stats", "applied") or 0) == len(events), 60, "events applied")

    with running_site(services, tmp_path_factory.mktemp("cases-screens"), db=9, secret="cases-test", users=USERS,
                      partitions=2, seed=seed) as s:
        yield s


@pytest.fixture
def browser(tmp_path):
    with headless(tmp_path) as b:
        yield b


def cell(driver, cid: str) -> str:
    return driver.execute_script(f"var e = document.getElementById('{cid}'); return e ? e.textContent : null;")


def test_wall_shows_the_exact_handling_figures(site, browser):
    from streams.cases.read import kpis

    driver, _rec = browser
    s, r = site["settings"], site["redis"]
    driver.get(site["url"] + "/wall?rotate=0")
    js_wait(driver, "var e = document.getElementById('h-year-mediation_success'); return e && e.textContent !== '…';",
            60, "this year's handling figures")
    js_wait(driver, "var e = document.getElementById('h-today-mediation_success'); return e && e.textContent !== '…';",
            60, "today's handling figures")
    now = datetime.now(s.tz)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    year = kpis(r, s, "province", "140000")
    today = kpis(r, s, "province", "140000", since=day.isoformat())
    # the history above: 2 closed complaints, one mediated; 1 of 1 callbacks satisfied; 12000 yuan
    assert year["mediation_success"] == {"value": 0.5, "numerator": 1, "denominator": 2}
    assert year["satisfaction"]["value"] == 1.0 and year["recovered_yuan"] == 12000.0
    assert year["overdue"] >= 1 and year["open"] >= 2
    for key in supervise.WALL_RATES:
        assert cell(driver, f"h-year-{key}") == supervise.fmt_rate(year[key]), key
        assert cell(driver, f"h-today-{key}") == supervise.fmt_rate(today[key]), key
    assert cell(driver, "h-year-mediation_success") == "50.00%"
    # today only the item received an hour ago: nothing closed, nothing called back
    assert cell(driver, "h-today-mediation_success") == "无数据"
    assert cell(driver, "h-today-satisfaction") == "无数据"
    assert cell(driver, "h-year-recovered_yuan") == "1.20"
    assert cell(driver, "h-count-over") == str(year["overdue"])
    assert cell(driver, "h-count-open") == str(year["open"])
    assert "50.90%" in driver.find_element("css selector", ".h-table").text
    # the wall's rules: nothing scrolls, nothing under 18 px, the panel not clipped
    assert driver.execute_script("return document.documentElement.scrollHeight <= window.innerHeight && "
                                 "document.documentElement.scrollWidth <= window.innerWidth;")
    smallest = driver.execute_script("""
        var m = 1e9; document.querySelectorAll('.panel-handling *').forEach(function (e) {
          if (e.childElementCount === 0 && e.textContent.trim()) { m = Math.min(m, parseFloat(getComputedStyle(e).fontSize)); } });
        return m;""")
    assert smallest >= 18, smallest
    clipped = driver.execute_script("""
        var body = document.querySelector('.panel-handling .panel-body').getBoundingClientRect();
        var bad = []; document.querySelectorAll('.panel-handling td, .panel-handling .c-item').forEach(function (e) {
          var b = e.getBoundingClientRect(); if (b.bottom > body.bottom + 1 || b.right > body.right + 1) bad.push(e.textContent); });
        return bad;""")
    assert clipped == [], clipped
    driver.save_screenshot(str(site["tmp"] / "wall-1080.png"))
    size_1080 = driver.execute_script("return parseFloat(getComputedStyle(document.getElementById("
                                      "'h-year-mediation_success')).fontSize)")
    viewport(driver, 3840, 2160)
    js_wait(driver, "return document.documentElement.clientHeight == 2160", 5, "the 4K viewport")
    assert driver.execute_script("return document.documentElement.scrollHeight <= window.innerHeight && "
                                 "document.documentElement.scrollWidth <= window.innerWidth;")
    size_4k = driver.execute_script("return parseFloat(getComputedStyle(document.getElementById("
                                    "'h-year-mediation_success')).fontSize)")
    assert size_4k == pytest.approx(2 * size_1080, rel=0.05)
    assert cell(driver, "h-year-mediation_success") == "50.00%"


def test_console_lists_the_overdue_item_with_unit_and_clock(site, browser):
    from selenium.webdriver.common.by import By

    from streams.cases.read import due_items

    driver, _rec = browser
    driver.get(f"{site['url']}/login?next=/duty")
    driver.find_element(By.ID, "login-user").send_keys("sunduty")
    driver.find_element(By.ID, "login-password").send_keys(USERS["sunduty"][1])
    driver.find_element(By.ID, "login-submit").click()
    wait_until(lambda: "/duty" in driver.current_url and "login" not in driver.current_url, 15, "sign-in")
    js_wait(driver, "return !!document.querySelector('.due-table');", 60, "the 督办 list")
    items = due_items(site["redis"], site["settings"], "province", "140000")
    over = [i for i in items if i["complaint_id"] == f"{site['tag']}-{OVER}"]
    assert over and over[0]["stage"] == "overdue" and over[0]["unit"] == UNIT
    rows = [tr.text for tr in driver.find_elements(By.CSS_SELECTOR, ".due-table tbody tr")]
    mine = [t for t in rows if f"{site['tag']}-over" in t]
    assert mine, rows
    assert UNIT in mine[0] and over[0]["label"] in mine[0] and "超期" in mine[0]
    assert supervise.fmt_left(over[0]["remaining_s"])[:5] in mine[0]
    assert "李四" not in driver.page_source and "13912345678" not in driver.page_source
    # every column, 编号 last, inside the list's box at 1920x1080 and inside its own cell: nothing
    # clipped, no sideways scrolling, the whole id there
    cells = driver.execute_script(
        "var box = document.getElementById('duty-due').getBoundingClientRect();"
        "return Array.from(document.querySelectorAll('.due-table th, .due-table td')).filter(function (c) {"
        " var r = c.getBoundingClientRect(); return r.width > 0 && (r.right > box.right + 1 || r.left < box.left - 1"
        " || c.scrollWidth > c.clientWidth + 1); })"
        ".map(function (c) { return c.textContent + ' (' + c.scrollWidth + '>' + c.clientWidth + ')'; });")
    assert not cells, cells[:10]
    assert driver.execute_script("var d = document.getElementById('duty-due'); return d.scrollWidth <= d.clientWidth + 1")
    shown = driver.execute_script("return Array.from(document.querySelectorAll('.due-table td.cid'))"
                                  ".map(function (c) { return c.textContent; });")
    assert f"{site['tag']}-{OVER}" in shown, shown
    driver.save_screenshot(str(site["tmp"] / "duty-1080.png"))


def test_the_report_has_a_handling_section_with_the_numbers(site, tmp_path):
    import io

    import docx

    from dashboard import reports, review
    from streams.counts import period_of
    from tests.test_dashboard import app_for

    s, r = site["settings"], site["redis"]
    now = datetime.now(s.tz)
    # the quarter that holds the three items received 20 days ago (all the closes and the callback)
    kind = "quarter"
    app = app_for({"settings": s, "redis": r}, tmp_path)
    try:
        data = reports.review_data(app.ctx, period_of(kind, (now - timedelta(days=20)).date()), "140000", None, now)
    finally:
        app.ctx.background.shutdown(wait=True)
    args = review.handling_args(data)
    # what the background job computes, here in the test's process
    data["handling"] = reports.handling_data(r, s, *args[:4], datetime.fromisoformat(args[4]))
    hd = data["handling"]
    cur = hd["kpis"]["current"]
    assert cur["mediation_success"] == {"value": 0.5, "numerator": 1, "denominator": 2}
    assert dict((u, (o, n)) for u, o, n, _ in hd["units"])[UNIT] == (1, 1)
    assert sorted(hd["outcomes"]) == [("调解不成", 1, "50.0%"), ("调解成功", 1, "50.0%")]
    blob = reports.report_docx(data, None, None, kind)
    (site["tmp"] / "report.docx").write_bytes(blob)
    doc = docx.Document(io.BytesIO(blob))
    heads = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert "七、办理情况" in heads and heads[-2:] == ["八、研判", "九、建议"], heads
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    handling = next(t for t in tables if t[0][:2] == ["指标", "本期"])
    rows = {row[0]: row for row in handling[1:]}
    assert rows["调解成功率"][1] == "50.00%"
    assert rows["满意度"][1] == "100.00%"
    # the previous quarter and last year hold nothing: 无数据, never 0 %
    assert rows["调解成功率"][2] == rows["调解成功率"][4] == "无数据"
    assert rows["挽回经济损失(万元)"][1] == "1.20"
    units = next(t for t in tables if t[0][0] == "承办单位")
    assert units[1][:3] == [UNIT, "1", "1"]
    assert any(t[0][0] == "办结方式" for t in tables)


def test_review_shows_the_handling_section(site, browser):
    from selenium.webdriver.common.by import By

    from dashboard import reports
    from streams.counts import period_of

    driver, _rec = browser
    s, r = site["settings"], site["redis"]
    driver.get(f"{site['url']}/login?next=/review?period=quarter")
    driver.find_element(By.ID, "login-user").send_keys("zhouhead")
    driver.find_element(By.ID, "login-password").send_keys(USERS["zhouhead"][1])
    driver.find_element(By.ID, "login-submit").click()
    wait_until(lambda: "/review" in driver.current_url and "login" not in driver.current_url, 15, "sign-in")
    js_wait(driver, "var t = document.querySelector('#review-handling .handling-rates'); "
                    "return t && document.querySelector('#review-title').textContent.indexOf('季度') >= 0;", 90,
            "the 办理情况 panel of this quarter")
    now = datetime.now(s.tz)
    hd = reports.handling_data(r, s, "province", "140000", reports.spans(period_of("quarter", now.date()), now), None, now)
    rows = driver.execute_script("""return Array.from(document.querySelectorAll('#review-handling .handling-rates tbody tr'))
        .map(function (tr) { return Array.from(tr.cells).map(function (c) { return c.textContent; }); });""")
    assert rows == supervise.handling_table(hd["kpis"]["current"], hd["kpis"]["previous"], hd["kpis"]["last_year"])
    # last year holds nothing: 无数据, never 0 %
    assert all(row[4] == "无数据" for row in rows[:6]), rows
    text = driver.find_element(By.ID, "review-handling").text
    assert ("超期" in text) and ("承办单位" in text) and ("办结方式" in text)
