"""Unit coding: per-unit regression of activity on trial regressors, partial correlations, shuffle
nulls and the fraction of significant units, as an electrophysiologist analyses recorded neurons.

All fits are one vectorised OLS solve over units (and periods or steps), identical to fitting
``statsmodels.OLS`` unit by unit (see :mod:`neurometarl.analysis.ols`).

Two ways to resolve time:

* ``by="period"`` (default): activity at each period of the trial (fixation, cue, choice, outcome),
  pooling the selected trials of every episode as samples; dim ``period`` (dropped when one period is
  named as a string).
* ``by="step"``: one regression per step of the episode, episodes as samples; dim ``step`` with
  ``step_trial``/``step_period`` coordinates (a time course through the episode).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from scipy import stats

from ..errors import DataError
from ..progress import progress_bar
from ..seeding import make_rng
from .align import active_trials, activity, select_periods, select_trials, steps_per_trial
from .ols import fit_ols, fdr_bh
from .regressors import Latents, make_regressors

__all__ = ["unit_regression", "partial_correlation", "fraction_significant", "design"]

CORRECTIONS = ("bonferroni", "fdr", "none")
_VAR_ATTRS = {
    "coef": ("regression coefficient", "a.u. per regressor unit"),
    "se": ("standard error of the coefficient", "a.u. per regressor unit"),
    "t": ("t statistic", "1"),
    "p_value": ("two-sided p-value of the coefficient (t test)", "1"),
    "cpd": ("coefficient of partial determination", "1"),
    "partial_r": ("partial correlation with the regressor given the others", "1"),
    "r2": ("coefficient of determination of the full model", "1"),
    "n_samples": ("samples in the fit", "1"),
    "df_resid": ("residual degrees of freedom", "1"),
}


def design(ds: xr.Dataset, regressors, *, var: str | xr.DataArray = "hidden", period=None, by: str = "period", trials=None,
           latents: Latents = None, regressor_period: str | None = None) -> tuple[xr.DataArray, xr.DataArray]:
    """The aligned regressors and activity the unit analyses fit.

    Parameters
    ----------
    ds : the recording.
    regressors : names or ``{name: array (episode, trial)}`` (see :func:`~neurometarl.analysis.make_regressors`).
    var : unit variable (``'hidden'`` or ``'cell'``), or a DataArray (episode, step, unit).
    period : period(s) of the trial at which activity is read; ``None`` = every period.
    by : ``'period'`` (trials pooled, one fit per period) or ``'step'`` (one fit per step, episodes as samples).
    trials : trials to keep (slice, indices or boolean mask), e.g. ``slice(33, None)``.
    latents : caller-supplied per-trial latents the regressor names may refer to.
    regressor_period : period at which step-level regressors (``value``, ``rpe``) are read; default choice.

    Returns
    -------
    X : DataArray (episode, trial, regressor) for ``by='period'``, (episode, step, regressor) for ``by='step'``.
    Y : DataArray (episode, trial, period, unit) or (episode, step, unit).
    """
    if by not in ("period", "step"):
        raise DataError(f"by must be 'period' or 'step', got {by!r}")
    table = make_regressors(ds, regressors, latents=latents, period=regressor_period)
    X = table.to_dataarray("regressor").transpose("episode", "trial", "regressor")
    X = X.where(active_trials(ds))  # padding trials (active == 0) are left out like undefined regressors
    if by == "period":
        Y = activity(ds, var, select_periods(ds, period))
        return select_trials(X, trials), select_trials(Y, trials)
    spt = steps_per_trial(ds)
    chosen = select_periods(ds, period)
    Y = activity(ds, var, None)  # (episode, trial, period, unit)
    Y = select_trials(Y.sel(period=chosen), trials)
    Xs = select_trials(X, trials)
    names = list(ds["step_period"].attrs["flag_meanings"].split())
    steps = (Y["trial"].values[:, None] * spt + np.array([names.index(p) for p in chosen])[None, :]).ravel()
    Y = Y.stack(step=("trial", "period")).drop_vars(["step", "trial", "period"]).assign_coords(step=steps)
    Xs = Xs.isel(trial=np.repeat(np.arange(Xs.sizes["trial"]), len(chosen))).rename(trial="step")
    Xs = Xs.drop_vars("step").assign_coords(step=steps)
    coords = {"step_trial": ("step", ds["step_trial"].values[steps]), "step_period": ("step", ds["step_period"].values[steps], ds["step_period"].attrs)}
    return Xs.assign_coords(coords), Y.transpose("episode", "step", "unit").assign_coords(coords)


def _arrays(X: xr.DataArray, Y: xr.DataArray, by: str, intercept: bool):
    """Numpy batch arrays (B, n, p), (B, n, U), mask (B, n) for fit_ols."""
    x = X.values
    if intercept:
        x = np.concatenate([np.ones(x.shape[:-1] + (1,)), x], -1)
    if by == "period":  # samples = (episode, trial); batch = period
        n_ep, n_tr = X.sizes["episode"], X.sizes["trial"]
        Xb = x.reshape(1, n_ep * n_tr, -1)
        y = Y.values if "period" in Y.dims else Y.values[:, :, None, :]
        Yb = np.moveaxis(y, 2, 0).reshape(y.shape[2], n_ep * n_tr, -1)
    else:  # samples = episodes; batch = step
        Xb = np.moveaxis(x, 1, 0)
        Yb = np.moveaxis(Y.values, 1, 0)
    mask = np.isfinite(Xb).all(-1)
    if not mask.any():
        raise DataError("no sample has every regressor defined (e.g. prev_* on a single selected trial 0)")
    if not np.isfinite(Yb).all():
        raise DataError("the unit activity holds NaN/inf; drop those units or steps first")
    return Xb, Yb, mask  # fit_ols reads Y block by block in float64


def _rank(a: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Ranks along the sample axis (-2) over the masked-in rows of each batch element; other rows 0.

    ``a`` is (B, n, k) and ``mask`` (B, n) or (1, n) (one mask shared by every batch element)."""
    out = np.zeros(a.shape)
    for b in range(a.shape[0]):
        rows = mask[b if mask.shape[0] > 1 else 0]
        out[b][rows] = stats.rankdata(a[b][rows], axis=0)
    return out


def _fit(Xb, Yb, mask, names, rank: bool):
    """fit_ols on the batch arrays, after rank-transforming regressors (not the intercept) and
    responses over the used rows when ``rank``."""
    if rank:
        Xb = np.where(mask[..., None], Xb, 0.0)
        Xb = np.concatenate([Xb[..., :1], _rank(Xb[..., 1:], mask)], -1) if names[0] == "intercept" else _rank(Xb, mask)
        Yb = _rank(Yb, mask)
    return fit_ols(np.where(mask[..., None], Xb, 0.0), Yb, mask, names=names)


def _shuffled(X: xr.DataArray, shuffle: str, rng: np.random.Generator, n_shuffles: int) -> list[xr.DataArray]:
    """Copies of the regressors with their pairing to activity broken, keeping their own structure:
    ``'episode'`` rotates the episode index by a random k in 1..n_episodes-1 (all regressors together);
    ``'trial'`` rotates the trials of each episode by its own random offset."""
    n_ep = X.sizes["episode"]
    time_dim = "trial" if "trial" in X.dims else "step"
    if shuffle == "episode":
        if n_ep < 2:
            raise DataError("an episode-shift null needs at least 2 episodes")
        shifts = rng.choice(np.arange(1, n_ep), size=n_shuffles, replace=n_shuffles > n_ep - 1)
        return [X.roll(episode=int(k), roll_coords=False) for k in shifts]
    if shuffle == "trial":
        out = []
        n_t = X.sizes[time_dim]
        for _ in range(n_shuffles):
            offsets = rng.integers(1, max(n_t, 2), size=n_ep)
            index = (np.arange(n_t)[None, :] - offsets[:, None]) % n_t  # (episode, time)
            out.append(X.copy(data=X.values[np.arange(n_ep)[:, None], index]))
        return out
    raise DataError(f"shuffle must be 'episode' or 'trial', got {shuffle!r}")


def _to_dataset(fit, Y: xr.DataArray, by: str, names: list[str], squeeze: bool) -> xr.Dataset:
    batch = "period" if by == "period" else "step"
    batch_coords: dict[str, Any]
    if by == "period":
        batch_coords = {"period": Y["period"].values} if "period" in Y.dims else {"period": [Y["period"].item()]}
    else:
        batch_coords = {"step": Y["step"].values, "step_trial": ("step", Y["step_trial"].values),
                        "step_period": ("step", Y["step_period"].values, Y["step_period"].attrs)}
    coords = {**batch_coords, "regressor": names, "unit": Y["unit"].values}
    BRU, BU = (batch, "regressor", "unit"), (batch, "unit")
    n_b = len(batch_coords[batch])
    data: dict[str, tuple[tuple[str, ...], Any]] = {name: (BRU, getattr(fit, name)) for name in ("coef", "se", "t", "p_value", "cpd", "partial_r")}
    data["r2"] = (BU, fit.r2)
    data["n_samples"] = ((batch,), np.broadcast_to(fit.n_samples, (n_b,)).astype(np.int64))
    data["df_resid"] = ((batch,), np.broadcast_to(fit.df_resid, (n_b,)).astype(np.int64))
    out = xr.Dataset(data, coords=coords)
    for name, (long_name, units) in _VAR_ATTRS.items():
        out[name].attrs = {"long_name": long_name, "units": units}
    out["regressor"].attrs = {"long_name": "regressor"}
    if "intercept" in names:
        for name in ("cpd", "partial_r"):
            out[name].loc[{"regressor": "intercept"}] = np.nan
    if squeeze and by == "period":
        out = out.squeeze("period")
    return out


def unit_regression(ds: xr.Dataset, regressors: Sequence[str] | Mapping[str, object], *, var: str | xr.DataArray = "hidden",
                    period: str | Sequence[str] | None = None, by: str = "period", trials=None,
                    latents: Latents = None, regressor_period: str | None = None, intercept: bool = True,
                    rank: bool = False, n_shuffles: int = 0, shuffle: str = "episode",
                    random_state: int | np.random.Generator | None = None) -> xr.Dataset:
    """Regress every unit's activity on trial regressors (OLS), per period or per step.

    Parameters
    ----------
    ds : the recording (an agent's or a baseline's; any dataset in the recording format).
    regressors : regressor names (``'prev_action'``, ``'value@fixation'``, ``'reward_prob[left]'``...)
        or ``{name: array (episode, trial)}``; see :mod:`neurometarl.analysis.regressors`.
    var : unit variable, ``'hidden'`` (default) or ``'cell'``, or a DataArray (episode, step, unit).
    period : period name(s) at which activity is read; ``None`` = every period (time-resolved).
    by : ``'period'`` (trials pooled, one fit per period) or ``'step'`` (one fit per episode step).
    trials : trials to use (slice, indices, boolean mask); default all with every regressor defined.
    latents : caller-supplied per-trial latents (values, volatility, belief...) named in ``regressors``.
    regressor_period : period at which step-level regressors are read (default: the choice period).
    intercept : add a constant column (reported as regressor ``'intercept'``).
    rank : rank-transform activity and regressors first (Spearman-type coefficients).
    n_shuffles : size of a shuffle null; adds ``p_shuffle`` and ``null_t``.
    shuffle : ``'episode'`` (circular shift of the episode pairing, default) or ``'trial'``
        (circular shift of each episode's trials).
    random_state : seed or numpy Generator for the shuffles.

    Returns
    -------
    xarray.Dataset with dims (``period`` | ``step``, ``regressor``, ``unit``):
        ``coef``, ``se``, ``t``, ``p_value`` (equal to statsmodels OLS per unit), ``cpd``,
        ``partial_r`` (NaN for the intercept), ``r2`` (.., unit), ``n_samples``, ``df_resid``;
        with shuffles ``null_t`` (shuffle, .., regressor, unit) and ``p_shuffle`` =
        (1 + #{|t_null| ≥ |t|}) / (1 + n_shuffles).
    """
    X, Y = design(ds, regressors, var=var, period=period, by=by, trials=trials, latents=latents,
                  regressor_period=regressor_period)
    names = (["intercept"] if intercept else []) + [str(r) for r in X["regressor"].values]
    if by == "step":  # leave out steps where too few episodes have every regressor (trial 0 for prev_*)
        usable = np.isfinite(X.values).all(-1).sum(0) > len(names)
        if not usable.any():
            raise DataError(f"no step has more than {len(names)} episodes with every regressor defined")
        X, Y = X.isel(step=usable), Y.isel(step=usable)
    Xb, Yb, mask = _arrays(X, Y, by, intercept)
    fit = _fit(Xb, Yb, mask, names, rank)
    out = _to_dataset(fit, Y, by, names, squeeze=isinstance(period, str))
    out.attrs = {
        "analysis": "unit_regression", "var": var if isinstance(var, str) else str(var.name),
        "by": by, "rank": int(rank), "source_subject": str(ds.attrs.get("subject", "")),
        "source_task": str(ds.attrs.get("task", "")), "regressor_period": str(regressor_period or ""),
    }
    if n_shuffles:
        if n_shuffles < 0:
            raise DataError(f"n_shuffles must be >= 0, got {n_shuffles}")
        rng = make_rng(random_state)
        null_fits: list[np.ndarray] = []
        for Xs in progress_bar(_shuffled(X, shuffle, rng, int(n_shuffles)), desc="shuffle null", unit="shuffle"):
            Xsb, _, mask_s = _arrays(Xs, Y.isel(unit=slice(0, 1)), by, intercept)
            null_fits.append(_fit(Xsb, Yb, mask_s, names, rank).t)
        null = np.stack(null_fits)  # (shuffle, batch, regressor, unit)
        dims = ("shuffle",) + out["coef"].dims
        null = null.reshape((len(null),) + out["coef"].shape)
        out["null_t"] = (dims, null, {"long_name": f"t statistic under the {shuffle}-shift null", "units": "1"})
        exceed = (np.abs(null) >= np.abs(out["t"].values)[None] - 1e-12).sum(0)
        out["p_shuffle"] = (out["coef"].dims, (1 + exceed) / (1 + len(null)),
                            {"long_name": f"shuffle p-value ({shuffle} circular shifts)", "units": "1"})
        out.attrs.update(n_shuffles=int(n_shuffles), shuffle=shuffle)
    return out


def partial_correlation(ds: xr.Dataset, regressors: Sequence[str] | Mapping[str, object], *,
                        method: str = "spearman", **kwargs) -> xr.Dataset:
    """Partial correlation of every unit with each regressor given the others (Wang et al. Sim 1).

    Spearman: Pearson partial correlation of the ranks (activity and regressors ranked within each
    fit). Pearson: on the raw values. p-values test r = 0 with n − p residual degrees of freedom.

    Parameters
    ----------
    ds, regressors : as :func:`unit_regression`; other keyword arguments are passed on to it
        (``period``, ``by``, ``trials``, ``latents``, ``n_shuffles``...).
    method : ``'spearman'`` or ``'pearson'``.

    Returns
    -------
    xarray.Dataset with ``r`` and ``p_value`` on (``period`` | ``step``, ``regressor``, ``unit``)
    (plus ``p_shuffle`` with shuffles).
    """
    if method not in ("spearman", "pearson"):
        raise DataError(f"method must be 'spearman' or 'pearson', got {method!r}")
    res = unit_regression(ds, regressors, rank=method == "spearman", intercept=True, **kwargs)
    res = res.drop_sel(regressor="intercept")
    out = xr.Dataset({"r": res["partial_r"], "p_value": res["p_value"], "n_samples": res["n_samples"]})
    out["r"].attrs = {"long_name": f"partial {method.capitalize()} correlation", "units": "1"}
    if "p_shuffle" in res:
        out["p_shuffle"] = res["p_shuffle"]
    out.attrs = {**res.attrs, "analysis": "partial_correlation", "method": method}
    return out


def fraction_significant(result: xr.Dataset, *, alpha: float = 0.05, correction: str = "bonferroni",
                         p: str = "p_value", dim: str = "unit", exclude: Sequence[str] = ("intercept",)) -> xr.Dataset:
    """Fraction of units with a significant coefficient for each regressor (and period or step).

    Parameters
    ----------
    result : output of :func:`unit_regression` or :func:`partial_correlation`.
    alpha : family-wise (Bonferroni) or false-discovery (FDR) level.
    correction : ``'bonferroni'`` (p · n_units < alpha), ``'fdr'`` (Benjamini–Hochberg over units)
        or ``'none'``; the family is the units of one regressor at one period or step.
    p : the p-value variable (``'p_value'`` or ``'p_shuffle'``).
    dim : the dim holding the family (units).
    exclude : regressors left out (the intercept).

    Returns
    -------
    xarray.Dataset with ``fraction`` and ``n_significant`` over the remaining dims, ``n_units``, and
    the per-unit boolean ``significant``.
    """
    if correction not in CORRECTIONS:
        raise DataError(f"correction must be one of {CORRECTIONS}, got {correction!r}")
    if not 0 < alpha < 1:
        raise DataError(f"alpha must lie in (0, 1), got {alpha}")
    if p not in result:
        raise DataError(f"the result has no {p!r} variable (has {list(result.data_vars)})")
    pv = result[p]
    if dim not in pv.dims:
        raise DataError(f"{p!r} has no {dim!r} dim (dims {pv.dims})")
    if "regressor" in pv.dims:
        keep = [r for r in pv["regressor"].values if r not in set(exclude)]
        if not keep:
            raise DataError("no regressor left after excluding " + ", ".join(exclude))
        pv = pv.sel(regressor=keep)
    n_units = pv.sizes[dim]
    if n_units == 0:
        raise DataError(f"no {dim}s to count")
    if correction == "bonferroni":
        significant = pv * n_units < alpha
    elif correction == "fdr":
        significant = xr.apply_ufunc(fdr_bh, pv, kwargs={"alpha": alpha}, input_core_dims=[[dim]], output_core_dims=[[dim]])
    else:
        significant = pv < alpha
    significant = significant.transpose(*pv.dims)
    n_sig = significant.sum(dim)
    out = xr.Dataset({
        "fraction": (n_sig / n_units).assign_attrs(long_name=f"fraction of {dim}s significant ({correction}, alpha={alpha})", units="1"),
        "n_significant": n_sig.assign_attrs(long_name=f"significant {dim}s", units="1"),
        "significant": significant.assign_attrs(long_name=f"significant ({correction}, alpha={alpha})", units="1"),
    })
    out["n_units"] = xr.DataArray(n_units, attrs={"long_name": f"{dim}s tested", "units": "1"})
    out.attrs = {"alpha": alpha, "correction": correction, "p": p, "analysis": "fraction_significant"}
    return out
