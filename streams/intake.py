"""The producing side: validated complaints onto the complaints topic, rejects onto the DLQ.

Used by the HTTP API, the importer and the simulator. Complaints travel many to a Kafka
message (an envelope ``{"v": 1, "src", "at", "items": [...]}``) because faust's cost is
per message, not per record (FAUST_ON_TANSU.md).

Intake signs what it publishes: each message carries the header ``c12315-sig``, an
HMAC-SHA256 of the message bytes under a key that only intake and the workers hold
(env ``INTAKE_HMAC_KEY``, else ``DATA_DIR/intake.key``, made once, mode 0600). A worker
takes a message's records as already validated and masked only if the signature is valid;
anything else on the topic is outside input, validated and masked again.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer

from config import Settings
from nlp.pii import install_log_masking
from streams import deadletter
from streams.kafka_security import aiokafka_kwargs

MAX_MESSAGE_BYTES = 900_000
install_log_masking()      # every process that takes complaints in (API, importer, simulator, worker)
SIG_HEADER = "c12315-sig"
KEY_ENV = "INTAKE_HMAC_KEY"
KEY_FILE = "intake.key"


class IntakeKeyError(RuntimeError):
    """The intake key cannot be read or made; the message says why and what to do."""


def intake_key(settings: Settings, env: dict | None = None) -> bytes:
    """The key intake signs with and workers verify with: ``INTAKE_HMAC_KEY`` (at least 32
    characters) if set, else the data directory's ``intake.key``, made on first use (0600,
    written aside and linked into place, so processes starting together agree on one key)."""
    env = os.environ if env is None else env
    given = env.get(KEY_ENV)
    if given:
        if len(given) < 32:
            raise IntakeKeyError(f"{KEY_ENV} must be at least 32 characters (e.g. python -c 'import secrets; "
                            "print(secrets.token_hex(32))')")
        return given.encode()
    d = Path(settings.data_dir)
    path = d / KEY_FILE
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    try:
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = d / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass                       # another process made it first: use theirs
        finally:
            tmp.unlink()
        return _read_key(path)
    except OSError as e:
        raise IntakeKeyError(f"cannot make the intake key {path} ({e.strerror}): make the data directory "
                        f"writable, or set {KEY_ENV}") from None


def _read_key(path: Path) -> bytes:
    text = path.read_text(encoding="ascii").strip()
    if len(text) < 32:
        raise IntakeKeyError(f"the intake key {path} is too short or damaged: delete it (a new one is made) "
                        "and restart the API and the workers together")
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return text.encode()


def sign(key: bytes, value: bytes) -> bytes:
    return hmac.new(key, value, hashlib.sha256).hexdigest().encode()


def signed(key: bytes | None, value: bytes, signature: bytes | None) -> bool:
    """True if ``signature`` is the intake's signature of ``value`` (constant-time compare)."""
    return bool(key and signature) and hmac.compare_digest(sign(key, value), signature)


def envelope(items: list[dict], source: str, accepted_at: float | None = None) -> bytes:
    """Items are Rules.validate output: normalised and masked ("norm": 1)."""
    return orjson.dumps({"v": 1, "norm": 1, "src": source, "at": (accepted_at or time.time()), "items": items})


def chunks(items: list[dict], size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


class Intake:
    def __init__(self, settings: Settings, source: str, linger_ms: int = 5):
        self.settings = settings
        self.source = source
        self.batch_size = settings.kafka.batch_size
        self.key = intake_key(settings)
        self.producer = AIOKafkaProducer(
            **aiokafka_kwargs(settings), linger_ms=linger_ms, acks="all",
            max_batch_size=1 << 20, max_request_size=4 << 20, enable_idempotence=False,
            request_timeout_ms=10000,
            client_id=f"c12315-intake-{source}")

    async def start(self) -> None:
        await self.producer.start()

    async def stop(self) -> None:
        await self.producer.stop()

    async def __aenter__(self):
        await self.start()
        return self

    async def __aexit__(self, *exc):
        await self.stop()

    async def _send_signed(self, value: bytes):
        return await self.producer.send(self.settings.complaints_topic, value,
                                        headers=[(SIG_HEADER, sign(self.key, value))])

    async def publish(self, records: list[dict], wait: bool = True) -> int:
        """Send normalised records, signed; with ``wait`` returns once the broker acknowledged all."""
        now = time.time()
        futures = []
        for part in chunks(records, self.batch_size):
            value = envelope(part, self.source, now)
            if len(value) > MAX_MESSAGE_BYTES and len(part) > 1:
                half = len(part) // 2
                futures += [await self._send_signed(envelope(p, self.source, now))
                            for p in (part[:half], part[half:])]
            else:
                futures.append(await self._send_signed(value))
        if wait:
            for f in futures:
                await f
        return len(records)

    async def dead_letter(self, raw, errors: list[dict], ref: str | None = None) -> dict:
        return (await self.dead_letter_many([(raw, errors, ref)]))[0]

    async def dead_letter_many(self, items: list[tuple[object, list[dict], str | None]]) -> list[dict]:
        """Send rejected inputs [(raw, errors, ref)] to the dead-letter topic; wait for the acks."""
        recs = [deadletter.record(raw, errors, self.source, ref) for raw, errors, ref in items]
        futures = [await self.producer.send(self.settings.dead_letter_topic, orjson.dumps(r), key=r["ref"].encode())
                   for r in recs]
        for f in futures:
            await f
        return recs
