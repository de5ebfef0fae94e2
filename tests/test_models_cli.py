"""The command-line contract: ``neurometarl fit``, ``compare``, ``stay``, ``models`` end to end on tiny
data, one-line errors (exit 2) for user mistakes, and the benchmark script on a tiny budget."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr

from neurometarl.cli import main
from neurometarl.data import recording_to_table
from neurometarl.models import make_model

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def twostep_csv(tmp_path_factory):
    model = make_model("mb")
    ds = model.simulate("twostep", params={"alpha2": [0.5, 0.6], "beta1": [5.0, 4.0], "perseveration": [0.1, 0.3]},
                        n_episodes=2, seed=0, n_trials=60)
    path = tmp_path_factory.mktemp("cli") / "twostep.csv"
    recording_to_table(ds)[["subject", "session", "trial", "choice", "reward", "transition", "state2"]].to_csv(path, index=False)
    return path


def test_fit_writes_one_row_per_subject(twostep_csv, tmp_path, capsys):
    out = tmp_path / "fit.csv"
    assert main(["fit", "mb", str(twostep_csv), "--out", str(out), "--n-starts", "1"]) == 0
    printed = capsys.readouterr().out
    assert "alpha2" in printed and "beta1" in printed and "bic" in printed
    fit = pd.read_csv(out)
    assert len(fit) == 2 and {"subject", "alpha2", "beta1", "perseveration", "nll", "bic"} <= set(fit.columns)
    nc = tmp_path / "fit.nc"
    assert main(["fit", "mb", str(twostep_csv), "--out", str(nc), "--n-starts", "1"]) == 0
    ds = xr.load_dataset(nc)
    assert ds.sizes["subject"] == 2 and "alpha2_se" in ds and ds.attrs["model"] == "mb"


def test_compare_and_stay(twostep_csv, capsys):
    assert main(["compare", "mf", "mb", str(twostep_csv), "--n-starts", "1"]) == 0
    printed = capsys.readouterr().out
    assert "best by BIC: mb" in printed
    assert main(["stay", str(twostep_csv)]) == 0
    stay = json.loads(capsys.readouterr().out)
    assert {"common_rewarded", "rare_rewarded", "common_unrewarded", "rare_unrewarded", "mb_index", "mf_index"} <= set(stay)
    assert stay["mb_index"] > 0.2


def test_fit_reads_recordings_and_shipped_data(tmp_path, capsys):
    ds = make_model("rw").simulate("bandit-restless", params={"alpha": [0.3], "beta": [4.0]}, n_episodes=2, seed=0, n_trials=50)
    from neurometarl.lab import save_recording

    path = save_recording(ds, tmp_path / "rec.nc")
    assert main(["fit", "rw", str(path), "--n-starts", "1"]) == 0
    assert "1 subject(s)" in capsys.readouterr().out  # episodes are sessions of the simulated subject
    assert main(["fit", "rw", str(path), "--n-starts", "1", "--episodes-as", "subjects"]) == 0
    assert "2 subject(s)" in capsys.readouterr().out
    assert main(["fit", "rw", "hbayesdm-bandit2arm", "--n-starts", "1"]) == 0
    assert "20 subject(s)" in capsys.readouterr().out
    assert main(["models"]) == 0
    assert "hybrid" in capsys.readouterr().out


def test_user_mistakes_are_one_line_errors(twostep_csv, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    pd.read_csv(twostep_csv).drop(columns="reward").to_csv(bad, index=False)
    assert main(["fit", "mb", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("neurometarl fit: error:") and "'reward'" in err and "\n" not in err
    assert main(["fit", "nosuchmodel", str(twostep_csv)]) == 2
    assert "unknown model" in capsys.readouterr().err
    assert main(["fit", "rw", str(tmp_path / "missing.csv")]) == 2
    assert main(["stay", str(twostep_csv).replace("twostep", "nothing")]) == 2
    assert main(["fit", "mb", str(twostep_csv), "--out", str(tmp_path / "fit.xlsx"), "--n-starts", "1"]) == 2
    assert "--out must end in .csv or .nc" in capsys.readouterr().err


def test_fit_csv_has_diagnostics_and_warnings_are_one_line_each(tmp_path, capsys):
    """A capped subject (always right, always rewarded) beside a simulated one: the CSV carries the
    diagnostics and stderr one warning line per kind of problem."""
    ds = make_model("rw").simulate("bandit-restless", params={"alpha": [0.4], "beta": [4.0]}, seed=0, n_trials=150)
    table = recording_to_table(ds)[["subject", "trial", "choice", "reward"]].assign(subject="sim")
    capped = pd.DataFrame({"subject": "capped", "trial": range(150), "choice": 1, "reward": 1.0})
    path = tmp_path / "bandit.csv"
    pd.concat([table, capped]).to_csv(path, index=False)
    out = tmp_path / "fit.csv"
    assert main(["fit", "rw", str(path), "--n-starts", "2", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.startswith("warning:")]
    assert any("beta at its upper bound (50) for 1 of 2 subjects" in line for line in lines)
    assert len(lines) == len(set(lines)) and "at_bound" in captured.out
    fit = pd.read_csv(out, keep_default_na=False).set_index("subject")
    for col in ("converged", "grad_norm", "n_starts_at_best", "beta_at_bound", "beta_se", "se_note", "chance_level"):
        assert col in fit.columns, col
    assert str(fit.loc["capped", "beta_at_bound"]) == "True" and fit.loc["capped", "beta_se"] == ""
    assert main(["fit", "rw", str(path), "--n-starts", "1", "--method", "map", "--out", str(out)]) == 0
    assert "prior (MAP)" in capsys.readouterr().out
    fit = pd.read_csv(out)
    assert (fit["beta_prior_mean"] == -2.75).all() and (fit["beta_prior_sd"] == 1.5).all() and "beta_prior_z" in fit


def test_lags_writes_a_table_and_a_figure(tmp_path, capsys):
    ds = make_model("rw").simulate("bandit-restless", params={"alpha": [0.5, 0.4], "beta": [5.0, 4.0]}, seed=0, n_trials=300)
    raw = recording_to_table(ds)[["subject", "trial", "choice", "reward"]]
    raw["choice"] = raw["choice"] + 1  # 1/2 coded, with a missed trial
    raw.loc[raw.index[10], "choice"] = -1
    path = tmp_path / "coded.csv"
    raw.to_csv(path, index=False)
    assert main(["lags", str(path), "--out", str(tmp_path / "k")]) == 2
    assert "pass --choice-coding 1-2 and --missed -1" in capsys.readouterr().err
    assert main(["lags", str(path), "--choice-coding", "1-2", "--missed", "-1", "--n-lags", "4", "--out", str(tmp_path / "k")]) == 0
    table = pd.read_csv(tmp_path / "k.csv")
    assert set(table["regressor"]) == {"reward", "choice", "rewarded_choice", "unrewarded_choice"}
    assert set(table["subject"].astype(str)) == {"0", "1", "mean"} and (tmp_path / "k.png").stat().st_size > 0
    assert "rewarded_choice" in capsys.readouterr().out


def test_benchmark_script_runs_on_a_tiny_budget(tmp_path):
    out = tmp_path / "bench.json"
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_fitting.py"), "--quick", "--cases", "rw",
                          "--n-subjects", "2", "--n-trials", "200", "--n-starts", "1", "--json", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    results = json.loads(out.read_text())
    assert [r["case"] for r in results] == ["rw"] and "today" in res.stdout and "scipy loop" in res.stdout
    for r in results:
        assert r["max_abs_nll_difference_vs_scipy"] < 1e-2 and r["speedup_vs_today"] > 0
