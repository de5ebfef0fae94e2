"""The monkey two-step neurons (``monkey-twostep``: Miranda et al. 2025, eLife 14:RP106032) as neural
recordings, read in place from the authors' ``data/`` folder (never copied).

:func:`read_monkey_session` returns one :mod:`~neurometarl.data.neurons` recording per recording
session: units of different sessions saw different trials, so they cannot share a ``trial`` dim.
Analyse each session and combine the results over sessions with ``xr.concat(results, dim="unit")``
(unit labels ``"<area>/<cell>"`` are unique across the dataset).

Periods and their windows (spikes/s in ``[event + start, event + end)``; event codes of the README):
fixation, 500 ms before the first-stage options appear (code 23: the end of the fixation hold);
choice1, 500 ms before the first-stage choice (24); transition, 0-500 ms after the transition is shown
(25); choice2, 500 ms before the second-stage choice (34); outcome, 0-1000 ms after the secondary
reinforcer (37, every trial). They are :data:`PERIODS`, in the format ``read_nwb_units`` takes.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError
from ..lab.schema import flag_attrs
from .neurons import neural_recording
from .registry import get_dataset, verified

__all__ = ["read_monkey_session", "monkey_sessions", "monkey_units", "monkey_table", "PERIODS", "EVENTS", "AREAS"]

DATASET = "monkey-twostep"
#: area → the authors' sheet name
AREAS = {"ACC": "ACC", "DLPFC": "DLPFC", "Caudate": "DMStr", "Putamen": "DLStr"}
SUBJECTS = ("Charlie", "Jacob")
#: event code → event name (a trial variable holding its time, s, on the session clock)
EVENTS = {9: "trial_start", 22: "fixation_acquired", 23: "options1_on", 24: "choice1_made", 25: "transition_on",
          32: "fixation2", 33: "options2_on", 34: "choice2_made", 37: "outcome_on", 18: "trial_end"}
#: period → (event, start offset s, end offset s): the window is [event + start, event + end)
PERIODS = {
    "fixation": ("options1_on", -0.5, 0.0),
    "choice1": ("choice1_made", -0.5, 0.0),
    "transition": ("transition_on", 0.0, 0.5),
    "choice2": ("choice2_made", -0.5, 0.0),
    "outcome": ("outcome_on", 0.0, 1.0),
}
_QVALS = {"mf": "model-free", "mb": "model-based", "hyb": "hybrid"}
#: the authors' trial types (their task code, jamesbutler01/TwoStepTask)
TRIAL_TYPES = "trial type: 1 free choice at both stages; 2 one first-stage option offered; 3 one second-stage option offered"


def _qval_attrs(name: str) -> dict:
    """long_name and units of one of the authors' model values (``qvals_sess_K.mat``)."""
    model = next((words for key, words in _QVALS.items() if name.endswith(key) or f"Q{key}Pic" in name), "")
    if name.startswith("Prob"):
        text = f"first-stage choice probability, {model} fit" if name.startswith("Prob1") else "second-stage choice probability"
        return {"long_name": f"{text} (authors' {name})", "units": "1"}
    if name.startswith("PE"):
        text = f"{model} first-stage prediction error" if name.startswith("PE1") else "second-stage prediction error"
    elif name.startswith(("Chosen", "Unchosen")):
        which = "chosen" if name.startswith("Chosen") else "unchosen"
        text = f"{model} value of the {which} first-stage picture" if model else f"value of the {which} second-stage picture"
    elif name.startswith("QPic"):
        text = f"second-stage value of picture {name[-1]}"
    else:
        text = f"{model} first-stage value of picture {name[-1]}"
    return {"long_name": f"{text} (authors' {name})", "units": "model value"}


def _root(folder) -> Path:
    if folder is None:
        from .registry import dataset_folder

        return dataset_folder(DATASET, marker="PreparedData.mat")
    root = Path(folder).expanduser()
    if not (root / "PreparedData.mat").is_file():
        raise DataError(f"dataset {DATASET!r}: {root} holds no PreparedData.mat; pass the folder of the authors' data/ "
                        "(see `neurometarl datasets`)")
    return root


def _file(root: Path, rel: str) -> Path:
    """``root/rel``, checked to exist and against the registry's SHA-256."""
    path = root / rel
    if not path.is_file():
        raise DataError(f"dataset {DATASET!r}: {path} is missing (see `neurometarl datasets`)")
    return verified(get_dataset(DATASET), rel, path)


@functools.lru_cache(maxsize=4)
def _prepared(root: Path):
    from scipy.io import loadmat

    return loadmat(_file(root, "PreparedData.mat"))["PreparedData"]


@functools.lru_cache(maxsize=4)
def _units(root: Path) -> pd.DataFrame:
    frames = []
    for area, sheet in AREAS.items():
        rows = pd.concat([pd.read_excel(_file(root, f"{s}Data/{s.upper()}_{sheet}_Units.xlsx")) for s in SUBJECTS],
                         ignore_index=True)
        frames.append(pd.DataFrame({"area": area, "cell": np.arange(len(rows)), "subject": rows["Subject"].astype(str),
                                    "session": rows["Session"].astype(int), "channel": rows["Channel"].astype(int),
                                    "unit_number": rows["UnitNum"].astype(int),
                                    "structure": rows["BrainStructure"].astype(str),
                                    "cluster_quality": rows["ClusterQuality"].astype(str)}))
    return pd.concat(frames, ignore_index=True)


def monkey_units(folder: str | os.PathLike | None = None) -> pd.DataFrame:
    """One row per cell: ``area``, ``cell`` (the area's cell index), ``subject``, ``session`` (1-based),
    ``channel``, ``unit_number``, ``structure``, ``cluster_quality`` (from the authors' sheets)."""
    import warnings

    with warnings.catch_warnings():  # openpyxl: "Unknown extension is not supported" for these sheets
        warnings.simplefilter("ignore", UserWarning)
        return _units(_root(folder)).copy()


def _session_record(root: Path, subject: str, session: int):
    if subject not in SUBJECTS:
        raise DataError(f"unknown subject {subject!r}; the monkeys are {', '.join(SUBJECTS)}")
    sessions = _prepared(root)[SUBJECTS.index(subject)][0]
    if not 1 <= session <= len(sessions):
        raise DataError(f"{subject} has sessions 1..{len(sessions)}, got {session}")
    return sessions[session - 1][0]


def monkey_sessions(folder: str | os.PathLike | None = None) -> pd.DataFrame:
    """The recording sessions: ``subject``, ``session`` (1-based), ``areas``, ``n_cells``, ``n_trials``
    (good trials), one row per session with at least one cell."""
    root = _root(folder)
    units = monkey_units(root)
    rows = []
    for (subject, session), cells in units.groupby(["subject", "session"], sort=False):
        record = _session_record(root, subject, int(session))
        rows.append({"subject": subject, "session": int(session), "areas": ",".join(sorted(cells["area"].unique())),
                     "n_cells": len(cells), "n_trials": len(record[1])})
    return pd.DataFrame(rows).sort_values(["subject", "session"], ignore_index=True)


def monkey_table(folder: str | os.PathLike | None = None) -> pd.DataFrame:
    """The monkeys' choices as a two-step trial table (:mod:`neurometarl.data.table`), every session of
    both subjects (57, with or without cells), good trials in order.

    Columns: ``subject``, ``session`` (1-based), ``trial``, ``choice`` (picture A 0 / B 1), ``transition``
    (1 common), ``state2`` (the second-stage pair reached: 0 = C/D, where A commonly leads), ``choice2``
    (the second picture of the pair: D or F = 1), ``reward`` (level / 2: 0, 0.5, 1, the scale of the
    ``twostep-monkey`` task), ``reward_level`` (0, 1, 2), ``trial_type`` and ``forced`` (type 2: the
    first-stage choice was instructed).
    """
    root = _root(folder)
    frames = []
    for s, subject in enumerate(SUBJECTS):
        for k in range(len(_prepared(root)[s][0])):
            t = {name: v.astype(int) for name, v in _choices(_session_record(root, subject, k + 1)).items()}
            frames.append(pd.DataFrame({
                "subject": subject, "session": k + 1, "trial": np.arange(len(t["choice"])), "choice": t["choice"],
                "transition": t["transition"], "state2": t["choice2"] // 2, "choice2": t["choice2"] % 2,
                "reward": t["reward"] / 2.0, "reward_level": t["reward"], "trial_type": t["trial_type"], "forced": t["forced"]}))
    return pd.concat(frames, ignore_index=True)


def _choices(record) -> dict[str, np.ndarray]:
    """The authors' per-trial choice fields decoded (int8): ``choice`` (picture A 0 / B 1), ``transition``
    (1 common), ``choice2`` (picture C-F as 0-3), ``reward`` (level 0-2), ``trial_type``, ``forced`` (type 2)."""
    field = lambda i: np.asarray(record[i]).ravel().astype(np.int8)  # noqa: E731
    return {"choice": field(3) - 1, "transition": (field(6) == 1).astype(np.int8), "choice2": field(7) - 3,
            "reward": 3 - field(13), "trial_type": field(2), "forced": (field(2) == 2).astype(np.int8)}


def _trial_vars(root: Path, subject: str, session: int) -> dict:
    record = _session_record(root, subject, session)
    field = lambda i: np.asarray(record[i]).ravel()
    t = _choices(record)
    out = {
        "choice": (t["choice"], {"long_name": "first-stage picture chosen", "units": "1", **flag_attrs(("A", "B"))}),
        "transition": (t["transition"], {"long_name": "transition (1 common, 0 rare)", "units": "1"}),
        "choice2": (t["choice2"], {"long_name": "second-stage picture chosen", "units": "1", **flag_attrs(("C", "D", "E", "F"))}),
        "reward": (t["reward"], {"long_name": "reward level (0, 1, 2)", "units": "reward level"}),
        "reward_amount": (field(10).astype(float), {"long_name": "raw reward amount (authors' field 10)", "units": "a.u."}),
        "trial_type": (t["trial_type"], {"long_name": TRIAL_TYPES, "units": "1"}),
        "forced": (t["forced"], {"long_name": "instructed first-stage choice (trial type 2)", "units": "1"}),
        "location1": (field(4).astype(np.int8), {"long_name": "first-stage location chosen (1-4)", "units": "1"}),
        "location2": (field(8).astype(np.int8), {"long_name": "second-stage location chosen (1-4)", "units": "1"}),
        "rt1": (field(5).astype(float), {"long_name": "first-stage reaction time", "units": "ms"}),
        "rt2": (field(9).astype(float), {"long_name": "second-stage reaction time", "units": "ms"}),
        "session_trial": (field(1).astype(np.int32), {"long_name": "trial's index among all the session's trials (1-based)",
                                                      "units": "1"}),
    }
    from scipy.io import loadmat

    qvals = loadmat(_file(root, f"{subject}Data/qvals/qvals_sess_{session - 1}.mat"))
    n_trials = len(out["choice"][0])
    for name, values in qvals.items():
        values = np.asarray(values).ravel() if not name.startswith("__") else None
        if values is not None and len(values) == n_trials:
            out[name] = (values.astype(float), _qval_attrs(name))
    return out


def _event_times(log: pd.DataFrame, n_trials: int) -> dict[str, np.ndarray]:
    """Event times (s) per trial from an event log; NaN where a trial lacks the event."""
    if log["trial_number"].max() + 1 != n_trials:
        raise DataError(f"dataset {DATASET!r}: the event log has {log['trial_number'].max() + 1} trials, the session {n_trials}")
    out = {}
    for code, name in EVENTS.items():
        rows = log[log["codes"] == code].drop_duplicates("trial_number")
        times = np.full(n_trials, np.nan)
        times[rows["trial_number"].to_numpy()] = rows["times"].to_numpy() / 1000.0
        out[name] = times
    return out


def read_monkey_session(folder: str | os.PathLike | None, subject: str, session: int, *,
                        areas: str | Sequence[str] | None = None, cells: Sequence[int] | Mapping[str, Sequence[int]] | None = None,
                        bin_ms: float | None = None) -> xr.Dataset:
    """One recording session of the monkey two-step neurons as a neural recording.

    Parameters
    ----------
    folder : the dataset's folder (the authors' ``data/``), or ``None`` to find it through the data
        setting (``NEUROMETARL_DATA``, see ``neurometarl datasets``).
    subject : ``'Charlie'`` or ``'Jacob'``.
    session : the session number (1-based, the sheets' ``Session``; see :func:`monkey_sessions`).
    areas : area(s) to read among ``ACC``, ``DLPFC``, ``Caudate``, ``Putamen``; default all.
    cells : the areas' cell indices to read (``cell_<N>`` files): a sequence when one area is read,
        or ``{area: indices}``; default every cell of the session in those areas.
    bin_ms : also return ``spike_count`` in bins of this width over ±1 s around each period's event.

    Returns
    -------
    xarray.Dataset with dims episode (1), trial (the session's good trials), step (trial × period:
    fixation, choice1, transition, choice2, outcome; windows in :data:`PERIODS`), unit (labels
    ``"<area>/<cell>"``, coordinates ``area``, ``area_cell``, ``subject``, ``session``, ``channel``,
    ``unit_number``, ``cluster_quality``); ``cell`` (episode, step, unit) firing rates (spikes/s);
    trial variables ``choice`` (picture A 0 / B 1), ``transition`` (1 common, 0 rare), ``choice2``
    (C–F as 0–3), ``reward`` (level 0/1/2), ``trial_type``, ``forced``, reaction times, the event
    times (s) and the authors' model values (``QmfPicA``, ``ChosenQhyb``, ``PE1mb``, ...).
    """
    root = _root(folder)
    units = monkey_units(root)
    chosen_areas = list(AREAS) if areas is None else [areas] if isinstance(areas, str) else list(areas)
    unknown = [a for a in chosen_areas if a not in AREAS]
    if unknown:
        raise DataError(f"unknown area(s) {unknown}; the areas are {', '.join(AREAS)}")
    record = _session_record(root, subject, session)
    here = units[(units["subject"] == subject) & (units["session"] == session) & units["area"].isin(chosen_areas)]
    if cells is not None:
        if not isinstance(cells, Mapping):
            if len(chosen_areas) != 1:
                raise DataError("cells= as a list needs exactly one area (areas='ACC'); or pass {area: cell indices}")
            cells = {chosen_areas[0]: cells}
        wanted = {(a, int(c)) for a, cs in cells.items() for c in cs}
        absent = sorted(wanted - set(zip(here["area"], here["cell"])))
        if absent:
            raise DataError(f"cells {absent} are not in {subject} session {session}; its cells: "
                            + ", ".join(f"{a}/{c}" for a, c in zip(here["area"], here["cell"])))
        here = here[[(a, c) in wanted for a, c in zip(here["area"], here["cell"])]]
    if here.empty:
        raise DataError(f"{subject} session {session} has no cells in {', '.join(chosen_areas)}")
    n_trials = len(record[1])
    spikes, events = [], None
    for area, cell in zip(here["area"], here["cell"]):
        spikes.append(np.load(_file(root, f"{area}/spikes/cell_{cell}.npy")) / 1000.0)
        log = pd.read_parquet(_file(root, f"{area}/trial_timings/cell_{cell}.parquet"))
        times = _event_times(log, n_trials)
        if events is None:
            events = times
        elif not all(np.array_equal(events[k], times[k], equal_nan=True) for k in events):
            raise DataError(f"dataset {DATASET!r}: {area} cell {cell}'s event log differs from its session's")
    assert events is not None  # here is not empty: at least one cell's log was read
    trial_vars = _trial_vars(root, subject, session)
    trial_vars.update({name: (t, {"long_name": f"time of event {name} (code {code})", "units": "s"})
                       for (code, name), t in zip(EVENTS.items(), events.values())})
    coords = {"area": here["area"].to_numpy(str), "area_cell": here["cell"].to_numpy(), "subject": here["subject"].to_numpy(str),
              "session": here["session"].to_numpy(), "channel": here["channel"].to_numpy(),
              "unit_number": here["unit_number"].to_numpy(), "cluster_quality": here["cluster_quality"].to_numpy(str)}
    labels = [f"{a}/{c}" for a, c in zip(here["area"], here["cell"])]
    dataset = get_dataset(DATASET)
    attrs = {"task": "twostep-monkey", "subject": subject, "session": int(session), "dataset": DATASET,
             "citation": dataset.citation, "source": dataset.source}
    return neural_recording(spikes, events, PERIODS, trial_vars, coords, labels, attrs, bin_ms=bin_ms)
