"""Bayesian observers of two-armed bandits as choice models: whose assumptions does a subject act on?

An observer is the posterior of one task distribution, run on the choices and outcomes a subject
actually had (the same posteriors the Bayes-optimal player uses, :mod:`neurometarl.models.bandit_baselines`):

- ``"correlated"``: p_right = 1 − p_left, p_left ~ U[0, 1] or a set of ``levels``; every outcome is
  evidence about both arms (a left win counts like a right loss);
- ``"independent"``: independent Beta(1, 1) posteriors, an outcome informs only the arm pulled.

:func:`fit_softmax` turns an observer's expected rewards into a choice model with one fitted inverse
temperature, so two observers can be compared by the likelihood of the subject's choices.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import optimize, special

from ..errors import ConfigError, DataError

PRIORS = ("correlated", "independent")


def observer_values(ds: xr.Dataset, prior: str, levels: tuple[float, ...] = ()) -> xr.DataArray:
    """Posterior expected reward of each arm before every trial, given the recorded choices and rewards.

    Parameters
    ----------
    ds : a bandit recording (``choice`` and ``reward`` on (episode, trial)).
    prior : ``"correlated"`` or ``"independent"`` (see the module docstring).
    levels : for ``"correlated"``, the allowed values of p_left (mirrored); empty: uniform on [0, 1].

    Returns
    -------
    DataArray (episode, trial, arm) of expected rewards (arm = left, right).
    """
    if prior not in PRIORS:
        raise ConfigError(f"prior must be one of {PRIORS}, got {prior!r}")
    if "choice" not in ds or "reward" not in ds:
        raise DataError("observer_values needs 'choice' and 'reward' (episode, trial) in the recording")
    choice = ds["choice"].transpose("episode", "trial").to_numpy().astype(int)
    won = (ds["reward"].transpose("episode", "trial").to_numpy() > 0).astype(float)
    chosen = np.stack([choice == 0, choice == 1], -1).astype(float)  # (episode, trial, arm)
    before = lambda x: np.concatenate([np.zeros_like(x[:, :1]), np.cumsum(x, 1)[:, :-1]], 1)  # counts before each trial
    successes, failures = before(chosen * won[..., None]), before(chosen * (1 - won[..., None]))
    if prior == "independent":
        values = (successes + 1) / (successes + failures + 2)
    else:
        a = successes[..., 0] + failures[..., 1]  # evidence that left is the better arm
        b = failures[..., 0] + successes[..., 1]
        if levels:
            lv = np.array(sorted({*levels, *(1 - x for x in levels)}))
            lv = np.clip(lv, 1e-6, 1 - 1e-6)
            logw = a[..., None] * np.log(lv) + b[..., None] * np.log1p(-lv)
            p_left = (special.softmax(logw, -1) * lv).sum(-1)
        else:
            p_left = (a + 1) / (a + b + 2)
        values = np.stack([p_left, 1 - p_left], -1)
    return xr.DataArray(values, dims=("episode", "trial", "arm"),
                        coords={"episode": ds["episode"].to_numpy(), "trial": ds["trial"].to_numpy(), "arm": ["left", "right"]},
                        attrs={"long_name": f"{prior} observer's expected reward", "units": "reward"})


def fit_softmax(values: xr.DataArray, choice: xr.DataArray, *, max_beta: float = 1000.0) -> dict:
    """Fit P(right) = σ(β·(v_right − v_left)) to the choices by maximum likelihood (β ∈ [0, max_beta]).

    Returns
    -------
    dict with ``beta``, ``loglik`` (total, natural log), ``n_choices`` and ``loglik_per_choice``.
    """
    diff = (values.sel(arm="right") - values.sel(arm="left")).transpose("episode", "trial").to_numpy().ravel()
    sign = np.where(choice.transpose("episode", "trial").to_numpy().ravel() == 1, 1.0, -1.0)
    nll = lambda beta: -special.log_expit(sign * beta * diff).sum()
    best = optimize.minimize_scalar(nll, bounds=(0.0, max_beta), method="bounded", options={"xatol": 1e-4})
    loglik = -float(best.fun)
    return {"beta": float(best.x), "loglik": loglik, "n_choices": int(diff.size), "loglik_per_choice": loglik / diff.size}
