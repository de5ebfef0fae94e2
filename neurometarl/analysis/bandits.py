"""Bandit behaviour: expected regret and reward by trial (Wang et al. 2018 Fig. 1d)."""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import stats

from ..errors import DataError


def expected_regret(ds: xr.Dataset) -> xr.DataArray:
    """Cumulative expected regret Σ_t (μ* − μ_{a_t}) of every episode, (episode, trial).

    Uses the true arm probabilities ``reward_prob`` (episode, trial, arm), so it measures the choices,
    not the luck of the outcomes.
    """
    if "reward_prob" not in ds or "arm" not in ds["reward_prob"].dims:
        raise DataError("expected regret needs 'reward_prob' (episode, trial, arm) in the recording (a bandit task)")
    chosen = ds["reward_prob"].isel(arm=ds["choice"].astype(int))
    regret = (ds["reward_prob"].max("arm") - chosen).cumsum("trial")
    return regret.rename("regret").assign_attrs(long_name="cumulative expected regret", units="reward")


def regret_curve(ds: xr.Dataset, *, confidence: float = 0.95, dim: str = "episode") -> xr.Dataset:
    """Mean cumulative regret by trial with a t-based ``confidence`` interval over ``dim``.

    Returns
    -------
    xarray.Dataset (trial,) with ``mean``, ``lower``, ``upper`` and ``n``.
    """
    regret = expected_regret(ds)
    n = regret.sizes[dim]
    if n < 2:
        raise DataError(f"a confidence interval needs at least 2 {dim}s, got {n}")
    mean = regret.mean(dim)
    half = regret.std(dim, ddof=1) / np.sqrt(n) * stats.t.ppf(0.5 + confidence / 2, n - 1)
    attrs = {"long_name": "cumulative expected regret", "units": "reward"}
    return xr.Dataset({"mean": mean.assign_attrs(attrs), "lower": (mean - half).assign_attrs(attrs),
                       "upper": (mean + half).assign_attrs(attrs)}, attrs={"n": n, "confidence": confidence})


def reward_by_trial(ds: xr.Dataset) -> xr.DataArray:
    """Mean reward at each trial across episodes, (trial,): a frozen agent's within-episode learning curve."""
    return ds["reward"].mean("episode").assign_attrs(long_name="mean reward", units="reward")
