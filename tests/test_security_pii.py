"""Hostile inputs: PII masked in every field past intake, the intake's
signature checked by the worker, safe inputs.

Pure tests of each masking case and input rule, then one test against the real API,
broker, worker and a redis-server of its own that greps everything the system wrote
(the AOF, the logs, the dead-letter topic) for the raw values.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import sys
import time
import unicodedata

import httpx
import orjson
import pytest

from config import load_settings
from nlp.pii import (MAX_DEPTH, contact_names, fold, mask_contact, mask_text, mask_value, quote,
                     strip_controls)
from streams import deadletter
from streams.intake import SIG_HEADER, IntakeKeyError, envelope, intake_key, sign, signed
from streams.processing import decode_message, signature_of
from streams.schema import Rules, too_deep

SETTINGS = load_settings({})
RULES = Rules(SETTINGS)
NOW = time.time()
PHONE = "13812345678"
ID18 = "110101199003071234"
MERCHANT = f"个体户王小明 {PHONE} 身份证{ID18}"


def digits_only(s: str) -> str:
    return re.sub(r"[^0-9]", "", fold(s))


def good(**over):
    c = {"id": "SEC-1", "received_at": "2024-10-01 10:15:00", "channel": "12315", "kind": "投诉",
         "district": "140403", "industry": "产品质量", "text": "衣服洗了一次就掉色，商家拒绝退换"}
    c.update(over)
    return c


# -- masking: each case --------------------------------------------------------------------

@pytest.mark.parametrize("written", [
    "１３８１２３４５６７８",            # full-width
    "138.1234.5678", "(138)1234-5678", "（138）1234-5678", "138 1234 5678", "138-1234-5678",
    "+86 138 1234 5678", "8613812345678", "١٣٨١٢٣٤٥٦٧٨",  # Arabic-Indic digits fold too
])
def test_a_mobile_number_in_any_spelling_is_masked(written):
    out = mask_text(f"我的电话{written}，衣服掉色")
    assert "138****5678" in out and PHONE not in digits_only(out)
    assert out.endswith("，衣服掉色")


@pytest.mark.parametrize("written, gone, kept", [
    ("身份证110101199003071234", ID18, "110*************34"),
    ("身份证11010119900307123X", "11010119900307123", "110*************3X"),
    ("身份证１１０１０１１９９００３０７１２３ｘ", "11010119900307123", "110*************3x"),
    ("老身份证110101900307123", "110101900307123", "110**********23"),
    ("卡号6222 0212 3456 7890 123", "6222021234567890123", "6222***********0123"),
    ("车牌晋D12345", "D12345", "晋D***5"),
    ("车牌晋Ｄ１２３４５", "D12345", "晋D***5"),
    ("邮箱 wang.xm@example.com", "wang.xm", "w***@example.com"),
    ("座机0351-2123456", "2123456", "0351-***3456"),
])
def test_ids_cards_plates_mail_and_landlines_are_masked(written, gone, kept):
    out = mask_text(written)
    assert gone not in out.replace(" ", "") and kept in out


def test_plain_text_keeps_dates_prices_and_punctuation():
    text = "2024-10-01 10:15在万达买的，价格299.50元（打折后），订单号20241001，洗后掉色！"
    assert mask_text(text) == text


def test_names_announced_in_text_are_masked():
    assert mask_text("我叫王小明，住在太原") == "我叫王**，住在太原"
    assert mask_text("联系人：李大伟电话13812345678") == "联系人：李**电话138****5678"
    assert mask_text("投诉人：欧阳娜娜反映商家拒绝退款") == "投诉人：欧***反映商家拒绝退款"


@pytest.mark.parametrize("text", ["投诉人在万达广场购买的衣服掉色", "来电人咨询：如何退货", "举报人销售的保健酒无批准文号",
                                  "投诉人退还货款398元", "侵犯了我的姓名权受到损害", "联系人不接电话", "我叫了外卖"])
def test_role_words_followed_by_a_verb_announce_no_name(text):
    assert mask_text(text) == text


@pytest.mark.parametrize("contact, name", [
    ("我叫王小明", "王小明"),
    ("王小明 13812345678", "王小明"),
    ({"联系人": "李大伟"}, "李大伟"),
    ({"称呼": "赵小红", "手机号码": "138 1234 5678"}, "赵小红"),
    ({"王小明": 13812345678}, "王小明"),                  # a name as the key, the phone as a number
    ({"people": [{"who": "欧阳娜娜", "tel": "１３８１２３４５６７８"}]}, "欧阳娜娜"),
    ({"name": "王小明*", "phone": "138****5678 13812345678"}, "王小明"),   # a '*' does not make a value masked
])
def test_contact_in_any_shape_is_masked_and_its_names_found(contact, name):
    assert name in contact_names(contact)
    m = mask_contact(contact)
    shown = json.dumps(m, ensure_ascii=False)
    assert name not in shown and PHONE not in digits_only(shown)
    assert m["masked"] is True and set(m) <= {"masked", "name", "phone", "id_number", "email", "address", "note"}
    assert mask_contact(m) == m, "masking a masked contact changes nothing"


def test_contact_with_an_id_and_mail():
    m = mask_contact({"证件号": ID18, "邮箱": "wxm@example.com", "住址": "太原市小店区平阳路25号"})
    assert m["id_number"] == "110*************34" and m["email"] == "w***@example.com"
    assert ID18 not in json.dumps(m)


def test_every_field_past_intake_is_masked_with_the_contacts_names():
    raw = good(merchant=MERCHANT, contact="我叫王小明", tags=["王小明", "回访"],
               text="王小明反映：电话１３８１２３４５６７８，另一个号码138.1234.5678，李大伟也去过",
               amount="299元")
    rec, errs = RULES.validate(dict(raw, contact={"联系人": "李大伟", "其他": "我叫王小明"}), NOW)
    assert errs == []
    shown = json.dumps(rec, ensure_ascii=False)
    for secret in ("王小明", "李大伟", "１３８", ID18):
        assert secret not in shown
    assert PHONE not in digits_only(shown)
    assert rec["merchant"] == "个体户王** 138****5678 身份证110*************34"
    assert rec["tags"] == ["王**", "回访"]
    assert rec["text"].startswith("王**反映：电话138****5678")


def test_a_sole_trader_named_after_its_owner_is_masked_without_any_contact():
    rec, errs = RULES.validate(good(merchant=MERCHANT), NOW)
    assert errs == [] and "王小明" not in json.dumps(rec, ensure_ascii=False)
    assert rec["merchant"].startswith("个体户王**")
    shop, errs = RULES.validate(good(merchant="个体户张记面馆"), NOW)
    assert errs == [] and shop["merchant"] == "个体户张记面馆"  # a shop's name is not a person's


def test_masking_is_idempotent_so_a_worker_may_mask_again():
    rec, _ = RULES.validate(good(merchant=MERCHANT, contact={"联系人": "李大伟", "电话": "(138)1234-5678"},
                                 text="李大伟：电话138 1234 5678"), NOW)
    again, errs = RULES.validate(rec, NOW)
    assert errs == [] and {k: again[k] for k in ("text", "merchant", "contact")} == \
        {k: rec[k] for k in ("text", "merchant", "contact")}


# -- error messages and dead letters never repeat a raw value ------------------------------

def test_error_messages_quote_values_masked_and_cut():
    rec, errs = RULES.validate(good(channel=f"{PHONE} 王小明", contact="王小明", kind="表扬" * 100,
                                    amount=f"299元 身份证{ID18}"), NOW)
    assert rec is None
    by_field = {e["field"]: e["message"] for e in errs}
    assert set(by_field) == {"channel", "kind", "amount"}
    text = json.dumps(errs, ensure_ascii=False)
    assert PHONE not in text and "王小明" not in text and ID18 not in text
    assert "138****5678 王**" in by_field["channel"] and "is not one of" in by_field["channel"]
    assert len(by_field["kind"]) < 120 and "…" in by_field["kind"]


def test_a_dead_letter_masks_every_string_of_the_raw_input():
    raw = good(channel=f"{PHONE} 王小明", contact={"联系人": "李大伟", "投诉人": "王小明"}, merchant=MERCHANT,
               extra={"nested": [PHONE, int(PHONE), {"李大伟": f"身份证{ID18}"}]}, note="\x1b[31m李大伟\x00")
    _, errs = RULES.validate(raw, NOW)
    rec = deadletter.record(raw, errs + [{"field": "", "code": "x", "message": f"echo {PHONE}"}], "api")
    for value in (rec, deadletter.record(orjson.dumps(raw), errs, "worker")):
        text = json.dumps(value, ensure_ascii=False)
        for secret in ("王小明", "李大伟", ID18, "\\u001b"):
            assert secret not in text
        assert PHONE not in text and "138****5678" in text
    assert deadletter.safe_raw(b"\xff not json " + PHONE.encode()).endswith("138****5678")


def test_a_dead_letter_of_a_cut_body_drops_the_half_number_at_the_cut():
    body = ('{"text": "' + "投诉" * 600 + PHONE).encode()
    cut = body[:-4]                                        # what the API keeps of a body too large: ends in 1381234
    shown = deadletter.safe_raw(cut)
    assert "1381234" not in shown and shown.startswith('{"text": "投诉') and shown.endswith("…")
    assert deadletter.safe_raw(b"not json: 299") == "not json: 299"


# -- safe inputs ----------------------------------------------------------------------------

def test_every_control_and_format_character_is_removed():
    cc_cf = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) in ("Cc", "Cf")]
    joined = "a".join(cc_cf)
    single = strip_controls(joined)
    assert set(single) <= {"a", " "} and single.count("a") == len(cc_cf) - 1   # line breaks, tabs: a space
    kept = strip_controls(joined, multiline=True)
    assert set(kept) <= {"a", "\n", "\t"}
    assert strip_controls("第一行\r\n第二行\u2028第三行", multiline=True) == "第一行\n第二行\n第三行"


def test_zero_width_only_text_is_blank_and_controls_leave_every_field():
    assert ("text", "missing") in {(e["field"], e["code"])
                                   for e in RULES.validate(good(text="\u200b\u200c\u200d\ufeff\u2060"), NOW)[1]}
    rec, errs = RULES.validate(good(merchant="商场\x00\x07\x1b[31m\u202e", text="掉\u200b色\u202e严重\x1b[0m",
                                    channel="12315\u200b", tags=["a\u2066b"]), NOW)
    assert errs == []
    for v in (rec["merchant"], rec["text"], *rec["tags"]):
        assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in v), v
    assert rec["merchant"] == "商场[31m" and rec["text"] == "掉色严重[0m" and rec["channel"] == "12315"


def test_ids_must_match_in_full():
    for bad in ("NL-1\n", "NL-1\r", "NL-1 ", "\nNL-1", "NL\u200b-1", "x" * 65):
        errs = RULES.validate(good(id=bad), NOW)[1]
        assert [(e["field"], e["code"]) for e in errs] == [("id", "invalid")], bad
    assert "'NL-1\\n'" in RULES.validate(good(id="NL-1\n"), NOW)[1][0]["message"]
    assert RULES.validate(good(id="NL-1"), NOW)[0]["id"] == "NL-1"
    ok = dict(RULES.validate(good(id="NL-1"), NOW)[0], id="NL-1\n")
    assert RULES.check_normalised(ok, NOW)[0] is None, "the worker's fast check uses the full match too"


def test_the_2000_bound_is_local_time():
    assert RULES.validate(good(received_at="2000-01-01T00:00"), NOW)[0]["received_at"] == "2000-01-01T00:00:00+08:00"
    assert RULES.validate(good(received_at="2000-01-01T00:00:00+08:00"), NOW)[1] == []
    for early in ("1999-12-31T23:59:59", "2000-01-01T00:00:00+09:00"):
        assert [e["code"] for e in RULES.validate(good(received_at=early), NOW)[1]] == ["too_old"]


def nest(depth: int, leaf="x"):
    """A value of ``depth`` levels: [[...[leaf]...]]."""
    v = [leaf]
    for _ in range(depth - 1):
        v = [v]
    return v


def test_nesting_deeper_than_32_levels_is_refused_before_anything_else():
    assert MAX_DEPTH == 32
    ok = good(extra=nest(MAX_DEPTH - 1))               # the complaint is level 1
    assert not too_deep(ok) and RULES.validate(ok, NOW)[1] == []
    deep = good(extra=nest(MAX_DEPTH))
    assert too_deep(deep)
    assert RULES.validate(deep, NOW)[1] == [{"field": "", "code": "too_deep", "message": RULES.validate(deep, NOW)[1][0]["message"]}]
    assert "32" in RULES.validate(deep, NOW)[1][0]["message"]


def test_a_value_nested_100000_deep_costs_no_stack():
    limit = sys.getrecursionlimit()
    very = good(contact={"a": nest(100_000, PHONE)}, id=nest(100_000), channel=nest(100_000))
    assert too_deep(very)
    assert [e["code"] for e in RULES.validate(very, NOW)[1]] == ["too_deep"]
    assert mask_contact({"a": nest(100_000, PHONE)}) == {"masked": True}   # cut at 32 levels
    shown = mask_value(very)
    assert "nested too deep" in json.dumps(shown)
    rec = deadletter.record(very, RULES.validate(very, NOW)[1], "api")
    assert PHONE not in json.dumps(rec) and rec["reason_code"] == "too_deep"
    assert quote(nest(100_000)) == "(a list)"
    assert sys.getrecursionlimit() == limit


# -- the intake's signature ------------------------------------------------------------------

def test_the_key_comes_from_the_environment_or_a_private_file(tmp_path):
    s = load_settings({"DATA_DIR": str(tmp_path / "data")})
    k1 = intake_key(s, env={})
    path = tmp_path / "data" / "intake.key"
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600 and len(k1) >= 64
    assert intake_key(s, env={}) == k1, "made once, then read"
    assert intake_key(s, env={"INTAKE_HMAC_KEY": "y" * 40}) == b"y" * 40
    with pytest.raises(IntakeKeyError, match="at least 32"):
        intake_key(s, env={"INTAKE_HMAC_KEY": "short"})
    path.chmod(0o644)
    assert intake_key(s, env={}) == k1 and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_processes_starting_together_agree_on_one_key(tmp_path):
    import subprocess
    code = ("import sys; from config import load_settings; from streams.intake import intake_key; "
            f"sys.stdout.write(intake_key(load_settings({{'DATA_DIR': {str(tmp_path)!r}}}), env={{}}).decode())")
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, cwd=os.path.dirname(os.path.dirname(__file__)))
             for _ in range(4)]
    keys = {p.communicate(timeout=60)[0] for p in procs}
    assert len(keys) == 1 and keys == {(tmp_path / "intake.key").read_bytes().strip()}
    assert [p.name for p in tmp_path.iterdir()] == ["intake.key"]


def forged_record(i: int = 1, when: str = "2024-10-01 10:15:00") -> dict:
    """A record shaped like intake's output (norm:1 fields) but never validated: raw PII."""
    rec, _ = RULES.validate(good(id=f"forged-{i}", received_at=when), time.time())
    rec["text"] = f"王小明的电话{PHONE}"
    rec["merchant"] = MERCHANT
    rec["contact"] = {"masked": True, "name": "王小明", "phone": PHONE}
    return rec


def test_an_unsigned_or_badly_signed_norm_1_envelope_is_validated_and_masked_again():
    key = b"k" * 64
    value = envelope([forged_record()], "api", NOW)
    for signature, k in ((None, key), (sign(b"z" * 64, value), key), (sign(key, value), None),
                         (sign(key, value + b" "), key)):
        d = decode_message(value, RULES, time.time(), signature, k)
        assert not d.signed and len(d.valid) == 1, "still counted"
        shown = json.dumps(d.valid[0][1], ensure_ascii=False)
        assert PHONE not in shown and "王小明" not in shown and ID18 not in shown
        assert d.accepted_at is None, "an outside message's own timestamp is not believed"


def test_a_signed_envelope_is_trusted_without_masking_again():
    key = b"k" * 64
    value = envelope([forged_record()], "api", NOW)
    d = decode_message(value, RULES, time.time(), sign(key, value), key)
    assert d.signed and d.valid[0][1]["text"] == f"王小明的电话{PHONE}", "the fast path: one HMAC, no re-masking"
    assert signed(key, value, sign(key, value)) and not signed(key, value, b"0" * 64)


def test_the_signature_header_is_found_in_either_shape():
    assert signature_of([("other", b"1"), (SIG_HEADER, b"abc")]) == b"abc"
    assert signature_of({SIG_HEADER: b"abc"}) == b"abc"
    assert signature_of(None) is None and signature_of([]) is None


# -- against the real services -------------------------------------------------------------

RAW_FORMS = [PHONE, "１３８１２３４５６７８", "138.1234.5678", "(138)1234-5678", "138 1234 5678", ID18,
             "王小明", "李大伟", "赵小红"]


def find_raw(blob: bytes) -> list[str]:
    """Raw values present in ``blob`` (as written, or as digits with separators taken out)."""
    text = blob.decode("utf-8", errors="replace")
    found = [v for v in RAW_FORMS if v in text]
    squeezed = re.sub(r"[ .()\-\u3000]", "", fold(text))
    found += [f"{v} (digits)" for v in (PHONE, ID18) if v in squeezed]
    return found


@pytest.fixture
def own_redis(stack, tmp_path):
    """A redis-server of this test's own, so that its AOF holds only what this test made."""
    from streams.services import EmbeddedRedis, free_port

    rds = EmbeddedRedis(free_port(), tmp_path / "own-redis").start()
    r = rds.client(decode_responses=True)
    stack["env"]["REDIS_URL"] = rds.url(0)
    stack["redis"] = r
    stack["settings"] = load_settings(stack["env"])
    yield rds
    r.close()
    rds.stop()


def test_no_raw_value_reaches_redis_logs_or_the_dead_letter_topic(own_redis, stack, procs, request, tmp_path):
    from tests.conftest import consume_all, live_workers, start_worker, wait_until

    api = request.getfixturevalue("api")          # after own_redis: it uses this test's redis
    start_worker(procs, stack)
    S = stack["settings"]
    when = time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(time.time() + 8 * 3600))
    ok = [
        good(id="p-merchant", received_at=when, merchant=MERCHANT, contact="我叫王小明",
             text="王小明反映：店主电话１３８１２３４５６７８，衣服掉色"),
        good(id="p-other-key", received_at=when, contact={"联系人": "李大伟", "电话": "(138)1234-5678"},
             text="李大伟说商家拒绝退换，回电138.1234.5678"),
        good(id="p-name", received_at=when, contact={"name": "赵小红", "phone": "138 1234 5678"},
             tags=["赵小红"], text="赵小红：身份证110101199003071234被商家登记", merchant="商场\x00\x07\x1b[31m\u202e"),
        good(id="p-y2k", received_at="2000-01-01T00:00", text="\u200b2000年的第一件投诉"),   # local midnight
    ]
    bad = [
        good(id="p-channel", received_at=when, channel=f"{PHONE} 王小明", contact="王小明"),
        "p-deep",                                          # a field nested 1,000 deep: written below
        good(id="p-blank", received_at=when, text="\u200b\u200b\u200d"),
        good(id="NL-1\n", received_at=when, text=f"电话{PHONE}"),
    ]
    deep_body = (json.dumps(good(id="p-deep", received_at=when), ensure_ascii=False)[:-1] +
                 ', "extra": ' + "[" * 1000 + f'"{PHONE}"' + "]" * 1000 + "}").encode()
    with httpx.Client(headers=api.headers, timeout=30) as http:
        r = http.post(api + "/api/v1/complaints", json=ok)
        assert r.status_code == 202, r.text
        for b in bad:
            if b == "p-deep":       # json.dumps (and httpx) cannot write it: 1,000 levels
                r = http.post(api + "/api/v1/complaints", content=deep_body,
                              headers={"content-type": "application/json"})
                assert r.json()["items"][0]["errors"][0]["code"] == "too_deep", r.text
            else:
                r = http.post(api + "/api/v1/complaints", json=b)
            assert r.status_code == 422, r.text
            assert PHONE not in digits_only(r.text.replace("\\u", "")) and "王小明" not in r.text
        r = http.post(api + "/api/v1/complaints", content=deep_body, headers={"content-type": "application/json"})
        assert r.status_code == 422, r.text
        deeper = deep_body.replace(b"[" * 1000, b"[" * 2000).replace(b"]" * 1000, b"]" * 2000)  # past orjson's 1024
        r = http.post(api + "/api/v1/complaints", content=deeper, headers={"content-type": "application/json"})
        assert r.status_code == 422 and "32" in r.json()["error"], r.text

    async def publish_outside():
        """What an attacker on the topic writes: claims norm:1, unsigned / signed with a guess."""
        from aiokafka import AIOKafkaProducer
        p = AIOKafkaProducer(bootstrap_servers=S.broker)
        await p.start()
        try:
            v1 = envelope([forged_record(1, when)], "api")
            v2 = envelope([forged_record(2, when)], "api")
            await (await p.send(S.complaints_topic, v1))
            await (await p.send(S.complaints_topic, v2, headers=[(SIG_HEADER, sign(b"guess" * 8, v2))]))
        finally:
            await p.stop()
    asyncio.run(publish_outside())

    def counted():
        s = http_stats()
        return s if s["accepted"] >= 6 and s["rejected"] >= 6 else None

    def http_stats():
        return httpx.get(api + "/api/v1/stats", headers=api.headers, timeout=5).json()
    stats = wait_until(counted, 60, "4 posted + 2 outside complaints counted, 6 rejects counted")
    assert stats["accepted"] == 6, stats
    assert stats["rejects_by_reason"].get("too_deep") == 3, stats   # dead-lettered and counted
    # the API's message came signed through the broker (header intact); the two outside ones did not
    beat = wait_until(lambda: [w for w in live_workers(stack["redis"], S.complaints_topic) if w.get("messages", 0) >= 3],
                      20, "the worker's heartbeat after 3 messages")
    assert beat[0]["unsigned"] == 2 and beat[0]["messages"] == 3, beat

    dlq = asyncio.run(consume_all(S, S.dead_letter_topic, expect=stats["rejected"]))
    assert len(dlq) == stats["rejected"]
    time.sleep(1.5)                                       # appendfsync everysec

    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    aof = [p for p in files if "own-redis" in str(p) and "appendonly" in p.name]
    assert aof, files
    blobs = {str(p): p.read_bytes() for p in files}
    blobs["dead-letter topic"] = b"\n".join(dlq)
    assert b"138****5678" in b"".join(blobs[str(p)] for p in aof), "the complaints did reach the AOF (masked)"
    assert any(b"forged-1" in blobs[str(p)] for p in aof) and b"forged-2" in b"".join(blobs[str(p)] for p in aof)
    leaks = {name: found for name, blob in blobs.items() if (found := find_raw(blob))}
    assert leaks == {}, leaks
    aof_blob = b"".join(blobs[str(p)] for p in aof)
    assert b"\x1b[31m" not in aof_blob and "\u202e".encode() not in aof_blob and "\u200b".encode() not in aof_blob
    assert "商场[31m".encode() in aof_blob and "2000年的第一件投诉".encode() in aof_blob
    logs = [p.name for p in files if p.suffix == ".log"]
    assert any(n.startswith("worker") for n in logs) and any(n.startswith("api") for n in logs), logs


def test_log_records_are_masked_whoever_logs_them():
    import io
    import logging

    import streams.intake  # noqa: F401 - installs the masking, as in every intake process and the worker

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    log = logging.getLogger("test.security.pii")
    log.addHandler(handler)
    try:
        log.warning("channel %r from %s", f"{PHONE} 王小明", "\x1b[31mred")
        try:
            raise KeyError(f"身份证{ID18}")
        except KeyError:
            log.exception("failed on %s", PHONE)
    finally:
        log.removeHandler(handler)
    out = stream.getvalue()
    assert PHONE not in out and ID18 not in out and "\x1b" not in out
    assert "138****5678" in out and "Traceback" in out and "110*************34" in out
