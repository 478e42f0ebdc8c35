"""Keywords and candidate problem phrases of one complaint, found from part-of-speech patterns.

``Extractor.default().extract(text) -> Terms``: PII is masked first (``nlp.pii.mask_text``),
masked numbers, digits and street addresses are cut out, then the text is segmented once and
one pass over the tagged tokens yields

* ``tokens``   the segmented, scrubbed text (for a classifier: no second segmentation);
* ``keywords`` content words (two or more characters, no stop words, digits, masked numbers,
  punctuation, person or place names), each once, in order of first appearance;
* ``phrases``  candidate phrases, token tuples such as (鞋子, 开胶) or (空调, 噪音, 大): an
  *object* followed by its *problem* (see below); whether a candidate is a real phrase is decided
  over many complaints by ``nlp.phrases.PhraseStats``, not here;
* ``units``    every word that served as an object or problem in this text (phrase parts;
  ``PhraseStats`` needs their document counts for PMI).

Tags are the segmenter's *dictionary* tags (``Segmenter.dict_tag``), the same with jieba and
rjieba; a word in no dictionary (an HMM guess: shop and person names, 我想, 交了) has no class
and is left out, which also keeps complainants' names out of the keywords.

Patterns (over one clause: punctuation ends a clause)
-----------------------------------------------------
object   noun-like: n, nz, nt, vn, an, ng, j (of one character only n: 车, 菜, 卡)
problem  verb or adjective: v, vd, vi, a, ad, ag, l, i, z (of one character only adjectives:
         难, 贵, 差; 找, 要, 写 are too plain); a word starting with a negation
         (不合理, tagged n); a negation followed by any object or problem word (没有 + 发票);
         an adverb that ends its clause (管理乱: 乱 is d)
A        object [up to ``max_gap`` tokens] problem  -> (object, problem)
         and, when a noun stands right before the object, (noun, object, problem)
B        verb [adverbs] adjective                   -> (verb, adjective), e.g. 维修 + 慢
A negation right before the problem (adverbs in between allowed) is kept, joined to it
(不 + 合格 -> 不合格); other adverbs (太, 很, 特别, 严重地 …) are skipped, so 房租太贵 and 房租很贵
are one candidate. Adverb glued to an adjective by the HMM (太贵, not in the dictionary) is
read as the adverb plus the adjective.

Speed: the class of a word depends only on the word (dictionary tags are context-free), so the
classes of all 350,000 dictionary words are computed once per process (about half a second,
shared by the extractors of one configuration) and a word in no dictionary is classified when
first met and cached; a complaint costs one segmentation plus one pass of look-ups. Where
``make setup`` found Cython and a C compiler (``COMPILED``; see ``nlp._fastbuild``), the
look-ups go to a compact C hash table (``nlp/_fastclass.pyx``), one pass over the characters
decides which PII and address patterns need searching, and the pass over the tokens with the
problem rule is compiled (``nlp/_fastscan.py``); ``fast=False`` or a missing compiler runs the
same code as plain Python, with the same output (``tests/test_nlp_speed.py``). No result is
cached by text. ``python -m nlp.bench`` times both on unique real texts beside plain rjieba.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from config import CONFIG_DIR
from nlp import _fastbuild, _fastscan
from nlp._fastscan import (ADJECTIVE_TAGS, ADVERB_TAGS, CLOSED_TAGS, DEGREE, KEYWORD_ONLY_TAGS,  # noqa: F401
                           NAME_TAGS, NEG_PREFIX, OBJECT_TAGS, PARTICLE_TAGS, PROBLEM_TAGS, VERB_HEAD_TAGS)
from nlp.pii import mask_text
from nlp.polarity import Polarity
from nlp.segment import USERDICT, Segmenter

STOPWORDS = CONFIG_DIR / "nlp" / "stopwords.txt"

# Closed grammatical classes (not vocabulary): negations; NEG_PREFIX, DEGREE and the POS tags of
# each role (ADJECTIVE_TAGS …) are nlp._fastscan's, where word classes are worked out.
NEGATIONS = frozenset({"不", "没", "没有", "未", "无", "别", "并未", "从未", "并不", "从不", "尚未", "毫无",
                       "不能", "无法", "不肯", "不愿", "不予", "不让"})

# Word classes (bit flags), cached per word.
BOUND, KEYWORD, OBJECT, PROBLEM, ADJ, VHEAD, NEG, ADV, PARTICLE, END_PROBLEM, GLUED, LATENT, EXCESS = (
    1 << i for i in range(13))
ROLE = OBJECT | PROBLEM
# The hot loop and the word-class table: compiled (``make setup`` builds them with Cython when a
# C compiler is present) or the pure-Python loop and dicts, with the same output.
_SCAN_MODULE, _FAST, FAST_REASON = _fastbuild.load()
_SCAN = _SCAN_MODULE.scan
COMPILED = _FAST is not None
_CLASS_TABLE = _FAST.ClassTable if _FAST is not None else None
if _FAST is not None:
    _MAY_NUMBER, _MAY_NAME, _STAR, _HAS_ADDRESS, _JOINS = (
        _FAST.MAY_NUMBER, _FAST.MAY_NAME, _FAST.STAR, _FAST.ADDRESS, _FAST.JOINS)
    _SCRUB = _MAY_NUMBER | _MAY_NAME | _STAR | _HAS_ADDRESS      # what clean() may have to change
assert (BOUND, KEYWORD, OBJECT, PROBLEM, ADJ, VHEAD, NEG, ADV, PARTICLE, END_PROBLEM, GLUED, LATENT, EXCESS) == (
    _fastscan.BOUND, _fastscan.KEYWORD, _fastscan.OBJECT, _fastscan.PROBLEM, _fastscan.ADJ, _fastscan.VHEAD,
    _fastscan.NEG, _fastscan.ADV, _fastscan.PARTICLE, _fastscan.END_PROBLEM, _fastscan.GLUED, _fastscan.LATENT,
    _fastscan.EXCESS), "nlp._fastscan's class bits differ from nlp.extract's"

# mask_text changes a text only where one of nlp.pii's own patterns matches: a digit of any
# script or a full-width/circled character it folds, 7 digits, a plate or '@', or a name cue
# (我叫, 联系人 …). The same patterns decide here whether to call it at all (a text with none of
# them comes back unchanged, asserted by tests/test_nlp_extract.py); if nlp.pii no longer has
# them, every text is masked.
try:
    from nlp.pii import _FOLD as _PII_FOLD, _MAY_HOLD_NUMBER as _PII_NUMBER, _NAME_CUE as _PII_NAME
    from nlp.pii import _OWNER_CUE as _PII_OWNER
    _PII_PATTERNS = True

    # Cheap necessary conditions first: a number, a plate, an e-mail or a folded character needs
    # a character of _PII_CHARS and then one of _PII_NUMERIC (a non-ASCII digit, a folded
    # character, '@', seven ASCII digits at most three characters apart, a province character
    # before a capital); an announced name needs one of _PII_CUES or a role word's last
    # character (名/人/者) before its colon or 是/为. Most complaints meet none of them and are
    # decided in a few microseconds (substring tests cost next to nothing); the rest take the
    # full patterns.
    _FOLDED = (r"\u00b2\u00b3\u00b9\u2070-\u2079\u2080-\u2089\u2460-\u24ff\u2776-\u2793"
               r"\uff0b\uff0d\uff0e\uff20-\uff3a\uff41-\uff5a")
    _PII_CHARS = re.compile(r"[\d@A-Z" + _FOLDED + "]").search
    # (one simple pattern each: their alternation in one pattern costs several times their sum)
    _PII_NUMERIC = tuple(re.compile(p).search for p in (
        r"[0-9](?:[^0-9]{0,3}[0-9]){6}", r"[^\D0-9]", r"[@" + _FOLDED + r"]",
        r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z]"))
    _PII_CUES = ("叫", "名字", "经营者", "业主", "店主", "体户", "工商户")
    _PII_ROLE_END = re.compile(r"[名人者]\s*[:：是为]").search

    def _may_hold_pii(text: str) -> bool:
        if _PII_CHARS(text) is not None:
            for numeric in _PII_NUMERIC:
                if numeric(text) is not None:
                    if _PII_FOLD.search(text) or _PII_NUMBER.search(text):
                        return True
                    break
        for cue in _PII_CUES:
            if cue in text:
                break
        else:
            if _PII_ROLE_END(text) is None:
                return False
        return bool(_PII_NAME.search(text) or _PII_OWNER.search(text))
except ImportError:  # pragma: no cover - depends on nlp.pii's internals
    _PII_PATTERNS = False

    def _may_hold_pii(text: str) -> bool:
        return True


# What masking leaves behind: 138****5678, 140*************12, 6222********1234, 0351-****5678,
# 晋A***8F, 张*, a***@qq.com. Replaced by a clause break, only looked for if there is a '*'.
_MASKED = re.compile(
    r"[\u4e00-\u9fff][A-Z][·• ]?\*+[A-Z0-9挂学警港澳]*"         # plate
    r"|[\u4e00-\u9fff]\*+"                                     # name
    r"|[\dA-Za-z._%+\-]*\*+[\dA-Za-z._%+\-@]*"                  # numbers, e-mail
)
# Street addresses (平阳路25号, 阳光小区3号楼2单元501室, 五号楼, with any 省/市/区/县 before them):
# replaced by a clause break. Looked for only where a number is followed by 号/栋/幢/单元.
_NUM = r"[0-9０-９一二三四五六七八九十百零〇两]+"
_ADDRESS_AT = re.compile(_NUM + r"(?:号|栋|幢|单元)")
_ADDRESS = re.compile(
    r"(?:[\u4e00-\u9fff]{1,6}?(?:省|市|区|县|镇|乡))*"
    r"[\u4e00-\u9fff]{0,4}(?:路|街|大道|巷|弄|胡同|小区|花园|家园|公寓|大厦|社区|新村|村|苑|里)" + _NUM +
    r"(?:号楼|号院|号|栋|幢|座|弄|巷)(?:" + _NUM + r"(?:单元|层|楼|室|号|户))*"
    r"|" + _NUM + r"(?:号楼|栋|幢)(?:" + _NUM + r"(?:单元|层|楼|室|号|户))*"
    r"|" + _NUM + r"单元(?:" + _NUM + r"(?:层|楼|室|号|户))*"
)
_ADDRESS_HINT = re.compile(r"[号栋幢单]")
# Every match of _ADDRESS lies within one run of its characters (Han, digits, 〇) and holds a
# numeral right before 号栋幢座弄巷单, so it is searched only in the runs that hold one: the same
# result as over the whole text (asserted by tests/test_nlp_speed.py), without trying the
# pattern at every character of a long text (95 µs on a 200-character complaint).
_ADDRESS_ANCHOR = re.compile(r"[0-9０-９一二三四五六七八九十百零〇两][号栋幢座弄巷单]")
_ADDRESS_CHAR = re.compile(r"[\u4e00-\u9fff0-9０-９〇]").match
_ADDRESS_RUN_END = re.compile(r"[\u4e00-\u9fff0-9０-９〇]*").match


def _strip_addresses(text: str) -> str:
    """``_ADDRESS.sub("，", text)``, searched run by run."""
    m = _ADDRESS_ANCHOR.search(text)
    if m is None:
        return text
    out = []
    last = 0
    while m is not None:
        a = m.start()
        while a > last and _ADDRESS_CHAR(text, a - 1):
            a -= 1
        b = _ADDRESS_RUN_END(text, m.end()).end()
        out.append(text[last:a])
        out.append(_ADDRESS.sub("，", text[a:b]))
        last = b
        m = _ADDRESS_ANCHOR.search(text, b)
    out.append(text[last:])
    return "".join(out)


def read_wordlist(path: str | Path) -> frozenset[str]:
    """Words of a one-word-a-line file; blank lines and '#' comments skipped."""
    text = Path(path).read_text(encoding="utf-8-sig")
    return frozenset(w for w in (line.strip() for line in text.splitlines()) if w and not w.startswith("#"))


def display(phrase: Iterable[str]) -> str:
    """A phrase for people: its parts joined (("鞋子", "开胶") -> 鞋子开胶)."""
    return "".join(phrase)


class Terms(NamedTuple):
    """What one complaint says: its tokens, keywords, candidate phrases and phrase parts."""

    tokens: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    units: tuple[str, ...] = ()
    variants: tuple[tuple[tuple[str, ...], str], ...] = ()   # (phrase, surface) where they differ

    def phrase_texts(self) -> list[str]:
        return [display(p) for p in self.phrases]


_new_terms = tuple.__new__      # Terms(...) without the generated Python-level __new__


class Extractor:
    """Keywords and phrase candidates of complaint texts (pure; nothing read or written per call).

    ``segmenter``  a :class:`nlp.segment.Segmenter` (its ``dict_tag`` tags are used);
    ``stopwords``  words that are never keywords nor phrase parts;
    ``mask``       mask PII with ``nlp.pii.mask_text`` first (leave on unless the text is
                   already masked); names are only masked when passed to ``extract``;
    ``max_gap``    tokens allowed between an object and its problem (pattern A);
    ``keep_new_words``  also return words in no dictionary (shop and person names, HMM guesses)
                   as keywords; off by default because complainants' names are among them;
    ``fast``       use the compiled loop and class table when built (``COMPILED``); False: the
                   pure-Python path (same output).
    """

    def __init__(self, segmenter: Segmenter, stopwords: Iterable[str] = (), *, mask: bool = True,
                 max_gap: int = 6, keep_new_words: bool = False, cache_size: int = 200_000,
                 polarity: Polarity | None = None, fast: bool = True):
        self.segmenter = segmenter
        self.stopwords = frozenset(stopwords)
        self.polarity = polarity if polarity is not None else Polarity.default()
        self.negations = NEGATIONS | self.polarity.negator_set
        self._problem = self.polarity.is_problem
        self._norm: dict[str, str] = {}        # predicate -> without degree words (太慢 -> 慢)
        self.mask = mask
        self.max_gap = int(max_gap)
        self.keep_new_words = keep_new_words
        self.cache_size = cache_size
        self._class: dict[str, int] = {}
        self._part: dict[str, str] = {}        # word -> the phrase part it stands for (太贵 -> 贵)
        self._cut = segmenter.cut
        # dictionary tags of every word (a dict look-up per new word, not an engine call)
        self._tags = segmenter.tag_table() if hasattr(segmenter, "tag_table") else None
        self._scan = _SCAN if fast else _fastscan.scan   # the hot loop (compiled when built)
        self._classify_word = _SCAN_MODULE.classify if fast else _fastscan.classify
        # the class of every dictionary word, computed once per process and configuration: a
        # word met for the first time costs one look-up there, not a classification. Compiled,
        # a C hash table holds them (``_table``), ``_class`` only the words in no dictionary.
        self._lexicon, lex_parts, self._table = (
            _lexicon_classes(self, _CLASS_TABLE if fast else None) if self._tags is not None else ({}, {}, None))
        if self._table is not None:
            # shared with the table: a glued word of no dictionary (太吵) one extractor met and the
            # table remembered must have its part here for every extractor using that table
            self._part = lex_parts
        else:
            self._part.update(lex_parts)
        self._text_flags = _FAST.text_flags if fast and _FAST is not None and _PII_PATTERNS else None
        # the segmenter's cut for a text with no Latin/digit join (see ``_scrub``), if it has one
        self._cut_plain = getattr(segmenter, "cut_plain", None)

    @classmethod
    def default(cls, engine: str = "auto") -> "Extractor":
        """The extractor with ``config/nlp/userdict.txt`` and ``stopwords.txt`` (one per engine)."""
        return _default(engine)

    # -- word classes ---------------------------------------------------------------------

    def _classify(self, word: str, t: str) -> int:
        """Class bits of a word with its dictionary tag ``t``; fills ``_part`` for glued words
        (the rule is ``nlp._fastscan.classify``)."""
        return self._classify_word(self, word, t)

    def _tag_of(self, word: str) -> str:
        if not word:
            return "x"
        if self._tags is not None:
            return self._tags.get(word, "x")
        return self.segmenter.lookup(word) or "x"

    def _miss(self, word: str, i: int, text: str, tagged: list) -> int:
        """Class of a word not yet in the cache (computed once, then cached)."""
        if len(self._class) > self.cache_size:
            self._class.clear()                # (``_part`` stays: a few glued words, and in use)
        if self._tags is not None:
            if self._table is None:
                c = self._lexicon.get(word)
                if c is not None:
                    self._class[word] = c
                    return c
            t = "x"                            # every dictionary word is in the lexicon
        else:
            t = self.segmenter.lookup(word)
        if t is None:                          # rjieba cannot tell this word's tag out of context
            if not tagged:
                tagged.extend(self.segmenter.dict_tag(text))
            t = tagged[i][1] if i < len(tagged) and tagged[i][0] == word else "x"
        c = self._class[word] = self._classify_word(self, word, t)
        return c

    def word_class(self, word: str) -> int:
        """The class bits of a word met so far (0 if not met; for ``nlp.lexicon.learn``)."""
        c = self._class.get(word)
        if c is None:
            c = self._table.get(word) if self._table is not None else self._lexicon.get(word)
        return c or 0

    # -- extraction -------------------------------------------------------------------------

    def clean(self, text: str, names: tuple[str, ...] = ()) -> str:
        """The text with PII masked and masked numbers and addresses replaced by a clause break."""
        return self._scrub(text, names)[0]

    def _scrub(self, text: str, names: tuple[str, ...] = (), f: int = -1) -> tuple[str, bool | None]:
        """(``clean(text, names)``, whether it holds a Latin/digit join for the segmenter to
        re-split (``nlp.segment._JOINER``), or None where that is not known). ``f``: the text's
        ``text_flags`` if already known."""
        if not text:
            return "", False
        if self._text_flags is not None and not names:
            # compiled: one pass over the characters says which patterns can match at all
            if f < 0:
                f = self._text_flags(text)
            if self.mask and ((f & _MAY_NUMBER and (_PII_FOLD.search(text) or _PII_NUMBER.search(text)))
                              or (f & _MAY_NAME and (_PII_NAME.search(text) or _PII_OWNER.search(text)))):
                text = mask_text(text)
            elif not f & _STAR:
                if f & _HAS_ADDRESS:
                    return _strip_addresses(text), None
                return text, (f & _JOINS) != 0
            if "*" in text:
                text = _MASKED.sub("，", text)
            if _ADDRESS_HINT.search(text) and _ADDRESS_AT.search(text):
                text = _strip_addresses(text)
            return text, None
        if self.mask and (names or _may_hold_pii(text)):
            text = mask_text(text, names)
        if "*" in text:
            text = _MASKED.sub("，", text)
        if _ADDRESS_HINT.search(text) and _ADDRESS_AT.search(text):
            text = _strip_addresses(text)
        return text, None

    def extract_tokens(self, text: str, names: tuple[str, ...] = ()) -> tuple[str, ...]:
        """Only the tokens of the scrubbed text (what ``extract(text).tokens`` holds)."""
        return tuple(self._cut(self.clean(text, names)))

    def extract(self, text: str, names: tuple[str, ...] = ()) -> Terms:
        """Tokens, keywords, phrase candidates and phrase parts of one complaint.

        ``names``: people's names to mask besides the numbers ``mask_text`` finds.
        """
        tf = self._text_flags
        if tf is not None and text and not names and not (f := tf(text)) & _SCRUB:
            joins = f != 0                     # nothing to mask or cut out (most texts): f is 0 or _JOINS
        else:
            text, joins = self._scrub(text, names, f if tf is not None and text and not names else -1)
            if not text:
                return Terms()
        # a text known to hold no Latin/digit join goes straight to the engine (nothing to re-split)
        cut_plain = self._cut_plain
        tokens = cut_plain(text) if joins is False and cut_plain is not None else self._cut(text)
        if self._table is not None:            # compiled: classes, scan and Terms in C
            return _SCAN_MODULE.terms_of(self, text, tokens, Terms)
        if None in (classes := list(map(self._class.get, tokens))):
            tagged: list = []
            i = classes.index(None)
            while True:
                classes[i] = self._miss(tokens[i], i, text, tagged)
                try:
                    i = classes.index(None, i + 1)
                except ValueError:
                    break
        keywords, phrases, units, variants = self._scan(
            tokens, classes, self._part, self._norm, self.polarity, self.stopwords, self.max_gap, self._end_problem)
        return _new_terms(Terms, (tuple(tokens), tuple(keywords), tuple(phrases), tuple(units), tuple(variants)))

    def _normalize(self, part: str) -> str:
        """A predicate without degree words (太慢 -> 慢); a negated plain word (不想, 不知道: its
        core a stop word that is no expected action) becomes "" so that it makes no topic."""
        return _fastscan.normalize(self.polarity, self.stopwords, part)

    def _end_problem(self, tokens, adv: int, obj_w: str, units: dict, phrases: dict) -> None:
        """管理乱: a one-character adverb ending the clause is its problem, if a problem at all."""
        part = tokens[adv]
        units[part] = None
        if self._problem(obj_w, part, False, False):
            phrases[self.polarity.canonical((obj_w, part))] = None


_LEXICONS: dict[tuple, tuple] = {}


def _lexicon_classes(ex: Extractor, table_type=None) -> tuple:
    """({word: class bits}, {glued word: its adjective}, a ``table_type`` of the classes or None)
    of every word of ``ex``'s tag table, shared by the extractors of one configuration (built
    once per process: about half a second)."""
    key = (id(ex._tags), ex.stopwords, id(ex.polarity), ex.negations, ex.keep_new_words, table_type)
    got = _LEXICONS.get(key)
    if got is None:
        probe = Extractor.__new__(Extractor)
        probe.__dict__.update(ex.__dict__)
        probe._part = {}
        classify = probe._classify_word
        classes = {w: classify(probe, w, t) for w, t in ex._tags.items()}
        got = _LEXICONS[key] = (classes, probe._part, table_type(classes) if table_type is not None else None)
    return got


@lru_cache(maxsize=None)
def _default(engine: str) -> Extractor:
    return Extractor(Segmenter(engine, USERDICT), read_wordlist(STOPWORDS))
