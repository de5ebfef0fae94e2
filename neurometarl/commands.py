"""Core sub-commands: ``train``, ``record``, ``figure``, ``reproduce`` (``tasks``: :mod:`neurometarl.tasks.commands`),
each a typed config read by :mod:`neurometarl.cli`.

Contract (kept stable for outside scripts):

* ``neurometarl tasks`` — one protocol a line: name, then description.
* ``neurometarl train TASK --seed N --out DIR`` — writes ``DIR/checkpoint.pt``, ``config.json``,
  ``metrics.csv``, ``provenance.json`` (and ``evaluation.json``).
* ``neurometarl record SUBJECT --task TASK --n-episodes N --seed N --out FILE.nc`` (``--episodes`` is an alias) — SUBJECT is a
  checkpoint path, a baseline name (``bayes-optimal``, ``thompson``, ``ucb``, ``random``) or a
  behavioural model's name played with ``--param`` values (``rw``: alpha, beta, q0; defaults 0.3, 5, 0.5).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from tyro.conf import Positional, UseAppendAction, arg

from .agents import TrainConfig
from .cli import DataDir, Quiet, at_least, described
from .errors import CheckpointError, ConfigError


@dataclass(frozen=True)
class TrainOptions(TrainConfig):
    """:class:`TrainConfig`'s fields as ``train`` options, unchecked until :meth:`Train.check` builds the
    config (tyro would report a ``__post_init__`` error in a box; the CLI reports it in one line)."""

    def __post_init__(self):
        pass


@dataclass(frozen=True)
class Train:
    """``train TASK --out DIR``: one option per :class:`TrainConfig` field, plus ``--resume`` and ``--quiet``."""

    options: Annotated[TrainOptions, arg(name="")]  # the training settings (their options carry no prefix)
    out: str  # output folder for checkpoint.pt, config.json, metrics.csv
    resume: bool = False  # continue an interrupted run in --out
    quiet: Quiet = False

    @functools.cached_property
    def config(self) -> TrainConfig:
        """The options as a checked :class:`TrainConfig` (built once)."""
        return TrainConfig(**dataclasses.asdict(self.options))

    @property
    def device(self) -> str:
        """The training device, for the CLI's device check."""
        return self.options.device

    def check(self) -> None:
        """Check the training settings (:class:`TrainConfig` raises on a bad one)."""
        self.config  # building it runs TrainConfig's checks

    def run(self) -> int:
        """Train, print the last training and frozen-test rewards, and return 0."""
        from .agents import train

        cfg = self.config
        result = train(cfg, self.out, resume=self.resume, progress=not self.quiet)
        last = result.metrics.iloc[-1]
        print(f"trained {cfg.task} seed {cfg.seed}: {int(last.episodes)} episodes in {last.elapsed_s:.1f} s; "
              f"last training reward/trial {last.reward_per_trial:.3f}")
        ev = result.evaluation
        if ev:
            line = f"frozen test ({ev['episodes']} episodes): agent {ev['agent_reward_per_trial']:.4f} reward/trial"
            if "ratio_to_bayes_optimal" in ev:
                line += (f"; Bayes-optimal {ev['bayes_optimal_reward_per_trial']:.4f}; "
                         f"ratio {ev['ratio_to_bayes_optimal']:.3f}")
            print(line)
        print(f"checkpoint: {Path(self.out) / 'checkpoint.pt'}")
        return 0


@dataclass(frozen=True)
class Record:
    """``record SUBJECT --task TASK --out FILE.nc``: a frozen session of a checkpoint, baseline or model."""

    subject: Annotated[Positional[str], arg(metavar="SUBJECT")]  # checkpoint path (file or folder), baseline name (bayes-optimal, thompson, ucb, random) or behavioural model name (rw, ...; see `neurometarl models`)
    task: str  # task protocol (see `neurometarl tasks`)
    out: str  # output netCDF file
    n_episodes: Annotated[int, arg(aliases=("--episodes",))] = 300  # number of test episodes (record_session's n_episodes; --episodes is the same option)
    seed: int = 0  # seed for episodes and choices
    param: Annotated[UseAppendAction[tuple[str, ...]], arg(metavar="KEY=VALUE")] = ()  # baseline or model parameter, e.g. --param alpha=0.2 (repeatable)
    device: str = "cpu"  # cpu or cuda
    quiet: Quiet = False

    def check(self) -> None:
        """Reject option values out of range (the CLI calls this after parsing)."""
        at_least(self, n_episodes=1, seed=0)

    def run(self) -> int:
        """Record the session and save it as netCDF."""
        from .lab import record_session, save_recording

        subject = make_subject(self.subject, list(self.param), self.device)
        ds = record_session(subject, self.task, self.n_episodes, self.seed, device=self.device, progress=not self.quiet)
        path = save_recording(ds, self.out)
        print(f"recorded {self.n_episodes} episodes of {self.task} by {subject.name}: "
              f"mean reward/trial {float(ds.reward.mean()):.4f} -> {path}")
        return 0


@dataclass(frozen=True)
class Figure:
    """``figure NAME [INPUTS ...]``: redraw an experiment's figures, or plot recordings' regret."""

    name: Annotated[Positional[str], arg(metavar="NAME")]  # an experiment name (redraw from its results folder) or 'regret' (plot recordings)
    inputs: Annotated[Positional[tuple[str, ...]], arg(metavar="INPUTS")] = ()  # for 'regret': recording files (.nc)
    results: Annotated[str | None, described("results/NAME", "DIR")] = None  # experiment results folder
    out: Annotated[str | None, arg(metavar="STEM")] = None  # for 'regret': output path stem (writes .png and .pdf)

    def run(self) -> int:
        """Draw and print the paths written."""
        paths = self._regret() if self.name == "regret" else self._experiment()
        print("\n".join(str(p) for p in paths))
        return 0

    def _regret(self) -> list:
        import matplotlib.pyplot as plt
        import xarray as xr

        from .analysis.bandits import regret_curve
        from .figures.bandits import plot_regret
        from .figures.style import save_figure, use_style
        from .lab import load_recording

        if not self.inputs or not self.out:
            raise ConfigError("`figure regret` needs recording files and --out STEM")
        curves = {}
        for path in self.inputs:
            ds = load_recording(path)
            subject = str(ds.attrs["subject"])  # a baseline's name, or a checkpoint's path (then the file names it)
            label = Path(path).stem if "/" in subject or subject.endswith(".pt") else f"{subject} ({Path(path).stem})"
            curves[label] = regret_curve(ds).to_dataarray("estimate")
        regret = xr.concat(list(curves.values()), "player").assign_coords(player=list(curves))
        with use_style():
            fig, ax = plt.subplots(figsize=(5, 3.5))
            plot_regret(regret, ax=ax)
            return list(save_figure(fig, self.out))

    def _experiment(self) -> list:
        from .experiments.base import load_numbers
        from .experiments.catalogue import get_experiment

        exp = get_experiment(self.name)
        results = Path(self.results or f"results/{self.name}")
        try:
            numbers = load_numbers(results)
        except FileNotFoundError:
            raise ConfigError(f"no numbers.nc in {results}; run `neurometarl experiment {self.name}` first") from None
        except (ValueError, OSError) as err:
            raise ConfigError(f"the saved numbers in {results} are unreadable ({err}); run `neurometarl experiment "
                              f"{self.name} --out {results}` again") from None
        return list(exp.plot(numbers, results))


@dataclass(frozen=True)
class Reproduce:
    """``reproduce``: every paper experiment from the shipped checkpoints (or retrained), then the report."""

    out: str = "results"  # results folder
    only: Annotated[UseAppendAction[tuple[str, ...]], described("all", "NAME")] = ()  # run only these experiments: --only fig1,sim2 or --only fig1 --only sim2
    retrain: bool = False  # train every agent from scratch
    n_workers: int = 1  # with --retrain: seeds trained at once, one process each (the weights do not depend on it)
    force: bool = False  # re-run experiments whose folder already holds a finished run with the same configuration
    seed: int = 0  # seed for the test sessions
    quiet: Quiet = False
    data_dir: DataDir = None

    def check(self) -> None:
        """Reject option values out of range (the CLI calls this after parsing)."""
        at_least(self, seed=0, n_workers=1)

    def run(self) -> int:
        """Run the stages (reusing finished ones), write the report and print the claims that pass."""
        return _reproduce(self)


def make_subject(name: str, params: list[str] | dict | None = None, device: str = "cpu"):
    """A lab subject from a checkpoint path, a baseline name or a behavioural model's name (played
    through ``make_baseline``), with ``KEY=VALUE`` parameters."""
    from .agents import AgentSubject
    from .models import BASELINES, MODELS, make_baseline

    if name in BASELINES or name in MODELS:
        if isinstance(params, dict):
            return make_baseline(name, **params)
        kv = {}
        for item in params or []:
            key, sep, value = item.partition("=")
            if not sep:
                raise ConfigError(f"--param expects KEY=VALUE, got {item!r}")
            kv[key] = _parse_value(value)
        try:
            return make_baseline(name, **kv)
        except (TypeError, ValueError, ConfigError) as err:
            why = err if isinstance(err, ConfigError) or name in MODELS else \
                f"it takes {inspect.signature(BASELINES[name]) or '(no parameters)'}"
            raise ConfigError(f"bad --param for {'baseline' if name in BASELINES else 'model'} {name!r} ({', '.join(f'{k}={v!r}' for k, v in kv.items())}); {why}") from None
    if params:
        raise ConfigError("--param applies to baselines and models only, not checkpoints")
    if not Path(name).exists():
        raise ConfigError(f"{name!r} is neither a checkpoint path nor a baseline ({', '.join(BASELINES)}) "
                          f"or behavioural model ({', '.join(MODELS)})")
    return AgentSubject.from_checkpoint(name, device)


def _parse_value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _reproduce(args: Reproduce) -> int:
    from .experiments.base import EXPERIMENTS, get_checkpoints, missing_data
    from .experiments.catalogue import get_experiment
    from .experiments.runner import run_experiment
    from .report import checkpoint_hashes, claim_line, finished_stage, stage_config, write_report, write_stage

    names = [n for item in args.only for n in item.split(",") if n] or list(EXPERIMENTS)
    for name in names:
        get_experiment(name)  # unknown names fail before any work
    started = time.perf_counter()
    results = Path(args.out)
    skipped, reused = {}, []
    for i, name in enumerate(names, 1):
        exp, out = get_experiment(name), results / name
        stage = f"[{i}/{len(names)}] {name}"
        hashes = None
        if (reason := missing_data(exp)) is not None:  # other people's data the user has not placed yet
            print(f"{stage}: [NOT RUN] {reason}", flush=True)
            skipped[name] = f"NOT RUN: {reason}"
            continue
        if not args.retrain:
            try:
                hashes = checkpoint_hashes(get_checkpoints(exp, retrain=False, out_dir=out, n_seeds=exp.n_seeds, progress=False))
            except CheckpointError as err:  # an experiment whose checkpoints are not shipped yet
                print(f"{stage}: [NOT RUN] {err}", flush=True)
                skipped[name] = f"NOT RUN: no shipped checkpoints ({err})"
                continue
        config = stage_config(exp, retrain=args.retrain, seed=args.seed, n_seeds=exp.n_seeds, hashes=hashes)
        if not args.force and finished_stage(out, config):
            card = json.loads((out / "scorecard.json").read_text())
            print(f"{stage}: reusing the finished run in {out}/ ({_n_pass(card)}; --force re-runs)", flush=True)
            reused.append(name)
            continue
        print(f"{stage}: {exp.title}", flush=True)
        stage_started = time.perf_counter()
        card = run_experiment(name, out, retrain=args.retrain, seed=args.seed, progress=not args.quiet,
                              n_workers=args.n_workers, trained_root=results)  # a run an earlier stage trained is not trained again
        elapsed = time.perf_counter() - stage_started
        write_stage(out, config, card, elapsed)
        for c in card["claims"]:
            print(f"    {claim_line(c)}")
        print(f"{stage}: done in {elapsed:.0f} s ({_n_pass(card)})", flush=True)
    print(f"[report] writing {results / 'report.html'}", flush=True)
    done = [n for n in names if n not in skipped]
    path = write_report(results, done, skipped=skipped, reused=reused, elapsed_s=time.perf_counter() - started)
    cards = [json.loads((results / n / "scorecard.json").read_text()) for n in done]
    n_claims = sum(len(c["claims"]) for c in cards)
    n_pass = sum(cl["pass"] for c in cards for cl in c["claims"])
    print(f"{n_pass}/{n_claims} claims pass; report {path} ({time.perf_counter() - started:.0f} s)")
    if skipped:
        print(f"NOT RUN: {', '.join(skipped)} (reasons above and in the report)")
    return 0


def _n_pass(card: dict) -> str:
    return f"{sum(c['pass'] for c in card['claims'])}/{len(card['claims'])} claims pass"
