"""`python -m alerts list|show|ack|dispatch|…|silence` on a real redis-server."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from alerts.store import AlertStore
from tests.conftest import ROOT

TZ = ZoneInfo("Asia/Shanghai")


def cli(stack, *args):
    return subprocess.run([sys.executable, "-m", "alerts", *args], cwd=ROOT, env=stack["env"],
                          capture_output=True, text=True, timeout=60)


def test_the_duty_officer_works_an_alert_from_the_terminal(stack):
    store = AlertStore(stack["redis"])
    now = datetime.now(TZ)
    aid, outcome = store.raise_or_update({
        "series": "county:140403:产品质量", "since": (now - timedelta(hours=1)).isoformat(), "at": now.isoformat(),
        "observed": 31, "expected": 2.5, "score": 40.2, "threshold": 7, "method": "share-scan",
        "samples": [{"id": "c1", "at": now.isoformat(), "text": "衣服掉色，电话13812345678"}]}, now)
    assert outcome == "new"
    out = cli(stack, "list")
    assert out.returncode == 0 and aid in out.stdout and "新预警" in out.stdout and "潞州区" in out.stdout
    level = {"red": "红色预警", "orange": "橙色预警", "yellow": "黄色预警", "blue": "蓝色预警"}[store.get(aid)["severity"]]
    assert level in out.stdout       # the warning level on the alert's line
    assert "13812345678" not in cli(stack, "show", aid).stdout
    bad = cli(stack, "close", aid, "--by", "值班员李")
    assert bad.returncode == 2 and bad.stderr.startswith("error:")
    assert cli(stack, "ack", aid, "--by", "值班员李").returncode == 0
    assert cli(stack, "dispatch", aid, "--by", "值班员李", "--team", "产品质量快反分队").returncode == 0
    nope = cli(stack, "dispatch", aid, "--by", "值班员李")
    assert nope.returncode == 2 and "--team" in nope.stderr
    assert cli(stack, "false-alarm", aid, "--by", "值班员李", "--note", "商场促销排队，非质量问题").returncode == 0
    shown = json.loads(cli(stack, "show", aid).stdout)
    assert shown["state"] == "false_alarm"
    assert [(h["action"], h["by"]) for h in shown["history"]] == [
        ("raised", "system"), ("ack", "值班员李"), ("dispatch", "值班员李"), ("false_alarm", "值班员李")]
    assert aid not in cli(stack, "list").stdout and aid in cli(stack, "list", "--state", "all").stdout
    missing = cli(stack, "show", "a-000000000000")
    assert missing.returncode == 2 and "no alert" in missing.stderr


def test_silences_from_the_terminal(stack):
    until = (datetime.now(TZ) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    sid = cli(stack, "silence", "add", "--district", "140900", "--until", until, "--reason", "五台山国庆旅游高峰",
              "--by", "局长").stdout.strip()
    assert sid
    listed = [json.loads(x) for x in cli(stack, "silence", "list").stdout.splitlines()]
    assert [s["id"] for s in listed] == [sid] and listed[0]["reason"] == "五台山国庆旅游高峰"
    store = AlertStore(stack["redis"])
    now = datetime.now(TZ)
    det = {"series": "county:140922:旅游", "since": now.isoformat(), "observed": 50, "expected": 3, "score": 60}
    assert store.raise_or_update(det, now) == (None, "silenced")          # 五台县 is under 忻州市
    past = cli(stack, "silence", "add", "--district", "140900", "--until", "2020-01-01T00:00", "--reason", "x",
               "--by", "局长")
    assert past.returncode == 2 and "future" in past.stderr
    assert cli(stack, "silence", "remove", sid, "--by", "局长").returncode == 0
    assert store.raise_or_update(det, now)[1] == "new"
    assert cli(stack, "--help").returncode == 0 and cli(stack, "silence", "add", "--help").returncode == 0
