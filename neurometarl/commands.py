"""Core sub-commands: ``train``, ``record``, ``figure``, ``reproduce`` (``tasks``: :mod:`neurometarl.tasks.commands`).

Contract (kept stable for outside scripts):

* ``neurometarl tasks`` — one protocol a line: name, then description.
* ``neurometarl train TASK --seed N --out DIR`` — writes ``DIR/checkpoint.pt``, ``config.json``,
  ``metrics.csv``, ``provenance.json`` (and ``evaluation.json``).
* ``neurometarl record SUBJECT --task TASK --episodes N --seed N --out FILE.nc`` — SUBJECT is a
  checkpoint path, a baseline name (``bayes-optimal``, ``thompson``, ``ucb``, ``random``) or a
  behavioural model's name played with ``--param`` values (``rw``: alpha, beta, q0; defaults 0.3, 5, 0.5).
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import re
import time
from pathlib import Path

from .errors import CheckpointError, ConfigError


def add_commands(subparsers) -> None:
    """Declare the core commands:

    ``train TASK --out DIR`` (``--resume``, ``--quiet``, one option per :class:`TrainConfig` field);
    ``record SUBJECT --task TASK --out FILE.nc`` (``--episodes``, ``--seed``, ``--param KEY=VALUE``, ``--device``,
    ``--quiet``); ``figure NAME [INPUTS ...]`` (``--results``, ``--out``); ``reproduce`` (``--out``, ``--only``,
    ``--retrain``, ``--force``, ``--seed``, ``--quiet``).
    """
    from .agents import TrainConfig
    from .cli import count

    p = subparsers.add_parser("train",
                              formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("task", help="task protocol (see `neurometarl tasks`)")
    p.add_argument("--out", required=True, help="output folder for checkpoint.pt, config.json, metrics.csv")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_dataclass_arguments(p, TrainConfig, skip={"task"})
    p.set_defaults(func=_train)

    p = subparsers.add_parser("record")
    p.add_argument("subject", help="checkpoint path (file or folder), baseline name (bayes-optimal, thompson, ucb, random) "
                                      "or behavioural model name (rw, ...; see `neurometarl models`)")
    p.add_argument("--task", required=True, help="task protocol (see `neurometarl tasks`)")
    p.add_argument("--n-episodes", "--episodes", dest="n_episodes", type=count(1), default=300,
                   help="number of test episodes (record_session's n_episodes; --episodes is the same option)")
    p.add_argument("--seed", type=count(0), default=0, help="seed for episodes and choices")
    p.add_argument("--out", required=True, help="output netCDF file")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="baseline or model parameter, e.g. --param alpha=0.2 (repeatable)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_record)

    p = subparsers.add_parser("figure")
    p.add_argument("name", help="an experiment name (redraw from its results folder) or 'regret' (plot recordings)")
    p.add_argument("inputs", nargs="*", help="for 'regret': recording files (.nc)")
    p.add_argument("--results", default=None, help="experiment results folder (default results/NAME)")
    p.add_argument("--out", default=None, help="for 'regret': output path stem (writes .png and .pdf)")
    p.set_defaults(func=_figure)

    p = subparsers.add_parser("reproduce")
    p.add_argument("--out", default="results", help="results folder")
    p.add_argument("--only", nargs="+", action="extend", default=None, metavar="NAME",
                   help="run only these experiments: --only fig1 sim2, --only fig1,sim2 or --only fig1 --only sim2")
    p.add_argument("--retrain", action="store_true", help="train every agent from scratch")
    p.add_argument("--force", action="store_true",
                   help="re-run experiments whose folder already holds a finished run with the same configuration")
    p.add_argument("--seed", type=count(0), default=0, help="seed for the test sessions")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_reproduce)


def add_dataclass_arguments(parser: argparse.ArgumentParser, cls, skip=()) -> None:
    """One ``--field-name`` option per dataclass field, typed by its default, documented by its comment."""
    docs = dict(re.findall(r"^\s+(\w+): [^=]+=.*?#\s*(.+)$", inspect.getsource(cls), flags=re.M))
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        if isinstance(f.default, bool):
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=f.default, help=docs.get(f.name))
        else:
            parser.add_argument(flag, dest=f.name, type=type(f.default), default=f.default, help=docs.get(f.name))


def _train(args) -> int:
    from .agents import TrainConfig, train

    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig) if f.name != "task"}
    cfg = TrainConfig(task=args.task, **values)
    result = train(cfg, args.out, resume=args.resume, progress=not args.quiet)
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
    print(f"checkpoint: {Path(args.out) / 'checkpoint.pt'}")
    return 0


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


def _record(args) -> int:
    from .lab import record_session, save_recording

    subject = make_subject(args.subject, args.param, args.device)
    ds = record_session(subject, args.task, args.n_episodes, args.seed, device=args.device, progress=not args.quiet)
    path = save_recording(ds, args.out)
    print(f"recorded {args.n_episodes} episodes of {args.task} by {subject.name}: "
          f"mean reward/trial {float(ds.reward.mean()):.4f} -> {path}")
    return 0


def _figure(args) -> int:
    import matplotlib.pyplot as plt

    from .figures.style import save_figure, use_style

    if args.name == "regret":
        from .analysis.bandits import regret_curve
        from .figures.bandits import plot_regret
        import xarray as xr

        from .lab import load_recording

        if not args.inputs or not args.out:
            raise ConfigError("`figure regret` needs recording files and --out STEM")
        curves = {}
        for path in args.inputs:
            ds = load_recording(path)
            subject = str(ds.attrs["subject"])  # a baseline's name, or a checkpoint's path (then the file names it)
            label = Path(path).stem if "/" in subject or subject.endswith(".pt") else f"{subject} ({Path(path).stem})"
            curves[label] = regret_curve(ds).to_dataarray("estimate")
        regret = xr.concat(list(curves.values()), "player").assign_coords(player=list(curves))
        with use_style():
            fig, ax = plt.subplots(figsize=(5, 3.5))
            plot_regret(regret, ax=ax)
            paths = save_figure(fig, args.out)
    else:
        from .experiments.base import load_numbers
        from .experiments.catalogue import get_experiment

        exp = get_experiment(args.name)
        results = Path(args.results or f"results/{args.name}")
        try:
            numbers = load_numbers(results)
        except FileNotFoundError:
            raise ConfigError(f"no numbers.nc in {results}; run `neurometarl experiment {args.name}` first") from None
        except (ValueError, OSError) as err:
            raise ConfigError(f"the saved numbers in {results} are unreadable ({err}); run `neurometarl experiment "
                              f"{args.name} --out {results}` again") from None
        paths = exp.plot(numbers, results)
    print("\n".join(str(p) for p in paths))
    return 0


def _reproduce(args) -> int:
    from .experiments.base import EXPERIMENTS, get_checkpoints, missing_data
    from .experiments.catalogue import get_experiment
    from .experiments.runner import run_experiment
    from .report import checkpoint_hashes, claim_line, finished_stage, stage_config, write_report, write_stage

    names = [n for item in args.only for n in item.split(",") if n] if args.only else list(EXPERIMENTS)
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
        card = run_experiment(name, out, retrain=args.retrain, seed=args.seed, progress=not args.quiet)
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
