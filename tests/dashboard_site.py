"""The dashboard site the browser tests run against, and the browser they drive it with.

``running_site`` starts a faust worker and the dashboard server on the session's broker and
redis-server (a Redis database of the test module's own, so other modules' flushes do not touch
it), with topics and a consumer group of its own; ``seed`` puts the module's history in before
the dashboard starts. ``headless`` is one Chromium at 1920x1080 that fails the test on a request
to anywhere but the app and on any error in the browser console.
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import redis

from config import load_settings
from dashboard.browser import Recorder, chrome
from streams.services import free_port
from tests.conftest import Proc, live_workers, wait_http, wait_until

__all__ = ["running_site", "headless", "assert_clean", "js_wait", "sign_in"]


@contextmanager
def running_site(services, tmp: Path, *, db: int, secret: str,
                 users: dict[str, tuple[str, str, str]] | None = None, boundaries: bool = True,
                 partitions: int = 4, seed: Callable[[dict], dict | None] | None = None) -> Iterator[dict]:
    """Yield {"url", "env", "settings", "redis", "tmp", "tag", "dash", ...what ``seed`` returned}.

    ``users``: login -> (role, password, display name). ``boundaries``: the test map's boundary
    files (tests.test_dashboard.geo_env); without, no boundary file is configured at all.
    ``seed(site)`` runs once the worker consumes, with the site's env, settings, redis and tag.
    """
    from dashboard.auth import Users
    from tests.test_dashboard import geo_env

    tag = uuid.uuid4().hex[:8]
    if boundaries:
        env = {**os.environ, **geo_env()}
    else:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BOUNDARY_") and k != "SETTINGS_FILE"}
    env.update({"KAFKA_BROKER": f"127.0.0.1:{services['broker'].port}", "REDIS_URL": services["redis"].url(db),
                "DATA_DIR": str(tmp), "COMPLAINTS_TOPIC": f"complaints-{tag}",
                "DEAD_LETTER_TOPIC": f"complaints-dlq-{tag}", "CONSUMER_GROUP": f"tally-{tag}",
                "KAFKA_PARTITIONS": str(partitions), "DASHBOARD_USERS": str(tmp / "users.json"),
                "DASHBOARD_SECRET_KEY": secret})
    r = redis.Redis.from_url(env["REDIS_URL"], decode_responses=True)
    r.flushdb()
    settings = load_settings(env)
    if users:
        book = Users(tmp / "users.json")
        for name, (role, pw, display) in users.items():
            book.add(name, role, pw, display)
    procs: list[Proc] = []
    try:
        worker = Proc(["-m", "streams", "worker", "-l", "warn"], env, tmp / "worker.log").start()
        procs.append(worker)
        wait_until(lambda: live_workers(r, env["COMPLAINTS_TOPIC"]) or not worker.alive(), 60, "a worker")
        assert worker.alive(), worker.output()[-2000:]
        site = {"env": env, "settings": settings, "redis": r, "tmp": tmp, "tag": tag}
        if seed is not None:
            site.update(seed(site) or {})
        port = free_port()
        dash = Proc(["-m", "dashboard", "--port", str(port)], env, tmp / "dashboard.log").start()
        procs.append(dash)
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/healthz", dash, "the dashboard", 60)
        site.update(url=url, dash=dash)
        yield site
    finally:
        for p in reversed(procs):
            p.stop()
        r.close()


def assert_clean(rec: Recorder) -> None:
    """Nothing fetched from outside the app, no error in the console."""
    external = rec.external()
    assert not external, f"requests to outside the app: {external[:10]}"
    errors = rec.errors()
    assert not errors, f"browser console errors: {[e['message'][:400] for e in errors]}"


@contextmanager
def headless(download_dir: Path) -> Iterator[tuple]:
    """(driver, recorder) of a 1920x1080 headless Chromium; checked clean and quit on exit."""
    driver = chrome(1920, 1080, download_dir=download_dir)
    rec = Recorder(driver)
    try:
        yield driver, rec
        assert_clean(rec)
    finally:
        driver.quit()


def js_wait(driver, script: str, timeout: float, what: str):
    return wait_until(lambda: driver.execute_script(script), timeout, what, interval=0.2)


def sign_in(driver, url: str, name: str, password: str, next_path: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{url}/login?next={next_path}")
    driver.find_element(By.ID, "login-user").send_keys(name)
    driver.find_element(By.ID, "login-password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    wait_until(lambda: next_path.split("?")[0] in driver.current_url and "login" not in driver.current_url, 15, "sign-in")
