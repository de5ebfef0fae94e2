"""The Sim 1 experiment end to end on a tiny training budget (two replicas, one update each, a small
test set): checkpoints → recordings → baselines fitted and simulated → numbers → Fig. 2 → scorecard;
the full claim checks on the shipped checkpoints run with --run-slow."""

import json

import pytest

from neurometarl.cli import main
from neurometarl.experiments import run_experiment, sim1
from neurometarl.experiments.base import load_numbers

CLAIMS = {"undermatching_train", "undermatching_held_out", "reward_kernel", "units_action_value_over_reward",
          "learns_within_episode"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim1")
    card = run_experiment("sim1", out, retrain=True, n_seeds=2, scale=0.0004, progress=False,
                          sizes={"n_test": 60, "n_fit": 30, "fit_max_iter": 15})
    return card, out, load_numbers(out)


def test_scorecard_has_every_claim_measured(tiny):
    card, out, _ = tiny
    assert {c["claim"] for c in card["claims"]} == CLAIMS
    assert json.loads((out / "scorecard.json").read_text())["claims"] == card["claims"]
    for c in card["claims"]:
        assert "not computed" not in str(c["measured"]), c
    assert (out / "checkpoints" / "sim1" / "agent" / "seed1" / "checkpoint.pt").is_file()


def test_numbers_cover_agent_and_both_baselines(tiny):
    _, out, numbers = tiny  # numbers.nc: a labelled Dataset
    assert not (out / "numbers.json").exists()
    assert all({"long_name", "units"} <= set(numbers[v].attrs) for v in numbers.data_vars)
    assert numbers.sizes["replica"] == 2 and numbers.attrs["n_test_episodes"] == 60
    assert numbers["learner"].values.tolist() == ["agent", "rw", "bayes"]
    assert numbers["reward_kernel"].dims == ("learner", "replica", "lag") and numbers.sizes["lag"] == 15
    assert numbers["p_richer"].dims == ("learner", "replica", "trial") and numbers.sizes["trial"] == 50
    assert numbers["unit_mean_abs_r"].dims == ("learner", "replica", "period", "variable")
    assert set(numbers["variable"].values) == set(sim1.SIM1.reference_values["paper_unit_r"])
    assert numbers["matching_slope"].dims == ("learner", "replica", "p0_range")
    assert numbers["log_choice_ratio"].dims == ("replica", "p0_range", "point")
    assert set(numbers["rw_param"].values) == {"alpha", "beta", "kappa", "tau"}
    # an untrained network answers the fixation cue at random: it earns far less than the baselines
    reward = numbers["reward_per_trial"].mean("replica")
    assert reward.sel(learner="agent") < reward.sel(learner="bayes")
    assert sim1.improvement(numbers).shape == (2,)
    assert (out / "fig2.png").stat().st_size > 50_000 and (out / "fig2.pdf").is_file()
    (out / "fig2.png").unlink()
    assert main(["figure", "sim1", "--results", str(out)]) == 0
    assert (out / "fig2.png").is_file()


@pytest.mark.slow
def test_shipped_checkpoints_pass_every_claim(tmp_path):
    card = run_experiment("sim1", tmp_path, progress=False)
    failed = [(c["claim"], c["measured"]) for c in card["claims"] if not c["pass"]]
    assert not failed, failed
