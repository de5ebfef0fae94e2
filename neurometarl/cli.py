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
    "neurometarl.data.commands",
    "neurometarl.analysis.commands",
    "neurometarl.experiments.commands",
    "neurometarl.sweep.commands",
)


#: commands that read registered datasets, and so take ``--data-dir``
DATA_COMMANDS = {"datasets", "fit", "compare", "stay", "lags", "experiment", "reproduce", "sweep"}


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
    for name in DATA_COMMANDS & set(subparsers.choices):
        subparsers.choices[name].add_argument(
            "--data-dir", default=None, metavar="DIR",
            help="folder holding other people's datasets (overrides $NEUROMETARL_DATA; see `neurometarl datasets`)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    data_env = os.environ.get("NEUROMETARL_DATA")
    if getattr(args, "data_dir", None) is not None:  # read by neurometarl.data.registry wherever data is fetched
        os.environ["NEUROMETARL_DATA"] = args.data_dir
    try:
        return _run(args)
    finally:  # main() called in-process (scripts, tests) leaves the setting as it found it
        if data_env is None:
            os.environ.pop("NEUROMETARL_DATA", None)
        else:
            os.environ["NEUROMETARL_DATA"] = data_env


def _run(args) -> int:
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
