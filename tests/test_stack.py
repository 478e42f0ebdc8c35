"""`make run`'s orchestrator: embedded services, workers, API, demo feed; Ctrl-C stops all."""
import os
import re
import signal
import socket
import subprocess
import sys
import time

import httpx
import psutil

from streams.services import free_port, port_free
from tests.conftest import ROOT, wait_until
from tests.test_dashboard_stop import slow_refresh


def stack_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BROKER", "REDIS_URL", "COMPLAINTS_TOPIC",
                                                            "DEAD_LETTER_TOPIC", "CONSUMER_GROUP")}
    ports = {"BROKER_PORT": free_port(), "REDIS_PORT": free_port(), "API_PORT": free_port(),
             "DASHBOARD_PORT": free_port(), "RECEIVER_PORT": free_port()}
    env.update({k: str(v) for k, v in ports.items()}, DATA_DIR=str(tmp_path / "data"))
    return env, ports


def test_run_brings_everything_up_with_the_demo_feed_and_ctrl_c_stops_it(tmp_path):
    env, ports = stack_env(tmp_path)
    log = tmp_path / "stack.log"
    p = subprocess.Popen([sys.executable, "-m", "streams.stack", "run", "--rate", "1", "--flat", "--history-days", "0.5",
                          "--report-every", "2"],
                         env=env, cwd=ROOT, stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    api = f"http://127.0.0.1:{ports['API_PORT']}"
    try:
        wait_until(lambda: "is running" in log.read_text() or p.poll() is not None, 180, "the stack to start")
        assert p.poll() is None, log.read_text()
        assert "seeding 0.5 days of simulated history" in log.read_text()
        # the banner shows an operator token once; without a token the API answers 401
        token = re.search(r"operator \(all scopes\): (cct_\S+)", log.read_text()).group(1)
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(api + "/api/v1/stats").status_code == 401
        assert httpx.post(api + "/api/v1/complaints", json={}).status_code == 401
        assert httpx.get(api + "/api/v1/alerts").status_code == 401
        assert httpx.post(api + "/api/v1/silences", json={}).status_code == 401
        seeded = httpx.get(api + "/api/v1/stats", headers=auth).json()["accepted"]
        assert seeded > 20_000  # 12 h at ~1/s, through the real pipeline
        health = httpx.get(api + "/healthz").json()
        assert health["status"] == "ok" and health["broker"]["embedded"] and health["redis"]["embedded"]
        wait_until(lambda: httpx.get(api + "/api/v1/stats", headers=auth).json()["accepted"] >= seeded + 5, 60,
                   "the demo feed to flow")
        minute = httpx.get(api + "/api/v1/counts", params={"level": "province", "code": "140000", "window": "minute",
                                                            "since": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 120))},
                           headers=auth).json()
        assert minute["total"] >= 5, "live complaints are counted in the current minutes"
        assert (tmp_path / "data" / "redis" / "appendonlydir").is_dir(), "Redis keeps its AOF under DATA_DIR"
        # no notification channel is configured: a local receiver takes the notices, and says so
        receiver = f"http://127.0.0.1:{ports['RECEIVER_PORT']}"
        assert f"{receiver}/received" in log.read_text()
        assert httpx.get(receiver + "/received").status_code == 200
        # the Dash screens come up too, with a first sign-in printed once
        dash = f"http://127.0.0.1:{ports['DASHBOARD_PORT']}"
        wait_until(lambda: _status(dash + "/wall") == 200, 60, "the wall display")
        out = log.read_text()
        assert f"{dash}/wall" in out and "duty / " in out and "head / " in out
        assert (tmp_path / "data" / "dashboard" / "users.json").is_file()
        # the wall asks for its slow panels, so the dashboard's background process is running too
        slow_refresh(dash)
        wait_until(lambda: len(psutil.Process(p.pid).children(recursive=True)) >= 7, 60, "every process of the stack")
        started = psutil.Process(p.pid).children(recursive=True)
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(60)
    out = log.read_text()
    assert p.returncode == 0 and "stopped." in out
    left = []
    for c in started:
        try:
            if c.status() != psutil.STATUS_ZOMBIE:
                left.append(" ".join(c.cmdline()[:4]))
        except psutil.NoSuchProcess:
            pass
    assert not left, f"processes of the stack still running after Ctrl-C: {left}"
    for port in ports.values():
        wait_until(lambda: port_free(port), 10, f"port {port} to be released")


def _status(url: str) -> int:
    try:
        return httpx.get(url, timeout=3).status_code
    except httpx.HTTPError:
        return 0


def test_a_taken_port_is_one_clear_line(tmp_path):
    env, ports = stack_env(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", ports["API_PORT"]))
        s.listen()
        res = subprocess.run([sys.executable, "-m", "streams.stack", "run", "--no-feed"], env=env, cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    assert res.returncode == 1
    assert f"port {ports['API_PORT']}" in res.stdout and "already taken" in res.stdout and "API_PORT" in res.stdout
    assert "Traceback" not in res.stdout + res.stderr


def test_a_bad_setting_is_one_clear_line(tmp_path):
    env, _ = stack_env(tmp_path)
    env["REDIS_URL"] = "localhost:6379"
    for cmd in (["-m", "streams.stack", "run"], ["-m", "streams.api"], ["-m", "streams", "worker"]):
        res = subprocess.run([sys.executable, *cmd], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert res.returncode != 0
        assert "redis.url" in res.stderr + res.stdout and "Traceback" not in res.stderr + res.stdout, cmd


def test_every_command_has_help():
    for mod in ("streams.stack", "streams.api", "streams.simulate", "streams.importer", "streams.bench"):
        res = subprocess.run([sys.executable, "-m", mod, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert res.returncode == 0 and "usage" in res.stdout.lower(), mod
    res = subprocess.run([sys.executable, "-m", "streams", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "worker" in res.stdout
