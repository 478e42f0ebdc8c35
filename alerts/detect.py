"""Step alarms into surge episodes, and ``python -m alerts detect FILE.csv``.

A detector alarms on every step that looks out of control, so one surge gives a run of
alarms, sometimes with gaps.  ``episodes`` turns them into one episode per surge: it
opens at the first alarm and stays open while alarms continue or come back within
``cooldown`` steps of the last one.  The CLI prints one JSON line per episode, when it
opens (what a duty officer would be paged with).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Iterator

from alerts.detectors import C1, C2, C3, Detector, NBCusum, Score, Seasonal, ShareScan

__all__ = ["Episode", "EpisodeTracker", "episodes", "make_detector", "read_counts", "main",
           "METHODS", "FREQS"]

METHODS = ("share", "c1", "c2", "c3", "cusum", "seasonal")
FREQS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
DEFAULT_METHOD = "share"  # the winner of `make eval-alerts` (README)
DEFAULT_COOLDOWN = {"hour": 6, "day": 2}


@dataclass(frozen=True)
class Episode:
    """One surge: the step that opened it, and when its last alarm was.

    ``observed``, ``expected`` and ``score`` are those of the opening step;
    ``peak_score`` the largest score of its alarming steps, ``alarms`` their number.
    """

    opened_at: datetime
    observed: int
    expected: float
    score: float
    closed_at: datetime
    peak_score: float
    alarms: int


class EpisodeTracker:
    """Streaming form of :func:`episodes`: ``push`` each ``Score`` in time order.

    ``push`` returns the new ``Episode`` when an alarm opens one, else None;
    ``closed`` holds the finished episodes and ``finish()`` closes the open one.
    """

    def __init__(self, cooldown: int = 0) -> None:
        if isinstance(cooldown, bool) or not isinstance(cooldown, int) or cooldown < 0:
            raise ValueError(f"cooldown must be an integer >= 0, got {cooldown!r}")
        self.cooldown = cooldown
        self.closed: list[Episode] = []
        self._open: Episode | None = None
        self._step = -1
        self._last_alarm = -1

    def push(self, score: Score) -> Episode | None:
        self._step += 1
        ep = self._open
        if not score.alarm:
            if ep is not None and self._step - self._last_alarm > self.cooldown:
                self.closed.append(ep)
                self._open = None
            return None
        self._last_alarm = self._step
        if ep is not None:
            self._open = Episode(ep.opened_at, ep.observed, ep.expected, ep.score, score.at,
                                 max(ep.peak_score, score.score), ep.alarms + 1)
            return None
        self._open = Episode(score.at, score.observed, score.expected, score.score, score.at,
                             score.score, 1)
        return self._open

    def finish(self) -> list[Episode]:
        if self._open is not None:
            self.closed.append(self._open)
            self._open = None
        return self.closed


def episodes(scores: Iterable[Score], cooldown: int) -> list[Episode]:
    """Merge step alarms into surge episodes.

    Parameters
    ----------
    scores
        A detector's scores, one per step, in time order (steps without alarm count too:
        the cooldown is measured in steps).
    cooldown
        An alarm within ``cooldown`` steps after the last alarm of an open episode
        extends it; 0 merges only back-to-back alarms.

    Examples
    --------
    >>> from datetime import datetime
    >>> def s(i, alarm):
    ...     return Score(datetime(2024, 3, 15, i), 9 if alarm else 1, 1.0, 5.0 if alarm else 0.0, 3.0, alarm)
    >>> flags = [0, 1, 1, 0, 1, 0, 0, 0, 1, 0]
    >>> [(e.opened_at.hour, e.closed_at.hour, e.alarms) for e in episodes([s(i, f) for i, f in enumerate(flags)], 1)]
    [(1, 4, 3), (8, 8, 1)]
    >>> len(episodes([s(i, f) for i, f in enumerate(flags)], 0))
    3
    """
    tracker = EpisodeTracker(cooldown)
    for score in scores:
        tracker.push(score)
    return tracker.finish()


def make_detector(method: str, freq: str = "hour") -> Detector:
    """The detector ``python -m alerts detect`` runs for a method and a step size."""
    if freq not in FREQS:
        raise ValueError(f"freq must be one of {sorted(FREQS)}, got {freq!r}")
    hourly = freq == "hour"
    if method in ("c1", "c2", "c3"):
        return {"c1": C1, "c2": C2, "c3": C3}[method](period=24 if hourly else 1)
    if method == "cusum":
        return NBCusum(period=24 if hourly else 1)
    if method == "seasonal":
        return Seasonal(period=168, b=4, w=2) if hourly else Seasonal(period=7, b=8, w=0)
    if method == "share":
        from alerts.config import default_alert_config

        d = default_alert_config().detection
        if hourly:
            return ShareScan(h=d["threshold"]["county"], windows=d["windows"], min_count=d["min_count"],
                             halflife=d["halflife_s"] / 3600, grace_period=int(d["grace_s"] // 3600))
        return ShareScan(h=d["threshold"]["county"], windows=(1, 2, 3, 5, 7, 14), min_count=d["min_count"],
                         halflife=d["halflife_s"] / 86400, grace_period=28, period=1)
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


class InputError(Exception):
    """A one-line, user-facing problem with the input file."""


_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")


def _parse_time(text: str) -> datetime:
    text = text.strip()
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            pass
    raise ValueError(f"bad timestamp {text!r}")


def _floor(at: datetime, freq: str) -> datetime:
    at = at.replace(minute=0, second=0, microsecond=0)
    return at.replace(hour=0) if freq == "day" else at


def read_counts(path: str, freq: str = "hour") -> list[tuple[datetime, int]]:
    """``timestamp,count`` rows of a CSV as one (step, count) per step, gaps filled with 0.

    Timestamps are local time (ISO 8601, or ``YYYY/MM/DD[ HH:MM[:SS]]``), floored to the
    hour or day, strictly increasing; a header line is optional.  Raises ``InputError``
    naming the line of the first bad row.  A third column (the parent's count, see
    :func:`read_series`) is read and dropped.
    """
    return [(at, c) for at, c, _ in read_series(path, freq)]


def read_series(path: str, freq: str = "hour") -> list[tuple[datetime, int, int | None]]:
    """As :func:`read_counts`, keeping an optional third column ``parent``: the count of the
    whole province (or any area the series is part of) in the same step, which the share
    scan compares the series with.  Steps without a row get 0 and 0."""
    step = FREQS[freq]
    rows: list[tuple[datetime, int, int | None]] = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            for lineno, row in enumerate(csv.reader(fh), start=1):
                if not row or all(not cell.strip() for cell in row):
                    continue
                where = f"{path}:{lineno}"
                if len(row) not in (2, 3):
                    raise InputError(f"{where}: expected 2 or 3 fields timestamp,count[,parent], got {len(row)}")
                try:
                    at = _parse_time(row[0])
                except ValueError as exc:
                    if not rows and lineno == 1:
                        continue  # header
                    raise InputError(f"{where}: {exc}") from None
                text = row[1].strip()
                if not text.isdigit():
                    raise InputError(f"{where}: count must be a non-negative integer, got {text!r}")
                parent = None
                if len(row) == 3:
                    ptext = row[2].strip()
                    if not ptext.isdigit() or int(ptext) < int(text):
                        raise InputError(f"{where}: parent must be a whole number at least the count, got {ptext!r}")
                    parent = int(ptext)
                if rows and (parent is None) != (rows[-1][2] is None):
                    raise InputError(f"{where}: every row needs the parent column, or none")
                at = _floor(at, freq)
                if rows:
                    prev = rows[-1][0]
                    if (at.tzinfo is None) != (prev.tzinfo is None):
                        raise InputError(f"{where}: mixes timestamps with and without a UTC offset")
                    if at <= prev:
                        raise InputError(f"{where}: timestamp {row[0].strip()!r} is not after the "
                                         f"previous row's {freq} ({prev.isoformat()})")
                    while prev + step < at:  # no row: no complaints in that step
                        prev += step
                        rows.append((prev, 0, None if parent is None else 0))
                rows.append((at, int(text), parent))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    return rows


def detect(rows: Iterable[tuple[datetime, int]], method: str, freq: str,
           cooldown: int) -> Iterator[dict]:
    """The JSON records of the episodes as they open."""
    detector = make_detector(method, freq)
    tracker = EpisodeTracker(cooldown)
    for row in rows:
        at, count = row[0], row[1]
        parent = row[2] if len(row) > 2 else None
        if parent is not None and method == "share":
            opened = tracker.push(detector.update(count, at, parent=parent))
        else:
            opened = tracker.push(detector.update(count, at))
        if opened is not None:
            yield {"timestamp": opened.opened_at.isoformat(), "observed": opened.observed,
                   "expected": None if math.isnan(opened.expected) else round(opened.expected, 3),
                   "score": round(opened.score, 3), "method": method}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m alerts detect",
        description="Find surges in a series of complaint counts (CSV timestamp,count[,parent]; "
                    "local time; header optional; missing steps count 0). Prints one JSON line "
                    "per surge episode when it opens: timestamp, observed, expected, score, "
                    "method. The default share scan compares the series with its parent (e.g. the "
                    "province's count in the same step) when the third column is there, else with "
                    "the same hour of the week in its own past.")
    parser.add_argument("file", metavar="FILE.csv")
    parser.add_argument("--method", choices=METHODS, default=DEFAULT_METHOD,
                        help=f"detector (default {DEFAULT_METHOD})")
    parser.add_argument("--freq", choices=tuple(FREQS), default="hour",
                        help="step of the series (default hour)")
    parser.add_argument("--cooldown", type=int, default=None, metavar="STEPS",
                        help="alarms within this many steps of the last one belong to the same "
                             "episode (default: 6 hours / 2 days)")
    args = parser.parse_args(argv)
    cooldown = DEFAULT_COOLDOWN[args.freq] if args.cooldown is None else args.cooldown
    if cooldown < 0:
        parser.error("--cooldown must be >= 0")
    try:
        rows = read_series(args.file, args.freq)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        for record in detect(rows, args.method, args.freq, cooldown):
            print(json.dumps(record, ensure_ascii=False), flush=True)
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
