"""`python -m nlp topics|classify|cloud FILE …`: the stream's text analysis, offline."""
import sys

COMMANDS = {
    "topics": ("nlp.topics", "top phrases and keywords of complaints in a file, as JSON lines"),
    "classify": ("nlp.classify", "predicted industry of each complaint in a file"),
    "cloud": ("nlp.cloud", "draw the keyword cloud of complaints in a file as a PNG"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print("usage: python -m nlp {topics,classify,cloud} FILE [options]   (each takes --help)\n")
        for name, (_, what) in COMMANDS.items():
            print(f"  {name:9s} {what}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    import importlib

    module = importlib.import_module(COMMANDS[argv[0]][0])
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
