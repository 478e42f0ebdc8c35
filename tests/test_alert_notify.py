"""Alert notifications: formatting, privacy, DingTalk signing, routing, config, and delivery
over real HTTP to the stand-in receiver (``python -m alerts.receiver``) on free ports.

No HTTP mocks: every delivery test talks to a receiver subprocess, or to a port where
nothing listens.
"""
from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import httpx
import pytest

from alerts.notify import (EVENTS, WECOM_MAX_BYTES, Channel, NotifyConfig, Notifier, Result,
                           dingtalk_url, format_dingtalk, format_webhook, format_wecom,
                           load_notify_config, parse_notify_config, routes_for, send_sync,
                           sign_dingtalk)
from alerts.receiver import check_dingtalk_sign
from streams.services import free_port

ROOT = Path(__file__).resolve().parent.parent
SECRET = "SECtest0123456789abcdef"
DASH = "http://dash.local:8050"

ALERT = {
    "id": "a-3f9c1e2b7d10", "level": "county", "district": "140403", "district_name": "长治市潞州区",
    "city": "140400", "city_name": "长治市", "industry": "产品质量",
    "state": "new", "opened_at": "2026-11-24T10:00:00+08:00", "since": "2026-11-24T09:00:00+08:00",
    "observed": 37, "expected": 4.2, "ratio": 8.8, "score": 21.3,
    "phrases": ["衣服掉色", "更换难"], "merchants": [["潞州金鼎购物广场", 30]],
    "samples": [{"id": "c1", "at": "2026-11-24T09:40:00+08:00",
                 "text": "在潞州金鼎购物广场买的衣服洗了一次就掉色，电话138****5678"}],
    "team": "产品质量快反分队",
    "sla": [{"name": "dispatch", "label": "派单", "due": "2026-11-24T10:15:00+08:00", "mark": "reminder"}],
}

# Raw personal data that must never reach a message.
PHONE, ID_NUMBER, CARD = "13812345678", "140402199001011234", "6222021234567890123"


def make_alert(**changes) -> dict:
    return {**copy.deepcopy(ALERT), **changes}


def make_config(channels: dict, routes: list | None = None, **delivery) -> NotifyConfig:
    """A checked config with a quick retry policy (tiny backoff) unless overridden."""
    raw = {"channels": channels,
           "routes": routes if routes is not None else [{"channels": list(channels)}],
           "delivery": {"attempts": 3, "base_delay": 0.01, "max_delay": 0.05, "timeout": 5, **delivery}}
    return parse_notify_config(raw, env={})


# ---------------------------------------------------------------------------------------------
# The receiver, as a subprocess
# ---------------------------------------------------------------------------------------------

class Receiver:
    """``python -m alerts.receiver`` on a free port, until stop()."""

    def __init__(self, tmp: Path, *args: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tmp / f"receiver-{self.port}.log"
        with self.log.open("w") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "alerts.receiver", "--port", str(self.port), *args],
                                         cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"receiver exited: {self.log.read_text()}")
            try:
                httpx.get(self.base + "/received", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                if time.time() > deadline:
                    self.stop()
                    raise RuntimeError(f"receiver did not start: {self.log.read_text()}")
                time.sleep(0.1)

    def url(self, path: str) -> str:
        return self.base + path

    def received(self) -> list[dict]:
        return httpx.get(self.base + "/received", timeout=5).json()

    def clear(self) -> None:
        httpx.delete(self.base + "/received", timeout=5).raise_for_status()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def receiver(tmp_path_factory):
    """One signed receiver for the module, writing what it accepts to a JSON-lines file."""
    tmp = tmp_path_factory.mktemp("receiver")
    r = Receiver(tmp, "--secret", SECRET, "--out", str(tmp / "received.jsonl"))
    r.out = tmp / "received.jsonl"
    yield r
    r.stop()


@pytest.fixture
def recv(receiver):
    receiver.clear()
    return receiver


def collect(results: list):
    """An on_result that appends Result objects."""
    return lambda *args: results.append(Result(*args))


# ---------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------

def test_dingtalk_message_reads_in_chinese():
    payload = format_dingtalk(make_alert(), "new", DASH)
    assert payload["msgtype"] == "markdown"
    md = payload["markdown"]
    assert md["title"] == "【预警】长治市潞州区 产品质量 投诉激增"
    text = md["text"]
    for part in ("【预警】长治市潞州区 产品质量 投诉激增", "观测 **37** 件 / 预期 4.2 件（8.8 倍）",
                 "起始时间：2026-11-24 09:00", "热点短语：衣服掉色、更换难",
                 "涉及商家：潞州金鼎购物广场（30 件）", "建议派往：产品质量快反分队",
                 "在潞州金鼎购物广场买的衣服洗了一次就掉色",
                 f"[查看详情]({DASH}/duty?alert=a-3f9c1e2b7d10)"):
        assert part in text, part
    assert "duty?alert=" not in format_dingtalk(make_alert(), "new")["markdown"]["text"]


def test_a_tiny_usual_count_is_not_written_as_zero():
    # a quiet county's 药品 series is expected at 0.0012 an hour; "预期 0.0 件" beside 3 complaints
    # reads as nonsense to the officer who gets the card
    alert = make_alert()
    alert.update(observed=3, expected=0.0012, ratio=2500.0)
    text = format_dingtalk(alert, "new")["markdown"]["text"]
    assert "观测 **3** 件 / 预期 0.0012 件" in text
    alert["expected"] = 0.000356
    assert "预期 <0.001 件" in format_wecom(alert, "new")["markdown"]["content"]
    alert["expected"] = 4.25
    assert "预期 4.2 件" in format_dingtalk(alert, "new")["markdown"]["text"]


def test_wecom_and_webhook_carry_the_same_facts():
    content = format_wecom(make_alert(), "new", DASH)["markdown"]["content"]
    assert "【预警】长治市潞州区 产品质量 投诉激增" in content
    assert "观测 **37** 件 / 预期 4.2 件（8.8 倍）" in content
    assert f"{DASH}/duty?alert=a-3f9c1e2b7d10" in content
    hook = format_webhook(make_alert(), "new", DASH)
    assert hook["event"] == "new" and hook["title"] == "【预警】长治市潞州区 产品质量 投诉激增"
    assert hook["link"] == f"{DASH}/duty?alert=a-3f9c1e2b7d10"
    assert hook["alert"]["id"] == "a-3f9c1e2b7d10" and hook["alert"]["observed"] == 37
    assert "观测 37 件 / 预期 4.2 件（8.8 倍）" in hook["text"]
    json.dumps(hook)  # JSON-able


@pytest.mark.parametrize("event, title", [
    ("new", "【预警】长治市潞州区 产品质量 投诉激增"),
    ("grouped", "【合并】长治市潞州区 产品质量 投诉激增，并入长治市预警"),
    ("escalated", "【升级】长治市潞州区 产品质量 投诉继续攀升"),
    ("reminder", "【提醒】长治市潞州区 产品质量 派单时限已过半"),
    ("urging", "【催办】长治市潞州区 产品质量 派单即将超时"),
    ("overdue", "【超时】长治市潞州区 产品质量 派单已超时"),
    ("closed", "【结案】长治市潞州区 产品质量 预警已结案"),
])
def test_every_event_has_its_title(event, title):
    assert format_dingtalk(make_alert(), event)["markdown"]["title"] == title
    assert title in format_wecom(make_alert(), event)["markdown"]["content"]
    assert format_webhook(make_alert(), event)["title"] == title


def test_sla_events_name_the_deadline_and_skip_samples():
    text = format_dingtalk(make_alert(), "reminder")["markdown"]["text"]
    assert "派单时限：**2026-11-24 10:15**" in text
    assert "衣服洗了一次" not in text


def test_false_alarm_and_city_level_titles():
    assert format_dingtalk(make_alert(state="false_alarm"), "closed")["markdown"]["title"] == \
        "【误报】长治市潞州区 产品质量 预警已关闭（误报）"
    city = make_alert(level="city", district="140400", district_name="长治市")
    assert format_dingtalk(city, "new")["markdown"]["title"] == "【预警】长治市 产品质量 投诉激增"


def test_unknown_event_is_refused():
    with pytest.raises(ValueError, match="unknown event"):
        format_dingtalk(make_alert(), "exploded")
    with pytest.raises(ValueError, match="unknown event"):
        routes_for(make_config({"w": {"kind": "webhook", "url": "http://x/"}}), make_alert(), "exploded")


def test_personal_data_is_masked_in_every_format():
    alert = make_alert(
        samples=[{"id": "c1", "text": f"衣服掉色，电话{PHONE}，身份证{ID_NUMBER}",
                  "contact": {"name": "张三", "phone": PHONE}},
                 {"id": "c2", "text": f"退款请打到卡号{CARD}"},
                 {"id": "c3", "text": "第三条"}, {"id": "c4", "text": "第四条不该出现"}],
        merchants=[[f"金鼎购物广场（老板{PHONE}）", 30]],
        team=f"快反分队 联系人 {PHONE}",
        contact={"name": "张三", "phone": PHONE, "id_number": ID_NUMBER})
    before = copy.deepcopy(alert)
    for payload in (format_dingtalk(alert, "new", DASH), format_wecom(alert, "new", DASH),
                    format_webhook(alert, "new", DASH)):
        dumped = json.dumps(payload, ensure_ascii=False)
        for secret in (PHONE, ID_NUMBER, CARD, "张三"):
            assert secret not in dumped
        assert '"contact"' not in dumped
        assert "第四条不该出现" not in dumped          # at most 3 samples
        assert "第三条" in dumped
    hook = format_webhook(alert, "new")
    assert "138****5678" in hook["alert"]["samples"][0]["text"]
    assert "140" + "*" * 13 + "34" in hook["alert"]["samples"][0]["text"]
    text = format_dingtalk(alert, "new")["markdown"]["text"]
    assert "138＊＊＊＊5678" in text                  # masked, and the mask is not markup
    assert alert == before                            # the caller's alert is untouched


def test_complaint_text_cannot_inject_markup():
    evil = ('[点我领奖](http://evil.example/x) **紧急** <font color="info">假通知</font>'
            '\n## 伪造标题\n> 伪造引用 `code` ![img](http://evil.example/i.png)')
    alert = make_alert(samples=[{"id": "c1", "text": evil}], phrases=["[钓鱼](http://evil.example)"],
                       merchants=[["**商家**<b>", 3]])
    for text in (format_dingtalk(alert, "new", DASH)["markdown"]["text"],
                 format_wecom(alert, "new", DASH)["markdown"]["content"]):
        assert "http://evil" not in text
        assert "[点我领奖]" not in text and "](" in text and text.count("](") == 1   # only our own link
        assert "**紧急**" not in text and "**商家**" not in text
        assert '<font color="info">' not in text and "<b>" not in text
        assert "`" not in text
        assert not any(line.lstrip().startswith(("## ", "![")) for line in text.splitlines())
        assert "点我领奖" in text and "伪造标题" in text     # the words are still there to read


def test_wecom_content_stays_within_4096_bytes_of_valid_utf8():
    huge = make_alert(district_name="长治市" * 3000, industry="产品质量" * 500,
                      phrases=["衣服掉色😀" * 300] * 500,
                      merchants=[["潞州金鼎购物广场" * 100, 30]] * 300,
                      samples=[{"id": f"c{i}", "text": "掉色🧥" * 5000} for i in range(3)],
                      team="快反" * 4000, event="grouped",
                      districts=[{"district": "140403", "district_name": "潞州区" * 200}] * 100)
    for event in EVENTS:
        content = format_wecom(huge, event, DASH)["markdown"]["content"]
        data = content.encode("utf-8")
        assert len(data) <= WECOM_MAX_BYTES
        assert data.decode("utf-8") == content and "\ufffd" not in content
    # Cut at every byte position near a multi-byte character: always within the limit,
    # always whole characters, the link kept.
    for limit in range(200, 420, 1):
        content = format_wecom(make_alert(), "new", DASH, max_bytes=limit)["markdown"]["content"]
        data = content.encode("utf-8")
        assert len(data) <= limit
        assert "\ufffd" not in data.decode("utf-8")
        assert content.endswith(f"[查看详情]({DASH}/duty?alert=a-3f9c1e2b7d10)")
        assert "…" in content
    whole = format_wecom(make_alert(), "new", DASH)["markdown"]["content"]
    assert "…" not in whole


# ---------------------------------------------------------------------------------------------
# DingTalk signing
# ---------------------------------------------------------------------------------------------

def test_dingtalk_signature_matches_an_independent_computation():
    secret, ts = "SEC000test", 1700000000000
    mac = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    expected = urllib.parse.quote_plus(base64.b64encode(mac).decode())
    assert sign_dingtalk(secret, ts) == expected
    assert sign_dingtalk("SECabc", 1700000000000) == "jcUpW0QmtKduN03n4JqQ0PBosVjqnM8gU7fIIvsDmCM%3D"
    assert dingtalk_url("https://oapi.dingtalk.com/robot/send?access_token=T", secret, ts) == \
        f"https://oapi.dingtalk.com/robot/send?access_token=T&timestamp={ts}&sign={expected}"
    assert dingtalk_url("http://127.0.0.1:1/dingtalk", secret, ts) == \
        f"http://127.0.0.1:1/dingtalk?timestamp={ts}&sign={expected}"
    assert dingtalk_url("http://h/robot?access_token=T", None, ts) == "http://h/robot?access_token=T"
    # The receiver checks what DingTalk checks (the sign arrives URL-decoded).
    decoded = base64.b64encode(mac).decode()
    assert check_dingtalk_sign(secret, str(ts), decoded, now_ms=ts + 1000) is None
    assert check_dingtalk_sign(secret, str(ts), decoded, now_ms=ts + 3601_000)["errcode"] == 310000
    assert check_dingtalk_sign("SECother", str(ts), decoded, now_ms=ts)["errmsg"] == "sign not match"


# ---------------------------------------------------------------------------------------------
# Routing and configuration
# ---------------------------------------------------------------------------------------------

def routing_config() -> NotifyConfig:
    return make_config(
        {"all": {"kind": "webhook", "url": "http://127.0.0.1:9/all"},
         "county-food": {"kind": "wecom", "url": "http://127.0.0.1:9/wecom?key=k"},
         "duty": {"kind": "dingtalk", "url": "http://127.0.0.1:9/dingtalk", "secret": "S"},
         "changzhi": {"kind": "webhook", "url": "http://127.0.0.1:9/cz"},
         "off": {"kind": "webhook", "url": ""}},
        routes=[{"channels": ["all"]},
                {"channels": ["county-food", "all"], "levels": ["county"], "industries": ["食品", "药品"]},
                {"channels": ["duty"], "levels": ["city", "province"],
                 "events": ["new", "grouped", "escalated", "overdue", "closed"]},
                {"channels": ["changzhi", "off"], "districts": ["140400"], "events": "*"}])


def names(channels: list[Channel]) -> list[str]:
    return [c.name for c in channels]


def test_routes_pick_channels_by_level_industry_event_and_district():
    cfg = routing_config()
    county_food = make_alert(industry="食品")
    assert names(routes_for(cfg, county_food, "new")) == ["all", "county-food", "changzhi"]
    assert names(routes_for(cfg, make_alert(), "new")) == ["all", "changzhi"]
    city = make_alert(level="city", district="140400", district_name="长治市")
    assert names(routes_for(cfg, city, "new")) == ["all", "duty", "changzhi"]
    assert names(routes_for(cfg, city, "reminder")) == ["all", "changzhi"]      # duty: no reminders
    taiyuan = make_alert(district="140105", city="140100", city_name="太原市", district_name="太原市小店区")
    assert names(routes_for(cfg, taiyuan, "overdue")) == ["all"]
    province = make_alert(level="province", district="140000", city=None, district_name="山西省")
    assert names(routes_for(cfg, province, "closed")) == ["all", "duty"]
    assert "off" not in names(routes_for(cfg, make_alert(), "new"))             # no URL: disabled


def test_default_config_is_quiet_until_a_url_is_set():
    cfg = load_notify_config(env={})
    assert cfg.channels["webhook"].kind == "webhook" and not cfg.channels["webhook"].active
    assert routes_for(cfg, make_alert(), "new") == []
    assert cfg.delivery.attempts == 5 and cfg.delivery.base_delay == 0.5
    assert cfg.delivery.max_delay == 30 and cfg.delivery.timeout == 5

    env = {"ALERT_WEBHOOK_URL": "http://127.0.0.1:9/webhook",
           "DINGTALK_WEBHOOK": "https://oapi.dingtalk.com/robot/send?access_token=T",
           "DINGTALK_SECRET": "SECx", "WECOM_WEBHOOK": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K",
           "DASHBOARD_URL": "http://10.0.0.5:8050/"}
    cfg = load_notify_config(env=env)
    assert cfg.dashboard_url == "http://10.0.0.5:8050"
    assert cfg.channels["dingtalk"].secret == "SECx"
    for event in EVENTS:
        assert names(routes_for(cfg, make_alert(level="province"), event)) == ["webhook", "dingtalk", "wecom"]
    assert "SECx" not in repr(cfg) and "access_token" not in repr(cfg)


@pytest.mark.parametrize("raw, env, message", [
    ({"chanels": {}}, {}, "chanels: unknown key"),
    ({"channels": {"x": {"kind": "slack", "url": "http://h/"}}}, {}, "channels.x.kind"),
    ({"channels": {"x": {"kind": "webhook", "url": "ftp://h/"}}}, {}, "channels.x.url"),
    ({"channels": {"x": {"kind": "wecom", "url": "http://h/send"}}}, {}, "key="),
    ({"channels": {"x": {"kind": "webhook", "secret": "s"}}}, {}, "channels.x.secret"),
    ({"channels": {"x": {"kind": "webhook", "enabled": "yes"}}}, {}, "channels.x.enabled"),
    ({"channels": {"x": {"kind": "webhook", "colour": 1}}}, {}, "channels.x.colour"),
    ({"channels": {}, "routes": [{"channels": ["ghost"]}]}, {}, "routes[0].channels: unknown channel 'ghost'"),
    ({"channels": {"x": {"kind": "webhook"}}, "routes": [{"channels": ["x"], "levels": ["town"]}]}, {},
     "routes[0].levels"),
    ({"channels": {"x": {"kind": "webhook"}}, "routes": [{"channels": ["x"], "events": ["created"]}]}, {},
     "routes[0].events"),
    ({"channels": {"x": {"kind": "webhook"}}, "routes": [{"channels": ["x"], "industries": ["食物"]}]}, {},
     "routes[0].industries"),
    ({"channels": {"x": {"kind": "webhook"}}, "routes": [{"channels": ["x"], "districts": [1404]}]}, {},
     "routes[0].districts"),
    ({"channels": {"x": {"kind": "webhook"}}, "routes": [{"channels": ["x"], "when": "now"}]}, {},
     "routes[0].when"),
    ({"delivery": {"attempts": 0}}, {}, "delivery.attempts"),
    ({"delivery": {"timeout": 0}}, {}, "delivery.timeout"),
    ({"delivery": {"base_delay": "fast"}}, {}, "delivery.base_delay"),
    ({"delivery": {"retries": 3}}, {}, "delivery.retries"),
    ({"samples": 50}, {}, "samples"),
    ({"dashboard_url": "dash"}, {}, "dashboard_url"),
    ({}, {"DASHBOARD_URL": "nope"}, "DASHBOARD_URL"),
    ({}, {"DINGTALK_SECRET": "S"}, "DINGTALK_SECRET"),
    ({}, {"WECOM_WEBHOOK": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"}, "WECOM_WEBHOOK"),
    ({"channels": {"webhook": {"kind": "dingtalk"}}}, {"ALERT_WEBHOOK_URL": "http://h/"}, "ALERT_WEBHOOK_URL"),
])
def test_config_errors_name_the_bad_key(raw, env, message):
    with pytest.raises(ValueError) as e:
        parse_notify_config(raw, env, industries={"食品", "药品", "产品质量"}, source="notify.yaml")
    assert message in str(e.value)
    assert str(e.value).startswith("notify.yaml: ")


def test_config_file_errors(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        load_notify_config(tmp_path / "missing.yaml", env={})
    bad = tmp_path / "bad.yaml"
    bad.write_text("channels: [unclosed\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_notify_config(bad, env={})
    typo = tmp_path / "typo.yaml"
    typo.write_text("channels:\n  w: {kind: webhook, url: 'http://h/'}\nroutes:\n  - channels: [w]\n"
                    "    industries: [产品质量, 产品质亮]\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"routes\[0\]\.industries: '产品质亮'"):   # checked against settings.yaml
        load_notify_config(typo, env={})


# ---------------------------------------------------------------------------------------------
# Delivery over real HTTP
# ---------------------------------------------------------------------------------------------

def test_signed_dingtalk_wecom_and_webhook_deliveries_are_accepted(recv):
    cfg = make_config({"dingtalk": {"kind": "dingtalk", "url": recv.url("/dingtalk?access_token=tok"),
                                    "secret": SECRET},
                       "wecom": {"kind": "wecom", "url": recv.url("/wecom?key=k")},
                       "hook": {"kind": "webhook", "url": recv.url("/webhook")}})
    results: list[Result] = []
    alert = make_alert(samples=[{"id": "c1", "text": f"衣服掉色，电话{PHONE}"}])

    async def run():
        async with Notifier(cfg, on_result=collect(results)) as n:
            await n.send(alert, "new")
    asyncio.run(run())
    assert sorted((r.channel, r.ok, r.attempts, r.error) for r in results) == \
        [("dingtalk", True, 1, None), ("hook", True, 1, None), ("wecom", True, 1, None)]
    got = {m["path"]: m["body"] for m in recv.received()}
    assert set(got) == {"/dingtalk", "/wecom", "/webhook"}
    assert got["/dingtalk"]["markdown"]["title"] == "【预警】长治市潞州区 产品质量 投诉激增"
    assert got["/webhook"]["alert"]["id"] == "a-3f9c1e2b7d10"
    assert PHONE not in json.dumps(got, ensure_ascii=False)
    lines = [json.loads(line) for line in recv.out.read_text(encoding="utf-8").splitlines()]
    assert {"path", "received_at", "body"} <= set(lines[-1])
    httpx.delete(recv.url("/received")).raise_for_status()
    assert recv.received() == []


def test_wrong_secret_is_reported_failed_after_retries(recv):
    cfg = make_config({"dingtalk": {"kind": "dingtalk", "url": recv.url("/dingtalk?access_token=tok"),
                                    "secret": "SECwrong"}}, attempts=3)
    results = send_sync(cfg, make_alert(), "new")
    assert len(results) == 1
    r = results[0]
    assert (r.alert_id, r.event, r.channel, r.ok, r.attempts) == ("a-3f9c1e2b7d10", "new", "dingtalk", False, 3)
    assert "310000" in r.error and "sign not match" in r.error
    assert recv.received() == []


def test_unsigned_request_to_a_signed_robot_is_refused(recv):
    cfg = make_config({"d": {"kind": "dingtalk", "url": recv.url("/dingtalk?access_token=tok")}}, attempts=1)
    [r] = send_sync(cfg, make_alert(), "new")
    assert not r.ok and r.attempts == 1 and "310000" in r.error


def test_wecom_without_key_and_http_404_are_failures(recv):
    cfg = make_config({"missing": {"kind": "webhook", "url": recv.url("/nowhere")}}, attempts=4)
    [r] = send_sync(cfg, make_alert(), "closed")
    assert (r.ok, r.attempts, r.error) == (False, 1, "HTTP 404")     # a 404 is not retried


def test_outage_then_delivery_on_the_third_attempt(tmp_path):
    rcv = Receiver(tmp_path, "--fail-first", "2")
    try:
        cfg = make_config({"hook": {"kind": "webhook", "url": rcv.url("/webhook")}}, attempts=5)
        results: list[Result] = []

        async def run():
            n = Notifier(cfg, on_result=collect(results))
            await n.send(make_alert(), "escalated")
            assert await n.drain(timeout=30)
            await n.close()
        asyncio.run(run())
        assert results == [Result("a-3f9c1e2b7d10", "escalated", "hook", True, 3, None)]
        assert len(rcv.received()) == 1
    finally:
        rcv.stop()


def test_send_returns_before_delivery_when_the_receiver_is_down():
    port = free_port()       # nothing listens here
    cfg = make_config({"hook": {"kind": "webhook", "url": f"http://127.0.0.1:{port}/webhook"}},
                      attempts=3, base_delay=0.3, max_delay=1)
    results: list[Result] = []

    async def run():
        n = Notifier(cfg, on_result=collect(results))
        t0 = time.monotonic()
        await n.send(make_alert(), "new")
        sent = time.monotonic() - t0
        assert results == []                    # returned before any outcome
        assert await n.drain(timeout=30)
        done = time.monotonic() - t0
        await n.close()
        return sent, done
    sent, done = asyncio.run(run())
    assert sent < 1.0
    assert done >= 0.9 > sent                   # two backoffs of 0.3 s and 0.6 s came after send returned
    [r] = results
    assert (r.ok, r.attempts) == (False, 3) and r.error.startswith("connection error")


def test_callback_errors_are_swallowed_and_async_callbacks_work(recv):
    cfg = make_config({"hook": {"kind": "webhook", "url": recv.url("/webhook")}})
    seen: list[tuple] = []

    def broken(*args):
        raise RuntimeError("callback bug")

    async def async_cb(*args):
        await asyncio.sleep(0)
        seen.append(args)

    async def run():
        n = Notifier(cfg, on_result=broken)
        await n.send(make_alert(id="a-1"), "new")
        await n.send(make_alert(id="a-2"), "closed")
        assert await n.drain()
        assert n.counts["delivered"] == 2
        await n.close()
        async with Notifier(cfg, on_result=async_cb) as m:
            await m.send(make_alert(id="a-3"), "new")
    asyncio.run(run())
    assert [m["body"]["alert"]["id"] for m in recv.received()] == ["a-1", "a-2", "a-3"]
    assert seen == [("a-3", "new", "hook", True, 1, None)]


def test_full_queue_drops_the_oldest_and_reports_it(recv):
    cfg = make_config({"hook": {"kind": "webhook", "url": recv.url("/webhook")}}, queue_size=1)
    results: list[Result] = []

    async def run():
        n = Notifier(cfg, on_result=collect(results))
        for i in range(3):                      # no await yields in between: the worker has not started
            await n.send(make_alert(id=f"a-{i}"), "new")
        assert await n.drain()
        await n.close()
        return n.counts
    counts = asyncio.run(run())
    assert counts["dropped"] == 2
    assert sorted((r.alert_id, r.ok, r.attempts, r.error) for r in results) == [
        ("a-0", False, 0, "dropped: queue full"), ("a-1", False, 0, "dropped: queue full"),
        ("a-2", True, 1, None)]
    assert [m["body"]["alert"]["id"] for m in recv.received()] == ["a-2"]


def test_send_never_raises_and_close_reports_what_is_left():
    port = free_port()
    cfg = make_config({"hook": {"kind": "webhook", "url": f"http://127.0.0.1:{port}/webhook"}},
                      attempts=5, base_delay=5, max_delay=5)
    results: list[Result] = []

    async def run():
        n = Notifier(cfg, on_result=collect(results))
        await n.send("not an alert", "new")           # type: ignore[arg-type]
        await n.send(make_alert(), "exploded")
        await n.send(make_alert(id="a-1"), "new")
        await n.send(make_alert(id="a-2"), "new")
        await asyncio.sleep(0.3)                      # a-1 is now waiting for its retry
        assert not await n.drain(timeout=0.2)
        await n.close()
        await n.send(make_alert(id="a-3"), "new")     # after close: logged, ignored
    asyncio.run(run())
    assert sorted((r.alert_id, r.ok, r.error) for r in results) == [
        ("a-1", False, "cancelled: notifier closed"), ("a-2", False, "cancelled: notifier closed")]


def test_receiver_cli_help_and_taken_port():
    help_run = subprocess.run([sys.executable, "-m", "alerts.receiver", "--help"], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
    assert help_run.returncode == 0 and "--fail-first" in help_run.stdout
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        taken = subprocess.run([sys.executable, "-m", "alerts.receiver", "--port", str(port)], cwd=ROOT,
                               capture_output=True, text=True, timeout=60)
    assert taken.returncode == 2
    assert f"port {port}" in taken.stderr and len(taken.stderr.strip().splitlines()) == 1
