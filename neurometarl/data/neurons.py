"""Real neurons as recordings: spike times counted in windows around trial events, laid out like an
agent's units so every unit analysis (``unit_regression(ds, ..., var="cell")``, partial correlations,
fractions of significant units) runs on them without a second code path.

A neural recording holds one recording session (units of different sessions saw different trials):

* dims ``episode`` (length 1: the session), ``trial``, ``step`` = trial × period (coordinates
  ``step_trial`` and ``step_period``, the period names in ``step_period.attrs["flag_meanings"]``, as in
  agent recordings) and ``unit`` (labels plus per-unit coordinates such as ``area``, ``channel``);
* ``cell`` (episode, step, unit): the firing rate (spikes/s) in each period's window of each trial;
* trial variables on (episode, trial) (``choice``, ``reward``, ... whatever the source holds);
* with ``bin_ms``, ``spike_count`` (episode, step, time, unit): counts in bins of ``bin_ms`` around
  each period's event (``time`` = bin start relative to the event, s).

A neural recording is not an agent recording: an animal has no ``policy``, ``value`` or ``rpe``, so
:func:`~neurometarl.lab.schema.validate_recording` (and ``save_recording``, ``to_nwb``) refuse it;
:func:`validate_neurons` checks what the unit analyses need. Save one with ``ds.to_netcdf(path)``.

:func:`read_nwb_units` reads any NWB file with a units table and a trials table (the DANDI
convention) into this format.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import DataError
from ..lab.schema import provenance, step_coords

__all__ = ["window_counts", "neural_recording", "validate_neurons", "read_nwb_units", "AROUND_S"]

#: span of the time-resolved counts around each period's event (s)
AROUND_S = (-1.0, 1.0)

#: names a trials-table column cannot take as a trial variable (the recording's own dims and variables)
RESERVED = ("episode", "trial", "step", "unit", "time", "cell", "spike_count", "step_trial", "step_period")

Periods = Mapping[str, tuple[str, float, float]]


def window_counts(spikes: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Spikes of one unit in the half-open windows ``[starts, ends)``.

    Parameters
    ----------
    spikes : sorted spike times, shape (n_spikes,).
    starts, ends : window edges on the same clock, any equal shapes.

    Returns
    -------
    int64 array of the shape of ``starts``.
    """
    return np.searchsorted(spikes, ends, "left") - np.searchsorted(spikes, starts, "left")


def neural_recording(spikes: Sequence[np.ndarray], events: Mapping[str, np.ndarray], periods: Periods,
                     trial_vars: Mapping[str, tuple], units: Mapping[str, np.ndarray], unit_labels: Sequence | np.ndarray,
                     attrs: Mapping, *, bin_ms: float | None = None) -> xr.Dataset:
    """Build a neural recording from spike times and per-trial event times (all in seconds).

    Parameters
    ----------
    spikes : one sorted array of spike times (s) per unit.
    events : ``{event name: times (n_trials,)}`` (s); NaN where a trial lacks the event.
    periods : ``{period: (event name, start offset s, end offset s)}``, in trial order; the window of a
        period is ``[event + start, event + end)``.
    trial_vars : ``{name: (values (n_trials, ...), attrs)}``; each becomes a variable (episode, trial, ...).
    units : per-unit coordinates ``{name: values (n_units,)}``.
    unit_labels : the ``unit`` coordinate (unique labels).
    attrs : dataset attributes (provenance is added).
    bin_ms : also count spikes in bins of this width over :data:`AROUND_S` around each period's event
        (``spike_count``; 0 where a trial lacks the event, whose ``cell`` rates are NaN).

    Returns
    -------
    xarray.Dataset (see the module doc).
    """
    names = list(periods)
    if not names:
        raise DataError("name at least one period: {period: (event, start offset s, end offset s)}")
    for name, (event, start, end) in periods.items():
        if event not in events:
            raise DataError(f"period {name!r} needs the event {event!r}; events here: {', '.join(events)}")
        if not end > start:
            raise DataError(f"period {name!r}: the end offset ({end} s) must be after the start ({start} s)")
    n_trials = len(next(iter(events.values())))
    onset = np.stack([np.asarray(events[periods[p][0]], float) for p in names], 1)  # (trial, period)
    starts = onset + np.array([periods[p][1] for p in names])
    ends = onset + np.array([periods[p][2] for p in names])
    duration = ends - starts
    n_units, n_steps = len(spikes), n_trials * len(names)
    rates = np.empty((1, n_steps, n_units))
    for u, s in enumerate(spikes):
        rates[0, :, u] = (window_counts(np.asarray(s, float), starts, ends) / duration).ravel()
    rates[0][~np.isfinite(onset.ravel())] = np.nan  # a trial without the event has no window

    ET, ES = ("episode", "trial"), ("episode", "step")
    data: dict[str, tuple[tuple[str, ...], np.ndarray, dict]] = {"cell": ((*ES, "unit"), rates, {
        "long_name": "firing rate in the period's window", "units": "spikes/s",
        "windows": json.dumps({p: list(periods[p]) for p in names})})}
    for name, (values, var_attrs) in trial_vars.items():
        values = np.asarray(values)
        data[name] = ((*ET, *(f"{name}_dim_{i}" for i in range(values.ndim - 1))), values[None], dict(var_attrs))
    coords = {
        "episode": [0], "trial": np.arange(n_trials), **step_coords(n_trials, names),
        "unit": list(unit_labels),
        **{k: ("unit", np.asarray(v)) for k, v in units.items()},
    }
    if bin_ms is not None:
        if not bin_ms > 0:
            raise DataError(f"bin_ms must be > 0, got {bin_ms}")
        width = bin_ms / 1000
        left = np.arange(AROUND_S[0], AROUND_S[1] - width / 2, width)
        edges = onset.ravel()[:, None] + np.append(left, left[-1] + width)[None, :]  # (step, bin + 1)
        counts = np.zeros((1, n_steps, len(left), n_units), np.int32)
        for u, s in enumerate(spikes):
            counts[0, :, :, u] = np.diff(np.searchsorted(np.asarray(s, float), edges, "left"), axis=1)
        data["spike_count"] = ((*ES, "time", "unit"), counts, {
            "long_name": f"spikes in {bin_ms:g} ms bins around the period's event", "units": "spikes"})
        coords["time"] = ("time", left, {"long_name": "bin start relative to the period's event", "units": "s"})
    ds = xr.Dataset(data, coords=coords)
    ds.attrs = provenance(kind="neurons", periods=" ".join(names), **attrs)
    return validate_neurons(ds)


def validate_neurons(ds: xr.Dataset) -> xr.Dataset:
    """Check that ``ds`` is a neural recording the unit analyses accept; return it or raise DataError."""
    problems = []
    if not isinstance(ds, xr.Dataset):
        raise DataError(f"a neural recording is an xarray.Dataset, got {type(ds).__name__}")
    if "cell" not in ds or ds["cell"].dims != ("episode", "step", "unit"):
        problems.append("'cell' must be a variable on (episode, step, unit)")
    for name in ("step_trial", "step_period"):
        if name not in ds.coords:
            problems.append(f"missing step coordinate {name!r}")
    if "step_period" in ds.coords and not ds["step_period"].attrs.get("flag_meanings"):
        problems.append("'step_period' lacks 'flag_meanings' (the period names)")
    problems += [f"variable {n!r} lacks {a!r}" for n in ds.data_vars for a in ("long_name", "units")
                 if a not in ds[n].attrs]
    if not problems and ds.sizes["step"] != ds.sizes["trial"] * len(ds["step_period"].attrs["flag_meanings"].split()):
        problems.append("the steps are not trial × period")
    if problems:
        raise DataError("not a valid neural recording: " + "; ".join(problems))
    return ds


def _column(table, name: str) -> np.ndarray | None:
    """One value per row of an NWB dynamic table column, or None for ragged/multi-valued columns."""
    column = table[name]
    if hasattr(column, "target") or name in ("electrodes", "timeseries"):  # ragged (VectorIndex) or references
        return None
    values = np.asarray(column.data[:])
    if values.ndim != 1:
        return None
    if values.dtype.kind in "SO":
        values = np.array([v.decode() if isinstance(v, bytes) else str(v) for v in values])
    return values


def read_nwb_units(path: str | os.PathLike, *, periods: Periods, bin_ms: float | None = None) -> xr.Dataset:
    """Read an NWB file's units and trials tables (the DANDI convention) into a neural recording.

    Parameters
    ----------
    path : an NWB file with a ``units`` table (``spike_times``, s) and a ``trials`` table.
    periods : ``{period: (trials-table time column, start offset s, end offset s)}`` in trial order,
        e.g. ``{"cue": ("cue_time", 0.0, 0.5), "outcome": ("reward_time", 0.0, 1.0)}``; the window of a
        period is ``[column + start, column + end)``; a NaN time leaves that trial's window NaN.
    bin_ms : also count spikes in bins of this width around each period's event (see :func:`neural_recording`).

    Returns
    -------
    xarray.Dataset: ``cell`` (episode = 1, step, unit) in spikes/s; every one-valued column of the trials
    table becomes a trial variable (episode, trial); the units table's one-valued columns become
    ``unit`` coordinates (the unit labels are its ids).
    """
    from ..lab.nwb import open_nwb

    path = Path(path)
    io, nwbfile = open_nwb(path)
    with io:
        units, trials = nwbfile.units, nwbfile.trials
        if units is None or trials is None:
            raise DataError(f"{path} needs a units table and a trials table (has units: {units is not None}, "
                            f"trials: {trials is not None})")
        spikes = [np.sort(np.asarray(units["spike_times"][i], float)) for i in range(len(units))]
        unit_coords = {}
        for name in units.colnames:
            if name != "spike_times" and (values := _column(units, name)) is not None:
                unit_coords[name] = values
        trial_vars, events = {}, {}
        for name in ("start_time", "stop_time", *trials.colnames):
            values = _column(trials, name)
            if values is None or name in RESERVED:
                continue
            if values.dtype.kind in "fiub":
                events[name] = values.astype(float)
            trial_vars[name] = (values, {"long_name": trials[name].description or name,
                                         "units": "s" if name.endswith("time") else "1"})
        unit_ids = np.asarray(units.id[:])
        missing = sorted({event for event, _, _ in periods.values()} - set(events))
        if missing:
            raise DataError(f"{path}: the trials table has no numeric column {missing}; its columns: "
                            f"{', '.join(trial_vars)}")
        attrs = {"source": str(path), "subject": nwbfile.subject.subject_id if nwbfile.subject else "",
                 "session": nwbfile.session_id or nwbfile.identifier, "session_description": nwbfile.session_description}
    return neural_recording(spikes, events, periods, trial_vars, unit_coords, unit_ids, attrs, bin_ms=bin_ms)
