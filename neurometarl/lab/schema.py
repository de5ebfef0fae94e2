"""The recording schema: what every session recording holds, a validator, and netCDF save/load.

Dims: ``episode``, ``trial``, ``step`` (a trial has ``steps_per_trial`` steps), ``action``, ``unit``
(network units, or a baseline's latent variables), plus task-specific ones such as ``arm``.

Required variables (all with ``long_name`` and ``units``):

============  =================================  ===========================================
name          dims                               meaning
============  =================================  ===========================================
choice        (episode, trial)                   action at the trial's choice period (int8, flags)
reward        (episode, trial)                   reward summed over the trial's steps
step_action   (episode, step)                    action at every step (int8, flags)
step_reward   (episode, step)                    reward after each step's action
policy        (episode, step, action)            action probabilities
value         (episode, step)                    V_t (NaN for subjects without one)
rpe           (episode, step)                    δ_t = r_t + γ·V_{t+1} − V_t (or the subject's own)
============  =================================  ===========================================

Optional: ``hidden`` and ``cell`` (episode, step, unit); the task's latents on (episode, trial, ...),
e.g. ``reward_prob`` (episode, trial, arm). Step coordinates ``step_trial`` and ``step_period`` map
steps to trials and periods. Provenance attrs: task, task_config (JSON), subject, subject_config
(JSON), seed, gamma, neurometarl_version, schema_version (no creation time: two recordings made with
the same seed are identical, ``xr.testing.assert_identical`` included).

On disk (:func:`save_recording`) a recording is netCDF-4 written through the atomic writer, and the
global attribute ``write_complete`` is set as the writer's last step; :func:`load_recording` refuses a
file without it (schema 2) or one HDF5 finds truncated, and opens the rest lazily: variables such as
``hidden`` are read from disk only when an analysis uses them.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from .. import __version__
from ..errors import DataError
from ..io import atomic_path

SCHEMA_VERSION = "2"  # 2: the write_complete marker on disk; no created attr

REQUIRED = {
    "choice": ("episode", "trial"),
    "reward": ("episode", "trial"),
    "step_action": ("episode", "step"),
    "step_reward": ("episode", "step"),
    "policy": ("episode", "step", "action"),
    "value": ("episode", "step"),
    "rpe": ("episode", "step"),
}
OPTIONAL = {"hidden": ("episode", "step", "unit"), "cell": ("episode", "step", "unit")}
REQUIRED_ATTRS = ("task", "task_config", "subject", "seed", "neurometarl_version", "schema_version")
COMPLETE_ATTR = "write_complete"


class RecordingSchemaError(DataError):
    """A dataset is not a valid neurometarl recording; the message lists every problem."""


def flag_attrs(names) -> dict:
    """CF flag attributes of a coded variable: codes 0..n-1 meaning ``names`` in order."""
    return {"flag_values": np.arange(len(names), dtype=np.int8), "flag_meanings": " ".join(names)}


def step_coords(n_trials: int, periods) -> dict:
    """The ``step`` coordinates of a recording whose trials run through ``periods`` in order:
    ``step``, ``step_trial`` (trial of each step) and ``step_period`` (coded period, names in its flags)."""
    n_steps = n_trials * len(periods)
    return {"step": np.arange(n_steps),
            "step_trial": ("step", np.arange(n_steps) // len(periods), {"long_name": "trial of each step"}),
            "step_period": ("step", (np.arange(n_steps) % len(periods)).astype(np.int8),
                            {"long_name": "period of the trial", **flag_attrs(periods)})}


def provenance(**attrs) -> dict:
    """Provenance attrs common to everything neurometarl writes (the package version added)."""
    clean = {k: ("" if v is None else v) for k, v in attrs.items()}
    return {"neurometarl_version": __version__, **clean}


def validate_recording(ds: xr.Dataset) -> xr.Dataset:
    """Check ``ds`` against the recording schema; return it unchanged or raise
    :class:`RecordingSchemaError` naming every missing or malformed variable and attribute."""
    if not isinstance(ds, xr.Dataset):
        raise RecordingSchemaError(f"a recording must be an xarray.Dataset, got {type(ds).__name__}")
    problems = []
    for name, dims in {**REQUIRED, **{k: v for k, v in OPTIONAL.items() if k in ds}}.items():
        if name not in ds:
            problems.append(f"missing variable {name!r} {dims}")
            continue
        if ds[name].dims[: len(dims)] != dims:
            problems.append(f"variable {name!r} has dims {ds[name].dims}, expected {dims}")
        for attr in ("long_name", "units"):
            if attr not in ds[name].attrs:
                problems.append(f"variable {name!r} lacks the {attr!r} attribute")
    problems += [f"missing attribute {a!r}" for a in REQUIRED_ATTRS if a not in ds.attrs]
    if not problems and ds.sizes["episode"] == 0:
        problems.append("the recording has no episodes")
    if problems:
        raise RecordingSchemaError("not a valid neurometarl recording: " + "; ".join(problems))
    return ds


def save_recording(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Validate and write ``ds`` as netCDF-4 through the atomic writer, marking it complete last."""
    import netCDF4

    validate_recording(ds)
    path = Path(path)
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4")
        with netCDF4.Dataset(tmp, "a") as handle:  # the last step: a file without it never finished
            handle.setncattr(COMPLETE_ATTR, 1)
    return path


def load_recording(path: str | os.PathLike, *, lazy: bool = True) -> xr.Dataset:
    """Open and validate a recording written by :func:`save_recording`.

    ``lazy`` (default): variables are read from disk when used, so commands that need only choices and
    rewards never load unit activity; ``lazy=False`` reads everything now.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no recording at {path}")
    if path.stat().st_size == 0:
        raise RecordingSchemaError(f"{path} is empty (0 bytes): an interrupted write from an older version? Record it again")
    try:
        ds = xr.open_dataset(path) if lazy else xr.load_dataset(path)
    except Exception as err:  # netCDF/HDF5 raise many types for a damaged or truncated file
        raise RecordingSchemaError(f"{path} is not a readable netCDF recording, or is truncated "
                                   f"({type(err).__name__}: {err}); record it again") from None
    complete = ds.attrs.pop(COMPLETE_ATTR, None)
    if complete is None and str(ds.attrs.get("schema_version", "")) not in ("", "1"):
        ds.close()
        raise RecordingSchemaError(f"{path} lacks its '{COMPLETE_ATTR}' marker: its writer did not finish; record it again")
    for var in ds.variables.values():  # netCDF stores a one-element attribute array as a scalar
        if "flag_values" in var.attrs:
            var.attrs["flag_values"] = np.atleast_1d(var.attrs["flag_values"])
    return validate_recording(ds)
