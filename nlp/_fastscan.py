"""The extractor's hot loop: one pass over a complaint's classified tokens (see ``nlp.extract``).

Plain Python, and also the source of an optional compiled module: ``make setup`` runs
``nlp._fastbuild``, which compiles this file with Cython (C types of the locals in
``_fastscan.pxd``) into ``_nlp_fastscan``; ``nlp.extract`` uses that when it was built from this
very source, and this file otherwise. Both give the same output (asserted on the real samples
of ``tests/data`` by ``tests/test_nlp_speed.py``).

Word classes are bit flags, the same numbers as ``nlp.extract``'s (asserted there at import).
"""
from __future__ import annotations

BOUND, KEYWORD, OBJECT, PROBLEM, ADJ, VHEAD, NEG, ADV, PARTICLE, END_PROBLEM, GLUED, LATENT, EXCESS = (
    1 << i for i in range(13))
ROLE = OBJECT | PROBLEM


def scan(tokens, classes, part_of, norm, normalize, is_problem, light, canonical, max_gap, end_problem):
    """(keywords, phrases, units, variants) of one text, each a dict used as an ordered set.

    ``tokens`` the text's tokens, ``classes`` their class bits (list of int, same length);
    ``part_of`` {glued word: its adjective}; ``norm`` {predicate: normalized} (filled here
    through ``normalize``); ``is_problem(obj, pred, excess, noun)``, ``light`` (aspect nouns),
    ``canonical(phrase)`` from ``nlp.polarity.Polarity``; ``end_problem(tokens, adv, obj_w,
    units, phrases)`` the extractor's clause-end rule (管理乱)."""
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
                core = norm.get(part)
                if core is None:
                    core = normalize(part)
                    norm[part] = core
                if core:
                    units[core] = None
                    if obj_w is not None and i - obj <= gap and obj_w != core:
                        if is_problem(obj_w, part, exc, noun):
                            if pre is not None and obj_w in light:
                                whole = pre + obj_w            # 隔音效果差, not 效果差
                                units[whole] = None
                                ph = (whole, core)
                            else:
                                ph = (obj_w, core)
                            ph = canonical(ph)                 # 分量少 -> 份量少 (synonyms.txt)
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
                    if vh is not None and (c & c_adj) and vh != core and is_problem(vh, part, exc, False):
                        ph = canonical((vh, core))
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
