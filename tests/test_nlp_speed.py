"""The extractor's compiled fast path gives exactly the pure-Python path's output.

``make setup`` builds two Cython modules (``nlp._fastbuild``): the hot loop
(``nlp/_fastscan.py`` compiled) and the C word-class table (``nlp/_fastclass.pyx``). Without a
compiler ``nlp.extract`` falls back to plain Python; these tests pin that both paths agree,
token for token and phrase for phrase, on every real complaint of ``tests/data``. Speed itself
is measured by ``python -m nlp.bench`` (``make bench``), not here.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import nlp.extract as extract
from nlp import _fastbuild, _fastscan
from nlp.extract import Extractor

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
REAL = ("real_hotel_negative.txt", "real_car_negative.txt", "real_restaurant_negative.txt",
        "industry_real_holdout.jsonl")


def _texts(name: str) -> list[str]:
    out = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line.strip():
            out.append(json.loads(line)["text"] if name.endswith(".jsonl") else line.strip())
    return out


@pytest.fixture(scope="module")
def real() -> list[str]:
    texts = [t for f in REAL for t in _texts(f)]
    assert len(texts) >= 1000
    return texts


@pytest.fixture(scope="module")
def pair():
    fast = Extractor.default()
    slow = Extractor(fast.segmenter, fast.stopwords, fast=False)
    return fast, slow


def _can_build() -> bool:
    try:
        import Cython  # noqa: F401
    except ImportError:
        return False
    return shutil.which("cc") is not None or shutil.which("gcc") is not None


def test_compiled_path_is_in_use_where_it_can_be_built():
    # make setup builds it wherever Cython and a C compiler are present; a stale or missing
    # build must not go unnoticed there
    if _can_build():
        assert extract.COMPILED, extract.FAST_REASON
        assert extract._SCAN is not _fastscan.scan
    else:
        assert not extract.COMPILED and extract.FAST_REASON


def test_slow_extractor_uses_pure_python(pair):
    fast, slow = pair
    assert slow._scan is _fastscan.scan and slow._table is None
    if extract.COMPILED:
        assert fast._table is not None and fast._scan is not _fastscan.scan


def test_both_paths_identical_on_real_texts(pair, real):
    fast, slow = pair
    differ = [t[:40] for t in real if fast.extract(t) != slow.extract(t)]
    assert not differ, f"{len(differ)} texts differ, e.g. {differ[:3]}"
    # and the results are not empty: the comparison covers phrases and variants
    terms = [slow.extract(t) for t in real]
    assert sum(len(t.phrases) for t in terms) > len(real) // 2
    assert sum(len(t.variants) for t in terms) > 50


def test_both_paths_identical_on_hand_written_and_pii_texts(pair):
    fast, slow = pair
    texts = _texts("industry_holdout_handwritten.jsonl") + _texts("nlp_reference_corpus.txt")
    texts += ["我叫王小明，电话13812345678，身份证140105199001011234，空调噪音太大，售后不处理",
              "经营者：李四，晋A12345的车，发动机异响，4S店维修太慢，管理乱",
              "早餐不用发愁了*^_^*，排长龙～(๑´ω`๑)，电话１３８１２３４５６７８，阳光小区3号楼2单元501室漏水",
              "卡号6222****1234被扣费，客服态度差", "联系人 ： 赵大宝，平阳路25座门口的店太吵"]
    for t in texts:
        assert fast.extract(t) == slow.extract(t), t
        assert fast.extract(t, ("王小明",)) == slow.extract(t, ("王小明",)), t


def test_word_classes_agree(pair, real):
    fast, slow = pair
    for t in real[:300]:
        for w in fast.extract(t).tokens:
            assert fast.word_class(w) == slow.word_class(w), w


def test_class_table_matches_the_dict():
    if extract._CLASS_TABLE is None:
        pytest.skip("no compiled table here: " + extract.FAST_REASON)   # only where nothing is built
    ex = Extractor.default()
    table, lexicon = ex._table, ex._lexicon
    assert len(table) == len(lexicon) > 300_000
    assert all(table.get(w) == c for w, c in lexicon.items())
    for w in ("送餐太慢了吧", "iPhone15", "x" * 40, "", "不存在的词语组合"):
        assert table.get(w, -7) == lexicon.get(w, -7)
    # a private table from here on (the shared one remembers the classes of words met)
    lexicon = {w: lexicon[w] for w in ("空调", "质量", "差")}
    table = extract._CLASS_TABLE(lexicon)
    extra = {"新词甲": 5}
    toks = ["空调", "新词甲", "不存在的词语组合", "，"]
    assert table.classes(toks, extra) == [lexicon.get(w, extra.get(w)) for w in toks]
    calls = []

    def miss(word, i, text, tagged):
        calls.append((word, i, text))
        return 99
    got = table.classes(toks, extra, miss, "原文")
    assert calls == [("不存在的词语组合", 2, "原文"), ("，", 3, "原文")]
    assert got == [lexicon["空调"], 5, 99, 99]
    # a class the callback gave is remembered: asked again, the table answers without it
    assert table.classes(["，", "不存在的词语组合", "质量"], {}, miss, "") == [99, 99, lexicon["质量"]]
    assert len(calls) == 2 and table.get("，") == 99 and len(table) == 3


def test_stale_build_is_not_used(tmp_path):
    # a module whose SOURCE_SHA is not the current sources' is refused by load()
    for name in _fastbuild.MODULES:
        (tmp_path / f"{name}.py").write_text("SOURCE_SHA = 'old'\nscan = None\nClassTable = None\n")
    sys.path.insert(0, str(tmp_path))
    saved = {n: sys.modules.pop(n, None) for n in _fastbuild.MODULES}
    try:
        scan, table, reason = _fastbuild.load()
        assert scan is _fastscan and table is None and "other sources" in reason
    finally:
        sys.path.remove(str(tmp_path))
        for n, m in saved.items():
            sys.modules.pop(n, None)
            if m is not None:
                sys.modules[n] = m


def test_build_cli_has_help():
    out = subprocess.run([sys.executable, "-m", "nlp._fastbuild", "--help"], capture_output=True, text=True,
                         cwd=ROOT)
    assert out.returncode == 0 and "--force" in out.stdout


def test_text_flags_are_necessary_conditions_of_the_patterns(real):
    # the compiled one-pass check decides which of clean()'s patterns are searched at all: it
    # must flag every text where one can match (ADDRESS exactly), on real and on random texts
    if extract._FAST is None:
        pytest.skip("no compiled module here: " + extract.FAST_REASON)   # only where nothing is built
    import random

    from nlp import pii
    fast = extract._FAST
    rnd = random.Random(7)
    alphabet = list("0123456789０１２三五十两号栋幢单元座路小区叫名字人者主业店体商户经营为是我:： @*A晋京XY，。的了①²ｂ"
                    ".-()（）+#&_%az的姓系诉报映电事费工个本") + [" ", "\u3000", "\u00a0", "\t", "٣", "𠀀"]
    texts = list(real) + ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 30))) for _ in range(20000)]
    texts += ["我叫王小明", "姓名 ：李四", "联系人是张三", "个体工商户王五", "店主：赵六", "晋A12345", "a@b.cn",
              "１３８１２３４５６７８", "电话138 1234 5678", "平阳路25号", "3单元501室", "五号楼", "三单", "5 号",
              "名叫刘一", "我的名字叫陈二", "电话(0351)765-4321", "138.1234.5678", "138 - 1234（5678）", "v1.2", "C++",
              "叫车太慢", "她叫什么", "1234567", "123456", "12-34-56-7", "12:34:56:7", "０３５１",
              "我的名字是周七", "我的名字叫吴八", "酒店名字是", "客人是王五", "投诉人 ：郑九", "消费者为冯十", "当事人是褚一",
              "本人姓名：卫二", "来电人:蒋三", "反映人为沈四", "申诉人是韩五", "举报人：杨六", "工商户朱七", "商户朱七"]
    from nlp.segment import _JOINER
    for t in texts:
        f = fast.text_flags(t)
        if pii._FOLD.search(t) or pii._MAY_HOLD_NUMBER.search(t):
            assert f & fast.MAY_NUMBER, t
        if pii._NAME_CUE.search(t) or pii._OWNER_CUE.search(t):
            assert f & fast.MAY_NAME, t
        assert bool(f & fast.STAR) == ("*" in t), t
        assert bool(f & fast.ADDRESS) == bool(extract._ADDRESS_AT.search(t)), t
        assert bool(f & fast.JOINS) == bool(_JOINER.search(t)), t
    # and it is not so loose as to send every text to the patterns: most real texts need none
    assert sum(fast.text_flags(t) & (fast.MAY_NUMBER | fast.MAY_NAME) == 0 for t in real) > 0.9 * len(real)


def test_compiled_resplit_matches_the_list_comprehension(real):
    # segment.cut re-splits Latin/digit runs jieba-rs keeps joined (0351-7654321); compiled, only
    # the odd ASCII words are handed to Python
    if extract._FAST is None:
        pytest.skip("no compiled module here: " + extract.FAST_REASON)   # only where nothing is built
    from functools import partial

    from nlp.segment import Segmenter, USERDICT, _resplit
    seg = Segmenter("rjieba", USERDICT)
    has = seg._rj.has_word
    one = partial(_resplit, has_word=has)
    texts = list(real) + ["电话0351-7654321，邮箱qq.com，涨3.5%，C++和C#，a&b，v1.2.3版，x_y-z", "iPhone15 Pro-Max", ""]
    changed = 0
    for t in texts:
        words = seg._rj.cut(t, True)
        want = [p for w in words for p in _resplit(w, has)]
        assert extract._FAST.resplit(words, one) == want, t
        changed += want != words
        assert seg.cut(t) == want
    assert changed >= 1


def _reference_problem(pol, obj, pred, excess, noun):
    """The problem rule of nlp.polarity's module doc, straight on the lexicon sets (the rule as
    written before it was packed into one look-up per word)."""
    if obj in pol.generic or obj in pol.places or obj in pol.negator_set:
        return False
    neg, glued, core = pol.split(pred)
    excess = excess or glued
    if not core or core in pol.degree:
        return False
    neg_w, pos_w = core in pol.negative, core in pol.positive
    if neg:
        if neg_w and not pos_w:
            return False
        if pos_w or core in pol.obligations or core in pol.scalar:
            return True
        return bool(noun)
    if core in pol.scalar:
        if excess:
            return True
        bad_up = obj in pol.undesirable or (obj in pol.negative and obj not in pol.positive)
        return (pol.scalar[core] > 0) == bad_up
    return (neg_w and not pos_w) or bool(neg_w and pos_w and excess)


@pytest.mark.parametrize("impl", ["loaded", "pure"])
def test_problem_rule_matches_the_lexicon_sets(impl):
    import random

    from nlp import polarity
    pol = polarity.Polarity.from_dir()
    rule = polarity._RULE if impl == "loaded" else _fastscan
    rnd = random.Random(3)
    words = sorted(set(sorted(pol.negative)[:2000]) | set(sorted(pol.positive)[:2000]) | set(pol.scalar)
                   | pol.undesirable | pol.obligations | pol.generic | set(sorted(pol.places)[:300])
                   | set(pol.degree) | pol.negator_set | {"房间", "价格", "噪音", "发动机", "送餐", ""})
    negs, degs = [*pol.negator_set, *[""] * 8], [*pol.degree, *[""] * 8]
    problems = 0
    for _ in range(60000):
        o = rnd.choice(words)
        p = rnd.choice(negs) + rnd.choice(degs) + rnd.choice(words)
        e, n = rnd.random() < 0.3, rnd.random() < 0.3
        want = _reference_problem(pol, o, p, e, n)
        assert rule.problem(pol, o, p, e, n) == want, (o, p, e, n)
        assert bool(rule.is_problem(pol, o, p, e, n)) == want, (o, p, e, n)
        problems += want
    assert 1000 < problems < 59000


def test_extractors_sharing_a_table_share_what_it_remembers():
    # the class table is shared by the extractors of one configuration and remembers the
    # classes of words in no dictionary; a glued one (巨小: 巨 + 小) needs its part in each
    first = Extractor.default()
    texts = ["房间巨小，电视开不了", "服务态度极差，房间极脏，卫生间巨小"]
    want = [Extractor(first.segmenter, first.stopwords, fast=False).extract(t) for t in texts]
    assert [first.extract(t) for t in texts] == want
    second = Extractor(first.segmenter, first.stopwords)
    assert second._table is first._table or not extract.COMPILED
    assert [second.extract(t) for t in texts] == want
    assert ("房间", "小") in want[0].phrases and ("房间", "脏") in want[1].phrases


def test_compiled_joins_matches_the_pattern(real):
    if extract._FAST is None:
        pytest.skip("no compiled module here: " + extract.FAST_REASON)   # only where nothing is built
    import random

    from nlp.segment import _JOINER, _joins
    rnd = random.Random(11)
    alphabet = list("aZ09+#&._%-，中 ＡＢ１!@/")
    texts = list(real) + ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12))) for _ in range(30000)]
    hits = 0
    for t in texts:
        want = _JOINER.search(t) is not None
        assert extract._FAST.joins(t) == want == _joins(t), t
        hits += want
    assert 100 < hits < len(texts) - 100


def test_address_strip_by_runs_matches_the_whole_text_pattern(real):
    # clean() searches the address pattern only in the runs of its characters that hold a numeral
    # before 号栋幢座弄巷单; the result must be the pattern's over the whole text
    import random

    rnd = random.Random(5)
    alphabet = list("0123456789０１２三五十两〇号栋幢单元座弄巷楼层室户院路街道小区花园村苑里省市区县镇乡大厦长治阳光"
                    "，。 的了a-")
    texts = list(real) + ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 40))) for _ in range(30000)]
    texts += ["山西省长治市潞州区平阳路25号阳光小区3号楼2单元501室漏水", "五号楼三单元", "家住长治县东街八号院，3栋",
              "〇号楼", "２５号", "平阳路25座门口", "一二三四五六七八九十号"]
    found = 0
    for t in texts:
        want = extract._ADDRESS.sub("，", t)
        assert extract._strip_addresses(t) == want, t
        found += want != t
    assert found > 1000


def test_compiled_word_classes_match_the_pure_rule():
    # every dictionary word with its tag, and words of no dictionary: the compiled classify gives
    # the pure-Python one's class bits and glued parts
    if not extract.COMPILED:
        pytest.skip("no compiled module here: " + extract.FAST_REASON)   # only where nothing is built
    import random

    fast = Extractor.default()
    slow = Extractor(fast.segmenter, fast.stopwords, fast=False)
    compiled = extract._SCAN_MODULE.classify
    assert compiled is not _fastscan.classify
    words = list(fast._tags.items())
    rnd = random.Random(9)
    pieces = list("不没未无太很巨超房间价格贵小大吵脏差的了。，!?a1Ｘ①") + ["iPhone", "TV", "in", "送餐", "合理", "长治"]
    words += [("".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 4))), "x") for _ in range(20000)]
    # copies with their own glued-part dicts (the default extractor's is shared with its table)
    fast, slow = (_with_own_parts(fast), _with_own_parts(slow))
    for w, t in words:
        assert compiled(fast, w, t) == _fastscan.classify(slow, w, t), (w, t)
    assert fast._part == slow._part and len(fast._part) > 10
    for w in ("中文", "abcXYZ", "㐀", "豈", "中a", "", "中1", "中 ", "ａ"):
        assert _fastscan.wordlike(w) == extract._SCAN_MODULE.wordlike(w) == bool(
            __import__("re").fullmatch(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffA-Za-z]+", w)), w


def _with_own_parts(ex):
    probe = Extractor.__new__(Extractor)
    probe.__dict__.update(ex.__dict__)
    probe._part = {}
    return probe


def test_cut_of_a_text_without_joins_is_the_engine_cut(real):
    # extract() hands a text that text_flags found free of Latin/digit joins straight to the
    # engine (Segmenter.cut_plain); that must be what cut() gives
    ex = Extractor.default()
    if ex._cut_plain is None or ex._text_flags is None:
        pytest.skip("no compiled module or no rjieba here")   # only where nothing is built
    plain = 0
    for t in real:
        if not ex._text_flags(t) & extract._JOINS:
            assert ex._cut_plain(t) == ex.segmenter.cut(t), t
            plain += 1
    assert plain > len(real) // 2


def test_class_table_two_passes_keep_order_and_duplicates():
    # classes() looks words up in the hot table first and the rest afterwards, in order: the miss
    # callback sees each unknown word once, at its first index, and repeated words get one class
    if extract._CLASS_TABLE is None:
        pytest.skip("no compiled table here: " + extract.FAST_REASON)   # only where nothing is built
    lexicon = {"空调": 3, "质量": 5, "差": 9}
    table = extract._CLASS_TABLE(lexicon, hot_words=2)
    calls, extra = [], {}

    def miss(owner, word, i, text, tagged):          # as the extractor's: caches what it gives
        calls.append((owner, word, i, text))
        extra[word] = 100 + len(calls)
        return extra[word]
    toks = ["新甲", "空调", "新甲", "质量", "新乙", "差", "空调", "新乙", "差"]
    got = table.classes(toks, extra, miss, "原文", "主人")
    assert got == [101, 3, 101, 5, 102, 9, 3, 102, 9]
    assert calls == [("主人", "新甲", 0, "原文"), ("主人", "新乙", 4, "原文")]
    # the hot table is full (2 words): the rest come from the main table or the cache
    assert table.classes(toks[::-1], extra, miss, "", "主人") == got[::-1]
    assert len(calls) == 2
