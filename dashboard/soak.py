"""`python -m dashboard.soak --soak-minutes N`: the dashboard's memory with a wall open.

Starts what the dashboard needs (its own broker, redis-server and faust worker on free ports,
simulated history, the live feed with a surge, demo alerts: ``dashboard.screenshots.DemoStack``),
then the dashboard, opens ``/wall`` in Debian's headless Chromium and leaves it refreshing for N
minutes (default 60).  Every ``--every`` seconds it reads the resident memory (RSS) of the
dashboard process and of its children (the background worker that draws clouds and scores
topics), and at the end prints the memory at the start and the end, the peak, and the slope
(MB per hour, least squares) over the whole run and over its second half, when warm-up is over.

``--trace`` runs the dashboard under ``tracemalloc`` and prints, at the end, the lines of code
whose allocations grew the most between the first minute and the end (to find a leak; it makes
the dashboard slower and larger, so its RSS figures are not the plain run's).

The yardstick: flat memory.  Before the fix the dashboard grew 87 -> 169 MB in 25
minutes with a wall open and was still rising.  ``--max-slope`` (MB/h over the second half)
turns the report into a pass/fail exit status; by default it only reports.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["rss_mb", "slope", "summary", "main"]


def rss_mb(pid: int) -> tuple[float, float]:
    """(the process's RSS, its children's RSS summed), in MB (psutil; children recursively)."""
    import psutil

    try:
        p = psutil.Process(pid)
        own = p.memory_info().rss
        kids = 0
        for c in p.children(recursive=True):
            try:
                kids += c.memory_info().rss
            except psutil.Error:
                pass
    except psutil.Error:
        return float("nan"), float("nan")
    return own / 2 ** 20, kids / 2 ** 20


def slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, MB) points, in MB per hour; None under three points.

    >>> round(slope([(0, 100.0), (1800, 101.0), (3600, 102.0)]), 3)
    2.0
    """
    if len(points) < 3:
        return None
    n = len(points)
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    sxx = sum((t - mx) ** 2 for t, _ in points)
    if sxx == 0:
        return None
    return sum((t - mx) * (v - my) for t, v in points) / sxx * 3600


def summary(samples: list[tuple[float, float, float]]) -> dict:
    """Start, end, peak and slopes of (seconds, own MB, children MB) samples.

    >>> s = summary([(0, 80.0, 40.0), (60, 82.0, 40.0), (120, 84.0, 40.0), (180, 86.0, 40.0), (240, 86.0, 40.0)])
    >>> s["start_mb"], s["end_mb"], s["peak_mb"], round(s["slope_mb_h"], 1), round(s["slope_half_mb_h"], 1)
    (120.0, 126.0, 126.0, 96.0, 60.0)
    """
    total = [(t, own + kids) for t, own, kids in samples]
    half = [p for p in total if p[0] >= total[-1][0] / 2] if total else []
    return {"start_mb": total[0][1] if total else None, "end_mb": total[-1][1] if total else None,
            "peak_mb": max(v for _, v in total) if total else None,
            "start_own_mb": samples[0][1] if samples else None, "end_own_mb": samples[-1][1] if samples else None,
            "start_children_mb": samples[0][2] if samples else None,
            "end_children_mb": samples[-1][2] if samples else None,
            "slope_mb_h": slope(total), "slope_half_mb_h": slope(half), "minutes": total[-1][0] / 60 if total else 0}


TRACE_FILE = "soak-tracemalloc.txt"


def traced_dashboard(argv: list[str]) -> int:
    """``python -m dashboard`` under tracemalloc: SIGUSR1 takes the baseline snapshot, SIGUSR2
    writes the 25 lines that grew most since then to $DATA_DIR/soak-tracemalloc.txt."""
    import os
    import signal
    import tracemalloc

    tracemalloc.start(6)
    state: dict = {}

    def baseline(signum, frame):
        state["base"] = tracemalloc.take_snapshot()

    def report(signum, frame):
        snap = tracemalloc.take_snapshot()
        base = state.get("base")
        filters = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib._bootstrap>")]
        snap = snap.filter_traces(filters)
        lines = [f"traced now {sum(s.size for s in snap.statistics('filename')) / 2 ** 20:.1f} MB"]
        if base is not None:
            stats = snap.compare_to(base.filter_traces(filters), "traceback")
            for st in stats[:25]:
                if st.size_diff <= 0:
                    break
                lines.append(f"{st.size_diff / 1024:+10.1f} KiB {st.count_diff:+8d} blocks  (now {st.size / 1024:.1f} KiB)")
                lines.extend("      " + ln for ln in st.traceback.format(limit=6))
        with open(os.path.join(os.environ.get("DATA_DIR", "."), TRACE_FILE), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")

    signal.signal(signal.SIGUSR1, baseline)
    signal.signal(signal.SIGUSR2, report)
    # imported here, before the app's warm-up thread: traced imports are slow, and a request thread
    # importing numpy while the warm-up thread is halfway through it finds a partial module
    import numpy  # noqa: F401
    import plotly.graph_objects  # noqa: F401
    from dashboard.__main__ import main as dashboard_main

    return dashboard_main(argv)


def _fmt(v) -> str:
    return "—" if v is None else f"{v:+.1f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dashboard.soak", description=__doc__.split("\n\n")[0],
                                 epilog="Example: python -m dashboard.soak --soak-minutes 10 (make bench runs it "
                                        "with SOAK_MINUTES, default 10).")
    ap.add_argument("--soak-minutes", type=float, default=60, help="how long the wall stays open (default 60)")
    ap.add_argument("--every", type=float, default=15, help="seconds between memory readings (default 15)")
    ap.add_argument("--history-days", type=float, default=3, help="days of simulated history (default 3)")
    ap.add_argument("--rate", type=float, default=0.1, help="history complaints per second (default 0.1)")
    ap.add_argument("--feed-rate", type=float, default=0.5, help="live complaints per second (default 0.5)")
    ap.add_argument("--max-slope", type=float, default=None,
                    help="fail (exit 1) when the second half grows faster than this many MB per hour")
    ap.add_argument("--csv", help="also write every reading to this CSV file")
    ap.add_argument("--data-dir", help="where the demo's Redis and logs go (default: a temporary directory)")
    ap.add_argument("--trace", action="store_true",
                    help="run the dashboard under tracemalloc and print what grew (slower; to find a leak)")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--traced-dashboard"]:          # the dashboard child of a --trace run
        return traced_dashboard([a for a in argv[1:] if a != "--"])
    args = ap.parse_args(argv)
    if args.soak_minutes <= 0 or args.every <= 0:
        ap.error("--soak-minutes and --every must be positive")

    import signal

    from dashboard.browser import Recorder, chrome
    from dashboard.screenshots import WALL_READY, DemoStack, say, wait_for

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)      # a kill stops the demo's servers too
    samples: list[tuple[float, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="c12315-soak-") as tmp:
        data = Path(args.data_dir) if args.data_dir else Path(tmp)
        class Stack(DemoStack):
            def _child(self, child_args: list[str], name: str):
                if args.trace and name == "dashboard":
                    child_args = ["-m", "dashboard.soak", "--traced-dashboard", "--", *child_args[2:]]
                return super()._child(child_args, name)

        with Stack(data, history_days=args.history_days, rate=args.rate, feed_rate=args.feed_rate) as stack:
            dash = stack.procs[-1]                  # the dashboard is the last process DemoStack starts
            driver = chrome(1920, 1080)
            rec = Recorder(driver)
            outside: set[str] = set()
            try:
                driver.get(stack.url + "/wall")
                wait_for(driver, WALL_READY, 600 if args.trace else 180, "the wall to fill")   # traced: slow
                say(f"wall open; soaking for {args.soak_minutes:g} min, reading the dashboard's memory "
                    f"(pid {dash.pid}) every {args.every:g} s")
                t0 = time.monotonic()
                end = t0 + args.soak_minutes * 60
                next_print = t0
                trace_base_at = t0 + min(60.0, args.soak_minutes * 60 / 4) if args.trace else None
                while True:
                    now = time.monotonic()
                    own, kids = rss_mb(dash.pid)
                    if dash.poll() is not None:
                        say(f"the dashboard ended (exit {dash.returncode}); see {data / 'logs' / 'dashboard.log'}")
                        return 1
                    samples.append((now - t0, own, kids))
                    outside.update(rec.external())  # drain the browser's logs (they pile up in the driver)
                    rec.urls.clear()
                    if now >= next_print or now >= end:
                        s = slope([(t, a + b) for t, a, b in samples])
                        say(f"{(now - t0) / 60:5.1f}/{args.soak_minutes:g} min  RSS {own + kids:7.1f} MB "
                            f"(dashboard {own:.1f} + children {kids:.1f})  slope {_fmt(s)} MB/h")
                        next_print = now + 60
                    if trace_base_at is not None and now >= trace_base_at:
                        dash.send_signal(signal.SIGUSR1)
                        trace_base_at = None
                    if now >= end:
                        break
                    time.sleep(min(args.every, max(0.0, end - now)))
                errors = rec.errors()
                if args.trace:
                    trace = data / TRACE_FILE
                    trace.unlink(missing_ok=True)
                    dash.send_signal(signal.SIGUSR2)
                    waited = time.monotonic() + 300          # a snapshot of a large process takes a while
                    while not trace.exists() and time.monotonic() < waited and dash.poll() is None:
                        time.sleep(1)
                    time.sleep(1)
                    print(trace.read_text(encoding="utf-8") if trace.exists() else "no tracemalloc report was written")
            finally:
                driver.quit()
    if args.csv:
        with open(args.csv, "w", encoding="utf-8") as f:
            f.write("seconds,dashboard_mb,children_mb\n")
            f.writelines(f"{t:.1f},{a:.2f},{b:.2f}\n" for t, a, b in samples)
    s = summary(samples)
    print(f"dashboard memory with a wall open, {s['minutes']:.1f} min ({len(samples)} readings):")
    print(f"  start  {s['start_mb']:7.1f} MB   (dashboard {s['start_own_mb']:.1f} + children {s['start_children_mb']:.1f})")
    print(f"  end    {s['end_mb']:7.1f} MB   (dashboard {s['end_own_mb']:.1f} + children {s['end_children_mb']:.1f})")
    print(f"  peak   {s['peak_mb']:7.1f} MB")
    print(f"  slope  {_fmt(s['slope_mb_h'])} MB/h over the run, {_fmt(s['slope_half_mb_h'])} MB/h over its second half")
    if errors:
        print(f"  browser console errors: {[e['message'][:200] for e in errors[:3]]}")
    if outside:
        print(f"  requests to outside the app: {sorted(outside)[:3]}")
    if args.max_slope is not None and (s["slope_half_mb_h"] or 0) > args.max_slope:
        print(f"  NOT flat: more than {args.max_slope:g} MB/h")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
