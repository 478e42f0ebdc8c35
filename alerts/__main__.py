"""`python -m alerts COMMAND …`: offline detection and the duty officer's actions."""
import sys

COMMANDS = {
    "detect": ("alerts.detect", "surge episodes in a CSV of timestamp,count[,parent], as JSON lines"),
    "replay": ("alerts.replay", "the stream's detector over DIR/series/*.csv, alerts to --out DIR/<name>.jsonl"),
    "list": ("alerts.cli", "alerts, most urgent first (--state open|closed|all, --json)"),
    "show": ("alerts.cli", "one alert: SLA clocks, audit trail, deliveries"),
    "ack": ("alerts.cli", "acknowledge an alert (--by NAME)"),
    "dispatch": ("alerts.cli", "dispatch a team (--by NAME --team TEAM)"),
    "respond": ("alerts.cli", "record the team's response (--by NAME)"),
    "onsite": ("alerts.cli", "record the team on site (--by NAME)"),
    "close": ("alerts.cli", "close an alert (--by NAME [--note TEXT])"),
    "false-alarm": ("alerts.cli", "mark a false alarm (--by NAME --note WHY)"),
    "silence": ("alerts.cli", "silence add|list|remove (known events, maintenance windows)"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print("usage: python -m alerts {" + ",".join(COMMANDS) + "} ...   (each takes --help)\n")
        for name, (_, what) in COMMANDS.items():
            print(f"  {name:12s} {what}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    import importlib

    module = importlib.import_module(COMMANDS[argv[0]][0])
    return module.main(argv[1:] if argv[0] in ("detect", "replay") else argv)


if __name__ == "__main__":
    sys.exit(main())
