"""`python -m nlp topics|classify|cloud|polarity …`: the stream's text analysis, offline."""
import sys

COMMANDS = {
    "topics": ("nlp.topics", "top problem topics (with variants) and keywords of complaints in a file, as JSON lines"),
    "classify": ("nlp.classify", "industry of each complaint in a file (null when unsure); --train learns an export"),
    "cloud": ("nlp.cloud", "draw the keyword cloud of complaints in a file as a PNG"),
    "polarity": ("nlp.lexicon", "check whether an object + predicate is a problem; learn lexicon additions"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print("usage: python -m nlp {topics,classify,cloud,polarity} ...   (each takes --help)\n")
        for name, (_, what) in COMMANDS.items():
            print(f"  {name:9s} {what}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    import importlib

    module = importlib.import_module(COMMANDS[argv[0]][0])
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
