"""The pipeline on a real 3-node Redis Cluster (REDIS_CLUSTER=1): redis-server processes started
here with ``--cluster-enabled yes``, the real broker, a faust worker and the intake API.

Every key of one province carries the province as a hash tag, so each atomic tally step is
one slot and the provinces land on different nodes; counts, dedup and dead-letter counting
must come out exactly as on one redis-server."""
import asyncio
import json
import time

import httpx
import pytest

from config import load_settings
from streams.services import EmbeddedRedisCluster, free_port
from streams.store import redis_client
from tests.conftest import ROOT, make_complaints, publish_raw, wait_http, wait_until

# slot of {province}: 110000 -> 5657, 140000 -> 13646, 440000 -> 13903, 510000 -> 4280; with three
# even slot ranges (0-5460, 5461-10921, 10922-16383) these four provinces sit on all three nodes
POOLS = {"110000": ["110101", "110102"], "140000": ["140105", "140403"], "440000": ["440103", "440104"],
         "510000": ["510104"]}
PER = {"110000": 130, "140000": 170, "440000": 90, "510000": 60}


@pytest.fixture
def cluster(tmp_path):
    c = EmbeddedRedisCluster([free_port() for _ in range(3)], tmp_path / "cluster").start()
    yield c
    c.stop()


def test_pipeline_on_a_three_node_cluster_counts_exactly_and_spreads_provinces(stack, procs, cluster):
    env = stack["env"]
    env["REDIS_URL"] = cluster.url
    env["REDIS_CLUSTER"] = "1"
    rc = redis_client(cluster.url, cluster=True)
    worker = procs("-m", "streams", "worker", "-l", "warn", name="worker")
    topic = stack["settings"].complaints_topic

    def joined():
        for k in rc.scan_iter(match="cc:hb:worker:*"):
            raw = rc.get(k)
            if raw and any(p.startswith(topic + "/") for p in json.loads(raw)["partitions"]):
                return True
        return not worker.alive() and worker.output()[-3000:]
    wait_until(joined, 90, "a worker on the cluster to join the group")
    assert worker.alive(), worker.output()[-3000:]

    port = free_port()
    api_proc = procs("-m", "streams.api", "--port", str(port), name="api")
    api = f"http://127.0.0.1:{port}"
    # the token made as an operator would, by the CLI in cluster mode (its keys carry {api}; --replace
    # runs a MULTI over both), then used by the API on the cluster
    import subprocess
    import sys

    made = subprocess.run([sys.executable, "-m", "streams.tokens", "add", "cluster-tester", "--scopes", "all"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr[-2000:]
    made = subprocess.run([sys.executable, "-m", "streams.tokens", "add", "cluster-tester", "--scopes", "all", "--replace"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr[-2000:]
    headers = {"Authorization": "Bearer " + made.stdout.strip().splitlines()[-1]}
    assert rc.exists("cc:{api}:api:tokens")
    wait_http(api + "/openapi.json", api_proc, "the API on the cluster", headers=headers)

    batch = []
    for prov, pool in POOLS.items():
        batch += make_complaints(PER[prov], prefix=f"cl{prov}-", district_pool=pool)
    for i in range(0, len(batch), 150):                              # messages that mix provinces
        r = httpx.post(api + "/api/v1/complaints", json=batch[i:i + 150], timeout=30, headers=headers)
        assert r.status_code == 202, r.text
    wait_until(lambda: rc.exists("cc:{140000}:seen:" + batch[200]["id"]), 60, "the first batches counted")
    # the same ids again, straight onto the topic (past the API's check): the worker's dedup step
    settings = load_settings(env)
    asyncio.run(publish_raw(settings, [dict(batch[0]), dict(batch[200])]))
    r = httpx.post(api + "/api/v1/complaints", json=[batch[1]], timeout=30, headers=headers)
    assert r.status_code == 409 and "already accepted" in r.text   # the API's check finds it on its node

    def stats():
        return httpx.get(api + "/api/v1/stats", headers=headers, timeout=10).json()
    total = sum(PER.values())
    wait_until(lambda: (s := stats())["accepted"] == total and s["duplicate"] == 3 and s, 60,
               f"{total} tallied and 3 duplicates counted on the cluster")
    time.sleep(1.5)                                                 # nothing more arrives
    s = stats()
    assert (s["accepted"], s["duplicate"], s["rejected"]) == (total, 3, 3), s
    assert s["rejects_by_reason"] == {"duplicate_id": 3}

    def count(level, code, window="day", **q):
        res = httpx.get(api + "/api/v1/counts", params={"level": level, "code": code, "window": window, **q},
                        headers=headers, timeout=10)
        assert res.status_code == 200, res.text
        return res.json()["total"]
    for prov, n in PER.items():
        assert count("province", prov) == n, prov
        assert count("province", prov, window="total") == n, prov
        assert count("province", prov, window="minute") == n, prov
    assert count("county", "140403") == 85 and count("county", "110102") == 65
    assert count("province", "140000", kind="咨询") == len([i for i in range(170) if i % 3 == 0])

    # each province's keys live in its own slot; together they spread over the three nodes
    nodes = {}
    for i, node in enumerate(cluster.nodes):
        c = node.client(decode_responses=True)
        names = list(c.scan_iter(match="cc:*", count=1000))
        c.close()
        nodes[i] = names
        for prov in PER:
            mine = [k for k in names if "{" + prov + "}" in k]
            # a province is wholly on one node (its tally, docs, dedup and stats keys)
            assert not mine or all(prov in k for k in mine)
    holders = {prov: {i for i, names in nodes.items() if any("{" + prov + "}" in k for k in names)}
               for prov in PER}
    assert all(len(h) == 1 for h in holders.values()), holders
    assert len(set().union(*holders.values())) == 3, holders
    seen = [k for names in nodes.values() for k in names if ":seen:" in k]
    assert len(seen) == total and all(k.startswith("cc:{") for k in seen)
    rc.close()


ALERTS_ON_CLUSTER = r"""
import json, sys
from datetime import datetime, timedelta
from alerts.lifecycle import TZ
from alerts.store import AlertStore
from streams import keys
from streams.store import redis_client
assert keys.CLUSTER and keys.ALERTS == "cc:{alerts}:"
store = AlertStore(redis_client(sys.argv[1]))
t0 = datetime(2026, 12, 4, 10, tzinfo=TZ)
det = {"series": "county:140403:食品", "level": "county", "district": "140403", "industry": "食品", "at": t0.isoformat(),
       "observed": 12, "expected": 3.0, "score": 4.0, "threshold": 3.0, "since": t0.isoformat(), "method": "seasonal",
       "phrases": [["变质", 7]], "merchants": [], "samples": [{"id": "c1", "text": "变质，电话13812345678"}]}
aid, outcome = store.raise_or_update(det, t0)
again, outcome2 = store.raise_or_update({**det, "observed": 15}, t0 + timedelta(minutes=5))
store.act(aid, "ack", "值班员", now=t0 + timedelta(minutes=6))
sid = store.add_silence(district="140100", until=t0 + timedelta(hours=2), reason="测试", by="王科长", now=t0)
silenced = store.raise_or_update({**det, "series": "county:140105:食品", "district": "140105"}, t0)
print(json.dumps({"aid": aid, "same": again == aid, "outcome": outcome, "open": [a["id"] for a in store.list(now=t0)],
                  "state": store.get(aid)["state"], "silences": len(store.silences(t0)), "silenced": silenced[0]}))
"""


def test_alerts_store_steps_are_single_slot_on_a_cluster(cluster, tmp_path):
    """alerts/store.py's WATCH/MULTI steps and Lua touch several keys: with the {alerts} tag they
    run on a cluster (a process with REDIS_CLUSTER=1, as the detector and the API are)."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {**os.environ, "REDIS_CLUSTER": "1", "REDIS_URL": cluster.url, "DATA_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", ALERTS_ON_CLUSTER, cluster.url], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["same"] and res["open"] == [res["aid"]] and res["silences"] == 1 and res["silenced"] is None, res
    rc = redis_client(cluster.url, cluster=True)
    names = list(rc.scan_iter(match="cc:*"))
    assert names and all(k.startswith("cc:{alerts}:") for k in names), names
    assert "13812345678" not in json.dumps([rc.type(k) == "string" and rc.get(k) for k in names])
    rc.close()
