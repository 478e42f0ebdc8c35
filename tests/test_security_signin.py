"""Sign-in throttling that cannot lock out the real user.

The dashboard runs as a real process on the test's redis-server; clients sign in over HTTP from
different loopback source addresses (127.0.0.2 = client A, 127.0.0.3 = client B), so the server
sees two machines.
"""
from __future__ import annotations

import re
from types import SimpleNamespace

import httpx
import pytest

from dashboard import auth
from streams.services import free_port
from tests.conftest import wait_http
from tests.test_dashboard import geo_env

USERS = {"head": ("head", "head-password-1", "局长李"), "zhang": ("duty", "duty-password-1", "张值班")}
WRONG = "wrong-pass-%d-xyzzy"


@pytest.fixture
def dashboard(stack, procs, tmp_path):
    users = auth.Users(tmp_path / "users.json")
    for name, (role, pw, display) in USERS.items():
        users.add(name, role, pw, display)
    stack["env"].update(DASHBOARD_USERS=str(tmp_path / "users.json"), DASHBOARD_SECRET_KEY="signin-test",
                        **geo_env())
    port = free_port()
    p = procs("-m", "dashboard", "--port", str(port), name="dashboard")
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/healthz", p, "the dashboard", 60)
    return {"url": url, "proc": p}


def client(url: str, source: str) -> httpx.Client:
    """An HTTP client whose connections come from ``source`` (a loopback address)."""
    return httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address=source), timeout=30)


def sign_in(c: httpx.Client, name: str, password: str) -> httpx.Response:
    page = c.get("/login?next=/duty").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    return c.post("/login", data={"username": name, "password": password, "csrf": token, "next": "/duty"})


def test_wrong_passwords_from_one_client_do_not_lock_out_the_real_user(dashboard, stack):
    a, b = client(dashboard["url"], "127.0.0.2"), client(dashboard["url"], "127.0.0.3")
    with a, b:
        answers = [sign_in(a, "head", WRONG % i) for i in range(5)]
        codes = [r.status_code for r in answers]
        # the first THROTTLE_FREE are plain refusals; then client A must wait (growing delays)
        assert codes[:auth.THROTTLE_FREE] == [401] * auth.THROTTLE_FREE, codes
        assert "用户名或密码错误" in answers[0].text and "秒后再试" in answers[auth.THROTTLE_FREE - 1].text
        assert codes[auth.THROTTLE_FREE:] == [429] * (5 - auth.THROTTLE_FREE), codes
        # client A, even with the right password, waits ...
        held = sign_in(a, "head", USERS["head"][1])
        assert held.status_code == 429 and "此终端" in held.text
        # ... and the real head at another client signs in at once
        ok = sign_in(b, "head", USERS["head"][1])
        assert ok.status_code == 302 and ok.headers["location"].endswith("/duty"), ok.text[:300]
        assert b.get("/duty").status_code == 200
        # client A may still sign in other names (the throttle is per client and name)
        assert sign_in(a, "zhang", USERS["zhang"][1]).status_code == 302
        # an unknown name, perhaps a password typed into the name field, is never kept
        assert sign_in(a, "MyS3cretPassw0rd", "whatever-1").status_code == 401
    log = dashboard["proc"].output()
    failures = [ln for ln in log.splitlines() if "sign-in failed" in ln]
    assert len(failures) == auth.THROTTLE_FREE + 1, log[-3000:]
    assert all("'head' from 127.0.0.2" in ln for ln in failures[:auth.THROTTLE_FREE])
    assert "sign-in refused: 'head' from 127.0.0.2" in log
    assert not any(WRONG % i in log for i in range(5)) and USERS["head"][1] not in log
    assert "MyS3cretPassw0rd" not in log and "an unknown user name" in log
    # the day's count the 局长 sees: 3 wrong + 3 refused tries (two wrong, one right) for head
    r = stack["redis"]
    sessions = auth.Sessions(r, 1800, 3600)
    assert sessions.failure_counts() == {"head": 6, auth.UNKNOWN_NAME: 1}
    dump = " ".join(str(k) + str(r.get(k) if r.type(k) == "string" else r.hgetall(k) if r.type(k) == "hash" else "")
                    for k in r.scan_iter())
    assert "MyS3cretPassw0rd" not in dump and "wrong-pass" not in dump


def test_failures_show_to_the_head_only(stack):
    from dashboard import duty

    r = stack["redis"]
    sessions = auth.Sessions(r, 1800, 3600)
    ctx = SimpleNamespace(sessions=sessions)
    head, officer = auth.User("head", "head", "局长李"), auth.User("zhang", "duty", "张值班")
    assert duty.signin_failures(ctx, head) == []          # nothing to show
    for _ in range(4):
        sessions.failed("10.0.0.9", "head")
    sessions.failed("10.0.0.9", "nobody", known=False)
    [line] = duty.signin_failures(ctx, head)
    assert "今日登录失败 5 次" in line.children and "head 4次" in line.children
    assert duty.signin_failures(ctx, officer) == []


def test_throttle_grows_per_client_and_name_and_clears_on_success(stack):
    r = stack["redis"]
    s = auth.Sessions(r, 1800, 3600)
    delays = [s.failed("10.0.0.1", "head")[1] for _ in range(6)]
    assert delays == [auth.throttle_delay(n) for n in range(1, 7)]
    assert delays[:auth.THROTTLE_FREE - 1] == [0] * (auth.THROTTLE_FREE - 1)
    assert all(b > a for a, b in zip(delays[auth.THROTTLE_FREE - 1:], delays[auth.THROTTLE_FREE:]))
    assert 0 < s.waiting("10.0.0.1", "head") <= delays[-1]
    assert s.waiting("10.0.0.2", "head") == 0 and s.waiting("10.0.0.1", "zhang") == 0
    assert auth.throttle_delay(100) == auth.THROTTLE_MAX_S
    s.clear_fails("10.0.0.1", "head")
    assert s.waiting("10.0.0.1", "head") == 0 and s.failed("10.0.0.1", "head") == (1, 0)
