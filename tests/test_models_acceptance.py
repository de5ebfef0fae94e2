"""Acceptance-scale checks of the behavioural-model library (slow: minutes).

    .venv/bin/pytest tests/test_models_acceptance.py --run-slow -s     # as tests, printing the numbers
    .venv/bin/python tests/test_models_acceptance.py                   # as a script: every number

Each check simulates through the lab (``model.simulate`` → recording → ``recording_to_table``), exactly
as an agent's recordings are analysed, and fits with the default options unless stated.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
import torch

from neurometarl.analysis.behaviour import stay_probabilities, stay_summary
from neurometarl.data import load_rat_twostep
from neurometarl.models import make_model
from neurometarl.models.fitting import compare_models
from neurometarl.models.recovery import model_recovery, parameter_recovery, recovery_correlations

#: Q-learning recovery design: a probabilistic reversal bandit (the two-step protocol with
#: deterministic transitions: left always leads to S1, right to S2; rewards 0.9 / 0.1, the better arm
#: swapping with probability 0.1 per trial), alpha ~ U(0.1, 0.9), beta log-uniform on [1, 10], MAP fits
#: with the default weak priors.
Q_TASK, Q_OVERRIDES = "twostep", {"common_prob": 1.0, "reward_levels": (0.9, 0.1), "switch_prob": 0.1, "stage2_response": "any"}
Q_RANGES, Q_LOG = {"alpha": (0.1, 0.9), "beta": (1.0, 10.0)}, ("beta",)
#: two-step design: Daw et al. 2011 with its second-stage choice; hybrid w drawn in [0.25, 0.75] for
#: model recovery, so that a "hybrid" subject is neither purely model-free nor purely model-based
TWOSTEP_TASK = "twostep-daw-choice"


def q_learning_recovery(seed: int = 0, n_subjects: int = 20, n_trials: int = 200) -> pd.Series:
    rec = parameter_recovery(make_model("rw", method="map"), Q_TASK, n_subjects=n_subjects, n_trials=n_trials,
                             ranges=Q_RANGES, log=Q_LOG, seed=seed, task_overrides=Q_OVERRIDES)
    return recovery_correlations(rec)


def hybrid_recovery(seed: int = 0, n_subjects: int = 20, n_trials: int = 200) -> pd.Series:
    rec = parameter_recovery(make_model("hybrid"), TWOSTEP_TASK, n_subjects=n_subjects, n_trials=n_trials, seed=seed)
    return recovery_correlations(rec)


def twostep_model_recovery(seed: int = 0, n_subjects: int = 30, n_trials: int = 200) -> pd.DataFrame:
    models = {name: make_model(name) for name in ("mf", "mb", "hybrid")}
    confusion, _ = model_recovery(models, TWOSTEP_TASK, n_subjects=n_subjects, n_trials=n_trials,
                                  ranges={"hybrid": {"w": (0.25, 0.75)}}, seed=seed)
    return confusion


def rat_results() -> dict:
    rats = load_rat_twostep()
    stay = stay_summary(stay_probabilities(rats))
    models = {name: make_model(name) for name in ("mf", "mb", "hybrid", "latent-state")}
    summary, per_subject = compare_models(models, rats)  # fits every model in place
    return {"stay": stay, "comparison": summary, "per_subject_bic": per_subject, "w": models["hybrid"].params_["w"]}


@pytest.mark.slow
def test_q_learning_parameter_recovery():
    r = q_learning_recovery()
    print(f"\nQ-learning recovery, 20 subjects x 200 trials: Pearson r = {r.round(3).to_dict()}")
    assert r["alpha"] >= 0.9 and r["beta"] >= 0.9


@pytest.mark.slow
def test_hybrid_w_recovery():
    r = hybrid_recovery()
    print(f"\nhybrid recovery on {TWOSTEP_TASK}, 20 subjects x 200 trials: Pearson r = {r.round(3).to_dict()}")
    assert r["w"] >= 0.8


@pytest.mark.slow
def test_twostep_model_recovery():
    confusion = twostep_model_recovery()
    print(f"\nmodel recovery on {TWOSTEP_TASK}, 30 subjects per model, by BIC:\n{confusion.round(3)}")
    assert (np.diag(confusion.to_numpy()) >= 0.8).all()


@pytest.mark.slow
def test_rat_data():
    res = rat_results()
    print(f"\nrat stay probabilities: {res['stay']}\n{res['comparison'].round(1)}\nhybrid w per rat: {res['w'].round(3).to_dict()}")
    card = {"common_rewarded": 0.861, "rare_rewarded": 0.465, "common_unrewarded": 0.458, "rare_unrewarded": 0.863}
    assert all(abs(res["stay"][k] - v) <= 0.005 for k, v in card.items())
    assert (res["w"] > 0.5).sum() > len(res["w"]) / 2
    assert res["comparison"].index[0] != "mf" and res["comparison"].loc["mf", "delta_bic"] > 10


if __name__ == "__main__":
    torch.set_num_threads(1)
    for name, fn in [("Q-learning recovery (r)", q_learning_recovery), ("hybrid recovery (r)", hybrid_recovery),
                     ("two-step model recovery (confusion by BIC)", twostep_model_recovery), ("rat data", rat_results)]:
        t0 = time.perf_counter()
        out = fn()
        print(f"== {name} [{time.perf_counter() - t0:.0f} s]")
        if isinstance(out, dict):
            for k, v in out.items():
                print(f"-- {k}\n{v if not isinstance(v, dict) else pd.Series(v).round(4)}")
        else:
            print(out.round(3))
