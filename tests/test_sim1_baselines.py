"""Sim 1 baselines and pooled fits: the baited-schedule Bayesian observer and parameter recovery."""

import numpy as np
import torch

from neurometarl.data import recording_to_table
from neurometarl.experiments.episode_fits import fit_numbers
from neurometarl.experiments.sim1 import active_table, richer_choice
from neurometarl.models import QLearning
from neurometarl.models.baited import BaitedObserver


def test_observer_posterior_finds_the_base_rate():
    """Played on fixed base rates, the observer's posterior mean of p0_R approaches the true value."""
    for p0_right in (0.05, 0.4):
        ds = BaitedObserver().simulate("matching-test", params={"beta": [10.0]}, n_episodes=40, seed=1,
                                       fixed_p0_right=p0_right, min_trials=100)
        estimate = ds["hidden"].sel(unit="p0_right").isel(step=-1).to_numpy()
        assert abs(np.median(estimate) - p0_right) < 0.06
        # the baseline answers the fixation cue with the centre action: no invalid responses
        assert (ds["step_reward"] >= 0).all()


def test_observer_prefers_the_arm_that_waited():
    """Predicted payoff grows with the trials an arm has waited (the baiting formula)."""
    model = BaitedObserver(n_grid=20)
    state = model._init_state({"beta": torch.ones(2, dtype=torch.float64)}, 2)
    state["n_since"] = torch.tensor([[0.0, 0.0], [0.0, 6.0]], dtype=torch.float64)
    pred = model._predicted(state)
    assert torch.allclose(pred[0], torch.tensor([0.25, 0.25], dtype=torch.float64))  # prior mean of p0 is 0.25
    assert pred[1, 1] > pred[1, 0] + 0.3


def test_pooled_fit_recovers_rw_with_perseveration():
    truth = {"alpha": 0.4, "beta": 6.0, "kappa": 1.0, "tau": 0.5}
    sim = QLearning(perseveration=True).simulate("matching", params={k: [v] for k, v in truth.items()},
                                                 n_episodes=150, seed=3)
    table = active_table(sim, "sim")
    table["subject"] = table["session"]
    model = QLearning(perseveration=True, n_starts=3, random_state=0).fit(table, pooled=True)
    fit = fit_numbers(model)
    assert fit["converged"]
    assert abs(fit["params"]["alpha"] - 0.4) < 0.12
    assert abs(fit["params"]["beta"] - 6.0) < 2.0
    assert abs(fit["params"]["kappa"] - 1.0) < 0.6
    # the fitted model's latents run on the same recording
    q = model.latents(sim)["q_left"]
    assert q.dims == ("episode", "trial") and np.isfinite(q.to_numpy()).all()


def test_active_table_drops_padding_and_richer_choice():
    sim = QLearning().simulate("matching-test", params={"alpha": [0.5], "beta": [8.0]}, n_episodes=60, seed=2)
    table = active_table(sim, "s")
    lengths = sim["episode_length"].isel(trial=0).to_numpy()
    assert len(table) == lengths.sum()
    assert len(recording_to_table(sim)) == 60 * 100
    p = richer_choice(sim)
    assert p.shape == (50,) and 0.5 < p[25:].mean() < 1.0  # a learner favours the richer arm
