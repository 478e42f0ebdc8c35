"""Who may do what: one model of scopes and roles for the HTTP API and the dashboard.

**Scopes** are what an API token carries and what a console role amounts to:

- ``submit``  file complaints and case events (``POST /api/v1/complaints``, ``/api/v1/case-events``);
- ``read``    read counts, topics, clouds, stats, alerts, teams and silences;
- ``act``     move an alert on (ack, dispatch, respond, onsite, close, false_alarm);
- ``admin``   create and end silences, manage tokens.

**Roles** of the dashboard's signed-in officers are named sets of the same scopes:
值班员 ``duty`` = read + act, 局长 ``head`` = read + act + admin, 观察员 ``viewer`` = read.
The console's "may act" is "has the ``act`` scope"; its screens name the roles that open them.

>>> sorted(ROLE_SCOPES["duty"])
['act', 'read']
>>> required_scope("POST", "/api/v1/alerts/a-1/ack"), required_scope("DELETE", "/api/v1/silences/s-1")
('act', 'admin')
>>> required_scope("GET", "/healthz") is None
True
"""
from __future__ import annotations

__all__ = ["SCOPES", "SCOPE_LABELS", "ROLES", "ROLE_SCOPES", "SCREENS", "PUBLIC_PATHS", "role_scopes",
           "role_may", "parse_scopes", "required_scope"]

SCOPES = ("submit", "read", "act", "admin")
SCOPE_LABELS = {"submit": "提交投诉", "read": "查看", "act": "处置预警", "admin": "管理（静默、令牌）"}

ROLES = {"duty": "值班员", "head": "局长", "viewer": "观察员"}
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "duty": frozenset({"read", "act"}),
    "head": frozenset({"read", "act", "admin"}),
    "viewer": frozenset({"read"}),
}
# The dashboard's protected screens and the roles that may open each (the wall needs none).
SCREENS = {"/duty": ("duty", "head", "viewer"), "/review": ("head", "viewer")}

# HTTP paths anyone may call (the health check: load balancers and `make run` poll it).
PUBLIC_PATHS = frozenset({"/healthz"})


def role_scopes(role: str | None) -> frozenset[str]:
    return ROLE_SCOPES.get(role or "", frozenset())


def role_may(role: str | None, scope: str) -> bool:
    """Whether a console role holds ``scope`` (e.g. ``role_may("duty", "act")``)."""
    return scope in role_scopes(role)


def parse_scopes(text: str | list | tuple) -> tuple[str, ...]:
    """'submit,read' -> ('submit', 'read') in canonical order; unknown or empty raises ValueError."""
    items = text.split(",") if isinstance(text, str) else list(text)
    got = {str(s).strip() for s in items if str(s).strip()}
    if "all" in got:
        got = (got - {"all"}) | set(SCOPES)
    bad = sorted(got - set(SCOPES))
    if bad:
        raise ValueError(f"unknown scope{'s' if len(bad) > 1 else ''} {', '.join(bad)}; "
                         f"known: {', '.join(SCOPES)} (or all)")
    if not got:
        raise ValueError(f"give at least one scope: {', '.join(SCOPES)} (or all)")
    return tuple(s for s in SCOPES if s in got)


def required_scope(method: str, path: str) -> str | None:
    """The scope an API request needs; None for a public path.  Anything not listed needs
    ``read`` for a GET/HEAD and ``admin`` otherwise (deny by default)."""
    method = method.upper()
    path = path.rstrip("/") or "/"
    if path in PUBLIC_PATHS:
        return None
    if path in ("/api/v1/complaints", "/api/v1/case-events"):
        return "submit" if method == "POST" else "read"
    if path.startswith("/api/v1/alerts/") and method == "POST":
        return "act"
    if path == "/api/v1/silences" or path.startswith("/api/v1/silences/"):
        return "read" if method in ("GET", "HEAD") else "admin"
    if method in ("GET", "HEAD"):
        return "read"
    return "admin"
