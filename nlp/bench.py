"""`python -m nlp.bench [-n N]`: how fast complaint texts are segmented and their terms extracted.

One thread, so the figures are per core. Texts are simulator complaints joined to about
150 characters each (typical 12315 complaint length). The extractor's word-class cache is
warmed on a *different* set of complaints first, as in a running stream, so the timed texts
still meet words and numbers it has not seen. Beside it in the same run: plain ``jieba.lcut``
(the default jieba, no user dictionary, no tags), ``rjieba`` cut alone, and the extractor on
the reference jieba engine. Shared machines vary from run to run: read the ratios.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from datetime import datetime, timedelta

TARGET = 20_000          # complaints per second per core, extraction with the fast engine
LENGTH = 150


def complaint_texts(n: int, seed: int = 11, length: int = LENGTH) -> list[str]:
    """``n`` simulator complaints, consecutive ones joined until each is about ``length`` chars."""
    from config import load_settings
    from streams.simgen import Simulator

    settings = load_settings({})
    sim = Simulator(settings, seed=seed, rate_per_second=50.0, flat=True)
    start = datetime(2024, 5, 6, 9, tzinfo=settings.tz)
    out: list[str] = []
    buf = ""
    for c in sim.generate(start, start + timedelta(days=30)):
        buf += c["text"]
        if len(buf) >= length:
            out.append(buf[:length + 10])
            buf = ""
            if len(out) >= n:
                break
    return out


def _rate(fn, texts: list[str], repeat: int = 1) -> dict:
    """Best of ``repeat`` passes: complaints per wall second and per CPU second."""
    best_wall = best_cpu = float("inf")
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        for t in texts:
            fn(t)
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return {"per_s": round(len(texts) / best_wall), "per_cpu_s": round(len(texts) / max(best_cpu, 1e-9)),
            "us_each": round(best_wall / len(texts) * 1e6, 1)}


def run(n: int = 5000, repeat: int = 3, jieba_n: int | None = None) -> dict:
    """Measure; returns a dict of the figures (complaints/s) and their ratios."""
    import jieba
    import rjieba

    from nlp.extract import Extractor
    from nlp.segment import USERDICT, Segmenter

    jieba.setLogLevel(logging.WARNING)
    warm = complaint_texts(n, seed=12)
    texts = complaint_texts(n, seed=11)
    jieba_texts = texts[: jieba_n or n]

    ex = Extractor.default("auto")
    for t in warm:                         # a running stream's cache, not these texts' words
        ex.extract(t)
    fresh = _rate(ex.extract, texts, 1)    # first sight of these texts
    fast = _rate(ex.extract, texts, repeat)

    jieba.initialize()
    jieba.lcut(warm[0])
    plain = _rate(jieba.lcut, jieba_texts, 1)
    rj = rjieba.Jieba()
    rj_cut = _rate(rj.cut, texts, repeat)

    ref = Extractor(Segmenter("jieba", USERDICT), ex.stopwords)
    for t in warm[:500]:
        ref.extract(t)
    ref_rate = _rate(ref.extract, jieba_texts, 1)

    chars = sum(map(len, texts)) / len(texts)
    return {
        "complaints": len(texts), "mean_chars": round(chars, 1), "engine": ex.segmenter.engine,
        "extract_first_pass": fresh, "extract": fast, "jieba_lcut": plain, "rjieba_cut": rj_cut,
        "extract_jieba_engine": ref_rate,
        "ratio_extract_vs_jieba_lcut": round(fast["per_s"] / plain["per_s"], 1),
        "target_per_s": TARGET, "meets_target": fast["per_s"] >= TARGET,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m nlp.bench", description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=5000, help="complaints to time (default 5000)")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = ap.parse_args(argv)
    r = run(args.n)
    if args.json:
        print(json.dumps(r, ensure_ascii=False))
        return 0
    print(f"{r['complaints']} complaints of {r['mean_chars']} characters, one thread, engine {r['engine']}")
    rows = [("extract (terms: mask, segment, keywords, phrases)", r["extract"]),
            ("  same, first sight of the texts", r["extract_first_pass"]),
            ("jieba.lcut (plain segmentation only)", r["jieba_lcut"]),
            ("rjieba cut (segmentation only)", r["rjieba_cut"]),
            ("extract with the reference jieba engine", r["extract_jieba_engine"])]
    for name, m in rows:
        print(f"  {name:52s} {m['per_s']:>9,} /s  ({m['per_cpu_s']:,} per CPU-s, {m['us_each']} µs each)")
    print(f"extract is {r['ratio_extract_vs_jieba_lcut']}x jieba.lcut; target {TARGET:,}/s per core: "
          + ("met" if r["meets_target"] else "NOT met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
