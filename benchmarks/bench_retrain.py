"""Retraining an experiment's seeds: one process after another vs ``--n-workers N`` processes, in one run.

    python benchmarks/bench_retrain.py                              # fig1's 8 runs at 10 % of their budget
    python benchmarks/bench_retrain.py --experiment sim6 --scale 0.05 --workers 1 2

Both arms train the same runs (the experiment's configs, every seed, episodes × ``--scale``) with
:func:`neurometarl.experiments.base.train_all` into fresh folders, the way ``neurometarl experiment NAME
--retrain --n-workers N`` does; the wall time includes starting the worker processes (each imports torch).
The weights must not depend on the number of processes: every run's checkpoint is compared tensor by
tensor with the one-process arm's. Run it with nothing else on the machine: the load average (1 min)
before and after each arm is printed beside its time.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch

from neurometarl.agents import load_checkpoint
from neurometarl.experiments.base import replica_config, train_all
from neurometarl.experiments.catalogue import get_experiment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--experiment", default="fig1")
    parser.add_argument("--scale", type=float, default=0.1, help="fraction of each run's training episodes")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    exp = get_experiment(args.experiment)
    runs = [replica_config(cfg, seed, args.scale) for cfg in exp.train.values() for seed in range(exp.n_seeds)]
    episodes = sum(cfg.train_episodes for cfg in runs)
    print(f"retrain {exp.name}: {len(runs)} runs, {episodes:,} training episodes in all (scale {args.scale}); "
          f"{os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        walls = {}
        for n in args.workers:
            folders = [Path(tmp) / f"w{n}" / f"run{i}" for i in range(len(runs))]
            load = os.getloadavg()[0]
            started = time.perf_counter()
            train_all(list(zip(runs, folders)), n_workers=n, progress=False)
            walls[n] = time.perf_counter() - started
            print(f"{n} process(es): {walls[n]:7.1f} s wall (load {load:.2f} -> {os.getloadavg()[0]:.2f})", flush=True)
        first = args.workers[0]
        same = all(
            all(torch.equal(a, b) for a, b in zip(
                load_checkpoint(Path(tmp) / f"w{first}" / f"run{i}" / "checkpoint.pt").agent.state_dict().values(),
                load_checkpoint(Path(tmp) / f"w{n}" / f"run{i}" / "checkpoint.pt").agent.state_dict().values()))
            for n in args.workers[1:] for i in range(len(runs)))
        for n in args.workers[1:]:
            print(f"speed-up {first} -> {n} processes: {walls[first] / walls[n]:.2f}x")
        print(f"identical weights in every arm: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
