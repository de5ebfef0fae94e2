"""The Fig. 1 experiment end to end on a tiny training budget: checkpoints → recordings → numbers →
figure → scorecard, plus `figure` redrawing from the saved numbers alone."""

import json

import pytest

from neurometarl.cli import main
from neurometarl.experiments import run_experiment


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
    numbers = json.loads((out / "numbers.json").read_text())
    assert len(numbers["regret_curves"]) == 5
    for curve in numbers["regret_curves"].values():
        assert len(curve["mean"]) == 100 and curve["lower"][-1] <= curve["mean"][-1] <= curve["upper"][-1]
    # Bayes-optimal play on (0.25, 0.75) has far less regret than a random player would (25)
    assert numbers["regret_at_trial_100"]["Bayes-optimal (indep. prior)"] < 3
    assert numbers["n_test_episodes_per_subject"]["meta-RL (trained correlated)"] == 600
    assert (out / "fig1.png").stat().st_size > 50_000 and (out / "fig1.pdf").is_file()
    assert len(list((out / "recordings").glob("*.nc"))) == 6


def test_figure_command_redraws_from_saved_numbers(fig1, capsys):
    card, out = fig1
    (out / "fig1.png").unlink()
    assert main(["figure", "fig1", "--results", str(out)]) == 0
    assert (out / "fig1.png").is_file()
