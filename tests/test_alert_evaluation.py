"""The calendar, the synthetic evaluation data and the detector scoring (alerts.evaluate)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pytest

from alerts.calendar import CalendarError, default_calendar, is_known_peak, load_calendar, peak_multiplier
from alerts.evaluate import MethodResult, calibrate, evaluate, format_table, main, run_detector, score_alarms
from alerts.synth import Dataset, Surge, generate

SMALL = dict(counties=6, industries=("一般消费纠纷", "食品"), days=90)


# ----------------------------------------------------------------------------- calendar

def test_calendar_knows_holidays_makeup_days_and_peaks():
    cal = default_calendar()
    assert cal.is_holiday(date(2025, 10, 1))
    assert cal.is_holiday(datetime(2025, 1, 29, 10))          # Spring Festival
    assert not cal.is_holiday(date(2025, 9, 28))
    assert cal.is_makeup_workday(date(2025, 9, 28))          # a Sunday worked (调休)
    assert cal.is_workday(date(2025, 9, 28))
    assert not cal.is_workday(date(2025, 10, 2))             # a Thursday off
    assert is_known_peak(datetime(2025, 3, 15, 9))
    assert peak_multiplier(datetime(2025, 3, 15, 9)) == pytest.approx(2.5)
    assert peak_multiplier(date(2025, 11, 13)) > 1.5         # Double-11 aftermath
    assert peak_multiplier(date(2025, 1, 29)) < 1.0          # Spring Festival
    assert is_known_peak(date(2026, 3, 15)) and is_known_peak(date(2024, 11, 11))
    assert not is_known_peak(date(2025, 3, 5)) and peak_multiplier(date(2025, 3, 5)) == 1.0
    assert not is_known_peak(date(2025, 9, 28))              # a make-up workday is ordinary


@pytest.mark.parametrize("entry, words", [
    ("holidays:\n  - {name: 国庆节, start: 2025-13-01, end: 2025-10-07, multiplier: 0.8}\n",
     ["holidays[0]", "国庆节", "start"]),
    ("holidays:\n  - {name: 春节, start: 2025-01-28, end: 2025-02-04, multiplier: -1}\n",
     ["春节", "multiplier"]),
    ("holidays:\n  - {name: 春节, start: 2025-02-04, end: 2025-01-28, multiplier: 0.5}\n",
     ["春节", "before start"]),
    ("holidays:\n  - {name: 春节, start: 2025-01-28, end: 2025-02-04, multiplier: 0.5, "
     "makeup_workdays: [2025-01-30]}\n", ["春节", "inside the holiday"]),
    ("peaks:\n  - {name: 3·15, month_day: \"3-15\", multiplier: 2.5}\n", ["peaks[0]", "3·15", "month_day"]),
    ("peaks:\n  - {name: 双十一, month_day: \"11-11\", multiplier: 1.8, colour: red}\n", ["双十一", "colour"]),
    ("peaks:\n  - {month_day: \"11-11\", multiplier: 1.8}\n", ["peaks[0]", "name"]),
])
def test_bad_calendar_entry_is_named(tmp_path, entry, words):
    p = tmp_path / "calendar.yaml"
    p.write_text(entry, encoding="utf-8")
    with pytest.raises(CalendarError) as err:
        load_calendar(p)
    for w in words:
        assert w in str(err.value)


# ----------------------------------------------------------------------------- synthetic data

@pytest.fixture(scope="module")
def quiet():
    """No surges: the baseline alone (90 days from 1 January 2025)."""
    return generate(7, k_values=(), **SMALL)


def test_synth_is_deterministic_per_seed():
    a, b, c = generate(3, **SMALL), generate(3, **SMALL), generate(4, **SMALL)
    assert np.array_equal(a.counts, b.counts) and np.array_equal(a.mean, b.mean)
    assert a.surges == b.surges
    assert not np.array_equal(a.counts, c.counts)
    assert a.n_series == 12 and a.n_steps == 90 * 24
    assert len(set(a.series_city)) == 6                      # counties dealt over the cities
    assert all(code.startswith("14") for code, _ in a.series_keys)


def test_synth_levels_are_thin(quiet):
    full = generate(1, days=35, industries=("食品", "药品", "一般消费纠纷"), k_values=())
    m = full.mean.mean(axis=1)
    assert np.mean((m > 0.01) & (m < 2.0)) > 0.85
    assert full.mean.dtype == np.float32


def test_synth_daily_rhythm(quiet):
    by_hour = quiet.counts.sum(axis=0).reshape(-1, 24).sum(axis=0)
    assert by_hour[0:6].mean() < 0.3 * by_hour[9:17].mean()


def test_synth_weekly_rhythm(quiet):
    cal = default_calendar()
    per_day = quiet.counts.sum(axis=0).reshape(-1, 24).sum(axis=1)
    days = [date(2025, 1, 1) + (t - quiet.start) for t in quiet.times[::24]]
    ordinary = [not cal.is_known_peak(d) and not cal.is_makeup_workday(d) for d in days]
    mon = [c for c, d, o in zip(per_day, days, ordinary) if o and d.weekday() == 0]
    sun = [c for c, d, o in zip(per_day, days, ordinary) if o and d.weekday() == 6]
    assert np.mean(sun) < 0.85 * np.mean(mon)


def test_synth_calendar_peaks(quiet):
    per_day = quiet.counts.sum(axis=0).reshape(-1, 24).sum(axis=1)
    d315 = (date(2025, 3, 15) - date(2025, 1, 1)).days      # a Saturday
    saturdays = [d315 - 7 * j for j in (1, 2, 3)] + [d315 + 7]
    assert per_day[d315] > 1.8 * np.mean(per_day[saturdays])
    spring = (date(2025, 1, 30) - date(2025, 1, 1)).days
    assert per_day[spring] < 0.7 * np.mean(per_day[[spring + 14, spring + 21]])


def test_synth_negative_binomial_overdispersion(quiet):
    x = quiet.counts.astype(float)
    mu = quiet.mean.astype(float)
    assert ((x - mu) ** 2).sum() > mu.sum()                 # variance > mean
    # moment estimate of 1/r in variance = mu + mu**2 / r; Poisson would give about 0
    inv_r = ((x - mu) ** 2 - x).sum() / (mu ** 2).sum()
    assert 0.1 < inv_r < 1.5


def test_surges_excess_is_k_sd_and_truth_recorded():
    ds = generate(11, surges_per_k=6, **SMALL)
    base = generate(11, k_values=(), **SMALL)                # same baseline draws
    added = ds.counts - base.counts
    assert len(ds.surges) == 24 and {s.k for s in ds.surges} == {2.0, 3.0, 5.0, 10.0}
    inside = np.zeros_like(added, dtype=bool)
    for s in ds.surges:
        assert s.start >= ds.warmup and 6 <= s.duration <= 120 and s.shape in ("step", "ramp")
        mu = ds.mean[s.series, s.start:s.end].astype(float)
        sd = math.sqrt(np.sum(mu + mu ** 2 / ds.size[s.series]))
        assert s.baseline_sd == pytest.approx(sd, rel=1e-6)
        assert added[s.series, s.start:s.end].sum() == s.excess
        assert abs(s.excess - s.k * sd) <= 0.5 or s.excess == 1
        inside[s.series, s.start:s.end] = True
    assert not added[~inside].any()
    ramps = [s for s in ds.surges if s.shape == "ramp"]
    first = sum(added[s.series, s.start:s.start + s.duration // 2].sum() for s in ramps)
    last = sum(added[s.series, s.end - s.duration // 2:s.end].sum() for s in ramps)
    assert last > first


# ----------------------------------------------------------------------------- scoring

@dataclass(frozen=True)
class _S:
    alarm: bool


class CountAtLeast:
    """Scripted detector: alarms when the count reaches the threshold."""

    def __init__(self, threshold):
        self.t = threshold

    def update(self, count, at):
        return _S(count >= self.t)


class MeanRecorder:
    seen: list = []

    def __init__(self, threshold):
        self.t = threshold

    def update(self, count, at, true_mean):
        MeanRecorder.seen.append(true_mean)
        return _S(count >= self.t)


def tiny() -> Dataset:
    counts = np.zeros((3, 100), dtype=np.int32)
    counts[0, [15, 16, 70, 71]] = 5     # detects its surge at 15 (delay 5); 70-71 one false episode
    counts[1, 80] = 5                   # surge 50..56 + 24 h grace ends at 80: a miss and a false alarm
    counts[2, [2, 41, 95]] = 5          # 2 is in the warm-up; 41 detects (delay 11); 95 false
    surges = [Surge(0, 10, 20, 2.0), Surge(1, 50, 56, 10.0), Surge(2, 30, 40, 2.0)]
    return Dataset(counts, datetime(2025, 5, 1), 1, np.full((3, 100), 0.5, np.float32),
                   [("140105", "食品"), ("140106", "食品"), ("140202", "食品")], ["140100", "140100", "140200"],
                   surges, warmup=3)


def test_pod_false_alarms_and_delay_on_a_hand_made_dataset():
    ds = tiny()
    res = evaluate(ds, {"scripted": CountAtLeast}, {"scripted": 3}, grace_hours=24)["scripted"]
    assert res.pod == {2.0: 1.0, 10.0: 0.0}
    assert res.n_surges == {2.0: 2, 10.0: 1}
    assert res.median_delay[2.0] == 8.0 and math.isnan(res.median_delay[10.0])
    assert res.delays[2.0] == [5.0, 11.0]
    assert res.false_episodes == 3
    days = 97 / 24
    assert res.fa_per_city_day == pytest.approx(3 / (2 * days))
    assert res.fa_by_city == {"140100": pytest.approx(2 / days), "140200": pytest.approx(1 / days)}
    # with a longer grace the alarm at 80 counts for the k=10 surge instead
    res2 = evaluate(ds, {"s": CountAtLeast}, 3, grace_hours=31)["s"]
    assert res2.pod[10.0] == 1.0 and res2.median_delay[10.0] == 30.0 and res2.false_episodes == 2
    # a threshold above every count: nothing
    res3 = evaluate(ds, {"s": CountAtLeast}, 6)["s"]
    assert res3.pod == {2.0: 0.0, 10.0: 0.0} and res3.false_episodes == 0


def test_score_alarms_merges_episodes_and_parallel_run_matches():
    ds = tiny()
    alarms = [np.array([15, 16, 17, 60, 61, 62, 64]), np.array([], int), np.array([90])]
    res = score_alarms(ds, alarms, grace_hours=24)
    assert res.false_episodes == 3                          # 60-62, 64, 90
    one = run_detector(ds, CountAtLeast, 3)
    two = run_detector(ds, CountAtLeast, 3, workers=2)
    assert [a.tolist() for a in one] == [a.tolist() for a in two] == [[15, 16, 70, 71], [80], [2, 41, 95]]


def test_true_mean_is_handed_to_the_ceiling():
    ds = tiny()
    MeanRecorder.seen = []
    evaluate(ds, {"ceiling": MeanRecorder}, 3, needs_true_mean={"ceiling"})
    assert len(MeanRecorder.seen) == 300 and set(MeanRecorder.seen) == {0.5}


def ladder() -> Dataset:
    """One city, one series, ten days, no surges: 20 ones, 10 twos, 5 threes, 1 four, apart."""
    counts = np.zeros((1, 240), dtype=np.int32)
    values = [1] * 20 + [2] * 10 + [3] * 5 + [4]
    counts[0, np.arange(len(values)) * 6 + 3] = values
    return Dataset(counts, datetime(2025, 7, 1), 1, series_city=["140100"])


@pytest.mark.parametrize("search", ["bisect", "scan"])
@pytest.mark.parametrize("budget, expected, fa", [(1.0, 3, 0.6), (0.6, 3, 0.6), (0.5, 4, 0.1), (5.0, 1, 3.6),
                                                  (0.0, 5, 0.0)])
def test_calibration_picks_the_smallest_threshold_within_budget(search, budget, expected, fa):
    cal = calibrate(ladder(), CountAtLeast, budget, grid=[1, 2, 3, 4, 5, 6, 7, 8], search=search)
    assert cal.met and cal.threshold == expected and cal.fa_per_city_day == pytest.approx(fa)
    assert all(v > budget for t, v in cal.tried.items() if t < expected)


def test_calibration_reports_an_unmet_budget():
    cal = calibrate(ladder(), CountAtLeast, 0.0, grid=[1, 2, 3])
    assert not cal.met and cal.threshold == 3 and cal.fa_per_city_day == pytest.approx(0.6)


def test_format_table_has_every_method_and_k():
    ds = tiny()
    results = evaluate(ds, {"C1": CountAtLeast, "NBCusum": CountAtLeast, "Ceiling": MeanRecorder}, 3,
                       needs_true_mean={"Ceiling"}, kinds={"C1": "reference", "Ceiling": "ceiling"})
    text = format_table(results)
    for word in ("C1", "NBCusum", "Ceiling", "POD k=2", "POD k=3", "POD k=5", "POD k=10", "FA/city/day",
                 "delay k=10", "reference", "ceiling", "Noufaily", "Bédubourg"):
        assert word in text
    assert isinstance(results["C1"], MethodResult)


def test_cli_runs_on_a_tiny_province(capsys):
    assert main(["--counties", "2", "--days", "32", "--industries", "1", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "POD k=10" in out and "FA/city/day" in out and "calibrating" in out
    # both generators, one table each, and one verdict over both
    assert "== generator synth ==" in out and "== generator synth2 ==" in out
    assert "ahead on both generators:" in out


# ----------------------------------------------------------------------------- the second generator

def _synth2(seed=4, **kw):
    from alerts.synth2 import generate as generate2

    args = dict(counties=12, industries=("一般消费纠纷", "房地产", "旅游", "食品"), days=120)
    args.update(kw)
    return generate2(seed, **args)


def test_synth2_is_deterministic_and_keeps_the_scoring_conventions():
    a, b = _synth2(), _synth2()
    assert np.array_equal(a.counts, b.counts) and a.surges == b.surges
    assert not np.array_equal(a.counts, _synth2(seed=5).counts)
    # not synth.py's data for the same seed and shape
    assert not np.array_equal(a.counts[:, :100], generate(4, counties=12, days=120,
                                                          industries=("一般消费纠纷", "房地产", "旅游", "食品")).counts[:, :100])
    assert a.counts.shape == a.mean.shape == (48, 120 * 24) and a.size.shape == (48,)
    assert {s.k for s in a.surges} == {2.0, 3.0, 5.0, 10.0}
    for s in a.surges:
        assert s.start >= a.warmup and s.duration >= 6
        mu = a.mean[s.series, s.start:s.end].astype(float)
        sd = math.sqrt(np.sum(mu + mu * mu / a.size[s.series]))
        assert s.excess == max(1, round(s.k * sd))
    # the counts around a surge carry its excess on top of the baseline
    clean = _synth2(k_values=())
    s = a.surges[0]
    assert (a.counts[s.series, s.start:s.end] - clean.counts[s.series, s.start:s.end]).sum() >= 0


def test_synth2_industries_keep_their_own_hours_holidays_and_dispersion():
    d = _synth2(k_values=(), days=365)
    ind = [k[1] for k in d.series_keys]
    by_hour = {i: d.mean[[n for n, x in enumerate(ind) if x == i]].sum(axis=0).reshape(-1, 24).sum(axis=0)
               for i in set(ind)}
    assert int(np.argmax(by_hour["一般消费纠纷"])) >= 18          # online shopping: evening
    assert 7 <= int(np.argmax(by_hour["房地产"])) <= 11          # offices: morning
    cal = default_calendar()
    days = [(date(2025, 1, 1) + (datetime(2025, 1, 2) - datetime(2025, 1, 1)) * i) for i in range(365)]
    hol = np.array([cal.is_holiday(x) and not cal.is_makeup_workday(x) for x in days])
    daily = {i: d.mean[[n for n, x in enumerate(ind) if x == i]].sum(axis=0).reshape(-1, 24).sum(axis=1)
             for i in set(ind)}
    ratio = {i: v[hol].mean() / v[~hol].mean() for i, v in daily.items()}
    assert ratio["旅游"] > 1.3 and ratio["房地产"] < 0.6                 # tourism up, offices down
    # a city's day moves all its series together: shares of the province are not constant
    city = np.array(d.series_city)
    c0 = d.mean[city == city[0]].sum(axis=0).reshape(-1, 24).sum(axis=1)
    share = c0 / d.mean.sum(axis=0).reshape(-1, 24).sum(axis=1)
    assert share.std() / share.mean() > 0.08
    assert d.size.max() / d.size.min() > 5                            # dispersion varies by series


def test_synth_daily_frequency_and_bad_arguments():
    hourly = generate(5, k_values=(), **SMALL)
    daily = generate(5, k_values=(), freq="day", **SMALL)
    assert daily.step_hours == 24 and daily.n_steps == 90 and daily.freq == "day"
    assert np.allclose(daily.mean, hourly.mean.reshape(12, 90, 24).sum(axis=2), rtol=1e-3)
    with pytest.raises(ValueError, match="freq"):
        generate(5, freq="week", **SMALL)
    with pytest.raises(ValueError, match="counties"):
        generate(5, counties=500, days=40)


def test_panel_parents_by_city_and_the_replay_and_cli_rows(capsys):
    from alerts.evaluate import PanelMethod

    d = generate(3, counties=6, industries=("一般消费纠纷", "食品"), days=35, k_values=())
    prov = PanelMethod(lambda n: None).parents(d)
    assert np.array_equal(prov[0], d.counts.sum(axis=0))
    city = PanelMethod(lambda n: None, parent="city").parents(d)
    same = [j for j, ((_, ind), c) in enumerate(zip(d.series_keys, d.series_city))
            if c == d.series_city[0] and ind == d.series_keys[0][1]]
    assert np.array_equal(city[0], d.counts[same].sum(axis=0)) and (city <= prov).all()
    with pytest.raises(ValueError):
        PanelMethod(lambda n: None, parent="county")
    assert main(["--counties", "3", "--days", "32", "--industries", "1", "--workers", "1", "--methods", "none",
                 "--generator", "synth2", "--replay", "--cli-budget", "1"]) == 0
    out = capsys.readouterr().out
    assert "Replay (live)" in out and "DetectLone" in out and "DetectParent" in out
