"""Run a sweep's grid as Dask tasks: train → frozen test session → small analysis, one folder per run.

Every run writes into ``OUT/.partial/<run-id>-<token>/`` and, once everything is written, renames that
folder to ``OUT/<run-id>/`` in one ``os.replace``. A run folder therefore exists only when complete:
a killed worker leaves at most a partial folder (never read, removed at the end of the next sweep that
finishes), a re-run skips every run whose folder exists, and two copies of the same run (a task Dask
re-ran after its worker died, two sweeps into one folder) cannot both land: the second rename fails
and its copy is discarded.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from ..io import write_json
from .config import RunSpec

RESULT = "result.json"
RECORDING = "recording.nc"
PARTIAL = ".partial"


def run_one(spec: RunSpec, out: str) -> dict:
    """Train, record and analyse one run into ``out/<run-id>/``; return its ``result.json`` contents.

    Skips the work (``status`` 'skipped') when the run's folder already exists. Runs on a Dask worker
    or in-process; uses one torch thread.
    """
    import torch

    from ..agents import AgentSubject, train
    from ..errors import ConfigError
    from ..lab import record_session, save_recording
    from ..models import make_baseline

    final = Path(out) / spec.run_id
    if (final / RESULT).is_file():
        return {**json.loads((final / RESULT).read_text()), "status": "skipped"}
    torch.set_num_threads(1)
    started, cpu_started = time.perf_counter(), time.process_time()
    partial = Path(out) / PARTIAL / f"{spec.run_id}-{uuid.uuid4().hex[:8]}"
    partial.mkdir(parents=True)
    trained = train(dataclasses.replace(spec.config, n_threads=1), partial, progress=False)
    train_s = time.perf_counter() - started
    test_task = _test_task(spec)
    ds = record_session(AgentSubject(trained.agent, spec.config.gamma, name=spec.run_id), test_task,
                        spec.test_episodes, spec.test_seed, device=spec.config.device,
                        run_id=spec.run_id, sweep_grid=json.dumps(spec.grid, sort_keys=True))
    save_recording(ds, partial / RECORDING)
    last = trained.metrics.iloc[-1]
    result = {
        "run_id": spec.run_id, "task": spec.config.task, "seed": spec.config.seed, "grid": spec.grid,
        "config": dataclasses.asdict(spec.config),
        "training": {"episodes": int(last.episodes), "env_steps": int(last.env_steps), "wall_s": round(train_s, 3),
                     "env_steps_per_s": round(float(last.env_steps) / max(float(last.elapsed_s), 1e-9)),
                     "last_reward_per_trial": float(last.reward_per_trial)},
        "test": {"task": spec.test_task, "episodes": spec.test_episodes, "seed": spec.test_seed,
                 **_analyse(ds, spec, test_task, record_session, make_baseline, ConfigError)},
        "worker": {"host": socket.gethostname(), "pid": os.getpid(), "torch_threads": torch.get_num_threads()},
        "wall_s": round(time.perf_counter() - started, 3),
        "cpu_s": round(time.process_time() - cpu_started, 3),  # CPU time of the worker process during the run
    }
    write_json(partial / RESULT, result)
    try:
        os.replace(partial, final)  # the commit: the run folder appears whole, or not at all
    except OSError:  # another copy of this run landed first (e.g. Dask re-ran it): keep that one
        shutil.rmtree(partial, ignore_errors=True)
        if not (final / RESULT).is_file():
            raise
        return {**json.loads((final / RESULT).read_text()), "status": "skipped"}
    return {**result, "status": "done"}


def _test_task(spec: RunSpec):
    """The test protocol: the training task with the run's task options, or the named test task as it is."""
    from ..tasks import make_task

    if spec.test_task != spec.config.task:
        return spec.test_task
    return make_task(spec.test_task, min(spec.test_episodes, 500), spec.config.device, **spec.config.task_overrides())


def _analyse(ds, spec: RunSpec, test_task, record_session, make_baseline, config_error) -> dict:
    """Mean reward per trial of the agent and of the Bayes-optimal observer on the same episodes (same
    seed), with the final cumulative expected regret of each on bandit protocols."""
    from ..analysis.bandits import expected_regret

    out = {"agent_reward_per_trial": float(ds.reward.mean())}
    try:
        bayes = record_session(make_baseline("bayes-optimal"), test_task, spec.test_episodes, spec.test_seed,
                               device=spec.config.device)
    except config_error:  # no Bayes-optimal observer for this protocol
        return out
    out["bayes_reward_per_trial"] = float(bayes.reward.mean())
    out["ratio_to_bayes"] = out["agent_reward_per_trial"] / out["bayes_reward_per_trial"]
    if "reward_prob" in ds and "arm" in ds["reward_prob"].dims:
        out["agent_final_regret"] = float(expected_regret(ds).isel(trial=-1).mean())
        out["bayes_final_regret"] = float(expected_regret(bayes).isel(trial=-1).mean())
    return out


def finished_runs(out: str | Path) -> dict[str, dict]:
    """``run_id -> result`` of every complete run folder under ``out``."""
    out = Path(out)
    if not out.is_dir():
        return {}
    return {p.parent.name: json.loads(p.read_text()) for p in sorted(out.glob(f"*/{RESULT}"))
            if not p.parent.name.startswith(".")}


def run_sweep(runs: list[RunSpec], out: str | Path, client=None, *,
              on_result: Callable[[dict], None] | None = None) -> list[dict]:
    """Run ``runs`` on the Dask ``client`` (or in this process when ``client`` is None); return their
    results in the order of ``runs``, each with ``status`` 'done' or 'skipped'.

    Finished runs are skipped before anything is scheduled. ``on_result`` is called in this process
    with each result as it lands. If a run fails (or ``on_result`` raises), the runs not yet finished are
    cancelled and the error propagates; finished runs stay, and the next call skips them.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ids = [r.run_id for r in runs]
    if len(set(ids)) != len(ids):
        raise ValueError("run ids repeat; every (task, grid point, seed) must be distinct")
    done = finished_runs(out)
    results = {r.run_id: {**done[r.run_id], "status": "skipped"} for r in runs if r.run_id in done}
    todo = [r for r in runs if r.run_id not in done]
    for r in runs:
        if r.run_id in results and on_result:
            on_result(results[r.run_id])
    if client is None:
        for spec in todo:
            results[spec.run_id] = run_one(spec, str(out))
            if on_result:
                on_result(results[spec.run_id])
    elif todo:
        from distributed import as_completed

        # pure=False: a re-run after a failure must run again, not reuse a cached (failed) key
        futures = [client.submit(run_one, spec, str(out), key=f"neurometarl-run-{spec.run_id}-{uuid.uuid4().hex[:6]}",
                                 pure=False) for spec in todo]
        try:
            for future in as_completed(futures):
                result = future.result()
                results[result["run_id"]] = result
                if on_result:
                    on_result(result)
        finally:
            client.cancel([f for f in futures if not f.done()])
    if all(r.run_id in results for r in runs):
        shutil.rmtree(out / PARTIAL, ignore_errors=True)  # debris of killed workers
    return [results[r.run_id] for r in runs]
