"""Surge detection and the alert lifecycle.

Detectors (`alerts/detectors/`, the default share scan in `share.py`), live detection in the
stream worker (`live.py` pure, `agents.py` its faust timer), what lies behind an alert
(`context.py`), the lifecycle and SLA clocks (`lifecycle.py`), the Redis store (`store.py`),
notifications (`notify.py`, test receiver `receiver.py`), the HTTP API (`api.py`), the CLI
(`python -m alerts`), and the evaluation (`synth.py`, `evaluate.py`, `make eval-alerts`).
"""
