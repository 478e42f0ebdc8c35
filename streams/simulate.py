"""`python -m streams.simulate`: a realistic stream of Shanxi complaints for demos, tests and baselines.

Live mode (the default) paces the generator of ``streams.simgen`` against the clock (faster
with ``--speedup``) and sends a batch about every 200 ms, stamped with the current local time.
``--history-days`` writes past days as fast as it can, stamped with their own times, so the
detectors have a baseline. Complaints go to Kafka through the same ``Intake`` as the API
(validated first), or to the HTTP API (``--api``), or to a JSON-lines file (``--out``).
Scripted surges (``config/surges.yaml``) are announced on stderr as they start and end:

    SURGE START name=mall-fading-clothes at=2024-10-01T10:20:00.000+08:00 district=140403 industry=产品质量 label=…
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time
from collections import Counter
from datetime import datetime, timedelta

import orjson

from config import Settings, SettingsError, load_settings
from config.sections import SimulatorSettings
from streams.schema import Rules
from streams.simgen import SURGES_FILE, Simulator, Surge, SurgeError, load_surges, select_surges

TICK_SECONDS = 0.2
MAX_PER_TICK = 20_000        # at huge speedups the rest waits for the next tick instead of piling up
# Shanxi 2023: 317,214 items through 12315 -> about 36 an hour on average.
HISTORY_RATE_PER_HOUR = 317_214 / (365 * 24)
API_BATCH = 1000


class Unreachable(RuntimeError):
    """The destination cannot take complaints; the message is the one line the user sees."""


def say(msg: str) -> None:
    """One line to stderr, without breaking a progress bar."""
    from tqdm import tqdm
    tqdm.write(msg, file=sys.stderr)


# --- destinations ----------------------------------------------------------------------------

class KafkaSink:
    """Validated records onto the complaints topic, many to a message, via the shared Intake."""

    def __init__(self, settings: Settings):
        from streams.intake import Intake
        self.settings = settings
        self.intake = Intake(settings, source="simulator")
        self.where = f"Kafka {settings.broker} topic {settings.complaints_topic}"
        self.batch = settings.kafka.batch_size

    async def start(self) -> None:
        from aiokafka.errors import KafkaError
        try:
            await asyncio.wait_for(self.intake.start(), timeout=20)
        except (KafkaError, OSError, TimeoutError) as e:
            await self._quiet_stop()
            raise Unreachable(f"cannot reach the Kafka broker at {self.settings.broker} ({e.__class__.__name__}); "
                              f"is it running? (`make run` starts one, or set KAFKA_BROKER)") from None

    async def send(self, pairs: list[tuple[dict, dict]], stats: Stats) -> None:
        from aiokafka.errors import KafkaError
        try:
            await asyncio.wait_for(self.intake.publish([rec for _raw, rec in pairs]), timeout=30)
        except (KafkaError, OSError, TimeoutError) as e:
            raise Unreachable(f"the Kafka broker at {self.settings.broker} did not acknowledge "
                              f"({e.__class__.__name__}); stopped") from None
        stats.count_sent(raw for raw, _ in pairs)

    async def send_events(self, events: list[dict], stats: Stats) -> None:
        """Case events, validated and signed like the API's."""
        from aiokafka.errors import KafkaError
        from streams.cases.api import publish_events
        from streams.cases.events import validate_event
        now = time.time()
        good = [ev for ev, errs in (validate_event(e, now, self.settings.tz) for e in events) if not errs]
        stats.case_events_invalid += len(events) - len(good)
        try:
            await asyncio.wait_for(publish_events(self.intake, good), timeout=30)
        except (KafkaError, OSError, TimeoutError) as e:
            raise Unreachable(f"the Kafka broker at {self.settings.broker} did not acknowledge "
                              f"({e.__class__.__name__}); stopped") from None
        stats.case_events += len(good)

    async def stop(self) -> None:
        await self._quiet_stop()

    async def _quiet_stop(self) -> None:
        try:
            await asyncio.wait_for(self.intake.stop(), timeout=10)
        except Exception:  # noqa: BLE001 - stopping a producer that never started; nothing to report
            pass


class FileSink:
    """Raw complaints as JSON lines (what an export or the API would take), ``-`` = stdout."""

    def __init__(self, path: str):
        self.path = path
        self.where = "stdout" if path == "-" else f"file {path}"
        self.batch = 500
        self.f = None

    async def start(self) -> None:
        try:
            self.f = sys.stdout.buffer if self.path == "-" else open(self.path, "wb")
        except OSError as e:
            raise Unreachable(f"cannot write {self.path}: {e.strerror}") from None

    async def send(self, pairs: list[tuple[dict, dict]], stats: Stats) -> None:
        try:
            self.f.write(b"".join(orjson.dumps(raw) + b"\n" for raw, _ in pairs))
            self.f.flush()
        except BrokenPipeError:
            raise Unreachable("the reader of stdout went away; stopped") from None
        except OSError as e:
            raise Unreachable(f"cannot write {self.path}: {e.strerror}") from None
        stats.count_sent(raw for raw, _ in pairs)

    async def send_events(self, events: list[dict], stats: Stats) -> None:
        """Case events are not written to a file (the lines are complaints only)."""

    async def stop(self) -> None:
        if self.f is not None and self.path != "-":
            self.f.close()


class ApiSink:
    """Raw complaints POSTed as JSON lists to the intake API, which validates and publishes them."""

    def __init__(self, url: str, settings: Settings, token: str | None = None):
        self.headers = {"content-type": "application/json"}
        if token:
            self.headers["authorization"] = f"Bearer {token}"
        base = url.rstrip("/")
        self.url = base if base.endswith("/api/v1/complaints") else base + "/api/v1/complaints"
        self.where = f"API {self.url}"
        self.batch = min(API_BATCH, settings.api.max_batch)
        self.client = None

    async def start(self) -> None:
        import httpx
        self.client = httpx.AsyncClient(timeout=30)
        try:
            await self.client.get(self.url.rsplit("/api/", 1)[0] + "/healthz", timeout=5)
        except httpx.HTTPError as e:
            await self.client.aclose()
            raise Unreachable(f"cannot reach the intake API at {self.url} ({e.__class__.__name__}); "
                              f"is it running? (`make run` starts it)") from None

    async def send(self, pairs: list[tuple[dict, dict]], stats: Stats) -> None:
        import httpx
        raws = [raw for raw, _ in pairs]
        for i in range(0, len(raws), self.batch):
            part = raws[i:i + self.batch]
            for attempt in range(4):
                try:
                    r = await self.client.post(self.url, content=orjson.dumps(part),
                                               headers=self.headers)
                except httpx.HTTPError as e:
                    raise Unreachable(f"cannot reach the intake API at {self.url} ({e.__class__.__name__}); stopped") from None
                if r.status_code == 503 and attempt < 3:      # broker busy or down: the API asks to retry
                    await asyncio.sleep(1 + attempt)
                    continue
                break
            body = _json(r)
            if r.status_code == 202:
                dup_ids = {d.get("id") for d in body.get("duplicates", [])}
                stats.count_sent(x for x in part if x["id"] not in dup_ids)
                stats.duplicates += len(dup_ids)
            elif r.status_code == 409:
                stats.duplicates += len(part)
            elif r.status_code == 422:
                stats.invalid += len(body.get("items", part))
                say(f"the API rejected a batch of {len(part)}: {body.get('detail') or body.get('message') or r.text[:200]}")
            else:
                hint = (" (give a token with the submit scope: --token or env API_TOKEN; "
                        "python -m streams.tokens add NAME --scopes submit)") if r.status_code in (401, 403) else ""
                raise Unreachable(f"the intake API answered {r.status_code}: "
                                  f"{body.get('error') or body.get('detail') or body.get('message') or r.text[:200]}{hint}")

    async def send_events(self, events: list[dict], stats: Stats) -> None:
        """POST case events to /api/v1/case-events; a refused batch is reported, not fatal."""
        import httpx
        url = self.url.rsplit("/api/v1/", 1)[0] + "/api/v1/case-events"
        for i in range(0, len(events), self.batch):
            part = events[i:i + self.batch]
            try:
                r = await self.client.post(url, content=orjson.dumps(part), headers=self.headers)
            except httpx.HTTPError as e:
                raise Unreachable(f"cannot reach the intake API at {url} ({e.__class__.__name__}); stopped") from None
            if r.status_code == 202:
                stats.case_events += _json(r).get("accepted", 0)
            elif r.status_code != 409:
                stats.case_events_invalid += len(part)
                say(f"the API refused {len(part)} case events ({r.status_code}): {r.text[:200]}")

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.aclose()


def _json(r) -> dict:
    try:
        doc = r.json()
        return doc if isinstance(doc, dict) else {}
    except ValueError:
        return {}


# --- running ---------------------------------------------------------------------------------

class Stats:
    """What was sent, by source (baseline or surge), for the summary line."""

    def __init__(self):
        self.sent = 0
        self.by_source: Counter = Counter()
        self.invalid = 0
        self.duplicates = 0
        self.case_events = 0
        self.case_events_invalid = 0
        self.t0 = time.time()

    def count_sent(self, raws) -> None:
        for raw in raws:
            self.sent += 1
            tags = [t for t in raw.get("tags") or () if t.startswith("surge:")]
            self.by_source[tags[0] if tags else "baseline"] += 1

    def summary(self, where: str) -> str:
        parts = ", ".join(f"{k} {v:,}" for k, v in sorted(self.by_source.items(), key=lambda kv: kv[0] != "baseline"))
        extra = f"; skipped {self.invalid:,} invalid" if self.invalid else ""
        extra += f"; {self.duplicates:,} duplicates" if self.duplicates else ""
        extra += f"; {self.case_events:,} case events" if self.case_events else ""
        return (f"simulator: sent {self.sent:,} complaints to {where} in {time.time() - self.t0:.1f} s"
                f"{f' ({parts})' if parts else ''}{extra}")


class Announcer:
    """Prints a SURGE START / SURGE END line as the simulated clock crosses each window.

    ``at`` is in the frame of received_at (the wall clock in live mode), which is what a
    detector sees and is scored against.
    """

    def __init__(self, sim: Simulator, origin: datetime, to_stamp):
        self.tz = sim.tz
        self.to_stamp = to_stamp
        self.windows = [(s, t0.timestamp(), t1.timestamp()) for s, t0, t1 in sim.surge_windows(origin)]
        self.state = {s.name: "waiting" for s, _, _ in self.windows}

    def update(self, sim_now: float) -> None:
        for s, t0, t1 in self.windows:
            if self.state[s.name] == "waiting" and t0 <= sim_now:
                self.state[s.name] = "running"
                self._line("START", s, t0)
            if self.state[s.name] == "running" and t1 <= sim_now:
                self.state[s.name] = "ended"
                self._line("END", s, t1)

    def finish(self, sim_now: float) -> None:
        """Close the windows the run stopped inside, so the scored window is the real one."""
        for s, _t0, _t1 in self.windows:
            if self.state[s.name] == "running":
                self.state[s.name] = "ended"
                self._line("END", s, sim_now, note=" (simulator stopped)")

    def _line(self, what: str, s: Surge, sim_ts: float, note: str = "") -> None:
        stamp = datetime.fromtimestamp(self.to_stamp(sim_ts), self.tz).isoformat(timespec="milliseconds")
        sim = datetime.fromtimestamp(sim_ts, self.tz).isoformat(timespec="milliseconds")
        sim_part = f" sim={sim}" if sim != stamp else ""
        say(f"SURGE {what} name={s.name} at={stamp}{sim_part} district={s.district} industry={s.industry} "
            f"rate={s.rate_per_hour:g}/h shape={s.shape} label={s.label}{note}")


class Checker:
    """Validates each raw complaint like the intake does; an invalid one is reported and skipped."""

    def __init__(self, settings: Settings):
        self.rules = Rules(settings)

    def __call__(self, raws: list[dict], stats: Stats) -> list[tuple[dict, dict]]:
        now = time.time()
        out = []
        for raw in raws:
            rec, errs = self.rules.validate(raw, now)
            if errs:
                stats.invalid += 1
                say(f"skipped invalid complaint {raw.get('id')}: " + "; ".join(f"{e['field']}: {e['message']}" for e in errs))
            else:
                out.append((raw, rec))
        return out


def case_player(sim: Simulator, args, adopt: bool = False):
    """The case events' player (streams.cases.simplay), or None with --no-cases. A live feed adopts
    the cases a history run left pending (DATA_DIR/simulator-cases.pending)."""
    if getattr(args, "no_cases", False):
        return None
    from streams.cases.config import default_case_config
    from streams.cases.deadlines import WorkCalendar
    from streams.cases.simplay import CasePlayer
    player = CasePlayer(default_case_config(), WorkCalendar(sim.tz, default_case_config().unknown_years), sim.seed)
    if adopt:
        path = _pending_path(sim)
        if path is not None and path.exists():
            try:
                import heapq
                player.heap = [tuple(x) for x in orjson.loads(path.read_bytes())]
                heapq.heapify(player.heap)
                path.rename(path.with_suffix(".adopted"))
                say(f"simulator: playing out {len(player.heap):,} cases the history left open")
            except (OSError, ValueError) as e:
                say(f"simulator: could not adopt the history's open cases ({e.__class__.__name__})")
    return player


def _pending_path(sim: Simulator):
    from pathlib import Path
    d = getattr(sim.settings, "data_dir", None) if hasattr(sim, "settings") else None
    return Path(d) / "simulator-cases.pending" if d else None


def hand_over(player, sim: Simulator) -> None:
    """Leave the history's still-open cases for the live feed to play out."""
    path = _pending_path(sim)
    if path is None or not player.heap:
        return
    try:
        path.write_bytes(orjson.dumps(player.pending()))
    except OSError as e:
        say(f"simulator: could not leave the open cases for the live feed ({e.strerror})")


def mark_rapid(raws: list[dict], player) -> list[dict]:
    """Mark some complaints as rapid-response items (tag 快反), deterministically by id."""
    if player is None:
        return raws
    import random
    import zlib
    from streams.cases.simplay import rapid_tag
    for raw in raws:
        if isinstance(raw, dict) and isinstance(raw.get("id"), str) and rapid_tag(
                {"kind": raw.get("kind"), "industry": raw.get("industry")}, random.Random(zlib.crc32(raw["id"].encode()))):
            raw["tags"] = [*(raw.get("tags") or []), "快反"]
    return raws


async def run_live(sim: Simulator, sink, check: Checker, args, stats: Stats, stop: asyncio.Event) -> None:
    """Pace the generator against the clock; send what is due every TICK_SECONDS."""
    wall0 = time.time()
    speed = args.speedup
    start = datetime.fromtimestamp(wall0, sim.tz)
    end = start + timedelta(seconds=args.duration) if args.duration else None

    def to_wall(sim_ts: float) -> float:
        return wall0 + (sim_ts - wall0) / speed

    announce = Announcer(sim, start, to_wall)
    gen = sim.generate(start, end)

    def pull():
        raw = next(gen, None)
        return (None, None) if raw is None else (datetime.fromisoformat(raw["received_at"]).timestamp(), raw)

    due_ts, pending = pull()
    player = case_player(sim, args, adopt=True)
    next_tick = wall0
    sim_now = wall0
    while not stop.is_set():
        now = time.time()
        sim_now = wall0 + (now - wall0) * speed
        if end is not None:
            sim_now = min(sim_now, end.timestamp())
        announce.update(sim_now)
        batch = []
        while (pending is not None and due_ts <= sim_now and len(batch) < MAX_PER_TICK
               and (args.count is None or stats.sent + len(batch) < args.count)):
            pending["received_at"] = datetime.fromtimestamp(to_wall(due_ts), sim.tz).isoformat(timespec="milliseconds")
            batch.append(pending)
            due_ts, pending = pull()
        if batch:
            pairs = check(mark_rapid(batch, player), stats)
            if pairs:
                await sink.send(pairs, stats)
                if player:
                    await sink.send_events(player.add([rec for _, rec in pairs], time.time()), stats)
        if player:
            evs = player.due(time.time())
            if evs:
                await sink.send_events(evs, stats)
        if (args.count is not None and stats.sent >= args.count) or pending is None:
            break   # pending is None: the generator reached --duration and all of it was sent
        next_tick += TICK_SECONDS
        try:
            await asyncio.wait_for(stop.wait(), timeout=max(0.0, next_tick - time.time()))
        except TimeoutError:
            pass
    announce.finish(sim_now)


async def run_history(sim: Simulator, sink, check: Checker, args, stats: Stats, stop: asyncio.Event) -> None:
    """Write the past ``--history-days`` as fast as possible, stamped with their own times."""
    from tqdm import tqdm

    end = datetime.now(sim.tz)
    start = end - timedelta(days=args.history_days)
    expected = sim.expected_count(start, end)
    if args.count is not None:
        expected = min(expected, args.count)
    announce = Announcer(sim, start, lambda ts: ts)
    bar = tqdm(total=round(expected), unit=" complaints", desc="history", disable=None, file=sys.stderr,
               mininterval=0.5, dynamic_ncols=True)
    batch: list[dict] = []
    last_ts = start.timestamp()
    player = case_player(sim, args)

    async def flush() -> None:
        pairs = check(mark_rapid(batch, player), stats)
        if pairs:
            await sink.send(pairs, stats)
            if player:     # the events that happened before now; the rest go to the live feed
                evs = player.add([rec for _, rec in pairs], end.timestamp())
                for i in range(0, len(evs), 5000):
                    await sink.send_events(evs[i:i + 5000], stats)
        bar.update(len(batch))
        batch.clear()
        await asyncio.sleep(0)   # let Ctrl-C be noticed

    try:
        for raw in sim.generate(start, end):
            last_ts = datetime.fromisoformat(raw["received_at"]).timestamp()
            announce.update(last_ts)
            batch.append(raw)
            if len(batch) >= sink.batch:
                await flush()
                if stop.is_set():
                    break
            if args.count is not None and stats.sent + len(batch) >= args.count:
                break
        if batch and not stop.is_set():
            await flush()
        if not stop.is_set() and (args.count is None or stats.sent < args.count):
            last_ts = end.timestamp()
            announce.update(last_ts)
    finally:
        bar.total = max(bar.n, 1)
        bar.close()
        if player:
            hand_over(player, sim)
    announce.finish(last_ts)


async def run(settings: Settings, sim: Simulator, make_sink, args) -> int:
    sink = make_sink()
    stats = Stats()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    check = Checker(settings)
    code = 0
    try:
        await sink.start()
        say(describe(sim, sink, args))
        if args.history_days:
            await run_history(sim, sink, check, args, stats, stop)
        else:
            await run_live(sim, sink, check, args, stats, stop)
    except Unreachable as e:
        say(f"simulator: {e}")
        code = 1
    finally:
        await sink.stop()
        say(stats.summary(sink.where))
    return code


def describe(sim: Simulator, sink, args) -> str:
    if args.history_days:
        pace = f"{args.history_days:g} days of history at {sim.rate * 3600:.1f}/h on average, as fast as possible"
    else:
        pace = (f"{sim.rate:g}/s {'flat' if sim.flat else 'on average (daily and weekly rhythm)'}"
                f"{f', {args.speedup:g}x real time' if args.speedup != 1 else ''}")
    surges = ", ".join(s.name for s in sim.surges) or "none"
    return f"simulator: seed {sim.seed}, {pace}, to {sink.where}; surges: {surges}"


# --- command line ----------------------------------------------------------------------------

def build_parser(settings: Settings | None = None) -> argparse.ArgumentParser:
    sim = settings.simulator if settings else SimulatorSettings()
    ap = argparse.ArgumentParser(
        prog="python -m streams.simulate",
        description="模拟12315投诉举报流：山西各市县、各行业的投诉/举报/咨询，按日、周节律到达，可叠加脚本化激增 "
                    "(scripted surges)。Simulated complaints for demos, tests and alert baselines.",
        epilog="examples:\n"
               "  python -m streams.simulate                                   live feed to Kafka until Ctrl-C\n"
               "  python -m streams.simulate --surge mall-fading-clothes --speedup 60\n"
               "  python -m streams.simulate --surge national-day-tourism@2m --duration 3600 --speedup 10\n"
               "  python -m streams.simulate --history-days 28               four weeks of baseline\n"
               "  python -m streams.simulate --count 20 --out -               20 JSON lines on stdout\n"
               "  python -m streams.simulate --api http://127.0.0.1:8000       through the intake API\n"
               "Surge lines on stderr: SURGE START|END name=… at=<received_at frame> district=… industry=… label=…",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_argument_group("how much and when")
    g.add_argument("--rate", type=float, metavar="PER_SECOND", default=None,
                   help=f"baseline complaints per second for the province, averaged over a week; the daily and weekly "
                        f"rhythm moves it (default {sim.rate_per_second}, settings simulator.rate_per_second)")
    g.add_argument("--flat", action="store_true", help="hold the baseline rate constant (no daily/weekly rhythm)")
    g.add_argument("--duration", type=float, metavar="SECONDS", default=None,
                   help="stop after this many simulated seconds (live mode; at --speedup 60, 3600 takes a minute); "
                        "default: run until Ctrl-C")
    g.add_argument("--count", type=int, metavar="N", default=None, help="stop after sending N complaints")
    g.add_argument("--speedup", type=float, metavar="X", default=1.0,
                   help="the simulated clock runs X times faster than real time (live mode; default 1). received_at "
                        "is still the real local time at which a complaint is sent")
    g.add_argument("--seed", type=int, default=None,
                   help=f"random seed; the same seed and start give the same complaints (default {sim.seed})")
    g.add_argument("--province", metavar="CODE", default=None,
                   help=f"6-digit province code whose counties complain (default {sim.province})")
    g.add_argument("--run-tag", metavar="TAG", default=None,
                   help="middle part of the ids SIM-<seed>-<tag>-<n> (default: the start time, so runs never clash)")
    g.add_argument("--no-cases", action="store_true",
                   help="send complaints only: do not play out their cases (受理, 办结, 回访 … as case events; "
                        "about 4 %% of food, tourism and retail complaints are marked 快反)")
    h = ap.add_argument_group("history (baselines for the detectors)")
    h.add_argument("--history-days", type=float, metavar="D", default=None,
                   help="write D days of complaints ending now, as fast as possible, with a progress bar, then exit")
    h.add_argument("--history-rate", type=float, metavar="PER_HOUR", default=HISTORY_RATE_PER_HOUR,
                   help=f"average complaints per hour in history mode (default {HISTORY_RATE_PER_HOUR:.1f}: "
                        f"Shanxi's 317,214 items in 2023); the rhythm still applies")
    s = ap.add_argument_group("surges (激增, config/surges.yaml)")
    s.add_argument("--surge", action="append", metavar="NAME[@START]", default=[],
                   help="switch on a scripted surge (repeatable); @START overrides its start: an offset from the "
                        "simulation start (90s, 10m, 2h) or a local date-time (2024-10-01T09:00)")
    s.add_argument("--list-surges", action="store_true", help="list the surges of the surge file and exit")
    s.add_argument("--surge-scale", type=float, metavar="X", default=1.0,
                   help="multiply every surge's rate_per_hour (default 1; the file's rates suit the 5/s demo feed, "
                        "use about 0.05 with a realistic --history-rate)")
    s.add_argument("--surges-file", metavar="PATH", default=str(SURGES_FILE),
                   help=f"surge definitions (default {SURGES_FILE.relative_to(SURGES_FILE.parent.parent)})")
    d = ap.add_argument_group("destination (default: Kafka, through the same intake as the API)")
    dest = d.add_mutually_exclusive_group()
    dest.add_argument("--out", metavar="FILE",
                      help="write raw complaints as JSON lines to FILE instead of Kafka; - = stdout")
    dest.add_argument("--api", metavar="URL",
                      help="POST batches to URL/api/v1/complaints (the intake API, e.g. http://127.0.0.1:8000) "
                           "instead of writing to Kafka")
    d.add_argument("--token", metavar="TOKEN", default=os.environ.get("API_TOKEN"),
                   help="with --api: the API token (scope submit) sent as 'Authorization: Bearer'; "
                        "default env API_TOKEN")
    return ap


def check_args(ap: argparse.ArgumentParser, args) -> None:
    def positive(name: str, value, allow_zero: bool = False) -> None:
        if value is not None and (value < 0 or (value == 0 and not allow_zero)):
            ap.error(f"{name} must be {'zero or more' if allow_zero else 'more than 0'}, got {value:g}")

    positive("--rate", args.rate, allow_zero=True)
    positive("--duration", args.duration)
    positive("--count", args.count)
    positive("--speedup", args.speedup)
    positive("--history-days", args.history_days)
    positive("--history-rate", args.history_rate, allow_zero=True)
    positive("--surge-scale", args.surge_scale, allow_zero=True)
    if args.history_days and args.duration:
        ap.error("--duration is for live mode; the length of a history is --history-days")


def main(argv: list[str] | None = None) -> int:
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)   # its connection noise; we print one line
    try:
        settings = load_settings()
    except SettingsError as e:
        build_parser().parse_args(argv)   # --help still works with broken settings
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    ap = build_parser(settings)
    args = ap.parse_args(argv)
    check_args(ap, args)
    try:
        catalog = load_surges(settings, args.surges_file)
        if args.list_surges:
            for s in catalog.values():
                print(s.describe())
            return 0
        surges = select_surges(catalog, args.surge, settings.tz)
    except SurgeError as e:
        print(f"simulator: {e}", file=sys.stderr)
        return 2
    rate = args.history_rate / 3600 if args.history_days else args.rate
    try:
        sim = Simulator(settings, seed=args.seed, surges=surges, rate_per_second=rate, province=args.province,
                        flat=args.flat, run_tag=args.run_tag, surge_scale=args.surge_scale)
    except ValueError as e:
        print(f"simulator: {e}", file=sys.stderr)
        return 2
    def sink():   # made inside the event loop: the Kafka producer needs a running one
        if args.out:
            return FileSink(args.out)
        if args.api:
            return ApiSink(args.api, settings, args.token)
        return KafkaSink(settings)

    try:
        return asyncio.run(run(settings, sim, sink, args))
    except KeyboardInterrupt:      # a second Ctrl-C while shutting down
        return 130


if __name__ == "__main__":
    sys.exit(main())
