"""Which object + predicate pairs are *problems*: the polarity lexicons of ``config/nlp/``.

A hot topic is something a bureau head can act on: an object with a negative predicate
(衣服掉色, 发动机异响, 房间脏) or a negated positive one (房间不干净, 水果不新鲜). Praise (味道不错,
交通方便) and neutral pairs (办理入住) are not topics. Everything here is read from plain-text
lexicons, so a bureau edits them without code; no phrase is listed anywhere.

Lexicons (``config/nlp/``, one word a line, ``#`` comments)
------------------------------------------------------------
negative.txt / positive.txt   HowNet's 情感分析用词语集 (evaluation + emotion words);
negative_domain.txt           complaint words HowNet lacks (掉色, 异响, 推诿, 卡顿 …);
positive_domain.txt           praise HowNet lacks or reads otherwise (嫩, 入味, 实惠 …);
negative_learned.txt /        learned from labelled public reviews (``python -m nlp.polarity
positive_learned.txt          learn FILE.jsonl``): words far more common in negative reviews;
negators.txt                  不, 没有, 无法 …;
degree.txt                    很, 太, 偏 … (``excess`` marks "too": 太, 偏, 过于);
scalar.txt                    大 +, 小 -, 快 +, 慢 - …: polarity from the object;
undesirable.txt               objects of which more is worse (价格, 噪音, 油耗, 问题);
obligations.txt               expected actions: negated they are failures (不退款, 无法开机);
generic.txt                   generic words (所有, 合理, 公司, 孩子): never keywords or objects;
light_nouns.txt               aspects (效果, 质量, 态度): the noun before them joins the object;
synonyms.txt                  near-variants folded into one topic (份量少 <- 分量少, 价格贵 <- 价格高):
                              classes of objects and of predicates, the latter possibly only
                              for some objects (``Polarity.canonical``).
Place names come from ``config/divisions_gbt2260_2024.csv`` (with 省/市/县/区 … stripped too).

The rule (``Polarity.is_problem``)
---------------------------------
negated predicate: a problem if the core is positive (不干净), an expected action (不退款) or a
noun (没有热水: absence); not if the core is negative (没问题, 不差) or another verb (不想).
otherwise: a negative word is a problem, a positive one is not; a scalar word is a problem when
its direction is the bad one for the object (房间小, 价格高, 噪音大) or after an excess degree
word (偏大, 太快); a word that is both positive and negative in HowNet only after an excess
degree word; anything else (neutral verbs) is not a problem.
"""
from __future__ import annotations

import csv
import sys
from functools import lru_cache
from pathlib import Path

from config import CONFIG_DIR
from nlp import _fastbuild

_RULE = _fastbuild.load()[0]      # split, problem, is_problem, canonical: nlp._fastscan, compiled if built

LEXICON_DIR = CONFIG_DIR / "nlp"
# characters of pronouns, numerals, auxiliaries: a new "word" holding one is a chance join
FUNCTION_CHARS = frozenset("我你他她它这那有还会是一了的着过个么吗呢吧啊都也就再又人点先两三四五六七八九十几多少")
DIVISIONS = CONFIG_DIR / "divisions_gbt2260_2024.csv"
PLACE_SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "地区", "新区", "林区", "矿区", "省", "市", "县",
                  "区", "盟", "旗", "州")


def read_lexicon(path: Path) -> list[str]:
    """Lines of a lexicon file (blank lines and '#' comments skipped); a missing file is empty."""
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def place_names(path: Path = DIVISIONS) -> frozenset[str]:
    """Division names and the same without their suffix (长治市 -> 长治, 小店区 -> 小店)."""
    names: set[str] = set()
    if not path.is_file():
        return frozenset()
    with path.open(encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            name = (row.get("name") or "").strip()
            if not name:
                continue
            names.add(name)
            for suf in PLACE_SUFFIXES:
                if name.endswith(suf) and len(name) - len(suf) >= 2:
                    names.add(name[: -len(suf)])
                    break
    return frozenset(names)


class Polarity:
    """The lexicons and the problem rule. Pure after construction; results are cached."""

    def __init__(self, negative, positive, negators, degree: dict[str, bool], scalar: dict[str, int],
                 undesirable, obligations, generic=(), places=(), light=(), synonyms=()):
        self.negative = frozenset(negative)
        self.positive = frozenset(positive)
        self.negators = tuple(sorted(set(negators), key=len, reverse=True))   # longest first
        self.negator_set = frozenset(negators)
        self.degree = dict(degree)
        self.degree_prefixes = tuple(sorted(self.degree, key=len, reverse=True))
        self.scalar = dict(scalar)
        self.undesirable = frozenset(undesirable)
        self.obligations = frozenset(obligations)
        self.generic = frozenset(generic)
        self.places = frozenset(places)
        self.light = frozenset(light)
        # synonym classes: word -> its class's first word; scoped predicates (pred, object) -> first
        self.same_object: dict[str, str] = {}
        self.same_predicate: dict[str, str] = {}
        self.same_predicate_of: dict[tuple[str, str], str] = {}
        for line in synonyms:
            words, _, scope = line.partition("@")
            words = words.split()
            if len(words) < 2:
                continue
            head = words[0]
            if scope.split():
                for obj in scope.split():
                    for w in words[1:]:
                        self.same_predicate_of.setdefault((w, obj), head)
            else:
                for w in words[1:]:
                    self.same_object.setdefault(w, head)
                    self.same_predicate.setdefault(w, head)
        self._cache: dict[tuple, bool] = {}
        self._split: dict[str, tuple[str, bool, str]] = {}
        self._neg_len = max(map(len, self.negator_set), default=0)
        self._deg_len = max(map(len, self.degree), default=0)
        self._prefix_chars = frozenset(w[0] for w in (*self.negator_set, *self.degree) if w)
        self._prefix_str = "".join(sorted(self._prefix_chars))
        self._rules = _RULE.Rules(self)     # what the rule reads, as typed fields when compiled

    @classmethod
    def default(cls) -> "Polarity":
        return _default()

    @classmethod
    def from_dir(cls, d: Path = LEXICON_DIR, divisions: Path | None = DIVISIONS) -> "Polarity":
        degree: dict[str, bool] = {}
        for line in read_lexicon(d / "degree.txt"):
            parts = line.split()
            degree[parts[0]] = len(parts) > 1 and parts[1] == "excess"
        scalar: dict[str, int] = {}
        for line in read_lexicon(d / "scalar.txt"):
            parts = line.split()
            if len(parts) == 2 and parts[1] in "+-":
                scalar[parts[0]] = 1 if parts[1] == "+" else -1
        negative = set(read_lexicon(d / "negative.txt")) | set(read_lexicon(d / "negative_domain.txt")) \
            | set(read_lexicon(d / "negative_learned.txt"))
        positive = set(read_lexicon(d / "positive.txt")) | set(read_lexicon(d / "positive_domain.txt")) \
            | set(read_lexicon(d / "positive_learned.txt"))
        return cls(negative, positive, read_lexicon(d / "negators.txt"), degree, scalar,
                   read_lexicon(d / "undesirable.txt"), read_lexicon(d / "obligations.txt"),
                   read_lexicon(d / "generic.txt"), place_names(divisions) if divisions else (),
                   read_lexicon(d / "light_nouns.txt"), read_lexicon(d / "synonyms.txt"))

    # -- predicates -------------------------------------------------------------------------

    # The rule itself is in nlp._fastscan (plain Python, compiled by ``make setup`` when a C
    # compiler is present; the extractor's hot loop calls it there directly).

    def split(self, pred: str) -> tuple[str, bool, str]:
        """(negator, excess, core) of a predicate: 不太干净 -> ("不", False, "干净")."""
        return _RULE.split(self, pred)

    def normalize(self, pred: str) -> str:
        """The predicate without degree words, its negator kept: 太慢 -> 慢, 不太干净 -> 不干净."""
        neg, _, core = self.split(pred)
        return neg + core

    def canonical(self, phrase: tuple[str, ...]) -> tuple[str, ...]:
        """A problem phrase with its object and predicate folded by ``synonyms.txt``:
        (分量, 少) -> (份量, 少), (价钱, 高) -> (价格, 贵), (房间, 不干净) -> (房间, 脏). The predicate
        folds by the object's own class first (高 is 贵 only for a price), then by its plain one."""
        return _RULE.canonical(self, phrase)

    def is_problem(self, obj: str, pred: str, excess: bool = False, noun: bool = False) -> bool:
        """Whether ``obj`` + ``pred`` states a problem (see the module doc).

        ``excess``: a "too" degree word stood before the predicate (太, 偏) even if not glued;
        ``noun``: the core of a negated predicate is a noun (没有 + 热水: an absence).
        """
        return _RULE.is_problem(self, obj, pred, excess, noun)

    def _problem(self, obj: str, pred: str, excess: bool, noun: bool) -> bool:
        return _RULE.problem(self, obj, pred, excess, noun)


@lru_cache(maxsize=None)
def _default() -> Polarity:
    return Polarity.from_dir()


if __name__ == "__main__":       # `python -m nlp.polarity check|learn …`: the command lives in nlp/lexicon.py
    from nlp.lexicon import main

    sys.exit(main())
