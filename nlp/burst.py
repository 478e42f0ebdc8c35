"""Hot means rising: each topic's count against its own baseline. Pure functions.

A topic's *expected* count in the current window is its mean count over the baseline windows
(for an hour: the same hour on the previous days; for a day or a week: the previous ones),
scaled by how busy the current window is compared with the baseline (clipped, so a surge of
one topic does not inflate every other topic's expectation much). The *score* is a
Poisson-style z-score, ``(observed - expected) / sqrt(expected + 1)``; the +1 keeps a topic
that was never seen before from scoring infinity on its first two mentions. Perennial words
(质量, 退款) have large expectations and so score low however often they occur.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

VOLUME_CLIP = (0.5, 3.0)


@dataclass
class Burst:
    topic: str
    observed: int
    expected: float
    score: float
    rising: bool
    trend: list[int] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)


def volume_ratio(current_docs: int, baseline_docs: Sequence[int]) -> float:
    base = sum(baseline_docs) / len(baseline_docs) if baseline_docs else 0.0
    if base <= 0:
        return 1.0
    lo, hi = VOLUME_CLIP
    return min(hi, max(lo, current_docs / base))


def burst_scores(observed: Mapping[str, int], baselines: Sequence[Mapping[str, int]], current_docs: int,
                 baseline_docs: Sequence[int], *, min_count: int = 3, rising_score: float = 3.0) -> list[Burst]:
    """Every topic observed at least ``min_count`` times, highest score first."""
    n = len(baselines)
    ratio = volume_ratio(current_docs, baseline_docs)
    out = []
    for topic, o in observed.items():
        if o < min_count:
            continue
        mean = sum(b.get(topic, 0) for b in baselines) / n if n else 0.0
        e = mean * ratio
        score = (o - e) / math.sqrt(e + 1.0)
        out.append(Burst(topic, o, round(e, 2), round(score, 2), score >= rising_score))
    out.sort(key=lambda b: (-b.score, -b.observed, b.topic))
    return out
