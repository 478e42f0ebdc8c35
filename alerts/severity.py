"""Warning levels (预警等级) 红/橙/黄/蓝 from an alert's numbers: pure, no I/O.

An alert carries its scan score and the bar it crossed (``threshold``), its count in the
alarm window (``observed``) and the usual count (``expected``; ``ratio`` = observed/expected).
The level is the most urgent whose rules the alert meets; a level is met when ANY of its rules
is, a rule when ALL of its conditions are:

    score  the score is at least this many times the bar (score / threshold)
    ratio  observed / expected is at least this
    count  observed is at least this

Rules live in ``config/alerts.yaml`` (``severity:``); an alert meeting no rule is blue (蓝色).

>>> rules = parse_rules(None)
>>> severity_of({"score": 165, "threshold": 7, "observed": 120, "expected": 6}, rules)
'red'
>>> severity_of({"score": 28, "threshold": 7, "observed": 31, "expected": 9}, rules)
'orange'
>>> severity_of({"score": 8, "threshold": 7, "observed": 5, "expected": 2}, rules)
'blue'
>>> LABELS["orange"], TAGS["red"]
('橙色', '红色预警')
"""
from __future__ import annotations

from typing import Mapping

__all__ = ["LEVELS", "LABELS", "TAGS", "COLOURS", "RANK", "DEFAULT_RULES", "SeverityError", "parse_rules",
           "severity_of", "label", "tag", "colour", "urgency_key", "most_urgent"]

# Most urgent first.
LEVELS = ("red", "orange", "yellow", "blue")
RANK = {lv: i for i, lv in enumerate(LEVELS)}
LABELS = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"}
TAGS = {lv: f"{LABELS[lv]}预警" for lv in LEVELS}
# Screen colours (on the dark background).
COLOURS = {"red": "#e53935", "orange": "#fb8c00", "yellow": "#fdd835", "blue": "#1e88e5"}
CONDITIONS = ("score", "ratio", "count")

# A surge the simulator scripts (hundreds an hour into a county that usually has a few) starts
# blue or yellow as it crosses the bar and climbs to orange and red as it grows; a phrase alert
# just over its bar stays blue.
DEFAULT_RULES: dict[str, tuple[dict, ...]] = {
    "red": ({"score": 10, "count": 30}, {"ratio": 5, "count": 50}),
    "orange": ({"score": 4, "count": 15}, {"ratio": 3, "count": 30}),
    "yellow": ({"score": 2, "count": 5}, {"ratio": 2, "count": 10}),
}


class SeverityError(ValueError):
    """A severity rule the system cannot use (names the key)."""


def _number(v) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def parse_rules(raw, where: str = "severity") -> dict[str, tuple[dict, ...]]:
    """The ``severity:`` section checked: {red|orange|yellow: [ {score, ratio, count}, ... ]}.

    A level left out keeps its default; an empty list switches the level off. Blue takes no
    rules (it is what is left)."""
    if raw is None:
        return {k: tuple(dict(r) for r in v) for k, v in DEFAULT_RULES.items()}
    if not isinstance(raw, Mapping):
        raise SeverityError(f"{where}: must be a mapping of red, orange, yellow to lists of rules")
    bad = [k for k in raw if k not in ("red", "orange", "yellow")]
    if bad:
        raise SeverityError(f"{where}: unknown key{'s' if len(bad) > 1 else ''} {', '.join(map(str, bad))} "
                            f"(known: red, orange, yellow; blue is every alert below yellow)")
    out: dict[str, tuple[dict, ...]] = {}
    for lv in ("red", "orange", "yellow"):
        rules = raw.get(lv, DEFAULT_RULES[lv])
        if isinstance(rules, Mapping):
            rules = [rules]
        if not isinstance(rules, (list, tuple)):
            raise SeverityError(f"{where}.{lv}: must be a list of rules such as {{score: 4, count: 15}}")
        checked = []
        for i, rule in enumerate(rules):
            key = f"{where}.{lv}[{i}]"
            if not isinstance(rule, Mapping) or not rule:
                raise SeverityError(f"{key}: a rule is a mapping of score, ratio, count, e.g. {{ratio: 3, count: 20}}")
            unknown = [k for k in rule if k not in CONDITIONS]
            if unknown:
                raise SeverityError(f"{key}: unknown condition {', '.join(map(str, unknown))} (known: score, ratio, count)")
            for k, v in rule.items():
                n = _number(v)
                if n is None or n <= 0:
                    raise SeverityError(f"{key}.{k}: {v!r} must be a number above 0")
            checked.append({k: float(v) for k, v in rule.items()})
        out[lv] = tuple(checked)
    return out


def _facts(alert: Mapping) -> dict[str, float | None]:
    score, thr = _number(alert.get("score")), _number(alert.get("threshold"))
    obs, exp = _number(alert.get("observed")), _number(alert.get("expected"))
    ratio = _number(alert.get("ratio"))
    if ratio is None and obs is not None and exp is not None and exp > 0:
        ratio = obs / exp
    return {"score": score / thr if score is not None and thr and thr > 0 else None, "ratio": ratio, "count": obs}


def _meets(facts: Mapping, rule: Mapping) -> bool:
    return all(facts.get(k) is not None and facts[k] >= v for k, v in rule.items())


def severity_of(alert: Mapping, rules: Mapping | None = None) -> str:
    """'red' | 'orange' | 'yellow' | 'blue' for an alert (a dict as the store keeps it)."""
    rules = parse_rules(None) if rules is None else rules
    facts = _facts(alert)
    for lv in ("red", "orange", "yellow"):
        if any(_meets(facts, r) for r in rules.get(lv, ())):
            return lv
    return "blue"


def _level(alert_or_level) -> str:
    lv = alert_or_level.get("severity") if isinstance(alert_or_level, Mapping) else alert_or_level
    return lv if lv in RANK else "blue"


def label(alert_or_level) -> str:
    """红色 / 橙色 / 黄色 / 蓝色."""
    return LABELS[_level(alert_or_level)]


def tag(alert_or_level) -> str:
    """红色预警 / 橙色预警 / 黄色预警 / 蓝色预警."""
    return TAGS[_level(alert_or_level)]


def colour(alert_or_level) -> str:
    return COLOURS[_level(alert_or_level)]


def urgency_key(alert: Mapping) -> tuple:
    """Sort key, most urgent first: severity, then score, then the newest opened."""
    opened = str(alert.get("opened_at") or "")
    # newest first: invert the ISO text's characters so that a plain ascending sort works
    inv = tuple(-ord(ch) for ch in opened)
    return (RANK[_level(alert)], -(_number(alert.get("score")) or 0.0), inv)


def most_urgent(alerts) -> tuple[dict | None, int]:
    """(the most urgent alert, how many others) of a list of open alerts."""
    alerts = list(alerts)
    if not alerts:
        return None, 0
    return min(alerts, key=urgency_key), len(alerts) - 1
