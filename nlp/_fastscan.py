"""The extractor's hot loop: one pass over a complaint's classified tokens (see ``nlp.extract``).

Plain Python, and also the source of an optional compiled module: ``make setup`` runs
``nlp._fastbuild``, which compiles this file with Cython (C types of the locals in
``_fastscan.pxd``) into ``_nlp_fastscan``; ``nlp.extract`` uses that when it was built from this
very source, and this file otherwise. Both give the same output (asserted on the real samples
of ``tests/data`` by ``tests/test_nlp_speed.py``).

Word classes are bit flags, the same numbers as ``nlp.extract``'s (asserted there at import).
"""
from __future__ import annotations

import re

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

BOUND, KEYWORD, OBJECT, PROBLEM, ADJ, VHEAD, NEG, ADV, PARTICLE, END_PROBLEM, GLUED, LATENT, EXCESS = (
    1 << i for i in range(13))
ROLE = OBJECT | PROBLEM

# Closed grammatical classes (not vocabulary): the POS tags of each role (``nlp.extract``'s).
NEG_PREFIX = frozenset("不没未无")
DEGREE = frozenset("太很挺超蛮较极忒巨")         # degree adverbs the HMM glues to adjectives (太高)
OBJECT_TAGS = frozenset({"n", "nz", "nt", "vn", "an", "ng", "nl", "j"})
PROBLEM_TAGS = frozenset({"v", "vd", "vi", "vl", "a", "ad", "ag", "al", "l", "i", "z"})
ADJECTIVE_TAGS = frozenset({"a", "ad", "ag", "al", "z"})
VERB_HEAD_TAGS = frozenset({"v", "vn", "vd", "vi"})
ADVERB_TAGS = frozenset({"d", "df", "dg", "zg"})
KEYWORD_ONLY_TAGS = frozenset({"b", "eng"})       # content words that play no role in phrases
PARTICLE_TAGS = frozenset({"ul", "uj", "uz", "ug", "uv", "ud", "y", "e", "o"})
# person names, places, time, numerals, pronouns, prepositions, conjunctions …: never keywords
NAME_TAGS = frozenset({"nr", "nrt", "nrfg", "ns", "nrj"})
CLOSED_TAGS = frozenset({"c", "p", "r", "m", "q", "mq", "u", "uj", "ul", "y", "f", "t"})
_NEG_PREFIX_STR = "不没未无"
_DEGREE_STR = "太很挺超蛮较极忒巨"


def wordlike(word):
    """Whether ``word`` is one or more Han characters (CJK unified, extension A, compatibility)
    and ASCII letters: ``re.fullmatch(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffA-Za-z]+", word)``."""
    if not word:
        return False
    for ch in word:
        o = ord(ch)
        if not (0x4e00 <= o <= 0x9fff or 0x3400 <= o <= 0x4dbf or 0xf900 <= o <= 0xfaff
                or 97 <= o <= 122 or 65 <= o <= 90):
            return False
    return True


def classify(ex, word, t):
    """Class bits of ``word`` with its dictionary tag ``t`` (``"x"``: in no dictionary) for the
    extractor ``ex`` (``nlp.extract.Extractor._classify``); fills ``ex._part`` for glued words."""
    if not wordlike(word):
        return 0 if word.isalnum() else BOUND          # digits / mixed: gap; punctuation: break
    if word in ex.negations:
        return NEG
    r = ex.polarity._rules
    degree = r.degree
    if word in degree:
        return ADV | (EXCESS if degree[word] else 0)   # 太, 偏, 很: folded, never a part
    if word in r.generic:
        # 所有, 公司: never a keyword nor an object; a generic word may still be a negated
        # predicate (不 + 合理)
        return LATENT
    if word in r.places:
        return 0                                       # 长治, 小店 (division names)
    stopwords = ex.stopwords
    if word in stopwords:
        if t in ADVERB_TAGS:
            return ADV                                 # 太, 很, 就: transparent, never a part
        return PARTICLE if t in PARTICLE_TAGS else 0
    long = len(word) >= 2
    if long:
        first = word[0]
        if first in _NEG_PREFIX_STR and t not in CLOSED_TAGS:
            # 不合理 (n), 不好 (d), 不清 (no tag), 没用: a negated problem, kept whole
            rest_tag = _tag_of(ex, word[1:])
            if t in ADVERB_TAGS and rest_tag not in ADJECTIVE_TAGS:
                return ADV                             # 不断, 不再: an adverb like any other
            return PROBLEM | KEYWORD | (ADJ if t in ADJECTIVE_TAGS or rest_tag in ADJECTIVE_TAGS else 0)
        if (first in _DEGREE_STR or first in degree) and (
                t == "x" or t in NAME_TAGS or t in OBJECT_TAGS or t == "b" or t in ADJECTIVE_TAGS):
            # degree adverb glued to an adjective (太贵 is "nr" in jieba's dictionary, 太差 "n",
            # 太高 in none): the adjective is the problem, the adverb is dropped like 很 in 很贵
            rest = word[1:]
            if rest not in stopwords and _tag_of(ex, rest) in ADJECTIVE_TAGS:
                ex._part[word] = rest
                return PROBLEM | ADJ | GLUED
    if t == "x":
        # a word in no dictionary: shop and person names, HMM guesses (我想, 交了); Latin
        # words (iPhone, TV; not 'in') are keywords
        if word.isascii() and (len(word) >= 3 or (long and word.isupper())):
            return KEYWORD
        if ex.keep_new_words and long and _HAN.fullmatch(word):
            return KEYWORD
        return 0
    if t in NAME_TAGS:
        # never a keyword; but after a negation it is the problem: jieba's dictionary has
        # 新鲜 as ns and 上门 as ns, so 不新鲜 and 不上门 would be lost
        return LATENT
    if t in OBJECT_TAGS:
        if not long and t != "n":
            return 0                                   # 馆 (ng): a morpheme, not an object
        bits = OBJECT | (VHEAD if t == "vn" and long else 0)
    elif t in PROBLEM_TAGS:
        if t in ADJECTIVE_TAGS:
            bits = PROBLEM | ADJ                       # 难, 贵, 差: single adjectives count
        elif not long:
            return 0                                   # 找, 要, 写: single verbs are too plain
        else:
            bits = PROBLEM | (VHEAD if t in VERB_HEAD_TAGS else 0)
    elif t in ADVERB_TAGS:
        return ADV | (END_PROBLEM if not long else 0)  # 乱 in 管理乱
    elif t in PARTICLE_TAGS:
        return PARTICLE
    elif t in KEYWORD_ONLY_TAGS:
        bits = 0
    else:
        return 0
    return bits | KEYWORD if long else bits


def terms_of(ex, text, tokens, terms_type):
    """``Extractor.extract``'s end where the class table is built (compiled): the classes of
    ``tokens`` (cut from ``text``), the scan, and the ``terms_type`` (``Terms``) of the results."""
    classes = ex._table.classes(tokens, ex._class, miss_listed, text, ex)
    keywords, phrases, units, variants = scan(tokens, classes, ex._part, ex._norm, ex.polarity, ex.stopwords,
                                              ex.max_gap, ex._end_problem)
    return tuple.__new__(terms_type, (tuple(tokens), tuple(keywords), tuple(phrases), tuple(units),
                                      tuple(variants)))


def miss_listed(ex, word, i, text, tagged):
    """``Extractor._miss`` where the class table holds every dictionary word: a word it lacks is
    in no dictionary (tag ``x``); its class is cached in ``ex._class``."""
    cache = ex._class
    if len(cache) > ex.cache_size:
        cache.clear()                      # (``_part`` stays: a few glued words, and in use)
    c = classify(ex, word, "x")
    cache[word] = c
    return c


def _tag_of(ex, word):
    """The dictionary tag of a word (``Extractor._tag_of``)."""
    tags = ex._tags
    if tags is not None:
        return tags.get(word, "x") if word else "x"
    return ex._tag_of(word)


def scan(tokens, classes, part_of, norm, pol, stopwords, max_gap, end_problem):
    """(keywords, phrases, units, variants) of one text, each a dict used as an ordered set.

    ``tokens`` the text's tokens, ``classes`` their class bits (list of int, same length);
    ``part_of`` {glued word: its adjective}; ``norm`` {predicate: normalized} (filled here
    through ``normalize``); ``pol`` the ``nlp.polarity.Polarity``, ``stopwords`` the
    extractor's; ``end_problem(tokens, adv, obj_w, units, phrases)`` the extractor's clause-end
    rule (管理乱). The problem rule is evaluated directly, not through ``is_problem``'s
    cache: on unique text most pairs are new, and the cache's key tuples and inserts cost more
    than the rule (a few look-ups) they would save."""
    r = pol._rules
    light = r.light
    prefixes = r.prefixes
    c_bound = BOUND
    c_keyword = KEYWORD
    c_object = OBJECT
    c_problem = PROBLEM
    c_adj = ADJ
    c_vhead = VHEAD
    c_neg = NEG
    c_adv = ADV
    c_particle = PARTICLE
    c_end = END_PROBLEM
    c_glued = GLUED
    c_latent = LATENT
    c_excess = EXCESS
    c_role = ROLE
    keywords: dict = {}
    phrases: dict = {}
    variants: dict = {}
    units: dict = {}
    gap = max_gap + 1
    obj_w = None        # the clause's last object …
    obj = -1            # … its index
    pre = None          # the noun right before that object (compound subject), if any
    vh = None           # a verb an adjective may still follow (pattern B)
    vi = -1             # … its index
    neg = ""            # a negation waiting for its problem word
    has_neg = False     # neg != ""
    exc = False         # an excess degree word (太, 偏) waiting for its problem word
    adv = -1            # index of a one-character adverb that may end the clause (管理乱)
    linked = False      # whether that object has had a problem already
    last = -2           # index of the previous token with a class
    n = len(classes)
    i = 0
    while i < n:
        c = classes[i]
        if c == 0:                                 # stop words, numbers, names: only separate
            i += 1
            continue
        if i != last + 1:                          # stop words, numbers … in between
            neg = ""
            has_neg = False
            exc = False
            adv = -1
            vh = None
            if linked:                             # an object that has had its problem:
                obj_w = None                       # what follows a gap is about something else
                pre = None
        last = i
        if (c & c_role) or (has_neg and (c & c_latent)):
            w = tokens[i]
            if c & c_keyword:
                keywords[w] = None
            adv = -1
            noun = False
            if has_neg:
                if c & (c_object | c_latent):
                    noun = (c & c_object) != 0
                    c = c_problem                  # 没有 + 发票: a negated noun is a problem
            elif (c & c_adj) and i + 1 < n:
                c1 = classes[i + 1]
                if (c1 & c_problem) and not (c1 & c_adj):
                    i += 1
                    continue                       # 严重 in 严重掉色: an adjective used as adverb
            if c & c_problem:
                part = part_of[w] if c & c_glued else w
                if has_neg:
                    part = neg + part
                    neg = ""
                    has_neg = False
                if part[0] not in prefixes:            # no negator nor degree word in front:
                    core = part                        # normalize() would give it back as it is
                else:
                    core = norm.get(part)
                    if core is None:
                        core = _normalize(r, stopwords, part)
                        norm[part] = core
                if core:
                    units[core] = None
                    if obj_w is not None and i - obj <= gap and obj_w != core:
                        if _problem(r, obj_w, part, exc, noun):
                            if pre is not None and obj_w in light:
                                whole = pre + obj_w            # 隔音效果差, not 效果差
                                units[whole] = None
                                ph = (whole, core)
                            else:
                                ph = (obj_w, core)
                            ph = _canonical(r, ph)                  # 分量少 -> 份量少 (synonyms.txt)
                            phrases[ph] = None
                            if i - obj <= 3:
                                surface = "".join(tokens[obj:i + 1])
                            else:
                                surface = obj_w + part
                            if pre is not None:
                                surface = pre + surface
                            if surface != ph[0] + ph[1]:
                                variants[(ph, surface)] = None
                        linked = True
                    if vh is not None and (c & c_adj) and vh != core and _problem(r, vh, part, exc, False):
                        ph = _canonical(r, (vh, core))
                        phrases[ph] = None
                        surface = "".join(tokens[vi:i + 1])
                        if surface != ph[0] + ph[1]:
                            variants[(ph, surface)] = None
                exc = False
                if c & c_vhead:
                    vh = w
                    vi = i
                else:
                    vh = None
                    vi = -1
            else:
                units[w] = None
                pre = obj_w if obj == i - 1 else None
                obj_w = w
                obj = i
                linked = False
                exc = False
                if c & c_vhead:
                    vh = w
                    vi = i
                else:
                    vh = None
                    vi = -1
        elif c & c_bound:
            # a one-character adverb right before the break is the clause's problem (管理乱)
            if adv >= 0 and obj_w is not None and adv - obj <= gap:
                end_problem(tokens, adv, obj_w, units, phrases)
            obj_w = None
            pre = None
            vh = None
            adv = -1
            neg = ""
            has_neg = False
            exc = False
        elif c & c_adv:
            if c & c_excess:
                exc = True
            if c & c_end:
                adv = i
        elif c & c_neg:
            neg = tokens[i]
            has_neg = len(neg) > 0
            adv = -1
        elif c & c_particle:
            vh = None
        else:                                      # a keyword that plays no part in phrases
            if c & c_keyword:
                keywords[tokens[i]] = None
            neg = ""
            has_neg = False
            exc = False
            adv = -1
            vh = None
        i += 1
    if adv >= 0 and last == n - 1 and obj_w is not None and adv - obj <= gap:
        end_problem(tokens, adv, obj_w, units, phrases)
    return keywords, phrases, units, variants


# -- the problem rule (``nlp.polarity.Polarity`` delegates here; see its module doc) ---------

class Rules:
    """What the problem rule reads of a ``nlp.polarity.Polarity`` (its ``_rules``): the same
    sets and dicts, held as typed fields, so that compiled code reads them without a look-up in
    the polarity's ``__dict__``."""

    def __init__(self, pol):
        self.generic = pol.generic
        self.places = pol.places
        self.negator_set = pol.negator_set
        self.negative = pol.negative
        self.positive = pol.positive
        self.obligations = pol.obligations
        self.undesirable = pol.undesirable
        self.light = pol.light
        self.degree = pol.degree
        self.scalar = pol.scalar
        self.same_object = pol.same_object
        self.same_predicate = pol.same_predicate
        self.same_predicate_of = pol.same_predicate_of
        self.split_cache = pol._split
        self.prefixes = pol._prefix_str
        self.neg_len = pol._neg_len
        self.deg_len = pol._deg_len


def split(pol, pred):
    """(negator, excess, core) of a predicate: 不太干净 -> ("不", False, "干净"); cached in ``pol``."""
    return _split(pol._rules, pred)


def _split(r, pred):
    prefixes = r.prefixes
    if not pred or pred[0] not in prefixes:         # starts with no negator nor degree word
        return ("", False, pred)                    # (cheaper than a cache look-up and insert)
    cache = r.split_cache
    got = cache.get(pred)
    if got is not None:
        return got
    word = pred
    neg = ""
    negators = r.negator_set
    k = min(r.neg_len, len(pred) - 1)
    while k > 0:                                    # longest negator first
        if pred[:k] in negators:
            neg = pred[:k]
            pred = pred[k:]
            break
        k -= 1
    excess = False
    degree = r.degree
    deg_len = r.deg_len
    found = True
    while found:
        found = False
        k = min(deg_len, len(pred) - 1)
        while k > 0:
            d = pred[:k]
            if d in degree:
                excess = excess or degree[d]
                pred = pred[k:]
                found = True
                break
            k -= 1
    got = (neg, excess, pred)
    cache[word] = got
    return got


def problem(pol, obj, pred, excess, noun):
    """Whether ``obj`` + ``pred`` states a problem (uncached; ``Polarity._problem``)."""
    return _problem(pol._rules, obj, pred, excess, noun)


def _problem(r, obj, pred, excess, noun):
    if obj in r.generic or obj in r.places or obj in r.negator_set:
        return False
    neg, glued_excess, core = _split(r, pred)
    excess = excess or glued_excess
    if not core or core in r.degree:
        return False                                # 偏, 太: a fragment, never a predicate
    negative = r.negative
    positive = r.positive
    neg_w = core in negative
    pos_w = core in positive
    if neg:
        if neg_w and not pos_w:
            return False                            # 没问题, 不差
        if pos_w or core in r.obligations or core in r.scalar:
            return True                             # 不干净, 不退款, 不大 (不够大)
        return bool(noun)                           # 没有热水; not 不想, 不知道
    scalar = r.scalar
    if core in scalar:
        if excess:
            return True                             # 偏大, 太快
        bad_up = obj in r.undesirable or (obj in negative and obj not in positive)
        return (scalar[core] > 0) == bad_up         # 房间小, 价格高; not 房间大, 价格低
    if neg_w and not pos_w:
        return True
    if neg_w and pos_w:
        return bool(excess)
    return False


def is_problem(pol, obj, pred, excess, noun):
    """``problem`` cached in ``pol`` by (obj, pred, excess, noun)."""
    key = (obj, pred, bool(excess), bool(noun))
    cache = pol._cache
    got = cache.get(key)
    if got is None:
        got = _problem(pol._rules, obj, pred, excess, noun)
        cache[key] = got
    return got


def canonical(pol, phrase):
    """A problem phrase with its object and predicate folded by ``synonyms.txt``."""
    return _canonical(pol._rules, phrase)


def _canonical(r, phrase):
    if len(phrase) != 2:
        return phrase
    obj, pred = phrase
    obj2 = r.same_object.get(obj, obj)
    of = r.same_predicate_of
    pred2 = of.get((pred, obj2)) if of else None
    if not pred2:
        pred2 = of.get((pred, obj)) if of else None
        if not pred2:
            pred2 = r.same_predicate.get(pred, pred)
    return phrase if (obj2 is obj and pred2 is pred) else (obj2, pred2)


def normalize(pol, stopwords, part):
    """A predicate without degree words (太慢 -> 慢); a negated plain word whose core is a stop
    word and no expected action (不想, 不知道) becomes "" (``Extractor._normalize``)."""
    return _normalize(pol._rules, stopwords, part)


def _normalize(r, stopwords, part):
    neg, _, core = _split(r, part)
    if neg and core in stopwords and core not in r.obligations:
        return ""
    return neg + core
