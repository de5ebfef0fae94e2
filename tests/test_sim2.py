"""The Sim 2 experiment end to end on a tiny training budget (two replicas, one update each, a small
test set): checkpoints → recordings on both schedules → learning rates, decoding, unit coding,
baselines → numbers → Fig. 3 → scorecard; the full claim checks on the shipped checkpoints run with
--run-slow."""

import json

import pytest

from neurometarl.experiments import run_experiment

CLAIMS = {"learning_rate_adapts", "decoded_volatility", "volatility_units", "fixed_rw_flat"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim2")
    card = run_experiment("sim2", out, retrain=True, n_seeds=2, scale=0.002, progress=False, sizes={"n_test": 30})
    return card, out, json.loads((out / "numbers.json").read_text())


def test_scorecard_has_every_claim_measured(tiny):
    card, out, _ = tiny
    assert {c["claim"] for c in card["claims"]} == CLAIMS
    for c in card["claims"]:
        assert "not computed" not in str(c["measured"]), c
    assert (out / "checkpoints" / "sim2" / "agent" / "seed1" / "checkpoint.pt").is_file()


def test_numbers_and_figure(tiny):
    _, out, numbers = tiny
    n_windows = len(numbers["window_centre"])
    for s in ("agent", "bayes", "fixed_rw"):
        assert len(numbers["phase_rates"][s]) == 2
        assert set(numbers["phase_rates"][s][0]) == {"stable-1", "volatile-1", "volatile-2", "stable-2"}
        assert len(numbers["learning_rate_curves"][s][0]["stable-first"]) == n_windows
    assert len(numbers["decoding_r"]) == 2 and all(-1 <= r <= 1 for r in numbers["decoding_r"])
    assert all(0 <= f <= 1 for f in numbers["volatility_unit_fraction"])
    assert numbers["volatile_trials"]["stable-first"][:100] == [0] * 100
    assert (out / "fig3.png").stat().st_size > 50_000 and (out / "fig3.pdf").is_file()


@pytest.mark.slow
def test_shipped_checkpoints_pass_every_claim(tmp_path):
    card = run_experiment("sim2", tmp_path, progress=False)
    failed = [(c["claim"], c["measured"]) for c in card["claims"] if not c["pass"]]
    assert not failed, failed
