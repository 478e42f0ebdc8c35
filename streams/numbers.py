"""Numbers as they are stored and shown: pure, no I/O.

An alert's expected (usual) count can be tiny: a county's 药品 complaints in a quiet hour are
expected at 0.0012. Rounded to two decimals that is 0.0, and the screens said 常态 0 beside a
surge score that only makes sense against a small positive count. :func:`significant` keeps three
significant digits of a small number and never fewer decimals than before for a large one;
:func:`usual_text` writes it for a zh-CN screen.
"""
from __future__ import annotations

import math

__all__ = ["significant", "usual_text"]


def significant(x: float, digits: int = 3, min_decimals: int = 2) -> float:
    """``x`` rounded to ``digits`` significant digits, or to ``min_decimals`` decimals when that
    keeps more (a count of thousands keeps its decimals: 9257.734 -> 9257.73).

    >>> significant(0.0012345), significant(0.04567), significant(4.2567), significant(9257.734)
    (0.00123, 0.0457, 4.26, 9257.73)
    >>> significant(0.0)
    0.0
    """
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return x
    decimals = digits - 1 - math.floor(math.log10(abs(x)))
    return round(x, max(min_decimals, decimals))


def usual_text(x) -> str:
    """An expected count for a screen: one decimal from 1 up (4.2, 9257.7), two significant digits
    below (0.04, 0.0012), "<0.001" below that, "0" for none; "" for no number.

    >>> [usual_text(v) for v in (9257.734, 4.25, 0.957, 0.0457, 0.00123, 0.0004, 0, None)]
    ['9257.7', '4.2', '0.96', '0.046', '0.0012', '<0.001', '0', '']
    """
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        return ""
    if x == 0:
        return "0"
    if abs(x) >= 0.995:
        return f"{x:.1f}"
    if abs(x) < 0.001:
        return "<0.001"
    return f"{significant(x, 2, 0):f}".rstrip("0")
