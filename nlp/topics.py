"""`python -m nlp topics FILE`: the hot topics of a file of complaints, as JSON lines.

First the top problem topics, commonest first, one JSON object a line:
    {"phrase": "物流慢", "parts": ["物流", "慢"], "count": 41, "pmi": 3.2, "score": 131.2,
     "variants": ["物流太慢", "物流很慢"], "left_entropy": 2.1, "right_entropy": 3.0}
then the top keywords:
    {"keyword": "开胶", "count": 57}
A topic is an object with a negative predicate or a negated positive one (``nlp.polarity``);
praise and neutral pairs are never topics. ``count`` is the number of complaints carrying it
(the ranking); ``variants`` are the ways complaints wrote it (degree words, a noun before the
object), commonest first; ``pmi`` and ``score`` are explained in ``nlp.phrases``; the
entropies (bits) of the words before and after the phrase are only computed offline (low = the
phrase is usually part of something longer).
"""
from __future__ import annotations

import argparse
import json
import sys

from nlp.segment import ENGINES, SegmenterError
from nlp.textio import InputError, read_texts


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m nlp topics",
        description="Top problem topics (then top keywords) of the complaints in FILE, as JSON lines, "
                    "commonest first; each topic lists its variants.",
        epilog="FILE: .txt (one complaint a line), .jsonl (\"text\" field), .csv or .xlsx "
               "(a column such as 诉求内容 / 投诉内容 / 内容 / text, or --column).")
    ap.add_argument("file", metavar="FILE", help="complaints file")
    ap.add_argument("--top", type=int, default=20, metavar="N", help="phrases and keywords to print (default 20)")
    ap.add_argument("--column", metavar="NAME", help="column holding the text (.csv/.xlsx/.jsonl)")
    ap.add_argument("--engine", choices=ENGINES, default="auto", help="segmenter (default auto: rjieba if usable)")
    ap.add_argument("--min-count", type=int, default=None, metavar="K",
                    help="least complaints a phrase needs (default 2, or 3 from 1,000 complaints on)")
    ap.add_argument("--no-keywords", action="store_true", help="print phrases only")
    ap.add_argument("--baseline", metavar="FILE",
                    help="complaints of a usual period (same formats): each topic then also gets its expected "
                         "count (the baseline's rate times this file's complaints), a burst score and "
                         "rising true/false (nlp.burst: -log10 P(count >= observed), Bonferroni over the topics)")
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    args = ap.parse_args(sys.argv[1:] if argv is None else argv)
    if args.top < 1:
        ap.error("--top must be at least 1")

    def fail(msg: str) -> int:
        print(f"{ap.prog}: error: {msg}", file=sys.stderr)
        return 2

    try:
        texts = read_texts(args.file, args.column)
    except InputError as e:
        return fail(str(e))
    except OSError as e:
        return fail(f"cannot read {args.file}: {e.strerror or e}")
    except Exception as e:  # noqa: BLE001 - a broken xlsx and the like: one line, no traceback
        return fail(f"cannot read {args.file}: {type(e).__name__}: {e}")

    from nlp.extract import Extractor
    from nlp.phrases import PhraseStats

    try:
        ex = Extractor.default(args.engine)
    except SegmenterError as e:
        return fail(str(e))
    except OSError as e:
        return fail(f"cannot read the NLP configuration: {e}")

    stats = PhraseStats()
    all_terms = [ex.extract(t) for t in texts]
    stats.add_all(all_terms)
    if not texts:
        print(f"{ap.prog}: no complaints in {args.file}", file=sys.stderr)
        return 0
    min_count = args.min_count if args.min_count is not None else (3 if len(texts) >= 1000 else 2)

    # Neighbour entropies for the leading candidates only (a second, cheap pass).
    lead = {s.phrase for s in stats.top(args.top * 3, min_count=min_count, fold=0)}
    if lead:
        for t in all_terms:
            mine = [p for p in t.phrases if p in lead]
            if mine:
                stats.add_contexts(t.tokens, mine)

    bursts = {}
    if args.baseline:
        try:
            base_texts = read_texts(args.baseline, args.column)
        except (InputError, OSError) as e:
            return fail(f"cannot read the baseline {args.baseline}: {e}")
        if not base_texts:
            return fail(f"no complaints in the baseline {args.baseline}")
        from nlp.burst import burst_scores
        from nlp.phrases import encode_phrase

        base = PhraseStats().add_all(ex.extract(t) for t in base_texts)
        scale = len(texts) / len(base_texts)      # the baseline at this file's volume
        observed = {encode_phrase(p): c for p, c in stats.phrases.items()}
        expected = [{encode_phrase(p): c * scale for p, c in base.phrases.items()}]
        bursts = {b.topic: b for b in burst_scores(observed, expected, min_count=min_count)}

    out = sys.stdout
    for s in stats.top(args.top, min_count=min_count):
        d = s.as_dict()
        if args.baseline:
            from nlp.phrases import encode_phrase

            b = bursts.get(encode_phrase(s.phrase))
            d.update({"expected": b.expected if b else None, "burst": b.score if b else None,
                      "rising": bool(b and b.rising)})
        out.write(json.dumps(d, ensure_ascii=False) + "\n")
    if not args.no_keywords:
        for word, count in stats.top_keywords(args.top):
            out.write(json.dumps({"keyword": word, "count": count}, ensure_ascii=False) + "\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
