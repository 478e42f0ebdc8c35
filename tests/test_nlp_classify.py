"""The industry classifier (nlp/classify.py): accuracy and calibration on real hold-out text,
abstention, online learning, model file, PII, CLI.

The tests load the committed model (config/nlp/industry_model.json, learned from real public
texts, see tests/data/README.md) instead of retraining it; small training runs check
learn/fit/save/load and ``--train`` on the real samples.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import Counter

import pytest

from config import ROOT_DIR, load_settings
from nlp import classify as C
from nlp.classify import IndustryClassifier, evaluate, feature_strings, normalize, tokenize

INDUSTRIES = list(load_settings({}).complaints.industries)
DATA = ROOT_DIR / "tests" / "data"

# Measured with the committed model on tests/data/industry_real_holdout.jsonl (450 real texts
# it never learned from: 150 TipDM hotel reviews -> 旅游, 150 car forum posts -> 汽车, 150
# restaurant reviews -> 食品): 0.9889 right; at its bar p >= 0.4 it answers 99.6 % and is right
# 0.9888 of the time, 0.9844 with abstentions counted wrong; ECE 0.046. The model learned no
# ChnSentiCorp text (its hotel reviews likely overlap the judged online_shopping_10_cats 酒店
# category). The model before that change, on the same texts: 0.9667 right, answers 98.9 %,
# 0.9578 with abstentions wrong, and 0.907 on the TipDM hotel reviews (1.000 on the ChnSentiCorp
# hotel hold-out it replaced). With 450 texts one standard error is about 0.006 at 0.98; the
# floors are the targets, well below.
REAL_MIN_ABSTAIN_WRONG = 0.85
REAL_MIN_ANSWERED = 0.90
REAL_MAX_ECE = 0.12
# tests/data/industry_real_holdout_products.jsonl (575 real product texts -> 产品质量, never
# learned: 150 JD phone reviews, 150 camera, 150 phone and 125 notebook review sentences):
# measured 0.9322 right; at p >= 0.4 answers 96.3 %, right 0.9495 when it answers, 0.9148 with
# abstentions counted wrong; ECE 0.084 (the model trained with ChnSentiCorp: 0.9287, 93.2 %,
# 0.9646, 0.9009, ECE 0.118). The model before product texts (three real sets only): 0.0 right
# (汽车 140, 旅游 14, 食品 15, abstains 406). With 575 texts one standard error is ~0.013.
PRODUCTS_MIN_ABSTAIN_WRONG = 0.85
PRODUCTS_MAX_ECE = 0.2
PRODUCTS_FILE = DATA / "industry_real_holdout_products.jsonl"


@pytest.fixture(scope="module")
def model() -> IndustryClassifier:
    return IndustryClassifier.load(C.MODEL_FILE)


@pytest.fixture(scope="module")
def real():
    return C.read_labelled(C.REAL_HOLDOUT_FILE)


@pytest.fixture(scope="module")
def handwritten():
    return C.read_labelled(C.HANDWRITTEN_FILE)


# --- the model file ---------------------------------------------------------------------------

def test_model_file_is_small_and_loadable(model):
    assert C.MODEL_FILE.is_file()
    assert C.MODEL_FILE.stat().st_size < 1_500_000
    assert model.classes == INDUSTRIES
    assert len(model.index) == model.weights.shape[0] > 1000
    assert model.weights.shape[1] == len(INDUSTRIES)
    assert IndustryClassifier.load(C.MODEL_FILE) is model           # cached
    assert model.meta["texts_per_class"]["旅游"] > 1000 and 0.3 <= model.min_probability < 1


def test_model_features_hold_no_digits_or_masks(model):
    bad = [f for f in model.index if any(ch.isdigit() or ch == "*" for ch in f)]
    assert bad == []


def test_missing_or_bad_model_file_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="--train"):
        IndustryClassifier.load(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something-else"}', encoding="utf-8")
    with pytest.raises(ValueError, match="cannot be read"):
        IndustryClassifier.load(bad)


# --- accuracy on real text ----------------------------------------------------------------------

def test_real_holdout_accuracy_coverage_and_calibration(model, real):
    texts, labels = real
    assert len(texts) == 450 and Counter(labels) == {"旅游": 150, "汽车": 150, "食品": 150}
    rows = [json.loads(x) for x in C.REAL_HOLDOUT_FILE.read_text(encoding="utf-8").splitlines() if x.strip()]
    # the hotel part is the TipDM set, not ChnSentiCorp (see tests/data/README.md)
    assert Counter(x["source"] for x in rows) == {"tipdm_hotel": 150, "car": 150, "restaurant": 150}
    r = evaluate(model, texts, labels)
    print(f"\nreal hold-out: accuracy {r['accuracy']} on {r['n']}; at p >= {r['min_probability']} answers "
          f"{r['coverage']}, right {r['accuracy_answered']} when it answers, {r['accuracy_abstain_wrong']} "
          f"with abstentions wrong; ECE {r['ece']}")
    assert r["accuracy_abstain_wrong"] >= REAL_MIN_ABSTAIN_WRONG
    assert r["accuracy_answered"] >= REAL_MIN_ANSWERED
    assert r["ece"] <= REAL_MAX_ECE
    assert min(v["recall"] for v in r["per_industry"].values() if v["support"]) >= 0.9
    # confidence separates right from wrong (the old model: 0.46 against 0.35)
    assert r["mean_probability_right"] >= 0.8


def test_real_product_holdout_accuracy_coverage_and_calibration(model):
    rows = [json.loads(x) for x in PRODUCTS_FILE.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert Counter(r["source"] for r in rows) == {"jd_phone": 150, "absa_camera": 150, "absa_phone": 150,
                                                  "absa_notebook": 125}
    assert {r["industry"] for r in rows} == {"产品质量"}
    r = evaluate(model, [x["text"] for x in rows], [x["industry"] for x in rows])
    print(f"\nreal product hold-out: accuracy {r['accuracy']} on {r['n']}; answers {r['coverage']}, right "
          f"{r['accuracy_answered']} when it answers, {r['accuracy_abstain_wrong']} with abstentions wrong; "
          f"ECE {r['ece']}")
    assert r["accuracy_abstain_wrong"] >= PRODUCTS_MIN_ABSTAIN_WRONG
    assert r["accuracy_answered"] >= REAL_MIN_ANSWERED
    assert r["ece"] <= PRODUCTS_MAX_ECE
    for source in ("jd_phone", "absa_camera", "absa_phone", "absa_notebook"):
        part = [x for x in rows if x["source"] == source]
        rs = evaluate(model, [x["text"] for x in part], [x["industry"] for x in part])
        assert rs["accuracy_abstain_wrong"] >= 0.8, (source, rs["accuracy_abstain_wrong"])
    # the model knows 产品质量 from real text now: thousands of texts, not a dozen
    assert model.meta["texts_per_class"]["产品质量"] > 2000


def test_the_hold_out_files_follow_the_split_rule():
    from nlp.build_industry_realdata import is_holdout

    for f in (C.REAL_HOLDOUT_FILE, PRODUCTS_FILE):
        texts, _ = C.read_labelled(f)
        assert texts and all(is_holdout(t) for t in texts), f
        assert len(set(texts)) == len(texts)
    hotel = [t for t in (DATA / "real_hotel_negative.txt").read_text(encoding="utf-8").splitlines() if t.strip()]
    assert len(hotel) >= 250 and all(is_holdout(t) for t in hotel)
    # the source's name masks (住**酒店) were dropped: a star is never learned as tourism
    assert not any("*" in t for t in hotel)


def test_short_texts_get_a_sharper_temperature_with_a_floor(model):
    from nlp.classify import LENGTH_MIN, LENGTH_REF

    assert 0 < model.length_power <= 1
    assert model.temperature_for(int(LENGTH_REF)) == pytest.approx(model.temperature)
    assert model.temperature_for(40) < model.temperature_for(400)
    assert model.temperature_for(1) == model.temperature_for(LENGTH_MIN)
    # a power of 0 is the plain temperature (models saved before it existed load that way)
    d = model.to_dict()
    d.pop("length_power")
    old = IndustryClassifier.from_dict(d)
    assert old.length_power == 0 and old.temperature_for(5) == old.temperature_for(500) == old.temperature
    # the calibration recovers the power behind the data: scores that grow with the number of
    # features (m = 0.08 n) while the odds they stand for grow slower (T 2 at 100 features, power 0.7)
    import numpy as np

    rng = np.random.default_rng(1)
    scores, labels, lengths = [], [], []
    for _ in range(3000):
        n = int(rng.integers(10, 400))
        m = 0.08 * n * rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 1.0)
        p0 = 1 / (1 + math.exp(-m / (2.0 * (n / 100) ** 0.7)))
        scores.append(np.array([m / 2, -m / 2]))
        labels.append(0 if rng.random() < p0 else 1)
        lengths.append(n)
    t, power = C.fit_calibration(scores, labels, lengths)
    assert 0.5 <= power <= 0.9 and 1.4 <= t <= 2.8, (t, power)
    assert C.fit_calibration(scores, labels, lengths, powers=(0.0,))[1] == 0.0


def test_neutral_words_carry_no_weight(model):
    neutral = C.neutral_features()
    assert {"投诉", "你好", "请问", "尽快"} <= neutral
    assert not any(len(f) == 1 for f in neutral)
    assert not neutral & set(model.index)


def test_the_model_abstains_when_unsure(model):
    # no industry's words: boilerplate, punctuation, nothing
    for text in ("我要投诉，请尽快处理", "你好，请问一下", "。。。！！", "", "12345678"):
        industry, p = model.decide(text)
        assert industry is None and p < model.min_probability, (text, p)
    # a plain real-world complaint of a known industry is answered
    assert model.decide("酒店房间有蟑螂，床单也不干净，前台不给换房")[0] == "旅游"
    assert model.decide("发动机异响，变速箱顿挫，4S店不给修")[0] == "汽车"
    # the stream's path: tokens, and its own bar
    industry, p = model.decide_tokens(tokenize(normalize("我要投诉")), 0.4)
    assert industry is None


def test_abstaining_helps_on_unseen_handwritten_complaints(model, handwritten):
    # batch 2 of the hand-written file (ten industries, never learned): the shipped model knows
    # seven industries from a dozen hand-written texts only, so it is weak there; it must at
    # least be right more often when it answers than overall (its doubt means something)
    rows = [json.loads(x) for x in C.HANDWRITTEN_FILE.read_text(encoding="utf-8").splitlines() if x.strip()]
    b2 = [r for r in rows if r.get("batch") == 2]
    r = evaluate(model, [x["text"] for x in b2], [x["industry"] for x in b2])
    print(f"\nhand-written batch 2: accuracy {r['accuracy']} on {r['n']}; answers {r['coverage']}, "
          f"right {r['accuracy_answered']} when it answers; ECE {r['ece']}")
    assert r["coverage"] < 1.0
    assert r["accuracy_answered"] > r["accuracy"]


def test_handwritten_file_is_well_formed(handwritten):
    texts, labels = handwritten
    assert len(texts) >= 120
    assert len(set(texts)) == len(texts)
    per = Counter(labels)
    assert set(per) == set(INDUSTRIES)
    assert min(per.values()) >= 8


def test_reliability_table_and_ece():
    table, ece = C.reliability([0.95, 0.95, 0.55, 0.55], [True, True, True, False])
    assert [b["n"] for b in table] == [2, 2]
    assert ece == pytest.approx(0.5 * 0.05 + 0.5 * 0.05)
    assert C.fit_min_probability([0.9, 0.8, 0.5, 0.45], [True, True, False, True], target=0.9) == 0.8


def test_evaluate_report_shape(model):
    texts = ["外卖里吃出了头发", "二手车里程表被调过", "外卖里有苍蝇"]
    r = evaluate(model, texts, ["食品", "汽车", "汽车"])
    assert r["n"] == 3
    assert sum(n for row in r["confusion"].values() for n in row.values()) == 3
    assert r["confusion"]["汽车"] == {"汽车": 1, "食品": 1}
    assert r["accuracy"] == round(2 / 3, 4)
    assert r["per_industry"]["食品"]["precision"] == 0.5
    assert r["per_industry"]["汽车"]["recall"] == 0.5


# --- prediction -------------------------------------------------------------------------------

def test_predictions_are_deterministic(model, handwritten, tmp_path):
    texts = handwritten[0][:40]
    first = [model.predict(t) for t in texts]
    assert [model.predict(t) for t in texts] == first
    # a fresh copy of the model from another file gives the very same numbers
    copy = tmp_path / "copy.json"
    copy.write_bytes(C.MODEL_FILE.read_bytes())
    other = IndustryClassifier.load(copy)
    assert other is not model
    assert [other.predict(t) for t in texts] == first
    for industry, p in first:
        assert industry in INDUSTRIES and 1 / len(INDUSTRIES) <= p <= 1.0


def test_predict_tokens_matches_predict_and_training_features(model, handwritten):
    for text in handwritten[0]:
        tokens = tokenize(normalize(text))
        assert model.predict_tokens(tokens) == model.predict(text)
        assert model.predict_tokens(tuple(tokens)) == model.predict(text)
        # the cached fast path reads exactly the features training counted
        expected = {model.index[f] for f in feature_strings(tokens) if f in model.index}
        assert model._rows(tokens) == expected


def test_other_segmentations_give_nearly_the_same_answers(model, handwritten):
    import jieba

    texts = [normalize(t) for t in handwritten[0]]
    ours = [model.predict_tokens(tokenize(t))[0] for t in texts]
    theirs = [model.predict_tokens(jieba.lcut(t))[0] for t in texts]
    chars = [model.predict_tokens(list(t))[0] for t in texts]
    agree = sum(a == b for a, b in zip(ours, theirs)) / len(texts)
    agree_chars = sum(a == b for a, b in zip(ours, chars)) / len(texts)
    print(f"\nagreement with jieba tokens {agree:.3f}, with single characters {agree_chars:.3f}")
    assert agree >= 0.9
    assert agree_chars >= 0.8


def test_empty_and_odd_texts(model):
    for text in ("", "   ", "。。。！！", "12345678", "**********", "a" * 5000, "😀😀"):
        industry, p = model.predict(text)
        assert industry in INDUSTRIES
        assert 0 < p <= 1
    industry, p = model.predict("")
    assert p == pytest.approx(1 / len(INDUSTRIES))     # no evidence: below any useful threshold
    assert model.predict_tokens([]) == model.predict("")


def test_predicting_from_tokens_is_predicting_from_the_text(model, real):
    """The stream classifies from the tokens extraction already made; it must agree with the
    text path (which masks and cuts itself).  Its speed is measured by `make bench`, not here."""
    for t in real[0][:300]:
        ind_t, p_t = model.predict(t)
        ind_k, p_k = model.predict_tokens(tokenize(normalize(t)))
        assert ind_t == ind_k and p_t == pytest.approx(p_k), t


# --- personal data ----------------------------------------------------------------------------

PII_TEXT = ("我叫王小明，身份证140402199001011234，手机13812345678，银行卡6222 0212 3456 7890 123，"
            "邮箱wxm@example.com，车牌晋D·5C9D1。在药店买的感冒药已经过期了，要求退款。")


def test_pii_does_not_crash_or_become_features(model):
    industry, p = model.predict(PII_TEXT, names=("王小明",))
    assert industry in INDUSTRIES
    feats = feature_strings(tokenize(normalize(PII_TEXT, names=("王小明",))))
    assert not any(ch.isdigit() for f in feats for ch in f)
    assert not {"小明", "明，", "wxm", "example"} & feats
    # other numbers, same answer and probability: the numbers carry no weight
    other = PII_TEXT.replace("13812345678", "13998765432").replace("140402199001011234", "110101198512319876")
    assert model.predict(other, names=("王小明",)) == (industry, p)


# --- learning ---------------------------------------------------------------------------------

def _real_samples():
    texts, labels = [], []
    for name, industry in (("hotel", "旅游"), ("car", "汽车"), ("restaurant", "食品")):
        for t in (DATA / f"real_{name}_negative.txt").read_text(encoding="utf-8").splitlines():
            if t.strip():
                texts.append(t)
                labels.append(industry)
    return texts, labels


def test_small_training_run_on_real_samples(tmp_path, real):
    texts, labels = _real_samples()
    m = IndustryClassifier(INDUSTRIES).fit(texts, labels)
    r = evaluate(m, *real, min_probability=0.0)
    assert r["accuracy"] >= 0.9, r["accuracy"]
    path = m.save(tmp_path / "m.json")
    again = IndustryClassifier.load(path)
    assert again.classes == INDUSTRIES and again.class_docs == m.class_docs
    assert [again.predict(t) for t in real[0][:50]] == [m.predict(t) for t in real[0][:50]]
    # the same data gives the same file
    IndustryClassifier(INDUSTRIES).fit(texts, labels).save(tmp_path / "m2.json")
    assert (tmp_path / "m2.json").read_bytes() == path.read_bytes()
    # industries never learned cannot win
    assert {m.predict(t)[0] for t in real[0][:100]} <= {"旅游", "汽车", "食品"}
    with pytest.raises(ValueError, match="labels"):
        IndustryClassifier(INDUSTRIES).fit(["a"], ["not-an-industry"])
    with pytest.raises(ValueError):
        IndustryClassifier(INDUSTRIES).fit(["a", "b"], ["食品"])


def test_learning_online_adapts_to_a_bureaus_wording(model):
    m = model.copy()
    # 房地产 is known from a dozen hand-written texts only; this bureau's exports teach it
    local = ["开发商延期交房一年多了，也不给违约金", "物业费乱涨，小区电梯天天坏", "开发商承诺的学区房落空了",
             "交房时墙面开裂渗水，开发商拒绝维修", "售楼处虚假宣传绿化率，开发商不认账"]
    probe = "开发商延期交房，拒绝支付违约金"
    before = m.predict_proba(probe)["房地产"]
    for _ in range(8):
        for t in local:
            m.learn(t, "房地产")
    m.refresh()
    after = m.predict_proba(probe)["房地产"]
    assert after > before and m.decide(probe)[0] == "房地产"
    assert model.predict_proba(probe)["房地产"] == pytest.approx(before)     # the shared model is untouched
    with pytest.raises(ValueError, match="not among the classes"):
        m.learn("x", "火星")


def test_cli_train_learns_a_labelled_export_and_saves_it(tmp_path):
    import csv

    export = tmp_path / "export.csv"
    with export.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["工单编号", "诉求内容", "行业"])
        w.writerows([i, f"开发商延期交房{i}天，拒绝支付违约金", "房地产"] for i in range(40))
        w.writerows([100 + i, t, "旅游"] for i, t in enumerate(_real_samples()[0][:40]))
    out = tmp_path / "learned.json"
    r = _cli("--train", export, "--out", out, "--json", "--prune", 30)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["texts"] == 80 and rep["started_from"] == "the current model" and out.is_file()
    learned = IndustryClassifier.load(out)
    # the report's feature count is what the saved (pruned) file holds, not the count in memory
    assert rep["features"] == len(learned.index) < rep["features_learned"]
    assert learned.class_docs[INDUSTRIES.index("房地产")] >= 40
    assert learned.decide("开发商延期交房，拒绝支付违约金")[0] == "房地产"


# --- command line -------------------------------------------------------------------------------

def _cli(*args, cwd=ROOT_DIR):
    return subprocess.run([sys.executable, "-m", "nlp", "classify", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_cli_classifies_a_text_file(tmp_path):
    f = tmp_path / "c.txt"
    f.write_text("酒店房间有蟑螂，床单也不干净，前台不给换房\n\n发动机异响，4S店不给修，电话13812345678\n"
                 "我要投诉，请尽快处理\n", encoding="utf-8")
    r = _cli(f, "--model", C.MODEL_FILE)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 4                              # header + three complaints
    assert "旅游" in lines[1] and "汽车" in lines[2] and "未定" in lines[3]
    assert "13812345678" not in r.stdout
    r = _cli(f, "--json", "--model", C.MODEL_FILE)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["industry"] for x in rows] == ["旅游", "汽车", None]      # null: it holds back
    assert all(0 < x["probability"] <= 1 for x in rows)
    assert "138****5678" in rows[1]["text"]


def test_cli_csv_column_and_evaluate(tmp_path):
    f = tmp_path / "c.csv"
    f.write_text("编号,诉求\n1,酒店早餐太差，房间隔音不好\n", encoding="utf-8")
    r = _cli(f, "--column", "诉求", "--json", "--model", C.MODEL_FILE)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["industry"] == "旅游"
    r = _cli("--evaluate", C.REAL_HOLDOUT_FILE, "--model", C.MODEL_FILE)
    assert r.returncode == 0, r.stderr
    assert "accuracy" in r.stdout and "ECE" in r.stdout and "reliability" in r.stdout


def test_cli_help_and_errors(tmp_path):
    r = _cli("--help")
    assert r.returncode == 0 and "python -m nlp classify" in r.stdout and "--train" in r.stdout
    cases = [
        (),                                             # nothing to do
        (tmp_path / "missing.txt",),
        (tmp_path / "c.csv", "--column", "nope"),
        ("--evaluate", tmp_path / "bad.jsonl"),
        ("--evaluate", tmp_path / "labels.jsonl"),
        ("x.txt", "--train", "y.csv"),
        ("--fresh",),
        ("--bogus",),
    ]
    (tmp_path / "c.csv").write_text("内容\n一条投诉\n", encoding="utf-8")
    (tmp_path / "bad.jsonl").write_text("not json\n", encoding="utf-8")
    (tmp_path / "labels.jsonl").write_text('{"text": "t", "industry": "火星"}\n', encoding="utf-8")
    for args in cases:
        r = _cli(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)
        assert "error" in r.stderr


def test_online_learner_learns_known_industries_and_saves_periodically(model, tmp_path):
    path = tmp_path / "installation.json"
    learner = C.OnlineLearner(model, path, save_every=3)
    toks = tokenize(normalize("开发商延期交房，拒绝支付违约金"))
    assert not learner.observe(toks, "未分类") and not learner.observe(toks, None) and not learner.observe(toks, "火星")
    assert learner.observe(toks, "房地产") and learner.observe(toks, "房地产") and not path.exists()
    assert learner.observe(toks, "房地产") and path.is_file()          # the third one saved
    saved = IndustryClassifier.load(path)
    k = INDUSTRIES.index("房地产")
    assert saved.class_docs[k] == model.class_docs[k] + 3
    assert learner.model is not model and model.class_docs[k] == saved.class_docs[k] - 3
    assert learner.save() is None                                     # nothing new to save


# --- building the real training set --------------------------------------------------------------

def test_build_industry_realdata_maps_sources_splits_and_skips_pii(tmp_path):
    from nlp import build_industry_realdata as B

    absa = tmp_path / "camera.txt"
    absa.write_text("而 且 $T$ 鲜 艳 反 差 略 大 ， 很 满 意\n色 彩\nNegative\n"
                    "这 台 sony 相 机 的 $T$ 非 常 差 劲\n镜 头\nNegative\n"
                    "这 台 sony 相 机 的 $T$ 非 常 差 劲\n镜 头\nNegative\n", encoding="utf-8")
    jd = tmp_path / "jd.csv"
    jd.write_text("手机ID,评论内容,得分\n1,\"屏幕很清晰，\n电池也耐用，物流很快\",5\n"
                  "2,加我微信13812345678领优惠券，手机不错,5\n3,好,5\n", encoding="utf-8")
    train, hold = B.build([("absa_camera", absa), ("jd_phone", jd)], holdout_per_source=10)
    rows = train + hold
    texts = sorted(r["text"] for r in rows)
    assert texts == sorted(["而且色彩鲜艳反差略大，很满意", "这台sony相机的镜头非常差劲", "屏幕很清晰， 电池也耐用，物流很快"])
    assert {r["industry"] for r in rows} == {"产品质量"}                    # from the source table
    assert all(B.is_holdout(r["text"]) for r in hold) and not any(B.is_holdout(r["text"]) for r in train)
    # the split rule is the project's: md5, first 8 hex digits, mod 10, 0-2 hold-out
    import hashlib

    t = "屏幕很清晰， 电池也耐用，物流很快"
    assert B.split_of(t) == int(hashlib.md5(t.encode()).hexdigest()[:8], 16) % 10
    out_t, out_h = tmp_path / "t.jsonl", tmp_path / "h.jsonl"
    assert B.main([f"absa_camera={absa}", f"jd_phone={jd}", "--train-out", str(out_t),
                   "--holdout-out", str(out_h)]) == 0
    assert len(out_t.read_text(encoding="utf-8").splitlines()) + len(out_h.read_text(encoding="utf-8").splitlines()) == 3
    with pytest.raises(SystemExit):
        B.main(["nosuch=x.txt", "--train-out", str(out_t), "--holdout-out", str(out_h)])


def test_build_industry_realdata_reads_tipdm_hotel_reviews_and_their_negatives(tmp_path):
    from nlp import build_industry_realdata as B

    assert B.SOURCES["tipdm_hotel"] == "旅游"
    reviews = ["入住**酒店，前台服务态度很差，空调噪音大", "早餐丰富，房间干净，下次还来", "房间隔音太差，一晚没睡好",
               "位置方便，离地铁站近，服务热情周到", "设施陈旧，地毯有霉味，不会再住"]
    src = tmp_path / "酒店评论.csv"                        # the source is GB18030, as published
    src.write_bytes(("酒店名称,评论日期,评论内容,入住房型\n" +
                     "".join(f"H01,2020-01-0{i + 1},{t},标准间\n" for i, t in enumerate(reviews))).encode("gb18030"))
    texts = B.read_source("tipdm_hotel", src)
    assert texts[0] == "入住酒店，前台服务态度很差，空调噪音大" and not any("*" in t for t in texts)
    scores = tmp_path / "H1gbk.csv"                      # the source's own score per review
    scores.write_text("酒店名称,评论内容,emotional_value\n" +
                      "".join(f"H01,{t},{-2.0 if i in (0, 2, 4) else 3.0}\n" for i, t in enumerate(reviews)),
                      encoding="utf-8")
    sc = B.read_scores([scores])
    assert sc[texts[0]] == -2.0 and sc[texts[1]] == 3.0
    rows = [{"text": t} for t in texts]
    neg = B.negatives(rows, sc)
    want = {t for i, t in enumerate(texts) if i in (0, 2, 4) and B.is_holdout(t)}
    assert set(neg) == want                              # negative by the source, hold-out part only
    out_t, out_h, out_n = tmp_path / "t.jsonl", tmp_path / "h.jsonl", tmp_path / "neg.txt"
    assert B.main([f"tipdm_hotel={src}", "--train-out", str(out_t), "--holdout-out", str(out_h),
                   "--negative-scores", str(scores), "--negative-out", str(out_n)]) == 0
    assert set(out_n.read_text(encoding="utf-8").splitlines()) == want
    rows = [json.loads(x) for f in (out_t, out_h) for x in f.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["text"] for r in rows) == sorted(texts) and {r["industry"] for r in rows} == {"旅游"}
    with pytest.raises(SystemExit):                      # the two options go together
        B.main([f"tipdm_hotel={src}", "--train-out", str(out_t), "--holdout-out", str(out_h),
                "--negative-out", str(out_n)])
