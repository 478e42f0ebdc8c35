"""Case handling, pure parts: events, working-day clocks over 2026's holidays, the figures."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from streams.cases.config import CaseConfigError, default_case_config, parse_case_config
from streams.cases.deadlines import CalendarYearUnknown, WorkCalendar, item_clocks
from streams.cases.events import validate_event
from streams.cases.kpis import kpis

TZ = ZoneInfo("Asia/Shanghai")
CFG = default_case_config()
CAL = WorkCalendar(TZ)


def ts(*a) -> float:
    return datetime(*a, tzinfo=TZ).timestamp()


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, TZ).isoformat()


def ev(i, event, at, **kw):
    return {"id": i, "complaint_id": "c", "event": event, "ts": at, **kw}


# -- the calendar ------------------------------------------------------------------------

def test_2026_holidays_and_make_up_workdays_come_from_the_package():
    # National Day + Mid-Autumn 2026: 10-01..10-07 off, Sunday 09-20 and Saturday 10-10 worked
    assert not CAL.is_workday(date(2026, 10, 1)) and not CAL.is_workday(date(2026, 10, 7))
    assert CAL.is_workday(date(2026, 9, 20)) and CAL.is_workday(date(2026, 10, 10))
    assert not CAL.is_workday(date(2026, 9, 25))          # Mid-Autumn, a Friday
    # Spring Festival 2026: 02-15..02-23 off, Saturdays 02-14 and 02-28 worked
    assert not CAL.is_workday(date(2026, 2, 16)) and not CAL.is_workday(date(2026, 2, 23))
    assert CAL.is_workday(date(2026, 2, 14)) and CAL.is_workday(date(2026, 2, 28))


def test_a_year_the_package_does_not_know_is_refused_or_taken_as_weekdays():
    strict = WorkCalendar(TZ, unknown_years="error")
    with pytest.raises(CalendarYearUnknown, match="2027.*upgrade"):
        strict.is_workday(date(2027, 3, 1))
    lenient = WorkCalendar(TZ)
    assert lenient.is_workday(date(2027, 3, 1)) and not lenient.is_workday(date(2027, 3, 6))   # Mon, Sat


def test_seven_working_days_over_national_day_count_the_make_up_saturday():
    t = ts(2026, 9, 29, 10)          # Tuesday; 09-30 is day 1, 10-08 day 2, 10-09 day 3, Sat 10-10 day 4
    assert iso(CAL.add_working_days(t, 7)) == "2026-10-15T00:00:00+08:00"
    assert iso(CAL.working_point(t, 7, 0.5)) == "2026-10-10T12:00:00+08:00"   # the make-up Saturday at noon
    # without the make-up workday it would be a day later
    assert iso(CAL.add_working_days(ts(2026, 10, 11, 9), 1)) == "2026-10-13T00:00:00+08:00"


def test_spring_festival_clock_skips_nine_days_off_but_counts_saturday_02_28():
    t = ts(2026, 2, 12, 15)          # Thursday: 02-13 (Fri) day 1, Sat 02-14 day 2, then 02-24 (Tue) day 3
    assert [d.isoformat() for d in CAL.working_days_after(date(2026, 2, 12), 6)] == \
        ["2026-02-13", "2026-02-14", "2026-02-24", "2026-02-25", "2026-02-26", "2026-02-27"]
    assert iso(CAL.add_working_days(t, 7)) == "2026-03-01T00:00:00+08:00"    # day 7 is Saturday 02-28


def test_clocks_of_a_complaint_a_report_and_a_rapid_item():
    t = ts(2026, 9, 29, 10)
    c = {"ts": t, "kind": "投诉", "events": [ev("a", "accept", ts(2026, 10, 9, 11))]}
    accept, mediation = item_clocks(c, CFG, CAL)
    assert (accept.name, accept.stopped, iso(accept.deadline)) == ("accept", ts(2026, 10, 9, 11), "2026-10-15T00:00:00+08:00")
    assert iso(accept.urging) == "2026-10-13T14:24:00+08:00"   # 20 % of 7 working days left: 5.6 days gone
    assert mediation.start == ts(2026, 10, 9, 11) and mediation.stopped is None
    # 45 working days from Friday 10-09: the urging card a working week before
    assert iso(mediation.deadline) == "2026-12-11T00:00:00+08:00"   # day 1 is Saturday 10-10 (make-up), day 45 Thu 12-10
    assert iso(mediation.urging) == "2026-12-04T00:00:00+08:00"
    r = {"ts": t, "kind": "举报", "events": []}
    (oc,) = item_clocks(r, CFG, CAL)
    assert oc.name == "open_case" and iso(oc.deadline) == "2026-10-27T00:00:00+08:00"
    q = {"ts": t, "kind": "投诉", "tags": ["快反"], "events": [ev("r", "route", t + 600)]}
    names = {k.name: k for k in item_clocks(q, CFG, CAL)}
    assert set(names) == {"instruct", "respond", "close"}
    assert names["instruct"].on_time() is True and names["instruct"].deadline == t + 900
    assert names["instruct"].reminder == t + 450 and names["instruct"].urging == t + 720
    assert names["close"].deadline == t + 86400
    assert item_clocks({"ts": t, "kind": "咨询", "events": []}, CFG, CAL) == []


def test_clock_stages():
    t = ts(2026, 12, 1, 9)
    (c, _m) = item_clocks({"ts": t, "kind": "投诉", "events": [ev("x", "route", t + 5)]}, CFG, CAL)[0], None
    assert c.stage(t + 60) is None
    assert c.stage(c.reminder) == "reminder" and c.stage(c.urging) == "urging" and c.stage(c.deadline) == "overdue"


# -- events ------------------------------------------------------------------------------

def test_event_validation_names_fields_accepts_chinese_and_masks():
    now = ts(2026, 12, 4, 12)
    good, errs = validate_event({"id": "e1", "complaint_id": "c1", "event": "回访", "at": "2026-12-01T09:00:00",
                                 "satisfaction": "基本满意", "unit": "联系人张三13812345678"}, now, TZ)
    assert errs == [] and good["event"] == "visit" and good["satisfaction"] == "basically_satisfied"
    assert "13812345678" not in good["unit"]
    bad, errs = validate_event({"id": "e 1", "complaint_id": "", "event": "办结", "at": "2099-01-01T00:00:00+08:00",
                                "satisfaction": "满意", "recovered_yuan": -3}, now, TZ)
    assert bad is None
    assert {(e["field"], e["code"]) for e in errs} == {
        ("id", "invalid"), ("complaint_id", "missing"), ("at", "in_future"), ("outcome", "missing"),
        ("satisfaction", "not_allowed"), ("recovered_yuan", "out_of_range")}
    _, errs = validate_event({"id": "e", "complaint_id": "c", "event": "transfer", "at": "2026-12-01"}, now, TZ)
    assert [(e["field"], e["code"]) for e in errs] == [("reason", "missing")]
    _, errs = validate_event({"id": "e", "complaint_id": "c", "event": "dance", "at": "2026-12-01"}, now, TZ)
    assert [(e["field"], e["code"]) for e in errs] == [("event", "unknown")]
    assert validate_event([1], now, TZ)[1][0]["code"] == "not_an_object"


# -- the figures -------------------------------------------------------------------------

def test_kpis_of_known_histories_over_national_day():
    t0 = ts(2026, 9, 29, 10)                    # accept deadline 2026-10-15 00:00
    now = ts(2026, 10, 20, 12)
    d = lambda i, kind="投诉", tags=(), events=(): {"id": i, "ts": t0, "kind": kind, "tags": list(tags), "events": list(events)}  # noqa: E731
    cases = [
        # accepted on the make-up Saturday: on time; closed mediated 6000 yuan, satisfied
        d("a", events=[ev("a1", "accept", ts(2026, 10, 10, 9)), ev("a2", "close", ts(2026, 10, 16, 9), outcome="mediated",
                                                                   recovered_yuan=6000.0),
                       ev("a3", "visit", ts(2026, 10, 17, 9), satisfaction="satisfied")]),
        # accepted 10-14 23:00: still on time (deadline 24:00); closed self-settled; unsatisfied
        d("b", events=[ev("b1", "accept", ts(2026, 10, 14, 23)), ev("b2", "close", ts(2026, 10, 19, 9), outcome="self_settled",
                                                                    recovered_yuan=150.5),
                       ev("b3", "visit", ts(2026, 10, 19, 10), satisfaction="unsatisfied")]),
        # accepted 10-15 08:00: late (weekdays-only counting would have said 10-09)
        d("c", events=[ev("c1", "accept", ts(2026, 10, 15, 8)), ev("c2", "close", ts(2026, 10, 16, 8), outcome="failed")]),
        # never decided: overdue, late in first check and in the 24 h response
        d("e"),
        # a report routed within 2 h but with no decision yet (15 working days: deadline 10-27 00:00,
        # 催办 a working week before, from 10-20 00:00): open and due soon, in no on-time denominator
        d("r", kind="举报", events=[ev("r1", "route", ts(2026, 9, 29, 12))]),
        # an enquiry: not an item
        d("q", kind="咨询"),
    ]
    k = kpis(cases, CFG, CAL, now)
    assert k["on_time_first_check"] == {"value": 0.5, "numerator": 2, "denominator": 4}
    assert k["on_time_closing"] == {"value": 1.0, "numerator": 3, "denominator": 3}
    assert k["response_24h"] == {"value": 0.2, "numerator": 1, "denominator": 5}
    assert k["mediation_success"] == {"value": 0.3333, "numerator": 1, "denominator": 3}
    assert k["self_settlement"] == {"value": 0.3333, "numerator": 1, "denominator": 3}
    assert k["satisfaction"] == {"value": 0.5, "numerator": 1, "denominator": 2}
    assert k["recovered_yuan"] == 6150.5
    assert (k["open"], k["due_soon"], k["overdue"], k["items"]) == (2, 1, 1, 5)


def test_a_transferred_item_is_not_in_the_closing_rate():
    t0 = ts(2026, 11, 2, 9)
    acc = ev("a", "accept", t0 + 3600)
    moved = {"id": "t", "ts": t0, "kind": "投诉", "events": [acc, ev("b", "transfer", t0 + 7200, reason="属地管辖")]}
    closed = {"id": "c", "ts": t0, "kind": "投诉", "events": [acc, ev("c", "close", t0 + 7200, outcome="withdrawn")]}
    k = kpis([moved, closed], CFG, CAL, t0 + 86400)
    assert k["on_time_closing"] == {"value": 1.0, "numerator": 1, "denominator": 1}
    assert k["on_time_first_check"]["denominator"] == 2 and k["open"] == 0


def test_open_items_not_yet_due_are_not_late():
    t0 = ts(2026, 12, 1, 9)
    now = t0 + 3600
    k = kpis([{"id": "x", "ts": t0, "kind": "投诉", "events": []}], CFG, CAL, now)
    assert k["on_time_first_check"] == {"value": None, "numerator": 0, "denominator": 0}
    assert k["response_24h"]["denominator"] == 0 and (k["open"], k["overdue"]) == (1, 0)
    k = kpis([{"id": "x", "ts": t0, "kind": "投诉", "tags": ["快反"], "events": []}], CFG, CAL, t0 + 13 * 60)
    assert (k["open"], k["due_soon"], k["overdue"]) == (1, 1, 0)      # the 15-minute instruct clock is in 催办


def test_config_errors_name_the_key():
    with pytest.raises(CaseConfigError, match=r"clocks.accept.limit: '7' needs a unit"):
        parse_case_config({"clocks": {"accept": {"kinds": ["投诉"], "limit": "7", "stop": ["accept"]}}})
    with pytest.raises(CaseConfigError, match=r"clocks.x.stop"):
        parse_case_config({"clocks": {"x": {"kinds": ["投诉"], "limit": "7wd", "stop": ["dance"]}}})
    with pytest.raises(CaseConfigError, match="calendar.unknown_years"):
        parse_case_config({"calendar": {"unknown_years": "guess"}})
