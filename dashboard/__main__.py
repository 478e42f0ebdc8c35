"""`python -m dashboard`: serve the three screens (wall, duty console, review)."""
from __future__ import annotations

import argparse
import logging
import os
import sys


M_ARENA_MAX = -8       # glibc's mallopt parameter (malloc.h)


def limit_malloc_arenas(n: int = 2) -> bool:
    """At most ``n`` glibc malloc arenas in this process and in the processes it starts.

    glibc gives each thread that allocates concurrently an arena of its own (up to 8 per core);
    the server's request threads each fragment one, and the process's memory grew for many minutes
    with a wall open before it levelled off. Two arenas keep it flat at no measurable cost here.
    Must run before the threads start; a no-op (False) where the C library is not glibc.
    ``MALLOC_ARENA_MAX`` in the environment (read by glibc at start) wins and is left alone."""
    import ctypes
    import ctypes.util

    os.environ.setdefault("MALLOC_ARENA_MAX", str(n))         # the background worker, spawned later
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, int(os.environ["MALLOC_ARENA_MAX"])))
    except (OSError, AttributeError, ValueError):
        return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m dashboard",
        description="Serve the 12315 dashboard: /wall (command-centre wall, no sign-in), /duty (duty console) "
                    "and /review (bureau heads). Everything is served by this process; nothing is fetched "
                    "from outside.",
        epilog="Users: python -m dashboard.users add NAME --role duty|head|viewer. Map boundaries: "
               "BOUNDARY_CITIES / BOUNDARY_COUNTIES or dashboard.boundaries in the settings file.")
    ap.add_argument("--host", default=os.environ.get("DASHBOARD_HOST", "127.0.0.1"),
                    help="address to listen on (default 127.0.0.1; env DASHBOARD_HOST)")
    ap.add_argument("--port", type=int, default=int(os.environ.get("DASHBOARD_PORT", 8050)),
                    help="port (default 8050; env DASHBOARD_PORT)")
    ap.add_argument("--threads", type=int, default=8, help="request threads (default 8)")
    ap.add_argument("--trusted-proxy", default=os.environ.get("DASHBOARD_TRUSTED_PROXY", ""),
                    help="address of a TLS reverse proxy in front (e.g. 127.0.0.1) whose X-Forwarded-For/-Proto/"
                         "-Host headers are believed: the client's address and https (default: none; env "
                         "DASHBOARD_TRUSTED_PROXY)")
    args = ap.parse_args(argv)
    limit_malloc_arenas()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from config import install_safe_logging

    install_safe_logging()   # outside values (merchants, names) never put a terminal escape into the log

    from config import SettingsError, load_settings
    from streams.services import port_free

    if not 1 <= args.port <= 65535:
        print(f"dashboard: --port {args.port} is not a TCP port (1-65535)", file=sys.stderr)
        return 2
    if not port_free(args.port, args.host):
        print(f"dashboard: port {args.port} on {args.host} is already taken by another program: stop it, "
              f"or choose another with --port", file=sys.stderr)
        return 1
    try:
        settings = load_settings()
        from dashboard.app import create_app
        from dashboard.geo import BoundaryError

        app = create_app(settings)
    except (SettingsError, BoundaryError) as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    try:
        app.server.extensions["c12315"] = app.ctx
        app.ctx.redis.ping()
    except Exception as e:  # noqa: BLE001 - one line for the operator
        print(f"dashboard: cannot reach Redis at {settings.redis_url_shown} ({e.__class__.__name__}); is `make run` "
              f"running, or is REDIS_URL right?", file=sys.stderr)
        return 1
    from waitress import serve

    print(f"12315 dashboard on http://{args.host}:{args.port}/wall  (duty console /duty, review /review)", flush=True)
    import signal

    def on_term(signum, frame):  # SIGTERM (the stack, systemd, a test) ends like Ctrl-C: pool included
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_term)
    # Ctrl-C ends the server even when it was started with SIGINT ignored (a shell starts background
    # jobs so, and a child inherits it): Python then installs no KeyboardInterrupt of its own
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        proxy = {"trusted_proxy": args.trusted_proxy, "trusted_proxy_count": 1,
                 "trusted_proxy_headers": "x-forwarded-for x-forwarded-proto x-forwarded-host"} if args.trusted_proxy else {}
        serve(app.server, host=args.host, port=args.port, threads=args.threads, ident="c12315",
              clear_untrusted_proxy_headers=True, **proxy)
    except KeyboardInterrupt:
        pass
    finally:
        app.ctx.background.shutdown(wait=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
