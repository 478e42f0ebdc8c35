"""`python -m streams worker` starts a faust worker (see `python -m streams --help`)."""
import sys

from config import SettingsError


def main() -> None:
    try:
        from streams.app import app
        import streams.agents  # noqa: F401 - registers the agents
        import alerts.agents  # noqa: F401 - registers the surge detector's timer
        import streams.cases.agents  # noqa: F401 - registers the case clocks' timer
    except SettingsError as e:
        sys.exit(f"configuration error: {e}")
    # faust's web server would take port 6066 even with web_enabled=False, so a second
    # worker on the host would die at start (FAUST_ON_TANSU.md); readers use /healthz instead.
    if sys.argv[1:2] == ["worker"] and not {"--without-web", "--web-port", "-p"} & set(sys.argv):
        sys.argv.append("--without-web")
    app.main()


if __name__ == "__main__":
    main()
