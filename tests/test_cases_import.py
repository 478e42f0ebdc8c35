"""Case events from the status columns of an export: pure mapping, and an import
through the real broker, worker and Redis giving exact figures; a re-import changes nothing."""
import csv
import subprocess
import sys

from config import IMPORT_COLUMNS_FILE, read_yaml
from streams.cases.importing import case_mapping, row_events
from streams.cases.read import kpis
from tests.conftest import ROOT, start_worker, wait_until

_, STATUSES = case_mapping(read_yaml(IMPORT_COLUMNS_FILE), "m", ValueError)

HEADERS = ["工单编号", "登记时间", "来源", "类型", "所属区域", "行业", "诉求内容", "投诉人", "联系电话",
           "处理状态", "受理时间", "办结时间", "办结方式", "挽回经济损失(元)", "满意度", "承办单位"]
ROWS = [
    # received Thursday 2026-02-12 before Spring Festival: 7 working days end 2026-03-01 00:00
    # (02-13, Sat 02-14, 02-24 .. 02-27, Sat 02-28)
    ["IM-1", "2026/2/12 15:00", "12315", "投诉", "长治市潞州区", "食品", "买到过期食品", "张三", "13812345678",
     "已办结", "2026/2/28 16:00", "2026/3/10 10:00", "调解成功", "¥1,200.00", "满意", "潞州区市场监管局"],
    ["IM-2", "2026/2/12 15:00", "12315", "投诉", "长治市潞州区", "食品", "买到变质食品", "李四", "13912345678",
     "已办结", "2026/3/2 09:00", "2026/3/20 10:00", "自行和解", "0", "不满意", "潞州区市场监管局"],   # accepted late
    ["IM-3", "2026/2/12 15:00", "12315", "投诉", "长治市潞州区", "食品", "商家拒绝退款", "王五", "13712345678",
     "不予受理", "2026/2/13 09:00", "", "", "", "", "潞州区市场监管局"],                              # refused in a day
    ["IM-4", "2026/2/12 15:00", "12315", "投诉", "长治市潞州区", "食品", "办结方式写错了", "赵六", "13612345678",
     "已办结", "2026/2/13 10:00", "2026/2/20 10:00", "皆大欢喜", "", "", ""],                          # outcome unknown
]


def test_status_columns_become_events():
    evs = row_events("c1", "投诉", {"status": "已办结", "accepted_at": "2026-02-28T16:00:00", "closed_at": "2026-03-10T10:00:00",
                                    "close_type": "调解成功", "recovered_yuan": "1200", "satisfaction": "满意", "unit": "某局"}, STATUSES)
    assert [(e["id"], e["event"], e["at"]) for e in evs] == [
        ("c1:imp:accept", "accept", "2026-02-28T16:00:00"), ("c1:imp:close", "close", "2026-03-10T10:00:00"),
        ("c1:imp:visit", "visit", "2026-03-10T10:00:00")]
    assert evs[1]["outcome"] == "mediated" and evs[1]["recovered_yuan"] == "1200" and evs[0]["unit"] == "某局"
    # closed without an accept time: the accept is put at the close (never counted on time by mistake)
    evs = row_events("c2", "投诉", {"status": "已办结", "closed_at": "2026-03-10T10:00:00", "close_type": "撤回"}, STATUSES)
    assert [(e["event"], e["at"]) for e in evs] == [("accept", "2026-03-10T10:00:00"), ("close", "2026-03-10T10:00:00")]
    assert row_events("c3", "投诉", {"status": "待受理"}, STATUSES) == []
    assert [e["event"] for e in row_events("c4", "举报", {"status": "已立案", "accepted_at": "2026-03-01T09:00:00"},
                                              STATUSES)] == ["open_case"]
    (t,) = row_events("c5", "投诉", {"status": "已转办", "closed_at": "2026-03-01T09:00:00"}, STATUSES)
    assert t["event"] == "transfer" and t["reason"].startswith("导入")


def test_import_with_status_columns_gives_exact_figures_once(stack, procs, tmp_path):
    start_worker(procs, stack)
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADERS)
        w.writerows(ROWS)

    def run():
        p = subprocess.run([sys.executable, "-m", "streams.importer", str(path), "--timeout", "15"], cwd=ROOT,
                           env=stack["env"], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        return p.stdout
    out = run()
    assert "case events 8, rejected 1" in out, out
    r = stack["redis"]
    # events may overtake their complaints (another partition): applied at once or held and released
    wait_until(lambda: sum(int(r.hget("cc:cases:stats", k) or 0) for k in ("applied", "released")) == 8, 30, "8 events in")
    wait_until(lambda: r.hget("cc:rejects", "outcome.unknown") == "1", 30, "the unknown outcome dead-lettered")
    k = kpis(r, stack["settings"], "city", "140400", "2026-02-01", "2026-03-01")
    assert k["on_time_first_check"] == {"value": 0.75, "numerator": 3, "denominator": 4}   # IM-2 accepted 03-02
    assert k["mediation_success"] == {"value": 0.5, "numerator": 1, "denominator": 2}
    assert k["self_settlement"] == {"value": 0.5, "numerator": 1, "denominator": 2}
    assert k["satisfaction"] == {"value": 0.5, "numerator": 1, "denominator": 2}
    assert k["recovered_yuan"] == 1200.0
    assert k["open"] == 1          # IM-4: accepted, its close was refused, mediation still running
    run()                                                                   # the same export again
    # 4 complaints and 8 events refused as duplicates; the bad event's dead letter has the same ref: counted once
    wait_until(lambda: int(r.hget("cc:rejects", "duplicate_id") or 0) == 12, 30, "re-imported rows refused")
    k2 = kpis(r, stack["settings"], "city", "140400", "2026-02-01", "2026-03-01")
    assert k2 | {"as_of": None} == k | {"as_of": None}
    assert not any("13812345678" in v for v in r.hvals("cc:case:IM-1"))
