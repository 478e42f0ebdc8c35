"""Lexicon additions learned from labelled reviews, and ``python -m nlp.polarity check|learn``.

The polarity rule and its lexicons are :mod:`nlp.polarity`; learning runs the extractor over
labelled texts (``nlp.extract``, which itself reads the lexicons), so it lives here, apart from
the rule the extractor uses.

    python -m nlp.polarity check 房间 脏          # is OBJECT + PREDICATE a problem?
    python -m nlp.polarity learn FILE.jsonl      # fields text, sentiment (neg|pos), group
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from nlp.extract import OBJECT, PROBLEM, Extractor
from nlp.polarity import FUNCTION_CHARS, LEXICON_DIR, Polarity

__all__ = ["learn", "main"]


def learn(neg_texts: list[str], pos_texts: list[str], min_docs: int = 10, ratio: float = 6.0,
          extractor=None, neg_groups: list[str] | None = None,
          pos_groups: list[str] | None = None) -> tuple[list[str], list[str], list[tuple[str, int]]]:
    """Predicates far more frequent in negative than in positive reviews (and the reverse), and
    new words: runs of single characters that the dictionary splits but that recur.

    Candidates are the words the extractor can use as problems (verbs, adjectives, negated
    words), never nouns. The odds ratio is the Mantel-Haenszel estimate over ``groups`` (one per
    source set: hotel, car … so that a set with more positive reviews does not make its whole
    vocabulary "positive"). A word is learned as negative when it is in at least ``min_docs``
    negative texts and its ratio is at least ``ratio``; positive likewise. Words the lexicons
    already hold, degree words and negators are left out.
    New words (candidates for ``userdict.txt``): tokens of two to four Han characters that are
    in no dictionary (the segmenter's HMM made them: 送餐, 标间, 菜量) in at least ``3 * min_docs``
    texts, without a degree word or negator in front (很差 is a glued degree word, not a word)
    and without function characters (我订, 还会, 有个).
    """
    ex = extractor or Extractor.default()
    pol = Polarity.from_dir()
    neg_groups = neg_groups or [""] * len(neg_texts)
    pos_groups = pos_groups or [""] * len(pos_texts)
    df: dict[tuple[str, str], Counter] = {}        # (group, neg|pos) -> word -> docs
    size: Counter = Counter()
    oov: Counter = Counter()
    for texts, groups, side in ((neg_texts, neg_groups, "neg"), (pos_texts, pos_groups, "pos")):
        for t, g in zip(texts, groups):
            terms = ex.extract(t)
            seen = set()
            for w in terms.tokens:
                c = ex.word_class(w)
                if c & PROBLEM and not c & OBJECT:
                    seen.add(pol.split(ex._part.get(w, w))[2])
            df.setdefault((g, side), Counter()).update(seen)
            size[(g, side)] += 1
            oov.update(w for w in set(terms.tokens)
                       if 2 <= len(w) <= 4 and all("\u4e00" <= ch <= "\u9fff" for ch in w)
                       and not ex.segmenter.has_word(w))
    groups = sorted({g for g, _ in size})
    known = pol.negative | pol.positive | set(pol.degree) | pol.negator_set | pol.generic
    words = set()
    for c in df.values():
        words.update(c)
    negs, poss = [], []
    for w in words:
        if (w in known or len(w) < 2 or w in ex.stopwords or w in pol.obligations
                or not all("\u4e00" <= ch <= "\u9fff" for ch in w)):
            continue                                    # 人, 去, 该: too plain to be a predicate
        num = den = 0.0
        n_neg = n_pos = 0
        for g in groups:
            a = df.get((g, "neg"), Counter())[w] + 0.5      # negative texts with w
            b = df.get((g, "pos"), Counter())[w] + 0.5      # positive texts with w
            c = size[(g, "neg")] - a + 1.0                  # negative texts without w
            d = size[(g, "pos")] - b + 1.0
            total = a + b + c + d
            num += a * d / total
            den += b * c / total
            n_neg += df.get((g, "neg"), Counter())[w]
            n_pos += df.get((g, "pos"), Counter())[w]
        odds = num / den if den else float("inf")
        if n_neg >= min_docs and odds >= ratio:
            negs.append(w)
        elif n_pos >= min_docs and odds <= 1 / ratio:
            poss.append(w)
    lead = tuple(pol.degree) + pol.negators
    new_words = [(w, c) for w, c in oov.items()
                 if c >= 3 * min_docs and not w.startswith(lead) and not set(w) & FUNCTION_CHARS]
    return sorted(negs), sorted(poss), sorted(new_words, key=lambda wc: (-wc[1], wc[0]))


def _write(path: Path, words: list[str], header: str) -> None:
    path.write_text(header + "".join(w + "\n" for w in words), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m nlp.polarity",
        description="Polarity lexicons of the hot topics: check a pair, or learn lexicon additions "
                    "from labelled reviews.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    chk = sub.add_parser("check", help="say whether OBJECT PREDICATE is a problem")
    chk.add_argument("object")
    chk.add_argument("predicate")
    lrn = sub.add_parser("learn", help="learn negative/positive predicates and new words from FILE.jsonl "
                                       "(fields text, sentiment: neg or pos, group: source set)")
    lrn.add_argument("file")
    lrn.add_argument("--out", default=str(LEXICON_DIR), help="directory for the *_learned.txt files")
    lrn.add_argument("--min-docs", type=int, default=10)
    args = ap.parse_args(argv)
    if args.cmd == "check":
        pol = Polarity.default()
        print(json.dumps({"object": args.object, "predicate": args.predicate,
                          "normalized": pol.normalize(args.predicate),
                          "problem": pol.is_problem(args.object, args.predicate)}, ensure_ascii=False))
        return 0
    neg, pos, ng, pg = [], [], [], []
    with open(args.file, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                if d.get("sentiment") == "neg":
                    neg.append(d["text"])
                    ng.append(str(d.get("group", "")))
                elif d.get("sentiment") == "pos":
                    pos.append(d["text"])
                    pg.append(str(d.get("group", "")))
    negs, poss, new = learn(neg, pos, args.min_docs, neg_groups=ng, pos_groups=pg)
    out = Path(args.out)
    head = ("# Learned by `python -m nlp.polarity learn` from labelled public reviews ({n} negative, {p} positive\n"
            "# texts; see tests/data/README.md): predicates with odds at least 6x higher in {which} reviews.\n"
            "# Review before use; delete a line to drop a word.\n")
    _write(out / "negative_learned.txt", negs, head.format(n=len(neg), p=len(pos), which="negative"))
    _write(out / "positive_learned.txt", poss, head.format(n=len(neg), p=len(pos), which="positive"))
    print(json.dumps({"negative": len(negs), "positive": len(poss),
                      "new_words": [w for w, _ in new[:50]]}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
