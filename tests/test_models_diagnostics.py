"""Fits a reviewer can trust: diagnostics on subjects built to break fits (parameters at the cap,
chance-level choosers), nested models never worse than the models they contain, priors said out
loud, and the compiled likelihoods identical to the torch reference."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from neurometarl.data import load_rat_twostep, recording_to_table
from neurometarl.models import make_model
from neurometarl.models.diagnostics import FitWarning
from neurometarl.models.fitting import compare_models
from neurometarl.models.recurrence import use_engine

RW_VARIANTS = ["rw", "rw-asymmetric", "rw-forgetting", "rw-perseveration", "rw-lapse"]


def _bandit(params, n_trials=300, seed=0):
    ds = make_model("rw").simulate("bandit-restless", params=pd.DataFrame(params), seed=seed, n_trials=n_trials)
    return recording_to_table(ds)


@pytest.fixture(scope="module")
def rw_table():
    return _bandit({"alpha": [0.2, 0.5, 0.8, 0.4], "beta": [3.0, 6.0, 2.0, 8.0]}, seed=3)


@pytest.fixture(scope="module")
def rat_table():
    """Three rats, 800 trials each: enough for MF, MB and hybrid to differ."""
    table = load_rat_twostep()
    table = table[table["subject"].isin(pd.unique(table["subject"])[:3])]
    return table.groupby("subject", sort=False).head(800)


@pytest.fixture(scope="module")
def daw_table():
    """Simulated two-step subjects with second-stage choices (hybrid, w from MF-like to MB-like)."""
    params = pd.DataFrame({"alpha1": [0.5, 0.3, 0.6, 0.4], "alpha2": [0.5, 0.4, 0.3, 0.6], "lambda": [0.5, 0.8, 0.2, 0.6],
                           "beta1": [4.0, 3.0, 5.0, 2.0], "beta2": [3.0, 4.0, 3.0, 5.0], "perseveration": [0.2, 0.0, 0.3, -0.1],
                           "w": [0.1, 0.5, 0.9, 0.3]})
    ds = make_model("hybrid").simulate("twostep-daw-choice", params=params, n_trials=150, seed=2)
    return recording_to_table(ds)


def _capped(n_trials=200):
    """A subject who always takes the right arm and is always rewarded: Q_right > Q_left from trial 2 on
    for every alpha > 0, so the likelihood rises with beta all the way to its cap (ML beta = 50)."""
    return pd.DataFrame({"trial": np.arange(n_trials), "choice": 1, "reward": 1.0})


def test_subject_at_the_cap_is_reported_at_bound():
    """A subject whose ML inverse temperature is the cap, beside an ordinary simulated one: the fit
    says so, gives no standard error for beta, and warns once."""
    other = _bandit({"alpha": [0.5], "beta": [3.0]}, n_trials=200, seed=1)[["trial", "choice", "reward"]]
    table = pd.concat([_capped().assign(subject="capped"), other.assign(subject="ordinary")], ignore_index=True)
    with pytest.warns(FitWarning, match=r"beta at its upper bound \(50\) for 1 of 2 subjects"):
        model = make_model("rw", n_starts=3).fit(table)
    fits = model.subject_fits_
    assert model.params_.loc["capped", "beta"] > 49.9  # put on the cap once the objective is flat toward it
    assert fits["beta_at_bound"].tolist() == [True, False]
    assert model.at_bound_["beta"].tolist() == [True, False]
    assert np.isnan(fits["beta_se"].iloc[0]) and "at bound:" in fits["se_note"].iloc[0] and "beta" in fits["se_note"].iloc[0]
    assert np.isfinite(fits["beta_se"].iloc[1]) and fits["se_note"].iloc[1] == ""
    assert "beta" in fits["at_bound"].iloc[0].split(";")


def test_chance_level_subject_is_reported():
    """A subject choosing at random (beta = 0): flagged as chance level, not silently 'converged'."""
    table = _bandit({"alpha": [0.3, 0.3], "beta": [0.0, 6.0]}, n_trials=400, seed=4)
    with pytest.warns(FitWarning, match="1 of 2 subjects choose no better than chance"):
        model = make_model("rw", n_starts=3).fit(table)
    assert model.subject_fits_["chance_level"].tolist() == [True, False]
    # (its beta is not identified: alpha near 0 and any beta, or beta near 0 and any alpha, fit alike)


def test_diagnostic_columns(rw_table):
    model = make_model("rw", n_starts=4).fit(rw_table)
    fits = model.subject_fits_
    for col in ("converged", "optimizer_converged", "grad_norm", "n_starts", "n_starts_at_best", "chance_level",
                "alpha_se", "beta_se", "se_note", "alpha_at_bound", "beta_at_bound", "at_bound"):
        assert col in fits, col
    assert (fits["n_starts"] == 4).all() and (fits["n_starts_at_best"].between(1, 4)).all()
    assert fits["converged"].all() and (fits["grad_norm"] < 1e-2).all()
    assert model.prior_ is None  # maximum likelihood: no prior


def test_one_warning_line_per_problem_not_per_subject():
    table = pd.concat([_capped(100 + 10 * k).assign(subject=k) for k in range(4)], ignore_index=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make_model("rw", n_starts=2).fit(table)
    lines = [str(w.message) for w in caught if issubclass(w.category, FitWarning) and "beta at" in str(w.message)]
    assert len(lines) == 1 and "for 4 of 4 subjects" in lines[0]


@pytest.mark.parametrize("name", RW_VARIANTS[1:])
def test_rw_variants_never_fit_worse_than_rw(name, rw_table):
    rw = make_model("rw", n_starts=2).fit(rw_table)
    variant = make_model(name, n_starts=2).fit(rw_table)
    assert (variant.subject_fits_["nll"] <= rw.subject_fits_["nll"] + 1e-6).all()


def _nested_holds(table):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        summary, _ = compare_models({n: make_model(n, n_starts=2) for n in ("hybrid", "mf", "mb")}, table)
        alone = make_model("hybrid", n_starts=2).fit(table)  # fits its nested models itself
        mf = make_model("mf", n_starts=2).fit(table)
        mb = make_model("mb", n_starts=2).fit(table)
    floor = np.minimum(mf.subject_fits_["nll"], mb.subject_fits_["nll"])
    assert (alone.subject_fits_["nll"] <= floor + 1e-6).all()
    assert summary.loc["hybrid", "nll"] <= min(summary.loc["mf", "nll"], summary.loc["mb", "nll"]) + 1e-6


def test_hybrid_never_fits_worse_than_mf_or_mb_on_rats(rat_table):
    _nested_holds(rat_table)


def test_hybrid_never_fits_worse_than_mf_or_mb_on_simulated_subjects(daw_table):
    _nested_holds(daw_table)


def test_map_reports_its_prior_and_compare_notes_modes_at_the_prior(daw_table):
    """With few trials and a weak w signal, MAP w sits at the prior's centre; compare says so."""
    short = daw_table.groupby("subject").head(15)
    model = make_model("hybrid", method="map", n_starts=1, prior={"w": (0.0, 0.05)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        model.fit(short)
    prior = model.prior_
    assert prior.loc["w", "sd"] == 0.05 and prior.loc["w", "natural_centre"] == pytest.approx(0.5)
    assert prior.loc["w", "kind"] == "map" and "w_prior_z" in model.subject_fits_
    with pytest.warns(FitWarning, match="the w mode is within 0.25 prior sd of the prior mean"):
        summary, _ = compare_models({"hybrid": model}, short)
    assert any("w mode" in line for line in summary.attrs["notes"])


def _loglik_and_grad(model, table, engine):
    td = model._trial_data(table)
    model._resolve(td)
    x = torch.as_tensor(np.random.default_rng(0).normal(size=(td.n_subjects, len(model.specs()))), dtype=torch.float64)
    x.requires_grad_(True)
    with use_engine(engine):
        ll = model.loglik(x, td.rows(np.arange(td.n_subjects)))
        (g,) = torch.autograd.grad(ll.sum(), x)
    return ll.detach().numpy(), g.numpy()


@pytest.mark.parametrize("name,options", [(n, {}) for n in RW_VARIANTS]
                         + [("rw", dict(asymmetric=True, forgetting=True, perseveration=True, lapse=True, q0=0.3))])
def test_compiled_rw_matches_torch(name, options, rw_table):
    table = rw_table.assign(forced=0)
    table.loc[table.index[[5, 40]], "violation"] = 1  # skipped trials
    table.loc[table.index[[7]], "forced"] = 1
    ll_c, g_c = _loglik_and_grad(make_model(name, **options), table, "numba")
    ll_t, g_t = _loglik_and_grad(make_model(name, **options), table, "python")
    assert np.allclose(ll_c, ll_t, atol=1e-7, rtol=0) and np.allclose(g_c, g_t, atol=1e-6, rtol=1e-7)


@pytest.mark.parametrize("name", ["hybrid", "mf", "mb"])
@pytest.mark.parametrize("stages", ["auto", "first"])
def test_compiled_twostep_matches_torch(name, stages, daw_table, rat_table):
    for table in (daw_table, rat_table):
        ll_c, g_c = _loglik_and_grad(make_model(name, stages=stages), table, "numba")
        ll_t, g_t = _loglik_and_grad(make_model(name, stages=stages), table, "python")
        assert np.allclose(ll_c, ll_t, atol=1e-7, rtol=0) and np.allclose(g_c, g_t, atol=1e-6, rtol=1e-7)


def test_compiled_fits_match_the_torch_engine(rw_table):
    fast = make_model("rw-perseveration", n_starts=2).fit(rw_table)
    with use_engine("python"):
        slow = make_model("rw-perseveration", n_starts=2).fit(rw_table)
    both = fast.subject_fits_["converged"] & slow.subject_fits_["converged"]
    assert both.any()
    assert np.abs(fast.subject_fits_["nll"] - slow.subject_fits_["nll"])[both].max() < 1e-6
