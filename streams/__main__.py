"""`python -m streams worker` starts a faust worker (see `python -m streams --help`)."""
import sys

from config import SettingsError


def main() -> None:
    try:
        from streams.app import app
        import streams.agents  # noqa: F401 - registers the agents
    except SettingsError as e:
        sys.exit(f"configuration error: {e}")
    app.main()


if __name__ == "__main__":
    main()
