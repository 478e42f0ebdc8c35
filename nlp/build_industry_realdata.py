"""Build the industry classifier's extra real training and hold-out texts from public sources.

Each source is one public file whose every text belongs to one industry: the industry comes
from the small table ``SOURCES`` below (source -> industry), never from a label per text.
Texts are split by the project's rule: md5 of the text, first 8 hex digits as an integer,
mod 10: 0-2 hold-out, 3-9 training. Texts that carry a phone number, ID number or other
personal data (``nlp.pii.mask_text`` changes them) are left out.

    python -m nlp.build_industry_realdata jd_phone=JDComment_data.csv \\
        absa_camera=camera.train.txt absa_camera=camera.test.txt \\
        absa_phone=phone.train.txt absa_phone=phone.test.txt \\
        absa_notebook=notebook.train.txt absa_notebook=notebook.test.txt \\
        --train-out /tmp/industry_train_products.jsonl \\
        --holdout-out tests/data/industry_real_holdout_products.jsonl --holdout-per-source 150

    python -m nlp.build_industry_realdata tipdm_hotel=酒店评论.csv \\
        --train-out /tmp/industry_train_hotel.jsonl --holdout-out /tmp/holdout_hotel.jsonl \\
        --negative-scores H1gbk.csv ... H50gbk.csv --negative-out tests/data/real_hotel_negative.txt

Where the files come from (see tests/data/README.md for the licences):
  jd_phone      https://github.com/YuleZhang/NLP_Analysis_JDcomment  data/JDComment_data.csv
  absa_*        https://github.com/yangheng95/ABSADatasets  datasets/apc_datasets/102.Chinese/
                (103.camera, 107.phone, 106.notebook: *.train.txt and *.test.txt)
  tipdm_hotel   https://github.com/Alice23333/Text-Analysis-of-Online-Reviews-of-Scenic-Spots-and-Hotels
                data/第1问/数据清洗结果/酒店评论.csv (24,780 reviews of 50 hotels in Guangdong,
                2020-01 to 2020-08, from the 9th TipDM Cup 2021 problem B; not ChnSentiCorp);
                --negative-scores: the same repository's data/第2问/第2问情感分析结果/H*gbk.csv
                (its author's lexicon score per review, ``emotional_value``; below 0 = negative)

No source may be ChnSentiCorp or derived from it (online_shopping_10_cats holds 10,000 of its
hotel reviews, and that set is kept apart for independent judging), nor waimai_10k or 12365auto.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import re
import sys
from pathlib import Path

from nlp.textio import InputError, _decode as textio_decode

# source -> industry of the bureau (config/settings.yaml complaints.industries)
SOURCES: dict[str, str] = {
    "jd_phone": "产品质量",        # JD.com reviews of mobile phones
    "absa_camera": "产品质量",     # digital camera review sentences
    "absa_phone": "产品质量",      # mobile phone review sentences
    "absa_notebook": "产品质量",   # notebook computer review sentences
    "tipdm_hotel": "旅游",         # hotel guests' reviews (TipDM Cup 2021, Guangdong, 2020)
}

MIN_CHARS = 8


def split_of(text: str) -> int:
    """0-9 by the md5 rule; 0-2 is the hold-out part."""
    return int(hashlib.md5(text.encode("utf-8")).hexdigest()[:8], 16) % 10


def is_holdout(text: str) -> bool:
    return split_of(text) <= 2


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def read_jd(path: Path) -> list[str]:
    """JD review export: a CSV with a 评论内容 column (some bytes are broken: dropped)."""
    raw = path.read_bytes().decode("utf-8-sig", errors="ignore")
    return [_clean(r.get("评论内容") or "") for r in csv.DictReader(io.StringIO(raw))]


def read_absa(path: Path) -> list[str]:
    """ABSA APC file: three lines per aspect (sentence with $T$, aspect, polarity); the
    sentence is written one character per space-separated token."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    for i in range(0, len(lines) - 2, 3):
        sent = lines[i].replace("$T$", lines[i + 1].strip())
        # the characters were joined with spaces; Latin words keep a space between them
        sent = re.sub(r"(?<=[^A-Za-z0-9]) | (?=[^A-Za-z0-9])", "", sent.strip())
        out.append(_clean(sent))
    return out


def _decode(raw: bytes) -> str:
    """UTF-8 or GB18030 as nlp.textio reads complaint files; a scraped file that is neither keeps
    what decodes (its few broken characters are dropped, not the file)."""
    try:
        return textio_decode(raw)
    except InputError:
        return raw.decode("utf-8", errors="ignore")


def _unstar(text: str) -> str:
    """The source masked hotel names as ``**`` (住**酒店): dropped, so that a star is never
    learned as a sign of tourism (the project's own masking writes stars into every industry)."""
    return _clean(re.sub(r"\*+", "", text))


def read_tipdm(path: Path) -> list[str]:
    """TipDM hotel reviews: a CSV (GB18030 or UTF-8) with a 评论内容 column."""
    rows = csv.DictReader(io.StringIO(_decode(path.read_bytes())))
    return [_unstar(r.get("评论内容") or "") for r in rows]


def read_scores(paths: list[Path]) -> dict[str, float]:
    """text -> the source's own sentiment score (``emotional_value`` of the TipDM analysis files)."""
    out: dict[str, float] = {}
    for path in paths:
        for r in csv.DictReader(io.StringIO(_decode(path.read_bytes()))):
            try:
                out.setdefault(_unstar(r.get("评论内容") or ""), float(r["emotional_value"]))
            except (KeyError, ValueError):
                continue
    return out


READERS = {"jd_phone": read_jd, "tipdm_hotel": read_tipdm}


def read_source(name: str, path: Path) -> list[str]:
    return (READERS.get(name) or read_absa)(path)


def build(pairs: list[tuple[str, Path]], holdout_per_source: int = 150) -> tuple[list[dict], list[dict]]:
    from nlp.pii import mask_text

    seen: set[str] = set()
    train: list[dict] = []
    hold: dict[str, list[dict]] = {}
    for name, path in pairs:
        industry = SOURCES[name]
        for text in read_source(name, path):
            if len(text) < MIN_CHARS or text in seen or mask_text(text) != text:
                continue
            seen.add(text)
            row = {"text": text, "industry": industry, "source": name}
            (hold.setdefault(name, []) if is_holdout(text) else train).append(row)
    holdout: list[dict] = []
    for name, rows in hold.items():
        # a fixed, spread-out sample: the rows whose md5 is smallest
        rows.sort(key=lambda r: hashlib.md5(r["text"].encode("utf-8")).hexdigest())
        holdout.extend(rows[:holdout_per_source])
    return train, holdout


def negatives(rows: list[dict], scores: dict[str, float], n: int = 300) -> list[str]:
    """Hold-out texts the source scored negative (score < 0), the ``n`` with the smallest md5."""
    neg = sorted((r["text"] for r in rows if is_holdout(r["text"]) and scores.get(r["text"], 0.0) < 0),
                 key=lambda t: hashlib.md5(t.encode("utf-8")).hexdigest())
    return neg[:n]


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m nlp.build_industry_realdata",
        description="Split public real texts (one industry per source, see SOURCES) into the "
                    "industry classifier's training part (md5 mod 10 = 3-9) and hold-out part (0-2).",
        epilog="sources: " + ", ".join(f"{k} -> {v}" for k, v in SOURCES.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("pairs", nargs="+", metavar="SOURCE=FILE", help="a source name and its file")
    p.add_argument("--train-out", required=True, help="JSONL of the training texts")
    p.add_argument("--holdout-out", required=True, help="JSONL of the hold-out sample")
    p.add_argument("--holdout-per-source", type=int, default=150, help="hold-out texts kept per source")
    p.add_argument("--negative-scores", nargs="+", default=[], metavar="CSV",
                   help="the source's per-text sentiment scores (emotional_value); with --negative-out")
    p.add_argument("--negative-out", help="one a line: hold-out texts the source scored negative")
    p.add_argument("--negatives", type=int, default=300, help="negative hold-out texts kept (default 300)")
    a = p.parse_args(argv)
    if bool(a.negative_scores) != bool(a.negative_out):
        p.error("--negative-scores and --negative-out go together")
    pairs = []
    for s in a.pairs:
        name, _, file = s.partition("=")
        if name not in SOURCES or not file:
            p.error(f"{s!r}: expected SOURCE=FILE with SOURCE one of {', '.join(SOURCES)}")
        pairs.append((name, Path(file)))
    train, holdout = build(pairs, a.holdout_per_source)
    _write(Path(a.train_out), train)
    _write(Path(a.holdout_out), holdout)
    if a.negative_out:
        rows = [{"text": _unstar(t)} for name, path in pairs for t in read_source(name, path)]
        # the same texts as build() kept (length, no personal data, once), hold-out part only
        from nlp.pii import mask_text
        kept = [r for r in rows if len(r["text"]) >= MIN_CHARS and mask_text(r["text"]) == r["text"]]
        uniq = list({r["text"]: r for r in kept}.values())
        neg = negatives(uniq, read_scores([Path(f) for f in a.negative_scores]), a.negatives)
        Path(a.negative_out).write_text("".join(t + "\n" for t in neg), encoding="utf-8")
        print(f"negative hold-out {len(neg)} -> {a.negative_out}", file=sys.stderr)
    print(f"training {len(train)} texts -> {a.train_out}; hold-out {len(holdout)} -> {a.holdout_out}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
