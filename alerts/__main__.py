"""`python -m alerts detect FILE …`: surge detection on a count series, offline."""
import sys

COMMANDS = {
    "detect": ("alerts.detect", "surge episodes in a CSV of timestamp,count, as JSON lines"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print("usage: python -m alerts {" + ",".join(COMMANDS) + "} FILE [options]   (each takes --help)\n")
        for name, (_, what) in COMMANDS.items():
            print(f"  {name:9s} {what}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    import importlib

    module = importlib.import_module(COMMANDS[argv[0]][0])
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
