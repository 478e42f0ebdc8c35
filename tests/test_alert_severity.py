"""Warning levels 红/橙/黄/蓝 (alerts/severity.py): the rules, their checks in config/alerts.yaml,
the level on every alert the store returns (real redis-server), and in notifications."""
from __future__ import annotations

from datetime import datetime

import pytest
import yaml

from alerts import severity as sev
from alerts.config import ALERTS_FILE, AlertConfigError, load_alert_config
from alerts.lifecycle import TZ
from alerts.notify import format_webhook
from alerts.store import AlertStore

RULES = sev.parse_rules(None)


def alert(score=None, threshold=7.0, observed=None, expected=None, **over):
    a = {"score": score, "threshold": threshold, "observed": observed, "expected": expected}
    a.update(over)
    return a


@pytest.mark.parametrize("a, level", [
    (alert(165, 7, 120, 6), "red"),                 # far over the bar, many complaints
    (alert(75, 7, 29, 2), "orange"),                # score enough for red, but under 30 complaints
    (alert(12, 7, 60, 10), "red"),                  # low score, but 6x the usual with 60 complaints
    (alert(28, 7, 31, 9), "orange"),                # 4x the bar
    (alert(27.9, 7, 31, 11), "yellow"),             # just under 4x the bar, ratio under 3
    (alert(14, 7, 6, 3), "yellow"),                 # 2x the bar with 6
    (alert(14, 7, 4, 0.5), "blue"),                 # 2x the bar but only 4 complaints, ratio 8 with 4
    (alert(8, 7, 5, 2), "blue"),                    # just over the bar
    (alert(None, None, 40, 5), "orange"),           # no bar: ratio 8 with 40 meets the orange ratio rule
    (alert(6.5, None, 3, None), "blue"),            # nothing to judge on
])
def test_levels_from_score_ratio_count(a, level):
    assert sev.severity_of(a, RULES) == level


def test_each_rule_needs_all_its_conditions():
    rules = sev.parse_rules({"red": [{"score": 3, "count": 10}], "orange": [], "yellow": [{"ratio": 2}]})
    assert sev.severity_of(alert(30, 7, 10, 1), rules) == "red"
    assert sev.severity_of(alert(30, 7, 9, 1), rules) == "yellow"       # count 9 < 10; ratio 9 >= 2
    assert sev.severity_of(alert(30, 7, 9, 9), rules) == "blue"         # orange switched off
    # the stored ratio wins over observed/expected when present
    assert sev.severity_of(alert(1, 7, 9, 9, ratio=2.5), rules) == "yellow"


def test_levels_are_monotonic_in_score_and_count():
    order = [sev.RANK[sev.severity_of(alert(s, 7, c, 5), RULES)] for s, c in
             [(7, 3), (14, 6), (28, 16), (70, 31), (200, 500)]]
    assert order == sorted(order, reverse=True) and order[0] == sev.RANK["blue"] and order[-1] == sev.RANK["red"]


@pytest.mark.parametrize("raw, msg", [
    ({"purple": []}, "unknown key purple"),
    ({"red": [{"score": -1}]}, "severity.red[0].score"),
    ({"red": [{"score": "high"}]}, "must be a number above 0"),
    ({"orange": [{"speed": 3}]}, "unknown condition speed"),
    ({"yellow": [{}]}, "a rule is a mapping"),
    ({"red": 5}, "must be a list of rules"),
    ("red", "must be a mapping"),
])
def test_bad_rules_are_named(raw, msg):
    with pytest.raises(sev.SeverityError, match=msg.replace("[", r"\[").replace("]", r"\]")):
        sev.parse_rules(raw)


def test_a_level_left_out_keeps_its_default():
    r = sev.parse_rules({"red": [{"count": 1000}]})
    assert r["red"] == ({"count": 1000.0},) and r["orange"] == RULES["orange"] and r["yellow"] == RULES["yellow"]


def test_alerts_yaml_section_is_read_and_checked(tmp_path):
    cfg = load_alert_config()
    assert set(cfg.severity) == {"red", "orange", "yellow"} and all(cfg.severity[lv] for lv in cfg.severity)
    raw = yaml.safe_load(ALERTS_FILE.read_text(encoding="utf-8"))
    raw["severity"] = {"red": [{"score": 0}]}
    p = tmp_path / "alerts.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(AlertConfigError, match=r"severity\.red\[0\]\.score"):
        load_alert_config(p)


def test_most_urgent_severity_then_score_then_newest():
    a = [{"id": "y", "severity": "yellow", "score": 90, "opened_at": "2025-03-15T10:05:00+08:00"},
         {"id": "r1", "severity": "red", "score": 50, "opened_at": "2025-03-15T10:00:00+08:00"},
         {"id": "r2", "severity": "red", "score": 50, "opened_at": "2025-03-15T10:01:00+08:00"},
         {"id": "r0", "severity": "red", "score": 40, "opened_at": "2025-03-15T10:09:00+08:00"},
         {"id": "b", "severity": "blue", "score": 500, "opened_at": "2025-03-15T10:10:00+08:00"}]
    top, others = sev.most_urgent(a)
    assert top["id"] == "r2" and others == 4
    assert [x["id"] for x in sorted(a, key=sev.urgency_key)] == ["r2", "r1", "r0", "y", "b"]
    assert sev.most_urgent([]) == (None, 0)
    assert (sev.tag("red"), sev.label({"severity": "yellow"}), sev.tag({"severity": "??"})) == ("红色预警", "黄色", "蓝色预警")


# -- on the store and in notifications ---------------------------------------------------------

T0 = datetime(2025, 3, 15, 10, 20, tzinfo=TZ)


def det(district, score, observed, expected, industry="产品质量"):
    return {"series": f"county:{district}:{industry}", "level": "county", "district": district, "industry": industry,
            "since": "2025-03-15T10:00:00+08:00", "at": "2025-03-15T10:00:00+08:00", "observed": observed,
            "expected": expected, "score": score, "threshold": 7.0}


def test_store_returns_severity_on_every_alert_and_follows_updates(stack):
    store = AlertStore(stack["redis"])
    red, _ = store.raise_or_update(det("140403", 165, 120, 6), T0)
    blue, _ = store.raise_or_update(det("140105", 8, 5, 2), T0)
    assert store.get(red)["severity"] == "red" and store.get(blue)["severity"] == "blue"
    assert {a["id"]: a["severity"] for a in store.list("open", now=T0)} == {red: "red", blue: "blue"}
    assert {a["id"]: a["severity"] for a in store.list(None, now=T0)} == {red: "red", blue: "blue"}
    # the surge grows: the same alert climbs to orange
    store.raise_or_update({**det("140105", 30, 20, 4), "at": "2025-03-15T10:15:00+08:00"}, T0)
    assert store.get(blue)["severity"] == "orange"
    # configured rules are the ones applied
    strict = AlertStore(stack["redis"], load_alert_config().__class__(
        **{**load_alert_config().__dict__, "severity": sev.parse_rules({"red": [{"count": 1000}]})}))
    assert strict.get(red)["severity"] == "orange"


def test_notifications_name_the_level():
    a = {"id": "a-1", "level": "county", "district": "140403", "district_name": "潞州区", "city_name": "长治市",
         "industry": "食品", "observed": 120, "expected": 6.0, "ratio": 20.0, "score": 165, "severity": "red",
         "since": "2025-03-15T10:00:00+08:00"}
    msg = format_webhook(a, "new")
    assert msg["title"].startswith("【红色预警】") and "预警等级：红色预警" in msg["text"]
    assert msg["alert"]["severity"] == "red"
    esc = format_webhook({**a, "severity": "orange"}, "escalated")
    assert esc["title"].startswith("【升级·橙色预警】")
    closed = format_webhook({**a, "state": "closed"}, "closed")
    assert "红色预警" not in closed["title"]


def test_the_alert_api_carries_severity(stack, api):
    import httpx

    store = AlertStore(stack["redis"])
    now = datetime.now(TZ)
    red, _ = store.raise_or_update(det("140403", 165, 120, 6) | {"since": now.isoformat(), "at": now.isoformat()}, now)
    yellow, _ = store.raise_or_update(det("140105", 15, 8, 3) | {"since": now.isoformat(), "at": now.isoformat()}, now)
    listed = httpx.get(api + "/api/v1/alerts", headers=api.headers, timeout=10).json()["alerts"]
    assert {a["id"]: a["severity"] for a in listed} == {red: "red", yellow: "yellow"}
    one = httpx.get(api + f"/api/v1/alerts/{yellow}", headers=api.headers, timeout=10).json()
    assert one["severity"] == "yellow" and set(sev.LEVELS) == {"red", "orange", "yellow", "blue"}
