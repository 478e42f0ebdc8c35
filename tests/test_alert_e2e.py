"""Surge alerts end to end on the real broker and redis-server.

History through the simulator, a surge through the HTTP API, the worker's detector raising
one alert within seconds, the local receiver getting it (DingTalk signed and a JSON
webhook), the duty officer's actions through the API recorded, and a worker killed and
restarted without losing or duplicating the alert.
"""
from __future__ import annotations

import re

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pathlib import Path

import httpx
import pytest

from config.divisions import divisions

from alerts.store import AlertStore
from streams.services import free_port
from tests.conftest import start_worker, wait_http, wait_until

TZ = ZoneInfo("Asia/Shanghai")
SECRET = "SECe2e0123456789"
SURGE_SERIES = "county:140403:产品质量"
RELATED = {"county:140403:*", "city:140400:产品质量", "city:140400:*", "province:140000:产品质量"}


def surge(n: int, start: int) -> list[dict]:
    now = datetime.now(TZ).isoformat(timespec="seconds")
    return [{"id": f"SURGE-{start + i}", "received_at": now, "channel": "12315", "kind": "投诉",
             "district": "140403", "industry": "产品质量", "merchant": "潞州金鼎购物广场",
             "text": f"在潞州金鼎购物广场买的衣服洗了一次就严重掉色，要求换货被拒，更换难（第{start + i}件）。"
                     f"我的电话13812345678",
             "contact": {"name": "王小明", "phone": "13812345678"}} for i in range(n)]


def received(url: str) -> list[dict]:
    return httpx.get(url + "/received", timeout=5).json()


@pytest.fixture
def receiver(procs):
    port = free_port()
    p = procs("-m", "alerts.receiver", "--port", str(port), "--secret", SECRET, name="receiver")
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/received", p, "the test receiver", 20)
    return url


@pytest.fixture
def alert_env(stack, receiver):
    """Notifications to the receiver, and phrase alerts checked every 10 s instead of 5 min, in
    the environment of every process started after it (the API, workers)."""
    from alerts.config import ALERTS_FILE

    env = stack["env"]
    env["DINGTALK_WEBHOOK"] = f"{receiver}/dingtalk?access_token=e2e"
    env["DINGTALK_SECRET"] = SECRET
    env["ALERT_WEBHOOK_URL"] = f"{receiver}/webhook"
    env["DASHBOARD_URL"] = "http://127.0.0.1:8050"
    alerts_file = Path(env["DATA_DIR"]) / "alerts.yaml"
    alerts_file.write_text(ALERTS_FILE.read_text(encoding="utf-8").replace("phrase_every: 5m", "phrase_every: 10s"),
                           encoding="utf-8")
    assert "phrase_every: 10s" in alerts_file.read_text(encoding="utf-8")
    env["ALERT_SETTINGS_FILE"] = str(alerts_file)
    return env


@pytest.mark.timeout(300)
def test_a_surge_raises_one_alert_that_is_delivered_acted_on_and_survives_a_restart(stack, procs, receiver,
                                                                                      alert_env, api):
    r = stack["redis"]
    store = AlertStore(r)

    # a worker, then eight days of history through the simulator (the detector needs a week
    # before it may alarm, and relearns while it is cold)
    worker = start_worker(procs, stack)
    seed = procs("-m", "streams.simulate", "--history-days", "8", "--history-rate", "300", "--run-tag", "e2e",
                 name="history")
    wait_until(lambda: not seed.alive(), 120, "the history to be written")
    assert "Traceback" not in seed.output(), seed.output()[-2000:]
    wait_until(lambda: (r.hgetall("cc:alerts:detector:status") or {}).get("warm") == "1", 90,
               "the detector to learn the history")

    # the surge: 30 complaints of one county and industry in a minute
    t_sent = time.time()
    for i in range(0, 30, 10):
        resp = httpx.post(api + "/api/v1/complaints", json=surge(10, i), timeout=10, headers=api.headers)
        assert resp.status_code == 202, resp.text
    wait_until(lambda: [a for a in store.list("open") if a["series"] == SURGE_SERIES], 30, "the surge alert")
    alert = next(a for a in store.list("open") if a["series"] == SURGE_SERIES)
    opened = datetime.fromisoformat(alert["opened_at"]).timestamp()
    # the detector scores the hour in progress every second (measured here: about 1-2 s from the
    # first POST); the bound is loose so a loaded CI machine does not fail on a timing
    print(f"\nsurge alert raised {opened - t_sent:.1f} s after the first surge complaint was sent")
    assert opened - t_sent <= 10.0, f"raised {opened - t_sent:.1f} s after the surge was sent"
    assert alert["observed"] >= 20 and alert["expected"] < alert["observed"] / 3
    assert alert["state"] == "new" and alert["team"] == "产品质量快反分队"
    assert "潞州金鼎购物广场" in dict(alert["merchants"])
    assert any("掉色" in p for p in alert["phrases"]), alert["phrases"]
    assert alert["samples"] and all("13812345678" not in s["text"] and "王小明" not in s["text"]
                                    for s in alert["samples"])
    # one surge, one alert: nothing on the county total, its city, or the province's industry
    assert not [a for a in store.list(None) if a["series"] in RELATED]

    # delivered: a signed DingTalk message and a JSON webhook, each once, with no raw PII
    def deliveries():
        got = received(receiver)
        hook = [m for m in got if m["path"] == "/webhook" and m["body"]["alert"]["id"] == alert["id"]]
        # messages about this alert: its district, and no link to another alert (the history the
        # simulator wrote may raise an alert of its own in the same district, whose reminders
        # arrive here too: seen once in a clean clone, 【提醒】 潞州区 一般消费纠纷)
        ding = [m for m in got if m["path"] == "/dingtalk" and alert["district_name"] in m["body"]["markdown"]["text"]
                and all(x == alert["id"] for x in re.findall(r"/duty\?alert=([\w-]+)", m["body"]["markdown"]["text"]))]
        return hook, ding
    wait_until(lambda: all(deliveries()), 30, "the alert at the receiver")
    hook, ding = deliveries()
    assert [m["body"]["event"] for m in hook] == ["new"] and len(ding) == 1
    assert "13812345678" not in str(received(receiver))
    assert f"/duty?alert={alert['id']}" in ding[0]["body"]["markdown"]["text"]
    log = store.deliveries(alert["id"])
    assert {(d["channel"], d["ok"]) for d in log} >= {("webhook", True), ("dingtalk", True)}

    # kill -9 the worker mid-surge, start another, keep the surge going: the same alert
    # is updated, none is added, nothing is sent twice
    worker.kill9()
    start_worker(procs, stack)
    for i in range(30, 50, 10):
        assert httpx.post(api + "/api/v1/complaints", json=surge(10, i), timeout=10, headers=api.headers).status_code == 202
    wait_until(lambda: store.get(alert["id"])["observed"] >= alert["observed"] + 15, 60,
               "the restarted worker's detector to update the open alert")
    same = [a for a in store.list(None) if a["series"] == SURGE_SERIES or a["series"] in RELATED]
    assert [a["id"] for a in same] == [alert["id"]]
    time.sleep(2)
    hook, ding = deliveries()
    # one "new"; a doubled score may send one "escalated" (the same alert, louder), never a second "new"
    events = [m["body"]["event"] for m in hook]
    assert events[0] == "new" and set(events[1:]) <= {"escalated"} and len(ding) == len(hook), events

    # the duty officer acts through the API; each step is recorded with who and when
    # (who acts is the token's name, never a field of the body)
    base = f"{api}/api/v1/alerts/{alert['id']}"
    li, wang = api.token_headers("值班员李", "read,act"), api.token_headers("快反分队王", "act")
    assert httpx.post(base + "/close", json={}, headers=li, timeout=5).status_code == 409  # not dispatched
    assert httpx.post(base + "/ack", json={"by": "someone else"}, headers=li, timeout=5).status_code == 200
    bad = httpx.post(base + "/dispatch", json={"team": "不存在的分队"}, headers=li, timeout=5)
    assert bad.status_code == 422 and "不存在的分队" in bad.json()["error"]
    ok = httpx.post(base + "/dispatch", json={"team": "产品质量快反分队"}, headers=li, timeout=5)
    assert ok.status_code == 200 and ok.json()["state"] == "dispatched"
    assert httpx.post(base + "/respond", json={}, headers=wang, timeout=5).status_code == 200
    closed = httpx.post(base + "/close", json={"note": "商场已承诺退换"}, headers=li, timeout=5)
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    got = httpx.get(base, timeout=5, headers=api.headers).json()
    steps = [(h["action"], h["by"]) for h in got["history"] if h["action"] not in ("updated", "escalated")]
    assert steps == [("raised", "system"), ("ack", "值班员李"), ("dispatch", "值班员李"), ("respond", "快反分队王"),
                     ("close", "值班员李")]
    assert {c["name"]: c["mark"] for c in got["sla"]}["dispatch"] == "met"
    assert not [a for a in httpx.get(api + "/api/v1/alerts", timeout=5, headers=api.headers).json()["alerts"] if a["id"] == alert["id"]]
    wait_until(lambda: [m for m in received(receiver) if m["path"] == "/webhook"
                        and m["body"]["event"] == "closed" and m["body"]["alert"]["id"] == alert["id"]],
               20, "the closing notice")
    # the audit trail is Redis's: a new store (another process) reads the same
    again = AlertStore(r).history(alert["id"])
    assert [h["action"] for h in again if h["action"] not in ("updated", "escalated")][-1] == "close"

    # a new phrase all over the province, one complaint a county: no district alarms, but the
    # phrase is one alert of its own, delivered with its complaints' samples
    counties = [d.code for d in divisions().counties_of("140000")][::3][:30]
    inds = ["产品质量", "商超", "价格"]
    now = datetime.now(TZ).isoformat(timespec="seconds")
    cups = [{"id": f"CUP-{i}", "received_at": now, "channel": "12315", "kind": "投诉", "district": c,
             "industry": inds[i % 3], "text": f"网购的儿童保温杯涂层脱落，杯底有黑色碎屑，担心有毒，要求退货（{i}）。"}
            for i, c in enumerate(counties)]
    assert httpx.post(api + "/api/v1/complaints", json=cups, timeout=10, headers=api.headers).status_code == 202
    def cup_alerts():
        return [a for a in store.list(None) if "涂层脱落" in (a.get("phrase") or "")]
    wait_until(cup_alerts, 90, "the phrase alert")
    time.sleep(12)                                   # another phrase round: still one alert
    [p] = cup_alerts()
    assert p["series"] == f"phrase:140000:{p['phrase']}" and p["level"] == "province" and p["observed"] >= 20
    assert p["samples"] and all("保温杯" in x["text"] for x in p["samples"])
    assert not [a for a in store.list("open") if a["series"].startswith("county:") and a["district"] in counties
                and a["opened_at"] >= now]
    wait_until(lambda: [m for m in received(receiver) if m["path"] == "/webhook" and m["body"]["alert"]["id"] == p["id"]],
               30, "the phrase alert at the receiver")
    ding = [m for m in received(receiver) if m["path"] == "/dingtalk" and "涂层脱落" in m["body"]["markdown"]["title"]]
    assert len(ding) == 1 and f"「{p['phrase']}」" in ding[0]["body"]["markdown"]["title"]

