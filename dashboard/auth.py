"""Sign-in for the duty console and the review screen; the wall needs none (it only shows).

- **Users** live in a JSON file (``dashboard.users_file`` in the settings, env
  ``DASHBOARD_USERS``, default ``DATA_DIR/dashboard/users.json``), managed with
  ``python -m dashboard.users``. Passwords are stored as salted scrypt hashes (werkzeug).
- **Roles**: 值班员 ``duty`` (console, acts on alerts), 局长 ``head`` (console and review, acts),
  观察员 ``viewer`` (console and review, read-only).
- **Sessions** are kept server-side in Redis with an idle timeout (``dashboard.session_idle_minutes``,
  default 30) and a hard limit (``dashboard.session_max_hours``, default 12); the browser holds
  only a random session id in a signed, HttpOnly, SameSite=Strict cookie. Signing out deletes the
  session. Five wrong passwords for a name lock it for five minutes.
- **CSRF**: every POST of a signed-in browser must carry the session's token: the sign-in and
  sign-out forms in a hidden field, Dash's callback requests in the ``X-CSRFToken`` header, which
  dash-renderer copies from the ``_csrf_token`` cookie (double submit). A request from another
  origin is refused outright.
"""
from __future__ import annotations

import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from markupsafe import escape
from werkzeug.security import check_password_hash, generate_password_hash

from config import Settings

ROLES = {"duty": "值班员", "head": "局长", "viewer": "观察员"}
# Which roles may open each protected screen, and which may change an alert.
SCREENS = {"/duty": ("duty", "head", "viewer"), "/review": ("head", "viewer")}
ACTORS = ("duty", "head")

# Redis keys of the dashboard (sessions and failed sign-ins).
SESSION_KEY = "cc:dash:session:"
FAILS_KEY = "cc:dash:fails:"
CSRF_COOKIE = "_csrf_token"
CSRF_HEADER = "X-CSRFToken"
MAX_FAILS, LOCK_SECONDS = 5, 300


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
        return self.role in ACTORS


def dashboard_settings(settings: Settings) -> dict:
    return settings.raw.get("dashboard") or {}


def users_path(settings: Settings, env: dict | None = None) -> Path:
    env = os.environ if env is None else env
    p = env.get("DASHBOARD_USERS") or dashboard_settings(settings).get("users_file")
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

    def failed(self, name: str) -> int:
        k = FAILS_KEY + name
        n = self.redis.incr(k)
        if n == 1:
            self.redis.expire(k, LOCK_SECONDS)
        return n

    def locked(self, name: str) -> bool:
        return int(self.redis.get(FAILS_KEY + name) or 0) >= MAX_FAILS

    def clear_fails(self, name: str) -> None:
        self.redis.delete(FAILS_KEY + name)


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
