"""`python -m dashboard.screenshots --out screenshots/` (`make screenshots`): the three screens
as PNG files, with demo data the command loads itself.

It starts its own broker, redis-server (in a temporary data directory, on free ports) and
faust worker, seeds simulated history (the last days and the same hours a year ago), starts the
live feed with a surge, raises demo alerts, then serves the dashboard with the Shanxi boundary
files of ``../shared/data/geo/`` and photographs, in Debian's headless Chromium:

    wall-1920x1080.png  wall-3840x2160.png  duty-overview-1920x1080.png  duty-1920x1080.png
    review-1920x1080.png

A page that requests anything from outside the app, or logs a console error, fails the run.
``--serve`` keeps everything running afterwards (Ctrl-C stops it), to look around by hand.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import httpx

from config import ROOT_DIR, load_settings

GEO_DIR = ROOT_DIR.parent / "shared" / "data" / "geo"
CITIES = GEO_DIR / "shanxi_140000_cities_datav_v3.json"
COUNTIES = GEO_DIR / "shanxi_140000_counties_datav_v3.json"
DEMO_USER, DEMO_PASSWORD = "demo-head", "demo-password-12315"


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class DemoStack:
    """Broker, Redis, worker, demo data and the dashboard, all on free loopback ports."""

    def __init__(self, data_dir: Path, history_days: float = 8, rate: float = 0.2, feed_rate: float = 0.5,
                 surges: tuple[str, ...] = ("mall-fading-clothes@0s",), boundaries: bool = True,
                 seed_surge: str | None = "mall-fading-clothes"):
        self.data = Path(data_dir)
        self.history_days, self.rate, self.feed_rate, self.surges = history_days, rate, feed_rate, surges
        self.boundaries, self.seed_surge = boundaries, seed_surge
        self.stack = ExitStack()
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> "DemoStack":
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _child(self, args: list[str], name: str) -> subprocess.Popen:
        log = open(self.data / "logs" / f"{name}.log", "ab")
        p = subprocess.Popen([sys.executable, *args], env=self.env, cwd=ROOT_DIR, stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs.append(p)
        return p

    def start(self) -> None:
        import redis

        from dashboard import demo
        from dashboard.auth import Users
        from streams.services import EmbeddedBroker, EmbeddedRedis, free_port

        (self.data / "logs").mkdir(parents=True, exist_ok=True)
        if self.boundaries and not (CITIES.exists() and COUNTIES.exists()):
            say(f"no boundary files at {GEO_DIR} (BOUNDARY_CITIES / BOUNDARY_COUNTIES name a site's own): "
                "the wall places the districts as bubbles at their seats (config/division_seats.csv) instead")
            self.boundaries = False
        say("starting the broker and redis-server …")
        broker = EmbeddedBroker(free_port(), self.data).start()
        self.stack.callback(broker.stop)
        rds = EmbeddedRedis(free_port(), self.data).start()
        self.stack.callback(rds.stop)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "KAFKA_BROKER": f"127.0.0.1:{broker.port}",
                    "REDIS_URL": rds.url(0), "DATA_DIR": str(self.data),
                    "DASHBOARD_USERS": str(self.data / "users.json"), "DASHBOARD_SECRET_KEY": "demo-not-secret"}
        if self.boundaries:
            self.env.update(BOUNDARY_CITIES=str(CITIES), BOUNDARY_COUNTIES=str(COUNTIES))
        self.settings = load_settings(self.env)
        self.redis = redis.Redis.from_url(self.env["REDIS_URL"], decode_responses=True)
        Users(self.data / "users.json").add(DEMO_USER, "head", DEMO_PASSWORD, "李局长")
        say("starting a faust worker …")
        self._child(["-m", "streams", "worker", "-l", "warn"], "worker")
        deadline = time.time() + 90
        while not list(self.redis.scan_iter(match="cc:hb:worker:*")):
            if time.time() > deadline or self.procs[-1].poll() is not None:
                raise SystemExit(f"the worker did not start; see {self.data / 'logs' / 'worker.log'}")
            time.sleep(0.2)
        now = datetime.now(self.settings.tz)
        say(f"seeding {self.history_days:g} days of history at {self.rate:g}/s and the same hours last year …")
        n = demo.seed_history(self.settings, now, days=self.history_days, rate=self.rate, surge=self.seed_surge,
                              cases=True)
        demo.wait_tallied(self.redis, n, timeout=600)
        say(f"{n:,} complaints tallied; starting the live feed ({self.feed_rate:g}/s, surges: {', '.join(self.surges) or 'none'}) …")
        self.procs.append(demo.live_feed(self.env, self.feed_rate, self.surges, self.data / "logs" / "feed.log"))
        from alerts.store import AlertStore

        self.alerts = demo.demo_alerts(AlertStore(self.redis), now)
        say(f"raised demo alerts {', '.join(self.alerts)}; starting the dashboard on {self.url} …")
        self._child(["-m", "dashboard", "--port", str(self.port)], "dashboard")
        deadline = time.time() + 60
        while True:
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline or self.procs[-1].poll() is not None:
                raise SystemExit(f"the dashboard did not start; see {self.data / 'logs' / 'dashboard.log'}")
            time.sleep(0.3)

    def close(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs.clear()
        self.stack.close()


def login(driver, base: str, user: str = DEMO_USER, password: str = DEMO_PASSWORD, next_path: str = "/duty") -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{base}/login?next={next_path}")
    driver.find_element(By.ID, "login-user").send_keys(user)
    driver.find_element(By.ID, "login-password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()


def wait_for(driver, script: str, timeout: float = 60, what: str = "the page") -> None:
    deadline = time.time() + timeout
    while not driver.execute_script(script):
        if time.time() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.25)


WALL_READY = ("var k = document.querySelector('#wall-kpis .kpi-value');"
              "var m = document.querySelector('#wall-map .main-svg');"
              "var c = document.getElementById('wall-cloud');"
              "var r = document.querySelectorAll('#wall-rising li.pending').length == 0 && document.querySelectorAll('#wall-rising li').length > 0;"
              "return !!(k && m && c && c.getAttribute('src') && c.complete && r);")


def shoot(stack: DemoStack, out: Path) -> list[Path]:
    from dashboard.browser import Recorder, chrome, scrollbars, viewport

    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    driver = chrome(1920, 1080)
    rec = Recorder(driver)
    try:
        for w, h in ((1920, 1080), (3840, 2160)):
            viewport(driver, w, h)
            driver.get(stack.url + "/wall?rotate=0")
            wait_for(driver, WALL_READY, 120, "the wall to fill")
            time.sleep(3)
            bars = scrollbars(driver)
            if bars["x"] > 0 or bars["y"] > 0:
                raise SystemExit(f"the wall at {w}x{h} overflows by {bars}")
            path = out / f"wall-{w}x{h}.png"
            driver.save_screenshot(str(path))
            saved.append(path)
            say(f"saved {path}")
        viewport(driver, 1920, 1080)
        login(driver, stack.url, next_path="/duty")
        wait_for(driver, "return document.querySelectorAll('#duty-queue tr.row').length > 0", 60, "the alert queue")
        wait_for(driver, "var d = document.getElementById('duty-due');"
                         "return !!d && d.textContent.indexOf('正在载入') < 0", 120, "the 督办 list")
        time.sleep(1.5)
        path = out / "duty-overview-1920x1080.png"      # nothing selected: the overview and the 督办 list
        driver.save_screenshot(str(path))
        saved.append(path)
        say(f"saved {path}")
        driver.execute_script("var rows = Array.from(document.querySelectorAll('#duty-queue tr.row'));"
                              "(rows.find(function (r) { return r.textContent.indexOf('潞州区') >= 0; }) || rows[0]).click();")
        wait_for(driver, "return !!document.getElementById('duty-detail-title') && "
                         "document.querySelectorAll('#duty-complaints tr').length > 1", 60, "the alert's details")
        time.sleep(1.5)
        path = out / "duty-1920x1080.png"
        driver.save_screenshot(str(path))
        saved.append(path)
        say(f"saved {path}")
        driver.get(stack.url + "/review?period=day")
        wait_for(driver, "var i = document.querySelector('#review-cloud img');"
                         "return !!(i && i.complete && document.querySelectorAll('#review-compare tr').length > 1);",
                 120, "the review")
        time.sleep(1.5)
        path = out / "review-1920x1080.png"
        driver.save_screenshot(str(path))
        saved.append(path)
        say(f"saved {path}")
        external = rec.external()
        if external:
            raise SystemExit(f"the screens requested outside addresses: {external[:5]}")
        errors = rec.errors()
        if errors:
            raise SystemExit(f"console errors in the browser: {[e['message'][:300] for e in errors[:5]]}")
    finally:
        driver.quit()
    return saved


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dashboard.screenshots",
                                 description="Screenshots of the wall (1920x1080 and 3840x2160), the duty console and the "
                                             "review (1920x1080), with demo data loaded into a private broker and Redis.")
    ap.add_argument("--out", default="screenshots", help="directory for the PNG files (default: screenshots)")
    ap.add_argument("--history-days", type=float, default=8, help="days of simulated history (default 8)")
    ap.add_argument("--rate", type=float, default=0.2, help="history complaints per second (default 0.2)")
    ap.add_argument("--serve", action="store_true", help="keep the demo running after the screenshots (Ctrl-C stops)")
    ap.add_argument("--data-dir", help="where the demo's Redis and logs go (default: a temporary directory)")
    args = ap.parse_args(argv)

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)      # a kill stops the demo's servers too
    with tempfile.TemporaryDirectory(prefix="c12315-shots-") as tmp:
        data = Path(args.data_dir) if args.data_dir else Path(tmp)
        with DemoStack(data, history_days=args.history_days, rate=args.rate) as stack:
            say("waiting 10 s for the live feed …")
            time.sleep(10)
            shoot(stack, Path(args.out))
            if args.serve:
                print(f"\n  demo running: {stack.url}/wall   sign in as {DEMO_USER} / {DEMO_PASSWORD}\n"
                      f"  Ctrl-C stops it.", flush=True)
                try:
                    while True:
                        time.sleep(1)
                except KeyboardInterrupt:
                    pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
