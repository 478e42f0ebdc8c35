"""Surge detection and the alert lifecycle (issue 5, in progress).

Done: detectors (`alerts/detectors/`), episodes and `python -m alerts detect`, the synthetic
evaluation (`alerts/synth.py`, `alerts/evaluate.py`, `make eval-alerts`), the calendar.
Not yet: detection in the stream, the alert lifecycle, SLA clocks, notifications.
"""
