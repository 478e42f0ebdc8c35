"""Processes the dashboard starts end when the dashboard does, even when it is killed outright.

A spawned helper (the background pool's worker, the font cutter) calls :func:`watch_parent`
first thing: a daemon thread ends the process as soon as its parent is no longer the dashboard
(SIGKILL, a crash, the stack that started it gone), so no orphan keeps its memory for hours.
"""
from __future__ import annotations

import os
import threading
import time


def watch_parent(parent_pid: int, interval: float = 0.5) -> threading.Thread:
    def watch():
        while True:
            if os.getppid() != parent_pid:
                os._exit(0)
            time.sleep(interval)

    t = threading.Thread(target=watch, name="parent-watch", daemon=True)
    t.start()
    return t
