"""Faults a user meets: concurrent writers, a full disk, a kill mid-write, truncated and empty files,
outputs of the wrong kind, a checkpoint used on another task; and the start-up of the command line."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import xarray as xr

from neurometarl import io
from neurometarl.cli import main
from neurometarl.errors import WriteError
from neurometarl.lab import load_recording, record_session, save_recording
from neurometarl.lab.schema import RecordingSchemaError
from neurometarl.models import make_baseline

ROOT = Path(__file__).resolve().parents[1]
FIG1 = ROOT / "datasets" / "checkpoints" / "fig1" / "correlated" / "seed0"


@pytest.fixture(scope="module")
def recording():
    return record_session(make_baseline("bayes-optimal"), "bandit-fixed", 20, seed=1, progress=False)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "table.csv"
    io.write_text(target, "old\n")
    with pytest.raises(KeyboardInterrupt), io.atomic_path(target) as tmp:
        tmp.write_text("half of the new")
        raise KeyboardInterrupt  # a kill between the first and the last byte
    assert target.read_text() == "old\n" and leftovers(tmp_path) == []


def test_full_disk_is_one_line_and_leaves_nothing(tmp_path, recording, monkeypatch, capsys):
    def full(self, path, *args, **kwargs):
        Path(path).write_bytes(b"\x89HDF partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", full)
    with pytest.raises(WriteError, match=r"no space left on the device writing .*rec\.nc.*nothing was written"):
        save_recording(recording, tmp_path / "rec.nc")
    assert list(tmp_path.iterdir()) == []
    assert main(["record", "random", "--task", "bandit-fixed", "--episodes", "3", "--out", str(tmp_path / "r.nc"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("neurometarl record: error: no space left") and "\n" not in err
    assert list(tmp_path.iterdir()) == []


def test_concurrent_writers_to_one_path_end_with_one_complete_file(tmp_path):
    """Three processes record to one --out at once: one writes it whole, the others are told why (exit 2)."""
    out = tmp_path / "rec.nc"
    command = [sys.executable, "-m", "neurometarl.cli", "record", "bayes-optimal", "--task", "bandit-fixed",
               "--episodes", "400", "--seed", "{seed}", "--out", str(out), "--quiet"]
    procs = [subprocess.Popen([c.format(seed=s) for c in command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for s in range(3)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes[0] == 0, results
    for code, err in results:
        assert code == 0 or (code == 2 and "is being written by another process" in err), results
    ds = load_recording(out)
    assert ds.sizes["episode"] == 400 and int(ds.attrs["seed"]) in (0, 1, 2)
    assert leftovers(tmp_path) == []


def test_claim_is_refused_while_another_process_holds_it(tmp_path):
    target = tmp_path / "x.json"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from neurometarl.io import claim\n"
        f"with claim({str(target)!r}):\n    print('held', flush=True); time.sleep(30)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WriteError, match=rf"x\.json is being written by another process \(pid {holder.pid}\)"):
            io.write_json(target, {"a": 1})
    finally:
        holder.kill()
        holder.wait()
    io.write_json(target, {"a": 1})  # the dead holder's lock is free again
    assert target.read_text().startswith("{")


def test_truncated_empty_and_unmarked_recordings_are_refused(tmp_path, recording):
    path = save_recording(recording, tmp_path / "rec.nc")
    data = path.read_bytes()
    (tmp_path / "cut.nc").write_bytes(data[: len(data) // 2])
    with pytest.raises(RecordingSchemaError, match="truncated"):
        load_recording(tmp_path / "cut.nc")
    (tmp_path / "empty.nc").write_bytes(b"")
    with pytest.raises(RecordingSchemaError, match="empty"):
        load_recording(tmp_path / "empty.nc")
    recording.to_netcdf(tmp_path / "unmarked.nc")  # written without the writer's last step
    with pytest.raises(RecordingSchemaError, match="write_complete"):
        load_recording(tmp_path / "unmarked.nc")


def test_recordings_open_lazily_and_same_seed_recordings_are_identical(tmp_path):
    agent = pytest.importorskip("neurometarl.agents").AgentSubject.from_checkpoint(FIG1)
    a = record_session(agent, "bandit-fixed", 30, seed=4, progress=False)
    b = record_session(agent, "bandit-fixed", 30, seed=4, progress=False)
    xr.testing.assert_identical(a, b)
    loaded = load_recording(save_recording(a, tmp_path / "a.nc"))
    assert not loaded["hidden"].variable._in_memory  # unit activity stays on disk until an analysis reads it
    xr.testing.assert_identical(loaded.load(), a)


def test_outputs_of_the_wrong_kind_are_refused_before_any_work(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    cases = [["record", "random", "--task", "bandit-fixed", "--out", str(tmp_path)],
             ["train", "bandit-fixed", "--out", str(tmp_path / "file")],
             ["experiment", "fig1", "--out", str(tmp_path / "file")]]
    for argv in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and ("is an existing folder" in err or "is an existing file" in err), err


def test_checkpoint_on_another_task_names_both(capsys, tmp_path):
    assert main(["record", str(FIG1), "--task", "twostep", "--episodes", "2", "--out", str(tmp_path / "r.nc")]) == 2
    err = capsys.readouterr().err
    assert "trained on bandit-correlated (n_obs 1) and cannot play twostep (n_obs 5)" in err and err.count("\n") == 1


def test_help_and_tasks_answer_without_importing_torch():
    for argv, expected in ((["--help"], "train a meta-RL agent"), (["tasks"], "bandit-correlated")):
        started = time.perf_counter()
        run = subprocess.run([sys.executable, "-X", "importtime", "-m", "neurometarl.cli", *argv],
                             capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        assert run.returncode == 0 and expected in run.stdout
        imported = {line.split("|")[-1].strip() for line in run.stderr.splitlines() if "|" in line}
        assert "torch" not in imported and "pandas" not in imported, argv
        assert time.perf_counter() - started < 5  # generous: the bound that matters is 'no torch' (< 1 s idle)


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, recording):
    d = tmp_path_factory.mktemp("bad")
    (d / "empty.csv").write_text("")
    (d / "header.csv").write_text("subject,trial,choice,reward\n")
    (d / "wrong.csv").write_text("a,b\n1,2\n")
    (d / "garbage.pt").write_text("garbage")
    (d / "x.nwb").write_text("not nwb")
    (d / "adir").mkdir()
    (d / "res").mkdir()
    (d / "res" / "numbers.nc").write_text("")
    (d / "bad.yaml").write_text("tasks: [bandit-fixed\n")
    save_recording(recording, d / "rec.nc")
    return d


#: command → bad inputs (placeholders: {d} the folder of bad files, {ck} a shipped checkpoint) and the
#: words the one-line message must contain
BAD_INPUTS = {
    "train": [("train nosuch --out {d}/t", "unknown task 'nosuch'"),
              ("train bandit-fixed --out {d}/t --train-episodes 0", "train_episodes=0"),
              ("train bandit-fixed --out {d}/t --device cuda", "--device cuda"),
              ("train bandit-fixed --out {d}/t --task-options notjson", "task_options must be a JSON object"),
              ("train bandit-fixed --out {d}/empty.csv", "is an existing file"),
              ("train bandit-fixed --out {d}/t --seed -1", "seed=-1"),
              ("train bandit-fixed --out {d}/t --batch-size 1000000000", "is above 100000"),
              ("train bandit-fixed --out {d}/t --algorithm ppo --n-minibatches 3 --batch-size 16", "n_minibatches=3")],
    "record": [("record nosuch --task bandit-fixed --out {d}/r.nc", "neither a checkpoint path nor a baseline"),
               ("record {ck} --task bandit-fixed --episodes 0 --out {d}/r.nc", "--n-episodes must be at least 1"),
               ("record {ck} --task bandit-fixed --seed -3 --out {d}/r.nc", "--seed must be at least 0"),
               ("record {d}/garbage.pt --task bandit-fixed --out {d}/r.nc", "not a readable neurometarl checkpoint"),
               ("record {d}/adir --task bandit-fixed --out {d}/r.nc", "no checkpoint at"),
               ("record rw --task bandit-fixed --param alpha=abc --out {d}/r.nc", "bad --param for model 'rw'"),
               ("record {ck} --task twostep --out {d}/r.nc", "cannot play twostep"),
               ("record {ck} --task bandit-fixed --episodes 1000000000000 --out {d}/r.nc", "GB in memory"),
               ("record random --task bandit-fixed --out {d}/adir", "is an existing folder")],
    "fit": [("fit rw {d}/empty.csv", "empty.csv is empty"), ("fit rw {d}/header.csv", "has no rows"),
            ("fit rw {d}/wrong.csv", "lacks required column"), ("fit nosuch {d}/header.csv", "unknown model"),
            ("fit rw {d}/nothing.csv", "neither a file nor a registered dataset"), ("fit rw {d}/rec.nc --out {d}/adir", "existing folder")],
    "compare": [("compare rw {d}/empty.csv", "empty.csv is empty"), ("compare rw rw-lapse {d}/header.csv --cv 1", "--cv-folds must be at least 2")],
    "stay": [("stay {d}/wrong.csv", "lacks required column"), ("stay {d}/empty.csv", "empty.csv is empty")],
    "lags": [("lags {d}/empty.csv", "empty.csv is empty"), ("lags {d}/header.csv --n-lags 0", "--n-lags must be at least 1"),
             ("lags {d}/nothing.csv", "neither a file nor a registered dataset")],
    "units": [("units {d}/x.nwb --regressors value", "not a readable netCDF recording"),
              ("units {d}/rec.nc --regressors value --shuffles -1", "--n-shuffles must be at least 0")],
    "decode": [("decode {d}/rec.nc --target value --folds 1", "--n-splits must be at least 2"),
               ("decode {d}/empty.csv --target value", "empty")],
    "nwb": [("nwb validate {d}/x.nwb", "is not an NWB file"), ("nwb validate {d}/nothing.nwb", "no NWB file")],
    "figure": [("figure fig1 --results {d}/res", "are unreadable"), ("figure regret", "needs recording files"),
               ("figure nosuch", "unknown experiment")],
    "experiment": [("experiment nosuch", "unknown experiment"), ("experiment fig1 --seeds 0", "--n-seeds must be at least 1"),
                   ("experiment fig1 --retrain --scale 0 --out {d}/e", "scale must be in (0, 1]")],
    "reproduce": [("reproduce --only nosuch --out {d}/rp", "unknown experiment")],
    "sweep": [("sweep {d}/bad.yaml", "cannot parse sweep config"), ("sweep {d}/none.yaml", "no sweep config"),
              ("sweep {d}/empty.csv", "must end in .toml, .yaml or .yml")],
    "datasets": [("datasets verify nosuch", "unknown dataset"), ("datasets fetch", "needs a dataset name")],
}


@pytest.mark.parametrize("command,argv,words", [(c, a, w) for c, cases in BAD_INPUTS.items() for a, w in cases])
def test_bad_input_is_one_line_and_exit_2(command, argv, words, bad_files, capsys):
    code = main(argv.format(d=bad_files, ck=FIG1).split())
    err = capsys.readouterr().err
    assert code == 2 and words in err and "Traceback" not in err, err
    assert err.strip().splitlines()[-1].startswith(("neurometarl", "usage")), err



PLUGIN = '''
import torch
from dataclasses import dataclass
from neurometarl.tasks import TaskConfig
from neurometarl.tasks.bandits import BanditTask


@dataclass(frozen=True)
class SwapConfig(TaskConfig):
    n_trials: int = 20


class SwapTask(BanditTask):
    description = "plugin bandit"
    citation = "a test plugin"

    def _reset(self):
        self.probs = torch.tensor([0.2, 0.8]).expand(self.batch_size, 2).clone()

    def _step(self, action):
        return (self.uniform(self.batch_size) < self.probs.gather(1, action[:, None])[:, 0]).float()

    def _observe(self):
        return torch.ones(self.batch_size, 1), {**self._timing(), "reward_prob": self.probs.clone()}


def register_tasks(register):
    register("plugin-swap", SwapTask, SwapConfig(), "a bandit from an installed package's entry point")
'''


def test_a_package_adds_tasks_that_every_command_sees(tmp_path):
    site = tmp_path / "site"
    (site / "swap_plugin-0.1.dist-info").mkdir(parents=True)
    (site / "swap_plugin.py").write_text(PLUGIN)
    (site / "swap_plugin-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: swap-plugin\nVersion: 0.1\n")
    (site / "swap_plugin-0.1.dist-info" / "entry_points.txt").write_text(
        "[neurometarl.tasks]\nswap = swap_plugin:register_tasks\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    cli = [sys.executable, "-m", "neurometarl.cli"]
    listed = subprocess.run([*cli, "tasks"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert listed.returncode == 0 and "plugin-swap" in listed.stdout and "bandit-correlated" in listed.stdout
    recorded = subprocess.run([*cli, "record", "rw", "--task", "plugin-swap", "--episodes", "20", "--out",
                               str(tmp_path / "swap.nc"), "--quiet"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert recorded.returncode == 0, recorded.stderr
    assert load_recording(tmp_path / "swap.nc").attrs["task"] == "plugin-swap"
    (site / "swap_plugin.py").write_text("raise ImportError('broken on purpose')")
    broken = subprocess.run([*cli, "tasks"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert broken.returncode == 0 and "task plugin 'swap'" in broken.stderr and "bandit-correlated" in broken.stdout


def test_first_hour_frictions(tmp_path, recording):
    import matplotlib.pyplot as plt

    from neurometarl.analysis.units import unit_regression
    from neurometarl.figures.style import readable, use_style
    from neurometarl.figures.units import plot_coding_histogram, plot_fraction_significant
    from neurometarl.lab.nwb import to_nwb

    with plt.rc_context():  # leave the other tests' settings as they were
        before = dict(plt.rcParams)
        with use_style():
            inside = dict(plt.rcParams)
        assert dict(plt.rcParams) == before != inside  # the block restores
        use_style()  # a plain call applies the style for the session (it used to do nothing)
        assert dict(plt.rcParams) == inside
    assert readable("value@choice") == "value (choice)" and readable("reward_prob[left]") == "reward prob (left)"
    agent = pytest.importorskip("neurometarl.agents").AgentSubject.from_checkpoint(FIG1)
    ds = record_session(agent, "bandit-fixed", 40, seed=2, progress=False)
    result = unit_regression(ds, ["value", "prev_reward"], period="choice")
    ax = plot_coding_histogram(result, "value")  # one period: no 'several periods' error
    assert "value" in ax.get_xlabel()
    from neurometarl.analysis.units import fraction_significant

    ax = plot_fraction_significant(fraction_significant(result))
    assert all("@" not in t.get_text() and "_" not in t.get_text() for t in ax.get_xticklabels())
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(to_nwb(recording, tmp_path / "r.nwb")), "r") as handle:
        assert handle.read().subject.subject_id == "bayes-optimal"
    plt.close("all")


def test_progress_bars_show_on_request_on_a_terminal_only_and_not_when_quiet(capsys, monkeypatch):
    from neurometarl.progress import progress_bar, quiet

    list(progress_bar(range(3), desc="asked", show=True))
    list(progress_bar(range(3), desc="default"))  # stderr is captured here, not a terminal: no bar
    assert "asked" in capsys.readouterr().err
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    list(progress_bar(range(3), desc="terminal"))
    with quiet():
        list(progress_bar(range(3), desc="hushed"))
    err = capsys.readouterr().err
    assert "terminal" in err and "hushed" not in err
