"""Fitting: the sklearn contract, ML / MAP / hierarchical EB, standard errors, cross-validation, model
comparison and the behavioural invariants of the models as lab subjects."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from sklearn.base import clone

from neurometarl.data import recording_to_table
from neurometarl.errors import ConfigError, DataError
from neurometarl.models import MODELS, make_model
from neurometarl.models.fitting import compare_models, cross_validate
from neurometarl.models.optimize import hessian_rows, minimize_rows
from neurometarl.models.recovery import model_recovery, parameter_recovery, recovery_correlations, sample_parameters

REVERSAL = dict(common_prob=1.0, reward_levels=(0.9, 0.1), switch_prob=0.1, stage2_response="any")


@pytest.fixture(scope="module")
def rw_data():
    """12 RW subjects, 4 sessions x 100 trials of a probabilistic reversal bandit (the two-step protocol
    with deterministic transitions)."""
    model = make_model("rw")
    true = pd.DataFrame({"alpha": np.linspace(0.15, 0.8, 12), "beta": np.tile([2.0, 4.0, 6.0], 4)})
    ds = model.simulate("twostep", params=true, n_episodes=4, seed=1, n_trials=100, **REVERSAL)
    table = recording_to_table(ds)
    assert table["violation"].sum() == 0  # a bandit model answers fixation and stage 2 validly
    return true, table.drop(columns=["transition", "state2"])


def test_pooled_fit_is_one_subject_with_every_session(rw_data):
    """A pooled fit over subjects maximises the summed likelihood: the same optimum as the ordinary fit
    of one subject holding all those sessions; the fitted set is used for every subject."""
    _, table = rw_data
    few = table[table["subject"].isin(table["subject"].unique()[:3])]
    pooled = make_model("rw", n_starts=2, random_state=1).fit(few, pooled=True)
    assert list(pooled.params_.index) == ["pooled"] and pooled.converged_
    assert pooled.nll_ == pytest.approx(-pooled.loglik_per_subject(few).sum(), abs=1e-9)
    assert pooled.n_choices_ == len(few) and pooled.n_params_ == 2
    assert pooled.bic_ == pytest.approx(2 * pooled.nll_ + 2 * np.log(len(few)), abs=1e-12)
    one = make_model("rw", n_starts=2).fit(few.assign(subject="all", session=few["subject"].astype(str) + few["session"].astype(str)))
    assert one.nll_ == pytest.approx(pooled.nll_, abs=1e-6)
    assert np.allclose(one.params_.to_numpy(), pooled.params_.to_numpy(), rtol=1e-3)
    assert not hasattr(pooled, "subject_fits_")  # a refit drops an earlier fit's attributes
    one.fit(few, pooled=True)
    assert not hasattr(one, "subject_fits_") and one.nll_ == pytest.approx(pooled.nll_, abs=1e-6)
    with pytest.raises(ConfigError, match="pooled fit is maximum likelihood"):
        make_model("rw", method="map").fit(few, pooled=True)


def test_with_params_and_windowed_fits(rw_data):
    _, table = rw_data
    given = make_model("rw").with_params({"alpha": 0.3, "beta": 4.0})
    assert given.score(table) == pytest.approx(make_model("rw").score(table, params={"alpha": 0.3, "beta": 4.0}))
    with pytest.raises(ConfigError, match="must lie in"):
        make_model("rw").with_params({"alpha": 1.5, "beta": 4.0})
    hybrid = make_model("hybrid").with_params({"alpha1": 0.5, "alpha2": 0.5, "lambda": 0.5, "beta1": 3.0, "perseveration": 0.1, "w": 0.5})
    assert np.isfinite(hybrid.latents(recording_to_table(
        hybrid.simulate("twostep", n_episodes=2, seed=0, n_trials=30)))["p_choose_right"]).all()
    few = table[table["subject"].isin(table["subject"].unique()[:2])]
    fits = make_model("rw", n_starts=1).fit_windows(few, window=20, step=40).window_fits_
    assert fits.index.names == ["subject", "window_start"] and list(fits.columns) == ["alpha", "beta", "nll"]
    assert len(fits) == 2 * 3 and (fits["nll"] > 0).all()


def test_sklearn_contract(rw_data):
    true, table = rw_data
    model = make_model("rw", n_starts=2)
    assert model.get_params()["n_starts"] == 2 and not hasattr(model, "params_")
    with pytest.raises(ConfigError, match="not fitted"):
        model.predict_proba(table)
    assert model.fit(table) is model
    assert list(model.params_.columns) == ["alpha", "beta"] and len(model.params_) == 12
    fits = model.subject_fits_
    assert np.allclose(fits["bic"], 2 * fits["nll"] + 2 * np.log(fits["n_choices"]))
    assert model.bic_ == pytest.approx(fits["bic"].sum()) and model.aic_ == pytest.approx(2 * model.nll_ + 2 * 2 * 12)
    assert fits["converged"].all()
    prob = model.predict_proba(table)
    assert prob.shape == (len(table), 2) and np.allclose(prob.sum(1), 1)
    assert model.score(table) == pytest.approx(-model.nll_ / model.n_choices_)
    cloned = clone(model)
    assert cloned.get_params() == model.get_params() and not hasattr(cloned, "params_")


def test_ml_recovers_parameters_with_calibrated_errors(rw_data):
    true, table = rw_data
    model = make_model("rw", n_starts=2).fit(table)
    err = model.params_.reset_index(drop=True) - true
    z = err / model.params_se_.reset_index(drop=True)
    assert np.abs(err["alpha"]).mean() < 0.08 and np.abs(err["beta"] / true["beta"]).mean() < 0.2
    assert np.abs(z).stack().median() < 1.5  # standard errors of the right size
    r = np.corrcoef(true["alpha"], model.params_["alpha"])[0, 1]
    assert r > 0.9


def test_map_and_eb_shrink_toward_the_group(rw_data):
    true, table = rw_data
    ml = make_model("rw", n_starts=2).fit(table)
    eb = make_model("rw", n_starts=2, method="eb").fit(table)
    spread = lambda m: m.params_unconstrained_["beta"].std()
    assert spread(eb) < spread(ml)
    assert abs(eb.group_mean_["alpha"] - ml.params_unconstrained_["alpha"].mean()) < 0.3
    assert np.isfinite(eb.ibic_) and eb.ibic_ > 2 * eb.nll_
    assert eb.nll_ >= ml.nll_ - 1e-6  # ML is the maximum of the likelihood alone
    strong = make_model("rw", method="map", prior={"alpha": (0.0, 0.01)}).fit(table)
    assert np.allclose(strong.params_["alpha"], 0.5, atol=0.01)  # logit 0 = 0.5, held by a tight prior
    with pytest.raises(ConfigError, match="unknown parameter"):
        make_model("rw", method="map", prior={"gamma": (0, 1)}).fit(table)


def test_cross_validation_holds_out_sessions(rw_data):
    _, table = rw_data
    cv = cross_validate(make_model("rw", n_starts=1), table, n_folds=2, random_state=0)
    assert len(cv) == 24 and (cv["test_loglik"] < 0).all()
    assert cv.groupby("subject")["n_test"].sum().eq(table.groupby("subject").size()).all()
    one_session = table[table["session"] == 0]
    with pytest.raises(DataError, match="fewer than n_folds"):
        cross_validate(make_model("rw"), one_session, n_folds=2)
    with pytest.raises(ConfigError, match="'eb'"):
        cross_validate(make_model("rw", method="eb"), table)


def test_comparison_prefers_the_generating_model():
    gen = make_model("rw", perseveration=True)
    true = sample_parameters(gen, 8, {"kappa": (1.5, 2.5), "tau": (0.3, 0.6), "beta": (2, 5)}, random_state=0)
    table = recording_to_table(gen.simulate("bandit-restless", params=true, n_episodes=2, seed=0, n_trials=150, drift_sd=0.1))
    summary, per_subject = compare_models({"rw": make_model("rw", n_starts=2), "rw-perseveration": make_model("rw-perseveration", n_starts=2)},
                                          table, cv_folds=2)
    assert summary.index[0] == "rw-perseveration" and summary["delta_bic"].iloc[1] > 10
    assert summary.loc["rw-perseveration", "cv_loglik"] > summary.loc["rw", "cv_loglik"]
    assert per_subject.shape == (8, 2)


def test_minimize_rows_solves_independent_problems():
    import torch

    centres = torch.tensor([[1.0, -2.0], [0.5, 3.0], [-1.0, 0.0]], dtype=torch.float64)
    scales = torch.tensor([1.0, 10.0, 100.0], dtype=torch.float64)

    def f(x):
        c, s = centres.repeat(x.shape[0] // 3, 1), scales.repeat(x.shape[0] // 3)
        return s * ((x - c) ** 2).sum(1) + (x[:, 0] - c[:, 0]) ** 4

    res = minimize_rows(f, torch.zeros(3, 2, dtype=torch.float64))
    assert res.converged.all() and torch.allclose(res.x, centres, atol=1e-4)
    H = hessian_rows(f, res.x)
    assert torch.allclose(H, torch.diag_embed(2 * scales[:, None].expand(3, 2)), rtol=1e-4)


def test_every_registered_model_fits_and_reports_latents():
    bandit = recording_to_table(make_model("rw").simulate("bandit-restless", params={"alpha": [0.4, 0.5], "beta": [3.0, 4.0]}, seed=0, n_trials=40))
    twostep = recording_to_table(make_model("mb").simulate("twostep", params={"alpha2": [0.5], "beta1": [4.0], "perseveration": [0.1]}, n_episodes=2, seed=0, n_trials=40))
    for name in MODELS:
        model = make_model(name, n_starts=1, max_iter=30)
        data = twostep if model.kind == "twostep" else bandit
        model.fit(data)
        lat = model.latents(data)
        assert len(lat) == len(data) and "p_choose_right" in lat
        assert any(c.startswith("rpe") for c in lat.columns), name
        assert np.isfinite(model.params_.to_numpy()).all(), name


def test_latents_of_a_recording_are_on_episode_and_trial():
    model = make_model("hybrid")
    params = {"alpha1": 0.5, "alpha2": 0.5, "lambda": 0.5, "beta1": 4.0, "perseveration": 0.0, "w": 0.5}
    ds = model.simulate("twostep", params=params, n_episodes=3, seed=2, n_trials=20)
    lat = model.latents(ds, params=params)
    assert isinstance(lat, xr.Dataset) and lat["rpe2"].dims == ("episode", "trial")
    table = recording_to_table(ds)
    # the second-stage prediction error is reward minus the value of the state reached
    v2 = np.where(table["state2"] == 0, lat["v2_state0"].values.ravel(), lat["v2_state1"].values.ravel())
    assert np.allclose(lat["rpe2"].values.ravel(), table["reward"] - v2)
    # the model's policy in the recording is the policy the likelihood computes
    p_rec = ds["policy"].isel(step=slice(1, None, 3)).sel(action="right").values
    assert np.allclose(lat["p_choose_right"].values, p_rec, atol=1e-6)


def test_rw_subject_repeats_rewarded_choices():
    ds = make_model("rw").simulate("bandit-restless", params={"alpha": [0.5] * 50, "beta": [5.0] * 50}, seed=0, n_trials=60)
    t = recording_to_table(ds)
    prev = t.groupby("subject").shift(1)
    stay = (t["choice"] == prev["choice"])[prev["choice"].notna()]
    won = (prev["reward"] > 0)[prev["choice"].notna()]
    assert stay[won].mean() > stay[~won].mean() + 0.2


def test_bayesian_observers_move_toward_the_rewarded_arm():
    rows = [{"subject": 0, "trial": t, "choice": 1, "reward": 1.0} for t in range(5)]
    table = pd.DataFrame(rows)
    for name, params in (("beta-bernoulli", {"beta": 3.0}), ("hmm-reversal", {"hazard": 0.05, "beta": 3.0})):
        p = make_model(name).predict_proba(table, params=params)[:, 1]
        assert np.all(np.diff(p) > 0) and p[0] == pytest.approx(0.5), name


def test_volatility_observer_infers_volatility():
    rng = np.random.default_rng(0)
    rows, better = [], 0
    for t in range(300):
        if t >= 150 and t % 25 == 0:
            better = 1 - better  # volatile second half: reversals every 25 trials
        p_left = (0.75 if t < 150 else 0.8) if better == 0 else (0.25 if t < 150 else 0.2)
        choice = int(rng.integers(2))
        won = rng.random() < (p_left if choice == 0 else 1 - p_left)
        rows.append({"subject": 0, "trial": t, "choice": choice, "reward": float(won)})
    lat = make_model("volatility").latents(pd.DataFrame(rows), params={"beta": 3.0})
    stable, volatile = lat["volatility"].iloc[90:150].mean(), lat["volatility"].iloc[160:300].mean()
    assert stable < 0.07 and volatile > 1.8 * stable
    assert lat["p_left_pays"].iloc[100:150].mean() > 0.65  # left pays 0.75 in the stable phase


def test_model_errors_are_clear():
    with pytest.raises(ConfigError, match="unknown model 'sarsa'"):
        make_model("sarsa")
    with pytest.raises(ConfigError, match="bad option"):
        make_model("rw", colour="red")
    with pytest.raises(ConfigError, match="method must be"):
        make_model("rw", method="mcmc").fit(pd.DataFrame({"subject": [0], "trial": [0], "choice": [0], "reward": [1.0]}))
    with pytest.raises(ConfigError, match="two-step protocols"):
        make_model("hybrid").simulate("bandit-fixed", params={"alpha1": [0.5]})
    with pytest.raises(ConfigError, match="must lie in"):
        make_model("rw").simulate("bandit-fixed", params={"alpha": [1.5], "beta": [1.0]})


def test_parameter_recovery_utility_runs():
    rec = parameter_recovery(make_model("rw", n_starts=1), "bandit-restless", n_subjects=6, n_trials=80, seed=0,
                             task_overrides={"drift_sd": 0.1})
    assert {"true_alpha", "fit_alpha", "se_alpha", "true_beta", "fit_beta"} <= set(rec.columns) and len(rec) == 6
    r = recovery_correlations(rec)
    assert set(r.index) == {"alpha", "beta"} and (r > 0).all()


def test_recovery_fits_see_the_simulated_protocol(monkeypatch):
    # the fits read the simulated recording, so a two-step model plans with the protocol's known
    # transition probability (0.7), not the fraction of common transitions that happened to be drawn
    from neurometarl.models.twostep import HybridTwoStep

    fitted, fit = [], HybridTwoStep.fit
    monkeypatch.setattr(HybridTwoStep, "fit", lambda self, data, y=None, **kw: fitted.append(self) or fit(self, data, y, **kw))
    rec = parameter_recovery(make_model("hybrid", n_starts=1, max_iter=5), "twostep-daw-choice", n_subjects=2, n_trials=30, seed=0)
    assert len(rec) == 2 and [m.common_prob_ for m in fitted] == [0.7]
    confusion, _ = model_recovery({"mf": make_model("mf", n_starts=1, max_iter=5)}, "twostep-daw-choice", n_subjects=2, n_trials=30)
    assert confusion.shape == (1, 1) and fitted[-1].common_prob_ == 0.7
