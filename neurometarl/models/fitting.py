"""Fitting behavioural models: maximum likelihood, MAP, hierarchical empirical Bayes, cross-validation
and model comparison. Every subject (and every random start, every fold) is a row of one batched
problem, solved by :func:`neurometarl.models.optimize.minimize_rows`.

``model`` arguments are :class:`~neurometarl.models.base.BehaviouralModel` instances, used through their
methods only. The estimator's fit methods call :func:`fit_subjects`, :func:`fit_pooled` and
:func:`fit_in_windows`, which compute and return; the estimator sets its fitted attributes itself (so
this module does not import :mod:`neurometarl.models.base`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
import pandas as pd
import torch
import xarray as xr

from ..errors import ConfigError, DataError
from ..progress import progress_bar
from ..seeding import make_rng
from .diagnostics import SAME_NLL_TOL, diagnose, prior_frame, prior_notes, warn_fits
from .optimize import hessian_rows, minimize_rows
from .trials import DTYPE, TrialData

LOG2PI = math.log(2 * math.pi)


def make_objective(model, data: TrialData, row_subject, *, mean=None, sd=None, lik_mask=None):
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


def starting_points(model, n_rows: int, n_starts: int, rng: np.random.Generator) -> torch.Tensor:
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


class _Tolerances(TypedDict):
    gtol: float
    ftol: float
    window_ftol: float


#: stopping tests of the local optimisations (see :func:`~neurometarl.models.optimize.minimize_rows`)
TOLERANCES: _Tolerances = {"gtol": 1e-4, "ftol": 1e-12, "window_ftol": 1e-9}

#: candidate starting points screened per subject (one batched forward pass) before local optimisation
N_SCREEN = 24
#: bound on columns x trials of one screening pass (memory)
SCREEN_BUDGET = 1_000_000  # about 220 bytes each at the peak: 1e6 keeps a pass near 200 MB


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


@dataclass
class Starts:
    """The best of several local optimisations per row: ``x`` (rows, n_params), ``fun`` (rows,),
    ``converged`` (rows,) the optimizer's own stopping test, ``grad`` (rows, n_params) the gradient
    at ``x``, ``n_at_best`` (rows,) starts that reached ``fun`` within
    :data:`~neurometarl.models.diagnostics.SAME_NLL_TOL`, ``n_starts``."""

    x: torch.Tensor
    fun: torch.Tensor
    converged: torch.Tensor
    grad: torch.Tensor
    n_at_best: torch.Tensor
    n_starts: int


def _multistart(model, data, row_subject, n_starts, rng, *, mean=None, sd=None, lik_mask=None, x0=None, extra=None,
                desc=None) -> Starts:
    """Minimise every row from ``n_starts`` starts (the best screened candidates, or ``x0``) plus the
    ``extra`` starts (start-major blocks of rows, e.g. the optima of nested models); keep the best
    optimum per row."""
    n = len(row_subject)
    if x0 is None:
        x0 = screened_starts(model, data, row_subject, n_starts, rng, mean=mean, sd=sd, lik_mask=lik_mask)
    if extra is not None:
        x0 = torch.cat([x0, extra.to(x0.dtype)])
    k = x0.shape[0] // n
    objective = make_objective(model, data, np.tile(row_subject, k), mean=mean, sd=sd, lik_mask=_tiled_mask(lik_mask, n))
    max_iter = getattr(model, "max_iter", 200)
    with progress_bar(desc=desc or f"fit {model.name}", total=max_iter) as bar:
        def step(n_active):
            bar.update(1)
            bar.set_postfix(active=n_active, refresh=False)

        res = minimize_rows(objective, x0, max_iter=max_iter, callback=step, **TOLERANCES)
    fun = res.fun.reshape(k, n)
    best = fun.argmin(0)
    idx = best * n + torch.arange(n)
    n_at_best = (fun <= res.fun[idx][None] + SAME_NLL_TOL).sum(0)
    return Starts(res.x[idx], res.fun[idx], res.converged[idx], res.grad[idx], n_at_best, k)


def _hessian(model, data, row_subject, x, *, mean=None, sd=None, lik_mask=None):
    k = 2 * x.shape[1]
    objective = make_objective(model, data, np.tile(row_subject, k), mean=mean, sd=sd, lik_mask=_tiled_mask(lik_mask, len(row_subject)))
    return hessian_rows(objective, x)


def _covariance(H: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse of each row's Hessian, NaN for rows that are not positive definite; and which rows are."""
    eig = torch.linalg.eigvalsh(H)
    ok = (eig > 1e-10).all(1)
    eye = torch.eye(H.shape[1], dtype=H.dtype)
    inv = torch.linalg.inv(torch.where(ok[:, None, None], H, eye))
    return torch.where(ok[:, None, None], inv, torch.full_like(inv, float("nan"))), ok


def _nested_starts(model, data: TrialData, nested_fits: dict | None) -> torch.Tensor | None:
    """The optimum of every nested special case of ``model`` (its ``_nested()``), embedded in ``model``'s
    unconstrained space: (n_nested * n_subjects, n_params), start-major. A nested model already fitted
    to the same data (``nested_fits``: name → fitted model) is reused; others are fitted here."""
    blocks = []
    for sub, embed in model._nested():
        sub._resolve(data)
        done = (nested_fits or {}).get(sub.name)
        if (done is not None and getattr(done, "stage2_", False) == sub.stage2_ and hasattr(done, "params_")
                and list(done.params_.index) == list(data.subjects)):
            params = done.params_
        else:
            params = fit_subjects(sub, data).fits[sub.param_names]
        full = embed(params)
        blocks.append(np.stack([s.to_unconstrained(full[s.name].to_numpy(float)) for s in model.specs()], 1))
    return torch.as_tensor(np.concatenate(blocks), dtype=DTYPE) if blocks else None


def _at_bounds(model, x: torch.Tensor) -> list[torch.Tensor | None]:
    """For each parameter, ``x`` (rows, n_params) with that parameter moved to its nearest bound in
    unconstrained terms (``None`` for an unbounded parameter)."""
    out: list[torch.Tensor | None] = []
    for i, s in enumerate(model.specs()):
        if not math.isfinite(s.lower):
            out.append(None)
            continue
        near_upper = (x[:, i] >= 0).numpy() & math.isfinite(s.upper)
        bound = np.where(near_upper, s.to_unconstrained(s.upper if math.isfinite(s.upper) else s.lower), s.to_unconstrained(s.lower))
        moved = x.clone()
        moved[:, i] = torch.as_tensor(bound, dtype=x.dtype)
        out.append(moved)
    return out


def _flat_to_bound(model, data, row_subject, x, f, *, mean=None, sd=None) -> np.ndarray:
    """(rows, n_params) bool: moving that one parameter to its nearest bound (others fixed) raises the
    objective by less than :data:`~neurometarl.models.diagnostics.SAME_NLL_TOL` (the data cannot tell the
    estimate from the bound, e.g. an inverse temperature crawling toward its cap). One batched pass."""
    moved = _at_bounds(model, x)
    k, n = len(moved), x.shape[0]
    shifted = torch.cat([x if m is None else m for m in moved])
    objective = make_objective(model, data, np.tile(row_subject, k), mean=mean, sd=sd)
    with torch.no_grad():
        f_bound = objective(shifted).reshape(k, n).T
    finite = np.array([m is not None for m in moved])
    return (f_bound <= f[:, None] + SAME_NLL_TOL).numpy() & finite[None]


def _polish_at_bounds(model, data, row_subject, starts: Starts, *, mean=None, sd=None) -> tuple[Starts, np.ndarray]:
    """Parameters crawling toward a bound (flat there, see :func:`_flat_to_bound`) are put on it and the
    others re-optimised from there; a row keeps the result where it lowers the objective. Returns the
    updated starts and the flat mask at the final optimum."""
    flat = _flat_to_bound(model, data, row_subject, starts.x, starts.fun, mean=mean, sd=sd)
    rows = flat.any(1)
    if not rows.any():
        return starts, flat
    snapped = starts.x.clone()
    for i, moved in enumerate(_at_bounds(model, starts.x)):
        if moved is not None:
            snapped[flat[:, i], i] = moved[flat[:, i], i]
    again = _multistart(model, data, row_subject, 1, None, mean=mean, sd=sd, x0=snapped, desc=f"polish {model.name}")
    better = again.fun < starts.fun
    b = better[:, None]
    starts = Starts(torch.where(b, again.x, starts.x), torch.where(better, again.fun, starts.fun),
                    torch.where(better, again.converged, starts.converged), torch.where(b, again.grad, starts.grad),
                    starts.n_at_best, starts.n_starts)
    return starts, _flat_to_bound(model, data, row_subject, starts.x, starts.fun, mean=mean, sd=sd)


def natural_values(model, x: torch.Tensor) -> np.ndarray:
    """Unconstrained (rows, n_params) → natural parameters, (rows, n_params) array."""
    return np.stack([s.to_natural(x[:, i]).numpy() for i, s in enumerate(model.specs())], 1)


@dataclass
class SubjectFits:
    """What :func:`fit_subjects` computes: ``fits`` (one row per subject: natural parameters, nll,
    n_choices, n_params, aic, bic and the diagnostics), ``unconstrained`` (subject × parameter), the
    ``prior`` used (MAP/EB, else ``None``); for 'eb' also the fitted ``group_mean``/``group_sd`` and
    each subject's Laplace ``log_evidence``."""

    fits: pd.DataFrame
    unconstrained: pd.DataFrame
    prior: pd.DataFrame | None
    group_mean: pd.Series | None = None
    group_sd: pd.Series | None = None
    log_evidence: pd.Series | None = None


def fit_subjects(model, data: TrialData, nested_fits: dict | None = None) -> SubjectFits:
    """Fit ``model`` (its ``method``, ``n_starts``, ``max_iter``, ``random_state``) to every subject of
    ``data``, starting also from the optima of its nested models (``nested_fits``: name → fitted model,
    reused where fitted to the same data); see :meth:`BehaviouralModel.fit`."""
    rng = make_rng(getattr(model, "random_state", None))
    method = getattr(model, "method", "ml")
    specs = model.specs()
    n_sub, n_par = data.n_subjects, len(specs)
    subjects = np.arange(n_sub)
    prior_mean, prior_sd = model.priors()
    mean = sd = None
    if method in ("map", "eb"):
        mean, sd = prior_mean, prior_sd
    extra = _nested_starts(model, data, nested_fits)
    starts = _multistart(model, data, subjects, model.n_starts, rng, mean=mean, sd=sd, extra=extra)
    if method == "eb":
        starts, mean, sd = _empirical_bayes(model, data, starts.x, prior_mean, prior_sd, starts)
        flat = _flat_to_bound(model, data, subjects, starts.x, starts.fun, mean=mean, sd=sd)
    else:
        starts, flat = _polish_at_bounds(model, data, subjects, starts, mean=mean, sd=sd)
    x = starts.x
    H = _hessian(model, data, subjects, x, mean=mean, sd=sd)
    cov, pd_hessian = _covariance(H)
    with torch.no_grad():
        ll = model.loglik(x, data.rows(subjects)).numpy()
    xn = x.numpy()
    natural = natural_values(model, x)
    se_x = np.sqrt(np.diagonal(cov.numpy(), axis1=1, axis2=2))
    se = se_x * np.stack([s.jacobian(xn[:, i]) for i, s in enumerate(specs)], 1)
    index = pd.Index(data.subjects, name="subject")
    names = [s.name for s in specs]
    n = data.n_choices
    fits = pd.DataFrame(natural, index=index, columns=names)
    fits["nll"] = -ll
    fits["n_choices"] = n.astype(int)
    fits["n_params"] = n_par
    fits["aic"] = 2 * fits["nll"] + 2 * n_par
    fits["bic"] = 2 * fits["nll"] + n_par * np.log(n)
    prior_z = None if mean is None else (xn - mean) / sd
    diagnose(model, fits, natural=natural, flat=flat, se=se, optimizer_converged=starts.converged.numpy(),
             grad=starts.grad.numpy(), n_at_best=starts.n_at_best.numpy(), n_starts=starts.n_starts,
             pd_hessian=pd_hessian.numpy(), prior_z=prior_z)
    out = SubjectFits(fits, pd.DataFrame(xn, index=index, columns=names),
                      None if mean is None or sd is None else prior_frame(model, mean, sd, method))
    if method == "eb":
        assert mean is not None and sd is not None  # the group prior _empirical_bayes fitted
        out.group_mean = pd.Series(mean, index=names, name="mean")
        out.group_sd = pd.Series(sd, index=names, name="sd")
        logdet = torch.linalg.slogdet(H)[1].numpy()
        # Laplace approximation of each subject's marginal likelihood under the fitted group prior
        log_prior = -0.5 * (((xn - mean) / sd) ** 2).sum(1) - np.log(sd).sum() - 0.5 * n_par * LOG2PI
        out.log_evidence = pd.Series(ll + log_prior + 0.5 * n_par * LOG2PI - 0.5 * logdet, index=index)
    return out


def fit_pooled(model, data: TrialData) -> tuple[torch.Tensor, float, bool]:
    """Maximum likelihood of one parameter set shared by every subject (e.g. episode) of ``data``: the
    summed negative log-likelihood minimised from ``model.n_starts`` :func:`starting_points` (the first
    at the centre of the ``init`` ranges; ``model.random_state``), with ``model.max_iter``. Returns the
    best optimum (1, n_params) unconstrained, its NLL and whether it converged."""
    n_sub, n_starts = data.n_subjects, model.n_starts
    x0 = starting_points(model, 1, n_starts, make_rng(model.random_state))
    batch = data.rows(np.tile(np.arange(n_sub), n_starts))

    def objective(x: torch.Tensor) -> torch.Tensor:
        ll = model.loglik(x.repeat_interleave(n_sub, 0), batch)
        return -ll.reshape(x.shape[0], n_sub).sum(1)

    res = minimize_rows(objective, x0, max_iter=model.max_iter)
    best = int(torch.argmin(res.fun))
    return res.x[best : best + 1], float(res.fun[best]), bool(res.converged[best])


def fit_in_windows(model, data: TrialData, window: int, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximum likelihood per (subject, window): for each window of ``window`` trials starting at
    session position 0, ``step``, ... only those positions' choices of every session of the subject
    enter the likelihood, while the model's state runs from the session start. All (subject, window)
    fits are rows of one batched problem (``model.n_starts``, ``model.random_state``).

    Returns the window starts, the natural parameters (subject-major rows, n_params) and the NLL of
    every row."""
    position = np.arange(data.n_trials)[:, None]  # each column of the layout is one session from its start
    starts = np.arange(0, max(data.n_trials - window + 1, 1), step)
    row_subject = np.repeat(np.arange(data.n_subjects), len(starts))
    row_start = np.tile(starts, data.n_subjects)

    def in_window(col_row, col_unit):
        first = row_start[col_row][None, :]
        return ((position >= first) & (position < first + window)).astype(float)

    best = _multistart(model, data, row_subject, model.n_starts, make_rng(model.random_state), lik_mask=in_window,
                       desc="sliding window")
    return starts, natural_values(model, best.x), best.fun.numpy()


def _empirical_bayes(model, data, x, prior_mean, prior_sd, first: Starts, max_em: int = 50, tol: float = 1e-3):
    """Hierarchical fit (Huys et al. 2011): a Normal group prior on the unconstrained parameters,
    estimated by EM with a Laplace approximation of each subject's posterior.

    E-step: MAP per subject under the current group prior, posterior covariance from the Hessian.
    M-step: mean = mean of MAP estimates; variance = mean of (MAP² + posterior variance) − mean².
    """
    subjects = np.arange(data.n_subjects)
    mean, sd = prior_mean.copy(), prior_sd.copy()
    for _ in range(max_em):
        x = _multistart(model, data, subjects, 1, None, mean=mean, sd=sd, x0=x, desc=f"EM {model.name}").x
        cov, _ = _covariance(_hessian(model, data, subjects, x, mean=mean, sd=sd))
        post_var = torch.diagonal(cov, dim1=1, dim2=2).numpy()
        post_var = np.where(np.isfinite(post_var), post_var, sd**2)
        xn = x.numpy()
        new_mean = xn.mean(0)
        new_sd = np.sqrt(np.maximum((xn**2 + post_var).mean(0) - new_mean**2, 1e-4))
        change = max(np.abs(new_mean - mean).max(), np.abs(np.log(new_sd / sd)).max())
        mean, sd = new_mean, new_sd
        if change < tol:
            break
    last = _multistart(model, data, subjects, 1, None, mean=mean, sd=sd, x0=x, desc=f"EM {model.name}")
    # the starts' agreement is that of the first (multi-start) pass; the EM passes refine one point
    last.n_at_best, last.n_starts = first.n_at_best, first.n_starts
    return last, mean, sd


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


def cross_validate(model, data, n_folds: int = 5, random_state=None, **recording_options) -> pd.DataFrame:
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
    x = _multistart(model, td, row_subject, model.n_starts, make_rng(model.random_state), mean=mean, sd=sd, lik_mask=train,
                    desc=f"cv {model.name}").x
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


def compare_models(models: dict | list, data, *, cv_folds: int | None = None,
                   random_state=None, **recording_options) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fit several models to the same data (a trial table, or a recording with ``recording_options``
    for :func:`~neurometarl.data.recording_to_table`) and compare them. ``models``: name → model, or a list
    of models (keyed by their ``name``).

    Two-step models are all scored on the same choices: first-stage only when any of them cannot
    model second-stage choices.

    Returns
    -------
    summary : DataFrame, one row per model: ``n_params`` (per subject), ``nll``, ``aic``, ``bic``,
        ``ibic`` (for ``method='eb'``), ``cv_loglik`` (with ``cv_folds``), ``delta_bic`` to the best,
        ``n_best_subjects`` (subjects whose BIC picks that model); sorted by BIC. ``summary.attrs['notes']``
        lists the parameters whose MAP/EB modes sit at the prior mean for most subjects (also warned).

    Models that nest others (hybrid: mf and mb; rw variants: rw) are fitted after them and start from
    their optima, so their NLL is never above a nested model's for any subject (ML).
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
    rows, bic = {}, {}
    fitted: dict[str, Any] = {}  # name → fitted model
    notes = []
    # models that nest others fit after them and start from their optima (fitted once, here)
    order = sorted(models, key=lambda name: len(models[name]._nested()))
    with progress_bar(desc="compare", total=len(order), unit="model") as bar:
        for name in order:
            m = models[name]
            bar.set_postfix(model=name, refresh=True)
            m._fit(table, nested_fits=fitted, **fit_options)
            fitted[m.name] = m
            row = {"model": name, "n_params": len(m.specs()), "nll": m.nll_, "aic": m.aic_, "bic": m.bic_}
            if hasattr(m, "ibic_") and getattr(m, "method", "ml") == "eb":
                row["ibic"] = m.ibic_
            if cv_folds:
                row["cv_loglik"] = cross_validate(m, table, cv_folds, random_state, **fit_options)["test_loglik"].sum()
            rows[name] = row
            bic[name] = m.subject_fits_["bic"]
            notes += prior_notes(m, m.subject_fits_)
            bar.update(1)
    per_subject = pd.DataFrame({name: bic[name] for name in models})
    summary = pd.DataFrame([rows[name] for name in models]).set_index("model")
    summary["delta_bic"] = summary["bic"] - summary["bic"].min()
    best = per_subject.idxmin(axis=1).value_counts()
    summary["n_best_subjects"] = [int(best.get(n, 0)) for n in summary.index]
    summary = summary.sort_values("bic")
    #: lines about priors that decided estimates (MAP/EB), also warned
    summary.attrs["notes"] = notes
    warn_fits(notes)
    return summary, per_subject
