"""Surge detection and alert lifecycle (issue 5). Not built yet."""
