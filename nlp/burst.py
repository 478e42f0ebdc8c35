"""Hot means rising: each topic's count against its own baseline. Pure functions.

A topic's *expected* count in the current window comes from its counts in the baseline windows
(for an hour: the same hour on the previous days; for a day or a week: the previous ones),
their mean, floored at ``UNSEEN`` (0.5): a topic absent from the baseline is assumed to occur up
to once every two windows, because among thousands of rare phrases many are absent from a week
of baseline only by chance (a tiny floor made every rare phrase said four times "rising"). If the whole window is busier or quieter than usual (a holiday,
a quiet night), expectations are scaled by the *median* ratio observed/expected of the
established topics (expected ≥ 2, at least five of them); a median, so that one surging topic
cannot raise its own bar.

The *score* is how surprising the observed count is for a Poisson count with that
expectation: ``-log10 P(X >= observed)``. Perennial words (质量, 退款) expect much and score low
however often they occur; 衣服掉色 at one mall expects next to nothing and scores high.

A topic is *rising* when its score reaches ``rising_score`` (2.5, p < 0.003) and also
``log10(topics tested / family_alpha)``: with thousands of topics in a province's hour, some
rare phrase turns up four times by chance; the family threshold keeps the expected number of
such false "rising" topics per window at about ``family_alpha`` (0.05), a Bonferroni bound.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

VOLUME_CLIP = (0.5, 3.0)
ESTABLISHED = 2.0      # expected count from which a topic tells about overall volume
MIN_ESTABLISHED = 5
UNSEEN = 0.5


@dataclass
class Burst:
    topic: str
    observed: int
    expected: float
    score: float
    rising: bool
    trend: list[int] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)


def expected_counts(baselines: Sequence[Mapping[str, int]], topics) -> dict[str, float]:
    n = len(baselines)
    return {t: max(sum(b.get(t, 0) for b in baselines) / n if n else 0.0, UNSEEN) for t in topics}


def volume_ratio(observed: Mapping[str, int], expected: Mapping[str, float]) -> float:
    """How much busier this window is than usual, judged by the established topics."""
    ratios = [observed.get(t, 0) / e for t, e in expected.items() if e >= ESTABLISHED]
    if len(ratios) < MIN_ESTABLISHED:
        return 1.0
    lo, hi = VOLUME_CLIP
    return min(hi, max(lo, statistics.median(ratios)))


def poisson_surprise(observed: int, lam: float) -> float:
    """-log10 P(X >= observed) for X ~ Poisson(lam); 0 when observed <= lam."""
    if observed <= lam:
        return 0.0
    term = math.exp(-lam + observed * math.log(lam) - math.lgamma(observed + 1))
    total, k = 0.0, observed
    while term > 1e-300 and (total == 0.0 or term > total * 1e-12) and k < observed + 10_000:
        total += term
        k += 1
        term *= lam / k
    if total <= 0.0:  # underflow: use the leading term's logarithm
        return (lam - observed * math.log(lam) + math.lgamma(observed + 1)) / math.log(10)
    return -math.log10(min(1.0, total))


def rising_threshold(tested: int, rising_score: float = 2.5, family_alpha: float = 0.05) -> float:
    return max(rising_score, math.log10(max(tested, 1) / family_alpha))


def burst_scores(observed: Mapping[str, int], baselines: Sequence[Mapping[str, int]], *,
                 min_count: int = 3, rising_score: float = 2.5, family_alpha: float = 0.05) -> list[Burst]:
    """Every topic observed at least ``min_count`` times, most surprising first."""
    topics = set(observed)
    for b in baselines:
        topics.update(b)
    expected = expected_counts(baselines, topics)
    ratio = volume_ratio(observed, expected)
    tested = [(t, o) for t, o in observed.items() if o >= min_count]
    bar = rising_threshold(len(tested), rising_score, family_alpha)
    out = []
    for topic, o in tested:
        e = expected[topic] * ratio
        score = poisson_surprise(o, e)
        out.append(Burst(topic, o, round(e, 2), round(score, 2), score >= bar))
    out.sort(key=lambda b: (-b.score, -b.observed, b.topic))
    return out
