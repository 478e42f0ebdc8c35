"""Who is signed in on this request: the Flask session adapter every screen reads.

Kept apart from ``dashboard/app.py`` so the screens (``duty``, ``review``, …) need not import
the app that registers them.  ``ctx`` is the app's :class:`dashboard.app.Context` (its
``sessions`` store is all that is read).
"""
from __future__ import annotations

import flask

from dashboard import auth

__all__ = ["session_user", "session_csrf"]


def session_user(ctx) -> auth.User | None:
    """The signed-in user of this request, or None (no, expired or deleted session)."""
    cached = getattr(flask.g, "c12315_user", False)
    if cached is not False:
        return cached
    data = ctx.sessions.get(flask.session.get("sid"))
    user = auth.User(data["user"], data["role"], data.get("display") or data["user"]) if data else None
    flask.g.c12315_user = user
    flask.g.c12315_session = data
    return user


def session_csrf() -> str | None:
    """The CSRF token of this request's session (after :func:`session_user` read it), or None."""
    data = getattr(flask.g, "c12315_session", None)
    return data["csrf"] if data else None
