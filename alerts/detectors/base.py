"""What every surge detector returns, and the checks they share.

A detector is a small object fed one count at a time (river's ``learn_one`` /
``score_one`` folded into one ``update``).  It *scores* each step (``score`` and
``expected``) and the decision is kept apart: ``alarm = score >= threshold``, and never
during the warm-up (``grace_period`` observations).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

__all__ = ["Score", "Detector", "check_count", "positive_int", "positive_float"]


@dataclass(frozen=True)
class Score:
    """One step of a detector.

    Parameters
    ----------
    at
        Time of the step (start of the hour or day), as handed to ``update``.
    observed
        The count seen at ``at``.
    expected
        The detector's expected (in-control) count for this step; ``nan`` while it has
        no baseline yet.
    score
        The detector's statistic (a z-like score, a CUSUM or a log-likelihood ratio);
        0.0 while it has no baseline yet.
    threshold
        The value ``score`` must reach to alarm.
    alarm
        ``score >= threshold`` once the warm-up is over; always False during warm-up.
    """

    at: datetime
    observed: int
    expected: float
    score: float
    threshold: float
    alarm: bool


class Detector:
    """Base class: ``update(count, at) -> Score``.  Subclasses set ``name``."""

    name = "detector"
    threshold: float
    grace_period: int

    def __init__(self) -> None:
        self.n_seen = 0  # observations handed to update so far

    def update(self, count: int, at: datetime) -> Score:  # pragma: no cover - abstract
        raise NotImplementedError

    def _decide(self, at: datetime, observed: int, expected: float, score: float) -> Score:
        """Count the step and turn a score into a ``Score`` (warm-up respected)."""
        self.n_seen += 1
        warm = self.n_seen > self.grace_period
        alarm = bool(warm and math.isfinite(score) and score >= self.threshold)
        return Score(at, observed, float(expected), float(score), float(self.threshold), alarm)


def check_count(count) -> int:
    """A count must be a non-negative integer (``numpy`` integers and integral floats ok)."""
    try:
        value = int(count)
    except (TypeError, ValueError):
        raise ValueError(f"count must be a non-negative integer, got {count!r}") from None
    if value != count or value < 0:
        raise ValueError(f"count must be a non-negative integer, got {count!r}")
    return value


def positive_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def positive_float(name: str, value, minimum: float = 0.0, strict: bool = True) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or (v <= minimum if strict else v < minimum):
        op = ">" if strict else ">="
        raise ValueError(f"{name} must be a finite number {op} {minimum}, got {value!r}")
    return v
