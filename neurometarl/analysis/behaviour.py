"""Descriptive analyses of choice behaviour, with standard errors (statsmodels), on a trial table or a
recording (converted with :func:`neurometarl.data.recording_to_table`).

- :func:`stay_probabilities`, :func:`stay_summary`, :func:`stay_regression`: two-step stay
  probabilities by the previous trial's transition × outcome, with model-based / model-free indices;
- :func:`twostep_lag_regression`: Miller et al. (2017) lagged logistic regression, four trial types;
- :func:`lau_glimcher_regression`: choice on lagged rewards and choices (Lau & Glimcher 2005), also
  as rewarded- and unrewarded-choice kernels; :func:`lag_table` and :func:`plot_lags` for the
  ``neurometarl lags`` command;
- :func:`matching_law`: generalised matching, log2(C_R / C_L) on log2(R_R / R_L);
- :func:`sliding_window_learning_rate`: effective learning rate in a window (spec Sim 2 (c));
- :func:`plot_stay_probabilities`, :func:`plot_lag_regression`: axes-level figures.

Choices are coded 0 = left, 1 = right throughout.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
import xarray as xr
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationError, PerfectSeparationWarning

from ..data.table import as_table
from ..errors import ConfigError, DataError

TRIAL_TYPES = ("CR", "CO", "RR", "RO")
TRIAL_TYPE_NAMES = {"CR": "common, rewarded", "CO": "common, omission", "RR": "rare, rewarded", "RO": "rare, omission"}
STAY_KEYS = ("common_rewarded", "rare_rewarded", "common_unrewarded", "rare_unrewarded")


def _table(data, kind=None, **recording_options) -> pd.DataFrame:
    return as_table(data, kind, **recording_options).reset_index(drop=True)


def _previous(table: pd.DataFrame, lag: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    """The trial ``lag`` rows back and whether it is usable: same subject and session, not a violation."""
    prev = table.shift(lag)
    ok = ((prev["subject"] == table["subject"]) & (prev["session"] == table["session"]) & (prev["violation"] == 0)).to_numpy()
    return prev, ok


def _logit(y: np.ndarray, X: np.ndarray, names: list[str]) -> tuple[np.ndarray, np.ndarray, bool]:
    """statsmodels Logit coefficients, standard errors and whether the fit converged. Under (quasi-)
    separation (e.g. a deterministic agent, or too few trials for the coefficients) the fit does not
    converge: its coefficients diverge, so only their signs mean something; a singular design gives NaN.
    :func:`_coef_dataset` counts those subjects and says so once."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit = sm.Logit(y, X).fit(disp=0, maxiter=200)
    except (np.linalg.LinAlgError, ValueError, PerfectSeparationError):
        return np.full(len(names), np.nan), np.full(len(names), np.nan), False
    converged = fit.mle_retvals.get("converged", True) and not any(
        issubclass(w.category, (ConvergenceWarning, PerfectSeparationWarning)) for w in caught)
    return np.asarray(fit.params), np.asarray(fit.bse), bool(converged)


# --- two-step stay probabilities ----------------------------------------------------------------
def stay_pairs(data) -> pd.DataFrame:
    """Consecutive trial pairs for stay analyses: one row per current trial that is free-choice, both it
    and the previous trial non-violation, both in the same session (the rat dataset card's rule).

    Returns
    -------
    DataFrame with ``subject``, ``stay`` (1 = same first-stage choice), ``prev_common``, ``prev_reward``
    (1 = rewarded, i.e. reward > 0).
    """
    table = _table(data, "twostep")
    prev, ok = _previous(table)
    keep = ok & (table["violation"] == 0).to_numpy() & (table["forced"] == 0).to_numpy()
    return pd.DataFrame({
        "subject": table["subject"][keep].to_numpy(),
        "stay": (table["choice"][keep].to_numpy() == prev["choice"][keep].to_numpy()).astype(int),
        "prev_common": prev["transition"][keep].to_numpy().astype(int),
        "prev_reward": (prev["reward"][keep].to_numpy() > 0).astype(int),
    })


def stay_probabilities(data) -> xr.Dataset:
    """P(stay) by the previous trial's transition × outcome, per subject.

    Returns
    -------
    xarray.Dataset with ``stay_prob``, ``se`` (binomial) and ``n_pairs`` on (subject, transition
    ['common', 'rare'], outcome ['rewarded', 'unrewarded']), and on (subject,): ``mf_index`` = the
    reward main effect [(CR + RR) − (CU + RU)] / 2 and ``mb_index`` = the reward × transition
    interaction [(CR − RR) − (CU − RU)] / 2 (C/R common/rare, R/U rewarded/unrewarded).
    """
    pairs = stay_pairs(data)
    if pairs.empty:
        raise DataError("no usable consecutive trial pairs (need free-choice, non-violation trials in the same session)")
    subjects = list(pd.unique(pairs["subject"]))
    grouped = pairs.groupby(["subject", "prev_common", "prev_reward"], sort=False)["stay"].agg(["mean", "size"])
    prob = np.full((len(subjects), 2, 2), np.nan)
    n = np.zeros((len(subjects), 2, 2), int)
    for (s, c, r), row in grouped.iterrows():
        prob[subjects.index(s), 1 - c, 1 - r] = row["mean"]
        n[subjects.index(s), 1 - c, 1 - r] = row["size"]
    se = np.sqrt(prob * (1 - prob) / np.where(n > 0, n, np.nan))
    cr, cu, rr, ru = prob[:, 0, 0], prob[:, 0, 1], prob[:, 1, 0], prob[:, 1, 1]
    dims = ("subject", "transition", "outcome")
    return xr.Dataset(
        {
            "stay_prob": (dims, prob, {"long_name": "P(repeat first-stage choice)", "units": "1"}),
            "se": (dims, se, {"long_name": "binomial standard error of P(stay)", "units": "1"}),
            "n_pairs": (dims, n, {"long_name": "number of trial pairs", "units": "1"}),
            "mf_index": ("subject", ((cr + rr) - (cu + ru)) / 2, {"long_name": "model-free index: reward main effect on P(stay)", "units": "1"}),
            "mb_index": ("subject", ((cr - rr) - (cu - ru)) / 2, {"long_name": "model-based index: reward x transition interaction on P(stay)", "units": "1"}),
        },
        coords={"subject": subjects, "transition": ["common", "rare"], "outcome": ["rewarded", "unrewarded"]},
        attrs={"analysis": "stay_probabilities", "rule": "current trial free-choice; both trials non-violation; same session"},
    )


def stay_summary(ds: xr.Dataset) -> dict[str, float]:
    """Means over subjects of :func:`stay_probabilities`: keys ``common_rewarded``, ``rare_rewarded``,
    ``common_unrewarded``, ``rare_unrewarded``, ``mb_index``, ``mf_index`` (the ``neurometarl stay``
    contract), plus ``n_subjects``."""
    m = ds["stay_prob"].mean("subject")
    out = {f"{t}_{o}": float(m.sel(transition=t, outcome=o)) for t in ("common", "rare") for o in ("rewarded", "unrewarded")}
    out = {k: out[k] for k in STAY_KEYS}
    out["mb_index"] = float(ds["mb_index"].mean())
    out["mf_index"] = float(ds["mf_index"].mean())
    out["n_subjects"] = int(ds.sizes["subject"])
    return out


def stay_regression(data) -> xr.Dataset:
    """Per-subject logistic regression stay ~ 1 + reward + transition + reward × transition, with
    reward and transition coded ±1 (rewarded / common = +1).

    Returns
    -------
    xarray.Dataset with ``coef`` and ``se`` on (subject, term ['intercept', 'reward', 'transition',
    'reward_x_transition']): ``reward`` is the model-free signature, the interaction the model-based one.
    """
    pairs = stay_pairs(data)
    terms = ["intercept", "reward", "transition", "reward_x_transition"]
    subjects = list(pd.unique(pairs["subject"]))
    coef = np.full((len(subjects), 4), np.nan)
    se = np.full_like(coef, np.nan)
    converged = np.ones(len(subjects), dtype=bool)
    for i, s in enumerate(subjects):
        g = pairs[pairs["subject"] == s]
        r, c = 2 * g["prev_reward"].to_numpy() - 1, 2 * g["prev_common"].to_numpy() - 1
        X = np.column_stack([np.ones(len(g)), r, c, r * c])
        coef[i], se[i], converged[i] = _logit(g["stay"].to_numpy(), X, terms)
    return _coef_dataset(coef, se, converged, subjects, {"term": terms}, "stay_regression")


def _coef_dataset(coef, se, converged, subjects, coords: dict, name: str) -> xr.Dataset:
    dims = ("subject", *coords)
    if not converged.all():
        warnings.warn(f"{name}: the logistic fit did not converge (separation, e.g. deterministic choices or too "
                      f"few trials for the coefficients) for {(~converged).sum()} of {len(subjects)} subjects: their "
                      f"coefficients diverge (only their signs mean something; 'converged' is False) and group "
                      f"means leave them out where other subjects converged", stacklevel=3)
    return xr.Dataset(
        {"coef": (dims, coef, {"long_name": "logistic regression coefficient", "units": "log-odds"}),
         "se": (dims, se, {"long_name": "standard error of the coefficient", "units": "log-odds"}),
         "converged": ("subject", converged, {"long_name": "the subject's logistic fit converged", "units": "1"})},
        coords={"subject": subjects, **coords},
        attrs={"analysis": name},
    )


# --- lagged regressions -----------------------------------------------------------------------
def _lagged(table: pd.DataFrame, values: np.ndarray, n_lags: int) -> np.ndarray:
    """(n_rows, n_lags): ``values`` of the trial 1..n_lags rows back, 0 where that trial is in another
    subject or session or is a violation."""
    out = np.zeros((len(table), n_lags))
    series = pd.Series(values)
    for lag in range(1, n_lags + 1):
        _, ok = _previous(table, lag)
        out[:, lag - 1] = np.where(ok, series.shift(lag).fillna(0).to_numpy(), 0.0)
    return out


def twostep_lag_regression(data, n_lags: int = 5) -> xr.Dataset:
    """Miller et al. (2017) lagged regression of the first-stage choice on the past trials' types.

    For each lag 1..``n_lags`` and trial type (CR common-rewarded, CO common-omission, RR
    rare-rewarded, RO rare-omission) the regressor is +1 if left was chosen on that past trial and it
    was of that type, −1 if right was, 0 otherwise; the outcome is "left chosen"; an intercept
    (``bias``, toward left) is included. One statsmodels Logit per subject, on the free-choice,
    non-violation trials; the history never crosses a session boundary.

    Returns
    -------
    xarray.Dataset with ``coef`` and ``se`` on (subject, trial_type, lag), and ``bias``, ``bias_se``
    on (subject,). A model-based pattern: CR, RO positive and CO, RR negative.
    """
    if n_lags < 1:
        raise ConfigError(f"n_lags must be >= 1, got {n_lags}")
    table = _table(data, "twostep")
    left = np.where(table["choice"] == 0, 1.0, -1.0)
    rewarded = (table["reward"] > 0).to_numpy()
    common = (table["transition"] == 1).to_numpy()
    types = {"CR": common & rewarded, "CO": common & ~rewarded, "RR": ~common & rewarded, "RO": ~common & ~rewarded}
    X = np.concatenate([_lagged(table, np.where(types[k], left, 0.0), n_lags) for k in TRIAL_TYPES], 1)
    y = (table["choice"] == 0).to_numpy().astype(float)
    use = ((table["violation"] == 0) & (table["forced"] == 0)).to_numpy()
    names = ["bias"] + [f"{k}_{lag}" for k in TRIAL_TYPES for lag in range(1, n_lags + 1)]
    subjects = list(pd.unique(table["subject"]))
    coef = np.full((len(subjects), 1 + 4 * n_lags), np.nan)
    se = np.full_like(coef, np.nan)
    converged = np.ones(len(subjects), dtype=bool)
    for i, s in enumerate(subjects):
        rows = use & (table["subject"] == s).to_numpy()
        coef[i], se[i], converged[i] = _logit(y[rows], np.column_stack([np.ones(rows.sum()), X[rows]]), names)
    shape = (len(subjects), 4, n_lags)
    ds = _coef_dataset(coef[:, 1:].reshape(shape), se[:, 1:].reshape(shape), converged, subjects,
                       {"trial_type": list(TRIAL_TYPES), "lag": np.arange(1, n_lags + 1)}, "twostep_lag_regression")
    ds["bias"] = ("subject", coef[:, 0], {"long_name": "intercept (bias toward left)", "units": "log-odds"})
    ds["bias_se"] = ("subject", se[:, 0], {"long_name": "standard error of the intercept", "units": "log-odds"})
    ds["trial_type"].attrs["long_name"] = "; ".join(f"{k}: {v}" for k, v in TRIAL_TYPE_NAMES.items())
    return ds


def _session_position(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    keys = [table["subject"], table["session"]]
    position = table.groupby(keys, sort=False).cumcount().to_numpy()
    length = table.groupby(keys, sort=False)["trial"].transform("size").to_numpy()
    return position, length


#: the Lau-Glimcher regressors: the reward/choice parameterisation and the rewarded-/unrewarded-choice one
LAG_REGRESSORS = ("reward", "choice", "rewarded_choice", "unrewarded_choice")
LAG_REGRESSOR_NAMES = {
    "reward": "reward history: +1 rewarded right, -1 rewarded left, 0 unrewarded",
    "choice": "choice history: +1 right, -1 left",
    "rewarded_choice": "rewarded choices: +1 rewarded right, -1 rewarded left, 0 otherwise",
    "unrewarded_choice": "unrewarded choices: +1 unrewarded right, -1 unrewarded left, 0 otherwise",
}


def lau_glimcher_regression(data, n_lags: int = 15, start_fraction: float = 1 / 3) -> xr.Dataset:
    """Lau & Glimcher (2005) regression of choosing right on past rewards and choices, in both of the
    parameterisations papers plot.

    Regressors for lags 1..``n_lags``: reward history (+1 rewarded right, −1 rewarded left, 0
    unrewarded) and choice history (+1 right, −1 left); plus an intercept. The same model written with
    rewarded-choice (+1 rewarded right, −1 rewarded left) and unrewarded-choice (+1 unrewarded right,
    −1 unrewarded left) regressors is a second Logit: since choice = rewarded + unrewarded choice, its
    kernels are β_rewarded = β_reward + β_choice and β_unrewarded = β_choice (with their own standard
    errors). Only trials from ``start_fraction`` of the way into each session on are modelled (spec
    Sim 1: the last two-thirds); the history reaches back to earlier trials of the same session. One
    statsmodels Logit per subject and parameterisation.

    Returns
    -------
    xarray.Dataset with ``coef`` and ``se`` on (subject, regressor [:data:`LAG_REGRESSORS`], lag), and
    ``bias``, ``bias_se`` on (subject,).
    """
    if n_lags < 1 or not 0 <= start_fraction < 1:
        raise ConfigError(f"need n_lags >= 1 and 0 <= start_fraction < 1, got {n_lags}, {start_fraction}")
    table = _table(data)
    right = np.where(table["choice"] == 1, 1.0, -1.0)
    rewarded = (table["reward"] > 0).to_numpy()
    reward_lags = _lagged(table, np.where(rewarded, right, 0.0), n_lags)
    designs = [np.concatenate([reward_lags, _lagged(table, right, n_lags)], 1),
               np.concatenate([reward_lags, _lagged(table, np.where(rewarded, 0.0, right), n_lags)], 1)]
    y = (table["choice"] == 1).to_numpy().astype(float)
    position, length = _session_position(table)
    use = ((table["violation"] == 0) & (table["forced"] == 0)).to_numpy() & (position >= np.floor(start_fraction * length))
    names = ["bias"] + [f"{k}_{lag}" for k in ("reward", "choice") for lag in range(1, n_lags + 1)]
    subjects = list(pd.unique(table["subject"]))
    coef = np.full((len(subjects), 2, 1 + 2 * n_lags), np.nan)
    se = np.full_like(coef, np.nan)
    converged = np.ones(len(subjects), dtype=bool)
    for i, s in enumerate(subjects):
        rows = use & (table["subject"] == s).to_numpy()
        for j, X in enumerate(designs):
            coef[i, j], se[i, j], ok = _logit(y[rows], np.column_stack([np.ones(rows.sum()), X[rows]]), names)
            converged[i] &= ok
    shape = (len(subjects), len(LAG_REGRESSORS), n_lags)
    ds = _coef_dataset(coef[:, :, 1:].reshape(shape), se[:, :, 1:].reshape(shape), converged, subjects,
                       {"regressor": list(LAG_REGRESSORS), "lag": np.arange(1, n_lags + 1)}, "lau_glimcher_regression")
    ds["bias"] = ("subject", coef[:, 0, 0], {"long_name": "intercept (bias toward right)", "units": "log-odds"})
    ds["bias_se"] = ("subject", se[:, 0, 0], {"long_name": "standard error of the intercept", "units": "log-odds"})
    ds["regressor"].attrs["long_name"] = "; ".join(f"{k}: {v}" for k, v in LAG_REGRESSOR_NAMES.items())
    ds["lag"].attrs.update(long_name="trials back", units="trial")
    ds.attrs.update(n_lags=n_lags, start_fraction=start_fraction)
    return ds


def group_coef(ds: xr.Dataset) -> xr.DataArray:
    """The coefficients group means use: the subjects whose fit converged (all of them when none did)."""
    ok = ds["converged"].values if "converged" in ds else None
    return ds["coef"] if ok is None or ok.all() or not ok.any() else ds["coef"].isel(subject=ok)


def group_mean_sem(ds: xr.Dataset) -> tuple[xr.DataArray, xr.DataArray]:
    """Mean and s.e.m. over subjects of :func:`group_coef` (NaN coefficients left out)."""
    coef = group_coef(ds)
    return coef.mean("subject"), coef.std("subject", ddof=1) / np.sqrt(coef.count("subject"))


def lag_table(ds: xr.Dataset) -> pd.DataFrame:
    """Long table of a lag regression: one row per (subject, regressor or trial type, lag) with ``coef``
    and ``se``, plus rows for subject ``'mean'`` (mean over subjects, s.e.m. as ``se``) when there are
    several subjects."""
    kind = "trial_type" if "trial_type" in ds.dims else "regressor"
    frame = ds[["coef", "se"]].to_dataframe().reset_index()[["subject", kind, "lag", "coef", "se"]]
    if ds.sizes["subject"] > 1:
        coef_mean, sem = group_mean_sem(ds)
        mean = coef_mean.to_dataframe().reset_index()
        mean["se"] = sem.to_numpy().ravel()
        mean.insert(0, "subject", "mean")
        frame = pd.concat([frame.astype({"subject": object}), mean[frame.columns]], ignore_index=True)
    return frame


def plot_lags(ds: xr.Dataset):
    """The lag-regression figure: for :func:`lau_glimcher_regression`, reward/choice kernels and
    rewarded-/unrewarded-choice kernels side by side; for :func:`twostep_lag_regression`, one panel.
    Returns the Figure."""
    import matplotlib.pyplot as plt

    if "trial_type" in ds.dims:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        plot_lag_regression(ds, ax=ax)
        ax.set_title("two-step lag regression")
        fig.tight_layout()
        return fig
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
    for ax, pair, title in zip(axes, (LAG_REGRESSORS[:2], LAG_REGRESSORS[2:]),
                               ("reward and choice kernels", "rewarded- and unrewarded-choice kernels")):
        plot_lag_regression(ds, regressors=list(pair), ax=ax)
        ax.set_title(title)
    fig.tight_layout()
    return fig


# --- matching -----------------------------------------------------------------------------------
def matching_law(data, *, pool: bool = False) -> xr.Dataset:
    """Generalised matching law: log2(C_R / C_L) = s · log2(R_R / R_L) + log2 b, one point per session
    (episode); OLS per subject (or over all points with ``pool``). Sessions with a zero count of
    either choice or either arm's rewards have no finite ratio and are left out (counted).

    Returns
    -------
    xarray.Dataset: per point (dim ``block``, coords ``subject``/``session``) ``log_choice_ratio`` and
    ``log_reward_ratio``; per fit (dim ``group``: subjects, or ['all']) ``sensitivity`` (slope s,
    under-matching < 1), ``bias`` (log2 b), their ``*_se``, ``r2``, ``n_sessions`` and
    ``n_excluded``.
    """
    table = _table(data)
    table = table[table["violation"] == 0]
    rewarded = table["reward"] > 0
    g = table.assign(cr=table["choice"] == 1, cl=table["choice"] == 0,
                     rr=rewarded & (table["choice"] == 1), rl=rewarded & (table["choice"] == 0))
    counts = g.groupby(["subject", "session"], sort=False)[["cr", "cl", "rr", "rl"]].sum()
    ok = (counts > 0).all(axis=1)
    pts = counts[ok]
    choice_ratio = np.log2(pts["cr"] / pts["cl"]).to_numpy()
    reward_ratio = np.log2(pts["rr"] / pts["rl"]).to_numpy()
    subj = pts.index.get_level_values("subject").to_numpy()
    groups = ["all"] if pool else list(pd.unique(counts.index.get_level_values("subject")))
    stats = {k: np.full(len(groups), np.nan) for k in ("sensitivity", "sensitivity_se", "bias", "bias_se", "r2")}
    n_used, n_excl = np.zeros(len(groups), int), np.zeros(len(groups), int)
    for i, grp in enumerate(groups):
        sel = np.ones(len(subj), bool) if pool else subj == grp
        n_used[i] = sel.sum()
        n_excl[i] = (~ok).sum() if pool else (~ok[counts.index.get_level_values("subject") == grp]).sum()
        if sel.sum() < 3:
            continue
        fit = sm.OLS(choice_ratio[sel], sm.add_constant(reward_ratio[sel])).fit()
        stats["bias"][i], stats["sensitivity"][i] = fit.params
        stats["bias_se"][i], stats["sensitivity_se"][i] = fit.bse
        stats["r2"][i] = fit.rsquared
    attrs = {
        "sensitivity": ("slope s of log2 choice ratio on log2 reward ratio", "1"),
        "sensitivity_se": ("standard error of s", "1"), "bias": ("intercept log2 b", "log2 ratio"),
        "bias_se": ("standard error of log2 b", "log2 ratio"), "r2": ("R squared", "1"),
    }
    data_vars = {k: ("group", v, {"long_name": attrs[k][0], "units": attrs[k][1]}) for k, v in stats.items()}
    data_vars["n_sessions"] = ("group", n_used, {"long_name": "sessions in the fit", "units": "1"})
    data_vars["n_excluded"] = ("group", n_excl, {"long_name": "sessions without a finite ratio", "units": "1"})
    data_vars["log_choice_ratio"] = ("block", choice_ratio, {"long_name": "log2(C_R / C_L)", "units": "log2 ratio"})
    data_vars["log_reward_ratio"] = ("block", reward_ratio, {"long_name": "log2(R_R / R_L)", "units": "log2 ratio"})
    coords = {"group": groups, "subject": ("block", subj),
              "session": ("block", pts.index.get_level_values("session").to_numpy())}
    return xr.Dataset(data_vars, coords=coords, attrs={"analysis": "matching_law"})


# --- effective learning rate in a sliding window ---------------------------------------------------
def sliding_window_learning_rate(data, *, window: int = 10, step: int = 1, model=None, random_state=0) -> xr.Dataset:
    """Effective learning rate in sliding windows of trials (spec Sim 2 (c)).

    For each subject and each window of ``window`` trials starting at session position ``w`` (0,
    ``step``, ...), fit the model's α and β by maximum likelihood where only the choices at positions
    w..w+window−1 of every session of that subject count, while the values run over all trials from
    the session start. All (subject, window) fits are one batched problem. Group episodes of one
    condition (e.g. stable-first) under one subject to estimate a per-condition curve.

    Parameters
    ----------
    model : a behavioural model with an ``alpha`` parameter (a copy is fitted, with its ``n_starts`` and
        ``max_iter``, by :meth:`~neurometarl.models.base.BehaviouralModel.fit_windows`); default
        :class:`~neurometarl.models.BehrensLearner` (RW over probability, softmax over probability ×
        shown magnitude).
    random_state : seeds the starting points.

    Returns
    -------
    xarray.Dataset with ``alpha``, ``beta`` (and any other parameters) and ``nll`` on (subject,
    window_start).
    """
    from sklearn.base import clone

    from ..models import BehrensLearner

    model = BehrensLearner() if model is None else clone(model)
    if "alpha" not in model.param_names:
        raise ConfigError(f"{model.name} has no 'alpha' parameter to estimate")
    fits = model.set_params(method="ml", random_state=random_state).fit_windows(data, window=window, step=step).window_fits_
    subjects = list(pd.unique(fits.index.get_level_values("subject")))
    starts = pd.unique(fits.index.get_level_values("window_start"))
    shape = (len(subjects), len(starts))
    out = {}
    for s in model.specs():
        out[s.name] = (("subject", "window_start"), fits[s.name].to_numpy().reshape(shape), {"long_name": s.long_name, "units": "1"})
    out["nll"] = (("subject", "window_start"), fits["nll"].to_numpy().reshape(shape), {"long_name": "negative log-likelihood of the window's choices", "units": "nats"})
    return xr.Dataset(out, coords={"subject": subjects, "window_start": starts},
                      attrs={"analysis": "sliding_window_learning_rate", "window": window, "model": model.name})


# --- figures ----------------------------------------------------------------------------------------
def plot_stay_probabilities(ds: xr.Dataset, *, ax=None):
    """Bar plot of P(stay) (mean ± s.e.m. over subjects) by previous transition and outcome, from
    :func:`stay_probabilities` (or a trial table)."""
    import matplotlib.pyplot as plt

    if not isinstance(ds, xr.Dataset) or "stay_prob" not in ds:
        ds = stay_probabilities(ds)
    ax = ax or plt.gca()
    m = ds["stay_prob"].mean("subject")
    sem = ds["stay_prob"].std("subject", ddof=1) / np.sqrt(ds.sizes["subject"]) if ds.sizes["subject"] > 1 else m * np.nan
    colors = {"common": "#1f77b4", "rare": "#d62728"}
    for j, t in enumerate(("common", "rare")):
        xs = np.arange(2) * 3 + j
        ax.bar(xs, m.sel(transition=t), yerr=sem.sel(transition=t), color=colors[t], label=t, capsize=3)
    ax.set_xticks([0.5, 3.5], ["rewarded", "unrewarded"])
    ax.set_ylabel(ds["stay_prob"].attrs["long_name"])
    ax.set_ylim(0, 1)
    ax.legend(title="previous transition", frameon=False)
    return ax


def plot_lag_regression(ds: xr.Dataset, *, regressors=None, ax=None):
    """Coefficients ± s.e.m. over subjects by lag, one line per trial type (or regressor, all or those
    in ``regressors``), from :func:`twostep_lag_regression` or :func:`lau_glimcher_regression`."""
    import matplotlib.pyplot as plt

    from ..figures.style import readable

    ax = ax or plt.gca()
    kind = "trial_type" if "trial_type" in ds.dims else "regressor"
    fitted = group_coef(ds)["subject"]
    n = fitted.size
    mean, sem = group_mean_sem(ds)
    err = sem if n > 1 else ds["se"].sel(subject=fitted).isel(subject=0)  # one subject: its fit's s.e.
    for label in (ds[kind].values if regressors is None else regressors):
        ax.errorbar(ds["lag"], mean.sel({kind: label}), yerr=err.sel({kind: label}), marker="o", capsize=2,
                    label=TRIAL_TYPE_NAMES.get(str(label), readable(str(label))))
    ax.axhline(0, color="0.6", lw=0.8)
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.set_xlabel("lag (trials back)")
    ax.set_ylabel(f"{ds['coef'].attrs['long_name']} ({ds['coef'].attrs['units']})")
    left_out = ds.sizes["subject"] - n
    title = f"mean ± s.e.m. over {n} subjects" if n > 1 else "± s.e. of the fit"
    ax.legend(frameon=False, title=title + (f" ({left_out} not converged, left out)" if left_out else ""),
              title_fontsize="small")
    return ax
