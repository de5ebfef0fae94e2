"""Sweep configs: a small TOML or YAML file naming a grid of (task, seed, training options).

    tasks = ["bandit-correlated", "bandit-independent"]   # training protocols
    seeds = [0, 1]                                        # one replica per seed
    [train]                                               # TrainConfig fields shared by every run
    train_episodes = 512
    [grid]                                                # TrainConfig fields to vary: every combination
    lr = [0.01, 0.003]
    [test]                                                # the frozen test session of every run
    episodes = 200

See ``docs/sweep.md`` for every key.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path

from typeguard import TypeCheckError, check_type

from ..agents import TrainConfig
from ..errors import ConfigError
from ..tasks import TASKS

#: TrainConfig fields a sweep sets itself (per run), so they cannot appear in [train] or [grid]
PER_RUN = ("task", "seed")
#: each field's declared type, without the CLI's markers: the type ``neurometarl train`` parses it with
TRAIN_TYPES: dict[str, type] = typing.get_type_hints(TrainConfig)
TEST_KEYS = {"task": None, "episodes": 200, "seed": 10_000}


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: train ``config``, record its frozen test session, analyse it."""

    run_id: str  # folder name under the sweep's output folder
    config: TrainConfig  # training settings
    grid: dict  # the grid values of this run (field -> value), for labels and the group dataset
    test_task: str  # protocol of the frozen test session
    test_episodes: int  # episodes in the test session
    test_seed: int  # seed of the test session (the same for every run, so replicas see the same episodes)


@dataclass(frozen=True)
class SweepConfig:
    """A grid of runs: every (task, grid point, seed).

    tasks: training protocols (see ``neurometarl tasks``).
    seeds: training seeds; each (task, grid point) is trained once per seed.
    train: TrainConfig fields fixed for every run (``eval_episodes`` defaults to 0 here: the sweep's
        own test session replaces the trainer's evaluation).
    grid: TrainConfig fields to vary, each a list of values; the sweep runs every combination.
    test: the frozen test session: ``task`` (default: the training task), ``episodes`` (200) and
        ``seed`` (10000, shared by all runs so replicas play the same episodes).
    """

    tasks: tuple[str, ...]
    seeds: tuple[int, ...]
    train: dict = field(default_factory=dict)
    grid: dict = field(default_factory=dict)
    test: dict = field(default_factory=dict)

    def __post_init__(self):
        if not self.tasks or not self.seeds:
            raise ConfigError("a sweep needs at least one entry in 'tasks' and one in 'seeds'")
        unknown_tasks = [t for t in self.tasks if t not in TASKS]
        if unknown_tasks:
            raise ConfigError(f"unknown task(s) {unknown_tasks} in 'tasks'; see `neurometarl tasks`")
        if len(set(self.seeds)) != len(self.seeds) or len(set(self.tasks)) != len(self.tasks):
            raise ConfigError(f"'tasks' and 'seeds' must not repeat an entry (got tasks={list(self.tasks)}, seeds={list(self.seeds)})")
        known = set(TRAIN_TYPES) - set(PER_RUN)
        for section in ("train", "grid"):
            bad = sorted(set(getattr(self, section)) - known)
            if bad:
                raise ConfigError(f"[{section}] has unknown or per-run training field(s) {bad}; valid: {sorted(known)}")
        both = sorted(set(self.train) & set(self.grid))
        if both:
            raise ConfigError(f"field(s) {both} appear in both [train] and [grid]; keep each in one")
        for name, values in self.grid.items():
            if not isinstance(values, list) or not values:
                raise ConfigError(f"[grid] {name} must be a non-empty list of values, got {values!r}")
        bad = sorted(set(self.test) - set(TEST_KEYS))
        if bad:
            raise ConfigError(f"[test] has unknown key(s) {bad}; valid: {sorted(TEST_KEYS)}")
        if self.test.get("task") is not None and self.test["task"] not in TASKS:
            raise ConfigError(f"[test] task {self.test['task']!r} is not a task; see `neurometarl tasks`")
        if int(self.test.get("episodes", 200)) < 2:
            raise ConfigError(f"[test] episodes must be >= 2, got {self.test['episodes']}")

    def runs(self, device: str | None = None) -> list[RunSpec]:
        """Every run of the grid (validated: a bad combination fails here, before anything is scheduled)."""
        test = {**TEST_KEYS, **self.test}
        names = list(self.grid)
        train = {k: _coerce(k, v) for k, v in {"eval_episodes": 0, **self.train, **({"device": device} if device else {})}.items()}
        runs = []
        for task in self.tasks:
            for values in itertools.product(*(self.grid[n] for n in names)):
                point = {k: _coerce(k, v) for k, v in zip(names, values)}
                for seed in self.seeds:
                    cfg = TrainConfig(task=task, seed=int(seed), **{**train, **point})  # a grid value overrides a default
                    runs.append(RunSpec(run_id(task, point, seed), cfg, point, test["task"] or task,
                                        int(test["episodes"]), int(test["seed"])))
        return runs


def _coerce(name: str, value):
    """``value`` for TrainConfig field ``name``, checked against the field's declared type (the type the
    CLI parses it with) by typeguard; YAML 1.1 reads ``1e-2`` as a string, so a float field also takes a
    string that spells a number, and ``task_options`` takes a table (TOML has no JSON type)."""
    hint = TRAIN_TYPES[name]
    if name == "task_options" and isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if hint is float and isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = float(value)
    try:
        if isinstance(value, bool) and hint is not bool:
            raise TypeCheckError("is a bool")
        check_type(value, hint)
    except TypeCheckError:
        raise ConfigError(f"training field {name} must be {'true or false' if hint is bool else f'of type {hint.__name__}'}, "
                          f"got {value!r}") from None
    return float(value) if hint is float else value


def run_id(task: str, point: dict, seed: int) -> str:
    """A readable, filesystem-safe folder name, e.g. ``bandit-correlated_lr=0.01_seed=0``."""
    parts = [task, *(f"{k}={v}" for k, v in point.items()), f"seed={seed}"]
    return re.sub(r"[^A-Za-z0-9_.=+-]", "-", "_".join(parts))


def _one_line(err: Exception) -> str:
    """A parser's error on one line: YAML's multi-line report as 'problem (line L, column C)'."""
    mark, problem = getattr(err, "problem_mark", None), getattr(err, "problem", None)
    if mark is not None and problem:
        return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    return " ".join(str(err).split())


def load_sweep_config(path: str | Path) -> SweepConfig:
    """Read a sweep config from a ``.toml``, ``.yaml`` or ``.yml`` file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no sweep config at {path}")
    text = path.read_text()
    try:
        if path.suffix == ".toml":
            import tomllib

            raw = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            import yaml

            raw = yaml.safe_load(text) or {}
        else:
            raise ConfigError(f"sweep config {path} must end in .toml, .yaml or .yml")
    except ConfigError:
        raise
    except Exception as err:  # tomllib and yaml raise their own parse errors
        raise ConfigError(f"cannot parse sweep config {path}: {_one_line(err)}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"sweep config {path} must be a mapping with 'tasks', 'seeds', [train], [grid], [test]")
    unknown = sorted(set(raw) - {f.name for f in dataclasses.fields(SweepConfig)})
    if unknown:
        raise ConfigError(f"sweep config {path} has unknown key(s) {unknown}; valid: tasks, seeds, train, grid, test")
    as_tuple = lambda v: tuple(v) if isinstance(v, list) else (v,) if v is not None else ()
    return SweepConfig(tasks=as_tuple(raw.get("tasks")), seeds=as_tuple(raw.get("seeds")),
                       train=dict(raw.get("train") or {}), grid=dict(raw.get("grid") or {}),
                       test=dict(raw.get("test") or {}))
