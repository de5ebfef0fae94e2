"""Trial-level regressors from a recording: task variables and model-derived latents.

Every regressor is one number per trial, a DataArray ``(episode, trial)`` of float64. A regressor is
named by a string with an optional element and period::

    "prev_action"            a task regressor (table below)
    "reward_prob[left]"      a recording variable, one element of its extra dim
    "value@fixation"         a step-level variable read at one period of each trial
    "rpe@outcome"            (default period: the choice period)
    "volatility"             a caller-supplied latent, ``latents={"volatility": array (episode, trial)}``

Task regressors (actions coded +1 right / -1 left / 0 other, or +1 / -1 for the second / first of
two actions; rewards as recorded):

=======================  =====================================================================
name                     meaning on trial t
=======================  =====================================================================
action                   the choice made on trial t (the *upcoming* action when the activity is
                         read before the choice, e.g. at fixation or cue)
prev_action              the choice on trial t-1 (NaN on trial 0)
reward                   the reward earned on trial t
prev_reward              the reward on trial t-1 (NaN on trial 0)
prev_action_x_reward     prev_action x prev_reward (Lau & Glimcher's rewarded-choice term)
action_x_reward          action x reward
trial_type               the task's trial-type variable (``trial_type``, ``cue`` or ``condition``)
chosen_value             value of the chosen action, from an ``action_values`` latent (episode,
                         trial, action) passed in ``latents`` or held by the recording
=======================  =====================================================================

Model-derived latents (values, RPE, volatility, belief) come from the recording itself (``value``,
``rpe``, task latents), from :func:`baseline_latents` for a baseline subject's recording, or from
any behavioural model: pass them as ``latents={name: array}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from ..errors import DataError
from .align import at_period, choice_period, select_periods

__all__ = ["TASK_REGRESSORS", "make_regressors", "regressor", "signed_action", "baseline_latents"]

TASK_REGRESSORS = {
    "action": "choice on this trial (+1 right, -1 left)",
    "prev_action": "choice on the previous trial (+1 right, -1 left)",
    "reward": "reward on this trial",
    "prev_reward": "reward on the previous trial",
    "prev_action_x_reward": "previous choice x previous reward",
    "action_x_reward": "choice x reward on this trial",
    "trial_type": "trial type",
    "chosen_value": "value of the chosen action",
}
TRIAL_TYPE_NAMES = ("trial_type", "cue", "condition")
_NAME = re.compile(r"^(?P<base>[A-Za-z_][\w]*)(?:\[(?P<label>[^\]]+)\])?(?:@(?P<period>\w+))?$")

Latents = Mapping[str, "xr.DataArray | np.ndarray"] | xr.Dataset | None


def _action_names(ds: xr.Dataset) -> list[str]:
    meanings = ds["choice"].attrs.get("flag_meanings")
    if meanings:
        return str(meanings).split()
    if "action" in ds.coords:
        return [str(a) for a in ds["action"].values]
    raise DataError("cannot tell the action names: 'choice' has no flag_meanings and there is no 'action' coordinate")


def signed_action(ds: xr.Dataset, choice: xr.DataArray | None = None) -> xr.DataArray:
    """Choices coded +1 (right) / -1 (left) / 0 (any other action, e.g. an invalid centre response).

    With two actions not named left/right, the second is +1 and the first -1.
    """
    choice = ds["choice"] if choice is None else choice
    names = _action_names(ds)
    code = np.zeros(len(names))
    if "left" in names and "right" in names:
        code[names.index("left")], code[names.index("right")] = -1.0, 1.0
    elif len(names) == 2:
        code[:] = (-1.0, 1.0)
    else:
        raise DataError(f"signed action coding needs actions named left/right or exactly two actions, got {names}; "
                        "pass your own coding in latents=")
    values = np.asarray(choice.values)
    if values.min() < 0 or values.max() >= len(names):
        raise DataError(f"choice codes must lie in [0, {len(names)}), got {values.min()}..{values.max()}")
    return xr.DataArray(code[values.astype(int)], dims=choice.dims, coords=choice.coords)


def _shift(da: xr.DataArray) -> xr.DataArray:
    """Value on the previous trial (NaN on trial 0), within each episode."""
    return da.astype(float).shift(trial=1)


def _as_trial_array(ds: xr.Dataset, name: str, value) -> xr.DataArray:
    """A caller latent as a DataArray whose leading dims are (episode, trial) of ``ds``."""
    n_ep, n_tr = ds.sizes["episode"], ds.sizes["trial"]
    if isinstance(value, xr.DataArray):
        da = value
        if "episode" not in da.dims:
            raise DataError(f"latent {name!r} has dims {da.dims}; it needs an 'episode' dim")
        for dim in ("episode", "trial"):
            if dim in da.dims and da.sizes[dim] != ds.sizes[dim]:
                raise DataError(f"latent {name!r} has {da.sizes[dim]} {dim}s but the recording has {ds.sizes[dim]}")
        return da.drop_vars([c for c in ("episode", "trial") if c in da.coords]).assign_coords(
            {d: ds[d].values for d in ("episode", "trial") if d in da.dims})
    arr = np.asarray(value, dtype=float)
    if arr.shape[:2] == (n_ep, n_tr):
        dims = ("episode", "trial") + tuple(f"{name}_dim_{i}" for i in range(arr.ndim - 2))
    elif arr.shape == (n_ep,):
        dims = ("episode",)
    else:
        raise DataError(f"latent {name!r} has shape {arr.shape}; expected (episode, trial) = ({n_ep}, {n_tr}) "
                        f"or (episode,) = ({n_ep},)")
    return xr.DataArray(arr, dims=dims, coords={d: ds[d].values for d in ("episode", "trial") if d in dims})


def _finish(da: xr.DataArray, ds: xr.Dataset, spec: str, label: str | None, long_name: str, units: str) -> xr.DataArray:
    """Select ``label`` from the extra dim, broadcast to (episode, trial), cast to float64."""
    extra = [d for d in da.dims if d not in ("episode", "trial")]
    if label is not None:
        if len(extra) != 1:
            raise DataError(f"{spec!r}: an element [label] needs exactly one extra dim, {da.name or spec} has {extra or 'none'}")
        labels = [str(v) for v in da[extra[0]].values] if extra[0] in da.coords else [str(i) for i in range(da.sizes[extra[0]])]
        if label not in labels:
            raise DataError(f"{spec!r}: {label!r} is not one of {extra[0]} {labels}")
        da = da.isel({extra[0]: labels.index(label)}, drop=True)
        long_name = f"{long_name} [{label}]"
    elif extra:
        options = ", ".join(f"'{spec}[{v}]'" for v in (da[extra[0]].values if extra[0] in da.coords else range(da.sizes[extra[0]])))
        raise DataError(f"{spec!r} has an extra dim {extra[0]!r}; pick one element: {options}")
    if "trial" not in da.dims:
        da = da.expand_dims(trial=ds["trial"].values, axis=-1)
    da = da.drop_vars([c for c in da.coords if c not in ("episode", "trial")])
    out = da.transpose("episode", "trial").astype(np.float64)
    out.name = spec
    out.attrs = {"long_name": long_name, "units": units}
    return out


def regressor(ds: xr.Dataset, spec: str, *, latents: Latents = None, period: str | None = None) -> xr.DataArray:
    """One regressor as a DataArray ``(episode, trial)`` of float64 (see the module doc for names).

    Parameters
    ----------
    ds : the recording.
    spec : ``name``, ``name[label]``, ``name@period`` or ``name[label]@period``.
    latents : caller-supplied per-trial variables, ``{name: array (episode, trial[, k]) or (episode,)}``.
    period : period at which step-level variables are read when ``spec`` names none (default: the
        choice period).
    """
    if not isinstance(spec, str):
        raise DataError(f"a regressor name must be a string, got {spec!r}; pass arrays through latents=")
    match = _NAME.match(spec.strip())
    if not match:
        raise DataError(f"cannot parse regressor {spec!r}; write name, name[label] or name@period")
    base: str = match["base"]  # always matches; label and period are optional
    label: str | None = match["label"]
    at: str | None = match["period"]
    # xarray types variable names as Hashable; a latents Dataset's are str like every Latents key
    latents = dict(latents.data_vars.items()) if isinstance(latents, xr.Dataset) else dict(latents or {})  # type: ignore[arg-type]
    at = at or period
    if at is not None:
        select_periods(ds, at)

    if base in latents:
        da = _as_trial_array(ds, base, latents[base])
        attrs = getattr(latents[base], "attrs", {})
        return _finish(da, ds, spec, label, attrs.get("long_name", base), attrs.get("units", "1"))
    if base in TASK_REGRESSORS and not (base == "trial_type" and base in ds):  # a recorded trial_type wins
        return _finish(_task_regressor(ds, base, latents), ds, spec, label, TASK_REGRESSORS[base],
                       "reward" if "reward" in base and "action" not in base or base == "chosen_value" else "1")
    if base in ds.data_vars or base in ds.coords:
        da = ds[base]
        if "episode" not in da.dims:
            raise DataError(f"{spec!r}: variable {base!r} has dims {da.dims}; a regressor needs an 'episode' dim")
        if "step" in da.dims:
            da = at_period(da, ds, at or choice_period(ds))
        return _finish(da, ds, spec, label, da.attrs.get("long_name", base), da.attrs.get("units", "1"))
    trial_vars = [n for n in ds.data_vars if "episode" in ds[n].dims]
    raise DataError(f"regressor {base!r} is not in the recording; choose a task regressor ({', '.join(TASK_REGRESSORS)}), "
                    f"a recording variable ({', '.join(map(str, trial_vars))}) or a latent passed in latents= "
                    f"({', '.join(latents) or 'none given'})")


def _task_regressor(ds: xr.Dataset, base: str, latents: dict) -> xr.DataArray:
    if base in ("action", "prev_action", "prev_action_x_reward", "action_x_reward", "chosen_value"):
        if "choice" not in ds:
            raise DataError(f"regressor {base!r} needs the recording's 'choice' variable")
    if base in ("reward", "prev_reward", "prev_action_x_reward", "action_x_reward") and "reward" not in ds:
        raise DataError(f"regressor {base!r} needs the recording's 'reward' variable")
    if base == "action":
        return signed_action(ds)
    if base == "prev_action":
        return _shift(signed_action(ds))
    if base == "reward":
        return ds["reward"].astype(float)
    if base == "prev_reward":
        return _shift(ds["reward"])
    if base == "prev_action_x_reward":
        return _shift(signed_action(ds) * ds["reward"])
    if base == "action_x_reward":
        return signed_action(ds) * ds["reward"]
    if base == "trial_type":
        for name in TRIAL_TYPE_NAMES:
            if name in ds:
                return ds[name].astype(float)
        raise DataError(f"this recording has no trial-type variable ({', '.join(TRIAL_TYPE_NAMES)}); name the variable "
                        "that marks the trial type instead, or pass it in latents=")
    if base == "chosen_value":
        source = latents.get("action_values", ds["action_values"] if "action_values" in ds else None)
        if source is None:
            raise DataError("'chosen_value' needs per-action values: pass latents={'action_values': array (episode, trial, "
                            "action)}, e.g. from baseline_latents(ds) or a fitted behavioural model")
        values = _as_trial_array(ds, "action_values", source)
        extra = [d for d in values.dims if d not in ("episode", "trial")]
        if len(extra) != 1 or values.sizes[extra[0]] != len(_action_names(ds)):
            raise DataError(f"'action_values' needs dims (episode, trial, action) with {len(_action_names(ds))} actions, got {values.dims}")
        index = xr.DataArray(ds["choice"].values.astype(int), dims=("episode", "trial"))
        return values.isel({extra[0]: index})
    raise AssertionError(base)


def make_regressors(ds: xr.Dataset, names: Sequence[str] | Mapping[str, object], *, latents: Latents = None,
                    period: str | None = None) -> xr.Dataset:
    """Build a table of trial-level regressors.

    Parameters
    ----------
    ds : the recording.
    names : regressor names (see the module doc), or a mapping ``{name: array (episode, trial)}`` of
        ready-made regressors (mixing is allowed: a mapping value that is a string is resolved as a name).
    latents : caller-supplied per-trial variables the names may refer to.
    period : default period for step-level variables (``value``, ``rpe``...); default the choice period.

    Returns
    -------
    xarray.Dataset with one float64 variable ``(episode, trial)`` per regressor, in the order given.
    """
    if isinstance(names, str):
        names = [names]
    items = list(names.items()) if isinstance(names, Mapping) else [(n, n) for n in names]
    if not items:
        raise DataError("empty regressor list; name at least one regressor")
    if "episode" not in ds.dims or "trial" not in ds.dims:
        raise DataError(f"the recording needs 'episode' and 'trial' dims, it has {dict(ds.sizes)}")
    out = {}
    for name, value in items:
        if name in out:
            raise DataError(f"regressor {name!r} is listed twice")
        if isinstance(value, str):
            out[name] = regressor(ds, value, latents=latents, period=period)
        else:
            da = _as_trial_array(ds, name, value)
            out[name] = _finish(da, ds, name, None, getattr(value, "attrs", {}).get("long_name", name),
                                getattr(value, "attrs", {}).get("units", "1"))
    return xr.Dataset(out, coords={"episode": ds["episode"].values, "trial": ds["trial"].values})


def baseline_latents(ds: xr.Dataset) -> xr.Dataset:
    """Per-trial latents of a bandit baseline's recording (its ``hidden`` holds one estimate per action).

    Returns
    -------
    Dataset (episode, trial[, action]) with ``action_values`` (the estimates before the choice),
    ``chosen_value`` and ``rpe`` (the subject's prediction error at the choice), ready for ``latents=``.
    """
    if "hidden" not in ds or "unit" not in ds["hidden"].dims:
        raise DataError("baseline_latents needs a recording whose 'hidden' holds one latent per action")
    names = _action_names(ds)
    if ds.sizes["unit"] != len(names):
        raise DataError(f"baseline_latents needs one hidden entry per action ({names}); this recording has "
                        f"units {list(ds['unit'].values)} (a network? pass its latents explicitly)")
    at = choice_period(ds)
    values = at_period(ds["hidden"], ds, at).rename(unit="action").assign_coords(action=names)
    index = xr.DataArray(ds["choice"].values.astype(int), dims=("episode", "trial"))
    chosen = values.isel(action=index).drop_vars("action", errors="ignore")
    rpe = at_period(ds["rpe"], ds, at)
    return xr.Dataset({
        "action_values": values.astype(float).assign_attrs(long_name="value of each action before the choice", units="reward"),
        "chosen_value": chosen.astype(float).assign_attrs(long_name="value of the chosen action", units="reward"),
        "rpe": rpe.astype(float).drop_vars("period", errors="ignore").assign_attrs(long_name="prediction error at the outcome", units="reward"),
    })
