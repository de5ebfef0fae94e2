"""The Fig. 1 experiment end to end on a tiny training budget: checkpoints → recordings → numbers →
figure → scorecard, plus `figure` redrawing from the saved numbers alone."""

import json

import numpy as np
import pytest

from neurometarl.cli import main
from neurometarl.experiments import run_experiment
from neurometarl.experiments.base import load_numbers


@pytest.fixture(scope="module")
def fig1(tmp_path_factory):
    out = tmp_path_factory.mktemp("fig1")
    card = run_experiment("fig1", out, retrain=True, n_seeds=2, scale=0.004, progress=False)
    return card, out


def test_scorecard_lists_every_claim_with_measured_values(fig1):
    card, out = fig1
    saved = json.loads((out / "scorecard.json").read_text())
    assert saved["claims"] == card["claims"]
    names = {c["claim"] for c in card["claims"]}
    assert names == {"regret_correlated", "independent_beats_thompson_ucb", "regret_ordering",
                     "manifold_ordered_by_p", "near_bayes_reward"}
    for c in card["claims"]:
        assert "not computed" not in str(c["measured"]), c
    # an untrained agent is nowhere near Bayes-optimal: the claim machinery must say so
    near = next(c for c in card["claims"] if c["claim"] == "near_bayes_reward")
    assert near["measured"] < 0.72 and near["pass"] is False


def test_numbers_and_figure_written(fig1):
    card, out = fig1
    ds = load_numbers(out)  # numbers.nc: a labelled Dataset
    assert not (out / "numbers.json").exists()
    assert all({"long_name", "units"} <= set(ds[v].attrs) for v in ds.data_vars)
    assert ds["regret"].dims == ("player", "estimate", "trial") and ds.sizes["player"] == 5 and ds.sizes["trial"] == 100
    last = ds["regret"].isel(trial=-1)
    assert (last.sel(estimate="lower") <= last.sel(estimate="mean")).all()
    assert (last.sel(estimate="mean") <= last.sel(estimate="upper")).all()
    # cumulative regret never decreases
    assert (ds["regret"].sel(estimate="mean").diff("trial") >= -1e-9).all()
    # Bayes-optimal play on (0.25, 0.75) has far less regret than a random player would (25)
    assert float(last.sel(player="Bayes-optimal (indep. prior)", estimate="mean")) < 3
    assert int(ds["n_episodes"].sel(player="meta-RL (trained correlated)")) == 600
    assert ds["regret_per_replica"].dims == ("agent", "replica") and ds.sizes["replica"] == 2
    # the pooled regret is the mean of the replicas' (each replica the same number of episodes)
    pooled = last.sel(player=list(ds["agent"].values), estimate="mean").rename(player="agent")
    assert np.allclose(ds["regret_per_replica"].mean("replica"), pooled, atol=1e-5)
    assert ds["final_state_pc"].dims == ("episode", "component") and ds.sizes["episode"] == 500
    assert ds["trajectory_pc"].sizes["example"] == 4
    assert np.allclose(ds["trajectory_pc"].isel(trial=-1), ds["final_state_pc"].isel(episode=ds["example_episode"].values))
    assert (out / "fig1.png").stat().st_size > 50_000 and (out / "fig1.pdf").is_file()
    assert len(list((out / "recordings").glob("*.nc"))) == 6


def test_figure_command_redraws_from_saved_numbers(fig1, capsys):
    card, out = fig1
    (out / "fig1.png").unlink()
    assert main(["figure", "fig1", "--results", str(out)]) == 0
    assert (out / "fig1.png").is_file()
