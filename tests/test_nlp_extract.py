"""Hot-topic text analysis, the pure part: segmentation, keywords, phrases, PMI, the topics CLI.

No broker, no Redis. The reference corpus (tests/data/nlp_reference_corpus.txt) holds 40
hand-written complaints (its first lines: seed sentences, PII, addresses, Latin words,
full-width characters) and 600 simulator complaints (seed 2024).
"""
from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nlp.extract import Extractor, Terms, display, read_wordlist, STOPWORDS
from nlp.phrases import PhraseStats, decode_phrase, encode_phrase
from nlp.pii import mask_text
from nlp.segment import USERDICT, Segmenter, SegmenterError, read_userdict

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "nlp_reference_corpus.txt"
HAND_WRITTEN = 40
MY_SOURCES = [ROOT / "nlp" / f for f in ("segment.py", "extract.py", "phrases.py", "topics.py", "bench.py")]
MY_CONFIG = [ROOT / "config" / "nlp" / "userdict.txt", ROOT / "config" / "nlp" / "stopwords.txt"]


# -- fixtures --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus() -> list[str]:
    lines = [line for line in CORPUS.read_text(encoding="utf-8").split("\n") if line.strip()]
    assert len(lines) >= HAND_WRITTEN + 500
    return lines


@pytest.fixture(scope="module")
def fresh_sim() -> list[str]:
    """Complaints from today's simulator (the fixed corpus could drift from its templates)."""
    import itertools
    from datetime import datetime

    from config import load_settings
    from streams.simgen import Simulator

    settings = load_settings({})
    sim = Simulator(settings, seed=77, rate_per_second=20, flat=True)
    start = datetime(2024, 7, 1, 10, tzinfo=settings.tz)
    return [c["text"] for c in itertools.islice(sim.generate(start), 300)]


@pytest.fixture(scope="module")
def jb() -> Segmenter:
    return Segmenter("jieba")


@pytest.fixture(scope="module")
def rj() -> Segmenter:
    return Segmenter("rjieba")


@pytest.fixture(scope="module")
def stop() -> frozenset[str]:
    return read_wordlist(STOPWORDS)


@pytest.fixture(scope="module")
def ex() -> Extractor:
    return Extractor.default()


# -- rjieba against jieba ------------------------------------------------------------------------

def _first(diffs: list, k: int = 3) -> str:
    return "; ".join(repr(d)[:300] for d in diffs[:k])


def test_cut_is_identical_in_both_engines(corpus, fresh_sim, jb, rj):
    diffs = [(t, jb.cut(t), rj.cut(t)) for t in corpus + fresh_sim if jb.cut(t) != rj.cut(t)]
    assert not diffs, f"{len(diffs)} texts cut differently: {_first(diffs)}"


LATIN_CASES = ["0351-7654321", "3.5元", "zhangsan@qq.com", "iPhone-13", "2024-05-06", "50%", "1.5.2", "花7800元",
               "C++好用", "A&B公司", "a_b", "4S店", "T恤", "-5度", "1.5%", "www.baidu.com网址", "价格+20%", "#1号",
               "电话：0351-7654321转8", "U.S.A", "2.0版", "v1.2.3", "mp3", "1+1", "a--b", "12.5.", ".5元"]


def test_cut_is_identical_on_latin_and_digit_runs(jb, rj):
    """jieba-rs alone keeps 0351-7654321 whole (unescaped dot in its HMM's regex); corrected."""
    for t in LATIN_CASES:
        assert jb.cut(t) == rj.cut(t), t
        assert jb.dict_tag(t) == rj.dict_tag(t), t


def test_dictionary_tags_are_identical_in_both_engines(corpus, fresh_sim, jb, rj):
    diffs = [t for t in corpus + fresh_sim if jb.dict_tag(t) != rj.dict_tag(t)]
    assert not diffs, f"{len(diffs)} texts tagged differently: {_first([(t, jb.dict_tag(t), rj.dict_tag(t)) for t in diffs])}"


def _spans(pairs):
    out, i = [], 0
    for w, t in pairs:
        out.append((i, i + len(w), w, t))
        i += len(w)
    return out


def _hmm_runs(route: list[str]) -> set[int]:
    """Character positions inside runs of >= 2 single-character (or non-Chinese) route tokens,
    where each engine applies its own HMM, and inside any non-Chinese token."""
    inside: set[int] = set()
    run: list[tuple[int, int]] = []
    i = 0
    for w in route + [""]:
        han = bool(re.fullmatch(r"[\u4e00-\u9fff]+", w))
        if w and (len(w) == 1 or not han):
            run.append((i, i + len(w)))
        else:
            if len(run) >= 2:
                inside.update(c for s, e in run for c in range(s, e))
            run = []
        if w and not han:
            inside.update(range(i, i + len(w)))
        i += len(w)
    return inside


def test_engine_taggers_differ_only_inside_hmm_runs(corpus, jb, rj):
    """jieba.posseg and rjieba.tag are NOT identical (documented in nlp.segment): every
    difference lies in a run of single characters where each engine's HMM decides."""
    route = Segmenter("rjieba", hmm=False)
    differing, unexplained = 0, []
    for t in corpus:
        a, b = _spans(jb.tag(t)), _spans(rj.tag(t))
        if a == b:
            continue
        differing += 1
        sa, sb = set(a), set(b)
        runs = _hmm_runs(route.cut(t))
        for s in [x for x in a if x not in sb] + [x for x in b if x not in sa]:
            if not set(range(s[0], s[1])) <= runs:
                unexplained.append((t, s))
    print(f"engine taggers differ in {differing} of {len(corpus)} texts, all inside HMM runs")
    assert not unexplained, _first(unexplained)


def test_extraction_is_the_same_with_both_engines(corpus, fresh_sim, jb, rj, stop):
    a, b = Extractor(jb, stop), Extractor(rj, stop)
    diffs = [t for t in corpus + fresh_sim if a.extract(t) != b.extract(t)]
    assert not diffs, _first([(t, a.extract(t), b.extract(t)) for t in diffs])


def test_auto_uses_rjieba_and_falls_back_to_jieba(monkeypatch):
    auto = Segmenter("auto")
    assert auto.engine == "rjieba" and auto.fallback_reason is None

    def broken(self):
        raise SegmenterError("simulated: user dictionary not loaded")

    monkeypatch.setattr(Segmenter, "_init_rjieba", broken)
    fallback = Segmenter("auto")
    assert fallback.engine == "jieba" and "simulated" in fallback.fallback_reason
    with pytest.raises(SegmenterError, match="rjieba cannot be used"):
        Segmenter("rjieba")
    with pytest.raises(SegmenterError, match="unknown engine"):
        Segmenter("hanlp")


def test_user_tags_win_in_both_engines(jb, rj):
    """jieba-rs keeps a known word's old tag on add_word (起球 n); the segmenter corrects it."""
    assert "起球" in rj.tag_overrides
    for word, _freq, tag in read_userdict(USERDICT):
        if tag and jb.cut(word) == [word]:
            assert jb.dict_tag(word) == rj.dict_tag(word) == [(word, tag)], word
            assert jb.tag(word) == rj.tag(word) == [(word, tag)], word


# -- the user dictionary and the stop list --------------------------------------------------------

@pytest.mark.parametrize("word, sentence", [
    ("掉色", "新买的裤子洗了一次就掉色"), ("预付卡", "理发店的预付卡不给退"),
    ("退一赔三", "要求商家退一赔三"), ("退一赔十", "食品过期要求退一赔十"),
    ("以次充好", "装修材料以次充好"), ("短斤少两", "菜市场短斤少两"), ("霸王条款", "合同里有霸王条款"),
    ("起球", "毛衣起球"), ("开胶", "鞋子开胶"), ("缩水", "裤子缩水"), ("虚假宣传", "保健品虚假宣传"),
    ("退费难", "健身卡退费难"), ("售后推诿", "空调售后推诿"), ("强制消费", "导游强制消费"),
    ("电动车", "电动车刹车失灵"), ("外卖", "外卖送餐太慢"), ("职业索赔", "职业索赔人举报"),
])
def test_user_dictionary_words_stay_whole(word, sentence, jb, rj, ex):
    assert word in jb.cut(sentence) and word in rj.cut(sentence)
    assert word in ex.extract(sentence).keywords


def test_user_dictionary_and_stop_list_are_plain_editable_files(tmp_path, stop):
    d = tmp_path / "userdict.txt"
    d.write_text("# a comment line\n蓝莓乌龙 n\n退货运费 50 n\n", encoding="utf-8")
    assert read_userdict(d) == [("蓝莓乌龙", None, "n"), ("退货运费", 50, "n")]
    for engine in ("jieba", "rjieba"):
        seg = Segmenter(engine, d)
        assert "蓝莓乌龙" in seg.cut("奶茶店的蓝莓乌龙变质了"), engine
    ex = Extractor(Segmenter("rjieba", d), stop | {"奶茶店"})
    terms = ex.extract("奶茶店的蓝莓乌龙变质了")
    assert "蓝莓乌龙" in terms.keywords and "奶茶店" not in terms.keywords
    with pytest.raises(SegmenterError, match="cannot read user dictionary"):
        Segmenter("rjieba", tmp_path / "missing.txt")
    for w in ("消费者", "投诉", "要求", "商家", "本人", "购买", "来电", "反映", "市民", "称", "进行", "一个",
              "已经", "现在", "表示", "问题"):
        assert w in stop, w


def test_stop_words_never_appear(corpus, fresh_sim, ex, stop):
    for t in corpus + fresh_sim:
        terms = ex.extract(t)
        assert not set(terms.keywords) & stop, (t, set(terms.keywords) & stop)
        parts = {p for ph in terms.phrases for p in ph}
        assert not parts & stop, (t, parts & stop)


def test_keywords_and_phrases_are_clean(corpus, fresh_sim, ex):
    word = re.compile(r"[\u4e00-\u9fffA-Za-z]{2,}")
    for t in corpus + fresh_sim:
        terms = ex.extract(t)
        assert len(set(terms.keywords)) == len(terms.keywords), t
        for k in terms.keywords:
            assert word.fullmatch(k), (t, k)
        assert len(set(terms.phrases)) == len(terms.phrases), t
        for ph in terms.phrases:
            assert 2 <= len(ph) <= 3 and all(re.fullmatch(r"[\u4e00-\u9fffA-Za-z]+", p) for p in ph), (t, ph)


# -- personal data -------------------------------------------------------------------------------

PII_CASES = [
    ("请联系我，电话13812345678，或者0351-7654321，身份证号140102199001011234，商品一直没发货。",
     ["13812345678", "1381234", "5678", "7654321", "0351", "140102199001011234", "1234"]),
    ("我的银行卡号6222 0212 3456 7890 123，车牌晋A12345，邮箱zhangsan@qq.com，修车店乱收费。",
     ["6222", "3456", "0123", "晋A", "A12345", "12345", "zhangsan", "qq.com", "com"]),
    ("我叫李娜，住在太原市小店区平阳路25号阳光小区3号楼2单元501室，家里的冰箱不制冷。",
     ["李娜", "平阳路", "阳光小区", "阳光", "小区", "号楼", "单元", "501", "25号"]),
    ("住在长治市潞州区英雄中路88号院五号楼，楼下饭店油烟太大，手机+86 139-0000-1111。",
     ["英雄中路", "88号", "号院", "五号楼", "139", "1111"]),
    ("投诉人王建国（电话：15500001234）反映某某超市卖过期食品。", ["王建国", "155", "1234"]),
]


@pytest.mark.parametrize("text, forbidden", PII_CASES)
def test_pii_never_appears(text, forbidden, ex):
    names = ("李娜", "王建国")
    for terms in (ex.extract(text, names=names), Extractor.default("jieba").extract(text, names=names)):
        out = " ".join(terms.tokens) + " | " + " ".join(terms.keywords) + " | " \
            + " ".join(display(p) for p in terms.phrases) + " | " + " ".join(terms.units)
        for bad in forbidden:
            assert bad not in out, (bad, out)
        assert "*" not in out and not re.search(r"\d{3}", out), out
        assert terms.keywords, "the complaint itself must survive the scrubbing"


def test_names_stay_out_of_keywords_even_unmasked(ex):
    terms = ex.extract("我叫李娜，新买的冰箱不制冷，找张伟经理也没用。")
    assert not {"李娜", "张伟"} & set(terms.keywords)
    assert not any("李娜" in p or "张伟" in p for ph in terms.phrases for p in ph)


# each holds PII that only one of the pre-check's cues lets through (owner cues, fullwidth and
# other digits, a plate, a role word with 为, a spaced number)
SCREEN_CASES = ["个体户王小明，卖的鞋子开胶了", "经营者：李大伟，拒绝退款", "鞋店店主张三，态度差",
                "个体工商户赵六，不给发票", "电话１３８１２３４５６７８，手机坏了", "车牌晋Ａ12345被刮",
                "车牌豫B88888被刮", "联系人为陈小红，洗衣机漏水", "我的名字是刘洋，冰箱不制冷"]


def test_skipping_mask_text_is_exact(corpus, fresh_sim, ex):
    """clean() skips mask_text when its pre-check says nothing can match: same result."""
    raw = Extractor(ex.segmenter, ex.stopwords, mask=False)
    near = ["请拨 1 3 8 1 2 3 4 5 6 7 8", "个体户王小明卖的鞋", "店主张三态度差", "价格是100元", "他人为难"]
    for t in corpus + fresh_sim + [c for c, _ in PII_CASES] + SCREEN_CASES + near:
        assert ex.clean(t) == raw.clean(mask_text(t)), t


@pytest.mark.parametrize("text", SCREEN_CASES)
def test_pre_check_lets_every_pii_cue_through(text, ex):
    assert mask_text(text) != text                      # the case does hold PII …
    assert ex.clean(text) != text                       # … and clean() masked it


# -- phrases from part-of-speech patterns ------------------------------------------------------------

SEEDS = ["衣服掉色", "更换难", "价格不合理", "电器质量差", "质量差", "退款难", "门票贵", "蛋糕发霉", "收费乱",
         "地板开裂"]


@pytest.mark.parametrize("sentence, expected", [
    ("新买的衣服洗了一次就严重掉色", ("衣服", "掉色")),
    ("空调坏了，更换难，客服一直推", ("更换", "难")),
    ("这家饭店价格不合理，明显宰客", ("价格", "不合理")),
    ("价格很不合理", ("价格", "不合理")),
    ("电器质量差，修了三次还是不行", ("质量", "差")),
    ("网上买的手机退款难", ("退款", "难")),
    ("景区门票太贵了", ("门票", "贵")),
    ("景区门票很贵", ("门票", "贵")),
    ("昨天买的蛋糕发霉了", ("蛋糕", "发霉")),
    ("小区充电桩收费乱", ("收费", "乱")),
    ("菜品不新鲜", ("菜品", "不新鲜")),
    ("售后迟迟不上门", ("售后", "不上门")),
])
def test_phrases_come_from_pos_patterns(sentence, expected, ex):
    terms = ex.extract(sentence)
    assert expected in terms.phrases, (sentence, terms.phrases)
    assert display(expected) in terms.phrase_texts()


def test_seed_phrases_are_not_hard_coded():
    for path in MY_SOURCES + MY_CONFIG:
        text = path.read_text(encoding="utf-8")
        for seed in SEEDS:
            assert seed not in text, f"{seed} appears in {path.name}"
        # nor as parts in a tuple or list literal: "衣服", "掉色"
        for a, b in [("衣服", "掉色"), ("更换", "难"), ("价格", "不合理"), ("质量", "差"), ("退款", "难"),
                     ("门票", "贵"), ("蛋糕", "发霉"), ("收费", "乱"), ("地板", "开裂")]:
            assert not re.search(re.escape(a) + r"""['"]\s*,\s*['"]""" + re.escape(b), text), (path.name, a, b)


def test_tokens_are_reusable_without_segmenting_again(corpus, ex):
    for t in corpus[:100]:
        terms = ex.extract(t)
        assert isinstance(terms, Terms)
        assert ex.extract_tokens(t) == terms.tokens
        assert "".join(terms.tokens) == ex.clean(t)


# -- corpus statistics -------------------------------------------------------------------------------

NEW_PHRASE_LINES = [
    "小区的充电桩收费乱，物业也不管", "楼下充电桩收费乱，一度电收两块", "商场地下车库充电桩收费乱",
    "我们小区充电桩收费乱，没有明码标价", "充电桩收费乱，收了服务费还收停车费", "新装的充电桩收费乱，没人解释",
    "加油站旁边的充电桩收费乱", "园区充电桩收费乱，投诉无门", "充电桩收费乱，价格随时改",
    "在蛋糕店买的生日蛋糕发霉了", "蛋糕发霉，吃了肚子疼", "网上订的蛋糕发霉，商家不认", "早上买的蛋糕发霉了",
    "超市的蛋糕发霉还在卖", "给孩子买的蛋糕发霉", "蛋糕发霉了，店员说是正常的", "送来的蛋糕发霉长毛",
    "新房地板开裂，开发商不管", "装修半年地板开裂", "木地板开裂起拱，厂家推脱", "刚铺的地板开裂了",
    "地板开裂严重，装修公司不修", "卧室地板开裂，要求返工", "客厅地板开裂，售后不来", "实木地板开裂变形",
]


def test_a_new_phrase_is_found_where_it_is_frequent(corpus, ex):
    dictionary = USERDICT.read_text(encoding="utf-8")
    for phrase in ("充电桩收费乱", "收费乱", "蛋糕发霉", "地板开裂"):
        assert phrase not in dictionary
    frequent = [f"{who}{line}" for who in ("", "市民反映：", "网友投诉称") for line in NEW_PHRASE_LINES]
    stats = PhraseStats().add_all(ex.extract(t) for t in corpus[HAND_WRITTEN:] + frequent)
    top = [s.text for s in stats.top(20, min_count=3)]
    assert "蛋糕发霉" in top and "地板开裂" in top, top
    assert "收费乱" in top or "充电桩收费乱" in top, top
    # and without those complaints, none of them
    base = PhraseStats().add_all(ex.extract(t) for t in corpus[HAND_WRITTEN:])
    assert not {"蛋糕发霉", "地板开裂", "收费乱", "充电桩收费乱"} & {s.text for s in base.top(100, min_count=2)}


def _doc(keywords=(), phrases=(), units=None) -> Terms:
    units = tuple(dict.fromkeys(units if units is not None else [p for ph in phrases for p in ph] + list(keywords)))
    return Terms((), tuple(keywords), tuple(tuple(p) for p in phrases), units)


def test_pmi_ranks_collocations_above_frequent_independent_pairs():
    stats = PhraseStats()
    for i in range(1000):
        kws, phrases = [], []
        # two very frequent words that meet by chance: 商品 in half the documents, 退货 in half,
        # independently (a quarter have both, and there a candidate pair was proposed)
        if i % 2 == 0:
            kws.append("商品")
        if (i // 2) % 2 == 0:
            kws.append("退货")
        if len(kws) == 2:
            phrases.append(("商品", "退货"))
        # a real collocation: 地板 and 开裂 almost only together
        if i < 40:
            kws += ["地板", "开裂"]
            phrases.append(("地板", "开裂"))
        elif i < 50:
            kws.append("地板")
        elif i < 55:
            kws.append("开裂")
        stats.add(_doc(kws, phrases))
    assert stats.n_docs == 1000
    assert stats.phrases[("商品", "退货")] > 5 * stats.phrases[("地板", "开裂")]
    assert stats.pmi(("地板", "开裂")) > 3.5
    assert stats.pmi(("商品", "退货")) == pytest.approx(0.0)
    # ranking is by complaints: a frequent pair is not dropped for a PMI of 0 …
    ranked = [s.phrase for s in stats.top(10, min_count=1)]
    assert ranked[:2] == [("商品", "退货"), ("地板", "开裂")]
    # … but a pair far rarer than its parts' chance meeting is an accident, not a phrase
    stats.add(_doc([], [("地板", "退货")]))
    assert stats.pmi(("地板", "退货")) < -1 and not stats.genuine(("地板", "退货"))
    assert ("地板", "退货") not in [s.phrase for s in stats.top(10, min_count=1)]


def test_pmi_on_real_complaints(corpus, ex):
    stats = PhraseStats().add_all(ex.extract(t) for t in corpus)
    top = stats.top(30, min_count=3)
    assert top and all(stats.genuine(s.phrase) and s.score == pytest.approx(s.count * max(s.pmi, 0)) for s in top)
    assert [s.count for s in top] == sorted((s.count for s in top), reverse=True)   # commonest first
    assert all(s.text == display(s.phrase) for s in top)


def test_scores_can_be_rebuilt_from_plain_counts(corpus, ex):
    terms = [ex.extract(t) for t in corpus]
    whole = PhraseStats().add_all(terms)
    counts = whole.to_counts()
    assert set(counts) == {"n_docs", "keywords", "phrases", "parts", "variants"}
    assert all(isinstance(k, str) for k in counts["phrases"])
    rebuilt = PhraseStats.from_counts(counts["keywords"], counts["phrases"], counts["n_docs"], counts["parts"],
                                      counts["variants"])
    assert rebuilt.top(40, min_count=2) == whole.top(40, min_count=2)
    tuples = PhraseStats.from_counts(dict(whole.keywords), dict(whole.phrases), whole.n_docs, dict(whole.parts),
                                     dict(whole.variants))
    assert tuples.top(40, min_count=2) == whole.top(40, min_count=2)
    # as a stream would: two partitions counted apart, then merged
    half = len(terms) // 2
    merged = PhraseStats().add_all(terms[:half]).merge(PhraseStats().add_all(terms[half:]))
    assert merged.to_counts() == counts
    assert decode_phrase(encode_phrase(("鞋子", "开胶"))) == ("鞋子", "开胶")
    # a part missing from stored counts cannot push PMI above what the phrase count allows
    partial = PhraseStats.from_counts({}, {"鞋子|开胶": 5}, 100)
    assert partial.pmi(("鞋子", "开胶")) == pytest.approx(0.0 + __import__("math").log2(100 / 5))


def test_neighbour_entropy_offline(ex):
    stats = PhraseStats()
    texts = ["商场买的鞋子开胶了", "网店鞋子开胶，不给退", "新鞋子开胶严重", "这双鞋子开胶。"] * 3
    terms = [ex.extract(t) for t in texts]
    stats.add_all(terms)
    for t in terms:
        stats.add_contexts(t.tokens, [("鞋子", "开胶")])
    s = stats.score(("鞋子", "开胶"))
    assert s.left_entropy is not None and s.left_entropy > 0
    assert s.right_entropy is not None and s.right_entropy > 0
    assert "left_entropy" in s.as_dict()


# -- the command line ----------------------------------------------------------------------------------

def _topics(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nlp", "topics", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})


def _check_lines(stdout: str) -> tuple[list[dict], list[dict]]:
    rows = [json.loads(line) for line in stdout.splitlines()]
    phrases = [r for r in rows if "phrase" in r]
    keywords = [r for r in rows if "keyword" in r]
    assert phrases and keywords and len(phrases) + len(keywords) == len(rows)
    assert rows.index(keywords[0]) > rows.index(phrases[-1])      # phrases first
    for r in phrases:
        assert {"phrase", "parts", "count", "pmi", "score"} <= set(r)
        assert "".join(r["parts"]) == r["phrase"] and r["count"] >= 2 and r["score"] > 0
    return phrases, keywords


def test_cli_on_a_text_file(tmp_path, corpus):
    f = tmp_path / "complaints.txt"
    f.write_text("\n".join(corpus[HAND_WRITTEN:] + NEW_PHRASE_LINES) + "\n", encoding="utf-8")
    r = _topics(str(f), "--top", "30")
    assert r.returncode == 0, r.stderr
    phrases, keywords = _check_lines(r.stdout)
    assert len(phrases) <= 30 and len(keywords) <= 30
    assert "蛋糕发霉" in [p["phrase"] for p in phrases]


def test_cli_on_a_csv_file(tmp_path, corpus):
    f = tmp_path / "export.csv"
    with f.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["编号", "投诉内容"])
        for i, t in enumerate(corpus[HAND_WRITTEN:HAND_WRITTEN + 300]):
            w.writerow([i, t])
    r = _topics(str(f), "--top", "5", "--engine", "jieba")
    assert r.returncode == 0, r.stderr
    phrases, keywords = _check_lines(r.stdout)
    assert len(phrases) <= 5 and len(keywords) <= 5
    r2 = _topics(str(f), "--top", "5", "--column", "投诉内容")
    assert r2.returncode == 0 and r2.stdout == r.stdout               # same result, fast engine


@pytest.mark.parametrize("args, message", [
    (["/nonexistent/complaints.txt"], "does not exist"),
    (["{csv}", "--column", "内容描述"], "no column named 内容描述"),
    (["{bin}"], "neither UTF-8 nor GB18030"),
])
def test_cli_errors_are_one_line(tmp_path, args, message):
    csv_file = tmp_path / "a.csv"
    csv_file.write_text("编号,投诉内容\n1,衣服坏了\n", encoding="utf-8")
    bin_file = tmp_path / "a.txt"
    bin_file.write_bytes(b"\xff\xfe\x00\x81\x30\x81\x30\xff" * 10)
    r = _topics(*[a.format(csv=csv_file, bin=bin_file) for a in args])
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and r.stdout == ""


def test_cli_help():
    r = _topics("--help")
    assert r.returncode == 0 and "usage: python -m nlp topics" in r.stdout and "--engine" in r.stdout


# -- the benchmark runs ------------------------------------------------------------------------------

def test_bench_runs_small():
    from nlp.bench import run

    r = run(n=300)
    # unique real texts, each timed once (no cache of a text's result can inflate it)
    assert r["complaints"] == 300 and r["unique"] and r["mean_chars"] > 50
    for key in ("extract", "jieba_lcut", "rjieba_cut", "extract_jieba_engine"):
        assert r[key]["per_s"] > 0 and r[key]["per_cpu_s"] > 0
    assert 0 < r["ratio_extract_vs_rjieba_cut"] and r["ratio_extract_vs_jieba_lcut"] > 0
