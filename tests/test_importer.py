"""The importer: CSV/XLSX exports -> checked complaints -> Kafka, bad rows -> dead-letter topic."""
from __future__ import annotations

import asyncio
import csv
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import openpyxl
import orjson
import pytest

from config import load_settings
from streams.importer import (ImportFailure, check_rows, import_file, load_mapping, locate_header, main,
                              match_columns, normalise_time, open_table)
from streams.schema import Rules
from tests.conftest import ROOT, consume_all

SETTINGS = load_settings({})
RULES = Rules(SETTINGS)
HEADERS = ["工单编号", "登记时间", "来源", "类型", "所属区域", "行业", "被投诉方", "涉及金额(元)", "诉求内容",
           "投诉人", "联系电话", "处理结果"]
GOOD = [
    ["SX-001", "2024/10/01 10:15", "12315平台", "投诉", "长治市潞州区", "产品质量", "某商场", "1,299", "衣服洗一次就掉色，商家拒绝退换，回电13812345678",
     "张三", "13812345678", "已办结"],
    ["SX-002", "2024-10-01 10:16:00", "12345热线", "举报", "140403", "价格", "某超市", "", "标价与结算价不一致",
     "", "", ""],
]
BAD = [
    ["SX-003", "2024-10-01 11:00", "12315", "投诉", "999999", "", "", "", "电器质量差，李四13900001111", "李四", "13900001111", ""],  # unknown district
    ["SX-004", "2024-10-01 11:05", "12315", "投诉", "140403", "", "", "", "", "", "", ""],              # no text
    ["SX-005", "2024/13/45 10:00", "12315", "咨询", "潞州区", "", "", "", "更换难", "", "", ""],         # bad date
]


def write_csv(path: Path, rows: list[list], encoding: str = "utf-8-sig", headers=HEADERS) -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(headers)
        w.writerows(rows)
    return path


def check(path: Path, mapping=None, **kw) -> list:
    """Every data row of a file, mapped and validated (no Kafka)."""
    mapping = mapping or load_mapping()
    table = open_table(path, **kw)
    try:
        _, headers, rows = locate_header(table.rows, mapping)
        return list(check_rows(rows, match_columns(headers, mapping), mapping, RULES, "t"))
    finally:
        table.close()


def run_cli(*args, env=None, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "streams.importer", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


# ---------------------------------------------------------------- reading and mapping

@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_csv_with_chinese_headers_is_read_in_either_encoding(tmp_path, encoding):
    path = write_csv(tmp_path / "export.csv", GOOD, encoding)
    table = open_table(path)
    table.close()
    assert table.detail == f"CSV, {encoding}"
    res = check(path)
    assert [r.errors for r in res] == [[], []]
    a, b = (r.record for r in res)
    assert a["id"] == "SX-001" and a["text"].startswith("衣服洗一次就掉色")
    assert a["received_at"] == "2024-10-01T10:15:00+08:00"
    assert (a["channel"], a["kind"], a["industry"], a["merchant"], a["amount"]) == ("12315", "投诉", "产品质量", "某商场", 1299.0)
    assert a["contact"]["phone"] == "138****5678" and a["contact"]["name"] == "张*"
    assert (b["channel"], b["kind"], b["industry"]) == ("12345", "举报", "价格")


def test_district_by_name_and_by_code_give_the_same_code(tmp_path):
    rows = [[f"D{i}", "2024-10-01 10:00", "12315", "投诉", d, "", "", "", "质量差", "", "", ""]
            for i, d in enumerate( ("长治市潞州区", "潞州区", "山西省长治市潞州区", "140403", " 140403 "))]
    res = check(write_csv(tmp_path / "d.csv", rows))
    assert {r.record["district"] for r in res} == {"140403"}
    assert all(r.record["province"] == "140000" for r in res)


def test_xlsx_with_title_row_datetime_cells_and_numeric_codes(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.active["A1"] = "本表由12315平台导出"
    ws = wb.create_sheet("投诉明细")
    ws.append(["2024年10月投诉举报明细表"])              # a title above the header
    ws.append([" 登记时间 ", "来源", "类型", "所属区域", "诉求内容", "联系电话"])
    ws.append([datetime(2024, 10, 1, 10, 15), "12315", "投诉", 140403, "外卖餐品有异物", 13812345678])
    ws.append([datetime(2024, 10, 2, 8, 0), "小程序", "咨询", "长治市潞州区", "金饰回收价格", None])
    path = tmp_path / "export.xlsx"
    wb.save(path)

    with pytest.raises(ImportFailure, match="no column for received_at"):
        check(path)                                      # the first sheet is the notes sheet
    res = check(path, sheet="投诉明细")
    assert [r.row for r in res] == [3, 4]                # rows as Excel numbers them
    a, b = (r.record for r in res)
    assert a["received_at"] == "2024-10-01T10:15:00+08:00" and a["district"] == "140403"
    assert a["contact"] == {"phone": "138****5678", "masked": True}
    assert b["channel"] == "mini-program" and b["received_at"] == "2024-10-02T08:00:00+08:00"
    assert a["id"].startswith("imp-") and a["id"] != b["id"]
    with pytest.raises(ImportFailure, match="no sheet '汇总'.*说明, 投诉明细"):
        open_table(path, sheet="汇总")


def test_rows_without_id_get_the_same_id_on_every_import_and_in_every_format(tmp_path):
    headers = ["受理时间", "渠道", "件类型", "区域", "投诉内容", "金额"]
    rows = [["2024/10/01 10:15", "12315", "投诉", "潞州区", "衣服掉色", "299"],
            ["2024/10/01 10:20", "12315", "投诉", "潞州区", "电器质量差", "1,000.00"]]
    csv_path = write_csv(tmp_path / "a.csv", rows, headers=headers)
    first, second = [[r.record["id"] for r in check(csv_path)] for _ in range(2)]
    assert first == second and len(set(first)) == 2 and all(i.startswith("imp-") and len(i) == 44 for i in first)

    wb = openpyxl.Workbook()
    wb.active.append(headers)
    wb.active.append([datetime(2024, 10, 1, 10, 15), "12315", "投诉", "潞州区", "衣服掉色", 299])
    wb.active.append([datetime(2024, 10, 1, 10, 20), "12315", "投诉", "140403", "电器质量差", 1000])
    wb.save(tmp_path / "a.xlsx")
    assert [r.record["id"] for r in check(tmp_path / "a.xlsx")] == first


def test_bad_rows_are_rejected_with_row_numbers_and_reasons(tmp_path):
    res = check(write_csv(tmp_path / "bad.csv", GOOD + BAD))
    bad = [r for r in res if r.record is None]
    assert [r.row for r in bad] == [4, 5, 6]
    assert [(e["field"], e["code"]) for r in bad for e in r.errors] == [
        ("district", "unknown"), ("text", "missing"), ("received_at", "invalid")]
    assert bad[0].message().startswith("第 4 行 / row 4: district 999999 is not in the")
    assert bad[0].ref == "t:4"


def test_unresolvable_district_name_says_so(tmp_path):
    rows = [["X1", "2024-10-01 10:00", "12315", "投诉", "城区", "", "", "", "质量差", "", "", ""],       # ambiguous
            ["X2", "2024-10-01 10:00", "12315", "投诉", "火星市", "", "", "", "质量差", "", "", ""]]
    res = check(write_csv(tmp_path / "n.csv", rows))
    for r in res:
        assert r.record is None and [e["code"] for e in r.errors] == ["unknown_name"]
    assert "'城区' is not a known division or is ambiguous" in res[0].message()


def test_a_repeated_id_in_one_file_is_counted_once(tmp_path):
    res = check(write_csv(tmp_path / "dup.csv", [GOOD[0], GOOD[1], GOOD[0]]))
    assert [r.record is not None for r in res] == [True, True, False]
    assert res[2].errors[0]["code"] == "duplicate_id" and "row 2" in res[2].errors[0]["message"]


def test_header_matching_ignores_spaces_case_and_units_and_mapping_is_replaceable(tmp_path):
    path = write_csv(tmp_path / "en.csv", [["2024-10-01 10:00", "140403", "Fading clothes", "99"]],
                     headers=[" Received_At ", "DISTRICT", "Text", "Amount (元)"])
    with pytest.raises(ImportFailure, match="channel .*--default-channel"):
        check(path)
    mapping = load_mapping().with_defaults(channel="12345热线", kind="投诉")
    [r] = check(path, mapping)
    assert (r.record["channel"], r.record["kind"], r.record["amount"]) == ("12345", "投诉", 99.0)

    own = tmp_path / "cols.yaml"
    own.write_text("columns:\n  received_at: [时间]\n  district: [地区]\n  text: [事由]\n"
                   "defaults:\n  channel: letter\n  kind: 举报\n", encoding="utf-8")
    path2 = write_csv(tmp_path / "own.csv", [["2024-10-01 10:00", "潞州区", "价格不合理"]], headers=["时间", "地区", "事由"])
    [r] = check(path2, load_mapping(own))
    assert (r.record["channel"], r.record["kind"], r.record["district"]) == ("letter", "举报", "140403")


@pytest.mark.parametrize("text,iso", [
    ("2024/10/01 10:15", "2024-10-01T10:15:00"), ("2024/10/1 9:05", "2024-10-01T09:05:00"),
    ("2024-10-01 10:15:00", "2024-10-01T10:15:00"), ("2024年10月1日 9时5分", "2024-10-01T09:05:00"),
    ("2024年10月1日 9时5分30秒", "2024-10-01T09:05:30"), ("2024-10-01", "2024-10-01T00:00:00"), ("20241001101500", "2024-10-01T10:15:00"),
    ("2024-10-01T10:15:00+08:00", "2024-10-01T10:15:00+08:00"), ("昨天", "昨天"), ("2024/13/45", "2024/13/45"),
    (45566.4270833, "2024-10-01T10:15:00"), (20241001, "2024-10-01T00:00:00"), (1727748900, 1727748900),
])
def test_dates_as_exports_write_them(text, iso):
    assert normalise_time(text) == iso


# ---------------------------------------------------------------- the CLI

def test_help_describes_every_option(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for opt in ("--mapping", "--encoding", "--sheet", "--default-channel", "--default-kind", "--dry-run",
                "--timeout", "--batch-size", "--max-errors", "--no-progress", "Exit status"):
        assert opt in out


def test_dry_run_reports_bad_rows_and_does_not_touch_kafka(tmp_path):
    path = write_csv(tmp_path / "mixed.csv", GOOD + BAD)
    env = {"PATH": "/usr/bin:/bin", "KAFKA_BROKER": "127.0.0.1:1"}     # nothing listens there
    p = run_cli(path, "--dry-run", "--max-errors", "2", env=env)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert any(ln.startswith("第 4 行 / row 4: district 999999") for ln in lines)
    assert any(ln.startswith("第 5 行 / row 5: text is required") for ln in lines)
    assert "… and 1 more" in p.stdout and "第 6 行" not in p.stdout
    assert lines[-1] == ("导入 / import mixed.csv: rows read 5, accepted 2, rejected 3 (district.unknown 1, "
                         "text.missing 1, received_at.invalid 1); dry run, nothing published")


def test_import_file_dry_run_needs_no_broker(tmp_path):
    offline = load_settings({"KAFKA_BROKER": "127.0.0.1:1"})
    report = asyncio.run(import_file(write_csv(tmp_path / "a.csv", GOOD + BAD), offline, dry_run=True, progress=False))
    assert (report.rows, report.accepted, report.rejected, report.published) == (5, 2, 3, 0)


@pytest.mark.parametrize("make,args,expect", [
    (lambda d: d / "missing.csv", [], "error: file not found: "),
    (lambda d: (d / "old.xls").write_bytes(b"\xd0\xcf") and d / "old.xls", [], "error: unknown format '.xls'"),
    (lambda d: write_csv(d / "h.csv", [["1", "x"]], headers=["编号", "备注"]), [],
     "error: h.csv: no column for received_at (expected a header named one of: 登记时间"),
    (lambda d: write_csv(d / "e.csv", GOOD), ["--default-kind", "表扬"], "error: --default-kind '表扬' is not a kind"),
    (lambda d: write_csv(d / "e.csv", GOOD), ["--timeout", "2"], "error: broker 127.0.0.1:1 unreachable while connecting"),
])
def test_fatal_errors_are_one_line_and_exit_2(tmp_path, make, args, expect):
    p = run_cli(make(tmp_path), *args, env={"PATH": "/usr/bin:/bin", "KAFKA_BROKER": "127.0.0.1:1"})
    assert p.returncode == 2
    err = p.stderr.strip()
    assert err.startswith(expect), err
    assert "\n" not in err and "Traceback" not in err


def test_unknown_header_message_names_field_expected_names_and_file_headers(tmp_path):
    path = write_csv(tmp_path / "h.csv", [["1", "x", "y"]], headers=["编号", "受理时间", "备注"])
    with pytest.raises(ImportFailure) as e:
        check(path)
    msg = str(e.value)
    assert "no column for channel" in msg and "district (expected a header named one of: 所属区域, 区域" in msg
    assert "text (expected a header named one of: 诉求内容" in msg
    assert "The file's headers are: 编号, 受理时间, 备注" in msg and "received_at" not in msg.split("headers are")[0]


# ---------------------------------------------------------------- against the real broker

def test_cli_publishes_good_rows_and_dead_letters_bad_ones(stack, tmp_path):
    settings = stack["settings"]
    path = write_csv(tmp_path / "export.csv", GOOD + BAD, "gb18030")
    p = run_cli(path, "--timeout", "15", env=stack["env"])
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[-1].endswith(f"rejected 3 (district.unknown 1, text.missing 1, received_at.invalid 1); "
                                              f"published 2 to {settings.complaints_topic}")

    async def read(n_complaints: int, n_dead: int):
        return (await consume_all(settings, settings.complaints_topic, n_complaints, timeout=10),
                await consume_all(settings, settings.dead_letter_topic, n_dead, timeout=10))

    complaints, dead = asyncio.run(read(1, 3))
    envelopes = [orjson.loads(m) for m in complaints]
    assert {e["src"] for e in envelopes} == {"import"}
    items = [i for e in envelopes for i in e["items"]]
    assert sorted(i["id"] for i in items) == ["SX-001", "SX-002"]
    assert all(b"13812345678" not in m for m in complaints)
    first = next(i for i in items if i["id"] == "SX-001")
    assert first["contact"]["phone"] == "138****5678" and "138****5678" in first["text"]

    dlq = sorted((orjson.loads(m) for m in dead), key=lambda r: r["ref"])
    assert [r["reason_code"] for r in dlq] == ["district.unknown", "text.missing", "received_at.invalid"]
    assert [r["ref"].rsplit(":", 1)[1] for r in dlq] == ["4", "5", "6"]
    assert all(r["source"] == "import" and r["ref"].startswith("import:") for r in dlq)
    assert "999999" in dlq[0]["reason"] and "SX-003" in dlq[0]["raw"]
    assert all(b"13900001111" not in m and "李四" not in m.decode() for m in dead)     # PII masked there too

    # Importing the same export again reuses every id and dead-letter ref: nothing counts twice.
    assert run_cli(path, "--timeout", "15", env=stack["env"]).returncode == 0
    complaints2, dead2 = asyncio.run(read(2, 6))
    ids2 = sorted(i["id"] for m in complaints2 for i in orjson.loads(m)["items"])
    assert ids2 == ["SX-001", "SX-001", "SX-002", "SX-002"]
    assert sorted({orjson.loads(m)["ref"] for m in dead2}) == [r["ref"] for r in dlq]
