"""Experiments: the paper's simulations as declarative specs.

An :class:`Experiment` names its training configs (one per *variant*, e.g. agents trained on correlated
vs independent bandits), how many seeds (replicas, treated like animals), an ``analyse`` function that
records frozen test sessions and returns the numbers behind the figure, a ``plot`` function drawing the
figure from those numbers alone, and the paper's quantitative :class:`Claim` s checked on them.

:func:`~neurometarl.experiments.runner.run_experiment` gets the checkpoints (shipped in ``datasets/checkpoints/<experiment>/<variant>/seed<N>``
or trained with ``retrain=True``), runs the analysis, draws the figure and writes ``numbers.nc`` and
``scorecard.json`` into the output folder.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import xarray as xr

from .. import io
from ..agents import AgentSubject, TrainConfig, build_agent, load_checkpoint, train
from ..errors import CheckpointError, ConfigError
from ..progress import progress_bar
from ..settings import checkpoints_dir


@dataclass(frozen=True)
class Claim:
    """A named quantitative statement from the paper, checked on an experiment's numbers.

    ``check(numbers)`` returns ``(measured, passed)``: the measured value (a number, or a short string
    for multi-part claims) and whether it meets ``threshold``.
    """

    name: str
    statement: str
    paper: str
    threshold: str
    check: Callable[[xr.Dataset], tuple[Any, bool]]


@dataclass(frozen=True)
class Experiment:
    """One paper simulation as a declarative spec.

    ``analyse(ctx)`` records frozen test sessions of ``ctx.subjects`` and returns the JSON-able numbers behind the
    figure; ``plot(numbers, out_dir)`` draws the figure from those numbers alone and returns the files written; each
    :class:`Claim` is checked on the numbers. ``n_seeds`` replicas per variant are shipped or trained;
    ``description`` (usually the module docstring) is shown in the report.
    """

    name: str
    title: str
    #: training config per variant. Every paper simulation trains with ``algorithm="a2c"`` and
    #: ``learning_pass="step"`` (the defaults): A2C is the paper's learner, and the step pass retrains the
    #: shipped checkpoints bit for bit (docs/training.md); PPO and the sequence pass are opt-in.
    train: dict[str, TrainConfig]
    #: the analysis: frozen sessions → the numbers behind the figure, a labelled ``xarray.Dataset`` (saved as
    #: ``numbers.nc``; ``long_name``/``units`` on every variable)
    analyse: Callable[["Context"], xr.Dataset]
    #: ``plot(numbers, out_dir)`` draws the figure from the numbers alone; returns the files written
    plot: Callable[[xr.Dataset, Path], list[Path]]
    claims: tuple[Claim, ...] = ()
    n_seeds: int = 8
    description: str = ""
    #: variants whose shipped checkpoints are another experiment's, e.g. {"lstm": "fig1/correlated"}
    reuse: dict[str, str] = field(default_factory=dict)
    #: registered datasets the analysis reads (``neurometarl datasets``), checked before anything runs
    datasets: tuple[str, ...] = ()
    #: the analysis's sizes (test episodes, fit starts, shuffles...), read as ``ctx.sizes[...]``;
    #: ``run_experiment(..., sizes={...})`` (and ``--size NAME=N``) shrinks them for quick checks
    sizes: dict[str, int] = field(default_factory=dict)
    #: ``references(numbers)`` → the report's reference rows (animals, humans, the paper's model beside ours),
    #: a list of :func:`reference_table`; ``None``: none
    references: Callable[[xr.Dataset], list[dict]] | None = None
    #: the published values the experiment is compared with (the paper's model, animals, humans), by name;
    #: ``analyse`` reads them here (``ctx.experiment.reference_values``) and puts them into its Dataset
    reference_values: dict[str, Any] = field(default_factory=dict)


def missing_data(exp: Experiment) -> str | None:
    """The one-line reason ``exp`` cannot run because a dataset it reads is absent, or ``None``."""
    from ..data.registry import DATASETS, status

    for name in exp.datasets:
        found = status(name)
        if found["present"] < found["n_files"]:
            return (f"dataset {name!r} is not on this machine ({found['present']} of {found['n_files']} files); "
                    f"get it from {DATASETS[name].source} and set NEUROMETARL_DATA (or --data-dir), "
                    f"see `neurometarl datasets`")
    return None


@dataclass
class Context:
    """What an experiment's ``analyse`` gets: its subjects per variant (one per seed), the seed, the output
    folder and the sizes to use (the experiment's declared ``sizes`` with any overrides)."""

    experiment: Experiment
    subjects: dict[str, list[AgentSubject]]
    checkpoints: dict[str, list[Path]]
    seed: int
    out_dir: Path
    sizes: dict[str, int] = field(default_factory=dict)


EXPERIMENTS: dict[str, Experiment] = {}


def register(experiment: Experiment) -> Experiment:
    """Add ``experiment`` to :data:`EXPERIMENTS` under its name (replacing one of the same name) and return it."""
    EXPERIMENTS[experiment.name] = experiment
    return experiment


def checkpoint_dir(root: Path, experiment: str, variant: str, seed: int) -> Path:
    """Folder of one replica's checkpoint: ``root/<experiment>/<variant>/seed<seed>``."""
    return root / experiment / variant / f"seed{seed}"


def shipped_checkpoint(exp: Experiment, variant: str, seed: int, root: Path | None = None) -> Path:
    """Folder of one replica's shipped checkpoint (under ``root``, default :func:`checkpoints_dir`): the
    experiment's own, or another experiment's for a variant it reuses (``exp.reuse``, trained with the same config)."""
    root = checkpoints_dir() if root is None else root
    return root / exp.reuse[variant] / f"seed{seed}" if variant in exp.reuse else checkpoint_dir(root, exp.name, variant, seed)


def replica_config(cfg: TrainConfig, seed: int, scale: float = 1.0) -> TrainConfig:
    """One replica's training config as ``--retrain`` trains it: ``cfg`` with ``seed`` and its episodes
    multiplied by ``scale`` (at least one batch)."""
    return dataclasses.replace(cfg, seed=seed, train_episodes=max(cfg.batch_size, int(cfg.train_episodes * scale)))


def get_checkpoints(exp: Experiment, *, retrain: bool, out_dir: Path, n_seeds: int, progress: bool,
                    scale: float = 1.0, n_workers: int = 1, trained_root: Path | None = None) -> dict[str, list[Path]]:
    """Checkpoint paths per variant: shipped ones, or trained afresh into ``out_dir/checkpoints``.

    ``scale`` multiplies the training episodes (for quick tests of the pipeline); ``n_workers`` trains that
    many seeds at once, each in its own process on one thread (the weights do not depend on it).
    With ``retrain`` each training is run once: variants whose configs differ only in ``snapshots`` (which
    do not change training) share the run that keeps the most, and a variant reused from another
    experiment (``exp.reuse``) takes that experiment's finished run under ``trained_root`` (a results
    folder of ``reproduce --retrain``: ``<experiment>/checkpoints/...``) when its config is the same.
    """
    if not retrain:
        paths = {variant: [shipped_checkpoint(exp, variant, seed) for seed in range(n_seeds)] for variant in exp.train}
        for variant, folders in paths.items():
            for seed, shipped in enumerate(folders):
                if not (shipped / "checkpoint.pt").is_file():
                    raise CheckpointError(f"no shipped checkpoint for {exp.name}/{variant} seed {seed} at {shipped}; "
                                          f"run `neurometarl experiment {exp.name} --retrain`")
        return paths
    wanted = {(variant, seed): replica_config(cfg, seed, scale) for variant, cfg in exp.train.items() for seed in range(n_seeds)}
    runs: dict[TrainConfig, tuple[TrainConfig, Path]] = {}  # training (snapshots aside) -> (config, folder) that runs it
    for (variant, seed), cfg in sorted(wanted.items(), key=lambda item: -item[1].snapshots):
        training = dataclasses.replace(cfg, snapshots=0)
        if training not in runs:
            elsewhere = None
            if variant in exp.reuse and trained_root is not None:
                other, other_variant = exp.reuse[variant].split("/")
                elsewhere = checkpoint_dir(trained_root / other / "checkpoints", other, other_variant, seed)
            runs[training] = (cfg, elsewhere if elsewhere is not None and _finished(elsewhere, cfg, same_config=True)
                              else checkpoint_dir(out_dir / "checkpoints", exp.name, variant, seed))
    jobs = [(cfg, target) for cfg, target in runs.values() if not _finished(target, cfg)]
    train_all(jobs, n_workers=n_workers, progress=progress, desc=f"train {exp.name}")
    return {variant: [runs[dataclasses.replace(wanted[variant, seed], snapshots=0)][1] for seed in range(n_seeds)]
            for variant in exp.train}


def _finished(folder: Path, cfg: TrainConfig, same_config: bool = False) -> bool:
    """Whether ``folder`` holds a run trained to the end of ``cfg``'s budget (and from ``cfg`` itself, if asked)."""
    if not (folder / "checkpoint.pt").is_file():
        return False
    ckpt = load_checkpoint(folder)
    return ckpt.iteration == cfg.n_iterations and (not same_config or ckpt.config == cfg)


def train_all(jobs: list[tuple[TrainConfig, Path]], *, n_workers: int = 1, progress: bool = True,
              desc: str = "train") -> None:
    """Train (or resume) every ``(config, folder)`` of ``jobs``: in this process one after another, or in
    ``n_workers`` processes at once (one bar over the runs). A run's weights are the same either way.
    The processes are spawned, so a script calling this with ``n_workers > 1`` needs the usual
    ``if __name__ == "__main__":`` guard."""
    if n_workers < 1:
        raise ConfigError(f"n_workers must be >= 1, got {n_workers}")
    if n_workers == 1 or len(jobs) <= 1:
        for cfg, target in jobs:
            train(cfg, target, resume=True, progress=progress)
        return
    # spawned, not forked: a fork of a process that has used torch's thread pools can hang
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(n_workers, len(jobs)), mp_context=context) as pool:
        futures = [pool.submit(_train_run, cfg, target) for cfg, target in jobs]
        try:
            for future in progress_bar(as_completed(futures), desc=f"{desc} ({min(n_workers, len(jobs))} processes)",
                                       total=len(jobs), unit="run", show=progress):
                future.result()  # a run's error (e.g. a diverged loss) stops the rest
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise


def _train_run(cfg: TrainConfig, target: Path) -> None:
    train(cfg, target, resume=True, progress=False)


def training_points(checkpoint: Path) -> list[tuple[float, AgentSubject]]:
    """(fraction of training, subject) for the untrained network, every weight snapshot
    (``TrainConfig.snapshots``) and the final weights of the run in ``checkpoint``."""
    ckpt = load_checkpoint(checkpoint)
    cfg = ckpt.config
    points = [(0.0, AgentSubject(build_agent(cfg), cfg.gamma, name="untrained"))]
    for path in sorted((Path(checkpoint) / "snapshots").glob("iter*.pt")):
        snap = load_checkpoint(path)
        if snap.iteration < ckpt.iteration:
            points.append((snap.iteration / cfg.n_iterations, AgentSubject(snap.agent, cfg.gamma, name=str(path))))
    points.append((ckpt.iteration / cfg.n_iterations, AgentSubject.from_checkpoint(checkpoint)))
    return points


def save_numbers(out_dir: Path, numbers: xr.Dataset) -> Path:
    """Write an analysis's numbers, a labelled ``xarray.Dataset``, as ``numbers.nc``; every variable (and
    non-index coordinate) needs ``long_name`` and ``units``."""
    if not isinstance(numbers, xr.Dataset):
        raise ConfigError(f"an experiment's analyse must return a labelled xarray.Dataset, got {type(numbers).__name__}")
    unlabelled = [name for name, var in numbers.variables.items() if name not in numbers.dims
                  and not {"long_name", "units"} <= set(var.attrs)]
    if unlabelled:
        raise ConfigError(f"the numbers' variables {unlabelled} lack long_name or units")
    with io.atomic_path(out_dir / "numbers.nc") as tmp:
        numbers.to_netcdf(tmp, engine="netcdf4")
    return out_dir / "numbers.nc"


def load_numbers(out_dir: Path) -> xr.Dataset:
    """An experiment's saved numbers (``numbers.nc``); raises FileNotFoundError when the folder has none."""
    if not (out_dir / "numbers.nc").is_file():
        raise FileNotFoundError(out_dir / "numbers.nc")
    with xr.open_dataset(out_dir / "numbers.nc", engine="netcdf4") as ds:
        return ds.load()


def write_json(path: Path, obj) -> None:
    """Write ``obj`` as JSON, numpy scalars and arrays and paths converted to plain values."""
    io.write_json(path, obj, default=_jsonable)


def _jsonable(x):
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, Path):
        return str(x)
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def reference_table(title: str, columns: list[str], rows: dict[str, list]) -> dict:
    """One table of the report's reference rows: ``rows`` maps a label (who: monkeys, the paper's model,
    ours) to its values under ``columns``."""
    return {"title": title, "columns": columns, "rows": [(label, values) for label, values in rows.items()]}


def nanmean(values) -> float:
    """Mean ignoring NaN, as a float."""
    return float(np.nanmean(np.asarray(values, dtype=float)))


def mean_sem(values) -> tuple[float, float]:
    """Mean and standard error across replicas (seeds)."""
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0
