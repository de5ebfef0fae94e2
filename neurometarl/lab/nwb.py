"""Export a recording to Neurodata Without Borders (NWB) and read it back, via pynwb.

So pynapple / nemos users can continue downstream, a recording becomes an ordinary NWB file:

* ``processing['network']``: one ``TimeSeries`` per unit variable (``hidden``, ``cell``), data
  (time, unit) at a regular rate, one sample per task step, episodes laid end to end;
* ``processing['behavior']``: the other step variables (``step_action``, ``step_reward``, ``policy``,
  ``value``, ``rpe``...) as ``TimeSeries``;
* the ``trials`` table: one row per trial with ``start_time``/``stop_time``, ``episode``, ``trial`` and
  every trial variable (``choice``, ``reward``, the task's conditions such as ``reward_prob_left``);
* the ``epochs`` table: one row per episode (plus any per-episode variable);
* ``scratch['neurometarl_recording']``: the xarray metadata (dims, dtypes, coordinates, attributes,
  provenance) as JSON, so :func:`from_nwb` rebuilds the recording exactly
  (``xarray.testing.assert_identical``). Variables that fit none of the above go to scratch too.

Time base [ours]: each step lasts ``step_duration`` seconds (default 1 s); episode e starts at
``e · n_steps · step_duration``. Nothing is downloaded: the NWB core schema ships with pynwb.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import uuid
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import DataError
from ..io import atomic_path

__all__ = ["to_nwb", "from_nwb", "validate_nwb"]

METADATA_NAME = "neurometarl_recording"
FORMAT_VERSION = 1


def _encode(value):
    """JSON-safe form of an attribute value, typed so it decodes to the same Python/numpy object."""
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, np.generic):
        return {"__npscalar__": value.item(), "dtype": value.dtype.str}
    if isinstance(value, (list, tuple)):
        return {"__seq__": [_encode(v) for v in value], "tuple": isinstance(value, tuple)}
    if isinstance(value, dict):
        return {"__dict__": {k: _encode(v) for k, v in value.items()}}
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    raise DataError(f"cannot store attribute value {value!r} of type {type(value).__name__} in NWB")


def _decode(value):
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return np.array(value["__ndarray__"], dtype=np.dtype(value["dtype"])).reshape(value["shape"])
        if "__npscalar__" in value:
            return np.dtype(value["dtype"]).type(value["__npscalar__"])
        if "__seq__" in value:
            items = [_decode(v) for v in value["__seq__"]]
            return tuple(items) if value["tuple"] else items
        if "__dict__" in value:
            return {k: _decode(v) for k, v in value["__dict__"].items()}
    return value


def _attrs(attrs: dict) -> dict:
    return {str(k): _encode(v) for k, v in attrs.items()}


def _values(da: xr.DataArray) -> dict:
    """A coordinate as JSON: dims, dtype, values, attrs."""
    values = da.values
    if values.dtype.kind in "US":
        data = values.astype(str).tolist()
    elif values.dtype.kind == "O":
        data = [str(v) for v in values.ravel()]
    else:
        data = values.tolist()
    return {"dims": list(da.dims), "dtype": values.dtype.str, "shape": list(values.shape), "values": data,
            "attrs": _attrs(da.attrs)}


def _column_labels(ds: xr.Dataset, dims: tuple[Hashable, ...]) -> list[str]:
    """Names for the flattened extra dims of a trial variable: coordinate labels joined by '_'."""
    if not dims:
        return [""]
    axes = [[str(v) for v in ds[d].values] if d in ds.coords else [str(i) for i in range(ds.sizes[d])] for d in dims]
    labels = [""]
    for axis in axes:
        labels = [f"{a}_{b}" if a else b for a in labels for b in axis]
    return labels


def _start_time(ds: xr.Dataset) -> datetime.datetime:
    created = ds.attrs.get("created")
    try:
        start = datetime.datetime.fromisoformat(str(created))
    except (TypeError, ValueError):
        start = datetime.datetime(1970, 1, 1)
    return start if start.tzinfo else start.replace(tzinfo=datetime.timezone.utc)


def to_nwb(ds: xr.Dataset, path: str | os.PathLike, *, step_duration: float = 1.0) -> Path:
    """Write a recording as an NWB file (see the module doc for the layout).

    Parameters
    ----------
    ds : a recording (validated against the lab schema).
    path : output ``.nwb`` file (written to a temporary name, then renamed).
    step_duration : seconds per task step in the NWB time base.

    Returns
    -------
    The path written.
    """
    from pynwb import NWBHDF5IO, NWBFile, TimeSeries
    from pynwb.epoch import TimeIntervals
    from pynwb.file import Subject
    from hdmf.common import VectorData

    from .schema import validate_recording

    validate_recording(ds)
    if not step_duration > 0:
        raise DataError(f"step_duration must be > 0 seconds, got {step_duration}")
    n_ep, n_steps = ds.sizes["episode"], ds.sizes["step"]
    n_trials = ds.sizes["trial"]
    spt = n_steps // n_trials
    if spt * n_trials != n_steps:
        raise DataError(f"{n_steps} steps do not split into {n_trials} trials of equal length")

    digest = hashlib.sha1(json.dumps(_attrs(ds.attrs), sort_keys=True, default=str).encode()).hexdigest()
    nwbfile = NWBFile(
        session_description=f"neurometarl recording: subject {ds.attrs.get('subject', '?')!r} on task "
                            f"{ds.attrs.get('task', '?')!r}, {n_ep} episodes, weights frozen",
        identifier=str(uuid.uuid5(uuid.NAMESPACE_URL, f"neurometarl:{digest}")),
        session_start_time=_start_time(ds),
        experiment_description="Simulated recording of a meta-RL agent or baseline model (Wang et al. 2018 reproduction)",
        source_script="neurometarl",
        source_script_file_name="neurometarl/lab/nwb.py",
        subject=Subject(subject_id=Path(str(ds.attrs.get("subject", "subject"))).name or "subject",
                        description=f"simulated subject: {ds.attrs.get('subject', '?')} (a trained network's checkpoint "
                                    "or a baseline model), weights frozen during the session",
                        species="simulated agent (not an animal)"),
    )
    network = nwbfile.create_processing_module("network", "activity of the subject's recurrent units (or a baseline's latents)")
    behavior = nwbfile.create_processing_module("behavior", "step-by-step actions, rewards, policy, value and RPE")
    meta: dict[str, Any] = {"format_version": FORMAT_VERSION, "attrs": _attrs(ds.attrs), "sizes": dict(ds.sizes),
            "coords": {name: _values(ds[name]) for name in ds.coords}, "variables": {}, "step_duration": step_duration,
            "data_var_order": list(ds.data_vars)}

    trial_cols, epoch_cols = {}, {}
    for name, da in ds.data_vars.items():
        assert isinstance(name, str)  # a recording's variables are named by strings (netCDF names)
        info = {"dims": list(da.dims), "dtype": da.dtype.str, "attrs": _attrs(da.attrs)}
        if da.dtype.kind not in "biuf":
            raise DataError(f"variable {name!r} has dtype {da.dtype}; NWB export supports numeric variables only")
        if "episode" in da.dims and "step" in da.dims:
            rest = [d for d in da.dims if d not in ("episode", "step")]
            values = da.transpose("episode", "step", *rest).values
            data = values.reshape(n_ep * n_steps, *values.shape[2:])
            module = network if "unit" in rest else behavior
            labels = {d: [str(v) for v in ds[d].values] for d in rest if d in ds.coords}
            module.add(TimeSeries(
                name=name, data=data, unit=str(da.attrs.get("units", "n/a")), starting_time=0.0,
                rate=1.0 / step_duration, description=str(da.attrs.get("long_name", name)),
                comments=(f"columns: {', '.join(f'{d} = {labels[d]}' for d in labels)}" if labels else "one value per step"),
            ))
            info.update(location=module.name, stored_dims=["episode", "step", *rest])
        elif "episode" in da.dims and "trial" in da.dims:
            rest = [d for d in da.dims if d not in ("episode", "trial")]
            values = da.transpose("episode", "trial", *rest).values.reshape(n_ep * n_trials, -1)
            columns = [f"{name}_{label}" if label else name for label in _column_labels(ds, tuple(rest))]
            for j, col in enumerate(columns):
                if col in trial_cols or col in ("start_time", "stop_time", "episode", "trial"):
                    raise DataError(f"trial column {col!r} (from variable {name!r}) clashes with another column")
                trial_cols[col] = (values[:, j], f"{da.attrs.get('long_name', name)}" + (f" [{col[len(name) + 1:]}]" if col != name else ""))
            info.update(location="trials", stored_dims=["episode", "trial", *rest], columns=columns)
        elif da.dims and da.dims[0] == "episode":  # per-episode variables: the epochs table
            rest = list(da.dims[1:])
            values = da.values.reshape(n_ep, -1)
            columns = [f"{name}_{label}" if label else name for label in _column_labels(ds, tuple(rest))]
            for j, col in enumerate(columns):
                epoch_cols[col] = (values[:, j], str(da.attrs.get("long_name", name)))
            info.update(location="epochs", stored_dims=["episode", *rest], columns=columns)
        else:
            nwbfile.add_scratch(da.values, name=f"var_{name}", description=str(da.attrs.get("long_name", name)))
            info.update(location="scratch", stored_dims=list(da.dims))
        meta["variables"][name] = info

    dt = float(step_duration)
    episode = np.repeat(np.arange(n_ep), n_trials)
    trial = np.tile(np.arange(n_trials), n_ep)
    start = (episode * n_steps + trial * spt) * dt
    columns = [
        VectorData(name="start_time", description="start of the trial (s)", data=start),
        VectorData(name="stop_time", description="end of the trial (s)", data=start + spt * dt),
        VectorData(name="episode", description="episode index (position in the recording)", data=episode),
        VectorData(name="trial", description="trial index within the episode", data=trial),
    ] + [VectorData(name=col, description=desc, data=values) for col, (values, desc) in trial_cols.items()]
    nwbfile.trials = TimeIntervals(name="trials", description="one row per trial of every episode", columns=columns)
    ep_start = np.arange(n_ep) * n_steps * dt
    ep_columns = [
        VectorData(name="start_time", description="start of the episode (s)", data=ep_start),
        VectorData(name="stop_time", description="end of the episode (s)", data=ep_start + n_steps * dt),
        VectorData(name="episode", description="episode index (position in the recording)", data=np.arange(n_ep)),
    ] + [VectorData(name=col, description=desc, data=values) for col, (values, desc) in epoch_cols.items()]
    nwbfile.epochs = TimeIntervals(name="epochs", description="one row per episode (the LSTM state is reset at each start)",
                                   columns=ep_columns)
    nwbfile.add_scratch(json.dumps(meta), name=METADATA_NAME,
                        description="xarray metadata of the neurometarl recording (dims, coords, attrs) as JSON, for from_nwb")

    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.unlink()  # NWBHDF5IO creates the file itself
        with NWBHDF5IO(str(tmp), "w") as io:
            io.write(nwbfile)
    return path


def _coord(info: dict):
    values = np.array(info["values"], dtype=np.dtype(info["dtype"])).reshape(info["shape"])
    return (tuple(info["dims"]), values, {k: _decode(v) for k, v in info["attrs"].items()})


def open_nwb(path: str | os.PathLike):
    """``(io, nwbfile)`` of an NWB file opened for reading (close ``io``, e.g. ``with io:``); a missing
    file is FileNotFoundError, a damaged or foreign one a one-line DataError."""
    from pynwb import NWBHDF5IO

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no NWB file at {path}")
    try:
        io = NWBHDF5IO(str(path), "r")
        return io, io.read()
    except Exception as err:  # h5py/hdmf raise many types for a damaged or foreign file
        raise DataError(f"{path} is not a readable NWB file ({type(err).__name__}: {err})") from None


def from_nwb(path: str | os.PathLike) -> xr.Dataset:
    """Read an NWB file written by :func:`to_nwb` back into the recording it came from.

    Raises
    ------
    FileNotFoundError, DataError
        No such file, not an NWB file, or an NWB file without neurometarl's metadata.
    """
    path = Path(path)
    io, nwbfile = open_nwb(path)
    with io:
        if METADATA_NAME not in nwbfile.scratch:
            raise DataError(f"{path} has no {METADATA_NAME!r} scratch entry: it was not written by neurometarl's to_nwb")
        raw = nwbfile.scratch[METADATA_NAME].data
        raw = raw if isinstance(raw, (str, bytes)) else raw[()]
        meta = json.loads(raw.decode() if isinstance(raw, bytes) else str(raw))
        sizes = meta["sizes"]
        trials = nwbfile.trials
        epochs = nwbfile.epochs
        data_vars = {}
        for name in meta["data_var_order"]:
            info = meta["variables"][name]
            stored = info["stored_dims"]
            shape = [sizes[d] for d in stored]
            where = info["location"]
            if where in ("network", "behavior"):
                values = np.asarray(nwbfile.processing[where][name].data[:]).reshape(shape)
            elif where == "trials":
                values = np.stack([np.asarray(trials[col].data[:]) for col in info["columns"]], -1).reshape(shape)
            elif where == "epochs":
                values = np.stack([np.asarray(epochs[col].data[:]) for col in info["columns"]], -1).reshape(shape)
            else:
                values = np.asarray(nwbfile.scratch[f"var_{name}"].data[:]).reshape(shape)
            da = xr.DataArray(values.astype(np.dtype(info["dtype"])), dims=stored).transpose(*info["dims"])
            da.attrs = {k: _decode(v) for k, v in info["attrs"].items()}
            data_vars[name] = da
    coords = {name: _coord(info) for name, info in meta["coords"].items()}
    ds = xr.Dataset(data_vars, coords=coords)
    ds.attrs = {k: _decode(v) for k, v in meta["attrs"].items()}
    return ds


def validate_nwb(path: str | os.PathLike) -> list[str]:
    """Problems pynwb's schema validator finds in the file (an empty list for a valid file)."""
    from pynwb import validate

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no NWB file at {path}")
    try:
        result = validate(path=str(path))
    except (ValueError, OSError) as err:  # not HDF5 at all, or not NWB
        raise DataError(f"{path} is not an NWB file ({str(err).splitlines()[0]})") from None
    errors = result[0] if isinstance(result, tuple) else result
    return [str(e) for e in errors]
