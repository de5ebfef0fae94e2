"""Imports every experiment module so each registers itself (one line per experiment)."""

from . import bandits  # noqa: F401  Fig. 1
