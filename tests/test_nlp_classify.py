"""The industry classifier (nlp/classify.py): accuracy on two hold-outs, model file, speed, PII, CLI.

The tests load the committed model (config/nlp/industry_model.json) instead of retraining it;
one small training test checks fit/save/load on a few hundred simulator texts.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime

import pytest

from config import ROOT_DIR, load_settings
from nlp import classify as C
from nlp.classify import IndustryClassifier, evaluate, feature_strings, normalize, tokenize

INDUSTRIES = load_settings({}).raw["complaints"]["industries"]

# Measured with the committed model (python -m nlp classify --train):
#   simulator hold-out (seed 9090, from 2025-01-06, 500 per industry): 0.9998 (5,499 of 5,500).
#   It uses the same templates as training, so it checks that nothing is broken, not how well
#   the model generalises; 0.98 leaves room for a retrained model and for template changes.
SIMULATOR_MIN_ACCURACY = 0.98
#   hand-written hold-out: 0.8554 (142 of 166; batch 1, seen while choosing features: 112/133 =
#   0.842; batch 2, written after the design was fixed and scored once: 30/33 = 0.909).
#   With 166 texts one standard error is about 0.027; 0.80 is the measured figure less two of
#   them, so the test fails on a real regression and not on noise from a retrain.
HANDWRITTEN_MIN_ACCURACY = 0.80
#   the weakest industry there is 药品 (recall 0.60: 中药 reads as food, 胰岛素 / 雾化 as devices).
HANDWRITTEN_MIN_RECALL = 0.5


@pytest.fixture(scope="module")
def model() -> IndustryClassifier:
    return IndustryClassifier.load()


@pytest.fixture(scope="module")
def handwritten():
    return C.read_labelled(C.HANDWRITTEN_FILE)


# --- the model file ---------------------------------------------------------------------------

def test_model_file_is_small_and_loadable(model):
    assert C.MODEL_FILE.is_file()
    assert C.MODEL_FILE.stat().st_size < 2_000_000
    assert model.classes == INDUSTRIES
    assert len(model.index) == model.weights.shape[0] > 1000
    assert model.weights.shape[1] == len(INDUSTRIES)
    assert IndustryClassifier.load() is model           # cached
    assert IndustryClassifier.load(C.MODEL_FILE) is model


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


# --- accuracy -------------------------------------------------------------------------------

def test_simulator_holdout_accuracy(model):
    texts, labels = C.holdout_corpus()
    assert len(texts) == C.HOLDOUT_PER_INDUSTRY * len(INDUSTRIES)
    r = evaluate(model, texts, labels)
    print(f"\nsimulator hold-out: accuracy {r['accuracy']} on {r['n']}")
    assert r["accuracy"] >= SIMULATOR_MIN_ACCURACY
    assert all(v["recall"] >= 0.95 for v in r["per_industry"].values())


def test_handwritten_file_is_well_formed(handwritten):
    texts, labels = handwritten
    assert len(texts) >= 120
    assert len(set(texts)) == len(texts)
    per = Counter(labels)
    assert set(per) == set(INDUSTRIES)
    assert min(per.values()) >= 8


def test_handwritten_holdout_accuracy(model, handwritten):
    r = evaluate(model, *handwritten, min_probability=0.4)
    print(f"\nhand-written hold-out: accuracy {r['accuracy']} on {r['n']}; at p >= 0.4 answers "
          f"{r['coverage']}, accuracy {r['accuracy_answered']}")
    assert r["accuracy"] >= HANDWRITTEN_MIN_ACCURACY
    assert min(v["recall"] for v in r["per_industry"].values()) >= HANDWRITTEN_MIN_RECALL
    # the stream takes an answer only at p >= 0.4: those answers are the more accurate ones
    assert r["accuracy_answered"] >= r["accuracy"]


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


def test_predicting_from_tokens_is_predicting_from_the_text(model):
    """The stream classifies from the tokens extraction already made; it must agree with the
    text path (which masks and cuts itself).  Its speed is measured by `make bench`, not here."""
    texts, _ = C.holdout_corpus()
    for t in texts[:500]:
        ind_t, p_t = model.predict(t)
        ind_k, p_k = model.predict_tokens(tokenize(normalize(t)))
        assert ind_t == ind_k and p_t == pytest.approx(p_k), t


# --- personal data ----------------------------------------------------------------------------

PII_TEXT = ("我叫王小明，身份证140402199001011234，手机13812345678，银行卡6222 0212 3456 7890 123，"
            "邮箱wxm@example.com，车牌晋D·5C9D1。在药店买的感冒药已经过期了，要求退款。")


def test_pii_does_not_crash_or_become_features(model):
    industry, p = model.predict(PII_TEXT, names=("王小明",))
    assert industry == "药品"
    feats = feature_strings(tokenize(normalize(PII_TEXT, names=("王小明",))))
    assert not any(ch.isdigit() for f in feats for ch in f)
    assert not {"小明", "明，", "wxm", "example"} & feats
    # other numbers, same answer and probability: the numbers carry no weight
    other = PII_TEXT.replace("13812345678", "13998765432").replace("140402199001011234", "110101198512319876")
    assert model.predict(other, names=("王小明",)) == (industry, p)


# --- training -----------------------------------------------------------------------------------

def test_small_training_run(tmp_path):
    settings = load_settings({})
    texts, labels = C.simulator_corpus(7, datetime(2024, 5, 6), 60, settings)
    assert Counter(labels) == {i: 60 for i in INDUSTRIES}
    m = IndustryClassifier(INDUSTRIES).fit(texts, labels)
    test_texts, test_labels = C.simulator_corpus(8, datetime(2024, 11, 4), 20, settings)
    r = evaluate(m, test_texts, test_labels)
    assert r["accuracy"] >= 0.9, r["accuracy"]
    path = m.save(tmp_path / "m.json")
    again = IndustryClassifier.load(path)
    assert again.classes == INDUSTRIES
    assert [again.predict(t) for t in test_texts[:50]] == [m.predict(t) for t in test_texts[:50]]
    # the same data gives the same file
    IndustryClassifier(INDUSTRIES).fit(texts, labels).save(tmp_path / "m2.json")
    assert (tmp_path / "m2.json").read_bytes() == path.read_bytes()
    with pytest.raises(ValueError, match="labels"):
        IndustryClassifier(INDUSTRIES).fit(["a"], ["not-an-industry"])
    with pytest.raises(ValueError):
        IndustryClassifier(INDUSTRIES).fit(["a", "b"], ["食品"])


# --- command line -------------------------------------------------------------------------------

def _cli(*args, cwd=ROOT_DIR):
    return subprocess.run([sys.executable, "-m", "nlp", "classify", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_cli_classifies_a_text_file(tmp_path):
    f = tmp_path / "c.txt"
    f.write_text("外卖里吃出了苍蝇，商家不理\n\n4S店强制买保险才给提车，电话13812345678\n旅行社导游强制购物\n",
                 encoding="utf-8")
    r = _cli(f)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 4                              # header + three complaints
    assert "食品" in lines[1] and "汽车" in lines[2] and "旅游" in lines[3]
    assert "13812345678" not in r.stdout
    r = _cli(f, "--json")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["industry"] for x in rows] == ["食品", "汽车", "旅游"]
    assert all(0 < x["probability"] <= 1 for x in rows)
    assert "138****5678" in rows[1]["text"]


def test_cli_csv_column_and_evaluate(tmp_path):
    f = tmp_path / "c.csv"
    f.write_text("编号,诉求\n1,在金店买的金手镯克重不足\n", encoding="utf-8")
    r = _cli(f, "--column", "诉求", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["industry"] == "产品质量"
    r = _cli("--evaluate", C.HANDWRITTEN_FILE)
    assert r.returncode == 0, r.stderr
    assert "accuracy" in r.stdout and "药品" in r.stdout


def test_cli_help_and_errors(tmp_path):
    r = _cli("--help")
    assert r.returncode == 0 and "python -m nlp classify" in r.stdout and "--train" in r.stdout
    cases = [
        (),                                             # nothing to do
        (tmp_path / "missing.txt",),
        (tmp_path / "c.csv", "--column", "nope"),
        ("--evaluate", tmp_path / "bad.jsonl"),
        ("--evaluate", tmp_path / "labels.jsonl"),
        ("x.txt", "--train"),
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
