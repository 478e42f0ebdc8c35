"""``python -m alerts replay DIR --out ALERTS_DIR``: the stream's surge detector over a past year.

Reads ``DIR/series/*.csv`` (``timestamp,count``; local time; hourly, finer rows are summed
into their hour; a header is optional), named ``<6-digit code>-<industry>.csv`` for a
district x an industry, ``<code>-all.csv`` for a district's total (all industries, those
without a file of their own included) and ``<province>-all.csv`` for the province's total.
The files become the hourly tallies the stream keeps (``district|industry|…`` fields): each
district x industry file as its own field; what a district's total has beyond its
industries' files as an "other industry" field of that district; what the province's total
has beyond its districts as a field of the province itself.  Then the very detector of the
stream (:class:`alerts.live.LiveDetector`, ``config/alerts.yaml``'s ``detection:`` settings:
thresholds per level, windows, warm-up, hold, the suppression of an aggregate while a
series inside it alarms) runs over them hour by hour: each hour is scored once complete
(the last tick of the hour) and then learned, as the stream does.

One alert per episode, as the alert store keeps it: a detection opens an alert on its
series unless one is open; the alert stays open while the series keeps alarming (the
scan's hold), and after it closes the series raises nothing for ``cooldown``
(``config/alerts.yaml``, 6 h).  Each alert is one JSON line in
``ALERTS_DIR/<series file stem>.jsonl`` when it opens: ``timestamp`` (the hour it opened
in), ``observed``, ``expected`` and ``score`` of the scan's window, with ``series``,
``level``, ``since`` and ``window_hours``.  Series the stream watches without a file of
their own (a city, a city x industry) are named the same way: ``140400-all``,
``140400-食品``.  A summary line per file goes to stderr.
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from alerts.live import ALL, LiveDetector, SeriesIndex, hour_floor

__all__ = ["read_hourly", "load_dir", "replay", "series_stem", "write_dataset", "main"]

_NAME = re.compile(r"^(\d{6})-(.+)$")
OTHER = "其他"          # the industry of a total's remainder (no series of its own)


class ReplayError(Exception):
    """A one-line, user-facing problem with the input directory."""


def read_hourly(path: Path) -> dict[datetime, int]:
    """Counts per hour of a ``timestamp,count`` CSV (rows of one hour summed; header optional)."""
    from alerts.detect import _parse_time

    out: dict[datetime, int] = defaultdict(int)
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for lineno, row in enumerate(csv.reader(fh), start=1):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) < 2:
                raise ReplayError(f"{path}:{lineno}: expected timestamp,count")
            try:
                at = _parse_time(row[0])
            except ValueError as exc:
                if lineno == 1:
                    continue                      # header
                raise ReplayError(f"{path}:{lineno}: {exc}") from None
            text = row[1].strip()
            if not text.isdigit():
                raise ReplayError(f"{path}:{lineno}: count must be a non-negative integer, got {text!r}")
            if at.tzinfo is not None:
                at = at.replace(tzinfo=None)      # local time, as written
            out[hour_floor(at)] += int(text)
    return dict(out)


def series_stem(series_key: str) -> str:
    """``county:140403:食品`` -> ``140403-食品``; ``city:140400:*`` -> ``140400-all``."""
    _, district, industry = series_key.split(":", 2)
    return f"{district}-{'all' if industry == ALL else industry}"


def load_dir(directory: Path, province: str) -> tuple[list[datetime], list[dict], dict[str, str]]:
    """The hours covered and one tally dict per hour (``district|industry|replay|file`` -> count).

    Also returns the files read, stem -> path."""
    files = sorted((directory / "series").glob("*.csv"))
    if not files:
        raise ReplayError(f"no {directory / 'series'}/*.csv")
    cells: dict[tuple[str, str], dict[datetime, int]] = {}
    totals: dict[str, dict[datetime, int]] = {}
    names: dict[str, str] = {}
    for f in files:
        m = _NAME.match(f.stem)
        if not m:
            raise ReplayError(f"{f.name}: file names are <6-digit code>-<industry>.csv or <code>-all.csv")
        code, industry = m.groups()
        data = read_hourly(f)
        names[f.stem] = str(f)
        if industry == "all":
            totals[code] = data
        else:
            cells[(code, industry)] = data
    hours_seen = set()
    for d in list(cells.values()) + list(totals.values()):
        hours_seen.update(d)
    if not hours_seen:
        raise ReplayError("the series files have no rows")
    first, last = min(hours_seen), max(hours_seen)
    n = int((last - first) / timedelta(hours=1)) + 1
    hours = [first + timedelta(hours=i) for i in range(n)]
    tallies: list[dict] = [dict() for _ in hours]
    pos = {h: i for i, h in enumerate(hours)}
    per_district: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(n, dtype=np.int64))
    for (code, industry), data in cells.items():
        for h, c in data.items():
            if c:
                tallies[pos[h]][f"{code}|{industry}|replay|file"] = c
                per_district[code][pos[h]] += c
    districts_total = np.zeros(n, dtype=np.int64)
    for code, data in totals.items():
        if code == province:
            continue
        arr = np.zeros(n, dtype=np.int64)
        for h, c in data.items():
            arr[pos[h]] += c
        rest = arr - per_district[code]
        for i in np.flatnonzero(rest > 0):
            tallies[i][f"{code}|{OTHER}|replay|file"] = int(rest[i])
        districts_total += np.maximum(arr, per_district[code])
    for code, arr in per_district.items():
        if code not in totals:
            districts_total += arr
    if province in totals:
        arr = np.zeros(n, dtype=np.int64)
        for h, c in totals[province].items():
            arr[pos[h]] += c
        rest = arr - districts_total
        for i in np.flatnonzero(rest > 0):
            tallies[i][f"{province}|{OTHER}|replay|file"] = int(rest[i])
    return hours, tallies, names


def replay(hours: list[datetime], tallies: list[dict], detection: dict, industries: list[str], table,
           cooldown_s: float, progress=None) -> dict[str, list[dict]]:
    """Alerts per series stem, each when it opens (see the module doc)."""
    index = SeriesIndex(detection["province"], industries, table)
    live = LiveDetector(index, detection)
    opened = np.zeros(index.n, dtype=bool)
    closed_at = np.full(index.n, -np.inf)
    out: dict[str, list[dict]] = defaultdict(list)
    t0 = time.perf_counter()
    for n, (hour, fields) in enumerate(zip(hours, tallies)):
        now = hour + timedelta(minutes=59, seconds=59)         # the hour's last tick: its full tally
        for det in live.tick(now, fields):
            i = index.pos[det["series"]]
            if opened[i] or hour.timestamp() - closed_at[i] < cooldown_s:
                continue
            opened[i] = True
            out[series_stem(det["series"])].append({
                "timestamp": hour.isoformat(), "observed": det["observed"], "expected": det["expected"],
                "score": det["score"], "series": det["series"], "level": det["level"], "since": det["since"],
                "window_hours": det["window_hours"]})
        live.commit(hour, fields)
        ended = opened & ~live.panel.alarming
        closed_at[ended] = (hour + timedelta(hours=1)).timestamp()
        opened &= live.panel.alarming
        if progress and (n + 1) % 720 == 0:
            progress(f"replay: {n + 1}/{len(hours)} hours ({hour:%Y-%m-%d}), "
                     f"{sum(len(v) for v in out.values())} alerts, {time.perf_counter() - t0:.0f} s")
    return dict(out)


def write_dataset(dataset, directory: Path, province: str = "140000") -> None:
    """An evaluation dataset (:mod:`alerts.synth`, :mod:`alerts.synth2`) as ``DIR/series/*.csv``:
    one file per county x industry, ``<county>-all.csv`` and ``<province>-all.csv``."""
    d = Path(directory) / "series"
    d.mkdir(parents=True, exist_ok=True)
    stamps = [t.strftime("%Y-%m-%dT%H:%M") for t in dataset.times]

    def put(name: str, arr) -> None:
        with open(d / f"{name}.csv", "w", encoding="utf-8") as fh:
            fh.write("timestamp,count\n")
            fh.writelines(f"{t},{int(c)}\n" for t, c in zip(stamps, arr))

    by_county: dict[str, list[int]] = defaultdict(list)
    for i, (code, industry) in enumerate(dataset.series_keys):
        put(f"{code}-{industry}", dataset.counts[i])
        by_county[code].append(i)
    for code, rows in by_county.items():
        put(f"{code}-all", dataset.counts[rows].sum(axis=0))
    put(f"{province}-all", dataset.counts.sum(axis=0))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m alerts replay",
        description="Run the stream's surge detector (config/alerts.yaml detection:) hour by hour over "
                    "DIR/series/*.csv (timestamp,count; <code>-<industry>.csv, <code>-all.csv, "
                    "<province>-all.csv) and write ALERTS_DIR/<name>.jsonl: one JSON line per alert when it "
                    "opens (timestamp, observed, expected, score).")
    p.add_argument("dir", metavar="DIR", help="a directory with a series/ folder of CSV files")
    p.add_argument("--out", required=True, metavar="ALERTS_DIR", help="where the <name>.jsonl files go")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    a = p.parse_args(argv)
    from alerts.config import default_alert_config
    from config import settings
    from config.divisions import divisions

    say = (lambda m: None) if a.quiet else (lambda m: print(m, file=sys.stderr, flush=True))  # noqa: E731
    cfg = default_alert_config()
    det = cfg.detection
    try:
        hours, tallies, names = load_dir(Path(a.dir), det["province"])
    except (ReplayError, OSError, UnicodeDecodeError, csv.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    industries = list(settings().complaints.industries)
    say(f"replay: {len(names)} files, {len(hours)} hours from {hours[0]:%Y-%m-%d %H:00} "
        f"to {hours[-1]:%Y-%m-%d %H:00}; province {det['province']}, thresholds {det['threshold']}")
    t0 = time.perf_counter()
    alerts = replay(hours, tallies, det, industries, divisions(), cfg.cooldown.total_seconds()
                    if hasattr(cfg.cooldown, "total_seconds") else float(cfg.cooldown), progress=say)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    for stem in sorted(set(alerts) | set(names)):
        rows = alerts.get(stem, [])
        if not rows and stem not in names:
            continue
        with open(out / f"{stem}.jsonl", "w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    total = sum(len(v) for v in alerts.values())
    days = len(hours) / 24
    say(f"replay: {total} alerts ({total / max(days, 1e-9):.2f} a day) in {len(alerts)} series, "
        f"{time.perf_counter() - t0:.1f} s; written to {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
