"""Demo data for the screens: simulated history (the last days and the same days a year ago),
a live feed with a surge, and a few alerts in different states. Used by ``make screenshots``
and the browser tests; everything goes through the real intake, broker, worker and alert store.
"""
from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from config import ROOT_DIR, Settings
from streams.counts import same_time_last_year


def _case_player(settings: Settings):
    from streams.cases.config import default_case_config
    from streams.cases.deadlines import WorkCalendar
    from streams.cases.simplay import CasePlayer

    cfg = default_case_config()
    return CasePlayer(cfg, WorkCalendar(settings.tz, cfg.unknown_years), 12315)


async def _publish(settings: Settings, complaints, source: str = "demo", batch: int = 2000,
                   cases: bool = False) -> int:
    from streams.intake import Intake
    from streams.schema import Rules

    rules = Rules(settings)
    player = _case_player(settings) if cases else None
    n = 0
    buf: list[dict] = []
    async with Intake(settings, source=source) as it:
        async def flush() -> int:
            sent = await it.publish(buf)
            if player is not None:    # the case events that happened before now, as the simulator plays them
                from streams.cases.api import publish_events
                from streams.cases.events import validate_event
                now = time.time()
                events = player.add(buf, now)
                good = [ev for ev, errs in (validate_event(e, now, settings.tz) for e in events) if not errs]
                for i in range(0, len(good), 5000):
                    await publish_events(it, good[i:i + 5000])
            buf.clear()
            return sent

        for c in complaints:
            rec, errors = rules.validate(c)
            if rec is None:
                raise ValueError(f"demo complaint {c.get('id')} is invalid: {errors}")
            buf.append(rec)
            if len(buf) >= batch:
                n += await flush()
        if buf:
            n += await flush()
    return n


def publish(settings: Settings, complaints, source: str = "demo", cases: bool = False) -> int:
    """Validate and publish complaints like the intake does; returns how many. With ``cases``,
    each complaint's case is played out up to now (streams.cases.simplay), as the simulator does."""
    return asyncio.run(_publish(settings, complaints, source, cases=cases))


def seed_history(settings: Settings, now: datetime, days: float = 8, rate: float = 0.2,
                 last_year_hours: float = 30, seed: int = 12315, surge: str | None = None,
                 surge_minutes: float = 50, cases: bool = False) -> int:
    """Simulated complaints for the last ``days`` days and for the same hours a year earlier
    (``last_year_hours`` up to the same time last year), at ``rate`` a second on average; with
    ``surge`` (a name of config/surges.yaml), that surge over the last ``surge_minutes``; with
    ``cases``, their cases played out up to now (else every case stays open and falls overdue)."""
    from streams.simgen import Simulator, load_surges, select_surges

    sim = Simulator(settings, seed=seed, rate_per_second=rate, run_tag="demo-hist")
    recent = sim.generate(now - timedelta(days=days), now - timedelta(seconds=5))
    ly_end = same_time_last_year(now) + timedelta(hours=2)
    old = Simulator(settings, seed=seed + 1, rate_per_second=rate * 0.85, run_tag="demo-ly").generate(
        ly_end - timedelta(hours=last_year_hours + 2), ly_end)
    n = publish(settings, recent, "demo-history", cases) + publish(settings, old, "demo-history", cases)
    if surge:
        start = now - timedelta(minutes=surge_minutes)
        chosen = select_surges(load_surges(settings), [f"{surge}@{start:%Y-%m-%dT%H:%M}"], settings.tz)
        extra = Simulator(settings, seed=seed + 2, surges=chosen, rate_per_second=0.0, run_tag="demo-surge")
        n += publish(settings, extra.generate(start, now - timedelta(seconds=5)), "demo-history")
    return n


def accepted(client) -> int:
    return int(client.hget("cc:stats", "accepted") or 0)


def wait_tallied(client, n: int, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while accepted(client) < n:
        if time.time() > deadline:
            raise TimeoutError(f"only {accepted(client)} of {n} complaints tallied after {timeout:.0f} s")
        time.sleep(0.2)


def live_feed(env: dict, rate: float = 0.5, surges: tuple[str, ...] = (), log: Path | None = None) -> subprocess.Popen:
    """The simulator's live feed as a child process (stop it with terminate())."""
    cmd = [sys.executable, "-m", "streams.simulate", "--rate", str(rate), "--run-tag", "demo-live"]
    for s in surges:
        cmd += ["--surge", s]
    out = open(log, "ab") if log else subprocess.DEVNULL
    return subprocess.Popen(cmd, env=env, cwd=ROOT_DIR, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)


def detection(district: str, industry: str, now: datetime, observed: int, expected: float, phrases=(), merchants=(),
              samples=(), minutes_ago: int = 20) -> dict:
    """A detection as the stream's detector hands it to ``AlertStore.raise_or_update``."""
    since = now - timedelta(minutes=minutes_ago)
    score = round((observed - expected) / (expected + 1) ** 0.5, 1)
    return {"series": f"county:{district}:{industry}", "level": "county", "district": district, "industry": industry,
            "at": now.isoformat(), "since": since.isoformat(), "observed": observed, "expected": expected,
            "score": score, "threshold": 8, "method": "seasonal", "phrases": list(phrases),
            "merchants": [list(m) for m in merchants], "samples": list(samples)}


def demo_alerts(store, now: datetime) -> list[str]:
    """Three alerts: one new (the banner), one dispatched, one acknowledged."""
    out = []
    aid, _ = store.raise_or_update(detection(
        "140403", "产品质量", now, 37, 4.2, phrases=["衣服掉色", "退换难"], merchants=[("长治某购物广场", 30)],
        samples=[{"id": "demo-1", "at": now.isoformat(), "text": "新买的衣服洗了一次就严重掉色，商家拒绝退换。"}],
        minutes_ago=25), now - timedelta(minutes=6))
    out.append(aid)
    aid, _ = store.raise_or_update(detection(
        "140922", "旅游", now, 52, 9.5, phrases=["景区门票", "强制消费"], merchants=[("五台山风景名胜区", 21)],
        minutes_ago=80), now - timedelta(minutes=70))
    store.act(aid, "ack", "demo", now=now - timedelta(minutes=66))
    store.act(aid, "dispatch", "demo", team="旅游市场工作专班", now=now - timedelta(minutes=60))
    out.append(aid)
    aid, _ = store.raise_or_update(detection(
        "140105", "食品", now, 19, 3.1, phrases=["外卖异物"], merchants=[("小店区某外卖店", 9)], minutes_ago=15),
        now - timedelta(minutes=12))
    store.act(aid, "ack", "demo", now=now - timedelta(minutes=10))
    out.append(aid)
    return out
