"""The case timer in a real worker: 提醒卡/催办卡/overdue notices once each at the webhook
receiver, the 督办 list, and events whose complaint never came dead-lettered.
Clocks are shortened through CASE_SETTINGS_FILE (rapid items: 6 s to instruct)."""
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from streams.cases.config import CASES_FILE, load_case_config
from streams.cases.read import due_items
from streams.services import free_port
from tests.conftest import start_worker, wait_http, wait_until


@pytest.fixture
def receiver(procs):
    port = free_port()
    p = procs("-m", "alerts.receiver", "--port", str(port), name="receiver")
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/received", p, "the test receiver", 20)
    return url


@pytest.fixture
def case_env(stack, receiver):
    env = stack["env"]
    env["ALERT_WEBHOOK_URL"] = f"{receiver}/webhook"
    text = CASES_FILE.read_text(encoding="utf-8")
    for old, new in (("limit: 15m", "limit: 6s"), ("limit: 45m", "limit: 600s"), ("limit: 24h", "limit: 1200s"),
                     ("hold_hours: 24", "hold_hours: 0.002"), ("tick_s: 5", "tick_s: 1")):
        assert old in text
        text = text.replace(old, new)
    f = Path(env["DATA_DIR"]) / "cases.yaml"
    f.write_text(text, encoding="utf-8")
    env["CASE_SETTINGS_FILE"] = str(f)
    return env


def test_notices_once_each_due_list_and_held_events_expire(stack, case_env, receiver, procs, api):
    start_worker(procs, stack)
    r = stack["redis"]
    now = datetime.now(stack["settings"].tz).isoformat(timespec="seconds")
    c = {"id": "Q1", "received_at": now, "channel": "12315", "kind": "投诉", "district": "140403",
         "industry": "旅游", "text": "游客即将离开，现场纠纷，联系人王五13712345678", "tags": ["快反"]}
    assert httpx.post(api + "/api/v1/complaints", json=c, headers=api.headers).status_code == 202
    assert httpx.post(api + "/api/v1/case-events", headers=api.headers,
                      json={"id": "N1", "complaint_id": "NOPE", "event": "accept", "at": now}).status_code == 202

    def hooks():
        got = httpx.get(receiver + "/received", timeout=5).json()
        return [(m["body"]["event"], m["body"]["alert"]["sla"][0]["name"]) for m in got if m["path"] == "/webhook"]
    wait_until(lambda: ("overdue", "instruct") in hooks(), 40, "the instruct clock's overdue notice")
    assert sorted(h for h in hooks() if h[1] == "instruct") == [
        ("overdue", "instruct"), ("reminder", "instruct"), ("urging", "instruct")]
    got = httpx.get(receiver + "/received", timeout=5).json()
    titles = [m["body"]["title"] for m in got if m["path"] == "/webhook"]
    assert any("【提醒】" in t and "指派快反分队时限已过半" in t for t in titles), titles
    assert "13712345678" not in str(got)
    cfg = load_case_config(case_env["CASE_SETTINGS_FILE"])
    due = due_items(r, stack["settings"], "city", "140400", cfg=cfg)
    assert [(d["complaint_id"], d["clock"], d["stage"]) for d in due] == [("Q1", "instruct", "overdue")]
    assert due[0]["remaining_s"] < 0 and due[0]["district_name"].endswith("潞州区")
    # stopping the clocks: a close ends every rapid clock, nothing more is sent, the list empties
    assert httpx.post(api + "/api/v1/case-events", headers=api.headers, json={
        "id": "Q1c", "complaint_id": "Q1", "event": "close", "at": datetime.now(stack["settings"].tz).isoformat(),
        "outcome": "mediated"}).status_code == 202
    wait_until(lambda: not due_items(r, stack["settings"], "city", "140400", cfg=cfg), 20, "the 督办 list to empty")
    wait_until(lambda: r.zcard("cc:cases:due") == 0, 20, "the due index to drop Q1")
    sent = len(hooks())
    time.sleep(3)
    assert len(hooks()) == sent and len(set(hooks())) == len(hooks())    # each notice once
    # the event for a complaint that never came: dead-lettered after the hold and counted
    wait_until(lambda: r.hget("cc:rejects", "complaint_id.unknown") == "1", 30, "the held event dead-lettered")
    assert r.zcard("cc:cases:held") == 0
