"""Security of the API: API tokens with scopes, JSON-only intake, silence rules.

Against a real API process, real redis-server and the real broker (fixtures in conftest.py).
"""
from __future__ import annotations

import json
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from alerts.store import AlertStore, silence_until
from streams.access import ROLE_SCOPES, SCOPES, SCREENS, parse_scopes, required_scope, role_may
from streams.tokens import Tokens, bearer, token_hash
from tests.conftest import ROOT, make_complaints

DET = {"series": "county:140403:产品质量", "level": "county", "district": "140403", "industry": "产品质量",
       "observed": 12, "expected": 3.0, "score": 9.0, "threshold": 7.0, "method": "share",
       "phrases": [["掉色", 7]], "merchants": [["某商场", 6]], "samples": []}


def raise_alert(r, since: str) -> str:
    now = datetime.now(timezone(timedelta(hours=8)))
    aid, outcome = AlertStore(r).raise_or_update({**DET, "since": since, "at": now.isoformat()}, now)
    assert aid and outcome == "new", outcome
    return aid


# -- pure parts ------------------------------------------------------------------------------
def test_one_model_of_scopes_and_roles():
    assert required_scope("POST", "/api/v1/complaints") == "submit"
    for path in ("/api/v1/counts", "/api/v1/topics", "/api/v1/cloud.png", "/api/v1/stats", "/api/v1/alerts",
                 "/api/v1/alerts/a-1", "/api/v1/alerts-teams", "/api/v1/silences", "/openapi.json"):
        assert required_scope("GET", path) == "read", path
    assert required_scope("POST", "/api/v1/alerts/a-1/ack") == "act"
    assert required_scope("POST", "/api/v1/silences") == "admin"
    assert required_scope("DELETE", "/api/v1/silences/s-1") == "admin"
    assert required_scope("PUT", "/api/v1/anything") == "admin"       # deny by default
    assert required_scope("GET", "/healthz") is None
    # the console's roles are sets of the same scopes: duty and head act, viewer reads, head administers
    assert role_may("duty", "act") and role_may("head", "act") and not role_may("viewer", "act")
    assert role_may("head", "admin") and not role_may("duty", "admin")
    assert all(s <= set(SCOPES) for s in ROLE_SCOPES.values()) and set(SCREENS) == {"/duty", "/review"}
    from dashboard.auth import User
    assert User("z", "duty", "张").may_act and not User("g", "viewer", "观").may_act
    assert parse_scopes("read, submit") == ("submit", "read") and parse_scopes("all") == SCOPES
    with pytest.raises(ValueError, match="unknown scope root"):
        parse_scopes("read,root")
    assert bearer("Bearer abc") == "abc" and bearer("bearer  abc ") == "abc"
    assert bearer("Basic abc") is None and bearer("Bearer") is None and bearer(None) is None


def test_silence_until_reads_iso_and_spans_from_now():
    now = datetime(2026, 5, 1, 12, tzinfo=timezone(timedelta(hours=8)))
    assert silence_until("+2h", now) == now + timedelta(hours=2)
    assert silence_until("+3 days", now) == now + timedelta(days=3)
    assert silence_until("+100 years", now) == now + timedelta(days=36500)
    assert silence_until("2026-05-02T08:00:00+08:00", now) == datetime(2026, 5, 2, 8, tzinfo=now.tzinfo)
    with pytest.raises(ValueError, match="unknown unit"):
        silence_until("+3 fortnights", now)
    with pytest.raises(ValueError, match="ISO 8601"):
        silence_until("next tuesday", now)


# -- tokens and scopes on every route family -------------------------------------------------
def test_every_route_needs_a_valid_token_with_its_scope(api, stack):
    r = stack["redis"]
    aid = raise_alert(r, "2026-05-01T10:00:00+08:00")
    sid = AlertStore(r).add_silence(district="140403", until="+1d", reason="演练", by="setup",
                                    now=datetime.now(timezone(timedelta(hours=8))))
    prov = {"level": "province", "code": "140000"}
    routes = [
        ("POST", "/api/v1/complaints", {"json": make_complaints(1, prefix="auth")[0]}, "submit"),
        ("GET", "/api/v1/counts", {"params": prov}, "read"),
        ("GET", "/api/v1/topics", {"params": prov}, "read"),
        ("GET", "/api/v1/cloud.png", {"params": prov}, "read"),
        ("GET", "/api/v1/stats", {}, "read"),
        ("GET", "/api/v1/alerts", {}, "read"),
        ("GET", f"/api/v1/alerts/{aid}", {}, "read"),
        ("GET", "/api/v1/alerts-teams", {}, "read"),
        ("GET", "/api/v1/silences", {}, "read"),
        ("GET", "/openapi.json", {}, "read"),
        ("POST", f"/api/v1/alerts/{aid}/ack", {"json": {}}, "act"),
        ("POST", "/api/v1/silences", {"json": {"district": "140100", "until": "+1h", "reason": "检修"}}, "admin"),
        ("DELETE", f"/api/v1/silences/{sid}", {}, "admin"),
    ]
    only = {s: api.token_headers(f"only-{s}", s) for s in SCOPES}
    lacking = {s: api.token_headers(f"all-but-{s}", ",".join(x for x in SCOPES if x != s)) for s in SCOPES}
    for method, path, kw, scope in routes:
        url = api + path
        nobody = httpx.request(method, url, timeout=10, **kw)
        assert nobody.status_code == 401, (method, path, nobody.text)
        assert "Bearer" in nobody.json()["error"] and "\n" not in nobody.json()["error"]
        forged = httpx.request(method, url, timeout=10, headers={"Authorization": "Bearer cct_forged"}, **kw)
        assert forged.status_code == 401 and "not valid" in forged.json()["error"], (method, path)
        wrong = httpx.request(method, url, timeout=10, headers=lacking[scope], **kw)
        assert wrong.status_code == 403, (method, path, wrong.text)
        assert f"'{scope}' scope" in wrong.json()["error"] and "\n" not in wrong.json()["error"]
        ok = httpx.request(method, url, timeout=30, headers=only[scope], **kw)
        assert ok.status_code not in (401, 403), (method, path, ok.text)
        assert ok.status_code < 500, (method, path, ok.text)
    # the health check stays open (load balancers, make run)
    assert httpx.get(api + "/healthz", timeout=10).status_code in (200, 503)
    # the actions above were done as the tokens' names
    a = AlertStore(r).get(aid)
    assert a["state"] == "acknowledged" and a["acknowledged_by"] == "only-act"
    assert [s["by"] for s in AlertStore(r).silences(None, active_only=False) if s["district"] == "140100"] \
        == ["only-admin"]


def test_audit_actor_is_the_token_name_never_the_body(api, stack):
    r = stack["redis"]
    aid = raise_alert(r, "2026-05-01T11:00:00+08:00")
    duty = api.token_headers("desk-7", "read,act")
    res = httpx.post(f"{api}/api/v1/alerts/{aid}/ack", json={"by": "局长王某"}, headers=duty, timeout=10)
    assert res.status_code == 200, res.text
    res = httpx.post(f"{api}/api/v1/alerts/{aid}/dispatch", json={"by": "局长王某", "team": "产品质量快反分队"},
                     headers=duty, timeout=10)
    assert res.status_code == 200, res.text
    got = httpx.get(f"{api}/api/v1/alerts/{aid}", headers=api.headers, timeout=10).json()
    acts = [(h["action"], h["by"]) for h in got["history"] if h["action"] not in ("raised", "updated", "escalated")]
    assert acts == [("ack", "desk-7"), ("dispatch", "desk-7")]
    assert "局长王某" not in json.dumps(got, ensure_ascii=False)

    admin = api.token_headers("ops-admin", "read,admin")
    made = httpx.post(api + "/api/v1/silences", headers=admin, timeout=10,
                      json={"district": "140400", "until": "+2d", "reason": "节日促销，预期投诉增多", "by": "局长王某"})
    assert made.status_code == 201, made.text
    sid = made.json()["id"]
    gone = httpx.delete(f"{api}/api/v1/silences/{sid}", params={"by": "anyone"}, headers=admin, timeout=10)
    assert gone.status_code == 200 and gone.json() == {"removed": True}
    sil = [s for s in AlertStore(r).silences(None, active_only=False) if s["id"] == sid][0]
    assert sil["by"] == "ops-admin" and sil["removed_by"] == "ops-admin"


def test_silences_need_a_reason_a_bounded_end_and_admin(api, stack):
    admin = api.token_headers("ops-admin", "read,admin")
    url = api + "/api/v1/silences"
    no_reason = httpx.post(url, json={"district": "140000", "until": "+1d"}, headers=admin, timeout=10)
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["error"]
    blank = httpx.post(url, json={"district": "140000", "until": "+1d", "reason": "  "}, headers=admin, timeout=10)
    assert blank.status_code == 422 and "reason" in blank.json()["error"]
    century = httpx.post(url, json={"district": "140000", "until": "+100 years", "reason": "x"}, headers=admin, timeout=10)
    assert century.status_code == 422, century.text
    assert "at most 7 days" in century.json()["error"] and "alerts.silence_max_days" in century.json()["error"]
    far = (datetime.now(timezone(timedelta(hours=8))) + timedelta(days=30)).isoformat()
    month = httpx.post(url, json={"district": "140000", "until": far, "reason": "x"}, headers=admin, timeout=10)
    assert month.status_code == 422 and "at most 7 days" in month.json()["error"]
    week = httpx.post(url, json={"district": "140000", "until": "+6d", "reason": "演练"}, headers=admin, timeout=10)
    assert week.status_code == 201, week.text
    sid = week.json()["id"]
    listed = httpx.get(url, headers=api.token_headers("reader", "read"), timeout=10).json()["silences"]
    assert [s["id"] for s in listed] == [sid]
    for scopes in ("read", "read,act", "submit,read,act"):
        h = api.token_headers("not-admin", scopes)
        assert httpx.delete(f"{url}/{sid}", headers=h, timeout=10).status_code == 403
        assert httpx.post(url, json={"district": "140400", "until": "+1h", "reason": "x"}, headers=h,
                          timeout=10).status_code == 403
    assert len(httpx.get(url, headers=api.headers, timeout=10).json()["silences"]) == 1
    assert httpx.delete(f"{url}/{sid}", headers=admin, timeout=10).status_code == 200
    assert httpx.get(url, headers=api.headers, timeout=10).json()["silences"] == []


# -- JSON-only intake, no CORS, size before reading ------------------------------------------
def test_intake_takes_json_only_and_sends_no_cors_headers(api, stack):
    body = json.dumps(make_complaints(1, prefix="xsite")[0], ensure_ascii=False).encode()
    foreign = {**api.headers, "Origin": "http://evil.example"}
    for ctype in ("text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
                  "multipart/form-data; boundary=x", None):
        h = {**foreign, **({"Content-Type": ctype} if ctype else {})}
        res = httpx.post(api + "/api/v1/complaints", content=body, headers=h, timeout=10)
        assert res.status_code == 415, (ctype, res.status_code, res.text)
        assert "application/json" in res.json()["error"]
        assert not any(k.lower().startswith("access-control-") for k in res.headers), res.headers
    assert stack["redis"].get("cc:seen:xsite0") is None
    ok = httpx.post(api + "/api/v1/complaints", content=body, timeout=10,
                    headers={**foreign, "Content-Type": "application/json; charset=utf-8"})
    assert ok.status_code == 202, ok.text
    assert "access-control-allow-origin" not in ok.headers
    pre = httpx.options(api + "/api/v1/complaints", timeout=10, headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert "access-control-allow-origin" not in pre.headers and "access-control-allow-headers" not in pre.headers
    got = httpx.get(api + "/api/v1/stats", headers=foreign, timeout=10)
    assert got.status_code == 200 and "access-control-allow-origin" not in got.headers


def _raw_request(port: int, head: str, body: bytes = b"", wait: float = 10) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(head.encode() + body)
        chunks = b""
        try:
            while b"\r\n\r\n" not in chunks or len(chunks) < 200:
                part = s.recv(65536)
                if not part:
                    break
                chunks += part
        except socket.timeout:
            pass
    return chunks.decode("utf-8", "replace")


def test_body_size_is_checked_from_content_length_before_reading(api, stack):
    limit = stack["settings"].api.max_body_bytes
    port = int(api.rsplit(":", 1)[1])
    auth = api.headers["Authorization"]
    head = (f"POST /api/v1/complaints HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {limit * 50}\r\n\r\n")
    # not one byte of the announced body is sent: the answer can only come from the header
    answer = _raw_request(port, head)
    assert answer.startswith("HTTP/1.1 413"), answer[:300]
    assert f"the limit is {limit}" in answer
    # a streamed body without a length is refused, not read until it ends
    def chunks():
        yield b"[" + b" " * 1000
        yield b"]"
    res = httpx.post(api + "/api/v1/complaints", content=chunks(), timeout=10,
                     headers={**api.headers, "Content-Type": "application/json"})
    assert res.status_code == 411 and "Content-Length" in res.json()["error"]
    bad = (f"POST /api/v1/complaints HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\n"
           f"Content-Type: application/json\r\nContent-Length: -5\r\nConnection: close\r\n\r\n")
    assert _raw_request(port, bad).split(" ", 2)[1] == "400"


# -- the tokens CLI --------------------------------------------------------------------------
def tokens_cli(stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "streams.tokens", *args], env=stack["env"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def redis_dump(r) -> str:
    """Every key and value in the Redis db, as one text."""
    out = []
    for k in r.scan_iter(count=1000):
        t = r.type(k)
        v = (r.get(k) if t == "string" else r.hgetall(k) if t == "hash" else r.lrange(k, 0, -1) if t == "list"
             else r.smembers(k) if t == "set" else r.zrange(k, 0, -1, withscores=True) if t == "zset" else t)
        out.append(f"{k} {v}")
    return "\n".join(out)


def test_tokens_cli_adds_lists_and_revokes_and_stores_only_hashes(api, stack):
    assert tokens_cli(stack, "--help").returncode == 0
    for sub in ("add", "list", "revoke"):
        h = tokens_cli(stack, sub, "--help")
        assert h.returncode == 0 and "usage" in h.stdout
    made = tokens_cli(stack, "add", "feed-1", "--scopes", "submit,read")
    assert made.returncode == 0, made.stderr
    lines = made.stdout.strip().splitlines()
    token = lines[-1]
    assert token.startswith("cct_") and len(token) > 40 and " " not in token
    assert made.stdout.count(token) == 1 and token not in made.stderr
    h = {"Authorization": f"Bearer {token}"}
    assert httpx.get(api + "/api/v1/stats", headers=h, timeout=10).status_code == 200
    assert httpx.post(api + "/api/v1/complaints", json=make_complaints(1, prefix="cli")[0], headers=h,
                      timeout=10).status_code == 202
    assert httpx.get(api + "/api/v1/silences", headers=h, timeout=10).status_code == 200
    assert httpx.post(api + "/api/v1/silences", json={"district": "140400", "until": "+1h", "reason": "x"},
                      headers=h, timeout=10).status_code == 403
    # stored hashed: the raw token is nowhere in Redis, its SHA-256 is
    dump = redis_dump(stack["redis"])
    assert token not in dump and token[4:] not in dump and token_hash(token) in dump
    listed = tokens_cli(stack, "list")
    assert listed.returncode == 0 and token not in listed.stdout
    row = [ln for ln in listed.stdout.splitlines() if ln.startswith("feed-1\t")]
    assert row and row[0].split("\t")[1] == "submit,read"
    again = tokens_cli(stack, "add", "feed-1", "--scopes", "all")
    assert again.returncode == 2 and "exists" in again.stderr and "cct_" not in again.stdout
    assert tokens_cli(stack, "add", "bad name", "--scopes", "read").returncode == 2
    assert "unknown scope" in tokens_cli(stack, "add", "x", "--scopes", "read,root").stderr
    gone = tokens_cli(stack, "revoke", "feed-1")
    assert gone.returncode == 0 and "revoked feed-1" in gone.stdout
    res = httpx.get(api + "/api/v1/stats", headers=h, timeout=10)
    assert res.status_code == 401 and "not valid" in res.json()["error"]
    assert "feed-1" not in tokens_cli(stack, "list").stdout
    assert tokens_cli(stack, "revoke", "feed-1").returncode == 1
    assert Tokens(stack["redis"]).lookup(token) is None


def test_active_silences_show_on_the_wall_and_the_console(stack):
    from types import SimpleNamespace

    from dashboard import duty, wall

    store = AlertStore(stack["redis"])
    now = datetime.now(timezone(timedelta(hours=8)))
    ctx = SimpleNamespace(alerts=lambda: store)
    assert wall.silence_items(wall.active_silences(ctx, now)) == [] and duty.silence_line(store, now) is None
    sid = store.add_silence(district="140400", industry="食品", until="+2d", reason="节日促销", by="ops", now=now)
    until = (now + timedelta(days=2)).strftime("%m-%d %H:%M")
    [item] = wall.silence_items(wall.active_silences(ctx, now))
    assert item.children == f"静默中：长治市·食品 至{until}（节日促销）"
    assert duty.silence_line(store, now).children == item.children
    store.remove_silence(sid, "ops", now)
    assert wall.active_silences(ctx, now) == [] and duty.silence_line(store, now) is None
