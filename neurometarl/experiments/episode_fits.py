"""Model fits over the many short test episodes of one replica (Sims 1, 2 and 4).

Pooled fits (one parameter set shared by the episodes) are the estimator's
``model.fit(table, pooled=True)``; :func:`fit_numbers` is what the experiments record of one. Here:

- :func:`window_learning_rates`: the spec's Sim 2 (c) effective learning rate (Rescorla–Wagner over
  reward probability with a softmax over probability × shown magnitude, as
  :class:`neurometarl.models.BehrensLearner` with ``anticorrelated=True``), fitted by exact profile
  likelihood: values on a grid of α, the concave one-dimensional fit of β for each window by Newton's
  method, then a parabolic refinement of α. It agrees with
  :func:`neurometarl.analysis.behaviour.sliding_window_learning_rate` (tested) and is ~100× faster
  on pooled episodes, which that function runs as one long session per condition.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.special import expit, log_expit

from ..errors import DataError
from ..models.base import BehaviouralModel


def fit_numbers(model: BehaviouralModel) -> dict:
    """A pooled fit (``model.fit(data, pooled=True)``) as the experiments record it: ``params`` (name →
    natural value), ``nll`` (total), ``n_choices``, ``bic`` and ``converged``."""
    params = {name: float(v) for name, v in model.params_.iloc[0].items()}
    return {"params": params, "nll": model.nll_, "n_choices": model.n_choices_, "bic": model.bic_,
            "converged": model.converged_}


def window_learning_rates(ds: xr.Dataset, *, window: int = 10, step: int = 2, n_alpha: int = 48,
                          beta_max: float = 50.0, n_newton: int = 10) -> xr.Dataset:
    """Effective learning rate in sliding windows, pooled over the episodes of ``ds``.

    The model is :class:`neurometarl.models.BehrensLearner` (``anticorrelated=True``, p0 = 0.5): one
    estimate p of P(left pays) learns from every outcome, p ← p + α (y − p) with y = 1 after a
    rewarded left or an unrewarded right choice; P(right) = σ(β [(1 − p) m_R − p m_L]) with the shown
    magnitudes m (points). For each window of ``window`` trials starting at 0, ``step``, ... only that
    window's choices enter the likelihood, while p runs over every earlier trial with the same α.

    Parameters
    ----------
    ds : a recording of a two-choice protocol with ``magnitude`` (episode, trial, arm) and
        ``choice``/``reward`` (episode, trial); a trial is rewarded when its reward is > 0.
    window, step : window length and the spacing of window starts, in trials.
    n_alpha : grid points over α (uniform in logit α on [−5, 5], α ∈ [0.007, 0.993]).
    beta_max : upper bound of β (per point of magnitude), as the model's parameter cap.
    n_newton : Newton iterations of the one-dimensional β fit (from β = 0; the fit is concave).

    Returns
    -------
    xarray.Dataset on ``window_start``: ``alpha``, ``beta``, ``nll`` and ``window_centre`` (trial).
    """
    for name in ("choice", "reward", "magnitude"):
        if name not in ds:
            raise DataError(f"window_learning_rates needs {name!r} in the recording (a volatility-task recording)")
    names = ds["choice"].attrs.get("flag_meanings", "left right").split()
    code = ds["choice"].transpose("episode", "trial").to_numpy()
    right = (code == names.index("right")).astype(float)
    valid = (code == names.index("left")) | (code == names.index("right"))
    won = ds["reward"].transpose("episode", "trial").to_numpy() > 0
    mag = ds["magnitude"].transpose("episode", "trial", "arm").to_numpy().astype(float)
    n_ep, n_tr = code.shape
    if n_tr < window:
        raise DataError(f"episodes of {n_tr} trials are shorter than the window ({window})")
    z = np.linspace(-5.0, 5.0, n_alpha)
    alphas = expit(z)[:, None]
    p = np.full((n_alpha, n_ep), 0.5)
    d = np.empty((n_alpha, n_ep, n_tr))
    left_won = np.where(right == 0, won, ~won).astype(float)
    for t in range(n_tr):
        d[:, :, t] = (1 - p) * mag[None, :, t, 1] - p * mag[None, :, t, 0]
        p = np.where(valid[None, :, t], p + alphas * (left_won[None, :, t] - p), p)
    starts = np.arange(0, n_tr - window + 1, step)
    out = {k: np.full(len(starts), np.nan) for k in ("alpha", "beta", "nll")}
    d = np.ascontiguousarray(d.transpose(0, 2, 1))  # (alpha, trial, episode): windows are contiguous
    y, m = right.T, valid.T.astype(float)
    for chunk in np.array_split(np.arange(len(starts)), max(1, len(starts) // 16)):
        # every window of the chunk at once: (alpha, window, samples)
        rows = starts[chunk][:, None] + np.arange(window)[None, :]
        dw = d[:, rows].reshape(n_alpha, len(chunk), -1)
        yw, mw = y[rows].reshape(len(chunk), -1), m[rows].reshape(len(chunk), -1)
        beta = np.zeros((n_alpha, len(chunk), 1))
        for _ in range(n_newton):  # the log-likelihood is concave in beta
            s = expit(beta * dw)
            grad = (mw * (yw - s) * dw).sum(-1, keepdims=True)
            hess = (mw * s * (1 - s) * dw * dw).sum(-1, keepdims=True) + 1e-9
            beta = np.clip(beta + grad / hess, 0.0, beta_max)
        z_b = beta * dw
        ll = (mw * (yw * log_expit(z_b) + (1 - yw) * log_expit(-z_b))).sum(-1)  # (alpha, window)
        for j, i in enumerate(chunk):
            if mw[j].sum() == 0:
                continue
            k = int(np.argmax(ll[:, j]))
            zk = z[k]
            if 0 < k < n_alpha - 1:  # parabolic refinement of the profile likelihood in logit α
                l0, l1, l2 = ll[k - 1 : k + 2, j]
                curvature = l0 - 2 * l1 + l2
                if curvature < 0:
                    zk = z[k] + 0.5 * (l0 - l2) / curvature * (z[1] - z[0])
            out["alpha"][i], out["beta"][i], out["nll"][i] = expit(zk), beta[k, j, 0], -ll[k, j]
    attrs = {"alpha": ("effective learning rate α", "1"), "beta": ("inverse temperature on expected value", "1 / point"),
             "nll": ("negative log-likelihood of the window's choices", "nats")}
    data = {k: ("window_start", v, {"long_name": attrs[k][0], "units": attrs[k][1]}) for k, v in out.items()}
    return xr.Dataset(data, coords={"window_start": starts,
                                    "window_centre": ("window_start", starts + (window - 1) / 2, {"long_name": "trial"})},
                      attrs={"analysis": "window_learning_rates", "window": window, "step": step,
                             "model": "behrens (anticorrelated RW, softmax on p x magnitude)", "n_episodes": n_ep})
