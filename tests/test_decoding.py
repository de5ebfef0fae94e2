"""Decoding: scores equal scikit-learn's cross_val_score with the same episode-grouped folds; chance
by label shuffles sits at chance; over steps and across checkpoints."""

import numpy as np
import pytest
import xarray as xr
from sklearn.model_selection import cross_val_score

from neurometarl.analysis import decode, decode_checkpoints, episode_folds, make_decoder, make_regressors
from neurometarl.analysis.synthetic import plant_units, synthetic_recording
from neurometarl.errors import DataError


@pytest.fixture(scope="module")
def planted():
    """Four-period recording whose 20 units carry value at the cue (half of them)."""
    ds = synthetic_recording(60, 12, n_units=0, seed=11)
    out, _ = plant_units(ds, "value@cue", n_units=20, fraction=0.5, effect=0.8, period="cue", seed=12)
    return out


def _flat(ds, target, period):
    y = make_regressors(ds, [target])[target].values.ravel()
    X = ds["hidden"].values[:, ds["step_period"].values == ["fixation", "cue", "choice", "outcome"].index(period)]
    return X.reshape(-1, ds.sizes["unit"]).astype(np.float64), y, np.repeat(np.arange(ds.sizes["episode"]), ds.sizes["trial"])


def test_episode_folds_hold_out_whole_episodes():
    groups = np.repeat(np.arange(13), 7)
    folds = episode_folds(groups, 4, random_state=0)
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested) == list(range(len(groups)))  # every sample tested once
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])
    with pytest.raises(DataError, match="at least 5 episodes"):
        episode_folds(np.arange(4), 5)


def test_ridge_scores_equal_cross_val_score(planted):
    res = decode(planted, "value@cue", period="cue", kind="regression", alpha=3.0, n_shuffles=0, random_state=4)
    X, y, groups = _flat(planted, "value@cue", "cue")
    folds = episode_folds(groups, 5, np.random.default_rng(4))
    ref = cross_val_score(make_decoder("regression", alpha=3.0), X, y, cv=folds)
    np.testing.assert_allclose(res["score"].values, ref, rtol=0, atol=1e-8)
    assert res.attrs["metric"] == "r2"
    assert float(res["score_mean"]) > 0.5


def test_logistic_scores_equal_cross_val_score(planted):
    res = decode(planted, "action", period="choice", kind="classification", C=0.5, n_shuffles=0, random_state=2)
    X, y, groups = _flat(planted, "action", "choice")
    folds = episode_folds(groups, 5, np.random.default_rng(2))
    ref = cross_val_score(make_decoder("classification", C=0.5), X, y.astype(int), cv=folds)
    np.testing.assert_allclose(res["score"].values, ref, rtol=0, atol=1e-12)
    assert res.attrs["metric"] == "accuracy"


def test_decoding_over_periods_against_shuffled_chance(planted):
    res = decode(planted, "value@cue", period=None, n_shuffles=19, random_state=0)
    assert res["score"].dims == ("fold", "period")
    cue, fix = res.sel(period="cue"), res.sel(period="fixation")
    assert float(cue["score_mean"]) > 0.5 and float(cue["p_value"]) == pytest.approx(1 / 20)
    assert abs(float(fix["score_mean"])) < 0.1  # nothing planted at fixation
    # shuffled labels decode nothing: cross-validated R² at or below 0 (fold means differ, ridge overfits noise)
    assert np.all(res["chance"].values < 0.02) and np.all(res["chance"].values > -0.3)
    assert float(res["null_score"].sel(period="cue").max()) < float(cue["score_mean"])


def test_categorical_chance_is_half(planted):
    res = decode(planted, "action", period="fixation", n_shuffles=10, random_state=0)
    assert res.attrs["kind"] == "classification"
    assert abs(float(res["chance"]) - 0.5) < 0.06
    assert abs(float(res["score_mean"]) - 0.5) < 0.08  # the units carry no action information


def test_decoding_over_steps(planted):
    res = decode(planted, "value@cue", by="step", period="cue", n_shuffles=0, trials=slice(0, 4), n_splits=3)
    assert res["score"].dims == ("fold", "step")
    np.testing.assert_array_equal(res["step"].values, [1, 5, 9, 13])
    np.testing.assert_array_equal(res["step_trial"].values, [0, 1, 2, 3])
    assert (res["n_samples"] == planted.sizes["episode"]).all()
    # one step's decoder is the plain cross-validated decoder on that step's episodes
    X = planted["hidden"].values[:, 5].astype(np.float64)
    y = planted["value"].values[:, 4 * 1 + 1]
    fold_of = np.empty(60, int)
    for f, (_, test) in enumerate(episode_folds(np.arange(60), 3, np.random.default_rng(0))):
        fold_of[test] = f
    folds = [(np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)) for f in range(3)]
    ref = cross_val_score(make_decoder("regression"), X, y, cv=folds)
    np.testing.assert_allclose(res["score"].sel(step=5).values, ref, atol=1e-8)


def test_decoding_across_checkpoints(planted):
    noise, _ = plant_units(planted, "value@cue", n_units=20, fraction=0.0, seed=1)
    res = decode_checkpoints({1000: noise, 5000: planted}, "value@cue", period="cue", n_shuffles=5)
    assert res["score_mean"].dims == ("checkpoint",)
    np.testing.assert_array_equal(res["checkpoint"].values, [1000, 5000])
    assert float(res["score_mean"].sel(checkpoint=5000)) > float(res["score_mean"].sel(checkpoint=1000)) + 0.4
    xr.testing.assert_allclose(res.sel(checkpoint=5000).drop_vars("checkpoint"),
                               decode(planted, "value@cue", period="cue", n_shuffles=5))
    with pytest.raises(DataError, match="at least one"):
        decode_checkpoints([], "value")


def test_padding_trials_are_not_decoded(planted):
    ds = planted.copy()
    active = np.ones((ds.sizes["episode"], ds.sizes["trial"]), np.float32)
    active[1::3, 7:] = 0
    ds["active"] = (("episode", "trial"), active, {"long_name": "episode running", "units": "1"})
    res = decode(ds, "value@cue", period="cue", n_shuffles=3)  # episode shuffle with unequal episodes
    assert int(res["n_samples"]) == active.sum()
    assert float(res["score_mean"]) > 0.5 > float(res["chance"])


def test_decoding_errors(planted):
    with pytest.raises(DataError, match="not in the recording"):
        decode(planted, "volatility")
    with pytest.raises(DataError, match="shape"):
        decode(planted, np.zeros(7))
    with pytest.raises(DataError, match="empty"):
        decode(planted, "value", period=[])
    with pytest.raises(DataError, match="kind"):
        decode(planted, "value", kind="svm")
