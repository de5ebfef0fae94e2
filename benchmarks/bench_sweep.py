"""Sweep scaling: the same sweep on 1 and on 2 Dask workers (LocalCluster, one thread each), in one run.

    python benchmarks/bench_sweep.py                                          # benchmarks/sweep-scaling.yaml: 8 runs
    python benchmarks/bench_sweep.py --config benchmarks/sweep-tiny.yaml      # the test's 4 tiny runs
    python benchmarks/bench_sweep.py --workers 1 2 4 --out results.json

For each worker count: start a LocalCluster of one-thread worker processes, import neurometarl and torch
on every worker (start-up, reported apart), then time ``run_sweep`` (train → frozen test session →
analysis → atomic write, every run) into a fresh folder. The wall time of the sweep is what a user
waits for; the speed-up is (wall on 1 worker) / (wall on n workers). With ``--repeats R`` the worker
counts take turns R times (1, 2, 1, 2, ...) and the shortest wall of each is used. The runs of every worker count must
give the same test results (same seeds, same recordings, whichever worker ran them); that is checked.

On a shared machine the speed-up is bounded by the cores other jobs leave free: the load average
(1 min) before and after each arm is printed with it, and the runs' summed wall and CPU times (equal
CPU, longer wall: the runs waited for a core).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from pathlib import Path

from distributed import Client, LocalCluster

from neurometarl.sweep import load_sweep_config, run_sweep

DEFAULT_CONFIG = Path(__file__).with_name("sweep-scaling.yaml")


def _warm_up():
    """Import what a run needs, so the timed sweep does not pay each worker's start-up."""
    import torch

    import neurometarl.agents  # noqa: F401
    import neurometarl.lab  # noqa: F401
    import neurometarl.models  # noqa: F401

    torch.set_num_threads(1)
    torch.nn.LSTMCell(4, 8)(torch.zeros(1, 4))  # torch's lazy first-call set-up
    return os.getpid()


def time_sweep(runs, n_workers: int) -> dict:
    """Wall time of ``runs`` on a fresh LocalCluster of ``n_workers`` one-thread processes."""
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        client.wait_for_workers(n_workers)
        client.run(_warm_up)
        startup = time.perf_counter() - t0
        with tempfile.TemporaryDirectory() as out:
            t1 = time.perf_counter()
            results = run_sweep(runs, out, client)
            wall = time.perf_counter() - t1
        # workers busy exiting torch on a loaded machine outlive the nanny's 4 s grace; being killed then is harmless
        logging.getLogger("distributed.nanny").setLevel(logging.ERROR)
    assert all(r["status"] == "done" for r in results)
    return {"workers": n_workers, "runs": len(results), "startup_s": round(startup, 2), "wall_s": round(wall, 2),
            "run_s_total": round(sum(r["wall_s"] for r in results), 2),
            "run_cpu_s_total": round(sum(r["cpu_s"] for r in results), 2),
            "pids": len({r["worker"]["pid"] for r in results}),
            "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2),
            "test": {r["run_id"]: r["test"]["agent_reward_per_trial"] for r in results}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="sweep config (.yaml or .toml)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to time, the first is the baseline")
    parser.add_argument("--repeats", type=int, default=1, help="time every worker count this many times, in turns; keep the best")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)
    runs = load_sweep_config(args.config).runs()
    print(f"sweep {os.path.relpath(args.config)}: {len(runs)} runs; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}", flush=True)

    timings = []
    for _ in range(args.repeats):
        for n in args.workers:
            timings.append(time_sweep(runs, n))
            a = timings[-1]
            print(f"{n} worker{'s' if n > 1 else ' '}: {a['wall_s']:7.1f} s wall for {a['runs']} runs "
                  f"(runs' wall {a['run_s_total']:.1f} s, CPU {a['run_cpu_s_total']:.1f} s, on {a['pids']} processes; cluster start {a['startup_s']:.1f} s; "
                  f"load {a['load_before']:.2f} -> {a['load_after']:.2f})", flush=True)
    arms = [min((t for t in timings if t["workers"] == n), key=lambda t: t["wall_s"]) for n in args.workers]
    base = arms[0]
    for a in arms[1:]:
        same = all(t["test"] == base["test"] for t in timings)
        print(f"speed-up {base['workers']} -> {a['workers']} workers: {base['wall_s'] / a['wall_s']:.2f}x "
              f"(ideal {a['workers'] / base['workers']:.0f}x); same test results: {'yes' if same else 'NO'}")
        if not same:
            raise SystemExit("the same runs gave different results on different worker counts")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"config": args.config, "best": arms, "timings": timings}, f, indent=2)
    return arms


if __name__ == "__main__":
    main()
