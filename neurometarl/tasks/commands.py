"""``neurometarl tasks``: one protocol a line, name then description (imports no task module, no torch)."""

from __future__ import annotations


def _tasks(args) -> int:
    from . import TASKS

    width = max(map(len, TASKS))
    for name, entry in TASKS.items():
        print(f"{name:<{width}}  {entry.description}")
    return 0


def add_commands(subparsers) -> None:
    """Declare ``tasks`` (no options): every protocol with its one-line description."""
    p = subparsers.add_parser("tasks")
    p.set_defaults(func=_tasks)
