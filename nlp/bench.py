"""`python -m nlp.bench`: how fast unique real complaint texts are segmented and their terms extracted.

The texts are the real public complaints and negative reviews of ``tests/data`` (hotel, car and
restaurant sets and the industry hold-out; see its README), each timed once: no text repeats,
so no cache of a text's result can inflate the figure. The extractor's word-class cache is
warmed first on *other* texts (the hand-written complaints and the parity corpus), as in a
running stream, so the timed texts still meet words it has not seen.

Beside it, in the same run and on the same texts: the extractor's pure-Python path (what runs
without a C compiler; same output), plain ``rjieba`` cut (segmentation only, no user
dictionary, no tags), ``jieba.lcut``, and the extractor on the reference jieba engine.
One thread; figures per CPU-second are the per-core ones (wall time on a shared machine also
counts time the process waited for a core). Shared machines vary from run to run: read the
ratios.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from config import ROOT_DIR

TARGET = 20_000          # complaints per CPU-second, extraction with the fast engine
DATA = ROOT_DIR / "tests" / "data"
REAL_FILES = ("real_hotel_negative.txt", "real_car_negative.txt", "real_restaurant_negative.txt",
              "industry_real_holdout.jsonl")
WARM_FILES = ("industry_holdout_handwritten.jsonl", "nlp_reference_corpus.txt")


def _lines(path: Path) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        out.append(str(json.loads(line)["text"]) if path.suffix == ".jsonl" else line)
    return out


def real_texts() -> list[str]:
    """Every real text of tests/data once (duplicates across files dropped), in file order."""
    seen: dict[str, None] = {}
    for f in REAL_FILES:
        for t in _lines(DATA / f):
            seen.setdefault(t, None)
    return list(seen)


def warm_texts(exclude: set[str]) -> list[str]:
    return [t for f in WARM_FILES for t in _lines(DATA / f) if t not in exclude]


def _rate(fn, texts: list[str]) -> dict:
    """One pass over ``texts``: complaints per wall second and per CPU second."""
    w0, c0 = time.perf_counter(), time.process_time()
    for t in texts:
        fn(t)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    return {"per_s": round(len(texts) / wall), "per_cpu_s": round(len(texts) / max(cpu, 1e-9)),
            "us_each": round(cpu / len(texts) * 1e6, 1)}


def run(n: int | None = None) -> dict:
    """Measure; returns a dict of the figures (complaints/s) and their ratios. ``n`` limits
    the number of timed texts (default: all of them)."""
    import jieba
    import rjieba

    from nlp.extract import Extractor
    from nlp.polarity import Polarity
    from nlp.segment import USERDICT, Segmenter

    jieba.setLogLevel(logging.WARNING)
    texts = real_texts()[:n] if n else real_texts()
    warm = warm_texts(set(texts))

    import nlp.extract as extract

    ex = Extractor.default("auto")
    for t in warm:                         # a running stream's cache, not these texts' words
        ex.extract(t)
    fresh = _rate(ex.extract, texts)       # first and only sight of these texts

    # the same without the compiled parts (what runs where make setup found no C compiler); its
    # own Polarity, so that the problem rule's caches are as cold as they were for the first
    pure = Extractor(ex.segmenter, ex.stopwords, fast=False, polarity=Polarity.from_dir())
    for t in warm:
        pure.extract(t)
    pure_rate = _rate(pure.extract, texts)

    rj = rjieba.Jieba()
    rj.cut(warm[0])
    rj_cut = _rate(rj.cut, texts)
    jieba.initialize()
    jieba.lcut(warm[0])
    plain = _rate(jieba.lcut, texts)

    ref = Extractor(Segmenter("jieba", USERDICT), ex.stopwords, polarity=Polarity.from_dir())
    for t in warm:
        ref.extract(t)
    ref_rate = _rate(ref.extract, texts)

    chars = sum(map(len, texts)) / len(texts)
    return {
        "complaints": len(texts), "unique": len(set(texts)) == len(texts), "mean_chars": round(chars, 1),
        "engine": ex.segmenter.engine, "compiled": extract.COMPILED, "compiled_reason": extract.FAST_REASON,
        "extract": fresh, "extract_pure_python": pure_rate, "rjieba_cut": rj_cut, "jieba_lcut": plain, "extract_jieba_engine": ref_rate,
        "ratio_extract_vs_rjieba_cut": round(fresh["per_cpu_s"] / rj_cut["per_cpu_s"], 2),
        "ratio_extract_vs_jieba_lcut": round(fresh["per_cpu_s"] / plain["per_cpu_s"], 1),
        "ratio_compiled_vs_pure_python": round(fresh["per_cpu_s"] / pure_rate["per_cpu_s"], 2),
        "target_per_cpu_s": TARGET, "meets_target": fresh["per_cpu_s"] >= TARGET,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m nlp.bench", description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=None, help="time only the first N real texts (default: all)")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = ap.parse_args(argv)
    r = run(args.n)
    if args.json:
        print(json.dumps(r, ensure_ascii=False))
        return 0
    print(f"{r['complaints']} unique real complaints of {r['mean_chars']} characters on average, each timed once; "
          f"one thread, engine {r['engine']}")
    if not r["compiled"]:
        print(f"  (compiled fast path not in use: {r['compiled_reason']})")
    rows = [("extract (mask, segment, keywords, problem topics)", r["extract"]),
            ("extract, pure-Python path (no C compiler)", r["extract_pure_python"]),
            ("rjieba cut (plain segmentation only)", r["rjieba_cut"]),
            ("jieba.lcut (plain segmentation only)", r["jieba_lcut"]),
            ("extract with the reference jieba engine", r["extract_jieba_engine"])]
    for name, m in rows:
        print(f"  {name:52s} {m['per_cpu_s']:>9,} /CPU-s  ({m['per_s']:,} /s wall, {m['us_each']} µs CPU each)")
    print(f"extract is {r['ratio_extract_vs_rjieba_cut']}x plain rjieba cut and {r['ratio_extract_vs_jieba_lcut']}x "
          f"jieba.lcut; compiled path {r['ratio_compiled_vs_pure_python']}x the pure-Python one; "
          f"target {TARGET:,}/CPU-s: " + ("met" if r["meets_target"] else "NOT met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
