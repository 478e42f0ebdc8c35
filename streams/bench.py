"""`python -m streams.bench`: how fast the streaming core is, beside raw aiokafka on the same broker.

Everything runs embedded on this machine (broker, Redis, one worker, the producer), so the
figures are shared-machine figures: read the ratios, not the absolutes.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
import psutil
import redis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from config import ROOT_DIR, load_settings
from config.divisions import divisions
from streams import keys
from streams.intake import Intake
from streams.schema import Rules
from streams.services import EmbeddedBroker, EmbeddedRedis, free_port

INDUSTRIES = ["食品", "商超", "旅游", "产品质量", "价格", "汽车", "房地产", "一般消费纠纷"]
_TEXTS: list[str] = []
_SHOPS = ["万达广场", "美宜佳便利店", "国美电器", "华联超市", "如家酒店", "4S店", "健身会所", "教育培训中心",
          "家具城", "眼镜店", "外卖平台商家", "景区售票处", "美容美发店", "手机维修店", "药店"]


def texts() -> list[str]:
    """The real complaint texts of tests/data (nlp.bench.real_texts: reviews and complaints)."""
    if not _TEXTS:
        from nlp.bench import real_texts
        _TEXTS.extend(real_texts())
    return _TEXTS


def unique_text(i: int, rnd: random.Random) -> str:
    """A realistic text no other complaint of the run has: a real one, with its own shop,
    date and amount around it (so no cache of a whole text's result can help)."""
    pool = texts()
    return (f"{rnd.randrange(1, 13)}月{rnd.randrange(1, 29)}日在{rnd.choice(_SHOPS)}（{i}号）消费"
            f"{rnd.randrange(20, 5000)}元。{pool[i % len(pool)]}联系电话138{rnd.randrange(10**8):08d}")


def say(msg: str) -> None:
    print(msg, flush=True)


def complaints(n: int, tag: str, seed: int = 1) -> list[dict]:
    rnd = random.Random(seed)
    pool = [d.code for d in divisions().counties_of("140000")]
    now = time.time()
    out = []
    for i in range(n):
        t = now - rnd.random() * 120      # live intake: received in the last two minutes (within the grace)
        out.append({"id": f"{tag}-{i}", "received_at": time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(t + 8 * 3600)),
                    "channel": rnd.choice(["12315", "12345", "mini-program", "110"]),
                    "kind": rnd.choices(["咨询", "投诉", "举报"], [72, 22, 6])[0],
                    "district": rnd.choice(pool), "industry": rnd.choice(INDUSTRIES),
                    "merchant": f"商户{rnd.randrange(500)}", "amount": round(rnd.random() * 2000, 2),
                    "text": unique_text(i + seed * 1_000_003, rnd), "contact": {"name": "张三", "phone": "13812345678"}})
    return out


async def raw_reference(settings, n: int, partitions: int) -> tuple[float, float]:
    """Raw aiokafka: n ~300-byte JSON records, one per message; produce rate, consume+json.loads rate."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    from streams.kafka_security import aiokafka_kwargs

    kafka = aiokafka_kwargs(settings)
    topic = f"raw-ref-{os.getpid()}"
    admin = AIOKafkaAdminClient(**kafka)
    await admin.start()
    await admin.create_topics([NewTopic(topic, partitions, 1)])
    await admin.close()
    value = orjson.dumps({"id": "x" * 20, "text": "衣服掉色" * 40, "district": "140403"})
    p = AIOKafkaProducer(**kafka, linger_ms=20, max_batch_size=1 << 20)
    await p.start()
    t0 = time.perf_counter()
    for _ in range(n):
        await p.send(topic, value)
    await p.flush()
    produce = n / (time.perf_counter() - t0)
    await p.stop()
    c = AIOKafkaConsumer(**kafka, enable_auto_commit=False, auto_offset_reset="earliest",
                         max_partition_fetch_bytes=8 << 20, fetch_max_bytes=32 << 20)
    await c.start()
    tps = [TopicPartition(topic, i) for i in range(partitions)]
    c.assign(tps)
    await c.seek_to_beginning(*tps)
    got = 0
    t0 = time.perf_counter()
    last = t0
    while got < n and time.perf_counter() - last < 10:
        batch = await c.getmany(timeout_ms=1000, max_records=10000)
        for msgs in batch.values():
            for m in msgs:
                orjson.loads(m.value)
            got += len(msgs)
            last = time.perf_counter()
    if got < n:
        raise SystemExit(f"the raw reference read back only {got:,} of {n:,} records")
    consume = got / (last - t0)
    await c.stop()
    return produce, consume


def accepted(r: redis.Redis) -> int:
    return sum(int(r.hget(k, "accepted") or 0) for k in keys.stats_keys())


def wait_for(r: redis.Redis, target: int, timeout: float) -> float:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if accepted(r) >= target:
            return time.perf_counter()
        time.sleep(0.01)
    raise SystemExit(f"only {accepted(r)} of {target} tallied within {timeout:.0f} s")


async def throughput(settings, records: list[dict], r: redis.Redis) -> tuple[float, float]:
    """Producer → broker → worker → Redis, all concurrently; returns (complaints/s, produce seconds)."""
    base = accepted(r)
    async with Intake(settings, source="bench", linger_ms=20) as it:
        t0 = time.perf_counter()
        await it.publish(records, wait=True)
        produced = time.perf_counter() - t0
    done = await asyncio.to_thread(wait_for, r, base + len(records), 600)
    return len(records) / (done - t0), produced


async def publish(settings, records: list[dict]) -> float:
    """Publish ``records`` as the intake does; returns the seconds it took."""
    async with Intake(settings, source="bench", linger_ms=20) as it:
        t0 = time.perf_counter()
        await it.publish(records, wait=True)
        return time.perf_counter() - t0


def backlog_rate(r: redis.Redis, base: int, n: int, watched: dict[str, int],
                 timeout: float = 900) -> tuple[float, float, int, dict[str, float]]:
    """A worker consuming a backlog of ``n``: complaints/s from its first count to its last (its
    start-up and group join left out, as the raw reference leaves out the producer), and the
    CPU seconds of each ``watched`` process {name: pid} over the same span. Returns
    (rate, seconds, complaints counted in them, cpu)."""
    deadline = time.time() + timeout
    n_polls = 0
    while accepted(r) <= base:
        if time.time() > deadline:
            raise SystemExit("the worker counted nothing")
        n_polls += 1
        if n_polls % 500 == 0 and psutil.Process(watched["worker"]).status() == psutil.STATUS_ZOMBIE:
            raise SystemExit("the worker exited before counting anything (see worker.log)")
        time.sleep(0.002)
    cpu0 = {k: sum(psutil.Process(pid).cpu_times()[:2]) for k, pid in watched.items()}
    t0, c0 = time.perf_counter(), accepted(r)
    done = wait_for(r, base + n, timeout)
    cpu = {k: sum(psutil.Process(pid).cpu_times()[:2]) - cpu0[k] for k, pid in watched.items()}
    return (base + n - c0) / max(done - t0, 1e-9), done - t0, base + n - c0, cpu


def latency_run(api_url: str, rate: int, seconds: int, r: redis.Redis, tag: str) -> tuple[list[float], int]:
    """POST batches to the HTTP API at ``rate`` complaints/s; accept→visible latency from the worker."""
    import httpx

    per_post = max(1, rate // 20)
    batches = [complaints(per_post, f"{tag}-{i}", seed=i) for i in range(rate * seconds // per_post)]
    from streams.tokens import Tokens

    auth = {"Authorization": "Bearer " + Tokens(r).add("bench", "submit", replace=True)}
    with httpx.Client(timeout=30, headers=auth) as client:
        for i in range(20):  # warm-up: connections, metadata, first fetches
            client.post(api_url + "/api/v1/complaints", json=complaints(per_post, f"{tag}-warm-{i}", seed=i))
            time.sleep(0.05)
        time.sleep(2)
        for k in r.scan_iter(match="cc:lat:*"):
            r.delete(k)
        base = accepted(r)
        t0 = time.perf_counter()
        for i, b in enumerate(batches):
            res = client.post(api_url + "/api/v1/complaints", json=b)
            if res.status_code != 202:
                raise SystemExit(f"the API refused a batch: {res.status_code} {res.text[:200]}")
            delay = t0 + (i + 1) / 20 - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
    wait_for(r, base + per_post * len(batches), 120)
    time.sleep(1.5)  # the worker publishes its samples every second
    samples = [float(x) for k in r.scan_iter(match="cc:lat:*") for x in r.lrange(k, 0, -1)]
    return samples, per_post * len(batches)


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else float("nan")


def mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m streams.bench", description=__doc__.splitlines()[0])
    ap.add_argument("--complaints", type=int, default=300_000, help="complaints in the throughput run (default %(default)s)")
    ap.add_argument("--reference", type=int, default=200_000, help="records in the raw aiokafka reference (default %(default)s)")
    ap.add_argument("--latency-rate", type=int, default=2000, help="complaints/s for the latency run (default %(default)s)")
    ap.add_argument("--latency-seconds", type=int, default=20, help="length of the latency run (default %(default)s)")
    ap.add_argument("--soak-minutes", type=float, default=0, help="also run the demo feed this long and report memory (0 = skip)")
    args = ap.parse_args(argv)

    data = Path(tempfile.mkdtemp(prefix="c12315-bench-"))
    say(f"bench: embedded broker and Redis under {data}")
    broker = EmbeddedBroker(free_port(), data).start()
    rds = EmbeddedRedis(free_port(), data).start()
    api_port = free_port()
    env = {**os.environ, "KAFKA_BROKER": f"127.0.0.1:{broker.port}", "REDIS_URL": rds.url(0),
           "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",
           "DATA_DIR": str(data), "API_PORT": str(api_port), "COMPLAINTS_TOPIC": "bench-complaints",
           "DEAD_LETTER_TOPIC": "bench-dlq", "CONSUMER_GROUP": "bench-tally"}
    settings = load_settings(env)
    r = redis.Redis.from_url(rds.url(0), decode_responses=True)
    procs = []
    try:
        say(f"1/4 raw aiokafka reference, {args.reference:,} records …")
        raw_produce, raw_consume = asyncio.run(raw_reference(settings, args.reference, settings.kafka.partitions))
        say(f"    produce {raw_produce:,.0f} records/s, consume+json.loads {raw_consume:,.0f} records/s")

        def start_worker(nlp: bool, wait: bool = True) -> subprocess.Popen:
            for k in r.scan_iter(match="cc:hb:worker:*"):
                r.delete(k)
            w = subprocess.Popen([sys.executable, "-m", "streams", "worker", "-l", "warn"],
                                 env={**env, "NLP_ENABLED": "1" if nlp else "0"}, cwd=ROOT_DIR,
                                 stdout=open(data / "worker.log", "ab"), stderr=subprocess.STDOUT)
            if not wait:
                return w
            deadline = time.time() + 90
            while not any('bench-complaints/' in (r.get(k) or "") for k in r.scan_iter(match="cc:hb:worker:*")):
                if time.time() > deadline or w.poll() is not None:
                    raise SystemExit(f"the worker did not start; see {data / 'worker.log'}")
                time.sleep(0.2)
            return w

        api = subprocess.Popen([sys.executable, "-m", "streams.api"], env=env, cwd=ROOT_DIR,
                               stdout=open(data / "api.log", "ab"), stderr=subprocess.STDOUT)
        procs.append(api)
        say("    generating and validating complaints (unique real texts) …")
        rules = Rules(settings)
        say(f"2/4 a worker consuming a backlog of {args.complaints:,} complaints (validation, masking, "
            "exactly-once dedup, tally), topic extraction off, then on: timed from its first count to its last, "
            "as the raw reference times consuming …")
        results = {}
        worker = None
        for nlp in (False, True):
            worker = start_worker(nlp=nlp)                       # warm: connections, scripts, NLP loaded
            procs.append(worker)
            asyncio.run(throughput(settings, [rules.validate(c)[0] for c in complaints(2000, f"warm{int(nlp)}")], r))
            worker.terminate()
            worker.wait(30)
            recs = [rules.validate(c)[0] for c in complaints(args.complaints, f"tp{int(nlp)}", seed=2 + nlp)]
            base = accepted(r)
            asyncio.run(publish(settings, recs))
            worker = start_worker(nlp=nlp, wait=False)          # timed from its first count: start-up left out
            procs.append(worker)
            watched = {"broker": broker.pid, "redis": rds.pid, "worker": worker.pid}
            rate_, secs, counted, cpu = backlog_rate(r, base, len(recs), watched)
            results[nlp] = (rate_, cpu, secs, counted)
            say(f"    extraction {'on: ' if nlp else 'off:'} {rate_:,.0f} complaints/s; {rate_ / raw_consume:.2f}× raw aiokafka "
                f"consume; CPU a complaint over {counted:,} of them: "
                + ", ".join(f"{k} {v / counted * 1e6:.0f} µs" for k, v in cpu.items()))
            if not nlp:
                worker.terminate()
                worker.wait(30)
        rate, cpu, _, counted = results[False]
        rate_nlp = results[True][0]
        busy = ", ".join(f"{k} {v / counted * 1e6:.0f} µs" for k, v in cpu.items())
        ratio, ratio_nlp = rate / raw_consume, rate_nlp / raw_consume
        from nlp.bench import run as extraction_bench
        ex = extraction_bench()
        say(f"    extraction alone, one core, {ex['complaints']:,} unique real complaints, each once: "
            f"{ex['extract']['per_cpu_s']:,.0f}/CPU-s (plain rjieba cut {ex['rjieba_cut']['per_cpu_s']:,.0f}/CPU-s, "
            f"jieba.lcut {ex['jieba_lcut']['per_cpu_s']:,.0f}/CPU-s)")

        say(f"3/4 latency: {args.latency_rate:,}/s through the HTTP API for {args.latency_seconds} s …")
        samples, sent = latency_run(f"http://127.0.0.1:{api_port}", args.latency_rate, args.latency_seconds, r, "lat")
        p50, p99 = pct(samples, 50), pct(samples, 99)
        say(f"    {sent:,} complaints, accept→visible p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {max(samples):.0f} ms")

        soak = ""
        if args.soak_minutes > 0:
            say(f"4/4 soak: demo feed for {args.soak_minutes:g} min, memory every minute …")
            feed = subprocess.Popen([sys.executable, "-m", "streams.simulate", "--rate", "20"], env=env, cwd=ROOT_DIR,
                                    stdout=subprocess.DEVNULL, stderr=open(data / "feed.log", "ab"))
            procs.append(feed)
            marks = []
            for minute in range(int(args.soak_minutes) + 1):
                marks.append((minute, mb(broker.pid), mb(worker.pid)))
                say(f"    t={minute:>3} min broker {marks[-1][1]:.0f} MB, worker {marks[-1][2]:.0f} MB, tallied {accepted(r):,}")
                if minute < int(args.soak_minutes):
                    time.sleep(60)
            soak = (f"soak {args.soak_minutes:g} min: broker {marks[0][1]:.0f}→{marks[-1][1]:.0f} MB, "
                    f"worker {marks[0][2]:.0f}→{marks[-1][2]:.0f} MB")
        else:
            say("4/4 memory (use --soak-minutes 30 for the half-hour soak)")
        b_mb, w_mb = mb(broker.pid), mb(worker.pid)
        print(f"""
=== streaming core benchmark ({os.cpu_count()} cores, everything on this machine) ===
raw aiokafka produce           {raw_produce:>10,.0f} records/s
raw aiokafka consume+json      {raw_consume:>10,.0f} records/s
worker on a backlog → Redis    {rate:>10,.0f} complaints/s   = {ratio:.2f}× raw consume   (target ≥ 0.3×)
  with topic extraction on     {rate_nlp:>10,.0f} complaints/s   = {ratio_nlp:.2f}× raw consume   (target ≥ 0.2×; {rate / rate_nlp:.2f}× slower than off)
extraction, one core           {ex['extract']['per_cpu_s']:>10,.0f} complaints/CPU-s   (plain rjieba cut {ex['rjieba_cut']['per_cpu_s']:,.0f}/CPU-s = {ex['extract']['per_cpu_s'] / ex['rjieba_cut']['per_cpu_s']:.2f}×; target ≥ 20,000)
CPU a complaint (off)          {busy}
latency at {args.latency_rate:,}/s via HTTP   p50 {p50:,.0f} ms   p99 {p99:,.0f} ms      (target p99 ≤ 1000 ms)
memory at end                  broker {b_mb:,.0f} MB   worker {w_mb:,.0f} MB
{soak}""".rstrip(), flush=True)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        broker.stop()
        rds.stop()


if __name__ == "__main__":
    main()
