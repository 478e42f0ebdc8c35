"""Typed sections of the settings: ``settings.kafka.batch_size``, ``settings.tally.grace_seconds``…

Each section of ``config/settings.yaml`` (merged with the site file and the environment, and
checked, by :func:`config.load_settings`) is read into a frozen dataclass, so a misspelt name is
an AttributeError at the line that reads it instead of a KeyError deep in a worker, and each
value has one type. Keys a section does not know (an older or newer site file) are ignored;
the few a site file may leave out have the defaults below.

>>> from config import load_settings
>>> s = load_settings({})
>>> s.tally.grace_seconds, s.kafka.batch_size, s.complaints.unclassified
(300, 500, '未分类')
>>> s.complaints.industries[:3]
('食品', '药品', '医疗器械')
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["KafkaSettings", "RedisSettings", "ApiSettings", "ComplaintSettings", "TallySettings", "NlpSettings",
           "SimulatorSettings", "DashboardSettings", "DEFAULT_PROVINCE"]

DEFAULT_PROVINCE = "140000"


def _of(cls, section: dict | None, **computed):
    """``cls`` from a settings mapping: known keys only; lists become tuples (the sections are
    frozen)."""
    section = section or {}
    kw: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in computed:
            kw[f.name] = computed[f.name]
        elif f.name in section:
            v = section[f.name]
            kw[f.name] = tuple(v) if isinstance(v, list) else v
    return cls(**kw)


class _Section:
    """A settings section built from its YAML mapping (``Section.of(raw["section"])``)."""

    @classmethod
    def of(cls, section: dict):
        return _of(cls, section)


@dataclass(frozen=True)
class KafkaSettings(_Section):
    broker: str
    embedded_port: int
    complaints_topic: str
    dead_letter_topic: str
    partitions: int
    replication_factor: int
    batch_size: int
    consumer_group: str
    agent_concurrency: int
    fetch_max_wait_ms: int
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "PLAIN"
    sasl_username: str = ""
    sasl_password: str = field(default="", repr=False)
    ssl_cafile: str = ""


@dataclass(frozen=True)
class RedisSettings(_Section):
    url: str
    embedded_port: int
    appendfsync: str


@dataclass(frozen=True)
class ApiSettings(_Section):
    host: str
    port: int
    max_body_bytes: int
    max_batch: int


@dataclass(frozen=True)
class ComplaintSettings(_Section):
    max_text_chars: int
    max_merchant_chars: int
    max_amount_yuan: float
    future_tolerance_seconds: float
    industries: tuple[str, ...]
    unclassified: str
    channels: tuple[str, ...]
    kinds: tuple[str, ...]

    @property
    def industries_and_unclassified(self) -> tuple[str, ...]:
        """Every industry a tally can hold: the configured ones, then ``unclassified``."""
        return (*self.industries, self.unclassified)


@dataclass(frozen=True)
class TallySettings(_Section):
    grace_seconds: float
    keep_minute_hours: float
    keep_hour_days: float
    keep_day_days: float
    keep_docs_days: float
    dedup_days: float


@dataclass(frozen=True)
class NlpSettings(_Section):
    enabled: bool
    min_count: int = 3
    rising_score: float = 2.5
    classify_min_probability: float = 0.4
    learn_online: bool = True
    learn_max_per_second: float = 50


@dataclass(frozen=True)
class SimulatorSettings:
    rate_per_second: float = 0.5
    history_days: float = 8
    seed: int = 12315
    province: str = DEFAULT_PROVINCE

    @classmethod
    def of(cls, section: dict | None) -> "SimulatorSettings":
        sim = _of(cls, section)
        return sim if isinstance(sim.province, str) else _of(cls, section, province=str(sim.province))


@dataclass(frozen=True)
class DashboardSettings:
    """The screens' section: only in a site file (``dashboard: {secure_cookies: true}``)."""

    province: str = DEFAULT_PROVINCE          # the wall's province: this, else simulator.province
    refresh_seconds: float = 2
    rotate_seconds: float = 20
    session_idle_minutes: float = 30
    session_max_hours: float = 12
    secure_cookies: bool = False
    users_file: str = ""
    boundaries: dict = field(default_factory=dict)      # {level: path of a GeoJSON/TopoJSON file}
    font_regular: str = ""
    font_bold: str = ""

    @classmethod
    def of(cls, section: dict | None, simulator: SimulatorSettings) -> "DashboardSettings":
        section = section or {}
        province = str(section.get("province") or simulator.province or DEFAULT_PROVINCE)
        return _of(cls, section, province=province, boundaries=dict(section.get("boundaries") or {}))
