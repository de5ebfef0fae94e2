"""The Sim 1 experiment end to end on a tiny training budget (two replicas, one update each, a small
test set): checkpoints → recordings → baselines fitted and simulated → numbers → Fig. 2 → scorecard;
the full claim checks on the shipped checkpoints run with --run-slow."""

import json

import numpy as np
import pytest

from neurometarl.experiments import run_experiment, sim1

CLAIMS = {"undermatching_train", "undermatching_held_out", "reward_kernel", "units_action_value_over_reward",
          "learns_within_episode"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim1")
    card = run_experiment("sim1", out, retrain=True, n_seeds=2, scale=0.0004, progress=False,
                          sizes={"n_test": 60, "n_fit": 30, "fit_max_iter": 15})
    return card, out, json.loads((out / "numbers.json").read_text())


def test_scorecard_has_every_claim_measured(tiny):
    card, out, _ = tiny
    assert {c["claim"] for c in card["claims"]} == CLAIMS
    assert json.loads((out / "scorecard.json").read_text())["claims"] == card["claims"]
    for c in card["claims"]:
        assert "not computed" not in str(c["measured"]), c
    assert (out / "checkpoints" / "sim1" / "agent" / "seed1" / "checkpoint.pt").is_file()


def test_numbers_cover_agent_and_both_baselines(tiny):
    _, out, numbers = tiny
    assert numbers["n_replicas"] == 2 and numbers["n_test_episodes"] == 60
    for s in ("agent", "rw", "bayes"):
        assert np.asarray(numbers[s]["reward_kernel"]).shape == (2, 15)
        assert np.asarray(numbers[s]["p_richer"]).shape == (2, 50)
        assert set(numbers[s]["unit_mean_abs_r"][0]) == set(sim1.PAPER_UNIT_R)
    assert set(numbers["baseline_fits"][0]["rw"]["params"]) == {"alpha", "beta", "kappa", "tau"}
    # an untrained network answers the fixation cue at random: it earns far less than the baselines
    assert np.mean(numbers["agent"]["reward_per_trial"]) < np.mean(numbers["bayes"]["reward_per_trial"])
    assert (out / "fig2.png").stat().st_size > 50_000 and (out / "fig2.pdf").is_file()


@pytest.mark.slow
def test_shipped_checkpoints_pass_every_claim(tmp_path):
    card = run_experiment("sim1", tmp_path, progress=False)
    failed = [(c["claim"], c["measured"]) for c in card["claims"] if not c["pass"]]
    assert not failed, failed
