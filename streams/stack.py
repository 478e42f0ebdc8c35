"""`python -m streams.stack run`: the whole system on one machine, for `make run`.

Starts (unless KAFKA_BROKER / REDIS_URL point elsewhere) the embedded Tansu broker and
redis-server, then the faust worker(s), the intake API and the simulator's demo feed;
restarts a worker that dies; stops everything cleanly on Ctrl-C.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from streams.store import redis_client
from config import ROOT_DIR, SettingsError, load_settings
from streams.services import PRIVATE_UMASK, EmbeddedBroker, EmbeddedRedis, ServiceError, check_port, lock_down

PY = sys.executable


def demo_login(env: dict) -> str:
    """On a first start (no users), a duty officer and a bureau head with fresh random passwords:
    the banner's sign-in lines from ``python -m dashboard.users first-start`` (the stack starts
    the dashboard's commands, it does not import the dashboard)."""
    done = subprocess.run([PY, "-m", "dashboard.users", "first-start"], env=env, cwd=ROOT_DIR,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if done.returncode != 0:
        return "    sign-in        cannot prepare the users: " + (done.stderr.strip() or f"exit {done.returncode}") + "\n"
    return done.stdout


def api_tokens(S) -> tuple[str, str]:
    """The stack's own API token (submit + read, made anew on each start: the demo feed and the
    progress lines use it) and the banner's line: on a first start an ``operator`` token of
    every scope, printed once and stored only as a hash."""
    import redis

    from streams.tokens import Tokens

    tokens = Tokens(redis_client(S.redis_url, socket_timeout=5))
    try:
        own = tokens.add("demo-feed", "submit,read", replace=True)
        first = not tokens.exists("operator")
        op = tokens.add("operator", "all") if first else None
    except redis.RedisError as e:
        raise ServiceError(f"cannot store the API tokens in Redis ({e.__class__.__name__})") from None
    if not first:
        return own, "    API tokens     python -m streams.tokens list | add NAME --scopes ... | revoke NAME\n"
    return own, (f"    API token      operator (all scopes): {op}\n"
                 "                   (made now, shown once; send 'Authorization: Bearer <token>'; "
                 "python -m streams.tokens --help)\n")


class Child:
    def __init__(self, name: str, cmd: list[str], env: dict, log: Path, restart: bool = False):
        self.name, self.cmd, self.env, self.log, self.restart = name, cmd, env, log, restart
        self.proc: subprocess.Popen | None = None
        self.restarts = 0

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.log, "ab")
        self.proc = subprocess.Popen(self.cmd, env=self.env, cwd=ROOT_DIR, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 15) -> None:
        if not self.alive():
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def wait_healthy(url: str, timeout: float, children: list[Child]) -> dict:
    deadline = time.time() + timeout
    last: dict = {}
    while time.time() < deadline:
        for c in children:
            if not c.alive():
                raise ServiceError(f"{c.name} exited at start; its log {c.log} says: "
                                   f"{c.log.read_text(errors='replace')[-300:].strip()}")
        try:
            r = httpx.get(url + "/healthz", timeout=3)
            last = r.json()
            if r.status_code == 200:
                return last
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    raise ServiceError(f"the system did not become healthy within {timeout:.0f} s; last /healthz: {last}")


def notification_channel_configured(env: dict) -> bool:
    """True when alerts have somewhere to go: a channel URL in config/notify.yaml or its env var."""
    from alerts.notify import ENV_CHANNELS, load_notify_config

    if any(env.get(k) for k in ENV_CHANNELS):
        return True
    try:
        return any(getattr(ch, "url", "") for ch in load_notify_config().channels.values())
    except Exception:  # noqa: BLE001 - a broken notify file is reported by the worker itself
        return True


def run(args) -> int:
    S = load_settings()
    data = S.data_dir
    logs = data / "logs"
    # Everything this stack and its children write (logs, AOF, users, tokens) is the user's
    # alone: files 0600, directories 0700; an older run's files are mended too.
    os.umask(PRIVATE_UMASK)
    lock_down(data)
    env = dict(os.environ)
    services = []
    children: list[Child] = []
    try:
        check_port(S.api.port, "intake API", "API_PORT")
        dash_port = int(os.environ.get("DASHBOARD_PORT", 8050))
        if not args.no_dashboard:
            check_port(dash_port, "dashboard", "DASHBOARD_PORT")
        if S.broker_embedded:
            say(f"starting the embedded Kafka broker (Tansu) on {S.broker} …")
            services.append(EmbeddedBroker(S.kafka.embedded_port, data).start())
        else:
            from streams.kafka_security import describe
            say(f"using the Kafka cluster at {S.broker} ({describe(S)})")
        if S.redis_embedded:
            say(f"starting redis-server on 127.0.0.1:{S.redis.embedded_port} (AOF in {data / 'redis'}) …")
            services.append(EmbeddedRedis(S.redis.embedded_port, data, S.redis.appendfsync).start())
        else:
            say("using the Redis at REDIS_URL")
        env.update(KAFKA_BROKER=S.broker, REDIS_URL=S.redis_url, DATA_DIR=str(data),
                   EMBEDDED_SERVICES=",".join(n for n, on in (("broker", S.broker_embedded),
                                                              ("redis", S.redis_embedded)) if on))
        feed_token, token_line = api_tokens(S)
        api_auth = {"Authorization": f"Bearer {feed_token}"}
        receiver_line = ""
        if not args.no_receiver and not notification_channel_configured(env):
            # No channel to DingTalk / WeCom / a webhook: alerts, 提醒卡 and 催办卡 go to a local
            # receiver, so a demo shows them (and nothing is silently dropped).
            rport = int(os.environ.get("RECEIVER_PORT", 8099))
            check_port(rport, "notification receiver", "RECEIVER_PORT")
            children.append(Child("receiver", [PY, "-m", "alerts.receiver", "--port", str(rport),
                                               "--out", str(logs / "notifications.jsonl")],
                                  env, logs / "receiver.log", restart=True))
            env["ALERT_WEBHOOK_URL"] = f"http://127.0.0.1:{rport}/webhook"
            receiver_line = (f"\n    notifications  http://127.0.0.1:{rport}/received   (a local test receiver: no channel "
                             f"is configured;\n                   config/notify.yaml or ALERT_WEBHOOK_URL / DINGTALK_WEBHOOK "
                             f"/ WECOM_WEBHOOK)")
        for i in range(args.workers):
            children.append(Child(f"worker-{i + 1}", [PY, "-m", "streams", "worker", "-l", "info"], env,
                                  logs / f"worker-{i + 1}.log", restart=True))
        children.append(Child("api", [PY, "-m", "streams.api"], env, logs / "api.log"))
        if not args.no_dashboard:
            env.setdefault("DASHBOARD_URL", f"http://127.0.0.1:{dash_port}")
            children.append(Child("dashboard", [PY, "-m", "dashboard", "--port", str(dash_port)], env,
                                  logs / "dashboard.log", restart=True))
        for c in children:
            c.start()
        say(f"starting {args.workers} faust worker(s) and the intake API; waiting for them to be healthy …")
        wait_healthy(S.api_url, args.start_timeout, children)
        if args.history_days > 0 and not args.no_feed and httpx.get(S.api_url + "/api/v1/stats", headers=api_auth).json()["accepted"] == 0:
            say(f"first start: seeding {args.history_days:g} days of simulated history at {args.rate:g}/s, "
                "so hot topics have a baseline …")
            seed = subprocess.run([PY, "-m", "streams.simulate", "--history-days", str(args.history_days),
                                   "--history-rate", str(args.rate * 3600), "--run-tag", "history"]
                                  + (["--flat"] if args.flat else []),
                                  env=env, cwd=ROOT_DIR, stdin=subprocess.DEVNULL)
            if seed.returncode != 0:
                raise ServiceError("seeding history failed; see the lines above (or start with --history-days 0)")
        if not args.no_feed:
            feed = [PY, "-m", "streams.simulate", "--rate", str(args.rate)] + (["--flat"] if args.flat else [])
            for s in args.surge or []:
                feed += ["--surge", s]
            c = Child("demo-feed", feed, {**env, "API_TOKEN": feed_token}, logs / "demo-feed.log", restart=True)
            c.start()
            children.append(c)
    except (ServiceError, SettingsError) as e:
        say(f"cannot start: {e}")
        for c in reversed(children):
            c.stop()
        for s in reversed(services):
            s.stop()
        return 1

    api = S.api_url
    login = "" if args.no_dashboard else demo_login(env)
    dash = "\n" + token_line if args.no_dashboard else f"""
    wall display   http://127.0.0.1:{dash_port}/wall     (no sign-in)
    duty console   http://127.0.0.1:{dash_port}/duty     review: http://127.0.0.1:{dash_port}/review
{login}{token_line}"""
    print(f"""
  12315 early-warning system is running.{dash}
    intake API     {api}/api/v1/complaints   (POST one complaint or a list)
    live counts    {api}/api/v1/counts?level=province&code=140000&window=minute
    surge alerts   {api}/api/v1/alerts      (python -m alerts list; act: python -m alerts --help)
    health         {api}/healthz            OpenAPI: {api}/openapi.json
    demo feed      {'off' if args.no_feed else f'{args.rate}/s simulated Shanxi complaints'}{(' + surge ' + ', '.join(args.surge)) if args.surge else ''}
    data & logs    {data}   (logs in {logs}){receiver_line}
  Press Ctrl-C to stop everything.
""", flush=True)

    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    last_report = 0.0
    while not stopping:
        time.sleep(0.5)
        for c in children:
            if not c.alive() and not stopping:
                if c.restart and c.restarts < 20:
                    c.restarts += 1
                    say(f"{c.name} stopped (exit {c.proc.returncode}); restarting it (see {c.log})")
                    c.start()
                elif c.restart is False and c.proc.returncode is not None and c.restarts == 0:
                    say(f"{c.name} stopped (exit {c.proc.returncode}); see {c.log}")
                    c.restarts = -1
        if time.time() - last_report > args.report_every > 0:
            last_report = time.time()
            try:
                st = httpx.get(api + "/api/v1/stats", timeout=2, headers=api_auth).json()
                say(f"tallied {st['accepted']:,} complaints, rejected {st['rejected']:,}")
            except (httpx.HTTPError, ValueError, KeyError):
                say("the API does not answer; see " + str(logs / "api.log"))
    say("stopping …")
    for c in reversed(children):
        c.stop()
    for s in reversed(services):
        s.stop()
    say("stopped.")
    return 0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m streams.stack",
                                 description="Start the whole system on this machine (what `make run` does).")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="start broker, Redis, workers, API and demo feed; Ctrl-C stops all")
    r.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", 1)),
                   help="faust workers sharing the topic's partitions (default 1; env WORKERS)")
    r.add_argument("--rate", type=float, default=None, help="demo feed complaints per second (default: settings)")
    r.add_argument("--flat", action="store_true",
                   help="demo feed and first-start history at a constant rate (no daily rhythm: a demo at night still flows visibly)")
    r.add_argument("--surge", action="append", help="switch on a scripted surge in the demo feed (repeatable)")
    r.add_argument("--no-dashboard", action="store_true", help="do not start the Dash screens (port 8050)")
    r.add_argument("--no-feed", action="store_true", help="do not start the demo feed")
    r.add_argument("--no-receiver", action="store_true",
                   help="do not start the local notification receiver (port 8099, env RECEIVER_PORT) that "
                        "make run starts when no notification channel is configured")
    r.add_argument("--history-days", type=float, default=None,
                   help="on first start (empty Redis), seed this many days of simulated history before the "
                        "feed, so topics have a baseline (default: settings simulator.history_days; 0 = none)")
    r.add_argument("--start-timeout", type=float, default=90, help="seconds to wait for health (default 90)")
    r.add_argument("--report-every", type=float, default=30, help="seconds between progress lines (0 = never)")
    args = ap.parse_args(argv)
    try:
        sim = load_settings().simulator
        if args.rate is None:
            args.rate = sim.rate_per_second
        if args.history_days is None:
            args.history_days = sim.history_days
    except SettingsError as e:
        sys.exit(f"configuration error: {e}")
    try:
        sys.exit(run(args))
    except SettingsError as e:
        sys.exit(f"configuration error: {e}")


if __name__ == "__main__":
    main()
