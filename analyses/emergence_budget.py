"""Budget curve of one emergence condition: is its agent trained to convergence?

    python analyses/emergence_budget.py --variant rnn --factor 2 --workers 2
    python analyses/emergence_budget.py --variant attention --factor 2 --seeds 2

Trains the condition's config (``neurometarl.experiments.emergence.TRAIN``) with ``factor`` times its
episode budget and ``--snapshots`` weight snapshots (each seed in its own process with ``--workers``;
an interrupted run resumes), then plays ``--episodes`` frozen correlated-bandit test episodes at every
snapshot and prints, per training budget reached, the mean over seeds of the expected regret at trial
100, the within-episode gain of the expected reward (trials 51–100 − 1–10, as the emergence claims
measure it), the smallest gain over seeds and the frozen test reward. The table is written to
``OUT/<variant>-budget.csv``. Note that the learning-rate schedule anneals over the whole longer run,
so a snapshot at the shipped budget is not the shipped agent: the shipped agents (trained for the
condition's budget B) are tested on the same episodes, and with ``--factor 2`` the script applies the
convergence rule of docs/emergence.md: converged at B when the 2B agents' mean regret is at least 0.8
× the shipped agents' and their mean gain at most 0.01 above it.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import pandas as pd

from neurometarl.agents import AgentSubject
from neurometarl.experiments.base import shipped_checkpoint, train_all, training_points
from neurometarl.experiments.emergence import EMERGENCE, TEST_TASK, TRAIN, episode_statistics
from neurometarl.lab import record_session


def test(subject, seed: int, n_episodes: int) -> dict:
    """Mean regret at trial 100, gain of the expected reward and expected reward over ``n_episodes``."""
    stats = episode_statistics(record_session(subject, TEST_TASK, n_episodes, seed=seed))
    return {"regret": float(stats["regret"].mean()), "gain": float(stats["gain"].mean()),
            "reward": float(stats["expected_reward"].mean())}


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
    rows = [{"seed": run_cfg.seed, "episodes": round(fraction * cfg.train_episodes), **test(subject, run_cfg.seed, args.episodes)}
            for run_cfg, path in runs for fraction, subject in training_points(path)]
    for s in range(args.seeds):
        shipped = shipped_checkpoint(EMERGENCE, args.variant, s)
        if (shipped / "checkpoint.pt").is_file():
            rows.append({"seed": s, "episodes": "shipped", **test(AgentSubject.from_checkpoint(shipped), s, args.episodes)})
    table = pd.DataFrame(rows).groupby("episodes", sort=False).agg(regret=("regret", "mean"), gain=("gain", "mean"),
                                                                   min_gain=("gain", "min"), reward=("reward", "mean"))
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / f"{args.variant}-budget.csv")
    if args.factor == 2 and "shipped" in table.index:
        final, shipped_row = table.loc[cfg.train_episodes], table.loc["shipped"]
        converged = final["regret"] >= 0.8 * shipped_row["regret"] and final["gain"] <= shipped_row["gain"] + 0.01
        print(f"{args.variant}: 2B regret {final['regret']:.3f} vs shipped {shipped_row['regret']:.3f} (ratio "
              f"{final['regret'] / shipped_row['regret']:.2f}, bound 0.8), gain {final['gain']:+.3f} vs {shipped_row['gain']:+.3f} "
              f"(bound +0.01): {'converged' if converged else 'NOT converged'} at {base.train_episodes:,} episodes")


if __name__ == "__main__":
    main()
