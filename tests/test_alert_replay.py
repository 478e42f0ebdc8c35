"""python -m alerts replay DIR --out ALERTS_DIR: the stream's detector over files of a past period."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from alerts.evaluate import score_replay
from alerts.replay import load_dir, series_stem, write_dataset
from alerts.synth import Surge, generate

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def surged(tmp_path_factory):
    """Four weeks of six counties x two industries, one large surge of 18 h in one series."""
    d = generate(7, counties=6, industries=("一般消费纠纷", "食品"), days=28, k_values=(), warmup_days=14)
    s, t0, t1 = 3, 24 * 20 + 9, 24 * 20 + 27
    d.counts[s, t0:t1] += 6
    d.surges = [Surge(s, t0, t1, 10.0, "step", 6 * (t1 - t0), 1.0)]
    out = tmp_path_factory.mktemp("replay")
    write_dataset(d, out / "in")
    return d, out


def test_load_dir_builds_the_streams_tallies(surged):
    d, out = surged
    hours, tallies, names = load_dir(out / "in", "140000")
    assert len(hours) == d.n_steps and hours[0] == datetime(2025, 1, 1)
    assert "140000-all" in names and f"{d.series_keys[0][0]}-all" in names
    # a county x industry file is its own field; the totals add nothing beyond their parts here
    j = 24 * 20 + 10
    code, ind = d.series_keys[3]
    assert tallies[j][f"{code}|{ind}|replay|file"] == d.counts[3, j]
    assert sum(tallies[j].values()) == d.counts[:, j].sum()


def test_replay_writes_one_alert_per_episode_on_the_most_specific_series(surged):
    d, out = surged
    alerts_dir = out / "alerts"
    run = subprocess.run([sys.executable, "-m", "alerts", "replay", str(out / "in"), "--out", str(alerts_dir)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "replay:" in run.stderr and "alerts" in run.stderr          # progress and a summary
    code, ind = d.series_keys[3]
    lines = (alerts_dir / f"{code}-{ind}.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(x) for x in lines]
    surge = d.surges[0]
    inside = [r for r in rows if surge.start <= d.times.index(datetime.fromisoformat(r["timestamp"])) < surge.end]
    assert len(inside) == 1                                            # one alert for the 18-h surge
    r = inside[0]
    assert set(r) >= {"timestamp", "observed", "expected", "score"}
    assert r["observed"] > r["expected"] and r["score"] >= 7.0          # the configured county bar
    # the county total and the city do not raise the same surge again (suppressed: the series carries it)
    t_open = datetime.fromisoformat(r["timestamp"])
    for f in alerts_dir.glob("*.jsonl"):
        if f.stem in (f"{code}-all", f"{code[:4]}00-all", f"{code[:4]}00-{ind}", f"140000-{ind}"):
            for x in map(json.loads, f.read_text(encoding="utf-8").splitlines()):
                assert abs((datetime.fromisoformat(x["timestamp"]) - t_open).total_seconds()) > 6 * 3600
    # every file of the input has its (possibly empty) alert file
    assert {p.stem for p in (out / "in" / "series").glob("*.csv")} <= {p.stem for p in alerts_dir.glob("*.jsonl")}
    # scored like the evaluation: the surge found, no false alarm episode storm
    res = score_replay(d, {p.stem: [json.loads(x) for x in p.read_text(encoding="utf-8").splitlines()]
                           for p in alerts_dir.glob("*.jsonl")})
    assert res.pod[10.0] == 1.0 and res.fa_per_city_day < 1.0


def test_replay_sums_finer_rows_into_hours_and_refuses_bad_names(tmp_path):
    series = tmp_path / "series"
    series.mkdir()
    rows = ["timestamp,count"] + [f"2025-03-01T{h:02d}:{m:02d},1" for h in range(3) for m in range(0, 60, 5)]
    (series / "140403-食品.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    hours, tallies, _ = load_dir(tmp_path, "140000")
    assert len(hours) == 3 and [t["140403|食品|replay|file"] for t in tallies] == [12, 12, 12]
    (series / "changzhi.csv").write_text("timestamp,count\n2025-03-01T00:00,1\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "alerts", "replay", str(tmp_path), "--out", str(tmp_path / "o")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "changzhi.csv" in run.stderr


def test_series_stems_and_help():
    assert series_stem("county:140403:食品") == "140403-食品"
    assert series_stem("city:140400:*") == "140400-all"
    run = subprocess.run([sys.executable, "-m", "alerts", "replay", "--help"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0 and "--out" in run.stdout
