"""Surge detectors (alerts/detectors), episodes and ``python -m alerts detect``.

False-alarm bounds are computed, not guessed:

* EARS C1/C2 on normal data: ``(x - mean) / s`` times ``sqrt(7/8)`` is Student t with 6
  degrees of freedom, so P(C >= 3) = P(T6 >= 3 / sqrt(8/7)); flooring the sd only lowers
  scores.  C3 >= 2 needs one of its three C2 values >= 5/3 (union bound).
* CUSUM: a likelihood-ratio CUSUM with a known mean runs at least ``exp(h)`` steps to a
  false alarm, so its alarm rate is at most ``exp(-h)``.
* Seasonal: the one-sided normal tail of its threshold on the 2/3-power scale.
* Ceiling: each window's one-sided Poisson GLR reaches h with probability <= exp(-h)
  (Chernoff), so a step alarms with probability <= W * exp(-h).

Each test allows three binomial standard errors above the bound.
"""
from __future__ import annotations

import doctest
import importlib
import math
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from alerts.detect import Episode, EpisodeTracker, episodes, make_detector, read_counts
from alerts.detectors import C1, C2, C3, Ceiling, NBCusum, Score, Seasonal

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2024, 3, 4)  # a Monday
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


# --- helpers -------------------------------------------------------------------------

def t_tail(c: float, nu: int) -> float:
    """P(T_nu >= c) for Student's t, by numerical integration (no scipy)."""
    x = np.linspace(c, c + 400.0, 400_001)
    dens = (math.gamma((nu + 1) / 2) / (math.sqrt(nu * math.pi) * math.gamma(nu / 2))
            * (1 + x ** 2 / nu) ** (-(nu + 1) / 2))
    return float(np.sum((dens[1:] + dens[:-1]) / 2 * np.diff(x)))


def normal_tail(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2))


def with_slack(p: float, n: int) -> float:
    return p + 3 * math.sqrt(p * (1 - p) / n)


def daily_rhythm(level: float, days: int) -> np.ndarray:
    """Hourly means with a daily rhythm (quiet nights, busy afternoons)."""
    hour = np.arange(24)
    return np.tile(level * (1 + 0.8 * np.sin(2 * np.pi * (hour - 8) / 24)), days)


def run(det, counts, step=HOUR, **kw):
    return [det.update(int(c), T0 + i * step, **kw) for i, c in enumerate(counts)]


def false_alarm_rate(make, means, seeds=range(3), with_truth=False):
    alarms = steps = 0
    for seed in seeds:
        det = make()
        counts = np.random.default_rng(seed).poisson(means)
        for i, c in enumerate(counts):
            kw = {"true_mean": float(means[i])} if with_truth else {}
            s = det.update(int(c), T0 + i * HOUR, **kw)
            if det.n_seen > det.grace_period:
                alarms += s.alarm
                steps += 1
    return alarms / steps, steps


# --- doctests ------------------------------------------------------------------------

@pytest.mark.parametrize("module", ["alerts.detectors.ears", "alerts.detectors.cusum",
                                    "alerts.detectors.seasonal", "alerts.detectors.ceiling",
                                    "alerts.detect"])
def test_doctests(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


# --- false alarms on a stationary series with a daily rhythm ---------------------------

C_BOUND = t_tail(3 / math.sqrt(8 / 7), 6)                 # ~0.0155
C3_BOUND = 3 * t_tail((5 / 3) / math.sqrt(8 / 7), 6)


def test_t_tail_is_right():
    assert t_tail(0.0, 6) == pytest.approx(0.5, abs=1e-6)
    assert t_tail(1.943, 6) == pytest.approx(0.05, abs=2e-4)   # t table, 6 df, 95 %
    assert 0.014 < C_BOUND < 0.017


@pytest.mark.parametrize("make, bound", [
    (lambda: C1(period=24), C_BOUND),
    (lambda: C2(period=24), C_BOUND),
    (lambda: C3(period=24), C3_BOUND),
    (lambda: NBCusum(period=24), math.exp(-5.0)),
    (lambda: Seasonal(), normal_tail(3.0)),
], ids=["c1", "c2", "c3", "cusum", "seasonal"])
def test_quiet_on_stationary_poisson(make, bound):
    rate, n = false_alarm_rate(make, daily_rhythm(10.0, 7 * 8))
    assert rate <= with_slack(bound, n), (rate, bound)


def test_ceiling_quiet_on_stationary_poisson_and_nb():
    means = daily_rhythm(3.0, 14)
    rate, n = false_alarm_rate(lambda: Ceiling(), means, with_truth=True)
    assert rate <= with_slack(6 * math.exp(-7.0), n)
    # negative-binomial counts (size 2) scored with the right r stay quiet too
    rng = np.random.default_rng(0)
    r = 2.0
    counts = rng.negative_binomial(r, r / (r + means))
    det = Ceiling(r=r)
    alarms = [det.update(int(c), T0 + i * HOUR, true_mean=float(m)).alarm
              for i, (c, m) in enumerate(zip(counts, means))]
    assert np.mean(alarms) <= with_slack(6 * math.exp(-7.0), len(alarms))


def test_cusum_nb_quiet_on_overdispersed_counts():
    r = 5.0
    means = daily_rhythm(10.0, 7 * 8)
    alarms = steps = 0
    for seed in range(3):
        counts = np.random.default_rng(seed).negative_binomial(r, r / (r + means))
        det = NBCusum(period=24, r=r)
        for s in run(det, counts)[det.grace_period:]:
            alarms += s.alarm
            steps += 1
    assert alarms / steps <= with_slack(math.exp(-5.0), steps)


# --- detection of a clear step surge -------------------------------------------------

SURGE_AT = 24 * 7 * 5 + 14          # Friday of week 6, 14:00 (after every warm-up)


@pytest.mark.parametrize("make", [
    lambda: C1(period=24), lambda: C2(period=24), lambda: C3(period=24),
    lambda: NBCusum(period=24), lambda: Seasonal(), lambda: Ceiling(),
], ids=["c1", "c2", "c3", "cusum", "seasonal", "ceiling"])
def test_fires_within_a_few_steps_of_a_surge(make):
    means = daily_rhythm(5.0, 7 * 6 + 1)
    means[SURGE_AT:SURGE_AT + 6] *= 4
    counts = np.random.default_rng(1).poisson(means)
    det = make()
    kw = lambda i: {"true_mean": float(daily_rhythm(5.0, 7 * 6 + 1)[i])} if isinstance(det, Ceiling) else {}
    scores = [det.update(int(c), T0 + i * HOUR, **kw(i)) for i, c in enumerate(counts)]
    first = next(i for i in range(SURGE_AT - 12, len(scores)) if scores[i].alarm)
    assert SURGE_AT <= first <= SURGE_AT + 2
    s = scores[first]
    assert s.observed == counts[first] and s.score >= s.threshold and s.expected < s.observed


# --- warm-up and parameters ----------------------------------------------------------

@pytest.mark.parametrize("make, need", [
    (lambda g: C1(grace_period=g), 7), (lambda g: C2(grace_period=g), 9),
    (lambda g: C3(grace_period=g), 9),
    (lambda g: NBCusum(grace_period=g), 9),
    (lambda g: Seasonal(period=7, b=3, w=0, year_lag=0, grace_period=g), 21),
    (lambda g: Ceiling(grace_period=g), 0),
], ids=["c1", "c2", "c3", "cusum", "seasonal", "ceiling"])
def test_warm_up_respected(make, need):
    default = make(None) if need else Ceiling()
    assert default.grace_period == need
    grace = need + 5
    det = make(grace)
    counts = [10, 11, 9, 10, 12, 10, 9, 11, 10, 10, 11, 9, 10, 10] * 3
    kw = {"true_mean": 10.0} if isinstance(det, Ceiling) else {}
    counts[grace - 1] = 200          # the last warm-up step: quiet
    counts[grace + 12] = 200         # later, out of every baseline the first spike is in
    scores = [det.update(c, T0 + i * DAY, **kw) for i, c in enumerate(counts)]
    assert not any(s.alarm for s in scores[:grace])
    assert scores[grace + 12].alarm
    if need:
        with pytest.raises(ValueError, match="grace_period"):
            make(need - 1)


@pytest.mark.parametrize("cls, kwargs", [
    (C1, {"period": 0}), (C1, {"threshold": -1}), (C1, {"min_sd": 0}), (C2, {"period": 1.5}),
    (C3, {"threshold": float("nan")}), (C1, {"grace_period": -1}),
    (NBCusum, {"k": 1.0}), (NBCusum, {"k": 0.5}), (NBCusum, {"h": 0}), (NBCusum, {"r": 0}),
    (NBCusum, {"baseline": 0}), (NBCusum, {"guard": -1}), (NBCusum, {"min_mean": 0}),
    (Seasonal, {"b": 0}), (Seasonal, {"w": -1}), (Seasonal, {"period": 7, "w": 4}),
    (Seasonal, {"year_lag": 100}), (Seasonal, {"period": 7, "b": 2, "w": 0}), (Seasonal, {"threshold": 0}), (Seasonal, {"peak_multiplier": 0}),
    (Ceiling, {"W": 0}), (Ceiling, {"h": -2}), (Ceiling, {"r": -1}),
])
def test_bad_parameters_raise(cls, kwargs):
    with pytest.raises(ValueError):
        cls(**kwargs)


def test_bad_counts_raise():
    det = C1()
    for bad in (-1, 1.5, "x", None):
        with pytest.raises(ValueError):
            det.update(bad, T0)
    assert det.n_seen == 0
    with pytest.raises(ValueError):
        Ceiling().update(3, T0, true_mean=0.0)


# --- method-specific behaviour -------------------------------------------------------

def test_c1_and_c2_differ_by_the_guard_band():
    # a rise that has lasted three days: C1's baseline already holds its first two days,
    # C2's (t-9 .. t-3) does not
    counts = [10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 20, 20, 20]
    c1 = run(C1(), counts, DAY)
    c2 = run(C2(), counts, DAY)
    assert c1[10].alarm and c2[10].alarm              # first day of the rise: both
    assert not c1[12].alarm and c2[12].alarm          # third day: only C2
    assert c2[12].expected == pytest.approx(10.0)
    assert c1[12].expected == pytest.approx((9 + 10 + 11 + 9 + 10 + 20 + 20) / 7)


def test_c3_sums_the_last_three_c2_excesses():
    counts = [10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 16, 16, 16]
    c2 = run(C2(), counts, DAY)
    c3 = run(C3(), counts, DAY)
    parts = [max(0.0, s.score - 1) for s in c2[-3:]]
    assert c3[-1].score == pytest.approx(sum(parts))
    assert not any(s.alarm for s in c2[-3:]) and c3[-1].alarm


def test_sd_floor_on_a_flat_baseline():
    det = C1(poisson_floor=False, min_sd=0.2)
    scores = run(det, [0] * 7 + [1], DAY)
    assert scores[-1].score == pytest.approx(5.0)       # (1 - 0) / 0.2, no ZeroDivision
    scores = run(C1(), [4] * 7 + [10], DAY)             # sd 0 -> Poisson floor sqrt(4)
    assert scores[-1].score == pytest.approx(3.0)


def test_cusum_accumulates_a_small_sustained_shift_that_c1_misses():
    cusum_hits = c1_hits = 0
    for seed in range(30):
        rng = np.random.default_rng(seed)
        counts = np.concatenate([rng.poisson(20, 60), rng.poisson(26, 10)])   # +30 %
        cu = run(NBCusum(k=1.5, baseline=14, guard=14), counts, DAY)
        c1 = run(C1(), counts, DAY)
        cusum_hits += any(s.alarm for s in cu[60:])
        c1_hits += any(s.alarm for s in c1[60:])
    assert cusum_hits >= 22 and c1_hits <= 15 and cusum_hits - c1_hits >= 10


def test_cusum_resets_after_alarm_and_poisson_llr():
    det = NBCusum(period=1, baseline=7, guard=0, k=2.0, h=5.0)
    scores = run(det, [4] * 7 + [12, 12, 4], DAY)
    expected = 12 * math.log(2) - 4
    assert scores[7].score == pytest.approx(expected) and not scores[7].alarm
    assert scores[8].alarm and det.s == 0.0
    assert scores[9].score == pytest.approx(max(0.0, 4 * math.log(2) - 4))


def test_seasonal_learns_a_weekly_pattern_that_hour_of_day_baselines_do_not():
    # Monday mornings are always busy (the weekend's complaints), weekends quiet
    hour = np.arange(168) % 24
    day = np.arange(168) // 24
    week = np.where(day >= 5, 1.0, 3.0) * np.where((hour >= 8) & (hour < 20), 2.0, 0.5)
    week[8:12] = 25.0
    means = np.tile(week, 9)
    alarms_seasonal = alarms_c2 = steps = 0
    for seed in range(3):
        counts = np.random.default_rng(seed).poisson(means)
        det = Seasonal()
        alarms_seasonal += sum(s.alarm for s in run(det, counts))
        steps += len(counts) - det.grace_period
        alarms_c2 += sum(s.alarm for s in run(C2(period=24), counts)[det.grace_period:])
    assert alarms_seasonal <= with_slack(normal_tail(3.0), steps) * steps   # ~9 of 2520
    assert alarms_c2 >= 10                 # the same hour yesterday says Monday is a surge


def test_seasonal_known_peak_does_not_alarm_and_is_not_learnt():
    means = daily_rhythm(4.0, 7 * 5)
    counts = np.random.default_rng(3).poisson(means)
    det, twin = Seasonal(), Seasonal()
    run(det, counts)
    run(twin, counts)
    at = T0 + len(counts) * HOUR
    peak = [det.update(60, at + i * HOUR, known_peak=True) for i in range(3)]
    assert not any(s.alarm for s in peak) and all(s.score > s.threshold for s in peak)
    # the unflagged twin alarms on the same hours
    assert all(twin.update(60, at + i * HOUR).alarm for i in range(3))
    # a week later the flagged detector's baseline has not moved, the twin's has
    later = at + 168 * HOUR
    for d in (det, twin):
        for i in range(168 - 3):
            d.update(int(counts[i]), at + (i + 3) * HOUR)
    assert det.update(4, later).expected < twin.update(4, later).expected


def test_seasonal_peak_multiplier_raises_expectation():
    counts = np.random.default_rng(4).poisson(daily_rhythm(4.0, 7 * 5))
    det = Seasonal(peak_multiplier=3.0)
    base = run(det, counts)
    plain = det._fit()[0]
    s = det.update(10, T0 + len(counts) * HOUR, known_peak=True)
    assert s.expected == pytest.approx(3.0 * plain) and not s.alarm
    s = det.update(150, T0 + (len(counts) + 1) * HOUR, known_peak=True)   # far beyond 3x
    assert s.alarm
    assert base[-1].threshold == 3.0


def test_seasonal_uses_last_year_when_there_is_one():
    det = Seasonal(period=7, b=3, w=0, year_lag=28)
    run(det, [10] * 28, DAY)
    assert len(det._reference()) == 4                 # 3 weeks + a "year" ago
    short = Seasonal(period=7, b=3, w=0, year_lag=28)
    run(short, [10] * 22, DAY)
    assert len(short._reference()) == 3


# --- episodes ------------------------------------------------------------------------

def _scores(flags):
    return [Score(T0 + i * HOUR, 9 if f else 1, 1.0, 5.0 + i if f else 0.0, 3.0, bool(f))
            for i, f in enumerate(flags)]


def test_episodes_merge_consecutive_alarms():
    eps = episodes(_scores([0, 1, 1, 1, 0, 0, 0]), cooldown=0)
    assert eps == [Episode(T0 + HOUR, 9, 1.0, 6.0, T0 + 3 * HOUR, 8.0, 3)]


def test_episodes_respect_cooldown():
    flags = [1, 0, 0, 1, 0, 0, 0, 1]
    assert [e.alarms for e in episodes(_scores(flags), cooldown=2)] == [2, 1]
    assert [e.alarms for e in episodes(_scores(flags), cooldown=1)] == [1, 1, 1]
    assert [e.alarms for e in episodes(_scores(flags), cooldown=3)] == [3]
    assert episodes(_scores([0, 0]), cooldown=5) == []
    with pytest.raises(ValueError):
        episodes([], cooldown=-1)


def test_tracker_reports_an_episode_when_it_opens():
    tracker = EpisodeTracker(cooldown=1)
    opened = [tracker.push(s) for s in _scores([0, 1, 1, 0, 1, 0, 0, 1])]
    assert [i for i, e in enumerate(opened) if e is not None] == [1, 7]
    assert len(tracker.finish()) == 2


# --- CLI -----------------------------------------------------------------------------

def _write_series(path: Path, header: bool = True, surges=(24 * 7 * 5 + 10, 24 * 7 * 5 + 100)):
    means = daily_rhythm(2.0, 7 * 6)
    counts = np.random.default_rng(2024).poisson(means)
    for start in surges:
        counts[start:start + 4] += 15
    lines = ["timestamp,count"] if header else []
    lines += [f"{(T0 + i * HOUR).isoformat(sep=' ', timespec='minutes')},{c}"
              for i, c in enumerate(counts)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return counts


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "alerts", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_cli_prints_one_line_per_surge(tmp_path):
    import json

    csv_file = tmp_path / "series.csv"
    _write_series(csv_file)
    out = _cli("detect", csv_file, "--threshold", "7")
    assert out.returncode == 0, out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(records) == 2
    assert [r["timestamp"] for r in records] == [
        (T0 + (24 * 7 * 5 + 10) * HOUR).isoformat(), (T0 + (24 * 7 * 5 + 100) * HOUR).isoformat()]
    for r in records:
        assert set(r) == {"timestamp", "observed", "expected", "score", "method"}
        assert r["method"] == "share" and r["observed"] > r["expected"] and r["score"] >= 3


def test_cli_compares_with_a_parent_column_when_given(tmp_path):
    import json

    rng = np.random.default_rng(7)
    parent = rng.poisson(daily_rhythm(40.0, 7 * 5))
    parent[24 * 20: 24 * 21] *= 3                   # a province-wide peak day: not a surge
    own = rng.binomial(parent, 0.05)
    own[24 * 30 + 9: 24 * 30 + 13] += 8              # four hours of this series alone: a surge
    parent = parent + (own - rng.binomial(parent, 0.05)).clip(0)
    lines = ["timestamp,count,parent"] + [f"{(T0 + i * HOUR).isoformat(sep=' ', timespec='minutes')},{o},{max(p, o)}"
                                          for i, (o, p) in enumerate(zip(own, parent))]
    f = tmp_path / "with_parent.csv"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = _cli("detect", f)
    assert out.returncode == 0, out.stderr
    stamps = [json.loads(line)["timestamp"] for line in out.stdout.splitlines()]
    assert stamps and all(T0 + (24 * 30 + 9) * HOUR <= datetime.fromisoformat(t) <= T0 + (24 * 30 + 13) * HOUR
                          for t in stamps), stamps
    bad = tmp_path / "bad_parent.csv"
    bad.write_text("2024-03-04 00:00,3,2\n", encoding="utf-8")
    err = _cli("detect", bad)
    assert err.returncode == 2 and "parent" in err.stderr and ":1" in err.stderr


def test_cli_headerless_gaps_and_other_methods(tmp_path):
    csv_file = tmp_path / "series.csv"
    _write_series(csv_file, header=False)
    assert len(_cli("detect", csv_file, "--method", "cusum").stdout.splitlines()) >= 2
    # a missing hour is a zero, not a shift of the series
    gappy = tmp_path / "gappy.csv"
    gappy.write_text("2024-03-04 00:00,3\n2024-03-04 03:00,1\n", encoding="utf-8")
    rows = read_counts(str(gappy), "hour")
    assert [c for _, c in rows] == [3, 0, 0, 1]


def test_cli_bad_row_exits_2_with_line_number(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,count\n2024-03-04 00:00,3\n2024-03-04 01:00,-2\n", encoding="utf-8")
    out = _cli("detect", bad)
    assert out.returncode == 2 and out.stdout == ""
    assert f"{bad}:3:" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    for text, line in (("2024-03-04 00:00,3\nnot a time,4\n", 2),
                       ("t,c\n2024-03-04 02:00,3\n2024-03-04 01:00,4\n", 3),
                       ("t,c\n2024-03-04 02:00,3,9,1\n", 2),
                       ("t,c,p\n2024-03-04 02:00,3,9\n2024-03-04 03:00,3\n", 3)):
        bad.write_text(text, encoding="utf-8")
        out = _cli("detect", bad)
        assert out.returncode == 2 and f":{line}:" in out.stderr, out.stderr


def test_cli_unreadable_file_and_help(tmp_path):
    out = _cli("detect", tmp_path / "missing.csv")
    assert out.returncode == 2 and out.stderr.startswith("error: cannot read")
    assert _cli("detect", "--help").returncode == 0
    assert _cli().returncode == 2 and "detect" in _cli().stdout


def test_make_detector():
    assert isinstance(make_detector("seasonal", "day"), Seasonal)
    assert make_detector("c2", "hour").period == 24
    with pytest.raises(ValueError):
        make_detector("farrington", "hour")


# --- the CLI's budget and finer data ----------------------------------------------------

def test_cli_budget_calibrates_the_lone_series_on_its_own_null(tmp_path):
    """Overdispersed counts with no surge: the budget holds where the stream's raw bar does not."""
    import json

    from alerts.detect import DEFAULT_BUDGET, budget_threshold, detect, read_series

    f = tmp_path / "nb.csv"
    episodes_seen = []
    for seed in range(11, 17):
        rng = np.random.default_rng(seed)
        counts = rng.poisson(rng.gamma(1.5, daily_rhythm(3.0, 120) / 1.5))   # NB, size 1.5: overdispersed
        f.write_text("\n".join(f"{(T0 + i * HOUR).isoformat()},{c}" for i, c in enumerate(counts)) + "\n",
                     encoding="utf-8")
        rows = read_series(str(f))
        bar, info = budget_threshold(rows, "share", "hour", DEFAULT_BUDGET, 6)
        assert info["null_rate"] <= DEFAULT_BUDGET and 0.4 < info["inv_size"] < 1.0  # true 1/r: 0.67
        episodes_seen.append(len(list(detect(rows, "share", "hour", 6, bar))))
    # 113 days after the warm-up x 1/42 a day = 2.7 false alarms expected per series
    assert np.mean(episodes_seen) <= 1.3 * 113 * DEFAULT_BUDGET, episodes_seen
    out = _cli("detect", f)                                           # default: the stream's budget
    assert out.returncode == 0, out.stderr
    n_default = len(out.stdout.splitlines())
    loose = _cli("detect", f, "--budget", "0.5")
    assert len(loose.stdout.splitlines()) > n_default                  # a looser budget, more alarms
    # and a real surge still gets through at the default budget
    counts[24 * 100 + 9: 24 * 100 + 15] += 25
    f.write_text("\n".join(f"{(T0 + i * HOUR).isoformat()},{c}" for i, c in enumerate(counts)) + "\n",
                 encoding="utf-8")
    stamps = [datetime.fromisoformat(json.loads(x)["timestamp"]) for x in _cli("detect", f).stdout.splitlines()]
    assert any(T0 + (24 * 100 + 9) * HOUR <= t <= T0 + (24 * 100 + 15) * HOUR for t in stamps), stamps
    assert _cli("detect", f, "--budget", "0").returncode == 2
    assert _cli("detect", f, "--budget", "0.1", "--threshold", "5").returncode == 2


def test_cli_reads_a_5_minute_file_and_one_row_per_complaint(tmp_path):
    import json

    from alerts.detect import read_counts

    rng = np.random.default_rng(5)
    hourly = rng.poisson(daily_rhythm(4.0, 35))
    hourly[24 * 30 + 10: 24 * 30 + 14] += 20
    five = tmp_path / "twitter_volume.csv"                            # NAB's shape: timestamp,value every 5 min
    lines = ["timestamp,value"]
    for i, c in enumerate(hourly):
        parts = rng.multinomial(c, np.ones(12) / 12)
        lines += [f"{(T0 + i * HOUR + j * timedelta(minutes=5)).strftime('%Y-%m-%d %H:%M:%S')},{p}"
                  for j, p in enumerate(parts)]
    five.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = read_counts(str(five), "hour")
    assert len(rows) == len(hourly) and [c for _, c in rows] == hourly.tolist()
    assert [c for _, c in read_counts(str(five), "30min")][:2] == [sum(map(int, (x.split(",")[1] for x in lines[1 + 6 * k:7 + 6 * k]))) for k in range(2)]
    out = _cli("detect", five)
    assert out.returncode == 0, out.stderr
    stamps = [datetime.fromisoformat(json.loads(x)["timestamp"]) for x in out.stdout.splitlines()]
    assert any(T0 + (24 * 30 + 10) * HOUR <= t <= T0 + (24 * 30 + 14) * HOUR for t in stamps), stamps
    assert _cli("detect", five, "--freq", "30min").returncode == 0
    assert _cli("detect", five, "--freq", "7min").returncode == 2          # does not divide a day
    # one row per complaint: each timestamp counts one
    per = tmp_path / "complaints.csv"
    per.write_text("received_at\n2024-03-04 09:01:00\n2024-03-04 09:01:00\n2024-03-04 09:59:59\n"
                   "2024-03-04 11:30:00\n", encoding="utf-8")
    assert [c for _, c in read_counts(str(per), "hour")] == [3, 0, 1]
    # rows out of order are still refused, with the line
    bad = tmp_path / "back.csv"
    bad.write_text("2024-03-04 09:05,1\n2024-03-04 09:00,1\n", encoding="utf-8")
    err = _cli("detect", bad)
    assert err.returncode == 2 and ":2:" in err.stderr


# --- the share scan's daily shapes by group and its city component ---------------------

def _two_shapes(days: int, seed: int, n_per: int = 20, city_boost: dict | None = None):
    """Hourly counts of 2 x ``n_per`` series: a morning group and an evening group (opposite daily
    shapes); ``city_boost`` {(first day, last day): factor} multiplies series 0..9 (one city) on those days."""
    rng = np.random.default_rng(seed)
    hour = np.arange(24 * days) % 24
    morning = 1 + 0.9 * np.cos(2 * np.pi * (hour - 9) / 24)
    evening = 1 + 0.9 * np.cos(2 * np.pi * (hour - 21) / 24)
    mean = np.vstack([np.tile(0.4 * morning, (n_per, 1)), np.tile(0.4 * evening, (n_per, 1))])
    for (d0, d1), f in (city_boost or {}).items():
        mean[:10, 24 * d0:24 * (d1 + 1)] *= f
    return rng.poisson(mean), mean


def _run_panel(panel, counts):
    alarms = []
    for t in range(counts.shape[1]):
        out = panel.commit(counts[:, t], float(counts[:, t].sum()), at=T0 + t * HOUR)
        alarms.append(out["alarm"])
    return np.array(alarms).T


def _episodes(alarms: np.ndarray, after: int = 168) -> int:
    a = alarms[:, after:].astype(int)
    return int((np.diff(a, axis=1) == 1).sum() + a[:, 0].sum())


def test_share_slots_learn_each_groups_daily_shape():
    from alerts.detectors import SharePanel

    counts, mean = _two_shapes(35, seed=1)
    groups = ["morning"] * 20 + ["evening"] * 20
    flat = SharePanel(40, h=5.0)
    shaped = SharePanel(40, h=5.0, slots=48, groups=groups)
    a_flat, a_shaped = _run_panel(flat, counts), _run_panel(shaped, counts)
    # at 9:00 a morning series takes far more than its all-day share of the province, at 21:00 far less
    f9, f21 = shaped.slot_factor(9)[0], shaped.slot_factor(21)[0]
    true = lambda h: mean[0, h] / mean[:, h].sum() / (mean[0].sum() / mean.sum())  # noqa: E731
    assert abs(f9 - true(9)) / true(9) < 0.15 and f21 < 0.2
    assert true(9) > 1.8 and true(21) < 0.15
    assert np.allclose(shaped.slot_factor(9)[:20], f9) and shaped.slot_factor(9)[25] < 0.2
    # a Saturday hour is a slot of its own (hour x day type)
    assert shaped.slot_of(datetime(2024, 3, 9, 9)) == 33 and shaped.slot_of(datetime(2024, 3, 8, 9)) == 9
    # one share for the day sees the groups' shapes as noise (overdispersion) and still alarms on them
    # about twice as often as the shaped scan, on Poisson counts with no surge at all
    assert flat.inv_size().mean() > 3 * shaped.inv_size().mean()
    assert _episodes(a_flat) > 1.5 * _episodes(a_shaped)
    # without groups every series shares one shape (the province's): factor 1
    assert np.allclose(SharePanel(40, h=5.0, slots=24).slot_factor(3), 1.0)


def test_share_city_component_follows_a_city_wide_day_and_still_sees_one_county():
    from alerts.detectors import SharePanel

    counts, _ = _two_shapes(30, seed=2, city_boost={(20, 21): 2.0})
    counts[30, 24 * 25 + 10: 24 * 25 + 16] += 5        # one series of the other city: +30 in six hours
    groups = ["morning"] * 20 + ["evening"] * 20
    cities = ["A"] * 10 + ["B"] * 30
    city = SharePanel(40, h=6.0, slots=48, groups=groups, cities=cities)
    factors = []
    for t in range(counts.shape[1]):
        x = counts[:, t]
        out = city.commit(x, float(x.sum()), at=T0 + t * HOUR)
        if t == 24 * 21 + 12:      # noon of the shock's second day
            factors = city.city_factor(np.zeros(40), np.zeros(40))
        if 24 * 25 + 10 <= t < 24 * 25 + 17 and out["alarm"][30]:
            break
    else:
        raise AssertionError("the one-series surge was absorbed by its city")
    # city A runs at twice its usual count, the province (A a quarter of it) at 1.25x: relative to the
    # province A is at 1.6x and B at 0.8x; the factors (shrunk towards 1 by city_prior) follow both
    fa, fb = factors[:10].mean(), factors[10:].mean()
    assert 1.2 < fa < 1.7 and 0.75 < fb < 1.0 and fa / fb > 1.4
    # city factor of a lone-label series is exactly 1
    solo = SharePanel(3, cities=["A", "B", "C"])
    assert np.allclose(solo.city_factor(np.array([5.0, 0, 0]), np.array([1.0, 1, 1])), 1.0)


def test_share_slot_and_city_parameters_checked():
    from alerts.detectors import SharePanel

    with pytest.raises(ValueError, match="slots"):
        SharePanel(3, slots=12)
    with pytest.raises(ValueError, match="groups"):
        SharePanel(3, slots=24, groups=["a", "b"])
    with pytest.raises(ValueError, match="cities"):
        SharePanel(3, cities=["a"])


def test_share_scan_with_a_parent_learns_the_series_hour_of_day_share():
    """Morning and evening series against their province (one share for the day sees their shapes as
    noise and alarms on them); the share by hour of day (``slots``, hourly data with a parent) about
    half as often, on Poisson counts with no surge at all (40 series, each its own scan)."""
    from alerts.detectors import ShareScan

    counts, _ = _two_shapes(35, seed=4)
    parent = np.broadcast_to(counts.sum(axis=0), counts.shape)
    eps = {}
    for slots in (False, True):
        det = ShareScan(h=5.0, slots=slots, n_series=40)
        alarms = np.array([det.commit_many(counts[:, t], parent[:, t], at=T0 + t * HOUR)["alarm"]
                           for t in range(counts.shape[1])]).T
        eps[slots] = _episodes(alarms)
    assert eps[True] < 0.7 * eps[False]
    # one series through update() is the same scan
    one = ShareScan(h=5.0)
    got = [one.update(int(counts[0, t]), T0 + t * HOUR, parent=int(parent[0, t])).score for t in range(48)]
    again = ShareScan(h=5.0, n_series=1)
    ref = [float(again.commit_many(counts[:1, t], parent[:1, t], at=T0 + t * HOUR)["score"][0]) for t in range(48)]
    assert np.allclose(got, ref)


def test_share_scan_lone_series_stays_finite_without_warnings_through_long_alarms():
    """A lone series (no parent: ``python -m alerts detect`` without a parent column, and its null
    calibration's batch of copies) is scored against its own same-hour mean, handed to the panel.
    The panel also learned a share of the parent it was given, 0: its expected count became the
    counts over 1e-12, learned in place of the counts while alarming, and after some hundred
    alarming hours its sums overflowed (numpy overflow / invalid-value RuntimeWarnings in
    ``share()`` and ``slot_factor()``).  The input is the wandering series of
    ``tests/test_alert_cli.py`` (seed 1), which warned."""
    import warnings

    from alerts.detectors import ShareScan

    rng = np.random.default_rng(1)
    n = 120 * 24
    base = 3 * (1 + 0.8 * np.sin((np.arange(n) % 24 - 6) / 24 * 2 * np.pi))
    walk = np.repeat(np.cumsum(rng.normal(0, 0.125, n // 24 + 1)), 24)[:n]
    spells = np.repeat(rng.normal(0, 0.35, n // 72 + 1), 72)[:n]
    counts = rng.poisson(base * np.exp(walk + spells))
    start = 24 * 90 + 9
    counts[start:start + 6] += 30
    t0 = datetime(2025, 1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # any RuntimeWarning fails the test
        lone = ShareScan(h=5.0)
        scores = [lone.update(int(c), t0 + i * HOUR) for i, c in enumerate(counts)]
        batch = ShareScan(h=5.0, n_series=2)           # the CLI's null copies, all at once
        other = rng.poisson(base)
        cols = [batch.commit_many(np.array([counts[t], other[t]]), None, at=t0 + t * HOUR)
                for t in range(n)]
    s = np.array([sc.score for sc in scores])
    e = np.array([sc.expected for sc in scores])
    assert np.isfinite(s).all() and np.isfinite(e).all() and (e > 0).all()
    # it went through what used to overflow: hundreds of alarming hours
    assert sum(sc.alarm for sc in scores) > 200
    # and still alarms on the real surge within its six hours
    assert any(sc.alarm for sc in scores[start:start + 6])
    b = np.stack([c["score"] for c in cols], axis=1)
    assert np.isfinite(b).all()
    assert np.allclose(b[0], s)                        # a copy in the batch is the same scan
