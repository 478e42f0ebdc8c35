"""Sign-in for the duty console and the review screen; the wall needs none (it only shows).

- **Users** live in a JSON file (``dashboard.users_file`` in the settings, env
  ``DASHBOARD_USERS``, default ``DATA_DIR/dashboard/users.json``), managed with
  ``python -m dashboard.users``. Passwords are stored as salted scrypt hashes (werkzeug).
- **Roles**: 值班员 ``duty`` (console, acts on alerts), 局长 ``head`` (console and review, acts),
  观察员 ``viewer`` (console and review, read-only).  Roles are sets of the API's scopes, written
  once in ``streams.access``: "may act" is "holds the ``act`` scope".
- **Sessions** are kept server-side in Redis with an idle timeout (``dashboard.session_idle_minutes``,
  default 30) and a hard limit (``dashboard.session_max_hours``, default 12); the browser holds
  only a random session id in a signed, HttpOnly, SameSite=Strict cookie. Signing out deletes the
  session.
- **Sign-in throttling** is per (client address, name): after ``THROTTLE_FREE`` wrong passwords
  from one client for one name, that client waits ``throttle_delay(n)`` seconds (doubling, at most
  15 min) before its next try for that name.  Nobody else waits: the real officer signing in from
  another client gets in at once, so an attacker cannot lock them out.  Every failure is logged
  (name and client, never the password) and counted per day for the 局长 (``failure_counts``).
- **CSRF**: every POST of a signed-in browser must carry the session's token: the sign-in and
  sign-out forms in a hidden field, Dash's callback requests in the ``X-CSRFToken`` header, which
  dash-renderer copies from the ``_csrf_token`` cookie (double submit). A request from another
  origin is refused outright.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from markupsafe import escape
from werkzeug.security import check_password_hash, generate_password_hash

from config import Settings
from streams.access import ROLES, SCREENS, role_may

log = logging.getLogger(__name__)

# Redis keys of the dashboard (sessions and failed sign-ins).
SESSION_KEY = "cc:dash:session:"
FAILS_KEY = "cc:dash:fails:"          # + client|name: failures in a row from that client for that name
WAIT_KEY = "cc:dash:wait:"            # + client|name: that client waits until this key expires
FAIL_DAY_KEY = "cc:dash:signin_failures:"   # + YYYYMMDD: hash name -> failures that day (for the 局长)
UNKNOWN_NAME = "（未知用户名）"
CSRF_COOKIE = "_csrf_token"
CSRF_HEADER = "X-CSRFToken"
# Throttling: free tries per (client, name), first wait, longest wait, memory of a client's failures.
THROTTLE_FREE, THROTTLE_BASE_S, THROTTLE_MAX_S, FAILS_MEMORY_S = 3, 5, 900, 3600


def throttle_delay(failures: int) -> int:
    """Seconds a client waits after its ``failures``-th wrong password in a row for one name.

    >>> [throttle_delay(n) for n in (1, 2, 3, 4, 5, 12)]
    [0, 0, 5, 10, 20, 900]
    """
    if failures < THROTTLE_FREE:
        return 0
    return int(min(THROTTLE_MAX_S, THROTTLE_BASE_S * 2 ** (failures - THROTTLE_FREE)))


class UsersError(ValueError):
    """The users file cannot be used; the message says why."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    display: str

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    def may_open(self, screen: str) -> bool:
        return self.role in SCREENS.get(screen, ROLES)

    @property
    def may_act(self) -> bool:
        return role_may(self.role, "act")


def users_path(settings: Settings, env: dict | None = None) -> Path:
    env = os.environ if env is None else env
    p = env.get("DASHBOARD_USERS") or settings.dashboard.users_file
    return Path(p) if p else settings.data_dir / "dashboard" / "users.json"


class Users:
    """The users file: ``{"users": {name: {"role", "display", "password"}}}``."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def load(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            raise UsersError(f"users file {self.path} cannot be read: {e}") from None
        users = data.get("users") if isinstance(data, dict) else None
        if not isinstance(users, dict):
            raise UsersError(f"users file {self.path} must hold {{\"users\": {{name: {{...}}}}}}")
        return users

    def save(self, users: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"users": users}, ensure_ascii=False, indent=2), encoding="utf-8")
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def add(self, name: str, role: str, password: str, display: str | None = None) -> None:
        name = name.strip()
        if not name or len(name) > 64 or any(c.isspace() for c in name):
            raise UsersError("a user name is 1-64 characters without spaces")
        if role not in ROLES:
            raise UsersError(f"role {role!r} must be one of {', '.join(ROLES)}")
        if len(password) < 8:
            raise UsersError("a password has at least 8 characters")
        users = self.load()
        users[name] = {"role": role, "display": display or name,
                       "password": generate_password_hash(password, method="scrypt")}
        self.save(users)

    def remove(self, name: str) -> bool:
        users = self.load()
        if users.pop(name, None) is None:
            return False
        self.save(users)
        return True

    def check(self, name: str, password: str) -> User | None:
        u = self.load().get(name)
        if not u or not check_password_hash(u.get("password", ""), password):
            # spend the same time on an unknown name as on a wrong password
            if not u:
                check_password_hash(_DUMMY_HASH, password)
            return None
        return User(name, u.get("role", "viewer"), u.get("display") or name)


_DUMMY_HASH = generate_password_hash("not a password", method="scrypt")


def secret_key(settings: Settings, env: dict | None = None) -> str:
    """The key that signs cookies: env DASHBOARD_SECRET_KEY, else one made once and kept
    (mode 0600) in DATA_DIR/dashboard/secret_key."""
    env = os.environ if env is None else env
    if env.get("DASHBOARD_SECRET_KEY"):
        return env["DASHBOARD_SECRET_KEY"]
    path = settings.data_dir / "dashboard" / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key


class Sessions:
    """Server-side sessions in Redis: a session dies when idle too long, at its hard limit, or
    when its user signs out."""

    def __init__(self, client, idle_seconds: float, max_seconds: float):
        self.redis = client
        self.idle = int(idle_seconds)
        self.max = max_seconds

    def create(self, user: User) -> tuple[str, str]:
        sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        data = {"user": user.name, "role": user.role, "display": user.display, "csrf": csrf,
                "created": time.time()}
        self.redis.set(SESSION_KEY + sid, json.dumps(data, ensure_ascii=False), ex=self.idle)
        return sid, csrf

    def get(self, sid: str | None) -> dict | None:
        if not sid:
            return None
        raw = self.redis.get(SESSION_KEY + sid)
        if not raw:
            return None
        data = json.loads(raw)
        if time.time() - data["created"] > self.max:
            self.redis.delete(SESSION_KEY + sid)
            return None
        self.redis.expire(SESSION_KEY + sid, self.idle)   # activity keeps it alive
        return data

    def delete(self, sid: str | None) -> None:
        if sid:
            self.redis.delete(SESSION_KEY + sid)

    @staticmethod
    def _who(client: str, name: str) -> str:
        # the typed name is hashed: a password typed into the name field is not kept in Redis
        return f"{client}|{hashlib.sha256(name.encode('utf-8', 'replace')).hexdigest()[:24]}"

    def failed(self, client: str, name: str, known: bool = True) -> tuple[int, int]:
        """Count a wrong password from ``client`` for ``name`` (``known``: a user of the users
        file; other names are counted as one 未知用户名): (failures in a row, seconds it now waits)."""
        who = self._who(client, name)
        with self.redis.pipeline(transaction=True) as p:
            p.incr(FAILS_KEY + who)
            p.expire(FAILS_KEY + who, FAILS_MEMORY_S)
            self._count_day(p, name, known)
            n = p.execute()[0]
        wait = throttle_delay(n)
        if wait:
            self.redis.set(WAIT_KEY + who, "1", ex=wait)
        return n, wait

    @staticmethod
    def _count_day(p, name: str, known: bool) -> None:
        day = FAIL_DAY_KEY + time.strftime("%Y%m%d")
        p.hincrby(day, name[:64] if known else UNKNOWN_NAME, 1)
        p.expire(day, 8 * 86400)

    def refused(self, name: str, known: bool = True) -> None:
        """Count a try refused while its client waits (a failed sign-in too, for the 局长's count)."""
        with self.redis.pipeline(transaction=True) as p:
            self._count_day(p, name, known)
            p.execute()

    def waiting(self, client: str, name: str) -> int:
        """Seconds ``client`` must still wait before trying ``name`` again (0: it may try now)."""
        ttl = self.redis.ttl(WAIT_KEY + self._who(client, name))
        return max(0, int(ttl)) if ttl and ttl > 0 else 0

    def clear_fails(self, client: str, name: str) -> None:
        self.redis.delete(FAILS_KEY + self._who(client, name), WAIT_KEY + self._who(client, name))

    def failure_counts(self, day: str | None = None) -> dict[str, int]:
        """Wrong passwords per name on ``day`` (YYYYMMDD, default today), whoever sent them."""
        raw = self.redis.hgetall(FAIL_DAY_KEY + (day or time.strftime("%Y%m%d")))
        return {(k.decode() if isinstance(k, bytes) else k): int(v) for k, v in raw.items()}


def sign_in(users: "Users", sessions: Sessions, name: str, password: str, client: str) -> tuple[User | None, int, str]:
    """Check a sign-in from ``client`` (its address): (user, 200, "") or (None, status, message).

    A client that failed too often for this name waits (429) without its password being checked;
    any other client is not affected.  Failures are logged without the password."""
    client = client or "unknown"
    try:
        known = name in users.load()
    except UsersError:
        known = False
    shown = repr(name[:64]) if known else "an unknown user name"   # never a mistyped password
    wait = sessions.waiting(client, name)
    if wait:
        sessions.refused(name, known)
        log.warning("sign-in refused: %s from %s is waiting %d s after repeated wrong passwords", shown, client, wait)
        return None, 429, f"此终端登录失败次数过多，请{wait}秒后再试"
    user = users.check(name, password)
    if user is None:
        n, wait = sessions.failed(client, name, known)
        (log.warning if n >= THROTTLE_FREE else log.info)(
            "sign-in failed: %s from %s (%d wrong in a row from this client%s)", shown, client, n,
            f"; it waits {wait} s" if wait else "")
        return None, 401, "用户名或密码错误" + (f"；此终端请{wait}秒后再试" if wait else "")
    sessions.clear_fails(client, name)
    return user, 200, ""


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def safe_next(target: str | None, default: str = "/duty") -> str:
    """Only a path on this site may follow a sign-in (no //host or scheme)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def login_page(csrf: str, next_url: str, message: str = "", name: str = "") -> str:
    """The sign-in page: plain HTML with the app's own stylesheet, nothing from outside."""
    msg = f'<p class="login-error" role="alert">{escape(message)}</p>' if message else ""
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>登录 · 12315 预警系统</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/fonts/fonts.css"><link rel="stylesheet" href="/assets/style.css"></head>
<body class="login-body"><main class="login-box">
<h1>12315 消费投诉预警系统</h1><h2>值班台 · 研判分析 登录</h2>{msg}
<form method="post" action="/login" autocomplete="off">
<input type="hidden" name="csrf" value="{escape(csrf)}">
<input type="hidden" name="next" value="{escape(next_url)}">
<label>用户名<input id="login-user" name="username" value="{escape(name)}" required autofocus></label>
<label>密码<input id="login-password" name="password" type="password" required></label>
<button id="login-submit" type="submit">登录</button>
</form><p class="login-note">大屏 <a href="/wall">/wall</a> 无需登录</p></main></body></html>"""
