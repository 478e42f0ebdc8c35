"""Slow values (hot topics, keyword clouds, period topics for the review) computed away from
the request threads.

A wall refresh must answer in well under 200 ms, but scoring a day of topics against a week of
baseline, or drawing a cloud, takes a second or more of pure Python. :class:`Background`
answers at once with the last value computed for a key (None the first time) and recomputes it
when it is older than ``max_age``; the screen shows the new value on its next refresh. The work
runs in a separate process (``dashboard.jobs``), so it does not hold the interpreter lock that
the request threads need.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable

log = logging.getLogger(__name__)


class Background:
    def __init__(self, raw_settings: dict | None = None, processes: int = 1, keep: int = 64):
        self._raw = raw_settings
        self._processes = processes
        self._lock = threading.Lock()
        self._values: dict[Any, tuple[float, Any]] = {}
        self._running: dict[Any, Future] = {}
        self._errors: dict[Any, str] = {}
        self.keep = keep
        self._pool: Executor = self._new_pool()

    def _new_pool(self) -> Executor:
        if self._raw is None:
            return ThreadPoolExecutor(max_workers=self._processes, thread_name_prefix="dashboard-bg")
        from dashboard import jobs

        # The worker watches for this process: if it dies (SIGKILL, a crash, a parent that never ran
        # shutdown) the worker ends itself within a second instead of living on as an orphan.
        pool = ProcessPoolExecutor(max_workers=self._processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=jobs.init, initargs=(self._raw, os.getpid()))
        pool.submit(jobs.prepare)    # started now, not at the first screen: imports, read model, font
        return pool

    def get(self, key, fn: Callable, *args, max_age: float) -> Any:
        """The last value of ``key`` (None before the first); ``fn(*args)`` recomputes it when stale.
        ``fn`` must be a module-level function (it runs in another process)."""
        fut = None
        with self._lock:
            have = self._values.get(key)
            stale = have is None or time.monotonic() - have[0] > max_age
            if stale and key not in self._running:
                try:
                    fut = self._pool.submit(fn, *args)
                except (BrokenProcessPool, RuntimeError):
                    self._pool = self._new_pool()
                    fut = self._pool.submit(fn, *args)
                self._running[key] = fut
        if fut is not None:
            # outside the lock: a future already done runs _done at once, in this thread, and _done
            # takes the lock (inside it, a quick job answered before this line hung every request
            # thread of the dashboard on the lock for good)
            fut.add_done_callback(lambda f, key=key: self._done(key, f))
        return have[1] if have else None

    def error(self, key) -> str | None:
        return self._errors.get(key)

    def _done(self, key, fut: Future) -> None:
        try:
            value = fut.result()
            err = None
        except Exception as e:  # noqa: BLE001 - shown on the screen instead of the value
            log.warning("background computation of %r failed: %s", key, e)
            value, err = None, f"{e.__class__.__name__}: {e}"
        with self._lock:
            if err:
                self._errors[key] = err
            else:
                self._errors.pop(key, None)
            self._values[key] = (time.monotonic(), value)
            self._running.pop(key, None)
            if len(self._values) > self.keep:
                for k in sorted(self._values, key=lambda k: self._values[k][0])[:len(self._values) - self.keep]:
                    self._values.pop(k, None)

    def wait(self, key, fn: Callable, *args, timeout: float = 60) -> Any:
        """The value of ``key``, waiting for it (exports, reports and tests; never in a refresh)."""
        self.get(key, fn, *args, max_age=float("inf"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if key in self._values and key not in self._running:
                    if key in self._errors:
                        raise RuntimeError(self._errors[key])
                    return self._values[key][1]
            time.sleep(0.02)
        raise TimeoutError(f"{key!r} not computed within {timeout:.0f} s")

    def shutdown(self, wait: bool = False) -> None:
        """Stop the worker process(es). ``wait`` blocks until they have exited (used on the
        dashboard's own exit, so that nothing it started outlives it)."""
        pool = self._pool
        procs = list(getattr(pool, "_processes", {}).values()) if isinstance(pool, ProcessPoolExecutor) else []
        pool.shutdown(wait=False, cancel_futures=True)
        if wait:
            for p in procs:
                p.join(timeout=3)
                if p.is_alive():
                    p.kill()
                    p.join(timeout=2)
