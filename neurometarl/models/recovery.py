"""Parameter recovery and model recovery: simulate models as lab subjects on a protocol, fit, compare.

    rec = parameter_recovery(make_model("rw"), "bandit-restless", n_subjects=20, n_trials=200)
    recovery_correlations(rec)          # Pearson r per parameter
    plot_parameter_recovery(rec, "alpha")
    confusion, fits = model_recovery({"mf": ..., "mb": ..., "hybrid": ...}, "twostep", n_subjects=30)
    plot_confusion(confusion)
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone

from ..errors import ConfigError
from ..seeding import make_rng
from .base import BehaviouralModel


def sample_parameters(model: BehaviouralModel, n: int, ranges: dict | None = None, *, method: str = "lhs",
                      log: tuple[str, ...] = (), random_state=None) -> pd.DataFrame:
    """``n`` parameter sets for ``model``, each parameter uniform on ``ranges[name]`` (default: its
    ``init`` range), or log-uniform for the names in ``log``. ``method='lhs'`` stratifies (a Latin
    hypercube: one draw in each of ``n`` equal bins per parameter, bins paired at random),
    ``'uniform'`` draws independently."""
    rng = make_rng(random_state)
    ranges = ranges or {}
    unknown = set(ranges) - set(model.param_names)
    if unknown:
        raise ConfigError(f"ranges given for unknown parameter(s) {sorted(unknown)}; {model.name} has {model.param_names}")
    if method not in ("lhs", "uniform"):
        raise ConfigError(f"method must be 'lhs' or 'uniform', got {method!r}")
    out = {}
    for s in model.specs():
        lo, hi = ranges.get(s.name, s.init)
        u = (rng.permutation(n) + rng.uniform(size=n)) / n if method == "lhs" else rng.uniform(size=n)
        if s.name in log:
            if lo <= 0:
                raise ConfigError(f"a log-uniform range needs a positive lower bound; {s.name} has {lo}")
            out[s.name] = np.exp(np.log(lo) + (np.log(hi) - np.log(lo)) * u)
        else:
            out[s.name] = lo + (hi - lo) * u
    return pd.DataFrame(out)


#: how a simulated recording becomes trials: each simulated subject is one session of its own subject
AS_SESSIONS = {"episodes_as": "sessions"}


def _simulate(model, task, params, n_trials, seed, task_overrides):
    """The recording of ``params`` (one subject per row) playing ``task``. Fits read the recording
    itself (with :data:`AS_SESSIONS`), not a bare table, so they see the protocol (e.g. the known
    common-transition probability of a two-step task) exactly as the simulated subjects did."""
    overrides = dict(task_overrides or {})
    if n_trials is not None:
        overrides["n_trials"] = n_trials
    return model.simulate(task, params=params, n_episodes=1, seed=seed, **overrides)


def parameter_recovery(model: BehaviouralModel, task: str, *, n_subjects: int = 20, n_trials: int | None = 200,
                       ranges: dict | None = None, true_params: pd.DataFrame | None = None, method: str = "lhs",
                       log: tuple[str, ...] = (), seed: int = 0, task_overrides: dict | None = None) -> pd.DataFrame:
    """Simulate ``n_subjects`` with known parameters on ``task`` and fit them back.

    Parameters
    ----------
    model : the model to simulate and to fit (a clone with the same hyperparameters is fitted).
    task : protocol name; ``task_overrides`` and ``n_trials`` adjust its config.
    ranges, method, log : how true parameters are drawn (:func:`sample_parameters`), unless ``true_params``.
    seed : seeds the parameter draw, the simulation and nothing else (fits use the model's
        ``random_state``).

    Returns
    -------
    DataFrame, one row per subject: ``true_<p>``, ``fit_<p>`` and ``se_<p>`` for every parameter, plus
    the fit's ``nll``.
    """
    if true_params is None:
        model._resolve(None, _task(task, task_overrides))
        true_params = sample_parameters(model, n_subjects, ranges, method=method, log=log, random_state=seed)
    true_params = true_params.reset_index(drop=True)
    recording = _simulate(model, task, true_params, n_trials, seed, task_overrides)
    fitted = clone(model).fit(recording, **AS_SESSIONS)
    order = fitted.params_.index.to_numpy()
    out = pd.DataFrame({"subject": order})
    for name in fitted.param_names:
        out[f"true_{name}"] = true_params[name].to_numpy()[order]
        out[f"fit_{name}"] = fitted.params_[name].to_numpy()
        out[f"se_{name}"] = fitted.params_se_[name].to_numpy()
    out["nll"] = fitted.subject_fits_["nll"].to_numpy()
    return out


def _task(task, overrides):
    from ..tasks import make_task

    return make_task(task, 1, **(overrides or {})) if isinstance(task, str) else task


def recovery_correlations(recovery: pd.DataFrame) -> pd.Series:
    """Pearson r between true and fitted values of each parameter of a :func:`parameter_recovery` table."""
    names = [c[5:] for c in recovery.columns if c.startswith("true_")]
    return pd.Series({n: float(np.corrcoef(recovery[f"true_{n}"], recovery[f"fit_{n}"])[0, 1]) for n in names}, name="pearson_r")


def model_recovery(models: dict[str, BehaviouralModel], task: str, *, n_subjects: int = 30, n_trials: int | None = 200,
                   ranges: dict[str, dict] | None = None, criterion: str = "bic", seed: int = 0,
                   task_overrides: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate ``n_subjects`` from every model, fit every model to every simulated group, and count
    which model each subject's ``criterion`` ('bic' or 'aic') picks.

    Returns
    -------
    confusion : DataFrame (generating model × chosen model), fractions of subjects (rows sum to 1).
    scores : long DataFrame: generating model, subject, fitted model, criterion value.
    """
    if criterion not in ("bic", "aic"):
        raise ConfigError(f"criterion must be 'bic' or 'aic', got {criterion!r}")
    from .diagnostics import FitWarning
    from ..progress import progress_bar

    ranges = ranges or {}
    rows = []
    with progress_bar(desc="model recovery", total=len(models) ** 2, unit="fit") as bar, warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)  # simulated groups: the diagnostics stay in each fit
        for g, (gen_name, gen) in enumerate(models.items()):
            gen._resolve(None, _task(task, task_overrides))
            params = sample_parameters(gen, n_subjects, ranges.get(gen_name), random_state=seed + 1000 * g)
            recording = _simulate(gen, task, params, n_trials, seed + 1000 * g, task_overrides)
            for fit_name, m in models.items():
                bar.set_postfix(generating=gen_name, fitted=fit_name, refresh=True)
                fitted = clone(m).fit(recording, **AS_SESSIONS)
                crit = fitted.subject_fits_[criterion]
                rows += [{"generating": gen_name, "subject": s, "fitted": fit_name, criterion: v} for s, v in crit.items()]
                bar.update(1)
    scores = pd.DataFrame(rows)
    best = scores.loc[scores.groupby(["generating", "subject"])[criterion].idxmin()]
    names = list(models)
    confusion = pd.crosstab(best["generating"], best["fitted"], normalize="index").reindex(index=names, columns=names, fill_value=0.0)
    confusion.index.name, confusion.columns.name = "generating model", f"model chosen by {criterion.upper()}"
    return confusion, scores


def plot_parameter_recovery(recovery: pd.DataFrame, param: str | None = None, *, ax=None):
    """Scatter of fitted against true values of one parameter (default the first), with the identity
    line and Pearson r in the title."""
    import matplotlib.pyplot as plt

    names = [c[5:] for c in recovery.columns if c.startswith("true_")]
    param = param or names[0]
    if param not in names:
        raise ConfigError(f"no parameter {param!r} in this recovery table; it has {names}")
    ax = ax or plt.gca()
    x, y = recovery[f"true_{param}"], recovery[f"fit_{param}"]
    ax.errorbar(x, y, yerr=recovery[f"se_{param}"].where(np.isfinite(recovery[f"se_{param}"])), fmt="o", ms=4, alpha=0.8, capsize=0, elinewidth=0.6)
    lo, hi = min(x.min(), y.min()), max(x.max(), y.max())
    ax.plot([lo, hi], [lo, hi], color="0.5", lw=0.8, ls="--", label="identity")
    pad = 0.05 * (hi - lo)
    ax.set_xlim(lo - pad, hi + pad)  # the same scale on both axes, so the identity line is the diagonal
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(f"true {param}")
    ax.set_ylabel(f"recovered {param} (± s.e.)")
    ax.set_title(f"{param}: r = {np.corrcoef(x, y)[0, 1]:.3f} (n = {len(x)})")
    return ax


def plot_confusion(confusion: pd.DataFrame, *, ax=None):
    """Heat map of a :func:`model_recovery` confusion matrix (fractions, annotated)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    ax = ax or plt.gca()
    sns.heatmap(confusion, annot=True, fmt=".2f", vmin=0, vmax=1, cmap="Blues", cbar_kws={"label": "fraction of subjects"}, ax=ax)
    ax.set_xlabel(confusion.columns.name or "chosen model")
    ax.set_ylabel(confusion.index.name or "generating model")
    ax.tick_params(axis="y", rotation=0)
    return ax
