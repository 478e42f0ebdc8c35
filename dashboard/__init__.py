"""Dash screens (issue 6): wall display, duty console, bureau review. Not built yet."""
