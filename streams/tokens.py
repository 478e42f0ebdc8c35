"""API tokens: named, scoped, revocable, stored only as hashes in Redis.

    python -m streams.tokens add feed --scopes submit,read     # prints the token once, on the last line
    python -m streams.tokens list
    python -m streams.tokens revoke feed

A token is ``cct_`` + 43 random URL-safe characters (256 bits), so an unsalted SHA-256 of
it is as good as a password hash: nothing can be guessed from it.  Redis holds

    cc:api:tokens            hash    name -> {"name", "scopes", "sha256", "created"} (JSON)
    cc:api:token:{sha256}    string  {"name", "scopes"} (JSON), what a request's token is looked up by

and never the token itself.  Callers send ``Authorization: Bearer <token>``; scopes are those
of ``streams.access``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import secrets
import sys
import time

from streams import keys
from streams.store import redis_client
from streams.access import SCOPES, parse_scopes

__all__ = ["TOKENS_KEY", "TOKEN_KEY", "PREFIX", "TokenError", "new_token", "token_hash", "check_name",
           "bearer", "Tokens", "lookup_async", "main"]

# one hash slot on a Redis Cluster (cc:{api}:…): adding and revoking change both in one MULTI
TOKENS_KEY = keys.API + "api:tokens"
TOKEN_KEY = keys.API + "api:token:"
PREFIX = "cct_"
_NAME = re.compile(r"^[\w.@-]{1,64}$")


class TokenError(ValueError):
    """A token name, scope or command the store cannot accept; the message says why."""


# -- pure part -------------------------------------------------------------------------------
def new_token() -> str:
    """A fresh random token (256 bits)."""
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    """A token's name is what the audit trail records: 1-64 letters, digits, ``_ . @ -`` (汉字 too)."""
    name = (name or "").strip()
    if not _NAME.match(name):
        raise TokenError(f"token name {name!r} must be 1-64 letters, digits or _ . @ - (no spaces)")
    return name


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value or " " in value:
        return None
    return value


def _record(name: str, scopes: tuple[str, ...], sha: str) -> dict:
    return {"name": name, "scopes": list(scopes), "sha256": sha,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


# -- Redis adapter ---------------------------------------------------------------------------
class Tokens:
    """The token store on a sync Redis client (``decode_responses=True``)."""

    def __init__(self, client):
        self.r = client

    def add(self, name: str, scopes, replace: bool = False) -> str:
        """Make a token; returns it (the only time it exists outside the caller's hands)."""
        name = check_name(name)
        try:
            scopes = parse_scopes(scopes)
        except ValueError as e:
            raise TokenError(str(e)) from None
        token = new_token()
        sha = token_hash(token)
        rec = _record(name, scopes, sha)
        if not replace:
            if not self.r.hsetnx(TOKENS_KEY, name, json.dumps(rec, ensure_ascii=False)):
                raise TokenError(f"a token named {name!r} exists; revoke it first (or use --replace)")
            self.r.set(TOKEN_KEY + sha, json.dumps({"name": name, "scopes": list(scopes)}, ensure_ascii=False))
            return token
        old = self.r.hget(TOKENS_KEY, name)
        with self.r.pipeline(transaction=True) as p:
            if old:
                p.delete(TOKEN_KEY + json.loads(old)["sha256"])
            p.hset(TOKENS_KEY, name, json.dumps(rec, ensure_ascii=False))
            p.set(TOKEN_KEY + sha, json.dumps({"name": name, "scopes": list(scopes)}, ensure_ascii=False))
            p.execute()
        return token

    def list(self) -> list[dict]:
        """Every token's name, scopes and creation time (never its hash's preimage)."""
        out = [json.loads(v) for v in self.r.hgetall(TOKENS_KEY).values()]
        return sorted(({k: v for k, v in t.items() if k != "sha256"} for t in out), key=lambda t: t["name"])

    def exists(self, name: str) -> bool:
        return bool(self.r.hexists(TOKENS_KEY, name))

    def revoke(self, name: str) -> bool:
        old = self.r.hget(TOKENS_KEY, name)
        if not old:
            return False
        with self.r.pipeline(transaction=True) as p:
            p.delete(TOKEN_KEY + json.loads(old)["sha256"])
            p.hdel(TOKENS_KEY, name)
            p.execute()
        return True

    def lookup(self, token: str | None) -> dict | None:
        """{"name", "scopes"} of a valid token, else None."""
        if not token:
            return None
        raw = self.r.get(TOKEN_KEY + token_hash(token))
        return json.loads(raw) if raw else None


async def lookup_async(client, token: str | None) -> dict | None:
    """:meth:`Tokens.lookup` on an asyncio Redis client (the API's)."""
    if not token:
        return None
    raw = await client.get(TOKEN_KEY + token_hash(token))
    return json.loads(raw) if raw else None


# -- CLI -------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m streams.tokens",
                                 description="Manage the intake API's tokens (stored only as SHA-256 hashes in Redis). "
                                             f"Scopes: {', '.join(SCOPES)} (all = every scope).")
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("add", help="make a token; it is printed once, alone on the last line of output")
    a.add_argument("name", help="who uses it; recorded as the actor in the audit trail")
    a.add_argument("--scopes", required=True, help=f"comma-separated: {', '.join(SCOPES)} or all")
    a.add_argument("--replace", action="store_true", help="replace an existing token of that name")
    sub.add_parser("list", help="list tokens: name, scopes, created")
    rv = sub.add_parser("revoke", help="revoke a token by name (it answers 401 at once)")
    rv.add_argument("name")
    args = ap.parse_args(argv)

    import redis

    from config import SettingsError, load_settings
    try:
        S = load_settings()
        store = Tokens(redis_client(S.redis_url, socket_timeout=5))
        if args.cmd == "add":
            token = store.add(args.name, args.scopes, replace=args.replace)
            scopes = ",".join(parse_scopes(args.scopes))
            print(f"token {check_name(args.name)} ({scopes}) made; it is shown only now, keep it safe:")
            print(token)
        elif args.cmd == "list":
            rows = store.list()
            for t in rows:
                print(f"{t['name']}\t{','.join(t['scopes'])}\t{t.get('created', '')}")
            if not rows:
                print("no tokens (python -m streams.tokens add NAME --scopes ...)")
        else:
            if not store.revoke(args.name):
                print(f"error: no token named {args.name!r}", file=sys.stderr)
                return 1
            print(f"revoked {args.name}")
    except (TokenError, SettingsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except redis.RedisError as e:
        print(f"error: Redis is unavailable ({e.__class__.__name__}); start it (make run) or set REDIS_URL",
              file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
