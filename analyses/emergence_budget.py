"""Budget curve of one emergence condition: is its agent trained to convergence?

    python analyses/emergence_budget.py --variant rnn --factor 2 --workers 2
    python analyses/emergence_budget.py --variant attention --factor 2 --seeds 2

Trains the condition's config (``neurometarl.experiments.emergence.TRAIN``) with ``factor`` times its
episode budget and ``--snapshots`` weight snapshots (each seed in its own process with ``--workers``;
an interrupted run resumes), then plays ``--episodes`` frozen correlated-bandit test episodes at every
snapshot and prints, per training budget reached, the mean over seeds of the expected regret at trial
100, the within-episode gain (trials 51–100 − 1–10), the smallest gain over seeds and the frozen
test reward. The table is written to ``OUT/<variant>-budget.csv``. A condition is trained
to convergence at its budget when further training no longer lowers its regret or raises its gain.
Note that the learning-rate schedule anneals over the whole longer run, so a snapshot at the shipped
budget is not the shipped agent.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import pandas as pd

from neurometarl.experiments.base import train_all, training_points
from neurometarl.experiments.emergence import TEST_TASK, TRAIN, learning_curve_summary
from neurometarl.lab import record_session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variant", default="rnn", choices=sorted(TRAIN))
    parser.add_argument("--factor", type=float, default=2.0, help="multiple of the condition's training budget")
    parser.add_argument("--snapshots", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--episodes", type=int, default=300, help="frozen test episodes per seed and snapshot")
    parser.add_argument("--out", default="results/emergence-budget")
    args = parser.parse_args()
    base = TRAIN[args.variant]
    cfg = dataclasses.replace(base, train_episodes=int(base.train_episodes * args.factor), snapshots=args.snapshots,
                              eval_episodes=0)
    out = Path(args.out)
    runs = [(dataclasses.replace(cfg, seed=s), out / args.variant / f"seed{s}") for s in range(args.seeds)]
    started = time.perf_counter()
    train_all(runs, n_workers=args.workers, progress=True, desc=f"train {args.variant} × {args.factor}")
    print(f"trained {args.seeds} seeds of {args.variant} for {cfg.train_episodes:,} episodes "
          f"(shipped budget {base.train_episodes:,}) in {time.perf_counter() - started:.0f} s")
    rows = []
    for run_cfg, path in runs:
        for fraction, subject in training_points(path):
            summary = learning_curve_summary(record_session(subject, TEST_TASK, args.episodes, seed=run_cfg.seed))
            rows.append({"seed": run_cfg.seed, "episodes": round(fraction * cfg.train_episodes),
                         "regret": summary["regret_100"], "gain": summary["gain"], "reward": summary["reward"]})
    table = pd.DataFrame(rows).groupby("episodes").agg(regret=("regret", "mean"), gain=("gain", "mean"),
                                                       min_gain=("gain", "min"), reward=("reward", "mean"))
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / f"{args.variant}-budget.csv")


if __name__ == "__main__":
    main()
