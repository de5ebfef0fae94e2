"""Sweeps on Dask: a killed worker loses nothing finished, a re-run completes every run exactly once,
and the replicas' recordings open lazily as one dataset for group analyses."""

import json
import os
import time
from pathlib import Path

import dask.array
import numpy as np
import pytest
from distributed import Client, LocalCluster

from neurometarl.cli import main
from neurometarl.errors import ConfigError
from neurometarl.lab import load_recording
from neurometarl.sweep import finished_runs, group_fit, group_summary, load_sweep_config, open_sweep, run_sweep

CONFIG = Path(__file__).parents[1] / "benchmarks" / "sweep-tiny.yaml"
RUN_FILES = {"checkpoint.pt", "config.json", "metrics.csv", "provenance.json", "recording.nc", "result.json"}


class StopSweep(Exception):
    """Raised from the result callback: the first sweep dies with one of its workers."""


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield client


def test_killed_worker_loses_nothing_and_rerun_completes_every_run_once(client, tmp_path):
    runs = load_sweep_config(CONFIG).runs()
    assert len(runs) == 4  # 2 tasks x 2 seeds
    out = tmp_path / "sweep"
    killed = {}

    def kill_other_worker_then_stop(result):
        pids = client.run(os.getpid)
        busy = client.processing()
        victim = next(a for a, pid in pids.items() if pid != result["worker"]["pid"])
        assert busy[victim], "the other worker should be mid-run"
        killed.update(address=victim, pid=pids[victim], first=result["run_id"])
        async def die():  # runs on the worker's event loop while its thread trains
            os._exit(1)  # the process dies mid-run, no cleanup

        client.run(die, workers=[victim], wait=False)
        raise StopSweep

    with pytest.raises(StopSweep):
        run_sweep(runs, out, client, on_result=kill_other_worker_then_stop)
    first = finished_runs(out)
    assert killed["first"] in first
    stamps = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (out / killed["first"]).iterdir()}

    results = run_sweep(runs, out, client)  # the re-run

    assert [r["run_id"] for r in results] == [r.run_id for r in runs]
    assert {r["run_id"] for r in results if r["status"] == "skipped"} >= set(first)
    assert any(r["status"] == "done" for r in results)  # the killed run (at least) was redone
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(r.run_id for r in runs)
    for r in runs:
        folder = out / r.run_id
        assert {p.name for p in folder.iterdir()} == RUN_FILES  # no temporary or duplicate files
        saved = json.loads((folder / "result.json").read_text())
        assert saved["run_id"] == r.run_id and saved["seed"] == r.config.seed and saved["task"] == r.config.task
        assert saved["worker"]["torch_threads"] == 1 and 0 < saved["cpu_s"]
        rec = load_recording(folder / "recording.nc")  # complete and valid
        assert rec.attrs["run_id"] == r.run_id and rec.sizes["episode"] == 100 and rec.sizes["trial"] == 50
        assert rec.reward.mean().item() == pytest.approx(saved["test"]["agent_reward_per_trial"], rel=1e-6)
    # a finished run is never rewritten
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (out / killed["first"]).iterdir()} == stamps
    deadline = time.monotonic() + 20  # the nanny replaced the killed worker process
    while killed["pid"] in client.run(os.getpid).values() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert killed["pid"] not in client.run(os.getpid).values()

    # group analyses on the replicas, opened lazily as one Dask-backed dataset
    ds = open_sweep(out, task="bandit-correlated")
    assert isinstance(ds["hidden"].data, dask.array.Array)
    assert ds.sizes["replica"] == 2 and list(ds["seed"].values) == [0, 1]
    summary = group_summary(ds)
    for rid, value in zip(summary["replica"].values, summary["reward_per_trial"].values):
        expected = json.loads((out / rid / "result.json").read_text())["test"]["agent_reward_per_trial"]
        assert value == pytest.approx(expected, rel=1e-5)
    assert summary["value_correlation"].dims == ("replica", "unit")
    assert np.all(np.abs(summary["value_correlation"].values) <= 1 + 1e-6)
    fit = group_fit(ds.isel(episode=slice(0, 10)), "rw")  # hierarchical (empirical Bayes) over replicas
    assert list(fit.params_.index) == list(ds["replica"].values)
    assert fit.params_["alpha"].between(0, 1).all() and len(fit.group_mean_) == 2

    # the command line on the same cluster: everything is skipped, group analyses written
    assert main(["sweep", str(CONFIG), "--out", str(out), "--scheduler", client.scheduler.address]) == 0
    report = json.loads((out / "group.json").read_text())
    assert set(report) == {"bandit-correlated", "bandit-independent"}
    assert len(report["bandit-independent"]["reward_per_trial"]) == 2


def test_config_formats_and_errors(tmp_path, capsys):
    toml = tmp_path / "tiny.toml"
    toml.write_text('tasks = ["bandit-correlated", "bandit-independent"]\nseeds = [0, 1]\n'
                    '[train]\ntrain_episodes = 384\nbatch_size = 64\nn_units = 16\ntask_options = {n_trials = 50}\n'
                    '[test]\nepisodes = 100\n')
    assert load_sweep_config(toml).runs() == load_sweep_config(CONFIG).runs()
    grid = tmp_path / "grid.yaml"
    grid.write_text("tasks: [bandit-correlated]\nseeds: [3]\ngrid:\n  lr: [1e-2, 3.0e-3]\n  n_units: [8, 16]\n")
    runs = load_sweep_config(grid).runs(device="cpu")
    assert [r.run_id for r in runs] == [f"bandit-correlated_lr={lr}_n_units={n}_seed=3"
                                        for lr in ("0.01", "0.003") for n in (8, 16)]
    assert runs[0].config.lr == 0.01 and runs[0].config.eval_episodes == 0 and runs[0].test_task == "bandit-correlated"
    for text, message in [("tasks: [nope]\nseeds: [0]", "unknown task"),
                          ("tasks: [bandit-fixed]\nseeds: [0, 0]", "must not repeat"),
                          ("tasks: [bandit-fixed]\nseeds: [0]\ntrain: {seed: 3}", "per-run"),
                          ("tasks: [bandit-fixed]\nseeds: [0]\ngrid: {lr: 0.1}", "non-empty list"),
                          ("tasks: [bandit-fixed]\nseeds: [0]\ntrain: {lr: -1}", "lr=-1"),
                          ("tasks: [bandit-fixed]\nseeds: [0]\ntest: {trials: 3}", "unknown key"),
                          ("tasks: [bandit-fixed]\nseed: [0]", "unknown key")]:
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        with pytest.raises(ConfigError, match=message):
            load_sweep_config(bad).runs()
    assert main(["sweep", str(grid), "--dry-run"]) == 0
    assert capsys.readouterr().out.split() == [r.run_id for r in runs]
    assert main(["sweep", str(tmp_path / "missing.toml")]) == 2
    # a user's mistake is one line on stderr and exit 2, before any cluster starts
    bad.write_text("tasks: [bandit-fixed\nseeds: [0]\n")
    capsys.readouterr()
    assert main(["sweep", str(bad), "--out", str(tmp_path / "never")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot parse sweep config" in err and "(line 2, column 6)" in err
    assert main(["sweep", str(grid), "--workers", "0"]) == 2
    assert "--n-workers must be at least 1, got 0" in capsys.readouterr().err
    assert not (tmp_path / "never").exists()


def test_in_process_sweep_skips_finished_runs(tmp_path):
    cfg = tmp_path / "one.yaml"
    cfg.write_text("tasks: [bandit-fixed]\nseeds: [0]\ntrain: {train_episodes: 64, batch_size: 32, n_units: 8, "
                   "task_options: {n_trials: 20}}\ntest: {episodes: 20}\n")
    runs = load_sweep_config(cfg).runs()
    (first,) = run_sweep(runs, tmp_path / "out")
    (again,) = run_sweep(runs, tmp_path / "out")
    assert first["status"] == "done" and again["status"] == "skipped"
    assert again["test"] == first["test"] and not (tmp_path / "out" / ".partial").exists()
    assert first["test"]["bayes_final_regret"] < first["test"]["agent_final_regret"] + 5
