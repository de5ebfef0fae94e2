"""Sweeps: a grid of (task, seed, training options) trained, recorded and analysed as Dask tasks, with
results landing atomically in one folder per run, and group analyses over the replicas' recordings."""

from .config import RunSpec, SweepConfig, load_sweep_config
from .group import group_fit, group_summary, open_sweep
from .run import finished_runs, run_one, run_sweep

__all__ = ["SweepConfig", "RunSpec", "load_sweep_config", "run_one", "run_sweep", "finished_runs",
           "open_sweep", "group_summary", "group_fit"]
