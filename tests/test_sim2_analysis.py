"""Sim 2 analyses: the sliding-window learning rate (against the behaviour package's estimator, and
recovery of a fixed-rate learner) and the Bayesian observer's volatility on a subject's own trials."""

import numpy as np

from neurometarl.analysis.behaviour import sliding_window_learning_rate
from neurometarl.experiments.episode_fits import window_learning_rates
from neurometarl.experiments.sim2 import observer_volatility, phase_rates
from neurometarl.models import BehrensLearner, VolatilityObserver


def test_window_learning_rate_equals_the_behaviour_package_fit():
    ds = BehrensLearner().simulate("volatility-stable-first", params={"alpha": [0.3], "beta": [0.1]}, n_episodes=6,
                                   seed=3, n_trials=40, n_stable=20)
    theirs = sliding_window_learning_rate(ds.assign_coords(subject=("episode", np.zeros(6, int))), window=10, step=10)
    mine = window_learning_rates(ds, window=10, step=10, n_alpha=200)
    np.testing.assert_allclose(mine["alpha"], theirs["alpha"].isel(subject=0), atol=0.005)
    np.testing.assert_allclose(mine["nll"], theirs["nll"].isel(subject=0), rtol=1e-3)


def test_fixed_rate_learner_comes_back_flat_at_its_rate():
    for schedule in ("stable-first", "volatile-first"):
        ds = BehrensLearner().simulate(f"volatility-{schedule}", params={"alpha": [0.25], "beta": [0.15]},
                                       n_episodes=200, seed=4)
        lr = window_learning_rates(ds, step=10)
        rates = phase_rates(lr, ds["volatile"].isel(episode=0).to_numpy())
        assert abs(rates[0] - 0.25) < 0.03 and abs(rates[1] - 0.25) < 0.03
        assert abs(rates[1] - rates[0]) < 0.03


def test_bayesian_observer_learns_faster_when_volatile_and_tracks_volatility():
    ds = VolatilityObserver().simulate("volatility-stable-first", params={"beta": [0.15]}, n_episodes=150, seed=5)
    rates = phase_rates(window_learning_rates(ds, step=5), ds["volatile"].isel(episode=0).to_numpy())
    assert rates[1] > rates[0] + 0.03
    vol = observer_volatility(ds)
    assert vol.dims == ("episode", "trial")
    # its own latent, recomputed from the recording's choices and outcomes, is the same estimate
    np.testing.assert_allclose(vol.to_numpy(), ds["hidden"].sel(unit="volatility").to_numpy(), atol=1e-5)
    mean = vol.mean("episode").to_numpy()
    assert mean[160:200].mean() > mean[60:100].mean() + 0.02  # higher in the volatile second half
