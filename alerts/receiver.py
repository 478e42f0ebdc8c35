"""A local stand-in for the DingTalk robot, the WeCom group robot and a generic webhook.

For tests and demos without the Internet: it answers like the real services and keeps what
it receives, so notification delivery (signing, retries, formatting) can be exercised and
watched end to end.

* ``POST /dingtalk`` - with a secret, checks ``timestamp`` and ``sign`` as DingTalk does:
  a timestamp more than 1 hour off, or a signature that does not match, is answered
  ``{"errcode": 310000, ...}`` (HTTP 200, like DingTalk).
* ``POST /wecom`` - needs a ``key`` query parameter (``{"errcode": 93000, ...}`` without).
* ``POST /webhook`` - any JSON object.
* The first ``fail_first`` POSTs are answered HTTP 503, to exercise retries.
* Accepted messages get ``{"errcode": 0, "errmsg": "ok"}``, are kept in memory and, with
  ``out``, appended to that file as JSON lines ``{"path", "received_at", "body"}``.
* ``GET /received`` lists them; ``DELETE /received`` forgets them.

Command line::

    python -m alerts.receiver [--host 127.0.0.1] [--port 8099] [--secret S] [--fail-first N] [--out FILE]
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import socket
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

__all__ = ["make_app", "expected_sign", "check_dingtalk_sign", "main", "TIMESTAMP_TOLERANCE_MS"]

TIMESTAMP_TOLERANCE_MS = 3600 * 1000   # DingTalk rejects timestamps more than 1 hour off


def expected_sign(secret: str, timestamp: str | int) -> str:
    """The base64 signature DingTalk expects for ``timestamp`` (before URL-encoding)."""
    string_to_sign = f"{timestamp}\n{secret}"
    digest = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def check_dingtalk_sign(secret: str, timestamp: str | None, sign: str | None,
                        now_ms: int | None = None) -> dict | None:
    """None when ``timestamp`` and ``sign`` (URL-decoded) pass; else DingTalk's error reply."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if not timestamp or not sign:
        return {"errcode": 310000, "errmsg": "sign not match: timestamp and sign are required"}
    try:
        ts = int(timestamp)
    except ValueError:
        return {"errcode": 310000, "errmsg": "invalid timestamp"}
    if abs(now_ms - ts) > TIMESTAMP_TOLERANCE_MS:
        return {"errcode": 310000, "errmsg": "invalid timestamp: more than 1 hour off"}
    if not hmac.compare_digest(expected_sign(secret, timestamp).encode(), sign.encode()):
        return {"errcode": 310000, "errmsg": "sign not match"}
    return None


def make_app(secret: str | None = None, fail_first: int = 0, out: str | Path | None = None) -> FastAPI:
    """The receiver app; ``app.state.received`` holds the accepted messages."""
    app = FastAPI(title="12315 alert notification receiver (test stand-in)")
    app.state.received = []
    app.state.posts = 0
    out_path = Path(out) if out else None

    async def accept(request: Request, path: str, check=None) -> JSONResponse:
        app.state.posts += 1
        if app.state.posts <= fail_first:
            return JSONResponse({"errcode": -1, "errmsg": f"simulated outage ({app.state.posts}/{fail_first})"},
                                status_code=503)
        if check is not None:
            error = check(request)
            if error is not None:
                return JSONResponse(error)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"errcode": 40035, "errmsg": "invalid parameter: body is not JSON"}, status_code=400)
        if not isinstance(body, dict):
            return JSONResponse({"errcode": 40035, "errmsg": "invalid parameter: body must be a JSON object"},
                                status_code=400)
        entry = {"path": path, "received_at": datetime.now(timezone.utc).astimezone().isoformat(), "body": body}
        app.state.received.append(entry)
        if out_path is not None:
            with out_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    def dingtalk_check(request: Request) -> dict | None:
        if not secret:
            return None
        q = request.query_params
        return check_dingtalk_sign(secret, q.get("timestamp"), q.get("sign"))

    def wecom_check(request: Request) -> dict | None:
        if not request.query_params.get("key"):
            return {"errcode": 93000, "errmsg": "invalid webhook url: key is required"}
        return None

    @app.post("/dingtalk")
    async def dingtalk(request: Request) -> JSONResponse:
        """DingTalk custom robot: signature checked when the receiver has a secret."""
        return await accept(request, "/dingtalk", dingtalk_check)

    @app.post("/wecom")
    async def wecom(request: Request) -> JSONResponse:
        """WeCom group robot: needs ?key=..."""
        return await accept(request, "/wecom", wecom_check)

    @app.post("/webhook")
    async def webhook(request: Request) -> JSONResponse:
        """Generic JSON webhook."""
        return await accept(request, "/webhook")

    @app.get("/received")
    async def received() -> list:
        """The accepted messages, oldest first."""
        return app.state.received

    @app.delete("/received")
    async def clear() -> dict:
        """Forget the accepted messages."""
        n = len(app.state.received)
        app.state.received.clear()
        return {"cleared": n}

    return app


def main(argv: list[str] | None = None) -> int:
    """``python -m alerts.receiver``: run the stand-in receiver until Ctrl-C."""
    p = argparse.ArgumentParser(
        prog="python -m alerts.receiver",
        description="Local stand-in for DingTalk/WeCom/webhook alert receivers: POST /dingtalk, "
                    "/wecom?key=K, /webhook; GET or DELETE /received.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8099, help="port (default: 8099)")
    p.add_argument("--secret", help="DingTalk signing secret; /dingtalk then checks timestamp and sign")
    p.add_argument("--fail-first", type=int, default=0, metavar="N",
                   help="answer the first N POSTs with HTTP 503 (to exercise retries)")
    p.add_argument("--out", metavar="FILE", help="append accepted messages to FILE as JSON lines")
    args = p.parse_args(argv)
    if args.fail_first < 0:
        p.error("--fail-first must be >= 0")
    if args.out:
        try:
            Path(args.out).open("a", encoding="utf-8").close()
        except OSError as e:
            print(f"receiver: cannot write {args.out}: {e.strerror}", file=sys.stderr)
            return 2
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
        sock.listen(128)
    except OSError as e:
        sock.close()
        print(f"receiver: port {args.port} on {args.host} is not available ({e.strerror}); "
              f"stop the program using it or choose another with --port", file=sys.stderr)
        return 2
    import uvicorn

    app = make_app(args.secret, args.fail_first, args.out)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    print(f"receiver listening on http://{args.host}:{args.port} "
          f"(POST /dingtalk{' (signed)' if args.secret else ''}, /wecom?key=K, /webhook; GET /received)",
          flush=True)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
