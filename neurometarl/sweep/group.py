"""Group analyses over a sweep's replicas: the test recordings opened lazily as one Dask-backed dataset.

    ds = open_sweep("results/sweep-tiny", task="bandit-correlated")   # dims: replica, episode, trial, ...
    summary = group_summary(ds)                                       # one dask compute for every replica
    fit = group_fit(ds)                                               # hierarchical (empirical Bayes) RW fit
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError
from .run import RECORDING, finished_runs


def open_sweep(out: str | Path, *, chunks: dict | None = None, **select) -> xr.Dataset:
    """The test recordings of a sweep's finished runs as one dataset with a new ``replica`` dimension.

    Parameters
    ----------
    out : the sweep's output folder.
    chunks : Dask chunks per file (default: one chunk per variable and replica).
    **select : keep runs whose result matches, e.g. ``task="bandit-correlated"``, ``seed=0``, or a grid
        field such as ``lr=0.01``. Recordings that are combined must share their protocol's shape.

    Returns
    -------
    xarray.Dataset, Dask-backed (nothing is read until computed), dims ``replica`` plus the recordings'
    (``episode``, ``trial``, ``step``, ``action``, ``unit`` ...), with per-replica coordinates ``run_id``
    (the dimension's labels), ``task``, ``seed`` and one per grid field.
    """
    runs = [r for r in finished_runs(out).values()
            if all({"task": r["task"], "seed": r["seed"], **r["grid"]}.get(k) == v for k, v in select.items())]
    if not runs:
        raise DataError(f"no finished runs in {out} match {select or 'anything'}; run `neurometarl sweep` first")
    tasks = {r["test"]["task"] for r in runs}
    if len(tasks) > 1:
        raise DataError(f"runs tested on different protocols {sorted(tasks)} do not combine; select one, e.g. task=...")
    paths = [Path(out) / r["run_id"] / RECORDING for r in runs]
    ds = xr.open_mfdataset(paths, combine="nested", concat_dim="replica", chunks=chunks or {},
                           data_vars="all", coords="minimal", compat="override", join="exact",
                           combine_attrs="drop_conflicts", parallel=False)
    coords = {"replica": [r["run_id"] for r in runs], "task": ("replica", [r["task"] for r in runs]),
              "seed": ("replica", [r["seed"] for r in runs])}
    for name in sorted({k for r in runs for k in r["grid"]}):
        coords[name] = ("replica", [r["grid"].get(name) for r in runs])
    return ds.assign_coords(coords)


def group_summary(ds: xr.Dataset, *, threshold: float = 0.3) -> xr.Dataset:
    """Behaviour and unit statistics of every replica, computed in one pass over the Dask graph.

    Returns
    -------
    xarray.Dataset with ``reward_per_trial`` (replica,), ``reward_by_trial`` (replica, trial) and, when
    the recordings have units, ``value_correlation`` (replica, unit): each unit's Pearson correlation
    with the network's value estimate over all episodes and steps, and ``fraction_value_units``
    (replica,): the share of units with |r| > ``threshold``.
    """
    out = {"reward_per_trial": ds["reward"].mean(("episode", "trial")).assign_attrs(long_name="mean reward per trial", units="reward"),
           "reward_by_trial": ds["reward"].mean("episode").assign_attrs(long_name="mean reward by trial", units="reward")}
    if "hidden" in ds:
        r = xr.corr(ds["hidden"], ds["value"], dim=("episode", "step"))
        out["value_correlation"] = r.assign_attrs(long_name="unit-value correlation", units="1")
        out["fraction_value_units"] = (abs(r) > threshold).mean("unit").assign_attrs(
            long_name=f"fraction of units with |r(value)| > {threshold}", units="1")
    return xr.Dataset(out).compute()


def group_fit(ds: xr.Dataset, model: str = "rw", *, method: str = "eb", random_state: int = 0):
    """Fit a behavioural model to every replica at once, hierarchically by default (``method='eb'``:
    empirical Bayes, a group prior over replicas), treating a replica's test episodes as its sessions.

    Reads only ``choice``, ``reward`` and the latents from the lazy dataset. Returns the fitted model
    (``params_`` one row per replica, ``nll_``, ``bic_``).
    """
    from ..data import recording_to_table
    from ..models import make_model

    small = ds.drop_vars([v for v in ds.data_vars if ds[v].dims[:2] != ("replica", "episode") or "step" in ds[v].dims])
    small = small.compute()
    tables = [recording_to_table(small.isel(replica=i), episodes_as="sessions", subject=str(rid))
              for i, rid in enumerate(small["replica"].values)]
    return make_model(model, method=method, random_state=random_state).fit(pd.concat(tables, ignore_index=True))


def summary_json(summary: xr.Dataset, fit=None) -> dict:
    """The numbers of :func:`group_summary` (and a :func:`group_fit`) as plain JSON-able values."""
    out = {"replicas": [str(r) for r in summary["replica"].values],
           "reward_per_trial": summary["reward_per_trial"].values.round(4).tolist()}
    if "fraction_value_units" in summary:
        out["fraction_value_units"] = summary["fraction_value_units"].values.round(4).tolist()
    if fit is not None:
        params = fit.params_.reindex(out["replicas"])
        out["fit"] = {"model": fit.name, "method": fit.method,
                      "params": {c: params[c].round(4).tolist() for c in fit.param_names},
                      "group_mean": {c: float(np.round(params[c].mean(), 4)) for c in fit.param_names}}
    return json.loads(json.dumps(out))
