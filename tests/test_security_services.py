"""Locked-down embedded services: the embedded redis-server asks for a
generated password and has CONFIG/DEBUG/FLUSHALL renamed away, the data directory and its
files are private after a real stack start, and an external Kafka's SASL/TLS settings reach
every client through one helper."""
from __future__ import annotations

import os
import signal
import socket
import ssl
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from config import SettingsError, load_settings, redacted_url
from streams.kafka_security import aiokafka_kwargs, describe, faust_credentials
from tests.conftest import ROOT, Proc, wait_until

EXTERNAL = {"KAFKA_BROKER": "kafka1.example:9093,kafka2.example:9093"}


def raw_command(port: int, *words: str) -> bytes:
    """One RESP command on a fresh connection (no AUTH), its first reply line."""
    payload = f"*{len(words)}\r\n".encode() + b"".join(f"${len(w.encode())}\r\n{w}\r\n".encode() for w in words)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(payload)
        return s.recv(4096).split(b"\r\n")[0]


# -- Kafka security: the pure mapping -----------------------------------------------------------

def test_plaintext_is_only_the_bootstrap_servers():
    S = load_settings(EXTERNAL)
    assert aiokafka_kwargs(S) == {"bootstrap_servers": "kafka1.example:9093,kafka2.example:9093"}
    assert faust_credentials(S) is None
    assert aiokafka_kwargs(load_settings({})) == {"bootstrap_servers": "127.0.0.1:9092"}


def test_sasl_ssl_maps_to_aiokafka_and_faust_alike(tmp_path):
    from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

    ca = tmp_path / "ca.pem"
    ca.write_text(_self_signed_ca(tmp_path))
    S = load_settings({**EXTERNAL, "KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
                       "KAFKA_SASL_USERNAME": "c12315", "KAFKA_SASL_PASSWORD": "s3cret", "KAFKA_SSL_CAFILE": str(ca)})
    kw = aiokafka_kwargs(S)
    ctx = kw.pop("ssl_context")
    assert kw == {"bootstrap_servers": "kafka1.example:9093,kafka2.example:9093", "security_protocol": "SASL_SSL",
                  "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "c12315", "sasl_plain_password": "s3cret"}
    assert isinstance(ctx, ssl.SSLContext) and ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert len(ctx.get_ca_certs()) == 1, "the CA file given is the one trusted"
    # faust turns its credentials into the same aiokafka settings
    faust_auth = credentials_to_aiokafka_auth(faust_credentials(S, context=ctx))
    assert faust_auth == {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
                          "sasl_plain_username": "c12315", "sasl_plain_password": "s3cret", "ssl_context": ctx}
    assert "s3cret" not in describe(S) and "c12315" in describe(S)


def test_ssl_and_sasl_plaintext(tmp_path):
    from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

    S = load_settings({**EXTERNAL, "KAFKA_SECURITY_PROTOCOL": "SSL"})
    kw = aiokafka_kwargs(S)
    assert kw["security_protocol"] == "SSL" and isinstance(kw["ssl_context"], ssl.SSLContext)
    assert "sasl_mechanism" not in kw
    assert credentials_to_aiokafka_auth(faust_credentials(S))["security_protocol"] == "SSL"
    S = load_settings({**EXTERNAL, "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_USERNAME": "u",
                       "KAFKA_SASL_PASSWORD": "p"})
    kw = aiokafka_kwargs(S)
    assert kw == {"bootstrap_servers": EXTERNAL["KAFKA_BROKER"], "security_protocol": "SASL_PLAINTEXT",
                  "sasl_mechanism": "PLAIN", "sasl_plain_username": "u", "sasl_plain_password": "p"}
    auth = credentials_to_aiokafka_auth(faust_credentials(S))
    assert auth["security_protocol"] == "SASL_PLAINTEXT" and auth["ssl_context"] is None
    assert auth["sasl_plain_username"] == "u" and auth["sasl_plain_password"] == "p"


@pytest.mark.parametrize("env, words", [
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, ["KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"]),
    ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, ["KAFKA_SECURITY_PROTOCOL", "'TLS'", "SASL_SSL"]),
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "p",
      "KAFKA_SASL_MECHANISM": "MD5"}, ["KAFKA_SASL_MECHANISM", "SCRAM-SHA-256"]),
    ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CAFILE": "/nowhere/ca.pem"}, ["KAFKA_SSL_CAFILE", "/nowhere/ca.pem"]),
])
def test_bad_kafka_security_settings_are_named(env, words):
    with pytest.raises(SettingsError) as e:
        load_settings({**EXTERNAL, **env})
    for w in words:
        assert w in str(e.value)


def test_the_embedded_broker_stays_plaintext_on_loopback(services):
    with pytest.raises(SettingsError, match="external Kafka only"):
        load_settings({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "p"})
    port = services["broker"].port
    cmd = services["broker"].command()
    assert cmd[cmd.index("--listener-url") + 1] == f"tcp://127.0.0.1:{port}"
    listening = Path("/proc/net/tcp").read_text().splitlines()[1:]
    mine = [line.split()[1] for line in listening if line.split()[1].endswith(f":{port:04X}") and line.split()[3] == "0A"]
    assert mine == [f"0100007F:{port:04X}"], "the broker listens on 127.0.0.1 only"


def test_every_kafka_client_is_made_through_the_helper():
    """No module builds an aiokafka client with its own bootstrap_servers=…: the security
    settings would be missed there."""
    offenders = []
    for path in [*ROOT.glob("streams/*.py"), *ROOT.glob("alerts/*.py"), *ROOT.glob("dashboard/*.py"),
                 ROOT / "tests" / "conftest.py"]:
        text = path.read_text(encoding="utf-8")
        if "bootstrap_servers=" in text and path.name != "kafka_security.py":
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders
    assert "broker_credentials=faust_credentials(S)" in (ROOT / "streams" / "app.py").read_text(encoding="utf-8")


# -- the embedded redis-server --------------------------------------------------------------------

def test_the_embedded_redis_refuses_clients_without_the_password_and_has_no_config(services):
    rds = services["redis"]
    assert raw_command(rds.port, "PING").startswith(b"-NOAUTH")
    assert raw_command(rds.port, "GET", "cc:stats").startswith(b"-NOAUTH")
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis(port=rds.port, password="wrong-password").ping()
    r = rds.client(decode_responses=True)
    try:
        assert r.ping()
        for cmd in (("CONFIG", "GET", "dir"), ("CONFIG", "SET", "dir", "/tmp"), ("FLUSHALL",), ("DEBUG", "SLEEP", "0")):
            with pytest.raises(redis.exceptions.ResponseError, match="unknown command"):
                r.execute_command(*cmd)
    finally:
        r.close()
    # the password is in a 0600 file, never on the server's command line (readable by every local user)
    pw_file = services["data_dir"] / "redis.pass"
    assert stat.S_IMODE(pw_file.stat().st_mode) == 0o600
    assert rds.password and rds.password in pw_file.read_text()
    cmdline = Path(f"/proc/{rds.pid}/cmdline").read_bytes()
    assert rds.password.encode() not in cmdline
    assert rds.url(3) == f"redis://:{rds.password}@127.0.0.1:{rds.port}/3"


def test_the_password_is_reused_on_restart_and_reaches_clients_through_the_settings(tmp_path):
    from streams.services import EmbeddedRedis, free_port

    srv = EmbeddedRedis(free_port(), tmp_path).start()
    try:
        first = srv.password
        S = load_settings({"DATA_DIR": str(tmp_path), "REDIS_PORT": str(srv.port)})
        assert S.redis_embedded and S.redis_url == f"redis://:{first}@127.0.0.1:{srv.port}/0"
        assert first not in S.redis_url_shown and "***" in S.redis_url_shown
        r = redis.Redis.from_url(S.redis_url)
        r.set("kept", "1")
        r.close()
        srv.stop()
        srv = EmbeddedRedis(srv.port, tmp_path).start()
        assert srv.password == first
        r = redis.Redis.from_url(load_settings({"DATA_DIR": str(tmp_path), "REDIS_PORT": str(srv.port)}).redis_url)
        assert r.get("kept") == b"1"
        r.close()
    finally:
        srv.stop()
    # an external Redis's URL is used as given, password and all, and shown without it
    S = load_settings({"REDIS_URL": "redis://:pa55@redis.example:6379/2"})
    assert S.redis_url == "redis://:pa55@redis.example:6379/2" and S.redis_url_shown == "redis://:***@redis.example:6379/2"
    assert redacted_url("rediss://user:pw@h:1/0") == "rediss://user:***@h:1/0"


def test_a_stack_start_leaves_the_data_directory_private(tmp_path):
    """`python -m streams.stack run` (workers and API, no feed): the data directory 0700, its
    logs, AOF, password and every other file 0600, even those an older run left readable."""
    from streams.services import free_port

    data = tmp_path / "data"
    (data / "logs").mkdir(parents=True)
    old_log = data / "logs" / "api.log"
    old_log.write_text("an older run's log\n")
    os.chmod(data, 0o755)
    os.chmod(data / "logs", 0o755)
    os.chmod(old_log, 0o644)
    api_port = free_port()
    env = {**os.environ, "DATA_DIR": str(data), "API_PORT": str(api_port), "BROKER_PORT": str(free_port()),
           "REDIS_PORT": str(free_port()), "RECEIVER_PORT": str(free_port()), "KAFKA_BROKER": "", "REDIS_URL": "",
           "WORKERS": "1"}
    for k in ("COMPLAINTS_TOPIC", "DEAD_LETTER_TOPIC", "CONSUMER_GROUP"):
        env.pop(k, None)
    out = tmp_path / "stack.out"
    proc = subprocess.Popen([sys.executable, "-m", "streams.stack", "run", "--no-dashboard", "--no-feed",
                             "--history-days", "0", "--report-every", "0"], env=env, cwd=ROOT,
                            stdout=open(out, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: "is running" in out.read_text(errors="replace") or proc.poll() is not None, 120,
                   "the stack to start")
        assert proc.poll() is None, out.read_text(errors="replace")[-2000:]
        # let redis write its AOF and the workers their logs
        aof = data / "redis" / "appendonlydir"
        wait_until(lambda: aof.is_dir() and any(aof.iterdir()), 20, "the AOF")
        time.sleep(1)
        pw = (data / "redis.pass").read_text().strip()
        mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
        assert mode(data) == 0o700
        checked = {"dirs": 0, "files": 0}
        for p in [data, *data.rglob("*")]:
            if p.is_symlink():
                continue
            if p.is_dir():
                assert mode(p) == 0o700, f"{p} is {oct(mode(p))}"
                checked["dirs"] += 1
            elif p.is_file():
                assert mode(p) in (0o600, 0o700), f"{p} is {oct(mode(p))}"
                assert not mode(p) & 0o077
                assert p.name.startswith("tansu") or mode(p) == 0o600, f"{p} is {oct(mode(p))}"
                checked["files"] += 1
        for must in (data / "redis.pass", data / "logs" / "redis.log", data / "logs" / "api.log",
                     data / "logs" / "worker-1.log", *aof.iterdir()):
            assert must.is_file() and mode(must) == 0o600, must
        assert checked["files"] >= 6
        # the children reach the password-protected redis (the API is healthy), and the stack's
        # output and logs never show the password
        text = out.read_text(errors="replace") + "".join(
            p.read_text(errors="replace") for p in (data / "logs").glob("*.log"))
        assert pw not in text
        assert raw_command(int(env["REDIS_PORT"]), "PING").startswith(b"-NOAUTH")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# -- helpers ------------------------------------------------------------------------------------------

def _self_signed_ca(tmp_path: Path) -> str:
    """A throwaway self-signed CA certificate (PEM) made with openssl."""
    key, crt = tmp_path / "ca.key", tmp_path / "ca.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(crt),
                    "-days", "1", "-subj", "/CN=c12315-test-ca"], check=True, capture_output=True)
    return crt.read_text()


def test_behind_a_trusted_tls_proxy_the_dashboard_sees_https(stack, tmp_path):
    """With DASHBOARD_TRUSTED_PROXY the dashboard believes the proxy's X-Forwarded-Proto/-Host: a
    browser's https Origin is its own, not a cross-site one; from others the headers are ignored."""
    import httpx

    from streams.services import free_port
    from tests.conftest import Proc, wait_http

    port = free_port()
    env = {**stack["env"], "DASHBOARD_USERS": str(tmp_path / "users.json"), "DASHBOARD_SECRET_KEY": "proxy-test",
           "DASHBOARD_TRUSTED_PROXY": "127.0.0.1"}
    proc = Proc(["-m", "dashboard", "--port", str(port)], env, tmp_path / "dashboard.log").start()
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/healthz", proc, "the dashboard", 90)
        site = {"Origin": "https://c12315.example", "Host": "c12315.example"}
        proxied = {**site, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "c12315.example",
                   "X-Forwarded-For": "10.1.2.3"}
        with httpx.Client(base_url=url, timeout=30) as c:
            direct = c.post("/login", data={"username": "x", "password": "y"}, headers=site)
            assert direct.status_code == 403 and "cross-origin" in direct.text   # http:// host, https:// origin
            via_proxy = c.post("/login", data={"username": "x", "password": "y"}, headers=proxied)
            assert "cross-origin" not in via_proxy.text, via_proxy.text[:200]
            foreign = c.post("/login", data={"username": "x", "password": "y"},
                             headers={**proxied, "Origin": "https://evil.example"})
            assert foreign.status_code == 403 and "cross-origin" in foreign.text
    finally:
        proc.stop()


# -- the settings reach the real clients -----------------------------------------------------------

class TLSListener:
    """A TLS server on a free loopback port with a throwaway certificate for 127.0.0.1: it
    records each client that completes the handshake (trusting our CA) and the Kafka API key of
    the first request it sends, then hangs up. A stand-in for an SSL Kafka listener."""

    def __init__(self, tmp_path: Path):
        import threading

        from streams.services import free_port

        self.cert, key = tmp_path / "broker.crt", tmp_path / "broker.key"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                        "-out", str(self.cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(self.cert, key)
        self.port = free_port()
        self.sock = socket.create_server(("127.0.0.1", self.port))
        self.sock.settimeout(0.2)
        self.handshakes: list[int | None] = []
        self.stopping = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(3)
            try:
                with self.ctx.wrap_socket(conn, server_side=True) as tls:
                    head = tls.recv(8)
                    self.handshakes.append(int.from_bytes(head[4:6], "big") if len(head) >= 6 else None)
            except (OSError, ssl.SSLError):
                conn.close()

    def close(self) -> None:
        self.stopping = True
        self.thread.join(2)
        self.sock.close()


def test_ssl_settings_reach_intake_and_the_faust_worker(stack, tmp_path):
    """With KAFKA_SECURITY_PROTOCOL=SSL and our CA, intake's producer and a faust worker both
    complete a verified TLS handshake with the broker and speak Kafka over it."""
    import asyncio

    tls = TLSListener(tmp_path)
    try:
        env = {**stack["env"], "KAFKA_BROKER": f"127.0.0.1:{tls.port}", "KAFKA_SECURITY_PROTOCOL": "SSL",
               "KAFKA_SSL_CAFILE": str(tls.cert)}
        asyncio.run(_intake_once(load_settings(env)))
        assert tls.handshakes, "intake's producer made no TLS connection"
        assert tls.handshakes[0] == 18, "its first request over TLS is Kafka's ApiVersions"
        seen = len(tls.handshakes)
        worker = Proc(["-m", "streams", "worker", "-l", "warn"], env, tmp_path / "worker.log").start()
        try:
            wait_until(lambda: len(tls.handshakes) > seen or not worker.alive(), 60, "the worker's TLS connection")
            assert len(tls.handshakes) > seen, worker.output()[-2000:]
        finally:
            worker.stop()
        # and without our CA nobody completes a handshake: the context verifies the broker
        before = len(tls.handshakes)
        asyncio.run(_intake_once(load_settings({**env, "KAFKA_SSL_CAFILE": ""})))
        assert len(tls.handshakes) == before
    finally:
        tls.close()


async def _intake_once(S) -> None:
    """Start and stop intake's producer; the stand-in broker cannot answer Kafka, so only the
    connection it made counts."""
    import asyncio

    from streams.intake import Intake

    it = Intake(S, source="tls-test")
    try:
        await asyncio.wait_for(it.start(), 5)
    except Exception:  # noqa: BLE001
        pass
    finally:
        try:
            await asyncio.wait_for(it.stop(), 5)
        except Exception:  # noqa: BLE001
            pass
