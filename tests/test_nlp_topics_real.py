"""Hot topics on real public complaint text (tests/data/real_*_negative.txt, see its README).

Each test pins one failure the old extractor had on real text: praise ranked as a
topic, the set's main noun dropped, degree variants as separate rows, fragments (码数偏),
place names and generic words in topics and clouds.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nlp.extract import Extractor
from nlp.phrases import PhraseStats
from nlp.polarity import Polarity

DATA = Path(__file__).parent / "data"
SETS = ("hotel", "car", "restaurant")


def texts(name: str) -> list[str]:
    return [t for t in (DATA / f"real_{name}_negative.txt").read_text(encoding="utf-8").splitlines() if t.strip()]


@pytest.fixture(scope="module")
def ex() -> Extractor:
    return Extractor.default()


@pytest.fixture(scope="module")
def pol() -> Polarity:
    return Polarity.default()


@pytest.fixture(scope="module")
def stats(ex) -> dict[str, PhraseStats]:
    return {s: PhraseStats().add_all(ex.extract(t) for t in texts(s)) for s in SETS}


@pytest.mark.parametrize("name", SETS)
def test_top_topics_of_real_sets_are_problems_never_praise(name, stats, pol):
    top = stats[name].top(15, min_count=2)
    # near-variants fold into one row (价格贵 <- 价格高, 价位高, 价格不便宜), so the 150 restaurant
    # reviews give fewer rows than the 293 hotel or 300 car texts
    assert len(top) >= (7 if name == "restaurant" else 12), [s.text for s in top]
    assert all(stats[name].genuine(s.phrase) for s in top)
    for s in top:
        obj, pred = s.phrase
        neg, _, core = pol.split(pred)
        assert pol.is_problem(obj, pred), s.text
        # never a plain positive word (味道不错, 交通方便): praise only when negated (不干净)
        assert neg or core not in pol.positive or core in pol.negative or core in pol.scalar, s.text
    assert [s.count for s in top] == sorted((s.count for s in top), reverse=True)   # commonest first


def test_praise_and_neutral_pairs_of_real_reviews_are_never_topics(ex):
    # praise and neutral pairs as real hotel and restaurant reviews write them beside a complaint
    for sentence in ("离机场近，交通方便", "味道不错，物流快", "办理入住很快", "早餐还不错，服务也很热情",
                     "房间干净，性价比高，价格低"):
        assert ex.extract(sentence).phrases == (), sentence


def test_the_sets_main_noun_is_kept(ex):
    # the hotel complaints that name the facilities: 设施 is in nearly all of them, so the PMI of
    # 设施+旧 is about 0, yet 设施旧 is their commonest problem
    facilities = [t for t in texts("hotel") if "设施" in t]
    stats = PhraseStats().add_all(ex.extract(t) for t in facilities)
    assert stats.doc_count("设施") >= 0.8 * stats.n_docs
    top = stats.top(5, min_count=2)
    assert top[0].phrase == ("设施", "旧"), [s.text for s in top]
    assert stats.pmi(("设施", "旧")) < 0.5        # what the old score count × max(PMI, 0) zeroed
    assert stats.genuine(("设施", "旧"))


def test_degree_words_fold_into_one_topic_with_its_variants(stats, ex):
    top = {s.text: s for s in stats["hotel"].top(15, min_count=2)}
    service = top["服务态度差"]
    assert {"服务态度很差", "服务太差", "服务非常差"} <= set(service.variants), service.variants
    assert service.count >= 12
    assert {"噪音很大", "噪音比较大"} <= set(top["噪音大"].variants), top["噪音大"].variants
    # no topic keeps a degree word, and none appears twice
    degree = Polarity.default().degree
    assert not any(any(s.phrase[1].startswith(d) for d in degree) for s in top.values())
    assert len({s.phrase for s in top.values()}) == len(top)
    # the same in one complaint: 物流太慢 / 物流很慢 / 物流慢 are one phrase
    phrases = {p for t in ("物流太慢", "物流很慢", "物流慢") for p in ex.extract(t).phrases}
    assert phrases == {("物流", "慢")}


def test_near_variants_fold_into_one_topic_that_lists_them(stats, ex):
    """synonyms.txt folds object and predicate variants: one row each, the variants listed."""
    top = {s.text: s for s in stats["restaurant"].top(15, min_count=2)}
    assert "价格高" not in top and "价位高" not in top and "价钱贵" not in top and "价格不便宜" not in top
    assert {"价位高", "价格不便宜"} <= set(top["价格贵"].variants), top["价格贵"].variants
    assert "分量少" not in top and "量少" not in top
    assert any(v.startswith("分量") for v in top["份量少"].variants), top["份量少"].variants
    assert top["份量少"].count >= 8                      # 份量少 3 + 分量少 2 + 量少 3 … before folding
    hotel = {s.text: s for s in stats["hotel"].top(15, min_count=2)}
    assert "服务差" not in hotel and "态度差" not in hotel and "服务态度差" in hotel
    # in one complaint, and only where the lexicon says so: 高 is 贵 of a price, not of a room
    assert ex.extract("分量太小了").phrases == (("份量", "少"),)
    assert ex.extract("价钱有点高").phrases == (("价格", "贵"),)
    assert ex.extract("房间不干净").phrases == (("房间", "脏"),)
    assert ex.extract("油耗太高").phrases == (("油耗", "高"),)
    assert (("份量", "少"), "分量太小") in ex.extract("分量太小了").variants


def test_phrases_respect_word_boundaries(ex):
    terms = ex.extract("鞋子码数偏大，一颗星都不想给")
    assert terms.phrases == (("码数", "大"),)
    assert (("码数", "大"), "鞋子码数偏大") in terms.variants       # as written, the noun before too
    assert all("偏" not in p for ph in terms.phrases for p in ph)


def test_place_names_and_generic_words_stay_out_of_topics_and_keywords(ex):
    real = texts("hotel")[:40]
    placed = [f"长治市潞州区{t}太原市小店区的所有公司都这样，孩子也说" for t in real]
    stats = PhraseStats().add_all(ex.extract(t) for t in placed)
    words = set(stats.keywords) | {p for ph in stats.phrases for p in ph}
    for w in ("长治", "长治市", "潞州", "潞州区", "小店", "太原", "所有", "公司", "孩子"):
        assert w not in words, w
    assert stats.top(5, min_count=2)                 # the complaints' own topics are still there


def test_the_cloud_of_a_real_set_has_no_generic_words(stats):
    from nlp.cloud import merge_weights

    s = stats["hotel"]
    weights = merge_weights({t.text: t.count for t in s.top(30, min_count=2)}, dict(s.top_keywords(60)))
    assert weights
    for w in ("所有", "合理", "合法", "标准", "公司", "孩子"):
        assert w not in weights


def test_topics_cli_prints_variants(tmp_path):
    out = subprocess.run([sys.executable, "-m", "nlp", "topics", str(DATA / "real_hotel_negative.txt"),
                          "--top", "5", "--no-keywords"], capture_output=True, text=True, check=True).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 5 and all({"phrase", "count", "parts", "variants"} <= set(r) for r in rows)
    assert rows[0]["phrase"] == "服务态度差" and "服务态度很差" in rows[0]["variants"]


def test_scalar_words_take_their_polarity_from_the_object(ex):
    # the same word is a problem of one object and praise (or nothing) of another
    assert ex.extract("房间很小").phrases == (("房间", "小"),)
    assert ex.extract("噪音很小").phrases == ()
    assert ex.extract("油耗高").phrases == (("油耗", "高"),)
    assert ex.extract("性价比高").phrases == ()
    assert ex.extract("动力下降").phrases == (("动力", "下降"),)
    assert ex.extract("价格下降了").phrases == ()
    assert ex.extract("心情不好").phrases == ()          # a mood, nothing a bureau can act on


def test_topics_cli_marks_rising_topics_against_a_baseline(tmp_path):
    hotel = texts("hotel")
    base, now = tmp_path / "base.txt", tmp_path / "now.txt"
    # the usual period: the real hotel reviews; now: the same mix plus a new problem
    base.write_text("\n".join(hotel) + "\n", encoding="utf-8")
    surge = [f"这次入住发现浴缸漏水，地上全是水，前台也不处理（{i}）" for i in range(8)]
    now.write_text("\n".join(hotel + surge) + "\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "nlp", "topics", str(now), "--baseline", str(base), "--top", "30",
                          "--no-keywords"], capture_output=True, text=True, check=True).stdout
    rows = {r["phrase"]: r for r in map(json.loads, out.splitlines())}
    assert rows["浴缸漏水"]["rising"] and rows["浴缸漏水"]["burst"] > 3
    # the commonest problem is still first, and it is perennial, not rising
    first = json.loads(out.splitlines()[0])
    assert first["phrase"] == "服务态度差" and not first["rising"] and first["expected"] > 5


def test_a_light_noun_keeps_the_noun_before_it(stats, ex):
    assert ex.extract("产品质量很差").phrases == (("产品质量", "差"),)
    # 隔音效果 is then folded into 隔音 by synonyms.txt: one topic 隔音差 listing 隔音效果很差
    assert ex.extract("隔音效果很差").phrases == (("隔音", "差"),)
    top = {s.text: s for s in stats["hotel"].top(15, min_count=2)}
    assert "隔音效果差" not in top and "效果差" not in top
    assert any(v.startswith("隔音效果") for v in top["隔音差"].variants)


def test_words_the_dictionary_lacked_form_topics(ex):
    # 送餐 was in no dictionary, so 送餐太慢 never formed; learned from the reviews' HMM words
    assert ex.segmenter.has_word("送餐")
    assert ex.extract("送餐太慢了").phrases == (("送餐", "慢"),)
