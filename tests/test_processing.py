import time

import orjson

from config import load_settings
from streams.intake import envelope, sign
from streams.processing import decode_message
from streams.schema import Rules

RULES = Rules(load_settings({}))
KEY = b"k" * 64


def raw(i, **over):
    c = {"id": f"p{i}", "received_at": "2024-10-01 10:15:00", "channel": "12315", "kind": "咨询",
         "district": "140403", "text": "咨询退货流程"}
    c.update(over)
    return c


def test_envelope_from_intake():
    value = envelope([raw(1), raw(2)], "api", 123.0)
    d = decode_message(value, RULES, time.time(), sign(KEY, value), KEY)
    assert [i for i, _ in d.valid] == [0, 1] and d.accepted_at == 123.0 and d.source == "api" and d.signed


def test_bare_object_and_bare_list_from_other_producers():
    assert len(decode_message(orjson.dumps(raw(1)), RULES, time.time()).valid) == 1
    d = decode_message(orjson.dumps([raw(1), raw(2, district="999999"), raw(3)]), RULES, time.time())
    assert [i for i, _ in d.valid] == [0, 2]
    assert d.rejects[0][0] == 1 and d.rejects[0][2][0]["field"] == "district"


def test_malformed_and_non_utf8_messages_are_rejected_whole():
    d = decode_message(b'{"id": "x", ', RULES, time.time())
    assert not d.valid and d.rejects[0][2][0]["code"] == "malformed_json"
    d = decode_message(b'{"text": "\xff\xfe"}', RULES, time.time())
    assert d.rejects[0][2][0]["code"] == "not_utf8" and "position 10" in d.rejects[0][2][0]["message"]


def test_same_id_twice_in_one_message():
    d = decode_message(orjson.dumps([raw(1), raw(1)]), RULES, time.time())
    assert len(d.valid) == 1 and d.rejects[0][2][0]["code"] == "duplicate"


def test_intake_envelopes_take_the_fast_path_but_cannot_smuggle_bad_records():
    good, _ = RULES.validate(raw(1), time.time())
    forged = dict(good, id="p2", district="999999")   # claims to be normalised, is not
    unmasked = dict(raw(3), contact={"phone": "13812345678"})  # a raw record in a normalised envelope
    value = envelope([good, forged, unmasked], "api", 1.0)
    d = decode_message(value, RULES, time.time(), sign(KEY, value), KEY)
    assert d.signed and [i for i, _ in d.valid] == [0, 2]
    assert d.valid[0][1] is not None and d.rejects[0][2][0]["field"] == "district"
    assert "13812345678" not in str(d.valid[1][1]), "a record that fails the fast check is fully validated and masked"


def test_an_unsigned_envelope_claiming_norm_1_is_outside_input():
    good, _ = RULES.validate(raw(1), time.time())
    planted = dict(good, text="电话13812345678", contact={"masked": True, "phone": "13812345678"})
    value = envelope([planted], "api", 1.0)
    for signature in (None, sign(b"x" * 64, value)):
        d = decode_message(value, RULES, time.time(), signature, KEY)
        assert not d.signed and len(d.valid) == 1, "validated in full, and counted"
        assert "13812345678" not in str(d.valid[0][1])
    trusted = decode_message(value, RULES, time.time(), sign(KEY, value), KEY)
    assert trusted.signed and trusted.valid[0][1]["text"] == "电话13812345678", "signed: the fast path"


def test_a_message_nested_past_the_parsers_limit_is_too_deep():
    d = decode_message(b'{"id": "x", "extra": ' + b"[" * 2000 + b"]" * 2000 + b"}", RULES, time.time())
    assert not d.valid and d.rejects[0][2][0]["code"] == "too_deep"


def test_the_stream_learns_the_industry_of_complaints_that_carry_one(tmp_path, monkeypatch):
    """A bureau's own wording (here an invented product word) is learned from complaints that
    arrive with an industry, used for complaints that arrive without, and saved for the next start."""
    from nlp.classify import IndustryClassifier
    from streams.processing import TextAnalysis, enrich

    monkeypatch.setenv("INDUSTRY_MODEL_FILE", str(tmp_path / "model.json"))
    nlp = TextAnalysis(load_settings())
    word = "蔻洛斐芮"   # no model has seen it
    labelled = [(0, {"id": f"L{i}", "ts": 0, "district": "140105", "industry": "房地产", "kind": "投诉",
                     "channel": "12315", "text": f"{word}{word}的问题{i}"}) for i in range(60)]
    unknown = {"id": "U1", "ts": 0, "district": "140105", "industry": nlp.unclassified, "kind": "投诉",
               "channel": "12315", "text": f"{word}{word}"}
    before = nlp.classifier.predict_tokens(nlp.extractor.extract(unknown["text"]).tokens)
    nlp.learner.max_per_second = None
    enrich(labelled, nlp)
    assert nlp.classifier.predict_tokens(nlp.extractor.extract(unknown["text"]).tokens) == before, \
        "the weights follow on the clock, not on every complaint"
    nlp.learner.tick(time.monotonic() + 61)
    enrich([(0, unknown)], nlp)
    assert unknown["industry"] == "房地产", before
    nlp.close()
    saved = IndustryClassifier.load()
    assert saved.predict_tokens(nlp.extractor.extract(unknown["text"]).tokens)[0] == "房地产"


def test_learning_can_be_switched_off():
    from streams.processing import TextAnalysis

    s = load_settings()
    s.raw["nlp"]["learn_online"] = False
    assert TextAnalysis(s).learner is None


def test_online_learning_is_capped_per_second_and_saved_on_the_clock(tmp_path):
    from nlp.classify import IndustryClassifier, OnlineLearner

    path = tmp_path / "m.json"
    learner = OnlineLearner(IndustryClassifier.load(), path=path, refresh_seconds=60, save_seconds=300,
                            max_per_second=5)
    learned = [learner.observe(["商品", "房子", "漏水"], "房地产") for _ in range(10)]
    assert sum(learned) == 5, "at most max_per_second a second"
    assert not path.exists()
    learner.tick(time.monotonic() + 301)
    assert path.exists() and learner.unsaved == 0


def test_the_workers_extractor_does_not_mask_again_and_finds_the_same_terms():
    """Records reach enrich() masked (validated here, or by the signed intake), so the worker's
    extractor skips masking; on masked texts its terms are those of the masking extractor."""
    from nlp.extract import Extractor
    from streams.bench import complaints
    from streams.processing import TextAnalysis, enrich

    s = load_settings()
    s.raw["nlp"]["learn_online"] = False
    nlp = TextAnalysis(s)
    assert nlp.extractor.mask is False and Extractor.default().mask is True, "the default extractor still masks"
    planted = ["我叫王小明，身份证１４０１０５１９９００１０１１２３４，车牌晋A12345，邮箱wxm@qq.com，鞋子开胶商家不退款",
               "联系人：李大伟 (0351)1234567 充值卡6222021234567890123余额不退，健身房跑路",
               "个体户：张小强，卖的羊肉不新鲜，电话138-1234-5678，住平阳路25号3单元501室"]
    raws = complaints(300, "mask")
    for i, text in enumerate(planted):
        raws[i]["text"] = text
    records = [(i, RULES.validate(raw, time.time())[0]) for i, raw in enumerate(raws)]
    masking = TextAnalysis.__new__(TextAnalysis)
    masking.__dict__.update(nlp.__dict__, extractor=Extractor.default())
    docs = enrich(records, nlp)
    assert docs == enrich(records, masking)
    for leaked in ("王小明", "李大伟", "张小强", "1234567", "12345678", "A12345", "wxm@"):
        assert all(leaked.encode() not in d for d in docs), leaked


def test_what_was_learned_online_moves_onto_a_newer_shipped_model(tmp_path, monkeypatch, caplog):
    """An installation's learned model used to shadow the shipped one for good: an upgrade's
    better model was never used. Now the file names the shipped model it learned on and keeps
    its online learning apart, and a newer shipped model gets that learning added."""
    import shutil

    from nlp import classify as C

    shipped_v1 = tmp_path / "shipped_v1.json"
    shutil.copy(C.MODEL_FILE, shipped_v1)
    monkeypatch.setattr(C, "MODEL_FILE", shipped_v1)
    monkeypatch.setenv("INDUSTRY_MODEL_FILE", str(tmp_path / "installation.json"))
    C._load_cached.cache_clear()
    word = "蔻洛斐芮"   # no model has seen it
    learner = C.OnlineLearner()
    for i in range(60):
        assert learner.observe([word, "问题", str(i)], "房地产")
    learner.save()
    mine = C.IndustryClassifier.load()
    assert mine.meta["base"] == C.shipped_fingerprint()
    assert sum(mine.learned_docs) == 60 and mine.predict_tokens([word])[0] == "房地产"

    # the upgrade: a different shipped model (here: v1 that also learned 50 texts of 汽车)
    v2 = C.IndustryClassifier.load(shipped_v1).copy()
    for _ in range(50):
        v2.learn_tokens(["变速箱", "顿挫", "蔻洛斐芮"], "汽车")
    v2.refresh()
    shipped_v2 = tmp_path / "shipped_v2.json"
    v2.save(shipped_v2)
    monkeypatch.setattr(C, "MODEL_FILE", shipped_v2)
    with caplog.at_level("WARNING", logger="nlp.classify"):
        got = C.IndustryClassifier.load()
    assert "older shipped model" in caplog.text
    k, a = got.classes.index("房地产"), got.classes.index("汽车")
    assert got.class_docs[k] == v2.class_docs[k] + 60, "the installation's learning is kept"
    assert got.class_docs[a] == v2.class_docs[a], "and the new shipped model is used under it"
    assert got.counts[word][k] == 60 and got.counts[word][a] == 50
    assert got.meta["base"] == C.shipped_fingerprint(shipped_v2)
    # a learner started now learns on top of the rebased model, and its file names the new base
    learner = C.OnlineLearner()
    learner.observe([word], "房地产")
    learner.save()
    C._load_cached.cache_clear()
    again = C.IndustryClassifier.load()
    assert again.meta["base"] == C.shipped_fingerprint(shipped_v2)
    assert sum(again.learned_docs) == 61 and again.class_docs[a] == v2.class_docs[a]
