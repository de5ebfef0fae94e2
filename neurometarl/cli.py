"""The ``neurometarl`` command line, declared from typed configs with `tyro <https://brentyi.github.io/tyro/>`_.

Every sub-command is a frozen dataclass: its fields are the options (their types parse and check the
values, their comments are the help), and its ``run()`` does the work and returns the exit code.
:data:`COMMANDS` names each one, where it lives and its one-line help. Only the module of the command
being run is imported, so ``neurometarl --help`` and ``neurometarl tasks`` answer without importing torch.
Option names are the library's parameter names (``--n-episodes`` is ``record_session``'s ``n_episodes``);
older spellings stay as aliases. An error a user can cause prints one line and exits with status 2.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from typing import Annotated, Any

import tyro

from . import __version__
from .errors import ConfigError, NeurometarlError
from .io import check_output, claim

#: sub-command → ("module:Class" declaring it, one-line help), in help order
COMMANDS: dict[str, tuple[str, str]] = {
    "tasks": ("neurometarl.tasks.commands:Tasks", "list every task protocol with a one-line description"),
    "train": ("neurometarl.commands:Train", "train a meta-RL agent with batched A2C (or PPO)"),
    "record": ("neurometarl.commands:Record", "record a frozen session of a checkpoint or baseline as netCDF"),
    "figure": ("neurometarl.commands:Figure", "draw figures from saved results or recordings"),
    "reproduce": ("neurometarl.commands:Reproduce", "the main job: run every paper experiment from shipped checkpoints"),
    "experiment": ("neurometarl.experiments.commands:Experiment", "run one paper simulation end to end and write its scorecard"),
    "models": ("neurometarl.models.commands:Models", "list behavioural models and the datasets they can read"),
    "fit": ("neurometarl.models.commands:Fit", "fit a behavioural model to a trial table, recording or registered dataset"),
    "compare": ("neurometarl.models.commands:Compare", "fit several models to the same data and compare AIC/BIC (and CV likelihood)"),
    "stay": ("neurometarl.models.commands:Stay", "two-step stay probabilities (mean over subjects) as JSON"),
    "lags": ("neurometarl.models.commands:Lags", "lag regressions (reward/choice and rewarded-/unrewarded-choice kernels): a table and a figure"),
    "datasets": ("neurometarl.data.commands:Datasets", "list the registered datasets (citation, licence, size, where); fetch or verify one"),
    "units": ("neurometarl.analysis.commands:Units", "unit coding: per-unit regression / partial correlation on a recording"),
    "decode": ("neurometarl.analysis.commands:Decode", "cross-validated linear decoding of a variable from units"),
    "nwb": ("neurometarl.analysis.commands:Nwb", "export a recording to NWB, import it back, or validate an NWB file"),
    "sweep": ("neurometarl.sweep.commands:Sweep", "train, record and analyse a grid of (task, seed, options) on Dask"),
}

#: what ``--out`` names, per command that writes one
OUTPUT_KIND = {**dict.fromkeys(("train", "reproduce", "experiment", "sweep"), "folder"),
               **dict.fromkeys(("record", "fit", "compare", "units", "decode"), "file")}

# Option types shared by several commands (tyro reads the Annotated markers; mypy sees the plain type).
#: ``--data-dir DIR`` (alias ``--data``), on every command that reads registered datasets
DataDir = Annotated[str | None, tyro.conf.arg(
    aliases=("--data",), metavar="DIR", help_behavior_hint="(default: $NEUROMETARL_DATA, else the download cache)",
    help="folder holding other people's datasets (overrides $NEUROMETARL_DATA for this run; see `neurometarl "
         "datasets`); --data is the same option")]
#: ``--quiet``: no progress bars
Quiet = Annotated[bool, tyro.conf.arg(help="no progress bars")]


def described(default: str, metavar: str, *aliases: str) -> Any:
    """tyro marker for an option whose default is a rule, not a value (``None`` meaning "the experiment's"):
    the help says ``(default: <default>)`` and the value is shown as ``metavar``."""
    return tyro.conf.arg(help_behavior_hint=f"(default: {default})", metavar=metavar, aliases=aliases or None)


def at_least(command: object, **minimums: int) -> None:
    """:class:`ConfigError` naming the first option of ``command`` below its minimum (for a command's ``check()``)."""
    for name, minimum in minimums.items():
        value = getattr(command, name)
        if value is not None and value < minimum:
            raise ConfigError(f"--{name.replace('_', '-')} must be at least {minimum}, got {value}")


def command_class(name: str) -> type:
    """The dataclass declaring sub-command ``name`` (its module imported)."""
    module, _, cls = COMMANDS[name][0].partition(":")
    return getattr(importlib.import_module(module), cls)


def parse(argv: list[str]) -> tuple[str, Any]:
    """``(command name, its typed config)`` from ``argv`` (``[COMMAND, OPTIONS...]``); tyro prints the help,
    or a usage error and exits (``SystemExit``) on what it cannot parse. Range checks are the config's
    ``check()``, which :func:`main` calls after parsing."""
    name, *rest = argv
    return name, tyro.cli(command_class(name), args=rest, prog=f"neurometarl {name}", description=COMMANDS[name][1])


def _overview(file=sys.stdout) -> None:
    width = max(map(len, COMMANDS))
    lines = ["usage: neurometarl [-h] [--version] COMMAND ...", "",
             "Meta-RL agents recorded like neurons: train, record, analyse and compare with baselines and animals; "
             "reproduce Wang et al. (2018).", "", "commands:",
             *(f"  {name:<{width}}  {text}" for name, (_, text) in COMMANDS.items()), "",
             "`neurometarl COMMAND --help` lists a command's options. Settings: NEUROMETARL_DATA (datasets), "
             "NEUROMETARL_CHECKPOINTS (shipped checkpoints), NEUROMETARL_THREADS (torch threads)."]
    print("\n".join(lines), file=file)


def main(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``) and return the exit code: the command's
    (0 on success), 2 for an error a user can cause (one line on stderr) or a usage error, 130 when
    interrupted, 0 for help and version. ``--data-dir`` sets ``NEUROMETARL_DATA`` for this run only."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        _overview(sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    if argv[0] == "--version":
        print(f"neurometarl {__version__}")
        return 0
    if argv[0] not in COMMANDS:
        print(f"neurometarl: error: unknown command {argv[0]!r}; choose from {', '.join(COMMANDS)} "
              "(`neurometarl --help`)", file=sys.stderr)
        return 2
    data_env = os.environ.get("NEUROMETARL_DATA")
    try:
        return _run(argv)
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


def _run(argv: list[str]) -> int:
    name = argv[0]
    # 48-unit networks gain nothing from intra-op threads, and spin-waiting threads slow everything
    # badly when the cores are shared; NEUROMETARL_THREADS raises it (e.g. for wide networks or GPUs).
    if "torch" in sys.modules or name not in ("tasks", "datasets", "models"):
        import torch

        torch.set_num_threads(int(os.environ.get("NEUROMETARL_THREADS", "1")))
    try:
        try:
            _, command = parse(argv)
        except SystemExit as exit_:  # tyro printed the help or a usage error
            return int(exit_.code or 0)
        if hasattr(command, "check"):  # the config's own range checks, after tyro parsed the types
            command.check()
        if getattr(command, "data_dir", None) is not None:  # read by neurometarl.data.registry wherever data is fetched
            os.environ["NEUROMETARL_DATA"] = command.data_dir
        _check_device(getattr(command, "device", None))
        out = getattr(command, "out", None)
        if out and name in OUTPUT_KIND:  # refuse a file where a folder goes (or the reverse) before any work
            check_output(out, folder=OUTPUT_KIND[name] == "folder")
        with claim(out) if out else contextlib.nullcontext():  # a second process writing the same --out is told at once
            return int(command.run() or 0)
    except Exception as err:  # the error boundary: what a user can cause is one line and exit 2
        if not (isinstance(err, NeurometarlError) or _user_error(err)):
            raise  # a bug: keep the traceback for the report
        message = " ".join(str(err).split()) or type(err).__name__
        if not isinstance(err, NeurometarlError):
            message = f"{message} ({type(err).__name__})"
        print(f"neurometarl {name}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"neurometarl {name}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
