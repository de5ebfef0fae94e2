"""Unit regression: statsmodels oracles, CPD and partial-correlation identities, multiple-comparison
corrections, the planted-signal test, shuffle nulls, and clear errors for bad inputs."""

import numpy as np
import pytest
import statsmodels.api as sm
import xarray as xr
from scipy import stats
from statsmodels.stats.multitest import multipletests

from neurometarl.analysis import (
    baseline_latents, fdr_bh, fit_ols, fraction_significant, make_regressors, partial_correlation, unit_regression,
)
from neurometarl.analysis.synthetic import plant_units, synthetic_recording
from neurometarl.errors import DataError
from neurometarl.lab import record_session
from neurometarl.models import make_baseline


@pytest.fixture(scope="module")
def rw():
    """A real recording: the Rescorla–Wagner model as a subject on the correlated bandit (its Q-values are the units)."""
    return record_session(make_baseline("rw"), "bandit-correlated", 60, seed=0)


@pytest.fixture(scope="module")
def multi():
    """A four-period recording (fixation, cue, choice, outcome) with 12 noise units."""
    return synthetic_recording(40, 15, n_units=12, seed=3)


# --- the OLS core against statsmodels ----------------------------------------------------------

def test_fit_ols_equals_statsmodels_on_random_data():
    rng = np.random.default_rng(0)
    n, p, k = 400, 5, 9
    X = np.c_[np.ones(n), rng.normal(size=(n, p - 1))]
    Y = X @ rng.normal(size=(p, k)) * 0.2 + rng.normal(size=(n, k))
    fit = fit_ols(X, Y)
    for j in range(k):
        ref = sm.OLS(Y[:, j], X).fit()
        np.testing.assert_allclose(fit.coef[:, j], ref.params, rtol=0, atol=1e-8)
        np.testing.assert_allclose(fit.se[:, j], ref.bse, rtol=0, atol=1e-8)
        np.testing.assert_allclose(fit.t[:, j], ref.tvalues, rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(fit.p_value[:, j], ref.pvalues, rtol=0, atol=1e-8)
        np.testing.assert_allclose(fit.rss[j], ref.ssr, rtol=1e-10)
        np.testing.assert_allclose(fit.r2[j], ref.rsquared, rtol=0, atol=1e-10)
        assert fit.df_resid == ref.df_resid


def test_fit_ols_batched_with_masks_equals_separate_statsmodels_fits():
    rng = np.random.default_rng(1)
    B, n, p, k = 3, 150, 4, 5
    X = np.concatenate([np.ones((B, n, 1)), rng.normal(size=(B, n, p - 1))], -1)
    Y = rng.normal(size=(B, n, k)) + X[..., 1:2]
    mask = rng.random((B, n)) > 0.3
    X[~mask] = np.nan  # masked rows may hold anything
    fit = fit_ols(X, Y, mask)
    for b in range(B):
        for j in range(k):
            ref = sm.OLS(Y[b, mask[b], j], X[b, mask[b]]).fit()
            np.testing.assert_allclose(fit.coef[b, :, j], ref.params, atol=1e-8)
            np.testing.assert_allclose(fit.se[b, :, j], ref.bse, atol=1e-8)
            np.testing.assert_allclose(fit.p_value[b, :, j], ref.pvalues, atol=1e-8)
        assert fit.n_samples[b] == mask[b].sum()


def test_cpd_equals_reduced_model_fits():
    rng = np.random.default_rng(2)
    n = 300
    X = np.c_[np.ones(n), rng.normal(size=(n, 3))]
    X[:, 2] += 0.5 * X[:, 1]  # correlated regressors: CPD is not the squared simple correlation
    Y = X @ np.array([[0.1], [0.5], [-0.3], [0.0]]) + rng.normal(size=(n, 1))
    fit = fit_ols(X, Y)
    full = sm.OLS(Y[:, 0], X).fit().ssr
    for j in range(1, 4):
        reduced = sm.OLS(Y[:, 0], np.delete(X, j, axis=1)).fit().ssr
        np.testing.assert_allclose(fit.cpd[j, 0], (reduced - full) / reduced, rtol=1e-9)


def _residual_corr(y, x, others):
    """Partial correlation by definition: correlate the residuals of y and x on the other regressors."""
    Z = np.c_[np.ones(len(y)), others]
    ry = y - Z @ np.linalg.lstsq(Z, y, rcond=None)[0]
    rx = x - Z @ np.linalg.lstsq(Z, x, rcond=None)[0]
    return np.corrcoef(ry, rx)[0, 1]


def test_partial_correlation_pearson_and_spearman_match_residual_definition(rw):
    names = ["prev_action", "prev_reward", "prev_action_x_reward"]
    table = make_regressors(rw, names)
    keep = np.isfinite(table["prev_action"].values.ravel())
    Xr = np.stack([table[n].values.ravel()[keep] for n in names], 1)
    Y = rw["hidden"].values[:, :, :].reshape(-1, rw.sizes["unit"])[keep]
    for method in ("pearson", "spearman"):
        res = partial_correlation(rw, names, method=method, period="choice")
        for u in range(Y.shape[1]):
            y = Y[:, u] if method == "pearson" else stats.rankdata(Y[:, u])
            Xm = Xr if method == "pearson" else np.apply_along_axis(stats.rankdata, 0, Xr)
            for j, name in enumerate(names):
                ref = _residual_corr(y, Xm[:, j], np.delete(Xm, j, axis=1))
                np.testing.assert_allclose(res["r"].sel(regressor=name).values[u], ref, atol=1e-10)


def test_unit_regression_on_a_recording_equals_statsmodels_per_unit(rw):
    latents = baseline_latents(rw)
    names = ["prev_action", "prev_reward", "chosen_value"]
    res = unit_regression(rw, names, latents=latents, period="choice")
    table = make_regressors(rw, names, latents=latents)
    X = np.stack([table[n].values.ravel() for n in names], 1)
    keep = np.isfinite(X).all(1)
    X = sm.add_constant(X[keep])
    for u, unit in enumerate(rw["unit"].values):
        y = rw["hidden"].sel(unit=unit).values.ravel()[keep].astype(float)
        ref = sm.OLS(y, X).fit()
        np.testing.assert_allclose(res["coef"].sel(unit=unit).values, ref.params, atol=1e-8)
        np.testing.assert_allclose(res["se"].sel(unit=unit).values, ref.bse, atol=1e-8)
        np.testing.assert_allclose(res["p_value"].sel(unit=unit).values, ref.pvalues, atol=1e-8)
    assert list(res["regressor"].values) == ["intercept", *names]
    assert res["coef"].dims == ("regressor", "unit")
    for name in res.data_vars:
        assert {"long_name", "units"} <= set(res[name].attrs)


def test_time_resolved_fits_equal_single_fits(multi):
    names = ["prev_reward", "action"]
    per_period = unit_regression(multi, names, period=None)
    assert per_period["coef"].dims == ("period", "regressor", "unit")
    assert list(per_period["period"].values) == ["fixation", "cue", "choice", "outcome"]
    cue = unit_regression(multi, names, period="cue")
    xr.testing.assert_allclose(per_period.sel(period="cue").drop_vars("period"), cue.drop_vars("period"))

    per_step = unit_regression(multi, names, by="step", period="cue")
    step = 4 * 6 + 1  # trial 6, cue
    table = make_regressors(multi, names)
    X = sm.add_constant(np.stack([table[n].values[:, 6] for n in names], 1))
    for u in range(3):
        ref = sm.OLS(multi["hidden"].values[:, step, u].astype(float), X).fit()
        np.testing.assert_allclose(per_step["coef"].sel(step=step).isel(unit=u).values, ref.params, atol=1e-8)
    assert int(per_step["step_trial"].sel(step=step)) == 6
    assert 0 not in per_step["step_trial"].values  # trial 0 has no previous reward


def test_regressors_are_aligned_to_the_named_period(multi):
    table = make_regressors(multi, ["value@fixation", "value@outcome", "prev_action", "action", "reward_prob[right]"])
    np.testing.assert_array_equal(table["value@fixation"].values, multi["value"].values[:, 0::4])
    np.testing.assert_array_equal(table["value@outcome"].values, multi["value"].values[:, 3::4])
    names = multi["choice"].attrs["flag_meanings"].split()
    signed = np.where(multi["choice"].values == names.index("right"), 1.0, -1.0)
    np.testing.assert_array_equal(table["action"].values, signed)
    np.testing.assert_array_equal(table["prev_action"].values[:, 1:], signed[:, :-1])
    assert np.isnan(table["prev_action"].values[:, 0]).all()
    np.testing.assert_array_equal(table["reward_prob[right]"].values, multi["reward_prob"].values[..., 1])


def test_chosen_value_from_baseline_latents(rw):
    latents = baseline_latents(rw)
    chosen = make_regressors(rw, ["chosen_value"], latents=latents)["chosen_value"].values
    q = rw["hidden"].values  # (episode, step = trial, action)
    expected = np.take_along_axis(q, rw["choice"].values[..., None].astype(int), -1)[..., 0]
    np.testing.assert_allclose(chosen, expected)


# --- multiple comparisons -------------------------------------------------------------------

def test_fdr_matches_statsmodels_and_fraction_significant_counts():
    rng = np.random.default_rng(4)
    p = np.concatenate([rng.uniform(size=(4, 80)), rng.uniform(0, 1e-3, size=(4, 20))], 1)
    expected = np.array([multipletests(row, 0.05, method="fdr_bh")[0] for row in p])
    np.testing.assert_array_equal(fdr_bh(p, 0.05), expected)
    res = xr.Dataset({"p_value": (("regressor", "unit"), p)}, coords={"regressor": list("abcd")})
    for correction, ref in [("fdr", expected.mean(1)), ("bonferroni", (p * 100 < 0.05).mean(1)), ("none", (p < 0.05).mean(1))]:
        frac = fraction_significant(res, correction=correction)
        np.testing.assert_allclose(frac["fraction"].values, ref)
        assert frac["fraction"].attrs["units"] == "1"


# --- planted signal ---------------------------------------------------------------------------

@pytest.mark.parametrize("fraction", [0.2, 0.45])
def test_planted_value_units_are_found_at_their_fraction(rw, fraction):
    """Units that encode value in a known fraction are found at that fraction (±5 points), and
    units with nothing planted are significant at the nominal rate."""
    latents = baseline_latents(rw)  # the RW model's chosen value (a model subject records no V_t)
    planted, coding = plant_units(rw, "chosen_value", n_units=400, fraction=fraction, effect=0.15, latents=latents, seed=5)
    res = unit_regression(planted, ["chosen_value", "prev_action", "prev_reward"], latents=latents, period="choice")
    bonf = fraction_significant(res, correction="bonferroni")["fraction"].sel(regressor="chosen_value")
    fdr = fraction_significant(res, correction="fdr")["fraction"].sel(regressor="chosen_value")
    assert abs(float(bonf) - fraction) <= 0.05
    assert abs(float(fdr) - fraction) <= 0.05
    # the null units: uncorrected false-positive rate near alpha = 0.05 (binomial s.d. ~0.012 here)
    null_p = res["p_value"].sel(regressor="chosen_value").values[~coding]
    assert abs((null_p < 0.05).mean() - 0.05) < 0.035
    # and regressors that nothing encodes are at the nominal rate over all units
    uncorrected = fraction_significant(res, correction="none")["fraction"]
    assert float(uncorrected.sel(regressor="prev_action")) < 0.09


def test_false_positive_rate_is_nominal_under_the_null(multi):
    planted, _ = plant_units(multi, "value@cue", n_units=1000, fraction=0.0, seed=6)
    res = unit_regression(planted, ["value@cue", "prev_reward", "action"], period="cue")
    frac = fraction_significant(res, correction="none", alpha=0.05)["fraction"].values
    assert np.all(np.abs(frac - 0.05) < 0.025), frac  # 1000 units: binomial s.d. 0.007
    assert fraction_significant(res, correction="bonferroni")["n_significant"].sum() <= 1


def test_shuffle_null_p_values(multi):
    planted, coding = plant_units(multi, "value@choice", n_units=30, fraction=0.5, effect=0.6, period="choice", seed=7)
    res = unit_regression(planted, ["value@choice"], period="choice", n_shuffles=39, random_state=0)
    assert res["null_t"].dims == ("shuffle", "regressor", "unit")
    p = res["p_shuffle"].sel(regressor="value@choice").values
    assert np.all(p[coding] == 1 / 40)  # every planted unit beats every shuffle
    assert np.median(p[~coding]) > 0.2
    again = unit_regression(planted, ["value@choice"], period="choice", n_shuffles=39, random_state=0)
    xr.testing.assert_identical(res, again)  # seeded
    trial_null = unit_regression(planted, ["value@choice"], period="choice", n_shuffles=9, shuffle="trial", random_state=1)
    assert trial_null["p_shuffle"].sel(regressor="value@choice").values[coding].max() == 0.1


def test_padding_trials_are_left_out(multi):
    """Episodes that end early (an ``active`` latent equal to 0 afterwards) contribute no padding samples."""
    ds = multi.copy()
    active = np.ones((ds.sizes["episode"], ds.sizes["trial"]), np.float32)
    active[::2, 10:] = 0  # every other episode ends after 10 trials
    ds["active"] = (("episode", "trial"), active, {"long_name": "episode running", "units": "1"})
    res = unit_regression(ds, ["prev_reward", "action"], period="cue")
    assert int(res["n_samples"]) == active[:, 1:].sum()
    per_step = unit_regression(ds, ["action"], by="step", period="cue")
    assert int(per_step["n_samples"].sel(step=4 * 12 + 1)) == ds.sizes["episode"] // 2
    keep = active.ravel() > 0
    X = sm.add_constant(make_regressors(ds, ["action"])["action"].values.ravel()[keep])
    ref = sm.OLS(ds["hidden"].values[:, 1::4, 0].ravel()[keep].astype(float), X).fit()
    np.testing.assert_allclose(unit_regression(ds, ["action"], period="cue")["coef"].isel(unit=0).values, ref.params, atol=1e-8)


# --- errors ---------------------------------------------------------------------------------

def test_clear_errors_for_bad_inputs(rw, multi):
    with pytest.raises(DataError, match="not in the recording"):
        unit_regression(rw, ["prev_action", "volatility"])
    with pytest.raises(DataError, match=r"extra dim 'arm'.*reward_prob\[left\]"):
        unit_regression(rw, ["reward_prob"])
    with pytest.raises(DataError, match="shape"):
        unit_regression(rw, {"bad": np.zeros((3, 4))})
    with pytest.raises(DataError, match="has 5 episodes"):
        unit_regression(rw, {"bad": xr.DataArray(np.zeros((5, rw.sizes["trial"])), dims=("episode", "trial"))})
    with pytest.raises(DataError, match="empty"):
        unit_regression(rw, [])
    with pytest.raises(DataError, match="empty"):
        unit_regression(multi, ["action"], period=[])
    with pytest.raises(DataError, match="empty"):
        unit_regression(rw, ["action"], trials=slice(5, 5))
    with pytest.raises(DataError, match="unknown period"):
        unit_regression(multi, ["action"], period="delay")
    with pytest.raises(DataError, match="rank-deficient"):
        unit_regression(rw, {"a": rw["reward"], "b": 2 * rw["reward"]})
    with pytest.raises(DataError, match="no unit variable 'cell'"):
        unit_regression(rw, ["action"], var="cell")
    with pytest.raises(DataError, match="correction"):
        fraction_significant(unit_regression(rw, ["action"]), correction="holm")
