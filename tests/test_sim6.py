"""Sim 6 end to end on tiny replicas: actor-critic training → δ-manipulated sessions → Fig. 7 → scorecard."""

import json

import pytest
import xarray as xr

from neurometarl.cli import main
from neurometarl.experiments import run_experiment
from neurometarl.experiments import sim6
from neurometarl.experiments.base import load_numbers
from neurometarl.lab import load_recording


def percent_risky_of(path):
    return sim6.percent_risky(load_recording(path))


@pytest.fixture(scope="module")
def sim6_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim6")
    card = run_experiment("sim6", out, retrain=True, n_seeds=2, scale=0.01, progress=False, sizes={"n_test": 20})
    return card, out


def test_scorecard_has_every_claim_measured(sim6_run):
    card, out = sim6_run
    assert {c["claim"] for c in card["claims"]} == {
        "block_risky_lowers_risky_at_0.5", "block_safe_raises_risky_at_0.125",
        "stimulate_loss_raises_risky_at_0.125", "control_preferences"}
    for c in card["claims"]:
        assert "not computed" not in str(c["measured"]), c
    assert json.loads((out / "scorecard.json").read_text())["claims"] == card["claims"]


def test_numbers_recordings_and_figure(sim6_run):
    card, out = sim6_run
    numbers = load_numbers(out)  # numbers.nc: a labelled Dataset
    assert not (out / "numbers.json").exists()
    assert numbers["p"].values.tolist() == [0.5, 0.125] and numbers.sizes["replica"] == 2
    assert numbers["percent_risky"].dims == ("condition", "p", "replica")
    assert ((0 <= numbers["percent_risky"]) & (numbers["percent_risky"] <= 100)).all()
    assert all({"long_name", "units"} <= set(numbers[v].attrs) for v in numbers.data_vars)
    recorded = percent_risky_of(out / "recordings" / "control_p0.5.nc")
    assert float(numbers["percent_risky"].sel(condition="control", p=0.5, replica=0)) == pytest.approx(recorded)
    ds = xr.open_dataset(out / "recordings" / "block_risky_reward_p0.5.nc")
    assert json.loads(ds.attrs["perturbations"])[0]["amount"] == -4.0
    assert ds.attrs["condition"] == "block risky reward"
    assert any(u.startswith("critic") for u in ds.unit.values) and any(u.startswith("actor") for u in ds.unit.values)
    assert (out / "fig7.png").stat().st_size > 30_000
    (out / "fig7.png").unlink()
    assert main(["figure", "sim6", "--results", str(out)]) == 0
    assert (out / "fig7.png").is_file()


def test_percent_risky_counts_free_trials_only(sim6_run):
    _, out = sim6_run
    ds = xr.open_dataset(out / "recordings" / "control_p0.125.nc")
    free = ds.forced.values == 0
    assert sim6.percent_risky(ds) == pytest.approx(100 * (ds.choice.values == ds.risky_action.values)[free].mean())


@pytest.mark.slow
def test_shipped_checkpoints_pass_every_claim(tmp_path):
    """Full Fig. 7 from the shipped checkpoints (8 replicas): every claim of the paper holds."""
    card = run_experiment("sim6", tmp_path, progress=False)
    assert card["all_pass"], [c for c in card["claims"] if not c["pass"]]
