"""The simulator plays out cases: realistic mixes in pure form, and a seeded
history through the real broker and worker that fills the figures."""
import random
import subprocess
import sys
import time
from zoneinfo import ZoneInfo

from streams.cases.config import default_case_config
from streams.cases.deadlines import WorkCalendar
from streams.cases.kpis import kpis
from streams.cases.read import kpis as read_kpis
from streams.cases.simplay import CasePlayer, plan
from tests.conftest import ROOT, start_worker, wait_until

CFG = default_case_config()
CAL = WorkCalendar(ZoneInfo("Asia/Shanghai"))


def sample(n: int, start: float, rng: random.Random) -> list[dict]:
    return [{"id": f"s{i}", "ts": start + rng.uniform(0, 20 * 86400), "kind": rng.choice(["投诉", "投诉", "举报", "咨询"]),
             "industry": "食品", "district": "140403", "tags": ["快反"] if rng.random() < 0.04 else []}
            for i in range(n)]


def test_plans_are_deterministic_and_the_mix_is_realistic():
    rng = random.Random(7)
    recs = sample(4000, time.time() - 150 * 86400, rng)
    assert plan(recs[0], 1, CFG, CAL) == plan(recs[0], 1, CFG, CAL)
    cases = [{**r, "events": plan(r, i, CFG, CAL)} for i, r in enumerate(recs)]
    k = kpis(cases, CFG, CAL, time.time())
    assert 0.45 <= k["mediation_success"]["value"] <= 0.6          # about half mediated successfully
    assert 0.93 <= k["on_time_first_check"]["value"] <= 0.995      # a few per cent late
    assert 0.93 <= k["on_time_closing"]["value"] <= 0.995
    assert 0.75 <= k["satisfaction"]["value"] <= 0.95 and k["recovered_yuan"] > 0
    assert k["open"] == 0                                           # 150 days on, every case played out
    assert all(e["ts"] >= r["ts"] for c, r in zip(cases, recs) for e in c["events"])


def test_the_player_releases_each_event_once_when_due():
    rng = random.Random(3)
    now = time.time()
    recs = sample(300, now - 10 * 86400, rng)
    p = CasePlayer(CFG, CAL, seed=5)
    first = p.add(recs, now)
    later = p.due(now + 150 * 86400)
    everything = [e for i, r in enumerate(recs) for e in plan(
        {k: r[k] for k in ("id", "ts", "kind", "industry", "tags")}, p._seed(r["id"]), CFG, CAL)]
    assert sorted(e["id"] for e in first + later) == sorted(e["id"] for e in everything)
    assert all(e["at"] <= time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(now + 8 * 3600)) for e in first)
    assert p.due(now + 400 * 86400) == [] and not p.heap


def test_seeded_history_fills_the_figures(stack, procs):
    start_worker(procs, stack)
    p = subprocess.run([sys.executable, "-m", "streams.simulate", "--history-days", "12", "--history-rate", "40",
                        "--run-tag", "h"], cwd=ROOT, env=stack["env"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "case events" in p.stderr
    r = stack["redis"]
    sent = int(p.stderr.split(" case events")[0].rsplit("; ", 1)[1].replace(",", ""))
    wait_until(lambda: sum(int(r.hget("cc:cases:stats", k) or 0) for k in ("applied", "released")) >= sent, 90,
               f"{sent} case events applied")
    k = read_kpis(r, stack["settings"], "province", "140000", since=time.strftime("%Y-%m-%dT00:00:00", time.localtime(time.time() - 13 * 86400)))
    print(k)
    assert k["items"] > 2500            # 12 x 24 x 40 complaints; most items are enquiries (Changzhi: 72 %)
    assert k["response_24h"]["denominator"] > 2000 and 0.85 <= k["response_24h"]["value"] <= 0.99
    assert k["on_time_first_check"]["denominator"] > 1000 and k["on_time_first_check"]["value"] >= 0.9
    assert k["mediation_success"]["denominator"] > 20 and k["open"] > 0
    assert (stack["settings"].data_dir / "simulator-cases.pending").exists()     # left for the live feed
