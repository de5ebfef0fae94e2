"""Reward prediction errors ("dopamine") from a recording, aligned to trial events.

The recording's ``rpe`` at step t is the TD error of the transition *out of* step t::

    δ_t = r_t + γ·V_{t+1} − V_t        (r_t: reward after step t's action; V = 0 after the last step)

so two alignments exist for a period P of trial k, at step s = k·n_periods + P:

* ``when="after"``: δ_s, the error once P's action has been taken and its outcome and the next
  state seen (e.g. the RPE at the outcome of the choice);
* ``when="onset"``: δ_{s−1}, the error on *arriving* in P: the previous step's reward plus the
  discounted value of P's state, minus the previous value. This is the "RPE at cue onset" of
  Wang et al. Sim 3 (the dopamine response to a cue). NaN at the first step of an episode.

The discount is the protocol's (``ds.attrs['gamma']``), the one the subject was trained with.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from ..errors import DataError
from ..lab.session import compute_rpe
from .align import at_period, select_periods

__all__ = ["recompute_rpe", "rpe_at"]


def _gamma(ds: xr.Dataset, gamma: float | None) -> float:
    if gamma is None:
        gamma = ds.attrs.get("gamma")
        if gamma is None or (isinstance(gamma, float) and math.isnan(gamma)):
            raise DataError(f"the recording has no discount (attrs['gamma'] = {gamma!r}): its subject "
                            f"{ds.attrs.get('subject', '?')!r} reports its own RPE or has no value; pass gamma= explicitly")
    gamma = float(gamma)
    if not 0 <= gamma <= 1:
        raise DataError(f"gamma must lie in [0, 1], got {gamma}")
    return gamma


def recompute_rpe(ds: xr.Dataset, *, gamma: float | None = None) -> xr.DataArray:
    """δ_t = r_t + γ·V_{t+1} − V_t from the recording's ``value`` and ``step_reward``.

    Parameters
    ----------
    ds : recording with ``value`` and ``step_reward`` (episode, step).
    gamma : discount; default the recording's ``attrs['gamma']``.

    Returns
    -------
    DataArray (episode, step), float64; equals the recorded ``rpe`` of a subject whose RPE is the lab's TD error.
    """
    for name in ("value", "step_reward"):
        if name not in ds:
            raise DataError(f"recompute_rpe needs the recording's {name!r} variable")
    gamma = _gamma(ds, gamma)
    value = ds["value"].transpose("episode", "step").values.astype(np.float64)
    if np.isnan(value).all():
        raise DataError(f"the recording's value is all NaN (subject {ds.attrs.get('subject', '?')!r} has no critic)")
    reward = ds["step_reward"].transpose("episode", "step").values.astype(np.float64)
    delta = compute_rpe(value, reward, gamma)
    return xr.DataArray(delta, dims=("episode", "step"), coords=ds["value"].coords, name="rpe",
                        attrs={"long_name": "reward prediction error δ_t = r_t + γ·V_{t+1} − V_t", "units": "reward",
                               "gamma": gamma})


def rpe_at(ds: xr.Dataset, period: str, *, when: str = "after", source: str = "recorded",
           gamma: float | None = None) -> xr.DataArray:
    """The RPE at one event of every trial: dims (episode, trial).

    Parameters
    ----------
    ds : the recording.
    period : the period that marks the event (``'cue'``, ``'outcome'``, ``'choice'``...).
    when : ``'after'`` (δ of the step in ``period``) or ``'onset'`` (δ of the transition into it,
        i.e. of the step before; NaN on an episode's first step).
    source : ``'recorded'`` (the recording's ``rpe``) or ``'recomputed'`` (from ``value`` and
        ``step_reward`` with the discount, :func:`recompute_rpe`).
    gamma : discount for ``source='recomputed'``; default the recording's.
    """
    if when not in ("after", "onset"):
        raise DataError(f"when must be 'after' or 'onset', got {when!r}")
    if source == "recorded":
        if "rpe" not in ds:
            raise DataError("the recording has no 'rpe' variable; use source='recomputed'")
        delta = ds["rpe"].transpose("episode", "step").astype(np.float64)
    elif source == "recomputed":
        delta = recompute_rpe(ds, gamma=gamma)
    else:
        raise DataError(f"source must be 'recorded' or 'recomputed', got {source!r}")
    if not isinstance(period, str):
        raise DataError(f"period must be one period name, got {period!r}")
    select_periods(ds, period)
    if when == "onset":  # δ_{s-1}: shift the episode's steps by one, NaN at its first step
        delta = delta.shift(step=1)
    out = at_period(delta, ds, period).drop_vars("period", errors="ignore")
    out.name = f"rpe_{when}_{period}"
    out.attrs = {"long_name": f"RPE {'on arrival in' if when == 'onset' else 'after'} the {period} period",
                 "units": "reward", "when": when, "source": source}
    return out
