"""The review's honest comparisons and the report a bureau files: coverage decides
whether a comparison is made (pure), the review's 周 view over a week whose previous week holds
one day of data (real Redis, the Dash callback as the browser posts it), and the 月分析 /
季报告 DOCX and the XLSX opened as their readers would (python-docx, openpyxl)."""
from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta

from tests.test_dashboard import app_for, put, sign_in


# -- pure -----------------------------------------------------------------------------------------

def test_a_comparison_is_made_only_against_a_fully_covered_period():
    from dashboard.reports import comparability, compare_row, coverage_note

    assert coverage_note("previous", 7, 7) is None
    assert coverage_note("previous", 1, 7) == "上期仅有 1/7 天数据，不作比较"
    assert coverage_note("last_year", 0, 30) == "去年同期无数据"
    cmp = comparability({"current": (7, 7), "previous": (1, 7), "last_year": (0, 7)})
    assert not cmp["mom"]["ok"] and cmp["mom"]["note"] == "上期仅有 1/7 天数据，不作比较" and cmp["mom"]["has_data"]
    assert not cmp["yoy"]["ok"] and cmp["yoy"]["note"] == "去年同期无数据" and not cmp["yoy"]["has_data"]
    # 541 this week against 100 on the one day last week held: no +441 %
    row = compare_row("合计", 541, 100, 0, cmp)
    assert row == {"name": "合计", "current": 541, "previous": 100, "mom": None, "last_year": None, "yoy": None}
    # fully covered: a real zero last year is a zero, and the changes are computed
    full = comparability({"current": (7, 7), "previous": (7, 7), "last_year": (7, 7)})
    assert full["mom"]["ok"] and full["yoy"]["ok"]
    assert compare_row("投诉", 541, 100, 0, full) == {"name": "投诉", "current": 541, "previous": 100, "mom": 441.0,
                                                      "last_year": 0, "yoy": None}
    # a current period itself only partly covered is not compared either
    part = comparability({"current": (3, 7), "previous": (7, 7), "last_year": (7, 7)})
    assert not part["mom"]["ok"] and part["mom"]["note"] == "本期仅有 3/7 天数据，不作比较"


def test_the_exported_values_keep_their_kind():
    from dashboard.reports import INT, PCT, RATE, WHEN, text_of

    assert text_of(None, INT) == "无数据" and text_of(None, PCT) == "—" and text_of(1234, INT) == "1,234"
    assert text_of(60.0, PCT) == "+60.0%" and text_of(97.5, RATE) == "97.5%"
    assert text_of(datetime(2026, 10, 10, 9, 5), WHEN) == "2026-10-10 09:05"


def test_a_phrase_trend_has_gaps_for_periods_without_data():
    from dashboard.reports import phrase_rows, trend_text, trend_windows
    from dashboard.review import spark

    topics = {"start": "2026-10-01T00:00:00+08:00", "end": "2026-10-08T00:00:00+08:00",
              "phrases": {"by_count": [{"topic": "质量差", "count": 9, "expected": None, "rising": False,
                                        "trend": [0, 0, 3, 5, 9]}]},
              "trend_known": [False, False, True, True, True]}
    wins = trend_windows(topics)
    assert [a.isoformat()[:10] for a, _ in wins] == ["2026-09-03", "2026-09-10", "2026-09-17", "2026-09-24", "2026-10-01"]
    row = phrase_rows(topics)[0]
    assert row["trend"] == [None, None, 3, 5, 9], "no data is a gap, not 0"
    assert trend_text(row["trend"], "→") == "—→—→3→5→9" and spark(row["trend"]) == "  ▁▃█"
    assert phrase_rows({**topics, "trend_known": None})[0]["trend"] == [0, 0, 3, 5, 9]


# -- with Redis ------------------------------------------------------------------------------------

DISTRICTS = ("140403", "140105", "140581")
INDUSTRIES = ("食品", "价格", "产品质量", "一般消费纠纷")


def seed_weeks(r, tz, week_start: date, covered_days_before: int = 1) -> None:
    """Seven days of tallies from ``week_start`` (every day 投诉, 举报, 咨询 in three districts) and
    ``covered_days_before`` days of the week before; nothing a year earlier."""
    def day(d: date, scale: int) -> None:
        counts = {}
        for i, dist in enumerate(DISTRICTS):
            for j, ind in enumerate(INDUSTRIES):
                counts[(dist, ind, "投诉", "12315")] = scale * (i + 1) + j
                counts[(dist, ind, "举报", "12345")] = scale
                counts[(dist, ind, "咨询", "12315")] = 50       # enquiries: many, and no 投诉举报
        put(r, "d", datetime(d.year, d.month, d.day, tzinfo=tz), counts)
    for i in range(7):
        day(week_start + timedelta(days=i), 3 + (i == 2) * 10)
    for i in range(covered_days_before):
        day(week_start - timedelta(days=7 - 2 - i), 4)


def test_the_review_week_with_one_day_of_the_previous_week_shows_no_percentage(stack, tmp_path):
    """The callback the browser posts for the 周 view: 上期 says it holds 1/7 days and 环比 and
    同比 carry no percentage; 去年同期 reads 无数据, not 0."""
    from dashboard.bench import dash_post

    S, r = stack["settings"], stack["redis"]
    today = datetime.now(S.tz).date()
    last_monday = today - timedelta(days=today.weekday() + 7)
    seed_weeks(r, S.tz, last_monday)
    app = app_for(stack, tmp_path)
    try:
        app.ctx.users.add("qian", "head", "head-password-1", "钱局长")
        c = app.server.test_client()
        assert sign_in(c, "qian", "head-password-1", "/review").status_code == 302
        inputs = [{"id": "review-period", "property": "value", "value": "week"},
                  {"id": "review-date", "property": "date", "value": last_monday.isoformat()},
                  {"id": "review-range", "property": "start_date", "value": None},
                  {"id": "review-range", "property": "end_date", "value": None},
                  {"id": "review-district", "property": "value", "value": "140000"},
                  {"id": "review-industry", "property": "value", "value": ""}]
        res = dash_post(c, app, "review-title", inputs, [], "review-period.value",
                        {"X-CSRFToken": c.get_cookie("_csrf_token").value})
        assert res.status_code == 200, res.data[:300]
        out = res.get_json()["response"]
        text = str(out["review-compare"]["children"])
        assert "上期仅有 1/7 天数据，不作环比" in text and "去年同期无数据，不作同比" in text
        assert "%" not in text, "no percentage against a partial or empty period"
        assert "无数据" in str(out["review-industries"]["children"])
        assert str(out["review-title"]["children"]).startswith("山西省")
    finally:
        app.ctx.background.shutdown()


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (400, 200), "white").save(buf, "PNG")
    return buf.getvalue()


def test_the_report_is_a4_with_charts_findings_and_suggestions(stack, tmp_path):
    import docx
    import openpyxl
    from docx.shared import Cm

    from alerts.store import AlertStore
    from dashboard import demo, reports
    from streams.counts import period_of

    S, r = stack["settings"], stack["redis"]
    # October 2026 and September 2026 covered day by day, October 2025 not at all
    for first, scale in ((date(2026, 9, 1), 2), (date(2026, 10, 1), 3)):
        d = first
        while d.month == first.month:
            put(r, "d", datetime(d.year, d.month, d.day, tzinfo=S.tz), {
                ("140403", "食品", "投诉", "12315"): scale * (3 if d.day > 20 and scale == 3 else 1),
                ("140403", "价格", "举报", "12315"): 1,
                ("140105", "产品质量", "投诉", "12315"): scale,
                ("140105", "一般消费纠纷", "咨询", "12315"): 40})
            d += timedelta(days=1)
    now = datetime(2026, 11, 5, 9, 0, tzinfo=S.tz)
    opened = datetime(2026, 10, 24, 9, 0, tzinfo=S.tz)
    store = AlertStore(r)
    aid, _ = store.raise_or_update(demo.detection("140403", "食品", opened, 30, 3.0), opened)
    store.act(aid, "dispatch", "zhang", team="食品安全快反分队", now=opened + timedelta(minutes=10))
    store.act(aid, "close", "zhang", now=opened + timedelta(hours=2))
    app = app_for(stack, tmp_path)
    try:
        data = reports.review_data(app.ctx, period_of("month", date(2026, 10, 3)), "140000", None, now)
        assert data["compare"]["mom"]["ok"] and not data["compare"]["yoy"]["ok"]
        kinds = {x["name"]: x for x in data["kinds"]}
        assert kinds["合计"]["last_year"] is None and kinds["合计"]["yoy"] is None and kinds["合计"]["mom"] is not None
        # 投诉举报量居前的行业 counts 投诉 and 举报 only: 一般消费纠纷's 40 enquiries a day are not there
        assert "一般消费纠纷" not in [x["name"] for x in data["industries_cr"]]
        assert data["industries_cr"][0]["name"] == "食品"
        food = next(x for x in data["industries_cr"] if x["name"] == "食品")
        assert food["current"] == 3 * 20 + 9 * 11 and food["previous"] == 2 * 30
        trend = reports.trend(app.ctx, data)
        assert len(trend["current"]) == 31 and trend["current"][0] == 3 + 1 + 3 + 40
        assert trend["last_year"] == [None] * 31, "last year has no data: a gap, not zeros"
        for kind, title in (("month", "月分析"), ("quarter", "季度报告")):
            blob = reports.report_docx(data, None, _png(), kind, trend_data=trend)
            (tmp_path / f"{kind}.docx").write_bytes(blob)
            doc = docx.Document(io.BytesIO(blob))
            sec = doc.sections[0]
            assert abs(sec.page_width - Cm(21.0)) < Cm(0.01) and abs(sec.page_height - Cm(29.7)) < Cm(0.01)
            assert Cm(2.0) <= sec.left_margin <= Cm(3.5) and Cm(2.0) <= sec.top_margin <= Cm(3.8)
            assert len(doc.inline_shapes) >= 4, "trend, industries, districts and the cloud"
            for shape in doc.inline_shapes:
                assert shape.width <= sec.page_width - sec.left_margin - sec.right_margin
            text = "\n".join(p.text for p in doc.paragraphs)
            assert title in doc.paragraphs[0].text
            assert text.count("无可比数据") <= 1 and "去年同期无数据，不作同比" in text
            assert text.count("去年同期无数据") == 1, "said once"
            paras = doc.paragraphs
            heads = [p for p in paras if p.style.name.startswith("Heading")]
            for word in ("研判", "建议"):
                i = next(k for k, p in enumerate(paras) if p.style.name.startswith("Heading") and word in p.text)
                body = []
                for p in paras[i + 1:]:
                    if p.style.name.startswith("Heading"):
                        break
                    if p.text.strip():
                        body.append(p.text)
                assert body and any(re.search(r"\d", b) for b in body), (word, body)
            assert "食品" in text and "派单达标率 100.0%" in text and "环比" in text
            # every table header repeats on a new page, and every heading keeps with what follows
            for t in doc.tables:
                assert t.rows[0]._tr.trPr is not None and t.rows[0]._tr.trPr.xpath("./w:tblHeader")
            assert all(h.paragraph_format.keep_with_next for h in heads)
        # XLSX: numbers with their formats, dates with the year, first columns named
        wb = openpyxl.load_workbook(io.BytesIO(reports.tables_xlsx(data, None)))
        ws = wb["总体"]
        assert [c.value for c in ws[2]][:1] == ["类型"] and wb["行业"]["A2"].value == "行业" \
            and wb["地区"]["A2"].value == "地区"
        row = {c.column_letter: c for c in ws[6]}
        assert row["A"].value == "合计" and isinstance(row["B"].value, int) and row["B"].number_format == "#,##0"
        assert isinstance(row["D"].value, float) and "%" in row["D"].number_format
        assert row["E"].value == "无数据" and row["F"].value is None
        assert any("去年同期无数据" in str(c.value) for c in ws["A"])
        a = wb["预警"]["A3"]
        assert isinstance(a.value, datetime) and a.value == datetime(2026, 10, 24, 9, 0) and "yyyy" in a.number_format
        rate = wb["时效"]["F3"]
        assert rate.value == 1.0 and rate.number_format == "0.0%"
    finally:
        app.ctx.background.shutdown()


# -- in the browser ----------------------------------------------------------------------------------

from tests.test_dashboard_levels import browser, sign_in as browser_sign_in, site  # noqa: E402,F401 - fixtures

COMPARE_TEXT = "return document.getElementById('review-compare').innerText"
PANEL_DONE = ("var t = document.getElementById('{id}').innerText;"
              "return t.length > 0 && t.indexOf('计算中') < 0 ? t : null;")


def test_the_review_week_says_what_it_cannot_compare_and_updates_after_a_change(site, browser):
    """On the site's 8 days of history (and 26 hours a year ago) the 周 view: every comparison
    either made against a fully covered week or replaced by a note saying how much is there,
    never a percentage beside a partial week; after switching to 日 the title, the cloud and the
    phrases all come back (nothing keeps saying 计算中…)."""
    from tests.test_dashboard_browser import js_wait

    driver, rec = browser
    browser_sign_in(driver, site["url"], "qianhead", "/review?period=week")
    js_wait(driver, "return document.querySelectorAll('#review-compare tr').length == 5", 60, "the comparison")
    text = driver.execute_script(COMPARE_TEXT)
    notes = re.findall(r"(上期|本期|去年同期)(?:仅有 (\d+)/(\d+) 天数据|无数据)，不作(环比|同比)", text)
    rows = [r.split("\t") for r in text.split("\n") if r.startswith(("投诉", "举报", "咨询", "合计"))]
    assert len(rows) == 4, text
    for what, col in (("环比", 3), ("同比", 5)):
        if any(n[3] == what for n in notes):
            assert all("%" not in r[col] for r in rows), (what, text)
    if datetime.now(site["settings"].tz).weekday() >= 2:
        assert any(n[3] == "同比" for n in notes), "26 hours a year ago do not cover 3 days or more: " + text
    title = driver.find_element("id", "review-title").text
    driver.execute_script("Array.from(document.querySelectorAll('#review-period label'))"
                          ".find(function (l) { return l.textContent.trim() === '日'; }).click()")
    js_wait(driver, f"return document.getElementById('review-title').innerText !== {title!r}", 30, "the new title")
    for panel in ("review-cloud", "review-phrases", "review-compare"):
        got = js_wait(driver, PANEL_DONE.format(id=panel), 120, f"{panel} after the change")
        assert "出错" not in got and "无法查询" not in got and "不可用" not in got, (panel, got)
    assert driver.execute_script("return document.querySelectorAll('#review-phrases tr').length") > 1
    from tests.test_dashboard_levels import VISIBLE_TEXT, latin_words
    assert latin_words(driver.execute_script(VISIBLE_TEXT)) == [], "the review speaks Chinese"
    assert "周" not in driver.find_element("id", "review-title").text
