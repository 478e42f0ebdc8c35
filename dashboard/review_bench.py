"""`python -m dashboard.review_bench`: how long the review's first screen takes with a year of history.

The issue's yardstick: the review (/review) shows its first screen within 3 s of sign-in with
a year of history on a 2-core machine. This starts its own redis-server, writes a year of
hourly and daily tallies (as ``dashboard.bench`` does) and 90 days of complaint documents
(merchants and phrases), builds the Dash app on it and posts the review's two callbacks (the
tables; the cloud and phrases) at once, the way the browser does on opening the page: first on
a cold app, then on an app whose warm-up (what ``make run`` does at start) has run. Then the
period changes (周, 季度, 月) on the warm app.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

TARGET_S = 3.0
PHRASES = ["质量差", "退款难", "衣服掉色", "更换难", "价格不合理", "虚假宣传", "预付卡跑路", "服务态度差", "电池鼓包",
           "过期", "缺斤少两", "售后不处理", "不给发票", "保质期不清楚", "霸王条款", "强制消费"]


def seed_documents(r, now: datetime, tz, days: int = 90, per_hour: int = 60, seed: int = 3) -> int:
    """``days`` of hour document lists (``cc:docs:{hour}:{province}``) with merchants and phrases."""
    import orjson

    from config.divisions import divisions
    from streams.topicmodel import hour_keys

    rng = random.Random(seed)
    counties = [d.code for d in divisions().counties_of("140000")]
    inds = ["食品", "商超", "旅游", "产品质量", "价格", "汽车", "房地产", "一般消费纠纷"]
    start = (now - timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    keys_ = hour_keys("140000", start, now, tz)
    p = r.pipeline(transaction=False)
    n = 0
    for j, k in enumerate(keys_):
        at = (start + timedelta(hours=j)).timestamp()
        docs = []
        for i in range(per_hour):
            ph = rng.sample(PHRASES, 2)
            docs.append(orjson.dumps({"id": f"b{j}-{i}", "ts": at + i * 3600 / per_hour, "d": rng.choice(counties),
                                      "i": rng.choice(inds), "k": rng.choice(["投诉", "举报", "咨询"]), "c": "12315",
                                      "m": f"商户{rng.randint(1, 400)}", "t": "，".join(ph), "ph": ph, "kw": ph}))
        p.rpush(k, *docs)
        n += len(docs)
        if j % 100 == 0:
            p.execute()
    p.execute()
    return n


def _post(client, app, output_id: str, inputs: list, headers: dict):
    key = next(k for k in app.callback_map if f"{output_id}.children" in k and "@" not in k)
    body = {"output": key, "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1]}
                                       for o in key.strip(".").split("...")],
            "inputs": inputs, "state": [], "changedPropIds": ["review-period.value"]}
    return client.post("/_dash-update-component", json=body, headers=headers)


def _inputs(kind: str) -> list:
    return [{"id": "review-period", "property": "value", "value": kind},
            {"id": "review-date", "property": "date", "value": None},
            {"id": "review-range", "property": "start_date", "value": None},
            {"id": "review-range", "property": "end_date", "value": None},
            {"id": "review-district", "property": "value", "value": "140000"},
            {"id": "review-industry", "property": "value", "value": ""}]


def screen(app, client, headers, kind: str) -> tuple[float, float]:
    """(tables s, cloud and phrases s) of one view, both callbacks posted at once."""
    times: dict[str, float] = {}
    fails: list[str] = []

    def one(output_id: str) -> None:
        t = time.perf_counter()
        res = _post(client, app, output_id, _inputs(kind), headers)
        times[output_id] = time.perf_counter() - t
        if res.status_code != 200 or "计算中" in res.get_data(as_text=True) or "暂不可用" in res.get_data(as_text=True):
            fails.append(f"{output_id}: HTTP {res.status_code} {res.get_data(as_text=True)[:200]}")

    threads = [threading.Thread(target=one, args=(o,)) for o in ("review-title", "review-cloud")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if fails:
        raise RuntimeError("; ".join(fails))
    return times["review-title"], times["review-cloud"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dashboard.review_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-hour", type=int, default=120, help="complaints per hour of history (default 120)")
    ap.add_argument("--docs-per-hour", type=int, default=60, help="complaint documents per hour, 90 days (default 60)")
    args = ap.parse_args(argv)

    import redis

    from config import load_settings
    from dashboard.app import create_app, warm_up
    from dashboard.bench import year_of_tallies
    from streams.services import EmbeddedRedis, free_port

    tmp = Path(tempfile.mkdtemp(prefix="review-bench-"))
    rds = EmbeddedRedis(free_port(), tmp).start()
    try:
        url = rds.url(0)
        S = load_settings({"REDIS_URL": url, "DATA_DIR": str(tmp)})
        r = redis.Redis.from_url(url, decode_responses=True)
        now = datetime.now(S.tz)
        t0 = time.perf_counter()
        print("writing a year of tallies and 90 days of complaint documents …", flush=True)
        n = year_of_tallies(r, now, args.per_hour)
        d = seed_documents(r, now, S.tz, per_hour=args.docs_per_hour)
        print(f"  {n:,} complaints tallied, {d:,} documents ({time.perf_counter() - t0:.1f} s)", flush=True)
        results = {}
        for label, warm in (("cold (no warm-up)", False), ("after the warm-up", True)):
            app = create_app(S, r, env={"DASHBOARD_USERS": str(tmp / "users.json"), "DASHBOARD_SECRET_KEY": "bench"},
                             warm=False)
            try:
                if warm:
                    t = time.perf_counter()
                    warm_up(app.ctx)
                    from dashboard import jobs, review
                    sc = review.scope(app.ctx, "month", None, None, None, app.ctx.province, None)
                    t_args, c_args = review.topic_args(sc), review.cloud_args(sc, review.CLOUD_SCREEN)
                    app.ctx.background.wait(("review-topics",) + t_args, jobs.topics, *t_args, timeout=300)
                    app.ctx.background.wait(("review-cloud",) + c_args, jobs.cloud, *c_args, timeout=300)
                    print(f"  warm-up took {time.perf_counter() - t:.1f} s (in the background at start)", flush=True)
                client = app.server.test_client()
                if "bench-head" not in app.ctx.users.load():
                    app.ctx.users.add("bench-head", "head", "bench-password-1", "测试局长")
                _sign_in(client)
                headers = {"X-CSRFToken": client.get_cookie("_csrf_token").value}
                tables, cloud = screen(app, client, headers, "month")
                results[label] = max(tables, cloud)
                print(f"{label}: first screen (月) tables {tables:.2f} s, cloud and phrases {cloud:.2f} s", flush=True)
                if warm:
                    for kind in ("week", "quarter", "month"):
                        tables, cloud = screen(app, client, headers, kind)
                        print(f"  then {kind:8s} tables {tables:.2f} s, cloud and phrases {cloud:.2f} s", flush=True)
            finally:
                app.ctx.background.shutdown(wait=True)
        worst = max(results.values())
        print(f"target <= {TARGET_S:g} s: {'met' if worst <= TARGET_S else 'NOT met'} "
              f"(cold {results['cold (no warm-up)']:.2f} s, after warm-up {results['after the warm-up']:.2f} s)")
        return 0
    finally:
        rds.stop()


def _sign_in(client) -> None:
    import re

    page = client.get("/login?next=/review").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    res = client.post("/login", data={"username": "bench-head", "password": "bench-password-1", "csrf": token,
                                      "next": "/review"})
    if res.status_code != 302:
        raise RuntimeError(f"sign-in failed: HTTP {res.status_code}")


if __name__ == "__main__":
    sys.exit(main())
