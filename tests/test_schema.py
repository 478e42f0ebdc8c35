import json
import time

import pytest

from config import load_settings
from streams.schema import Rules

RULES = Rules(load_settings({}))
NOW = time.time()


def good(**over):
    c = {"id": "SX-1", "received_at": "2024-10-01 10:15:00", "channel": "12315", "kind": "投诉",
         "district": "140403", "industry": "产品质量", "text": "衣服掉色，电话13812345678",
         "contact": {"name": "张三", "phone": "13812345678"}}
    c.update(over)
    return c


def codes(raw):
    rec, errs = RULES.validate(raw, NOW)
    assert rec is None
    return {(e["field"], e["code"]) for e in errs}


def test_a_good_complaint_is_normalised_and_masked():
    rec, errs = RULES.validate(good(channel="小程序", kind="complaint"), NOW)
    assert errs == []
    assert rec["received_at"] == "2024-10-01T10:15:00+08:00"  # naive = Asia/Shanghai
    assert rec["channel"] == "mini-program" and rec["kind"] == "投诉"
    assert rec["province"] == "140000"
    assert rec["contact"] == {"masked": True, "name": "张*", "phone": "138****5678"}
    assert "13812345678" not in str(rec)


def test_time_with_offset_is_converted_to_local():
    rec, _ = RULES.validate(good(received_at="2024-10-01T02:15:00Z"), NOW)
    assert rec["received_at"] == "2024-10-01T10:15:00+08:00"


def test_industry_is_optional_and_marked_unclassified():
    raw = good()
    del raw["industry"]
    rec, errs = RULES.validate(raw, NOW)
    assert not errs and rec["industry"] == "未分类"
    again, errs = RULES.validate(rec, NOW)  # a worker re-validating intake's output accepts it
    assert not errs and again["industry"] == "未分类"


@pytest.mark.parametrize("field", ["id", "received_at", "channel", "kind", "district", "text"])
def test_each_required_field_missing_is_named(field):
    raw = good()
    del raw[field]
    assert (field, "missing") in codes(raw)


@pytest.mark.parametrize("over, expect", [
    ({"district": "999999"}, ("district", "unknown")),
    ({"district": "14040"}, ("district", "invalid")),
    ({"channel": "fax"}, ("channel", "unknown")),
    ({"kind": "表扬"}, ("kind", "unknown")),
    ({"industry": "航天"}, ("industry", "unknown")),
    ({"id": "has space"}, ("id", "invalid")),
    ({"received_at": "yesterday"}, ("received_at", "invalid")),
    ({"received_at": "2999-01-01T00:00:00"}, ("received_at", "in_future")),
    ({"received_at": "1990-01-01T00:00:00"}, ("received_at", "too_old")),
    ({"text": "长" * 5001}, ("text", "too_long")),
    ({"text": "   "}, ("text", "missing")),
    ({"amount": "lots"}, ("amount", "invalid")),
    ({"amount": -3}, ("amount", "out_of_range")),
    ({"contact": 12}, ("contact", "invalid")),
    ({"id": "NL-1\n"}, ("id", "invalid")),                    # "$" would have let it through
    ({"text": "\u200b\u200d\ufeff"}, ("text", "missing")),    # only zero-width characters: blank
    ({"received_at": "1999-12-31T23:59:59"}, ("received_at", "too_old")),
    ({"extra": json.loads("[" * 32 + "1" + "]" * 32)}, ("", "too_deep")),   # 33 levels with the complaint
])
def test_bad_values_get_field_level_reasons(over, expect):
    assert expect in codes(good(**over))


def test_messages_say_what_is_wrong():
    _, errs = RULES.validate(good(district="999999", text="长" * 6000), NOW)
    msgs = " ".join(e["message"] for e in errs)
    assert "999999" in msgs and "6000" in msgs and "5000" in msgs


def test_not_an_object():
    _, errs = RULES.validate(["a list"], NOW)
    assert errs[0]["code"] == "not_an_object"


def test_amount_strings_from_exports():
    rec, _ = RULES.validate(good(amount="1,299.50元"), NOW)
    assert rec["amount"] == 1299.5


def test_the_year_2000_starts_at_local_midnight():
    rec, errs = RULES.validate(good(received_at="2000-01-01T00:00"), NOW)
    assert errs == [] and rec["received_at"] == "2000-01-01T00:00:00+08:00"


def test_strings_lose_control_and_format_characters_before_checks():
    rec, errs = RULES.validate(good(merchant="\x00\x07\x1b[31m某商场\u202e", kind="投诉\u200b",
                                    text="衣服\u200b掉色\r\n第二行"), NOW)
    assert errs == [] and rec["merchant"] == "[31m某商场" and rec["kind"] == "投诉"
    assert rec["text"] == "衣服掉色\n第二行"


def test_merchant_and_tags_are_masked_with_the_contacts_names():
    rec, _ = RULES.validate(good(merchant="个体户张三 13812345678", tags=["张三"], contact="张三"), NOW)
    assert rec["merchant"] == "个体户张* 138****5678" and rec["tags"] == ["张*"]
    assert rec["contact"] == {"masked": True, "name": "张*"}
