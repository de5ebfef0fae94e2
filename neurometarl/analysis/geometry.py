"""Population geometry: PCA trajectories, condition-averaged trajectories and the distances between
clusters of states that share a latent condition (Wang et al. Fig. 1e/f, Sim 3).

:class:`PopulationPCA` follows the scikit-learn contract: fit on one recording (or one set of its
steps), then project another, so trajectories of test episodes are drawn in the axes of a reference
set.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import xarray as xr
from sklearn.decomposition import PCA

from ..errors import DataError
from .align import active_trials, activity, select_periods
from .regressors import Latents, make_regressors

__all__ = ["PopulationPCA", "pca_trajectories", "condition_average", "cluster_distances", "condition_labels"]


def _active_states(ds: xr.Dataset, da: xr.DataArray) -> np.ndarray:
    """Boolean over the non-unit dims of ``da`` (a recording's activity, by step or by trial/period):
    True where the trial really ran."""
    active = active_trials(ds)
    if "step" in da.dims:
        mask = active.values[:, ds["step_trial"].values]  # (episode, step)
        return np.broadcast_to(mask, da.transpose("episode", "step", ...).shape[:2])
    mask = active.values
    if "period" in da.dims:
        mask = np.repeat(mask[:, :, None], da.sizes["period"], 2)
    return mask


def _unit_array(data: xr.Dataset | xr.DataArray, var: str) -> xr.DataArray:
    """Unit activity as a DataArray with a ``unit`` dim (from a recording or given directly)."""
    da = data[var] if isinstance(data, xr.Dataset) else data
    if isinstance(data, xr.Dataset) and var not in data:
        raise DataError(f"the recording has no unit variable {var!r}")
    if not isinstance(da, xr.DataArray) or "unit" not in da.dims:
        raise DataError(f"expected activity with a 'unit' dim, got {getattr(da, 'dims', type(da).__name__)}")
    return da


class PopulationPCA:
    """Principal components of unit activity, fitted on one set of states and applied to others.

    Parameters
    ----------
    n_components : number of components kept.
    var : unit variable read from a recording (``'hidden'`` or ``'cell'``).

    Attributes
    ----------
    components_ : DataArray (component, unit), unit-norm axes (scikit-learn's sign convention).
    explained_variance_ratio_ : DataArray (component,).
    mean_ : DataArray (unit,) subtracted before projecting.
    """

    def __init__(self, n_components: int = 3, *, var: str = "hidden"):
        self.n_components = n_components
        self.var = var

    def fit(self, data: xr.Dataset | xr.DataArray, *, period: str | Sequence[str] | None = None) -> "PopulationPCA":
        """Fit on every state of ``data`` (a recording, or a DataArray with a ``unit`` dim), optionally
        only the steps of ``period``."""
        da = self._select(data, period)
        X = da.transpose(..., "unit").values.reshape(-1, da.sizes["unit"]).astype(np.float64)
        if isinstance(data, xr.Dataset):  # leave out the padding of episodes that ended early (active == 0)
            X = X[_active_states(data, da).ravel()]
        if not 1 <= self.n_components <= min(X.shape):
            raise DataError(f"n_components must lie in [1, {min(X.shape)}] for {X.shape[0]} states of "
                            f"{X.shape[1]} units, got {self.n_components}")
        if not np.isfinite(X).all():
            raise DataError("the activity holds NaN/inf; PCA needs finite states")
        self._pca = PCA(n_components=self.n_components, svd_solver="full").fit(X)
        comp = np.arange(self.n_components)
        units = da["unit"].values
        self.components_ = xr.DataArray(self._pca.components_, dims=("component", "unit"),
                                        coords={"component": comp, "unit": units},
                                        attrs={"long_name": "principal axis", "units": "1"})
        self.explained_variance_ratio_ = xr.DataArray(self._pca.explained_variance_ratio_, dims="component",
                                                      coords={"component": comp},
                                                      attrs={"long_name": "fraction of variance explained", "units": "1"})
        self.mean_ = xr.DataArray(self._pca.mean_, dims="unit", coords={"unit": units},
                                  attrs={"long_name": "mean activity", "units": "a.u."})
        return self

    def _select(self, data, period):
        if isinstance(data, xr.Dataset) and period is not None:
            return activity(data, self.var, period)
        return _unit_array(data, self.var)

    def transform(self, data: xr.Dataset | xr.DataArray, *, period: str | Sequence[str] | None = None) -> xr.DataArray:
        """Project states: the ``unit`` dim of ``data`` becomes ``component``; other dims are kept."""
        if not hasattr(self, "components_"):
            raise DataError("PopulationPCA is not fitted; call fit() first")
        da = self._select(data, period)
        if da.sizes["unit"] != self.components_.sizes["unit"]:
            raise DataError(f"the PCA was fitted on {self.components_.sizes['unit']} units, this activity has {da.sizes['unit']}")
        da = da.transpose(..., "unit")
        proj = (da.values.astype(np.float64) - self.mean_.values) @ self.components_.values.T
        coords = {k: v for k, v in da.coords.items() if "unit" not in v.dims}
        return xr.DataArray(proj, dims=da.dims[:-1] + ("component",), coords={**coords, "component": self.components_["component"].values},
                            name="pc", attrs={"long_name": "projection on principal component", "units": "a.u."})

    def fit_transform(self, data, *, period=None) -> xr.DataArray:
        """Fit the axes on ``data`` and project it: :meth:`fit`, then :meth:`transform`."""
        return self.fit(data, period=period).transform(data, period=period)


def pca_trajectories(ds: xr.Dataset, *, fit: xr.Dataset | None = None, n_components: int = 3, var: str = "hidden",
                     period: str | Sequence[str] | None = None) -> xr.Dataset:
    """Trajectories of every episode in the principal components of a reference set.

    Parameters
    ----------
    ds : the recording whose episodes are projected.
    fit : the recording the axes are fitted on (default ``ds`` itself), e.g. many episodes of one
        checkpoint, then ``ds`` a few test episodes.
    n_components, var : see :class:`PopulationPCA`.
    period : fit and project only the steps of these periods (dims (episode, trial[, period], component));
        default every step (dims (episode, step, component)).

    Returns
    -------
    xarray.Dataset with ``pc`` (episode, step | trial, component), ``explained_variance_ratio`` and
    ``components`` (component, unit).
    """
    pca = PopulationPCA(n_components, var=var).fit(ds if fit is None else fit, period=period)
    out = xr.Dataset({"pc": pca.transform(ds, period=period),
                      "explained_variance_ratio": pca.explained_variance_ratio_,
                      "components": pca.components_})
    out.attrs = {"analysis": "pca_trajectories", "var": var, "fitted_on": "self" if fit is None else str(fit.attrs.get("subject", "other")),
                 "source_subject": str(ds.attrs.get("subject", ""))}
    return out


def condition_labels(ds: xr.Dataset, condition, *, latents: Latents = None, bins: int | Sequence[float] | None = None) -> xr.DataArray:
    """A condition per trial (episode, trial) from a regressor name or array, optionally binned.

    ``bins``: an int (that many quantile bins) or bin edges; labels are then the bin index 0..k-1.
    A per-episode condition (array of shape (episode,)) is repeated over trials.
    """
    table = make_regressors(ds, {"condition": condition} if not isinstance(condition, str) else [condition], latents=latents)
    labels = table[list(table.data_vars)[0]].where(active_trials(ds))  # padding trials get no condition
    if bins is not None:
        values = labels.values
        finite = values[np.isfinite(values)]
        edges = np.quantile(finite, np.linspace(0, 1, bins + 1)) if isinstance(bins, int) else np.asarray(bins, float)
        if len(edges) < 2:
            raise DataError(f"bins must give at least two edges, got {bins!r}")
        index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2).astype(float)
        labels = labels.copy(data=np.where(np.isfinite(values), index, np.nan))
        labels.attrs = {**labels.attrs, "bin_edges": edges}
    return labels


def condition_average(ds: xr.Dataset, condition, *, var: str = "hidden", per: str = "episode",
                      latents: Latents = None, bins: int | Sequence[float] | None = None) -> xr.Dataset:
    """Activity averaged over episodes (or trials) that share a condition.

    Parameters
    ----------
    ds : the recording.
    condition : regressor name or array (episode, trial) / (episode,) whose values define the groups.
    var : unit variable.
    per : ``'episode'``: the condition is read on trial 0 (it must be constant within each episode, e.g.
        the latent reward assignment) and whole-episode trajectories (step, unit) are averaged;
        ``'trial'``: trials are grouped by their own condition and the average is over (episode, trial)
        for each period of the trial.
    bins : quantile-bin count or edges for a continuous condition (see :func:`condition_labels`).

    Returns
    -------
    xarray.Dataset with ``activity`` (the mean) and ``activity_sem`` (condition, step | period, unit) and ``n`` (condition,).
    """
    labels = condition_labels(ds, condition, latents=latents, bins=bins)
    if per == "episode":
        ep_labels = labels.isel(trial=0).values
        if not ((labels.values == ep_labels[:, None]) | np.isnan(labels.values)).all():
            raise DataError(f"condition {labels.name!r} varies within episodes; use per='trial' or a per-episode variable")
        da = _unit_array(ds, var).transpose("episode", "step", "unit")
        values = np.where(active_trials(ds).values[:, ds["step_trial"].values][..., None], da.values, np.nan)
        groups, flat_labels, sample_dim = ep_labels, values, "episode"
        rest_dims, rest_coords = ("step", "unit"), {"step": da["step"].values, "unit": da["unit"].values}
        extra = {k: ds[k].variable for k in ("step_trial", "step_period") if k in ds.coords}
    elif per == "trial":
        A = activity(ds, var, None)  # (episode, trial, period, unit)
        groups = labels.values.ravel()
        flat_labels = A.values.reshape(-1, A.sizes["period"], A.sizes["unit"])
        rest_dims, rest_coords = ("period", "unit"), {"period": A["period"].values, "unit": A["unit"].values}
        extra = {}
    else:
        raise DataError(f"per must be 'episode' or 'trial', got {per!r}")
    finite = np.isfinite(groups)
    values = np.unique(groups[finite])
    if values.size == 0:
        raise DataError(f"condition {labels.name!r} is undefined everywhere")
    means, sems, counts = [], [], []
    for v in values:
        members = flat_labels[finite][groups[finite] == v]
        present = np.isfinite(members).sum(0)  # padding steps are NaN
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # steps where every episode had ended
            means.append(np.nanmean(members, 0) if len(members) else np.full(members.shape[1:], np.nan))
            sems.append(np.nanstd(members, 0, ddof=1) / np.sqrt(present) if len(members) > 1 else np.full(members.shape[1:], np.nan))
        counts.append(len(members))
    cond = values.astype(int) if np.all(values == np.round(values)) else values
    dims = ("condition",) + rest_dims
    out = xr.Dataset(
        {"activity": (dims, np.stack(means), {"long_name": "condition-averaged activity", "units": "a.u."}),
         "activity_sem": (dims, np.stack(sems), {"long_name": "standard error of the mean", "units": "a.u."}),
         "n": (("condition",), np.array(counts), {"long_name": f"{sample_dim if per == 'episode' else 'trial'}s averaged", "units": "1"})},
        coords={"condition": cond, **rest_coords, **extra},
    )
    out["condition"].attrs = {"long_name": str(labels.attrs.get("long_name", labels.name))}
    out.attrs = {"analysis": "condition_average", "condition": str(labels.name), "per": per, "var": var}
    return out


def cluster_distances(ds: xr.Dataset, labels, *, var: str = "hidden", period: str | Sequence[str] | None = None,
                      latents: Latents = None, n_components: int | None = None) -> xr.Dataset:
    """Distances between the clusters of states that share a label (e.g. the latent reward state),
    per period of the trial.

    Parameters
    ----------
    ds : the recording.
    labels : regressor name or array (episode, trial) / (episode,) of cluster labels.
    var : unit variable.
    period : period(s) of the trial whose states are clustered; default each period.
    n_components : measure distances in the first principal components of all states (fitted per
        period) instead of the full unit space.

    Returns
    -------
    xarray.Dataset over ``period``: ``centroid_distance`` (cluster, cluster_other), Euclidean distance
    between cluster means; ``spread`` (cluster), mean distance of a cluster's states to its centroid;
    ``separation``, mean between-centroid distance over mean spread (> 1: clusters stand apart).
    """
    lab = condition_labels(ds, labels, latents=latents).values.ravel()
    chosen = select_periods(ds, period)
    A = activity(ds, var, chosen)  # (episode, trial, period, unit)
    finite = np.isfinite(lab)
    clusters = np.unique(lab[finite])
    if clusters.size < 2:
        raise DataError(f"cluster_distances needs at least two label values, got {clusters.tolist()}")
    dist, spread, sep = [], [], []
    for p in chosen:
        X = A.sel(period=p).values.reshape(-1, A.sizes["unit"]).astype(np.float64)[finite]
        if n_components is not None:
            X = PCA(n_components=n_components, svd_solver="full").fit_transform(X)
        lab_p = lab[finite]
        centroids = np.stack([X[lab_p == c].mean(0) for c in clusters])
        d = np.linalg.norm(centroids[:, None] - centroids[None], axis=-1)
        s = np.array([np.linalg.norm(X[lab_p == c] - centroids[i], axis=1).mean() for i, c in enumerate(clusters)])
        dist.append(d)
        spread.append(s)
        sep.append(d[np.triu_indices(len(clusters), 1)].mean() / s.mean())
    cl = clusters.astype(int) if np.all(clusters == np.round(clusters)) else clusters
    out = xr.Dataset(
        {"centroid_distance": (("period", "cluster", "cluster_other"), np.stack(dist), {"long_name": "distance between cluster centroids", "units": "a.u."}),
         "spread": (("period", "cluster"), np.stack(spread), {"long_name": "mean distance of states to their centroid", "units": "a.u."}),
         "separation": (("period",), np.array(sep), {"long_name": "mean centroid distance / mean spread", "units": "1"})},
        coords={"period": chosen, "cluster": cl, "cluster_other": cl},
    )
    if isinstance(period, str):
        out = out.squeeze("period")
    out.attrs = {"analysis": "cluster_distances", "labels": str(labels if isinstance(labels, str) else "array"),
                 "space": "units" if n_components is None else f"first {n_components} PCs", "var": var}
    return out
