"""What the screens show, as numbers: now in ``streams.counts`` (the intake API's wall view reads
them too, and runtime code in ``streams/`` must not import from the dashboard). Kept so the
screens' imports stay as they are."""
from streams.counts import *  # noqa: F401,F403
from streams.counts import _field_key, _next_day, _rolls_up  # noqa: F401
