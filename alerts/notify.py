"""Surge-alert notifications: DingTalk robots, WeCom group robots and generic JSON webhooks.

Three layers:

* **Formatting** (pure): :func:`format_dingtalk`, :func:`format_wecom` and
  :func:`format_webhook` turn an alert dict and an event into the JSON each service expects,
  in short zh-CN a duty officer reads at a glance.  Defence in depth for privacy: every free
  text (sample complaints, phrases, merchants, names) goes through :func:`nlp.pii.mask_text`
  again, ``contact`` keys are dropped, and markdown-significant characters in free text are
  replaced by their full-width forms so that a complaint cannot inject links or markup.
* **Configuration and routing** (pure): :func:`load_notify_config` reads
  ``config/notify.yaml`` plus environment overrides; :func:`routes_for` picks the channels
  for an alert's level, industry and district and the event.
* **Delivery**: :class:`Notifier` queues a message per routed channel and returns at once;
  one asyncio task per channel sends them in order, retrying with exponential backoff, and
  reports each final outcome to ``on_result``.  :func:`send_sync` does the same for scripts.

Logs name the alert id, the channel and the outcome, never sample texts or webhook URLs
(they carry access tokens).

Command line (sends one alert to the configured channels, or prints the payloads)::

    python -m alerts.notify [--config FILE] [--event new] (--demo | --alert FILE.json) [--dry-run]

>>> sign_dingtalk("SECabc", 1700000000000)
'jcUpW0QmtKduN03n4JqQ0PBosVjqnM8gU7fIIvsDmCM%3D'
>>> dingtalk_url("https://oapi.dingtalk.com/robot/send?access_token=T", "", 1)
'https://oapi.dingtalk.com/robot/send?access_token=T'
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import inspect
import json
import logging
import math
import os
import sys
import threading
import time
import unicodedata
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Collection, Mapping

import httpx
import yaml

from config import CONFIG_DIR
from nlp.pii import mask_text
from streams.numbers import usual_text

__all__ = ["NOTIFY_FILE", "EVENTS", "LEVELS", "KINDS", "WECOM_MAX_BYTES", "NotifyConfigError",
           "Channel", "Route", "Delivery", "NotifyConfig", "Result", "format_dingtalk",
           "format_wecom", "format_webhook", "format_for", "sign_dingtalk", "dingtalk_url",
           "parse_notify_config", "load_notify_config", "routes_for", "Notifier", "send_sync",
           "DEMO_ALERT", "main"]

log = logging.getLogger("alerts.notify")


class _RedactQuery(logging.Filter):
    """Drops query strings (robot access tokens, WeCom keys, signatures) from httpx's request logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(_redact(a) if isinstance(a, httpx.URL) else a for a in record.args)
        return True


def _redact(url: httpx.URL) -> str:
    return str(url.copy_with(query=None)) + ("?…" if url.query else "")


if not any(isinstance(f, _RedactQuery) for f in logging.getLogger("httpx").filters):
    logging.getLogger("httpx").addFilter(_RedactQuery())

NOTIFY_FILE = CONFIG_DIR / "notify.yaml"
EVENTS = ("new", "grouped", "escalated", "reminder", "urging", "overdue", "closed")
LEVELS = ("province", "city", "county")
KINDS = ("webhook", "dingtalk", "wecom")
WECOM_MAX_BYTES = 4096            # WeCom's limit on markdown.content, in UTF-8 bytes

# Caps that keep a message readable at a glance (and bounded in size).
SAMPLE_CHARS = 120
PHRASES_MAX, PHRASE_CHARS = 8, 20
MERCHANTS_MAX, MERCHANT_CHARS = 5, 40
NAME_CHARS = 40
DISTRICTS_MAX = 12

# Environment variable -> (channel name, kind) it sets the URL of.
ENV_CHANNELS = {"ALERT_WEBHOOK_URL": ("webhook", "webhook"),
                "DINGTALK_WEBHOOK": ("dingtalk", "dingtalk"),
                "WECOM_WEBHOOK": ("wecom", "wecom")}

# ---------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------

# Characters that DingTalk or WeCom markdown (or the HTML WeCom accepts: <font>) give a meaning,
# mapped to full-width look-alikes, which read naturally in Chinese text.
_MD_ESCAPE = str.maketrans({
    "\\": "＼", "`": "｀", "*": "＊", "_": "＿", "[": "［", "]": "］", "(": "（", ")": "）",
    "<": "＜", ">": "＞", "#": "＃", "|": "｜", "~": "～", "!": "！", "{": "｛", "}": "｝",
    "&": "＆",
})

# What each event says: the tag in 【】 and the WeCom colour of the title.
_TAGS = {"new": "预警", "grouped": "合并", "escalated": "升级", "reminder": "提醒",
         "urging": "催办", "overdue": "超时", "closed": "结案"}
_WECOM_COLOUR = {"new": "warning", "grouped": "warning", "escalated": "warning",
                 "reminder": "comment", "urging": "warning", "overdue": "warning", "closed": "info"}
_FALSE_ALARM = {"false_alarm", "false-alarm", "dismissed", "误报"}

# Keys of an alert (and of its samples / SLA items) that hold codes, ids and times, not free
# text: they are passed through to webhooks unmasked.
_STRUCTURAL_KEYS = {"id", "level", "severity", "district", "city", "province", "state", "opened_at", "since",
                    "closed_at", "updated_at", "at", "due", "mark", "event", "group_id"}


def _plain(value: Any, limit: int | None = None) -> str:
    """Free text as one masked line: control and format characters gone, PII masked, shortened."""
    if value is None:
        return ""
    s = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in str(value))
    s = mask_text(" ".join(s.split()))
    if limit is not None and len(s) > limit:
        s = s[:limit - 1] + "…"
    return s


def _md(value: Any, limit: int | None = None) -> str:
    """Free text for a markdown message: :func:`_plain`, then markup and autolinks neutralised."""
    return _plain(value, limit).translate(_MD_ESCAPE).replace("://", "：//")


def _num(x: Any) -> str:
    """37 -> '37', 4.25 -> '4.2', 123.4 -> '123'."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return _plain(x, 12)
    if isinstance(x, int):
        return str(x)
    if not math.isfinite(x):
        return "∞" if x > 0 else "-"
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.1f}"


def _when(value: Any) -> str:
    """An ISO time as 'YYYY-MM-DD HH:MM' (in the offset it carries)."""
    if not value:
        return ""
    try:
        return datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return _plain(value, 32)


def _place(alert: Mapping) -> str:
    """The name of the alert's area, by its level."""
    level = alert.get("level")
    order = {"province": ("province_name", "district_name", "city_name"),
             "city": ("city_name", "district_name"),
             }.get(level, ("district_name", "city_name", "province_name"))
    for key in order + ("district", "city"):
        if alert.get(key):
            return str(alert[key])
    return "未知地区"


def _sla_item(alert: Mapping, event: str) -> Mapping | None:
    """The SLA step an SLA event is about: the one marked with the event, else the first."""
    items = [s for s in alert.get("sla") or () if isinstance(s, Mapping)]
    for item in items:
        if item.get("mark") == event:
            return item
    return items[0] if items else None


def _merchants(alert: Mapping) -> list[tuple[str, Any]]:
    out = []
    for m in alert.get("merchants") or ():
        if isinstance(m, Mapping):
            out.append((m.get("name"), m.get("count")))
        elif isinstance(m, (list, tuple)) and m:
            out.append((m[0], m[1] if len(m) > 1 else None))
        else:
            out.append((m, None))
    return out[:MERCHANTS_MAX]


def _sample_texts(alert: Mapping, max_samples: int) -> list[Any]:
    texts = []
    for s in alert.get("samples") or ():
        text = s.get("text") if isinstance(s, Mapping) else s
        if text:
            texts.append(text)
    return texts[:max(0, max_samples)]


@dataclass
class _Message:
    """A message before it is laid out for one service."""

    title: str
    lines: list[str]
    samples: list[str]
    link: str | None


def _severity_tag(alert: Mapping) -> str:
    """红色预警 / 橙色预警 / 黄色预警 / 蓝色预警 from the alert's ``severity`` (set by the store on
    read, alerts/severity.py); empty when the alert carries none."""
    from alerts.severity import TAGS

    return TAGS.get(str(alert.get("severity") or ""), "")


def _link(alert: Mapping, dashboard_url: str | None) -> str | None:
    if not dashboard_url:
        return None
    return f"{dashboard_url.rstrip('/')}/duty?alert={urllib.parse.quote(str(alert.get('id', '')), safe='')}"


def _compose(alert: Mapping, event: str, dashboard_url: str | None, max_samples: int,
             markdown: bool) -> _Message:
    """Title, key lines and samples of a message, every free text cleaned (and escaped if markdown)."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}: must be one of {', '.join(EVENTS)}")
    if not isinstance(alert, Mapping):
        raise ValueError(f"an alert must be a dict, got {type(alert).__name__}")
    text = _md if markdown else _plain
    bold = (lambda s: f"**{s}**") if markdown else (lambda s: s)
    place = text(_place(alert), NAME_CHARS)
    ind = alert.get("industry") or ""
    subject = f"「{alert['phrase']}」" if alert.get("phrase") else ("全部行业" if ind == "*" else ind)
    industry = text(subject, NAME_CHARS + 2)
    city = text(alert.get("city_name") or "", NAME_CHARS)
    sla = _sla_item(alert, event)
    sla_label = text((sla or {}).get("label") or (sla or {}).get("name") or "处置", 12)

    tag = _TAGS[event]
    if event == "new":
        what = "投诉激增"
    elif event == "grouped":
        what = f"投诉激增，并入{city}预警" if city and alert.get("level") == "county" else "投诉激增，并入同组预警"
    elif event == "escalated":
        what = "投诉继续攀升"
    elif event == "reminder":
        what = f"{sla_label}时限已过半"
    elif event == "urging":
        what = f"{sla_label}即将超时"
    elif event == "overdue":
        what = f"{sla_label}已超时"
    elif str(alert.get("state") or "") in _FALSE_ALARM or str(alert.get("resolution") or "") in _FALSE_ALARM:
        tag, what = "误报", "预警已关闭（误报）"
    else:
        what = "预警已结案"
    level = _severity_tag(alert)
    if level and event in ("new", "grouped", "escalated"):
        tag = level if event == "new" else f"{tag}·{level}"
    title = f"【{tag}】" + " ".join(p for p in (place, industry, what) if p)

    lines: list[str] = []
    observed, expected, ratio = alert.get("observed"), alert.get("expected"), alert.get("ratio")
    if observed is not None:
        line = f"观测 {bold(_num(observed))} 件"
        if expected is not None:
            line += f" / 预期 {usual_text(expected) or _num(expected)} 件"
            if isinstance(ratio, (int, float)) and not isinstance(ratio, bool) and math.isfinite(ratio):
                line += f"（{_num(ratio)} 倍）"
        lines.append(line)
    if _severity_tag(alert):
        lines.insert(0, f"预警等级：{bold(_severity_tag(alert))}")
    if event in ("reminder", "urging", "overdue") and sla:
        lines.insert(0, f"{sla_label}时限：{bold(_when(sla.get('due')) or '未知')}")
        if alert.get("opened_at"):
            lines.append(f"预警时间：{_when(alert['opened_at'])}")
    else:
        if alert.get("since"):
            lines.append(f"起始时间：{_when(alert['since'])}")
        if event == "closed" and alert.get("closed_at"):
            lines.append(f"结案时间：{_when(alert['closed_at'])}")
    if event in ("new", "grouped", "escalated", "closed"):
        if event == "grouped" and alert.get("districts"):
            names = [d.get("district_name") or d.get("district") if isinstance(d, Mapping) else d
                     for d in alert["districts"]][:DISTRICTS_MAX]
            lines.append("涉及县区：" + "、".join(text(n, NAME_CHARS) for n in names if n))
        phrases = [text(p, PHRASE_CHARS) for p in (alert.get("phrases") or ())[:PHRASES_MAX] if p]
        if phrases:
            lines.append("热点短语：" + "、".join(phrases))
        merchants = [text(n, MERCHANT_CHARS) + (f"（{_num(c)} 件）" if c is not None else "")
                     for n, c in _merchants(alert) if n]
        if merchants:
            lines.append("涉及商家：" + "、".join(merchants))
        if event == "escalated" and alert.get("score") is not None:
            lines.append(f"异常评分：{_num(alert['score'])}")
    if alert.get("team") and event != "closed":
        lines.append(f"建议派往：{text(alert['team'], NAME_CHARS)}")
    if event in ("new", "grouped", "escalated") and sla and sla.get("due"):
        lines.append(f"{sla_label}时限：{_when(sla['due'])}")
    samples = []
    if event in ("new", "grouped", "escalated"):
        samples = [text(t, SAMPLE_CHARS) for t in _sample_texts(alert, max_samples)]
    return _Message(title, lines, samples, _link(alert, dashboard_url))


def format_dingtalk(alert: Mapping, event: str, dashboard_url: str | None = None, *,
                    max_samples: int = 3) -> dict:
    """DingTalk custom-robot markdown payload: ``{"msgtype": "markdown", "markdown": {title, text}}``."""
    m = _compose(alert, event, dashboard_url, max_samples, markdown=True)
    parts = [f"#### {m.title}", *m.lines]
    if m.samples:
        parts.append("**投诉样例**")
        parts += [f"> {i}. {s}" for i, s in enumerate(m.samples, 1)]
    if m.link:
        parts.append(f"[查看详情]({m.link})")
    return {"msgtype": "markdown", "markdown": {"title": m.title, "text": "\n\n".join(parts)}}


def _truncate_utf8(text: str, max_bytes: int) -> str:
    """At most ``max_bytes`` of UTF-8, cut on a character boundary (at a line end when one is near)."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    cut = data[:max(0, max_bytes)].decode("utf-8", "ignore")
    nl = cut.rfind("\n")
    return cut[:nl] if nl > len(cut) // 2 else cut


def format_wecom(alert: Mapping, event: str, dashboard_url: str | None = None, *,
                 max_samples: int = 3, max_bytes: int = WECOM_MAX_BYTES) -> dict:
    """WeCom group-robot markdown payload: ``{"msgtype": "markdown", "markdown": {"content": ...}}``.

    The content is kept within ``max_bytes`` of UTF-8 (WeCom's limit is 4096): the body is cut
    on a character boundary and marked with "…", the dashboard link is kept.
    """
    m = _compose(alert, event, dashboard_url, max_samples, markdown=True)
    parts = [f'<font color="{_WECOM_COLOUR[event]}">**{m.title}**</font>', *(f"> {line}" for line in m.lines)]
    if m.samples:
        parts.append("**投诉样例**")
        parts += [f"{i}. {s}" for i, s in enumerate(m.samples, 1)]
    body = "\n".join(parts)
    tail = f"\n[查看详情]({m.link})" if m.link else ""
    if len((body + tail).encode("utf-8")) > max_bytes:
        more = "\n…"
        if len((more + tail).encode("utf-8")) > max_bytes // 2:
            tail = ""          # a tiny limit: the text matters more than the link
        body = _truncate_utf8(body, max_bytes - len((more + tail).encode("utf-8"))) + more
    return {"msgtype": "markdown", "markdown": {"content": body + tail}}


def _scrub(value: Any, key: str | None = None, *, max_samples: int = 3) -> Any:
    """A JSON-able copy with ``contact`` keys dropped and every free-text string masked."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            k = str(k)
            if k == "contact":
                continue
            if k == "samples" and isinstance(v, (list, tuple)):
                v = list(v)[:max(0, max_samples)]
            out[k] = _scrub(v, k, max_samples=max_samples)
        return out
    if isinstance(value, (list, tuple)):
        return [_scrub(v, key, max_samples=max_samples) for v in value]
    if isinstance(value, str):
        return value if key in _STRUCTURAL_KEYS else mask_text(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return mask_text(str(value))


def format_webhook(alert: Mapping, event: str, dashboard_url: str | None = None, *,
                   max_samples: int = 3) -> dict:
    """Generic JSON: ``{"event", "title", "text", "link", "alert"}``.

    ``alert`` is the alert with ``contact`` keys dropped, free text masked and at most
    ``max_samples`` samples; ``title`` and ``text`` are the plain-text (not markdown) message.
    """
    m = _compose(alert, event, dashboard_url, max_samples, markdown=False)
    text = "\n".join([*m.lines, *(f"样例{i}：{s}" for i, s in enumerate(m.samples, 1))])
    return {"event": event, "title": m.title, "text": text, "link": m.link,
            "alert": _scrub(alert, max_samples=max_samples)}


_FORMATTERS = {"dingtalk": format_dingtalk, "wecom": format_wecom, "webhook": format_webhook}


def format_for(kind: str, alert: Mapping, event: str, dashboard_url: str | None = None, *,
               max_samples: int = 3) -> dict:
    """The payload for a channel kind (``webhook``, ``dingtalk`` or ``wecom``)."""
    if kind not in _FORMATTERS:
        raise ValueError(f"unknown channel kind {kind!r}: must be one of {', '.join(KINDS)}")
    return _FORMATTERS[kind](alert, event, dashboard_url, max_samples=max_samples)


# ---------------------------------------------------------------------------------------------
# DingTalk signing (加签)
# ---------------------------------------------------------------------------------------------

def sign_dingtalk(secret: str, timestamp_ms: int) -> str:
    """DingTalk's robot signature, URL-encoded, for the ``sign`` query parameter.

    HMAC-SHA256 keyed with the secret over ``"{timestamp}\\n{secret}"``, base64, then
    ``urllib.parse.quote_plus``.
    """
    string_to_sign = f"{timestamp_ms}\n{secret}"
    digest = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def dingtalk_url(webhook: str, secret: str | None, now_ms: int) -> str:
    """The webhook URL with ``timestamp`` and ``sign`` appended; unchanged when there is no secret."""
    if not secret:
        return webhook
    sep = "&" if urllib.parse.urlsplit(webhook).query else ("" if webhook.endswith("?") else "?")
    return f"{webhook}{sep}timestamp={now_ms}&sign={sign_dingtalk(secret, now_ms)}"


# ---------------------------------------------------------------------------------------------
# Configuration and routing
# ---------------------------------------------------------------------------------------------

class NotifyConfigError(ValueError):
    """The notification config has a value the system cannot use; the message names the key."""


@dataclass(frozen=True)
class Channel:
    """Where messages go.  ``url`` (which holds the robot's token) and ``secret`` stay out of repr."""

    name: str
    kind: str
    url: str = field(default="", repr=False)
    secret: str | None = field(default=None, repr=False)
    enabled: bool = True

    @property
    def active(self) -> bool:
        """Enabled and with a URL."""
        return self.enabled and bool(self.url)


def _code_prefix(code: str) -> str:
    """140000 -> '14', 140400 -> '1404', 140403 -> '140403': what a code covers."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


@dataclass(frozen=True)
class Route:
    """Sends the alerts it matches to ``channels``; a filter of None matches everything."""

    channels: tuple[str, ...]
    levels: frozenset[str] | None = None
    industries: frozenset[str] | None = None
    events: frozenset[str] | None = None
    districts: tuple[str, ...] | None = None

    def matches(self, alert: Mapping, event: str) -> bool:
        """Whether this route takes ``alert`` for ``event``."""
        if self.events is not None and event not in self.events:
            return False
        if self.levels is not None and alert.get("level") not in self.levels:
            return False
        if self.industries is not None and alert.get("industry") not in self.industries:
            return False
        if self.districts is not None:
            codes = [str(alert[k]) for k in ("district", "city", "province") if alert.get(k)]
            if not any(c.startswith(_code_prefix(d)) for d in self.districts for c in codes):
                return False
        return True


@dataclass(frozen=True)
class Delivery:
    """Retry policy and queue size."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    timeout: float = 5.0
    queue_size: int = 1000

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return min(self.max_delay, self.base_delay * 2 ** (attempt - 1))

    def worst_case(self) -> float:
        """Seconds one message can take, all attempts timing out."""
        return self.attempts * self.timeout + sum(self.backoff(a) for a in range(1, self.attempts))


@dataclass(frozen=True)
class NotifyConfig:
    """Channels by name, routes in order, the delivery policy, the dashboard link base."""

    channels: Mapping[str, Channel] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    delivery: Delivery = field(default_factory=Delivery)
    dashboard_url: str | None = None
    samples: int = 3


def _is_url(value: str) -> bool:
    parts = urllib.parse.urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _industry_names(env: Mapping) -> set[str] | None:
    """Industry names from config/settings.yaml (None when the settings cannot be read)."""
    try:
        from config import load_settings

        settings = load_settings(dict(env))
        return set(settings.get("complaints.industries")) | {settings.get("complaints.unclassified")}
    except Exception:  # noqa: BLE001 - the settings have their own checks; skip ours then
        return None


def parse_notify_config(raw: Mapping | None, env: Mapping | None = None, *,
                        industries: Collection[str] | None = None,
                        source: str = "notify config") -> NotifyConfig:
    """Check a parsed notify.yaml (a dict) and apply the environment overrides.

    ``industries``, when given, are the names routes may use.  Raises
    :class:`NotifyConfigError` (a ValueError) naming the bad key.
    """
    env = {} if env is None else env
    raw = {} if raw is None else raw

    def fail(key: str, what: str) -> None:
        raise NotifyConfigError(f"{source}: {key}: {what}")

    if not isinstance(raw, Mapping):
        fail("(top level)", "must be a mapping of dashboard_url, samples, delivery, channels, routes")
    for key in raw:
        if key not in ("dashboard_url", "samples", "delivery", "channels", "routes"):
            fail(str(key), "unknown key (known: dashboard_url, samples, delivery, channels, routes)")

    def number(node: Mapping, key: str, default: float, *, integer: bool = False, minimum: float = 0,
               strict: bool = False):
        value = node.get(key, default)
        ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok_type or (value <= minimum if strict else value < minimum):
            what = "an integer" if integer else "a number"
            fail(f"delivery.{key}" if node is not raw else key,
                 f"{value!r} must be {what} {'>' if strict else '>='} {minimum:g}")
        return value

    d = raw.get("delivery") or {}
    if not isinstance(d, Mapping):
        fail("delivery", "must be a mapping")
    for key in d:
        if key not in ("attempts", "base_delay", "max_delay", "timeout", "queue_size"):
            fail(f"delivery.{key}", "unknown key (known: attempts, base_delay, max_delay, timeout, queue_size)")
    delivery = Delivery(attempts=number(d, "attempts", 5, integer=True, minimum=1),
                        base_delay=float(number(d, "base_delay", 0.5)),
                        max_delay=float(number(d, "max_delay", 30.0)),
                        timeout=float(number(d, "timeout", 5.0, strict=True)),
                        queue_size=number(d, "queue_size", 1000, integer=True, minimum=1))
    samples = number(raw, "samples", 3, integer=True)
    if samples > 10:
        fail("samples", f"{samples} is too many for a message (at most 10)")

    dashboard = env.get("DASHBOARD_URL") or raw.get("dashboard_url") or None
    if dashboard is not None:
        where = "DASHBOARD_URL" if env.get("DASHBOARD_URL") else "dashboard_url"
        if not isinstance(dashboard, str) or not _is_url(dashboard):
            fail(where, f"{dashboard!r} is not an http(s) URL (e.g. http://10.1.2.3:8050)")
        dashboard = dashboard.rstrip("/")

    # Channels.
    rc = raw.get("channels") or {}
    if not isinstance(rc, Mapping):
        fail("channels", "must be a mapping of channel name -> {kind, url, secret, enabled}")
    channels: dict[str, Channel] = {}
    for name, node in rc.items():
        where = f"channels.{name}"
        if not isinstance(name, str) or not name:
            fail(where, "a channel name must be a non-empty string")
        if not isinstance(node, Mapping):
            fail(where, "must be a mapping with kind and url")
        for key in node:
            if key not in ("kind", "url", "secret", "enabled"):
                fail(f"{where}.{key}", "unknown key (known: kind, url, secret, enabled)")
        kind = node.get("kind")
        if kind not in KINDS:
            fail(f"{where}.kind", f"{kind!r} is not one of {', '.join(KINDS)}")
        url = node.get("url") or ""
        if not isinstance(url, str):
            fail(f"{where}.url", "must be a string")
        secret = node.get("secret") or None
        if secret is not None and (not isinstance(secret, str) or kind != "dingtalk"):
            fail(f"{where}.secret", "only a dingtalk channel takes a secret, and it is a string")
        enabled = node.get("enabled", True)
        if not isinstance(enabled, bool):
            fail(f"{where}.enabled", f"{enabled!r} must be true or false")
        channels[name] = Channel(name, kind, url.strip(), secret, enabled)

    # Environment overrides of channel URLs.
    from_env: list[str] = []
    for var, (name, kind) in ENV_CHANNELS.items():
        url = (env.get(var) or "").strip()
        if not url:
            continue
        old = channels.get(name)
        if old is not None and old.kind != kind:
            fail(var, f"sets channel {name!r}, which this file has as kind {old.kind!r}, not {kind!r}")
        channels[name] = Channel(name, kind, url, old.secret if old else None, True)
        from_env.append(name)
    if env.get("DINGTALK_SECRET"):
        if "dingtalk" not in channels or channels["dingtalk"].kind != "dingtalk":
            fail("DINGTALK_SECRET", "is set but there is no dingtalk channel named 'dingtalk' "
                                    "(set DINGTALK_WEBHOOK too)")
        ch = channels["dingtalk"]
        channels["dingtalk"] = Channel(ch.name, ch.kind, ch.url, env["DINGTALK_SECRET"], ch.enabled)

    for ch in channels.values():
        where = next((v for v, (n, _) in ENV_CHANNELS.items() if n == ch.name and ch.name in from_env),
                     f"channels.{ch.name}.url")
        if ch.url and not _is_url(ch.url):
            fail(where, "is not an http(s) URL")
        if ch.url and ch.kind == "wecom" and not urllib.parse.parse_qs(urllib.parse.urlsplit(ch.url).query).get("key"):
            fail(where, "a WeCom robot URL must carry key=... (…/cgi-bin/webhook/send?key=KEY)")

    # Routes.
    rr = raw.get("routes") or []
    if not isinstance(rr, list):
        fail("routes", "must be a list of {channels, levels, industries, events, districts}")

    def choice(where: str, value: Any, allowed: Collection[str] | None, what: str):
        if value is None or value == "*":
            return None
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            fail(where, f"must be \"*\" or a non-empty list of {what}")
        if allowed is not None:
            for v in value:
                if v not in allowed:
                    fail(where, f"{v!r} is not one of {', '.join(sorted(allowed) if what == 'industries' else allowed)}")
        return value

    routes: list[Route] = []
    for i, node in enumerate(rr):
        where = f"routes[{i}]"
        if not isinstance(node, Mapping):
            fail(where, "must be a mapping with channels")
        for key in node:
            if key not in ("channels", "levels", "industries", "events", "districts"):
                fail(f"{where}.{key}", "unknown key (known: channels, levels, industries, events, districts)")
        names = node.get("channels")
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not names:
            fail(f"{where}.channels", "must be a non-empty list of channel names")
        for n in names:
            if n not in channels:
                fail(f"{where}.channels", f"unknown channel {n!r} (defined: {', '.join(channels) or 'none'})")
        levels = choice(f"{where}.levels", node.get("levels"), LEVELS, "levels")
        inds = choice(f"{where}.industries", node.get("industries"),
                      set(industries) if industries is not None else None, "industries")
        events = choice(f"{where}.events", node.get("events"), EVENTS, "events")
        districts = node.get("districts")
        if districts is not None and districts != "*":
            if isinstance(districts, (str, int)):
                districts = [districts]
            if not isinstance(districts, list) or not districts:
                fail(f"{where}.districts", "must be \"*\" or a list of 6-digit codes")
            districts = [str(c) for c in districts]
            for c in districts:
                if len(c) != 6 or not c.isdigit():
                    fail(f"{where}.districts", f"{c!r} is not a 6-digit district code (quote it: \"140400\")")
        else:
            districts = None
        routes.append(Route(tuple(names),
                            frozenset(levels) if levels is not None else None,
                            frozenset(inds) if inds is not None else None,
                            frozenset(events) if events is not None else None,
                            tuple(districts) if districts is not None else None))
    # A channel enabled by the environment and named by no route gets everything.
    for name in from_env:
        if not any(name in r.channels for r in routes):
            routes.append(Route((name,)))
    return NotifyConfig(channels, tuple(routes), delivery, dashboard, samples)


def load_notify_config(path: str | Path | None = None, env: Mapping | None = None) -> NotifyConfig:
    """Read ``config/notify.yaml`` (or ``path``) and the environment overrides, and check them."""
    env = os.environ if env is None else env
    path = Path(path) if path is not None else NOTIFY_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotifyConfigError(f"{path}: no such file") from None
    except yaml.YAMLError as e:
        raise NotifyConfigError(f"{path}: not valid YAML: {e}") from None
    return parse_notify_config(raw, env, industries=_industry_names(env), source=str(path))


def routes_for(config: NotifyConfig, alert: Mapping, event: str) -> list[Channel]:
    """The active channels ``alert`` goes to for ``event``, each once, in route order."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}: must be one of {', '.join(EVENTS)}")
    out: dict[str, Channel] = {}
    for route in config.routes:
        if route.matches(alert, event):
            for name in route.channels:
                ch = config.channels.get(name)
                if ch is not None and ch.active and name not in out:
                    out[name] = ch
    return list(out.values())


# ---------------------------------------------------------------------------------------------
# Delivery
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    """The final outcome of one message to one channel."""

    alert_id: str
    event: str
    channel: str
    ok: bool
    attempts: int
    error: str | None = None


OnResult = Callable[[str, str, str, bool, int, "str | None"], Any]


@dataclass
class _Job:
    alert_id: str
    event: str
    channel: Channel
    payload: dict


def _retry_after(resp: httpx.Response) -> float | None:
    try:
        return max(0.0, float(resp.headers.get("retry-after", "")))
    except ValueError:
        return None


def _judge(kind: str, resp: httpx.Response) -> tuple[bool, bool, str | None, float | None]:
    """(ok, retry, error, retry_after) for a response from a channel of ``kind``."""
    status = resp.status_code
    if status == 429 or status >= 500:
        return False, True, f"HTTP {status}", _retry_after(resp)
    if not 200 <= status < 300:
        return False, False, f"HTTP {status}", None
    if kind == "webhook":
        return True, False, None, None
    try:
        body = resp.json()
    except ValueError:
        return False, True, f"HTTP {status}: reply is not JSON", None
    code = body.get("errcode") if isinstance(body, dict) else None
    if code in (0, "0"):
        return True, False, None, None
    msg = str(body.get("errmsg", "")) if isinstance(body, dict) else ""
    return False, True, f"errcode {code}: {msg[:200]}", None


class Notifier:
    """Queues alert messages per channel and delivers them in the background.

    ``send`` formats a message for each routed channel, queues it and returns at once; it
    never raises.  One task per channel sends that channel's messages in order, each with up
    to ``delivery.attempts`` tries: connection errors, timeouts, HTTP 5xx and 429, and
    DingTalk/WeCom replies with ``errcode != 0`` are retried after ``base_delay``, doubling up
    to ``max_delay``.  A channel's queue holds ``delivery.queue_size`` messages; when full
    the oldest is dropped, logged, counted (``counts["dropped"]``) and reported as failed.

    ``on_result(alert_id, event, channel_name, ok, attempts, error)`` (a function or a
    coroutine function) hears each final outcome; its exceptions are logged and swallowed.
    Use ``async with Notifier(...)`` (drains, then closes) or call :meth:`drain` and
    :meth:`close`.  A Notifier belongs to the event loop it is first used in.
    """

    def __init__(self, config: NotifyConfig, *, on_result: OnResult | None = None,
                 client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        # failed counts every outcome that is not a delivery: dropped and cancelled included.
        self.counts = {"queued": 0, "delivered": 0, "failed": 0, "dropped": 0}
        self._on_result = on_result
        self._client = client
        self._own_client = client is None
        self._queues: dict[str, asyncio.Queue] = {}
        self._workers: dict[str, asyncio.Task] = {}
        self._reports: set[asyncio.Task] = set()
        self._closed = False

    async def __aenter__(self) -> "Notifier":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.drain()
        await self.close()

    async def send(self, alert: Mapping, event: str) -> None:
        """Queue ``alert`` for ``event`` to every routed channel; returns at once, never raises."""
        try:
            self._enqueue(alert, event)
        except Exception:  # noqa: BLE001 - a notification problem must not break the caller
            log.exception("notify: alert %s %s not queued", _alert_id(alert), event)

    def _enqueue(self, alert: Mapping, event: str) -> None:
        alert_id = _alert_id(alert)
        if self._closed:
            log.warning("notify: notifier is closed; alert %s %s not sent", alert_id, event)
            return
        if not isinstance(alert, Mapping) or event not in EVENTS:
            log.error("notify: alert %s %s not sent: %s", alert_id, event,
                      f"unknown event (known: {', '.join(EVENTS)})" if event not in EVENTS
                      else f"an alert must be a dict, not {type(alert).__name__}")
            return
        channels = routes_for(self.config, alert, event)
        if not channels:
            log.debug("notify: no channel for alert %s %s", alert_id, event)
            return
        for ch in channels:
            try:
                payload = format_for(ch.kind, alert, event, self.config.dashboard_url,
                                     max_samples=self.config.samples)
            except Exception as e:  # noqa: BLE001
                log.error("notify: alert %s %s -> %s: cannot format (%s)", alert_id, event, ch.name,
                          type(e).__name__)
                self._report_soon(Result(alert_id, event, ch.name, False, 0, f"format error: {type(e).__name__}"))
                continue
            q = self._queues.get(ch.name)
            if q is None:
                q = self._queues[ch.name] = asyncio.Queue(self.config.delivery.queue_size)
            if q.full():
                old: _Job = q.get_nowait()
                q.task_done()
                self.counts["dropped"] += 1
                log.warning("notify: queue of channel %s full (%d): dropped alert %s %s "
                            "(%d dropped so far)", ch.name, q.maxsize, old.alert_id, old.event,
                            self.counts["dropped"])
                self._report_soon(Result(old.alert_id, old.event, ch.name, False, 0, "dropped: queue full"))
            q.put_nowait(_Job(alert_id, event, ch, payload))
            self.counts["queued"] += 1
            worker = self._workers.get(ch.name)
            if worker is None or worker.done():
                self._workers[ch.name] = asyncio.get_running_loop().create_task(
                    self._work(ch.name, q), name=f"notify-{ch.name}")

    def _report_soon(self, result: Result) -> None:
        task = asyncio.get_running_loop().create_task(self._report(result))
        self._reports.add(task)
        task.add_done_callback(self._reports.discard)

    async def _report(self, r: Result) -> None:
        self.counts["delivered" if r.ok else "failed"] += 1
        if self._on_result is None:
            return
        try:
            out = self._on_result(r.alert_id, r.event, r.channel, r.ok, r.attempts, r.error)
            if inspect.isawaitable(out):
                await out
        except Exception:  # noqa: BLE001 - the caller's callback must not stop deliveries
            log.exception("notify: on_result failed for alert %s %s -> %s", r.alert_id, r.event, r.channel)

    async def _work(self, name: str, q: asyncio.Queue) -> None:
        while True:
            job: _Job = await q.get()
            try:
                try:
                    result = await self._deliver(job)
                except asyncio.CancelledError:
                    await self._report(Result(job.alert_id, job.event, name, False, 0, "cancelled: notifier closed"))
                    raise
                except Exception as e:  # noqa: BLE001
                    log.exception("notify: alert %s %s -> %s: delivery crashed", job.alert_id, job.event, name)
                    result = Result(job.alert_id, job.event, name, False, 1, f"internal error: {type(e).__name__}")
                await self._report(result)
            finally:
                q.task_done()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.config.delivery.timeout)
        return self._client

    async def _deliver(self, job: _Job) -> Result:
        d, ch = self.config.delivery, job.channel
        error: str | None = None
        attempt = 0
        for attempt in range(1, d.attempts + 1):
            url = dingtalk_url(ch.url, ch.secret, int(time.time() * 1000)) if ch.kind == "dingtalk" else ch.url
            retry_after = None
            try:
                resp = await self._http().post(url, json=job.payload, timeout=d.timeout)
            except httpx.TimeoutException:
                error, retry = f"timeout after {d.timeout:g} s", True
            except httpx.TransportError as e:
                error, retry = f"connection error: {str(e)[:200] or type(e).__name__}", True
            else:
                ok, retry, error, retry_after = _judge(ch.kind, resp)
                if ok:
                    log.info("notify: alert %s %s -> %s: delivered (attempt %d)", job.alert_id, job.event,
                             ch.name, attempt)
                    return Result(job.alert_id, job.event, ch.name, True, attempt, None)
            if not retry or attempt == d.attempts:
                break
            delay = d.backoff(attempt)
            if retry_after is not None:
                delay = min(d.max_delay, max(delay, retry_after))
            log.debug("notify: alert %s %s -> %s: attempt %d failed (%s); retry in %.2f s",
                      job.alert_id, job.event, ch.name, attempt, error, delay)
            await asyncio.sleep(delay)
        log.warning("notify: alert %s %s -> %s: failed after %d attempt(s): %s", job.alert_id, job.event,
                    ch.name, attempt, error)
        return Result(job.alert_id, job.event, ch.name, False, attempt, error)

    async def drain(self, timeout: float | None = 10) -> bool:
        """Wait until every queued message has its outcome; False if ``timeout`` s passed first."""
        async def settled() -> None:
            while True:
                await asyncio.gather(*(q.join() for q in list(self._queues.values())))
                if not self._reports:
                    return
                await asyncio.gather(*list(self._reports), return_exceptions=True)
        try:
            await asyncio.wait_for(settled(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def close(self) -> None:
        """Stop: messages not yet delivered are reported as cancelled; the own HTTP client closes."""
        self._closed = True
        workers = list(self._workers.values())
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for name, q in self._queues.items():
            while not q.empty():
                job: _Job = q.get_nowait()
                q.task_done()
                await self._report(Result(job.alert_id, job.event, name, False, 0, "cancelled: notifier closed"))
        if self._reports:
            await asyncio.gather(*list(self._reports), return_exceptions=True)
        if self._own_client and self._client is not None:
            await self._client.aclose()
            self._client = None


def _alert_id(alert: Any) -> str:
    return str(alert.get("id", "?")) if isinstance(alert, Mapping) else "?"


def _run_blocking(coro) -> Any:
    """Run a coroutine to its end from sync code, in a thread if a loop is already running here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = e
    t = threading.Thread(target=target, name="notify-send-sync")
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


def send_sync(config: NotifyConfig, alert: Mapping, event: str, *, timeout: float | None = None) -> list[Result]:
    """Deliver ``alert`` for ``event`` to its channels and wait: one :class:`Result` per channel.

    ``timeout`` (default: enough for every retry) bounds the wait; messages still under way
    then are reported as cancelled.
    """
    results: list[Result] = []

    async def run() -> None:
        n = Notifier(config, on_result=lambda *a: results.append(Result(*a)))
        await n.send(alert, event)
        await n.drain(timeout if timeout is not None else config.delivery.worst_case() + 5)
        await n.close()

    _run_blocking(run())
    return results


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

def _demo_alert() -> dict:
    """The alert of the README: a clothes-fading surge in 长治市潞州区, times around now."""
    tz = timezone(timedelta(hours=8))
    now = datetime.now(tz).replace(second=0, microsecond=0)
    return {
        "id": "a-demo00000001", "level": "county", "district": "140403", "district_name": "长治市潞州区",
        "city": "140400", "city_name": "长治市", "industry": "产品质量", "state": "new",
        "opened_at": now.isoformat(), "since": (now - timedelta(hours=1)).isoformat(),
        "observed": 37, "expected": 4.2, "ratio": 8.8, "score": 21.3,
        "phrases": ["衣服掉色", "更换难"], "merchants": [["潞州金鼎购物广场", 30]],
        "samples": [{"id": "c1", "at": now.isoformat(),
                     "text": "在潞州金鼎购物广场买的衣服洗了一次就掉色，电话13812345678"},
                    {"id": "c2", "at": now.isoformat(), "text": "新买的裤子掉色严重，商场不给更换"}],
        "team": "产品质量快反分队",
        "sla": [{"name": "dispatch", "label": "派单", "due": (now + timedelta(minutes=15)).isoformat(),
                 "mark": None}],
    }


DEMO_ALERT = _demo_alert()


def main(argv: list[str] | None = None) -> int:
    """``python -m alerts.notify``: send one alert to the configured channels (or print the payloads)."""
    p = argparse.ArgumentParser(
        prog="python -m alerts.notify",
        description="Send one surge alert to the channels config/notify.yaml routes it to "
                    "(env: ALERT_WEBHOOK_URL, DINGTALK_WEBHOOK, DINGTALK_SECRET, WECOM_WEBHOOK, DASHBOARD_URL).")
    p.add_argument("--config", help="notify config file (default: config/notify.yaml)")
    p.add_argument("--event", default="new", choices=EVENTS, help="the event to announce (default: new)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--alert", metavar="FILE", help="the alert, a JSON file")
    src.add_argument("--demo", action="store_true", help="a built-in demo alert (长治市潞州区 产品质量)")
    p.add_argument("--dry-run", action="store_true", help="print the routed channels and payloads, send nothing")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        config = load_notify_config(args.config)
    except ValueError as e:
        print(f"notify: {e}", file=sys.stderr)
        return 2
    if args.demo:
        alert = _demo_alert()
    else:
        try:
            alert = json.loads(Path(args.alert).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            print(f"notify: cannot read the alert from {args.alert}: {e}", file=sys.stderr)
            return 2
        if not isinstance(alert, dict):
            print(f"notify: {args.alert} must hold one JSON object (an alert)", file=sys.stderr)
            return 2
    channels = routes_for(config, alert, args.event)
    if not channels:
        print("notify: no enabled channel takes this alert; set a url in config/notify.yaml "
              "or e.g. ALERT_WEBHOOK_URL=http://127.0.0.1:8099/webhook", file=sys.stderr)
        return 1
    if args.dry_run:
        for ch in channels:
            payload = format_for(ch.kind, alert, args.event, config.dashboard_url, max_samples=config.samples)
            print(json.dumps({"channel": ch.name, "kind": ch.kind, "payload": payload}, ensure_ascii=False, indent=2))
        return 0
    results = send_sync(config, alert, args.event)
    for r in results:
        outcome = "delivered" if r.ok else f"FAILED ({r.error})"
        print(f"{r.channel}: {outcome} after {r.attempts} attempt(s)")
    return 0 if results and all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
