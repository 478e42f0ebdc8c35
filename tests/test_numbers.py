"""A tiny expected (usual) count is kept and shown, never rounded to 0 (streams/numbers.py and
where an alert's expected is stored or shown)."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from streams.numbers import significant, usual_text


def test_significant_keeps_three_digits_of_a_small_number_and_the_decimals_of_a_large_one():
    assert significant(0.0012345) == 0.00123
    assert significant(0.000356271) == 0.000356
    assert significant(0.04567) == 0.0457
    assert significant(4.2567) == 4.26
    assert significant(9257.7349) == 9257.73          # never fewer decimals than the old round(x, 2)
    assert significant(-0.0012345) == -0.00123
    assert significant(0.0) == 0.0
    assert significant(0.0123, 2, 1) == 0.012 and significant(37.46, 2, 1) == 37.5


def test_usual_text_is_never_a_misleading_zero():
    assert [usual_text(x) for x in (15344.0, 9257.734, 4.24, 1.0, 0.957, 0.04, 0.0457, 0.00123, 0.0012)] == \
        ["15344.0", "9257.7", "4.2", "1.0", "0.96", "0.04", "0.046", "0.0012", "0.0012"]
    assert [usual_text(x) for x in (0.000356, 0, None, "x", True, float("nan"))] == ["<0.001", "0", "", "", "", ""]


def test_the_detector_stores_a_tiny_expected_count_with_three_significant_digits():
    from alerts.live import SeriesIndex
    from config.divisions import divisions
    from tests.test_alert_live import INDUSTRIES, T0, _learned

    index = SeriesIndex("140000", INDUSTRIES, divisions())
    det = _learned(index)
    now = T0 + timedelta(days=10, minutes=3)
    fields = {"140403|药品|投诉|12315": 3}
    d = next(d for d in det.tick(now, fields) if d["series"] == "county:140403:药品")
    x, parent = index.vector(fields)
    raw = float(det.panel.score(x, parent, at=T0 + timedelta(days=10))["expected"][index.pos["county:140403:药品"]])
    assert 0 < raw < 0.005                            # two decimals made this 0.0
    assert d["expected"] == significant(raw, 3) > 0
    assert d["expected"] == pytest.approx(raw, rel=5e-3)


def test_the_screens_show_a_tiny_usual_count():
    from dashboard import alertview, duty, reports
    from streams import wallview

    alert = {"id": "a1", "district_name": "潞州区", "city_name": "长治市", "industry": "药品", "observed": 3,
             "expected": 0.0012, "ratio": 2500.0, "score": 23.6, "state": "new", "_clocks": []}
    assert alertview.headline(alert) == "长治市潞州区 · 药品 3件（常态 0.0012）"
    assert alertview.headline(dict(alert, expected=0.000356)).endswith("3件（常态 <0.001）")
    from datetime import datetime
    table = duty.queue_rows([alert], None, datetime(2026, 11, 11, 0, 5))
    assert "3/0.0012" in _text(table)
    assert "常态 0.0012" in _text(duty.detail(alert, [], []))
    # the wall's JSON keeps three significant digits of what the store holds
    assert wallview.alert_json(dict(alert, expected=0.00123456))["expected"] == 0.00123
    # the review's exports: the CSV/DOCX text and the XLSX number format show it
    assert reports.text_of(0.0012, reports.USUAL) == "0.0012" and reports.text_of(None, reports.USUAL) == "—"
    assert reports.XLSX_FORMATS[reports.USUAL] == "0.0###"


def _text(component) -> str:
    """The text a Dash component tree shows (its strings, in order)."""
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return "".join(_text(c) for c in component)
    children = getattr(component, "children", None)
    return "" if children is None else _text(children)


def test_a_district_with_a_tiny_usual_count_is_not_usual_at_zero():
    from config.divisions import divisions
    from streams.counts import ranking

    today = Counter({("140403", "药品", "投诉"): 2})
    baseline = Counter({("140403", "药品", "投诉"): 1, ("140105", "食品", "投诉"): 700})
    rows = {r["code"]: r for r in ranking(divisions(), ["140403", "140105"], "county", today, baseline, 28)}
    assert rows["140403"]["expected"] == 0.036 and rows["140105"]["expected"] == 25.0
