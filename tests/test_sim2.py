"""The Sim 2 experiment end to end on a tiny training budget (two replicas, one update each, a small
test set): checkpoints → recordings on both schedules → learning rates, decoding, unit coding,
baselines → numbers → Fig. 3 → scorecard; the full claim checks on the shipped checkpoints run with
--run-slow."""

import pytest

from neurometarl.cli import main
from neurometarl.experiments import run_experiment
from neurometarl.experiments.base import load_numbers

CLAIMS = {"learning_rate_adapts", "decoded_volatility", "volatility_units", "fixed_rw_flat"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim2")
    card = run_experiment("sim2", out, retrain=True, n_seeds=2, scale=0.002, progress=False, sizes={"n_test": 30})
    return card, out, load_numbers(out)


def test_scorecard_has_every_claim_measured(tiny):
    card, out, _ = tiny
    assert {c["claim"] for c in card["claims"]} == CLAIMS
    for c in card["claims"]:
        assert "not computed" not in str(c["measured"]), c
    assert (out / "checkpoints" / "sim2" / "agent" / "seed1" / "checkpoint.pt").is_file()


def test_numbers_and_figure(tiny):
    _, out, numbers = tiny  # numbers.nc: a labelled Dataset
    assert not (out / "numbers.json").exists()
    assert all({"long_name", "units"} <= set(numbers[v].attrs) for v in numbers.data_vars)
    assert numbers["learner"].values.tolist() == ["agent", "bayes", "fixed_rw"] and numbers.sizes["replica"] == 2
    assert numbers["phase"].values.tolist() == ["stable-1", "volatile-1", "volatile-2", "stable-2"]
    assert numbers["phase_rate"].dims == ("learner", "replica", "phase")
    assert numbers["learning_rate"].dims == ("learner", "replica", "schedule", "window_start")
    assert numbers["window_centre"].dims == ("window_start",)
    assert numbers["decoding_r"].dims == ("replica",) and ((-1 <= numbers["decoding_r"]) & (numbers["decoding_r"] <= 1)).all()
    assert numbers["decoded_volatility"].dims == ("replica", "schedule", "trial")
    fraction = numbers["unit_fraction"].sel(regressor="volatility")
    assert fraction.dims == ("replica",) and ((0 <= fraction) & (fraction <= 1)).all()
    assert numbers["volatile"].sel(schedule="stable-first").values[:100].tolist() == [0] * 100
    assert (out / "fig3.png").stat().st_size > 50_000 and (out / "fig3.pdf").is_file()
    (out / "fig3.png").unlink()
    assert main(["figure", "sim2", "--results", str(out)]) == 0
    assert (out / "fig3.png").is_file()


@pytest.mark.slow
def test_shipped_checkpoints_pass_every_claim(tmp_path):
    card = run_experiment("sim2", tmp_path, progress=False)
    failed = [(c["claim"], c["measured"]) for c in card["claims"] if not c["pass"]]
    assert not failed, failed
