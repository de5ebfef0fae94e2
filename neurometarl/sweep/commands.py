"""``neurometarl sweep CONFIG``: a grid of training runs as Dask tasks, then group analyses."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from tyro.conf import Positional, arg

from ..cli import DataDir, at_least, described
from ..io import write_json


@dataclass(frozen=True)
class Sweep:
    """``sweep CONFIG``: every run of the grid as a Dask task, then the group analyses."""

    config: Annotated[Positional[str], arg(metavar="CONFIG")]  # sweep config (.toml or .yaml); see docs/sweep.md
    out: Annotated[str | None, described("results/sweep-<config name>", "DIR")] = None  # output folder
    scheduler: Annotated[str | None, described("start a LocalCluster", "ADDRESS")] = None  # an existing Dask scheduler, e.g. tcp://host:8786
    n_workers: Annotated[int | None, described("the cores, at most the runs", "N", "--workers")] = None  # LocalCluster worker processes (--workers is the same option)
    device: Annotated[str | None, described("the config's, else cpu", "DEVICE")] = None  # cpu or cuda for every run
    group: bool = True  # run the group analyses after the runs (--no-group skips them)
    fit: Annotated[str | None, described("none", "MODEL")] = None  # also fit behavioural MODEL (e.g. rw) to every replica hierarchically (empirical Bayes)
    dry_run: bool = False  # list the runs and exit
    data_dir: DataDir = None

    def check(self) -> None:
        """Reject option values out of range (the CLI calls this after parsing)."""
        at_least(self, n_workers=1)

    def run(self) -> int:
        """Validate the config, run every run (a LocalCluster unless ``--scheduler``), then group them."""
        from .config import load_sweep_config
        from .run import run_sweep

        config = load_sweep_config(self.config)
        runs = config.runs(device=self.device)
        out = Path(self.out or f"results/sweep-{Path(self.config).stem}")
        if self.dry_run:
            print("\n".join(r.run_id for r in runs))
            return 0
        started = time.perf_counter()
        with _client(self.scheduler, self.n_workers or min(os.cpu_count() or 1, len(runs))) as client:
            print(f"sweep: {len(runs)} runs -> {out}/ on {client.scheduler.address} "
                  f"({len(client.scheduler_info()['workers'])} workers)", flush=True)
            counter = iter(range(1, len(runs) + 1))
            run_sweep(runs, out, client, on_result=lambda r: print(_line(r, next(counter), len(runs)), flush=True))
        print(f"all {len(runs)} runs finished in {out}/ ({time.perf_counter() - started:.1f} s)")
        if self.group:
            _group(config, out, self.fit)
        return 0


@contextlib.contextmanager
def _client(address: str | None, n_workers: int):
    """A Dask client on ``address``, or on a LocalCluster of ``n_workers`` one-thread processes."""
    from distributed import Client, LocalCluster

    if address:
        with Client(address) as client:
            yield client
        return
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield client
        # workers busy exiting torch on a loaded machine outlive the nanny's 4 s grace; being killed then is harmless
        logging.getLogger("distributed.nanny").setLevel(logging.ERROR)


def _line(r: dict, i: int, n: int) -> str:
    test = r["test"]
    line = f"[{i}/{n}] {r['status']:7} {r['run_id']}: test reward/trial {test['agent_reward_per_trial']:.3f}"
    if "bayes_reward_per_trial" in test:
        line += f" (Bayes-optimal {test['bayes_reward_per_trial']:.3f})"
    if r["status"] == "done":
        line += f"; {r['training']['env_steps_per_s']:,} steps/s, {r['wall_s']:.1f} s on pid {r['worker']['pid']}"
    return line


def _group(config, out: Path, model: str | None) -> None:
    from ..errors import NeurometarlError
    from .group import group_fit, group_summary, open_sweep, summary_json

    report = {}
    for task in config.tasks:
        ds = open_sweep(out, task=task)
        summary = group_summary(ds)
        fit = None
        if model:
            try:
                fit = group_fit(ds, model)
            except NeurometarlError as err:  # e.g. a model for another protocol family
                print(f"group fit skipped for {task}: {err}")
        report[task] = summary_json(summary, fit)
        rpt = summary["reward_per_trial"].values
        line = f"group {task}: {rpt.size} replicas, test reward/trial {rpt.mean():.3f} ± {rpt.std(ddof=1) if rpt.size > 1 else 0:.3f}"
        if "fraction_value_units" in summary:
            line += f"; value-coding units {float(summary['fraction_value_units'].mean()):.2f}"
        if fit is not None:
            line += f"; hierarchical {model} fit, group mean " + ", ".join(f"{k} {v:.3f}" for k, v in report[task]["fit"]["group_mean"].items())
        print(line)
    write_json(out / "group.json", report)
    print(f"group analyses: {out / 'group.json'}")
