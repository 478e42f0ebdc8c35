"""`python -m alerts list|show|ack|dispatch|respond|onsite|close|false-alarm|silence …`.

The duty officer's actions from a terminal, on the same Redis store as the HTTP API and the
dashboard (``REDIS_URL``; default: the project's own redis-server).  Every action needs
``--by NAME`` (who acts); it is written to the alert's audit trail.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from streams.store import redis_client
import redis

from alerts.severity import tag
from streams.numbers import usual_text
from alerts.lifecycle import ACTION_LABELS, LifecycleError, STATE_LABELS, sla_status
from alerts.store import AlertStore

ACTIONS = {"ack": "ack", "dispatch": "dispatch", "respond": "respond", "onsite": "onsite", "close": "close",
           "false-alarm": "false_alarm"}


def _store():
    from config import settings

    S = settings()
    client = redis_client(S.redis_url, socket_timeout=5)
    return AlertStore(client), S


def _line(a: dict, now: datetime) -> str:
    clocks = " ".join(f"{c['label']}:{c['mark']}" for c in sla_status(a, now) if not c.get("stopped"))
    ind = a.get("industry") if a.get("industry") not in (None, "*") else "全部行业"
    return (f"{a['id']}  {tag(a)}  {STATE_LABELS.get(a['state'], a['state'])}  {a.get('district_name') or a['district']} "
            f"{ind}  观测 {a.get('observed')} / 预期 {usual_text(a.get('expected')) or '-'}  得分 {a.get('score')}  "
            f"{a['opened_at'][:16]}  {clocks}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m alerts", description="Surge alerts: list, inspect and act on them.")
    sub = p.add_subparsers(dest="cmd", required=True)
    ls = sub.add_parser("list", help="alerts, most urgent first")
    ls.add_argument("--state", choices=("open", "closed", "all"), default="open")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    sh = sub.add_parser("show", help="one alert with its SLA clocks, audit trail and deliveries")
    sh.add_argument("id")
    for name, action in ACTIONS.items():
        a = sub.add_parser(name, help=f"{ACTION_LABELS.get(action, action)} ({action})")
        a.add_argument("id")
        a.add_argument("--by", required=True, help="who acts (written to the audit trail)")
        if action == "dispatch":
            a.add_argument("--team", required=True, help="the team sent (config/alerts.yaml teams.valid)")
        a.add_argument("--note", help="a note" + (" (required: why it is a false alarm)" if action == "false_alarm" else ""))
    si = sub.add_parser("silence", help="silence alerts of a district / industry / level until a time")
    si_sub = si.add_subparsers(dest="silence_cmd", required=True)
    add = si_sub.add_parser("add")
    add.add_argument("--district", help="6-digit code; a city covers its counties")
    add.add_argument("--industry")
    add.add_argument("--level", choices=("county", "city", "province"))
    add.add_argument("--until", required=True, help="local date-time, e.g. 2026-10-08T00:00")
    add.add_argument("--reason", required=True)
    add.add_argument("--by", required=True)
    si_sub.add_parser("list")
    rm = si_sub.add_parser("remove")
    rm.add_argument("id")
    rm.add_argument("--by", required=True)
    args = p.parse_args(argv)

    try:
        store, S = _store()
        now = datetime.now(S.tz)
        if args.cmd == "list":
            alerts = store.list(None if args.state == "all" else args.state, now=now)
            for a in alerts:
                print(json.dumps(a, ensure_ascii=False) if args.json else _line(a, now))
            if not alerts and not args.json:
                print("（没有预警）no alerts")
            return 0
        if args.cmd == "show":
            a = store.get(args.id)
            if a is None:
                print(f"error: no alert {args.id!r}", file=sys.stderr)
                return 2
            a["sla"] = sla_status(a, now)
            a["history"] = store.history(args.id)
            a["deliveries"] = store.deliveries(args.id)
            print(json.dumps(a, ensure_ascii=False, indent=2))
            return 0
        if args.cmd in ACTIONS:
            a = store.act(args.id, ACTIONS[args.cmd], args.by, team=getattr(args, "team", None), note=args.note, now=now)
            print(_line(a, now))
            return 0
        if args.cmd == "silence":
            if args.silence_cmd == "add":
                until = datetime.fromisoformat(args.until)
                until = until if until.tzinfo else until.replace(tzinfo=S.tz)
                sid = store.add_silence(district=args.district, industry=args.industry, level=args.level, until=until,
                                        reason=args.reason, by=args.by, now=now)
                print(sid)
            elif args.silence_cmd == "list":
                for s in store.silences(now):
                    print(json.dumps(s, ensure_ascii=False))
            else:
                if not store.remove_silence(args.id, args.by, now):
                    print(f"error: no silence {args.id!r}", file=sys.stderr)
                    return 2
            return 0
    except (LifecycleError, KeyError, ValueError) as e:
        print(f"error: {e.args[0] if e.args else e}", file=sys.stderr)
        return 2
    except redis.RedisError as e:
        print(f"error: Redis is unavailable ({e.__class__.__name__}); start it (make run) or set REDIS_URL",
              file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
