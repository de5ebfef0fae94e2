"""The command-line contract, end to end on tiny budgets, and its one-line errors."""

import json
import subprocess
import sys

import pytest
import xarray as xr

from neurometarl.cli import main
from neurometarl.lab import load_recording


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_tasks_lists_one_protocol_per_line(capsys):
    code, out, _ = run(capsys, "tasks")
    lines = out.strip().splitlines()
    names = [line.split()[0] for line in lines]
    assert code == 0
    assert {"bandit-independent", "bandit-correlated", "bandit-correlated-easy", "bandit-correlated-medium",
            "bandit-correlated-hard", "bandit-restless", "bandit-fixed"} <= set(names)
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines)


def test_train_record_figure_end_to_end(capsys, tmp_path):
    run_dir = tmp_path / "run"
    code, out, _ = run(capsys, "train", "bandit-correlated", "--seed", "3", "--out", str(run_dir), "--quiet",
                       "--train-episodes", "64", "--batch-size", "32", "--n-units", "8", "--eval-episodes", "20",
                       "--task-options", '{"n_trials": 10}')
    assert code == 0 and "ratio" in out
    assert {p.name for p in run_dir.iterdir()} >= {"checkpoint.pt", "config.json", "metrics.csv", "provenance.json"}
    assert json.loads((run_dir / "config.json").read_text())["seed"] == 3

    agent_nc, rw_nc = tmp_path / "agent.nc", tmp_path / "rw.nc"
    code, out, _ = run(capsys, "record", str(run_dir), "--task", "bandit-fixed", "--episodes", "12", "--seed", "1",
                       "--out", str(agent_nc), "--quiet")
    assert code == 0
    code, _, _ = run(capsys, "record", "rw", "--param", "alpha=0.2", "--task", "bandit-fixed", "--episodes", "12",
                     "--seed", "1", "--out", str(rw_nc), "--quiet")
    assert code == 0
    ds = load_recording(agent_nc)
    assert ds.choice.dims == ("episode", "trial") and ds.reward.dims == ("episode", "trial")
    assert ds.reward_prob.dims == ("episode", "trial", "arm") and ds.sizes["unit"] == 8
    rw = load_recording(rw_nc)  # the rw behavioural model, played through ModelSubject; beta at its default
    assert rw.attrs["subject"] == "model:rw"
    assert json.loads(rw.attrs["subject_config"])["params"] == {"alpha": 0.2, "beta": 5.0}

    code, out, _ = run(capsys, "figure", "regret", str(agent_nc), str(rw_nc), "--out", str(tmp_path / "regret"))
    assert code == 0 and (tmp_path / "regret.png").stat().st_size > 10_000


@pytest.mark.parametrize("argv, message", [
    (["train", "bandit-nope", "--out", "x"], "unknown task 'bandit-nope'; valid tasks: bandit-independent"),
    (["train", "bandit-correlated", "--out", "x", "--gamma", "2"], "gamma=2.0"),
    (["record", "missing/ckpt", "--task", "bandit-fixed", "--out", "x.nc"], "neither a checkpoint path nor a baseline"),
    (["record", "rw", "--param", "alpha", "--task", "bandit-fixed", "--out", "x.nc"], "KEY=VALUE"),
    (["record", "rw", "--param", "alpha=7", "--task", "bandit-fixed", "--out", "x.nc"], "alpha=7"),
    (["record", "random", "--task", "nope", "--out", "x.nc"], "unknown task"),
    (["experiment", "fig99"], "unknown experiment 'fig99'"),
])
def test_bad_input_gives_one_line_error(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_corrupt_checkpoint_and_bad_recording(capsys, tmp_path):
    bad = tmp_path / "checkpoint.pt"
    bad.write_bytes(b"garbage")
    code, _, err = run(capsys, "record", str(bad), "--task", "bandit-fixed", "--out", str(tmp_path / "x.nc"))
    assert code == 2 and "not a readable neurometarl checkpoint" in err
    xr.Dataset({"choice": ("episode", [0, 1])}).to_netcdf(tmp_path / "not_a_recording.nc")
    code, _, err = run(capsys, "figure", "regret", str(tmp_path / "not_a_recording.nc"), "--out", str(tmp_path / "f"))
    assert code == 2 and "missing variable 'reward'" in err
    (tmp_path / "junk.nc").write_text("junk")
    code, _, err = run(capsys, "figure", "regret", str(tmp_path / "junk.nc"), "--out", str(tmp_path / "f"))
    assert code == 2 and "not a readable netCDF recording" in err


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "neurometarl.cli", "tasks"], capture_output=True, text=True, check=True)
    assert "bandit-fixed" in out.stdout


@pytest.mark.parametrize("command, new, old, dest, value", [
    ("record", "--n-episodes", "--episodes", "n_episodes", 7),
    ("experiment", "--n-seeds", "--seeds", "n_seeds", 2),
    ("units", "--n-shuffles", "--shuffles", "n_shuffles", 5),
    ("decode", "--n-splits", "--folds", "n_splits", 3),
    ("compare", "--cv-folds", "--cv", "cv_folds", 4),
    ("sweep", "--n-workers", "--workers", "n_workers", 2),
])
def test_option_names_are_the_library_s_and_old_spellings_stay(command, new, old, dest, value, capsys):
    from neurometarl.cli import parse

    positionals = {"record": ["rw"], "experiment": ["fig1"], "units": ["rec.nc"], "decode": ["rec.nc"],
                   "compare": ["rw", "data.csv"], "sweep": ["grid.toml"]}[command]
    extra = {"record": ["--task", "bandit-fixed", "--out", "x.nc"], "decode": ["--target", "reward"],
             "units": ["--regressors", "reward"]}.get(command, [])
    for option in (new, old):
        name, parsed = parse([command, *positionals, *extra, option, str(value)])
        assert name == command and getattr(parsed, dest) == value
    assert main([command, "--help"]) == 0 and new in capsys.readouterr().out


def test_declared_options_parse_as_documented():
    from neurometarl.cli import parse

    assert parse(["reproduce", "--only", "fig1", "--only", "sim2,sim6"])[1].only == ("fig1", "sim2,sim6")
    _, train = parse(["train", "twostep", "--out", "x", "--no-anneal-lr", "--lr", "3e-3"])
    assert train.config.task == "twostep" and train.config.anneal_lr is False and train.config.lr == 0.003
    _, fit = parse(["fit", "rw", "data.csv", "--method", "eb", "--missed", "nan", "-1"])
    assert fit.fitting.method == "eb" and fit.table.missed == ("nan", "-1")
    with pytest.raises(SystemExit):  # a word where a number goes: tyro's usage error
        parse(["record", "rw", "--task", "bandit-fixed", "--out", "x.nc", "--seed", "three"])
