"""The ``neurometarl`` command line. Each area of the package adds its sub-commands through an
``add_commands(subparsers)`` function; handlers take the parsed ``args`` and return an exit code."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from . import __version__
from .errors import NeurometarlError

#: modules whose ``add_commands(subparsers)`` registers sub-commands, in help order
COMMAND_MODULES = (
    "neurometarl.commands",
    "neurometarl.models.commands",
    "neurometarl.analysis.commands",
    "neurometarl.experiments.commands",
    "neurometarl.sweep.commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="neurometarl", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"neurometarl {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:  # area not built yet
                continue
            raise
        module.add_commands(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import torch

    # 48-unit networks gain nothing from intra-op threads, and spin-waiting threads slow everything
    # badly when the cores are shared; NEUROMETARL_THREADS raises it (e.g. for wide networks or GPUs).
    torch.set_num_threads(int(os.environ.get("NEUROMETARL_THREADS", "1")))
    try:
        return int(args.func(args) or 0)
    except (NeurometarlError, FileNotFoundError) as err:
        print(f"neurometarl {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"neurometarl {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
