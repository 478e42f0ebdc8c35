"""`python -m dashboard.users`: who may sign in to the duty console and the review.

    python -m dashboard.users add zhang --role duty --display 张值班     # asks for the password
    echo "$PW" | python -m dashboard.users add li --role head --password-stdin
    python -m dashboard.users list
    python -m dashboard.users remove zhang
    python -m dashboard.users first-start    # no users yet: a duty officer and a bureau head

Roles: duty 值班员 (console, acts on alerts), head 局长 (console and review, acts),
viewer 观察员 (console and review, read-only). Passwords are kept as scrypt hashes.
"""
from __future__ import annotations

import argparse
import getpass
import sys

from dashboard.auth import ROLES, Users, UsersError, users_path


def first_start(users: Users) -> str:
    """On a first start (no users), a duty officer and a bureau head with fresh random passwords;
    the sign-in lines of the stack's banner either way."""
    import secrets

    if users.load():
        return "    sign-in        users of " + str(users.path) + " (python -m dashboard.users --help)\n"
    made = []
    for name, role, display in (("duty", "duty", "值班员"), ("head", "head", "局长")):
        pw = secrets.token_urlsafe(9)
        users.add(name, role, pw, display)
        made.append(f"{name} / {pw}")
    return ("    sign-in        " + "   ".join(made) + "   (made now, shown once; python -m dashboard.users\n"
            "                   adds real users)\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dashboard.users", description="Manage the dashboard's users.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("add", help="add a user, or set a user's role and password")
    a.add_argument("name")
    a.add_argument("--role", required=True, choices=list(ROLES), help="duty 值班员 | head 局长 | viewer 观察员")
    a.add_argument("--display", help="name shown on screen (default: the user name)")
    a.add_argument("--password-stdin", action="store_true", help="read the password from stdin instead of asking")
    r = sub.add_parser("remove", help="remove a user")
    r.add_argument("name")
    sub.add_parser("list", help="list the users and their roles")
    sub.add_parser("first-start", help="when there are no users yet, add 'duty' (值班员) and 'head' (局长) with "
                                       "fresh random passwords and print them once (make run's banner)")
    args = ap.parse_args(argv)

    from config import SettingsError, load_settings

    try:
        users = Users(users_path(load_settings()))
        if args.cmd == "add":
            if args.password_stdin:
                pw = sys.stdin.readline().rstrip("\n")
            else:
                pw = getpass.getpass(f"password for {args.name}: ")
                if pw != getpass.getpass("again: "):
                    print("the two passwords differ; nothing changed", file=sys.stderr)
                    return 1
            users.add(args.name, args.role, pw, args.display)
            print(f"{args.name}: {ROLES[args.role]} ({users.path})")
        elif args.cmd == "remove":
            if not users.remove(args.name):
                print(f"no user {args.name!r} in {users.path}", file=sys.stderr)
                return 1
            print(f"removed {args.name}")
        elif args.cmd == "first-start":
            print(first_start(users), end="")
        else:
            for name, u in sorted(users.load().items()):
                print(f"{name}\t{u.get('role')}\t{ROLES.get(u.get('role'), '?')}\t{u.get('display', '')}")
    except (UsersError, SettingsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
