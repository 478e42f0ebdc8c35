"""One settings loader for every part of the system.

YAML defaults (``config/settings.yaml``) merged with an optional site file
(``SETTINGS_FILE``) and a few environment variables, then checked. A bad value raises
:class:`SettingsError` whose message names the setting and says what is wrong.
"""
from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from config import sections

CONFIG_DIR = Path(__file__).resolve().parent
ROOT_DIR = CONFIG_DIR.parent
DEFAULTS_FILE = CONFIG_DIR / "settings.yaml"
DIVISIONS_FILE = CONFIG_DIR / "divisions_gbt2260_2024.csv"
IMPORT_COLUMNS_FILE = CONFIG_DIR / "import_columns.yaml"

# Environment variable -> dotted setting path.
ENV_OVERRIDES = {
    "KAFKA_BROKER": "kafka.broker",
    "REDIS_URL": "redis.url",
    "DATA_DIR": "data_dir",
    "API_HOST": "api.host",
    "API_PORT": "api.port",
    "BROKER_PORT": "kafka.embedded_port",
    "REDIS_PORT": "redis.embedded_port",
    "KAFKA_PARTITIONS": "kafka.partitions",
    "COMPLAINTS_TOPIC": "kafka.complaints_topic",
    "DEAD_LETTER_TOPIC": "kafka.dead_letter_topic",
    "CONSUMER_GROUP": "kafka.consumer_group",
    "NLP_ENABLED": "nlp.enabled",
    "KAFKA_SECURITY_PROTOCOL": "kafka.security_protocol",
    "KAFKA_SASL_MECHANISM": "kafka.sasl_mechanism",
    "KAFKA_SASL_USERNAME": "kafka.sasl_username",
    "KAFKA_SASL_PASSWORD": "kafka.sasl_password",
    "KAFKA_SSL_CAFILE": "kafka.ssl_cafile",
}

KAFKA_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
KAFKA_SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
# An external Kafka's security settings, with the defaults an older site file lacks.
KAFKA_SECURITY_DEFAULTS = {"security_protocol": "PLAINTEXT", "sasl_mechanism": "PLAIN", "sasl_username": "",
                           "sasl_password": "", "ssl_cafile": ""}

# The embedded redis-server's generated password, kept 0600 in the data directory.
REDIS_PASSWORD_FILE = "redis.pass"


def redis_password_path(data_dir: Path) -> Path:
    return Path(data_dir) / REDIS_PASSWORD_FILE


def embedded_redis_password(data_dir: Path, create: bool = False) -> str | None:
    """The embedded redis-server's password from ``data_dir/redis.pass``; with ``create`` a new
    random one is written first when there is none (directory 0700, file 0600)."""
    import secrets

    path = redis_password_path(data_dir)
    try:
        pw = path.read_text(encoding="ascii").strip()
        if pw:
            return pw
    except FileNotFoundError:
        pass
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pw = secrets.token_urlsafe(32)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(pw + "\n")
    os.chmod(tmp, 0o600)
    try:
        os.link(tmp, path)           # first writer wins: two starters never hold different passwords
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    return embedded_redis_password(data_dir)


def redis_url_with_password(host: str, port: int, password: str | None, db: int = 0) -> str:
    from urllib.parse import quote

    auth = f":{quote(password, safe='')}@" if password else ""
    return f"redis://{auth}{host}:{port}/{db}"


def redacted_url(url: str) -> str:
    """A URL fit for a log line or a message: any password replaced by ***."""
    return re.sub(r"^([a-z][a-z0-9+.\-]*://)([^/@]*:)?[^/@]*@", lambda m: f"{m[1]}{m[2] or ''}***@", str(url))


_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROLS_BUT_NL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def escape_controls(text, keep_newlines: bool = False) -> str:
    """``text`` with every C0/C1 control character written as a visible escape (\\x1b, \\n),
    so an outside value can neither colour a terminal nor forge a log line."""
    pattern = _CONTROLS_BUT_NL if keep_newlines else _CONTROLS
    return pattern.sub(lambda m: m[0].encode("unicode_escape").decode("ascii"), str(text))


class SafeFormatter(logging.Formatter):
    """A log formatter that escapes control characters: in the message all of them (a value with
    a newline cannot start a fake line), in tracebacks all but the newlines between frames."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escape_controls(super().formatMessage(record))

    def formatException(self, ei) -> str:
        return escape_controls(super().formatException(ei), keep_newlines=True)

    def formatStack(self, stack_info: str) -> str:
        return escape_controls(super().formatStack(stack_info), keep_newlines=True)


class SafeLogRecord(logging.LogRecord):
    """A log record whose message has its control characters escaped (newlines kept: faust's
    multi-line tables stay readable), whatever handler or formatter writes it."""

    def getMessage(self) -> str:
        return escape_controls(super().getMessage(), keep_newlines=True)


def install_safe_logging(logger: logging.Logger | None = None) -> None:
    """Make every log record of this process a :class:`SafeLogRecord`, and give every handler of
    ``logger`` (default: the root logger) a :class:`SafeFormatter` with the format it had."""
    if logging.getLogRecordFactory() is logging.LogRecord:
        logging.setLogRecordFactory(SafeLogRecord)
    for h in (logger or logging.getLogger()).handlers:
        f = h.formatter or logging.Formatter()
        if not isinstance(f, SafeFormatter):
            safe = SafeFormatter(datefmt=f.datefmt)
            safe._style, safe._fmt = f._style, f._fmt
            h.setFormatter(safe)


class SettingsError(ValueError):
    """A setting has a value the system cannot run with."""


@dataclass(frozen=True)
class Settings:
    raw: dict

    def get(self, dotted: str) -> Any:
        node: Any = self.raw
        for part in dotted.split("."):
            node = node[part]
        return node

    # The handful of values read everywhere get names of their own.
    @property
    def data_dir(self) -> Path:
        p = Path(self.raw["data_dir"])
        return p if p.is_absolute() else ROOT_DIR / p

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.raw["timezone"])

    @property
    def broker_embedded(self) -> bool:
        return not self.raw["kafka"]["broker"]

    @property
    def broker(self) -> str:
        k = self.raw["kafka"]
        return k["broker"] or f"127.0.0.1:{k['embedded_port']}"

    @property
    def redis_embedded(self) -> bool:
        return not self.raw["redis"]["url"]

    @property
    def redis_url(self) -> str:
        """REDIS_URL as given, or the embedded redis-server's, with its password from the data
        directory (redis://:PASSWORD@127.0.0.1:PORT/0) once the server made one."""
        r = self.raw["redis"]
        if r["url"]:
            return r["url"]
        return redis_url_with_password("127.0.0.1", r["embedded_port"], embedded_redis_password(self.data_dir))

    @property
    def redis_url_shown(self) -> str:
        """The Redis URL without its password, for messages and logs."""
        return redacted_url(self.redis_url)

    @property
    def kafka_security(self) -> dict:
        """The external Kafka's security settings (see streams/kafka_security.py)."""
        k = self.raw["kafka"]
        return {key: k.get(key, default) for key, default in KAFKA_SECURITY_DEFAULTS.items()}

    @property
    def api_url(self) -> str:
        a = self.raw["api"]
        return f"http://{a['host']}:{a['port']}"

    @property
    def complaints_topic(self) -> str:
        return self.raw["kafka"]["complaints_topic"]

    @property
    def dead_letter_topic(self) -> str:
        return self.raw["kafka"]["dead_letter_topic"]

    # Typed sections (config/sections.py): read these, not raw[...][...].
    @property
    def kafka(self) -> sections.KafkaSettings:
        return sections.KafkaSettings.of(self.raw["kafka"])

    @property
    def redis(self) -> sections.RedisSettings:
        return sections.RedisSettings.of(self.raw["redis"])

    @property
    def api(self) -> sections.ApiSettings:
        return sections.ApiSettings.of(self.raw["api"])

    @property
    def complaints(self) -> sections.ComplaintSettings:
        return sections.ComplaintSettings.of(self.raw["complaints"])

    @property
    def tally(self) -> sections.TallySettings:
        return sections.TallySettings.of(self.raw["tally"])

    @property
    def nlp(self) -> sections.NlpSettings:
        return sections.NlpSettings.of(self.raw["nlp"])

    @property
    def simulator(self) -> sections.SimulatorSettings:
        return sections.SimulatorSettings.of(self.raw.get("simulator"))

    @property
    def dashboard(self) -> sections.DashboardSettings:
        return sections.DashboardSettings.of(self.raw.get("dashboard"), self.simulator)


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _set_dotted(d: dict, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for p in parts[:-1]:
        d = d.setdefault(p, {})
    d[parts[-1]] = value


def read_yaml(path: str | Path, what: str = "settings file", error: type[Exception] = None) -> dict:
    """A YAML mapping from ``path``; any problem raises ``error`` (SettingsError) in one line
    that names ``what`` and the file. The one YAML reader of every config file."""
    error = error or SettingsError
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise error(f"{what} {path} does not exist") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise error(f"{what} {path} cannot be read: {' '.join(str(e).split())}") from None
    if not isinstance(data, dict):
        raise error(f"{what} {path} must hold a mapping at the top level")
    return data


_HOSTPORT = re.compile(r"^(kafka://)?[A-Za-z0-9_.\-\[\]:]+:\d{1,5}$")


def _check(raw: dict) -> None:
    def need(cond: bool, setting: str, msg: str) -> None:
        if not cond:
            raise SettingsError(f"setting {setting}: {msg}")

    def port(setting: str) -> None:
        v = Settings(raw).get(setting)
        need(isinstance(v, int) and 1 <= v <= 65535, setting, f"{v!r} is not a TCP port (1-65535)")

    def positive(setting: str, allow_zero: bool = False) -> None:
        v = Settings(raw).get(setting)
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and (v >= 0 if allow_zero else v > 0)
        need(ok, setting, f"{v!r} must be a {'non-negative' if allow_zero else 'positive'} number")

    for key in ("kafka.embedded_port", "redis.embedded_port", "api.port"):
        port(key)
    broker = raw["kafka"]["broker"]
    if broker:
        for part in str(broker).split(","):
            need(bool(_HOSTPORT.match(part.strip())), "kafka.broker (KAFKA_BROKER)",
                 f"{part!r} is not host:port (e.g. kafka1:9092,kafka2:9092)")
    url = raw["redis"]["url"]
    need(not url or re.match(r"^(redis|rediss|unix|redis\+cluster|rediss\+cluster)://", str(url)) is not None, "redis.url (REDIS_URL)",
         f"{url!r} must start with redis://, rediss:// or unix:// (e.g. redis://127.0.0.1:6379/0)")
    need(raw["redis"]["appendfsync"] in ("always", "everysec", "no"), "redis.appendfsync",
         f"{raw['redis']['appendfsync']!r} must be always, everysec or no")
    try:
        ZoneInfo(raw["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"setting timezone: {raw['timezone']!r} is not a known time zone") from None
    for key in ("kafka.partitions", "kafka.replication_factor", "kafka.agent_concurrency", "kafka.fetch_max_wait_ms", "kafka.batch_size", "api.max_body_bytes", "api.max_batch",
                "complaints.max_text_chars", "complaints.max_merchant_chars", "complaints.max_amount_yuan",
                "tally.dedup_days", "simulator.rate_per_second"):
        positive(key)
    need(isinstance(raw["nlp"]["enabled"], bool), "nlp.enabled (NLP_ENABLED)", "must be true or false")
    for key in ("complaints.future_tolerance_seconds", "tally.grace_seconds", "tally.keep_minute_hours", "tally.keep_docs_days",
                "tally.keep_hour_days", "tally.keep_day_days", "simulator.history_days"):
        positive(key, allow_zero=True)
    c = raw["complaints"]
    for key in ("industries", "channels", "kinds"):
        v = c[key]
        need(isinstance(v, list) and v and all(isinstance(x, str) and x for x in v),
             f"complaints.{key}", "must be a non-empty list of names")
        need(len(set(v)) == len(v), f"complaints.{key}", "lists a name twice")
        need(all("|" not in x for x in v), f"complaints.{key}", "names may not contain '|'")
    need(c["unclassified"] not in c["industries"], "complaints.unclassified", "must not be one of the industries")
    sec = Settings(raw).kafka_security
    need(sec["security_protocol"] in KAFKA_PROTOCOLS, "kafka.security_protocol (KAFKA_SECURITY_PROTOCOL)",
         f"{sec['security_protocol']!r} must be one of {', '.join(KAFKA_PROTOCOLS)}")
    need(bool(broker) or sec["security_protocol"] == "PLAINTEXT", "kafka.security_protocol (KAFKA_SECURITY_PROTOCOL)",
         "applies to an external Kafka only (set KAFKA_BROKER); the embedded broker listens on loopback")
    if sec["security_protocol"].startswith("SASL_"):
        need(sec["sasl_mechanism"] in KAFKA_SASL_MECHANISMS, "kafka.sasl_mechanism (KAFKA_SASL_MECHANISM)",
             f"{sec['sasl_mechanism']!r} must be one of {', '.join(KAFKA_SASL_MECHANISMS)}")
        need(bool(sec["sasl_username"]) and bool(sec["sasl_password"]),
             "kafka.sasl_username (KAFKA_SASL_USERNAME)",
             f"{sec['security_protocol']} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
    if sec["ssl_cafile"]:
        need(Path(str(sec["ssl_cafile"])).is_file(), "kafka.ssl_cafile (KAFKA_SSL_CAFILE)",
             f"{sec['ssl_cafile']!r} is not a readable file")
    for name in ("complaints_topic", "dead_letter_topic", "consumer_group"):
        v = raw["kafka"][name]
        need(isinstance(v, str) and re.match(r"^[A-Za-z0-9._\-]{1,200}$", v) is not None,
             f"kafka.{name}", f"{v!r} is not a valid topic/group name")


def _coerce_env(value: str, current: Any) -> Any:
    if isinstance(current, bool):
        return value.lower() in ("1", "true", "yes", "on")
    if isinstance(current, int):
        try:
            return int(value)
        except ValueError:
            return value  # let _check report it with the setting's name
    return value


def load_settings(env: dict | None = None) -> Settings:
    """Read defaults, the optional SETTINGS_FILE and environment overrides, then check them."""
    env = os.environ if env is None else env
    raw = read_yaml(DEFAULTS_FILE)
    if env.get("SETTINGS_FILE"):
        raw = _deep_merge(raw, read_yaml(Path(env["SETTINGS_FILE"])))
    for var, dotted in ENV_OVERRIDES.items():
        if env.get(var) not in (None, ""):
            try:
                current = Settings(raw).get(dotted)
            except KeyError:
                current = ""
            _set_dotted(raw, dotted, _coerce_env(env[var], current))
    try:
        _check(raw)
    except KeyError as e:
        raise SettingsError(f"setting {e.args[0]} is missing") from None
    return Settings(raw)


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings (read once)."""
    return load_settings()
