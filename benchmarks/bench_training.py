"""Training throughput: the sequence-level learning pass vs the step loop, and batched A2C vs one episode at a time.

    python benchmarks/bench_training.py [--plain-budget 120] [--threads 2] [--episodes 128000] [--pass-iterations 40]
    python benchmarks/bench_training.py --quick     # only the learning-pass comparison, 10 iterations an arm

Learning pass (first, always): the same config trained for ``--pass-iterations`` iterations with
``learning_pass="step"`` (the graph built step by step during the rollout) and ``learning_pass="sequence"``
(rollout without a graph, one fused core call over the stored inputs), in alternation (step, sequence,
step, sequence) so both see the same machine load; for the default config (128 whole episodes an
update), the fast config of ``bench_peer_sb3.py`` (128 episodes, unroll 20) and a small one (32
episodes, unroll 25). Reported: env steps/s and wall per
update (one optimizer step) of each, best of the two repeats, and the ratio sequence / step.

Both arms train the same 48-unit LSTM on the correlated bandit with the same trainer code:
* batched: the default config (128 episodes stepped in lockstep per update; ``--episodes`` shortens it,
  annealing over the shorter run);
* plain: ``batch_size=1``, one episode per update at the paper's learning rate 7e-4, the way the
  paper's single-threaded A2C ran, for at most ``--plain-budget`` seconds.

"Time to 0.70" is the wall time until the mean training reward per trial over the last ``window``
episodes first reaches 0.70; the batched agent is then checked on 300 frozen test episodes.
Ratios are batched / plain, measured in this run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time

import numpy as np
import torch

from neurometarl.agents import TrainConfig, evaluate, train


def time_to_reach(metrics, threshold: float, window_episodes: int) -> float:
    """Wall seconds until the rolling mean reward over ``window_episodes`` reaches ``threshold`` (inf if never)."""
    per_iter = int(metrics["episodes"].iloc[0])
    window = max(1, window_episodes // per_iter)
    rolling = metrics["reward_per_trial"].rolling(window).mean()
    hit = np.flatnonzero(rolling.values >= threshold)
    return float(metrics["elapsed_s"].iloc[hit[0]]) if hit.size else math.inf


def steps_per_second(metrics) -> float:
    return float(metrics["env_steps"].iloc[-1] / metrics["elapsed_s"].iloc[-1])


PASS_CONFIGS = {"default (batch 128, whole episodes)": {},
                "a2c-fast (batch 128, unroll 20)": {"unroll": 20, "lr": 3e-2},
                "small (batch 32, unroll 25)": {"batch_size": 32, "unroll": 25, "lr": 5e-3}}


def compare_learning_passes(n_iterations: int, seed: int) -> dict:
    """Env steps/s and wall per update of the step loop and the sequence-level pass on the same configs."""
    results = {}
    for label, options in PASS_CONFIGS.items():
        arms: dict[str, list] = {"step": [], "sequence": []}
        for _ in range(2):
            for learning_pass in arms:
                cfg = TrainConfig(task="bandit-correlated", seed=seed, eval_episodes=0, learning_pass=learning_pass,
                                  n_threads=0, **options)
                cfg = dataclasses.replace(cfg, train_episodes=n_iterations * cfg.batch_size)
                m = train(cfg, progress=False).metrics
                n_updates = len(m) * math.ceil(100 / (cfg.unroll or 100))
                arms[learning_pass].append({"env_steps_per_s": round(steps_per_second(m)),
                                            "wall_per_update_ms": round(1000 * m["elapsed_s"].iloc[-1] / n_updates, 2)})
        best = {k: max(v, key=lambda r: r["env_steps_per_s"]) for k, v in arms.items()}
        results[label] = {**best, "ratio": round(best["sequence"]["env_steps_per_s"] / best["step"]["env_steps_per_s"], 2)}
        print(f"learning pass, {label}: step {best['step']['env_steps_per_s']:,} steps/s "
              f"({best['step']['wall_per_update_ms']} ms/update), sequence {best['sequence']['env_steps_per_s']:,} "
              f"steps/s ({best['sequence']['wall_per_update_ms']} ms/update): {results[label]['ratio']}x", flush=True)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the learning-pass comparison, 10 iterations an arm")
    parser.add_argument("--pass-iterations", type=int, default=None,
                        help="iterations per learning-pass arm (default 40; 10 with --quick)")
    parser.add_argument("--plain-budget", type=float, default=120.0, help="seconds the plain loop may train")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--episodes", type=int, default=TrainConfig.train_episodes,
                        help="batched training episodes (default: the default config's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    results = {"threads": args.threads,
               "learning_pass": compare_learning_passes(args.pass_iterations or (10 if args.quick else 40), args.seed)}
    if not args.quick:
        results.update(compare_batched_and_plain(args))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=2)
    return results


def compare_batched_and_plain(args) -> dict:
    """Batched A2C (the default config) vs one episode an update at the paper's learning rate."""
    batched_cfg = TrainConfig(task="bandit-correlated", seed=args.seed, eval_episodes=0, train_episodes=args.episodes)
    t0 = time.perf_counter()
    batched = train(batched_cfg, progress=False)
    batched_wall = time.perf_counter() - t0
    test = evaluate(batched.agent, batched_cfg, 300, seed=args.seed + 10_000)

    # the plain loop: as many single-episode updates as fit in the budget (estimated from a short probe)
    probe_cfg = dataclasses.replace(batched_cfg, batch_size=1, lr=7e-4, train_episodes=20, anneal_lr=False, entropy_final=-1)
    probe = train(probe_cfg, progress=False)
    per_episode = probe.metrics["elapsed_s"].iloc[-1] / 20
    n_plain = max(20, int(args.plain_budget / per_episode))
    plain_cfg = dataclasses.replace(probe_cfg, train_episodes=n_plain)
    plain = train(plain_cfg, progress=False)

    b_sps, p_sps = steps_per_second(batched.metrics), steps_per_second(plain.metrics)
    b_t, p_t = time_to_reach(batched.metrics, 0.70, 1000), time_to_reach(plain.metrics, 0.70, 1000)
    results = {
        "batched": {"batch_size": batched_cfg.batch_size, "episodes": batched_cfg.train_episodes,
                    "wall_s": round(batched_wall, 1), "env_steps_per_s": round(b_sps),
                    "time_to_0.70_s": round(b_t, 1), "frozen_test_reward_per_trial": round(test["agent_reward_per_trial"], 4),
                    "bayes_optimal_reward_per_trial": round(test["bayes_optimal_reward_per_trial"], 4)},
        "plain": {"batch_size": 1, "episodes": n_plain, "wall_s": round(float(plain.metrics["elapsed_s"].iloc[-1]), 1),
                  "env_steps_per_s": round(p_sps), "time_to_0.70_s": None if math.isinf(p_t) else round(p_t, 1),
                  "final_reward_last_1000_episodes": round(float(plain.metrics["reward_per_trial"].tail(1000).mean()), 4)},
        "throughput_ratio": round(b_sps / p_sps, 1),
    }
    if math.isinf(p_t):
        elapsed = results["plain"]["wall_s"]
        results["time_to_0.70_ratio"] = f"> {elapsed / b_t:.1f} (plain loop did not reach 0.70 in {elapsed:.0f} s)"
    else:
        results["time_to_0.70_ratio"] = round(p_t / b_t, 1)

    print(f"{'':8}{'steps/s':>12}{'time to 0.70':>16}{'episodes':>10}")
    for arm in ("batched", "plain"):
        r = results[arm]
        t = r["time_to_0.70_s"]
        print(f"{arm:8}{r['env_steps_per_s']:>12,}{(f'{t:.1f} s' if t is not None else 'not reached'):>16}{r['episodes']:>10,}")
    print(f"throughput ratio (batched / plain): {results['throughput_ratio']}x")
    print(f"time-to-0.70 ratio (plain / batched): {results['time_to_0.70_ratio']}")
    print(f"batched agent, 300 frozen test episodes: {test['agent_reward_per_trial']:.4f} reward/trial "
          f"(Bayes-optimal {test['bayes_optimal_reward_per_trial']:.4f})")
    return results


if __name__ == "__main__":
    main()
