"""``neurometarl tasks``: one protocol a line, name then description (imports no task module, no torch)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tasks:
    """``tasks`` (no options): every protocol with its one-line description."""

    def run(self) -> int:
        """Print one protocol a line."""
        from . import TASKS

        width = max(map(len, TASKS))
        for name, entry in TASKS.items():
            print(f"{name:<{width}}  {entry.description}")
        return 0
