"""Fitting behavioural models: maximum likelihood, MAP, hierarchical empirical Bayes, cross-validation
and model comparison. Every subject (and every random start, every fold) is a row of one batched
problem, solved by :func:`neurometarl.models.optimize.minimize_rows`."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
import xarray as xr

from ..errors import ConfigError, DataError
from ..seeding import make_rng
from .base import DTYPE, BehaviouralModel, TrialData
from .optimize import hessian_rows, minimize_rows

LOG2PI = math.log(2 * math.pi)


def make_objective(model: BehaviouralModel, data: TrialData, row_subject, *, mean=None, sd=None, lik_mask=None):
    """x (rows, n_params) → negative log-likelihood of each row's subject, plus the negative log density
    of a Normal prior on x when ``mean`` and ``sd`` (n_params,) are given. ``lik_mask`` as in
    :meth:`TrialData.rows`."""
    batch = data.rows(row_subject, lik_mask)
    m = None if mean is None else torch.as_tensor(mean, dtype=DTYPE)
    s = None if sd is None else torch.as_tensor(sd, dtype=DTYPE)

    def objective(x):
        f = -model.loglik(x, batch)
        if m is not None:
            f = f + 0.5 * (((x - m) / s) ** 2).sum(1) + torch.log(s).sum() + 0.5 * x.shape[1] * LOG2PI
        return f

    return objective


def _tiled_mask(lik_mask, n):
    """A ``lik_mask`` for rows tiled in blocks of ``n`` (starts, Hessian shifts) from one for ``n`` rows."""
    return None if lik_mask is None else (lambda col_row, col_unit: lik_mask(col_row % n, col_unit))


def starting_points(model: BehaviouralModel, n_rows: int, n_starts: int, rng: np.random.Generator) -> torch.Tensor:
    """(n_starts * n_rows, n_params) unconstrained starts, start-major: the first block at the centre of
    each parameter's ``init`` range, the others uniform in it."""
    blocks = []
    for k in range(n_starts):
        cols = []
        for s in model.specs():
            lo, hi = s.init
            v = np.full(n_rows, 0.5 * (lo + hi)) if k == 0 else rng.uniform(lo, hi, n_rows)
            cols.append(s.to_unconstrained(v))
        blocks.append(np.stack(cols, 1))
    return torch.as_tensor(np.concatenate(blocks), dtype=DTYPE)


#: candidate starting points screened per subject (one batched forward pass) before local optimisation
N_SCREEN = 24
#: bound on columns x trials of one screening pass (memory)
SCREEN_BUDGET = 4_000_000


def screened_starts(model, data, row_subject, n_starts, rng, *, mean=None, sd=None, lik_mask=None) -> torch.Tensor:
    """The ``n_starts`` best of ``max(N_SCREEN, n_starts)`` candidate starts for every row, by the
    objective evaluated for all candidates in batched forward passes (no gradients). The candidates
    are :func:`starting_points`: the centre of the parameters' ``init`` ranges, then uniform draws.

    Returns (n_starts * rows, n_params), start-major.
    """
    n = len(row_subject)
    k = max(getattr(model, "n_screen", N_SCREEN), n_starts)
    candidates = starting_points(model, n, k, rng)
    n_cols = sum(len(data.subject_units[s]) for s in row_subject)
    per_pass = max(1, SCREEN_BUDGET // max(1, n_cols * data.n_trials))
    values = []
    for first in range(0, k, per_pass):
        blocks = min(per_pass, k - first)
        objective = make_objective(model, data, np.tile(row_subject, blocks), mean=mean, sd=sd, lik_mask=_tiled_mask(lik_mask, n))
        with torch.no_grad():
            values.append(objective(candidates[first * n : (first + blocks) * n]))
    f = torch.cat(values).reshape(k, n)
    f = torch.where(torch.isfinite(f), f, torch.full_like(f, float("inf")))
    order = torch.argsort(f, dim=0, stable=True)[:n_starts]  # (n_starts, rows)
    return candidates.reshape(k, n, -1)[order, torch.arange(n)].reshape(n_starts * n, -1)


def _multistart(model, data, row_subject, n_starts, rng, *, mean=None, sd=None, lik_mask=None, x0=None):
    """Minimise every row from ``n_starts`` starts (the best screened candidates, or ``x0``); keep the
    best optimum per row. Returns (x, fun, converged)."""
    n = len(row_subject)
    if x0 is None:
        x0 = screened_starts(model, data, row_subject, n_starts, rng, mean=mean, sd=sd, lik_mask=lik_mask)
    k = x0.shape[0] // n
    objective = make_objective(model, data, np.tile(row_subject, k), mean=mean, sd=sd, lik_mask=_tiled_mask(lik_mask, n))
    res = minimize_rows(objective, x0, max_iter=getattr(model, "max_iter", 200), gtol=1e-4, ftol=1e-9)
    fun = res.fun.reshape(k, n)
    best = fun.argmin(0)
    idx = best * n + torch.arange(n)
    return res.x[idx], res.fun[idx], res.converged[idx]


def _hessian(model, data, row_subject, x, *, mean=None, sd=None, lik_mask=None):
    k = 2 * x.shape[1]
    objective = make_objective(model, data, np.tile(row_subject, k), mean=mean, sd=sd, lik_mask=_tiled_mask(lik_mask, len(row_subject)))
    return hessian_rows(objective, x)


def _covariance(H: torch.Tensor) -> torch.Tensor:
    """Inverse of each row's Hessian; rows that are not positive definite get NaN."""
    eig = torch.linalg.eigvalsh(H)
    ok = (eig > 1e-10).all(1)
    eye = torch.eye(H.shape[1], dtype=H.dtype)
    inv = torch.linalg.inv(torch.where(ok[:, None, None], H, eye))
    return torch.where(ok[:, None, None], inv, torch.full_like(inv, float("nan")))


def fit_model(model: BehaviouralModel, data: TrialData) -> None:
    """Fit ``model`` to every subject of ``data`` and set its fitted attributes (see
    :meth:`BehaviouralModel.fit`)."""
    rng = make_rng(getattr(model, "random_state", None))
    method = getattr(model, "method", "ml")
    specs = model.specs()
    n_sub, n_par = data.n_subjects, len(specs)
    subjects = np.arange(n_sub)
    prior_mean, prior_sd = model.priors()
    mean = sd = None
    if method in ("map", "eb"):
        mean, sd = prior_mean, prior_sd
    x, _, converged = _multistart(model, data, subjects, model.n_starts, rng, mean=mean, sd=sd)
    if method == "eb":
        x, mean, sd, converged = _empirical_bayes(model, data, x, prior_mean, prior_sd)
    H = _hessian(model, data, subjects, x, mean=mean, sd=sd)
    cov = _covariance(H)
    with torch.no_grad():
        ll = model.loglik(x, data.rows(subjects)).numpy()
    xn = x.numpy()
    natural = np.stack([s.to_natural(x[:, i]).numpy() for i, s in enumerate(specs)], 1)
    se_x = np.sqrt(np.diagonal(cov.numpy(), axis1=1, axis2=2))
    se = se_x * np.stack([s.jacobian(xn[:, i]) for i, s in enumerate(specs)], 1)
    index = pd.Index(data.subjects, name="subject")
    names = [s.name for s in specs]
    n = data.n_choices
    model.params_ = pd.DataFrame(natural, index=index, columns=names)
    model.params_se_ = pd.DataFrame(se, index=index, columns=names)
    model.params_unconstrained_ = pd.DataFrame(xn, index=index, columns=names)
    fits = model.params_.copy()
    fits["nll"] = -ll
    fits["n_choices"] = n.astype(int)
    fits["n_params"] = n_par
    fits["aic"] = 2 * fits["nll"] + 2 * n_par
    fits["bic"] = 2 * fits["nll"] + n_par * np.log(n)
    fits["converged"] = converged.numpy()
    model.subject_fits_ = fits
    model.nll_ = float(fits["nll"].sum())
    model.aic_ = float(fits["aic"].sum())
    model.bic_ = float(fits["bic"].sum())
    model.n_choices_ = int(n.sum())
    model.n_params_ = n_par * n_sub
    if method == "eb":
        model.group_mean_ = pd.Series(mean, index=names, name="mean")
        model.group_sd_ = pd.Series(sd, index=names, name="sd")
        logdet = torch.linalg.slogdet(H)[1].numpy()
        # Laplace approximation of each subject's marginal likelihood under the fitted group prior
        log_prior = -0.5 * (((xn - mean) / sd) ** 2).sum(1) - np.log(sd).sum() - 0.5 * n_par * LOG2PI
        model.log_evidence_ = pd.Series(ll + log_prior + 0.5 * n_par * LOG2PI - 0.5 * logdet, index=index)
        model.ibic_ = float(-2 * model.log_evidence_.sum() + 2 * n_par * np.log(n.sum()))


def _empirical_bayes(model, data, x, prior_mean, prior_sd, max_em: int = 50, tol: float = 1e-3):
    """Hierarchical fit (Huys et al. 2011): a Normal group prior on the unconstrained parameters,
    estimated by EM with a Laplace approximation of each subject's posterior.

    E-step: MAP per subject under the current group prior, posterior covariance from the Hessian.
    M-step: mean = mean of MAP estimates; variance = mean of (MAP² + posterior variance) − mean².
    """
    subjects = np.arange(data.n_subjects)
    mean, sd = prior_mean.copy(), prior_sd.copy()
    converged = None
    for _ in range(max_em):
        x, _, converged = _multistart(model, data, subjects, 1, None, mean=mean, sd=sd, x0=x)
        cov = _covariance(_hessian(model, data, subjects, x, mean=mean, sd=sd))
        post_var = torch.diagonal(cov, dim1=1, dim2=2).numpy()
        post_var = np.where(np.isfinite(post_var), post_var, sd**2)
        xn = x.numpy()
        new_mean = xn.mean(0)
        new_sd = np.sqrt(np.maximum((xn**2 + post_var).mean(0) - new_mean**2, 1e-4))
        change = max(np.abs(new_mean - mean).max(), np.abs(np.log(new_sd / sd)).max())
        mean, sd = new_mean, new_sd
        if change < tol:
            break
    x, _, converged = _multistart(model, data, subjects, 1, None, mean=mean, sd=sd, x0=x)
    return x, mean, sd, converged


# --- cross-validation and comparison ------------------------------------------------------------
def session_folds(data: TrialData, n_folds: int, random_state=None) -> np.ndarray:
    """(n_units,) fold of every session: each subject's sessions are shuffled and dealt to ``n_folds``
    folds in turn, so a session (episode) is never split."""
    rng = make_rng(random_state)
    fold = np.full(data.n_units, -1)
    for j, subject in enumerate(data.subjects):
        units = data.subject_units[j]
        if len(units) < n_folds:
            raise DataError(
                f"subject {subject!r} has {len(units)} session(s), fewer than n_folds={n_folds}; cross-validation "
                "holds out whole sessions/episodes: lower n_folds or split long sessions into blocks"
            )
        fold[rng.permutation(units)] = np.arange(len(units)) % n_folds
    return fold


def cross_validate(model: BehaviouralModel, data, n_folds: int = 5, random_state=None, **recording_options) -> pd.DataFrame:
    """Held-out log-likelihood with whole sessions (episodes) held out.

    Each (subject, fold) is fitted on the other folds' sessions and scored on the fold's sessions; all
    pairs are rows of one batched fit (``model``'s method, 'ml' or 'map', and starts).

    Returns
    -------
    DataFrame, one row per (subject, fold): ``test_loglik``, ``n_test`` and ``test_loglik_per_choice``.
    """
    if getattr(model, "method", "ml") == "eb":
        raise ConfigError("cross_validate supports method='ml' or 'map'; an 'eb' group prior would be fitted on the held-out data")
    if n_folds < 2:
        raise ConfigError(f"n_folds must be >= 2, got {n_folds}")
    model._check_fit_options()
    td = model._trial_data(data, **recording_options)
    model._resolve(td)
    fold = session_folds(td, n_folds, random_state)
    n_sub = td.n_subjects
    row_subject = np.repeat(np.arange(n_sub), n_folds)  # subject-major: row = subject * n_folds + f
    row_fold = np.tile(np.arange(n_folds), n_sub)
    T = td.n_trials

    def train(col_row, col_unit):
        return np.broadcast_to(fold[col_unit] != row_fold[col_row], (T, len(col_row))).astype(float)

    def test(col_row, col_unit):
        return np.broadcast_to(fold[col_unit] == row_fold[col_row], (T, len(col_row))).astype(float)

    mean = sd = None
    if model.method == "map":
        mean, sd = model.priors()
    x, _, _ = _multistart(model, td, row_subject, model.n_starts, make_rng(model.random_state), mean=mean, sd=sd, lik_mask=train)
    batch = td.rows(row_subject, test)
    with torch.no_grad():
        ll = model.loglik(x, batch).numpy()
    n_test = batch.per_row(batch.lik1.sum(0) + batch.lik2.sum(0)).numpy()
    out = pd.DataFrame({
        "subject": np.asarray(td.subjects, dtype=object)[row_subject],
        "fold": row_fold,
        "test_loglik": ll,
        "n_test": n_test.astype(int),
    })
    out["test_loglik_per_choice"] = out["test_loglik"] / out["n_test"].where(out["n_test"] > 0)
    return out


def compare_models(models: dict[str, BehaviouralModel] | list[BehaviouralModel], data, *, cv_folds: int | None = None,
                   random_state=None, **recording_options) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fit several models to the same data (a trial table, or a recording with ``recording_options``
    for :func:`~neurometarl.data.recording_to_table`) and compare them.

    Two-step models are all scored on the same choices: first-stage only when any of them cannot
    model second-stage choices.

    Returns
    -------
    summary : DataFrame, one row per model: ``n_params`` (per subject), ``nll``, ``aic``, ``bic``,
        ``ibic`` (for ``method='eb'``), ``cv_loglik`` (with ``cv_folds``), ``delta_bic`` to the best,
        ``n_best_subjects`` (subjects whose BIC picks that model); sorted by BIC.
    per_subject_bic : DataFrame (subject × model).
    """
    if not isinstance(models, dict):
        models = {m.name: m for m in models}
    if not models:
        raise ConfigError("compare_models needs at least one model")
    kinds = {m.kind for m in models.values()}
    if len(kinds) > 1:
        raise ConfigError(f"cannot compare bandit and two-step models on one table: {({n: m.kind for n, m in models.items()})}")
    # a recording is passed on as it is, so that models see its protocol (e.g. the known common_prob)
    if isinstance(data, xr.Dataset):
        table, fit_options = data, recording_options
    else:
        table, fit_options = models[next(iter(models))]._table(data), {}
    if kinds == {"twostep"} and not all(m.supports_stage2 for m in models.values()):
        for m in models.values():
            if getattr(m, "stages", "first") != "first":
                m.set_params(stages="first")
    rows, bic = [], {}
    for name, m in models.items():
        m.fit(table, **fit_options)
        row = {"model": name, "n_params": len(m.specs()), "nll": m.nll_, "aic": m.aic_, "bic": m.bic_}
        if hasattr(m, "ibic_") and getattr(m, "method", "ml") == "eb":
            row["ibic"] = m.ibic_
        if cv_folds:
            row["cv_loglik"] = cross_validate(m, table, cv_folds, random_state, **fit_options)["test_loglik"].sum()
        rows.append(row)
        bic[name] = m.subject_fits_["bic"]
    per_subject = pd.DataFrame(bic)
    summary = pd.DataFrame(rows).set_index("model")
    summary["delta_bic"] = summary["bic"] - summary["bic"].min()
    best = per_subject.idxmin(axis=1).value_counts()
    summary["n_best_subjects"] = [int(best.get(n, 0)) for n in summary.index]
    return summary.sort_values("bic"), per_subject
