"""Training throughput on CPU vs GPU: batched A2C on the correlated bandit, env steps per second.

    python benchmarks/bench_device.py                              # CPU, and CUDA when torch sees a GPU
    python benchmarks/bench_device.py --batch-sizes 128 1024 --iterations 40

Each arm trains the default 48-unit LSTM with the same trainer code for ``--iterations`` updates of
``batch_size`` episodes (100 trials each) and reports env steps per second, measured after the first
``--warmup`` updates (CUDA start-up and allocator warm-up excluded; the same rule on CPU). The GPU's
advantage grows with the batch: one update steps every episode of the batch in lockstep.
"""

from __future__ import annotations

import argparse
import json

import torch

from neurometarl.agents import TrainConfig, train


def throughput(metrics, warmup: int) -> float:
    """Env steps per second between update ``warmup`` and the last one."""
    k = min(warmup, len(metrics) - 2)
    steps = metrics["env_steps"].iloc[-1] - metrics["env_steps"].iloc[k]
    return float(steps / (metrics["elapsed_s"].iloc[-1] - metrics["elapsed_s"].iloc[k]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 1024], help="episodes per update")
    parser.add_argument("--iterations", type=int, default=30, help="updates per arm")
    parser.add_argument("--warmup", type=int, default=3, help="updates left out of the timing")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    results = []
    for batch_size in args.batch_sizes:
        for device in devices:
            cfg = TrainConfig(task="bandit-correlated", batch_size=batch_size, train_episodes=batch_size * args.iterations,
                              eval_episodes=0, device=device, n_threads=args.threads)
            metrics = train(cfg, progress=False).metrics
            results.append({"device": device, "batch_size": batch_size, "iterations": args.iterations,
                            "env_steps_per_s": round(throughput(metrics, args.warmup))})
            print(f"{device:5} batch {batch_size:>5}: {results[-1]['env_steps_per_s']:>12,} env steps/s", flush=True)
    if "cuda" in devices:
        name = torch.cuda.get_device_name()
        for batch_size in args.batch_sizes:
            cpu, gpu = (r["env_steps_per_s"] for r in results if r["batch_size"] == batch_size)
            print(f"batch {batch_size}: GPU / CPU = {gpu / cpu:.1f}x ({name})")
    else:
        print("no CUDA device: CPU only")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
