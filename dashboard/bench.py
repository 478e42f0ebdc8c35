"""`python -m dashboard.bench`: how long the wall's refresh takes with a year of history.

The issue's yardstick: a callback's server time stays <= 200 ms with a year of history loaded.
This starts its own redis-server, writes a year of hourly and daily tallies (a few times
Shanxi's real volume), builds the Dash app on it, and times the wall's refresh callback for the
province, a city and a county the way the browser posts it.  Beside it, in the same run, the
reference: the bare Redis reads one refresh needs (the current day's and the last 24 hours'
tally hashes, pipelined), so the ratio says what the app adds on this (shared, noisy) machine.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from streams import keys

__all__ = ["year_of_tallies", "dash_post", "main"]


def year_of_tallies(r, now: datetime, per_hour: int = 120, seed: int = 1) -> int:
    """A year of hour and day tallies at a few times Shanxi's real volume, plus today's minutes."""
    from config.divisions import divisions

    rng = random.Random(seed)
    counties = [d.code for d in divisions().counties_of("140000")]
    inds = ["食品", "商超", "旅游", "产品质量", "价格", "汽车", "房地产", "一般消费纠纷"]
    kinds, chans = ["咨询", "咨询", "投诉", "举报"], ["12315", "12345", "mini-program", "110"]
    start = (now - timedelta(days=366)).replace(minute=0, second=0, microsecond=0)
    hours = int((now - start).total_seconds() // 3600) + 1
    n = 0
    p = r.pipeline(transaction=False)
    day: Counter = Counter()
    day_at = start
    for h in range(hours):
        at = start + timedelta(hours=h)
        if at.date() != day_at.date():
            p.hset(keys.tally("d", day_at.strftime("%Y%m%d"), "140000"), mapping={keys.field(*f): v for f, v in day.items()})
            day, day_at = Counter(), at
        fields: Counter = Counter()
        for _ in range(per_hour):
            fields[(rng.choice(counties), rng.choice(inds), rng.choice(kinds), rng.choice(chans))] += 1
        n += per_hour
        p.hset(keys.tally("h", at.strftime("%Y%m%d%H"), "140000"), mapping={keys.field(*f): v for f, v in fields.items()})
        day.update(fields)
        if now - at < timedelta(hours=48):
            for m in range(0, 60, 3):
                p.hset(keys.tally("m", (at + timedelta(minutes=m)).strftime("%Y%m%d%H%M"), "140000"),
                       mapping={keys.field(*f): 1 for f in list(fields)[:6]})
        if h % 500 == 0:
            p.execute()
    p.hset(keys.tally("d", day_at.strftime("%Y%m%d"), "140000"), mapping={keys.field(*f): v for f, v in day.items()})
    p.execute()
    return n


def dash_post(client, app, output_id: str, inputs: list, state: list, changed: str, headers=None):
    """POST one callback the way dash-renderer does; returns the response."""
    key = next(k for k in app.callback_map if output_id in k)
    cb = app.callback_map[key]
    body = {"output": key, "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1]}
                                       for o in key.strip(".").split("...")],
            "inputs": inputs, "state": state, "changedPropIds": [changed]}
    if len(body["outputs"]) == 1:
        body["outputs"] = body["outputs"][0]
    if len(inputs) != len(cb["inputs"]):
        raise ValueError(f"{output_id}: {len(cb['inputs'])} inputs expected, {len(inputs)} given")
    return client.post("/_dash-update-component", json=body, headers=headers or {})


def _refresh(client, app, i: int, sel: dict, seen: dict):
    sel = {**sel, "manual": 0, "i": 0, "rotate": False}
    return dash_post(client, app, "wall-kpis", [
        {"id": "wall-tick", "property": "n_intervals", "value": i},
        {"id": "wall-sel", "property": "data", "value": sel},
        {"id": "wall-mode", "property": "value", "value": "count" if i % 7 else "surge"},
        {"id": "wall-view", "property": "data", "value": {"h": 1080, "w": 1920}}],
        [{"id": "wall-hash", "property": "data", "value": seen}], "wall-tick.n_intervals")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dashboard.bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=60, help="refreshes timed (default 60)")
    ap.add_argument("--per-hour", type=int, default=120, help="complaints per hour of history (default 120)")
    args = ap.parse_args(argv)

    import redis

    from config import load_settings
    from dashboard.app import create_app, warm_up
    from streams.services import EmbeddedRedis, free_port

    tmp = Path(tempfile.mkdtemp(prefix="dash-bench-"))
    rds = EmbeddedRedis(free_port(), tmp).start()
    try:
        url = rds.url(0)
        S = load_settings({"REDIS_URL": url, "DATA_DIR": str(tmp)})
        r = redis.Redis.from_url(url, decode_responses=True)
        now = datetime.now(S.tz)
        t0 = time.perf_counter()
        print("writing a year of hourly and daily tallies …", flush=True)
        n = year_of_tallies(r, now, args.per_hour)
        print(f"  {n:,} complaints in {r.dbsize():,} keys ({time.perf_counter() - t0:.1f} s)", flush=True)
        app = create_app(S, r, env={"DASHBOARD_USERS": str(tmp / "users.json"), "DASHBOARD_SECRET_KEY": "bench"},
                         warm=False)
        try:
            warm_up(app.ctx)
            client = app.server.test_client()
            views = [{"level": "province", "code": "140000"}, {"level": "city", "code": "140400"},
                     {"level": "county", "code": "140403"}]
            app_ms, ref_ms, seen = [], [], {}
            for i in range(args.rounds):
                sel = views[(i // 4) % len(views)]
                t = time.perf_counter()
                res = _refresh(client, app, i, sel, seen)
                app_ms.append((time.perf_counter() - t) * 1000)
                if res.status_code != 200:
                    print(f"refresh failed: HTTP {res.status_code} {res.data[:300]!r}", file=sys.stderr)
                    return 1
                seen = res.get_json()["response"]["wall-hash"]["data"]
                t = time.perf_counter()
                with r.pipeline(transaction=False) as p:
                    p.hgetall(keys.tally("d", now.strftime("%Y%m%d"), "140000"))
                    for h in range(24):
                        p.hgetall(keys.tally("h", (now - timedelta(hours=h)).strftime("%Y%m%d%H"), "140000"))
                    p.execute()
                ref_ms.append((time.perf_counter() - t) * 1000)
        finally:
            app.ctx.background.shutdown()
        med, worst = statistics.median(app_ms), max(app_ms)
        p95 = sorted(app_ms)[int(0.95 * (len(app_ms) - 1))]
        ref = statistics.median(ref_ms)
        print(f"wall refresh, {args.rounds} rounds over province / city / county views:")
        print(f"  app callback   median {med:6.1f} ms   p95 {p95:6.1f} ms   max {worst:6.1f} ms")
        print(f"  reference      median {ref:6.1f} ms   (the bare Redis reads of one refresh)")
        print(f"  ratio          {med / ref:6.1f}x the reference (median)")
        print(f"  target <= 200 ms: {'met' if worst <= 200 else 'NOT met'} (max {worst:.0f} ms)")
        return 0
    finally:
        rds.stop()


if __name__ == "__main__":
    sys.exit(main())
