"""The ``neurometarl`` command line.

:data:`COMMANDS` names every sub-command, the module that builds it (its ``add_commands(subparsers)``)
and its one-line help. Only the module of the command being run is imported, so ``neurometarl --help``
and ``neurometarl tasks`` answer without importing torch. Handlers take the parsed ``args`` and return an
exit code; an error a user can cause prints one line and exits with status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys

from . import __version__
from .errors import ConfigError, NeurometarlError
from .io import check_output, claim

#: sub-command → (module with ``add_commands``, one-line help), in help order
COMMANDS: dict[str, tuple[str, str]] = {
    "tasks": ("neurometarl.tasks.commands", "list every task protocol with a one-line description"),
    "train": ("neurometarl.commands", "train a meta-RL agent with batched A2C (or PPO)"),
    "record": ("neurometarl.commands", "record a frozen session of a checkpoint or baseline as netCDF"),
    "figure": ("neurometarl.commands", "draw figures from saved results or recordings"),
    "reproduce": ("neurometarl.commands", "the main job: run every paper experiment from shipped checkpoints"),
    "experiment": ("neurometarl.experiments.commands", "run one paper simulation end to end and write its scorecard"),
    "models": ("neurometarl.models.commands", "list behavioural models and the datasets they can read"),
    "fit": ("neurometarl.models.commands", "fit a behavioural model to a trial table, recording or registered dataset"),
    "compare": ("neurometarl.models.commands", "fit several models to the same data and compare AIC/BIC (and CV likelihood)"),
    "stay": ("neurometarl.models.commands", "two-step stay probabilities (mean over subjects) as JSON"),
    "lags": ("neurometarl.models.commands", "lag regressions (reward/choice and rewarded-/unrewarded-choice kernels): a table and a figure"),
    "datasets": ("neurometarl.data.commands", "list the registered datasets (citation, licence, size, where); fetch or verify one"),
    "units": ("neurometarl.analysis.commands", "unit coding: per-unit regression / partial correlation on a recording"),
    "decode": ("neurometarl.analysis.commands", "cross-validated linear decoding of a variable from units"),
    "nwb": ("neurometarl.analysis.commands", "export a recording to NWB, import it back, or validate an NWB file"),
    "sweep": ("neurometarl.sweep.commands", "train, record and analyse a grid of (task, seed, options) on Dask"),
}

#: what ``--out`` names, per command that writes one
OUTPUT_KIND = {**dict.fromkeys(("train", "reproduce", "experiment", "sweep"), "folder"),
               **dict.fromkeys(("record", "fit", "compare", "units", "decode"), "file")}

#: commands that read registered datasets, and so take ``--data-dir``
DATA_COMMANDS = {"datasets", "fit", "compare", "stay", "lags", "experiment", "reproduce", "sweep"}


class _Subparsers:
    """Hands a command module the sub-parsers it asks for, with the help from :data:`COMMANDS`;
    commands other than ``wanted`` get a throwaway parser (``wanted=None``: all are real)."""

    def __init__(self, action, wanted: str | None):
        self.action, self.wanted = action, wanted

    def add_parser(self, name: str, **options) -> argparse.ArgumentParser:
        if self.wanted is not None and name != self.wanted:
            return argparse.ArgumentParser(add_help=False)
        options.setdefault("help", COMMANDS[name][1])
        options.setdefault("description", COMMANDS[name][1])
        parser = self.action.add_parser(name, **options)
        if name in DATA_COMMANDS:
            parser.add_argument("--data-dir", "--data", default=None, metavar="DIR",
                                help="folder holding other people's datasets (overrides $NEUROMETARL_DATA; "
                                     "see `neurometarl datasets`); --data is the same option")
        return parser


def count(minimum: int):
    """An argparse type: an integer of at least ``minimum``, with a message naming the bound."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    parse.__name__ = f"integer >= {minimum}"
    return parse


def _command(argv: list[str]) -> str | None:
    """The sub-command named in ``argv`` (its first word that is not an option), or ``None``."""
    word = next((a for a in argv if not a.startswith("-")), None)
    return word if word in COMMANDS else None


def build_parser(command: str | None = None, *, overview: bool = False) -> argparse.ArgumentParser:
    """The parser for ``command`` alone (its module imported), or, with ``None``, every command in full;
    ``overview=True``: every command with its one-line help and no command module imported."""
    parser = argparse.ArgumentParser(
        prog="neurometarl",
        description="Meta-RL agents recorded like neurons: train, record, analyse and compare with baselines "
                    "and animals; reproduce Wang et al. (2018).",
        epilog="`neurometarl COMMAND --help` lists a command's options. Settings: NEUROMETARL_DATA (datasets), "
               "NEUROMETARL_CHECKPOINTS (shipped checkpoints), NEUROMETARL_THREADS (torch threads).")
    parser.add_argument("--version", action="version", version=f"neurometarl {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    if overview:
        for name, (_, text) in COMMANDS.items():
            subparsers.add_parser(name, help=text)
        return parser
    modules = dict.fromkeys(COMMANDS[c][0] for c in ([command] if command else COMMANDS))
    for module in modules:
        importlib.import_module(module).add_commands(_Subparsers(subparsers, command))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``) and return the exit code: the command's
    (0 on success), 2 for an error a user can cause (one line on stderr), 130 when interrupted, argparse's
    for help, version and usage errors. ``--data-dir`` sets ``NEUROMETARL_DATA`` for this run only."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = _command(argv)
    # `neurometarl`, `--help`, `--version` or an unknown command: the overview, no command module imported
    parser = build_parser(command) if command else build_parser(overview=True)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse printed the help, the version or a usage error
        return int(exit_.code or 0)
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


#: exceptions from libraries that only bad input causes (a file that is empty, not text, not a table...)
USER_ERRORS = (OSError, UnicodeDecodeError)
USER_ERROR_MODULES = ("pandas.errors", "json.decoder", "yaml")


def _user_error(err: BaseException) -> bool:
    return isinstance(err, USER_ERRORS) or type(err).__module__.startswith(USER_ERROR_MODULES)


def _check_device(device: str | None) -> None:
    if device and device != "cpu":
        import torch

        if not device.startswith("cuda") or not torch.cuda.is_available():
            raise ConfigError(f"--device {device}: " + ("this torch has no CUDA device (a CPU build, or no GPU); use "
                              "--device cpu, or install a CUDA build of torch (docs/install.md)"
                              if device.startswith("cuda") else "use cpu or cuda"))


def _run(args) -> int:
    # 48-unit networks gain nothing from intra-op threads, and spin-waiting threads slow everything
    # badly when the cores are shared; NEUROMETARL_THREADS raises it (e.g. for wide networks or GPUs).
    if "torch" in sys.modules or args.command not in ("tasks", "datasets", "models"):
        import torch

        torch.set_num_threads(int(os.environ.get("NEUROMETARL_THREADS", "1")))
    try:
        _check_device(getattr(args, "device", None))
        out = getattr(args, "out", None)
        if out and args.command in OUTPUT_KIND:  # refuse a file where a folder goes (or the reverse) before any work
            check_output(out, folder=OUTPUT_KIND[args.command] == "folder")
        with claim(out) if out else contextlib.nullcontext():  # a second process writing the same --out is told at once
            return int(args.func(args) or 0)
    except Exception as err:  # the error boundary: what a user can cause is one line and exit 2
        if not (isinstance(err, NeurometarlError) or _user_error(err)):
            raise  # a bug: keep the traceback for the report
        message = " ".join(str(err).split()) or type(err).__name__
        if not isinstance(err, NeurometarlError):
            message = f"{message} ({type(err).__name__})"
        print(f"neurometarl {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"neurometarl {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
