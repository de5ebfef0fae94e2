"""Event alignment: map a recording's steps to trials and periods, select periods and trials.

A recording's ``step`` dim runs through an episode; coordinates ``step_trial`` and ``step_period``
say which trial and which period (fixation, cue, choice, outcome...) each step belongs to, with the
period names in ``step_period.attrs["flag_meanings"]``. Every analysis that reads activity "at the
cue" or "at fixation" goes through :func:`at_period`, so a step-level variable becomes a trial-level
one ``(episode, trial[, period], ...)`` in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import xarray as xr

from ..errors import DataError

_XarrayT = TypeVar("_XarrayT", xr.DataArray, xr.Dataset)

__all__ = [
    "period_names", "choice_period", "steps_per_trial", "by_trial", "at_period",
    "select_periods", "select_trials", "activity", "active_trials",
]


def _require(ds: xr.Dataset, *names: str) -> None:
    if not isinstance(ds, xr.Dataset):
        raise DataError(f"expected a recording (xarray.Dataset), got {type(ds).__name__}")
    missing = [n for n in names if n not in ds.variables]
    if missing:
        raise DataError(f"the recording lacks {', '.join(map(repr, missing))}; "
                        f"it has variables {', '.join(map(repr, ds.data_vars))}")


def period_names(ds: xr.Dataset) -> list[str]:
    """Names of the periods of a trial, in order (from ``step_period.attrs['flag_meanings']``)."""
    _require(ds, "step_period")
    meanings = ds["step_period"].attrs.get("flag_meanings")
    if not meanings:
        raise DataError("the recording's 'step_period' coordinate has no 'flag_meanings' attribute naming the periods")
    return str(meanings).split()


def steps_per_trial(ds: xr.Dataset) -> int:
    """Number of steps (periods) in a trial; checks that steps are laid out trial by trial."""
    _require(ds, "step_trial", "step_period")
    spt = len(period_names(ds))
    step = np.arange(ds.sizes["step"])
    if not (np.array_equal(ds["step_trial"].values, step // spt)
            and np.array_equal(ds["step_period"].values, step % spt)
            and ds.sizes["step"] == spt * ds.sizes.get("trial", ds.sizes["step"] // spt)):
        raise DataError(f"the recording's steps are not laid out as {spt} periods per trial "
                        "(step_trial/step_period do not match step // n_periods, step % n_periods)")
    return spt


def choice_period(ds: xr.Dataset) -> str:
    """The period at which the trial's ``choice`` is made: the period named 'choice' if there is one,
    otherwise the only period whose step actions equal ``choice`` on every trial."""
    names = period_names(ds)
    if "choice" in names:
        return "choice"
    _require(ds, "step_action", "choice")
    spt = steps_per_trial(ds)
    matches = [name for p, name in enumerate(names)
               if np.array_equal(ds["step_action"].values[:, p::spt], ds["choice"].values)]
    if len(matches) != 1:
        raise DataError(f"cannot tell which period is the choice period among {names}; name it explicitly")
    return matches[0]


def by_trial(da: xr.DataArray, ds: xr.Dataset) -> xr.DataArray:
    """Reshape a step-level variable (episode, step, ...) to (episode, trial, period, ...).

    Parameters
    ----------
    da : DataArray with a ``step`` dim (e.g. ``ds.hidden``: (episode, step, unit)).
    ds : the recording it comes from (for ``step_trial``/``step_period``).

    Returns
    -------
    DataArray (..., trial, period, ...) with the ``step`` dim split in place; ``period`` labelled by name.
    """
    if "step" not in da.dims:
        raise DataError(f"variable {da.name!r} has dims {da.dims}; expected a 'step' dim to align to periods")
    spt = steps_per_trial(ds)
    names = period_names(ds)
    n_trials = da.sizes["step"] // spt
    axis = da.dims.index("step")
    values = da.values.reshape(da.shape[:axis] + (n_trials, spt) + da.shape[axis + 1:])
    dims = da.dims[:axis] + ("trial", "period") + da.dims[axis + 1:]
    coords = {k: v for k, v in da.coords.items() if "step" not in v.dims}
    coords["trial"] = ds["trial"].values if "trial" in ds.coords else np.arange(n_trials)
    coords["period"] = names
    return xr.DataArray(values, dims=dims, coords=coords, name=da.name, attrs=dict(da.attrs))


def select_periods(ds: xr.Dataset, period: str | Sequence[str] | None) -> list[str]:
    """Validate a period selection: one name, a list of names, or ``None`` for every period."""
    names = period_names(ds)
    chosen = names if period is None else [period] if isinstance(period, str) else list(period)
    if not chosen:
        raise DataError(f"empty period selection; choose among {names}")
    unknown = [p for p in chosen if p not in names]
    if unknown:
        raise DataError(f"unknown period(s) {unknown}; this recording's periods are {names}")
    return chosen


def at_period(da: xr.DataArray, ds: xr.Dataset, period: str | Sequence[str] | None) -> xr.DataArray:
    """A step-level variable read at one period of every trial (dims ``(episode, trial, ...)``), or at
    several (``(episode, trial, period, ...)`` when ``period`` is a list or ``None`` for all).

    Variables without a ``step`` dim are returned unchanged.
    """
    if "step" not in da.dims:
        return da
    chosen = select_periods(ds, period)
    out = by_trial(da, ds).sel(period=chosen)
    return out.sel(period=period) if isinstance(period, str) else out


def select_trials(da: _XarrayT, trials) -> _XarrayT:
    """Keep the trials named by ``trials``: ``None`` (all), a slice of trial positions, a sequence of
    trial indices or a boolean mask over trials. Raises :class:`DataError` for an empty selection."""
    if trials is None:
        return da
    n = da.sizes["trial"]
    if isinstance(trials, slice):
        index = np.arange(n)[trials]
    else:
        arr = np.asarray(trials)
        if arr.dtype == bool:
            if arr.shape != (n,):
                raise DataError(f"a boolean trial mask needs shape ({n},), got {arr.shape}")
            index = np.flatnonzero(arr)
        else:
            index = arr.astype(int).ravel()
            if index.size and (index.min() < -n or index.max() >= n):
                raise DataError(f"trial indices must lie in [0, {n}), got {index.min()}..{index.max()}")
    if index.size == 0:
        raise DataError(f"the trial selection {trials!r} is empty")
    return da.isel(trial=index)


def activity(ds: xr.Dataset, var: str | xr.DataArray = "hidden", period: str | Sequence[str] | None = None) -> xr.DataArray:
    """Unit activity aligned to trial periods: ``(episode, trial[, period], unit)``.

    Parameters
    ----------
    ds : the recording.
    var : the variable holding unit activity (``'hidden'``, ``'cell'``) or a DataArray (episode, step, unit).
    period : one period name, several, or ``None`` for every period (adds a ``period`` dim).
    """
    if isinstance(var, str):
        if var not in ds:
            raise DataError(f"the recording has no unit variable {var!r}; unit variables here: "
                            f"{[n for n in ds.data_vars if 'unit' in ds[n].dims] or 'none'}")
        da = ds[var]
    else:
        da = var
    if "unit" not in da.dims or "step" not in da.dims or "episode" not in da.dims:
        raise DataError(f"unit activity needs dims (episode, step, unit), got {da.dims}")
    if da.sizes["unit"] == 0:
        raise DataError("the recording has no units (the 'unit' dim is empty)")
    return at_period(da.transpose("episode", "step", "unit"), ds, period)


def active_trials(ds: xr.Dataset) -> xr.DataArray:
    """Boolean (episode, trial): trials that really ran. Tasks with episodes of different lengths
    (e.g. ``matching``) pad them and mark the padding with an ``active`` latent equal to 0; every
    unit analysis leaves those trials out. All True for recordings without ``active``."""
    if "active" in ds and set(ds["active"].dims) == {"episode", "trial"}:
        return (ds["active"] > 0).transpose("episode", "trial")
    return xr.DataArray(np.ones((ds.sizes["episode"], ds.sizes["trial"]), bool), dims=("episode", "trial"),
                        coords={"episode": ds["episode"].values, "trial": ds["trial"].values})
