"""Stopping the dashboard ends every process it started (its background worker included),
whether it is stopped with SIGTERM, Ctrl-C, or killed outright."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psutil
import pytest

from streams.services import free_port
from tests.conftest import Proc, wait_http, wait_until

ROOT = Path(__file__).resolve().parent.parent


def gone(pids: list[int]) -> bool:
    for pid in pids:
        try:
            p = psutil.Process(pid)
            if p.status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            pass
    return True


def slow_refresh(url: str) -> httpx.Response:
    """The wall's slow callback (cloud and rising phrases): it hands work to the background process."""
    body = {
        "output": "..wall-cloud.src...wall-cloud-note.children...wall-rising.children..",
        "outputs": [{"id": "wall-cloud", "property": "src"}, {"id": "wall-cloud-note", "property": "children"},
                    {"id": "wall-rising", "property": "children"}],
        "inputs": [{"id": "wall-slow", "property": "n_intervals", "value": 1},
                   {"id": "wall-sel", "property": "data", "value": {"level": "province", "code": "140000"}}],
        "changedPropIds": ["wall-slow.n_intervals"], "state": [],
    }
    return httpx.post(url + "/_dash-update-component", json=body, timeout=30)


@pytest.fixture
def dash_env(services, tmp_path):
    from config import load_settings  # noqa: F401 - the settings module must import for the server to start

    env = {**os.environ, "KAFKA_BROKER": f"127.0.0.1:{services['broker'].port}",
           "REDIS_URL": services["redis_url"](7) if "redis_url" in services
           else f"redis://127.0.0.1:{services['redis'].port}/7",
           "DATA_DIR": str(tmp_path), "COMPLAINTS_TOPIC": f"complaints-{uuid.uuid4().hex[:8]}",
           "DASHBOARD_USERS": str(tmp_path / "users.json"), "DASHBOARD_SECRET_KEY": "stop-test"}
    return env


def start_dashboard(env: dict, tmp_path: Path, sigint_ignored: bool = False) -> tuple[Proc, str, list[int]]:
    port = free_port()
    if sigint_ignored:   # as a shell starts a background job (`make test &`): the child inherits SIG_IGN
        before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        dash = Proc(["-m", "dashboard", "--port", str(port)], env, tmp_path / "dashboard.log").start()
    finally:
        if sigint_ignored:
            signal.signal(signal.SIGINT, before)
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/healthz", dash, "the dashboard", 60)
    assert slow_refresh(url).status_code in (200, 204)
    me = psutil.Process(dash.proc.pid)
    wait_until(lambda: me.children(recursive=True), 30, "the dashboard's background process")
    return dash, url, [c.pid for c in me.children(recursive=True)]


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT"])
def test_stopping_the_dashboard_ends_its_background_process(dash_env, tmp_path, how):
    dash, url, children = start_dashboard(dash_env, tmp_path, sigint_ignored=True)
    dash.proc.send_signal(getattr(signal, how))
    dash.proc.wait(timeout=15)
    wait_until(lambda: gone(children), 10, f"the background process to end after {how}")
    assert dash.proc.returncode == 0, dash.output()[-2000:]


def test_a_killed_dashboard_leaves_no_orphan(dash_env, tmp_path):
    dash, url, children = start_dashboard(dash_env, tmp_path)
    dash.proc.kill()
    dash.proc.wait(timeout=10)

    def left():
        out = []
        for pid in children:
            try:
                out.append((pid, psutil.Process(pid).cmdline()[-2:]))
            except psutil.NoSuchProcess:
                pass
        return out
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not gone(children):
        time.sleep(0.1)
    assert gone(children), f"orphans of the killed dashboard: {left()}"


def test_a_pool_worker_ends_when_its_parent_is_killed(tmp_path):
    """The bare mechanism, without a server: a process holding a Background pool is SIGKILLed."""
    script = ("import os, sys, time\n"
              "from config import load_settings\n"
              "from dashboard.background import Background\n"
              "b = Background(load_settings().raw)\n"
              "print(b.wait(('pid',), os.getpid, timeout=60), flush=True)\n"
              "time.sleep(600)\n")
    env = {**os.environ, "DATA_DIR": str(tmp_path)}
    p = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        child = int(p.stdout.readline())
        assert child != p.pid and psutil.pid_exists(child)
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not gone([child]):
            time.sleep(0.1)
        assert gone([child]), "the pool worker outlived its killed parent"
    finally:
        if p.poll() is None:
            p.kill()


def test_a_job_done_before_its_callback_is_registered_does_not_hang_the_screens():
    """A quick job can be answered before ``Background.get`` registers its callback; the callback then
    runs at once in the request thread. Registered under the lock, it hung that thread on the lock,
    and every request thread after it (the console's 督办 list and the review's 办理情况 never came)."""
    import threading
    from concurrent.futures import Executor, Future

    from dashboard.background import Background

    class Answered(Executor):       # the race's outcome made certain: the future is done on return
        def submit(self, fn, /, *args, **kwargs):
            f = Future()
            try:
                f.set_result(fn(*args, **kwargs))
            except Exception as e:  # noqa: BLE001 - the job's failure is the future's
                f.set_exception(e)
            return f

    bg = Background(None)
    bg._pool.shutdown()
    bg._pool = Answered()
    got = []
    t = threading.Thread(target=lambda: got.append((bg.get("k", int, "41", max_age=60),
                                                    bg.get("k", int, "41", max_age=60))), daemon=True)
    t.start()
    t.join(5)
    assert not t.is_alive(), "Background.get hung on its own lock"
    assert got == [(None, 41)]                       # first call starts it, the second reads the value
    assert bg.wait("k", int, "41", timeout=5) == 41 and bg.error("k") is None
    done = threading.Thread(target=lambda: bg.get("k2", divmod, 1, 0, max_age=60), daemon=True)
    done.start()
    done.join(5)
    assert not done.is_alive() and bg.error("k2").startswith("ZeroDivisionError")
