"""The long-format trial table: one row per trial, the one format every behavioural model and
descriptive analysis reads, whether the trials come from an animal, a person, a trained network or a
baseline model.

Columns
-------
============  ========  ===========================================================================
column        required  meaning
============  ========  ===========================================================================
subject       yes       subject id (animal, participant, network seed, episode...)
trial         yes       trial number; rows are ordered by (subject, session, trial)
choice        yes       first-stage / bandit choice: 0 = left, 1 = right
reward        yes       reward earned on the trial (0/1 for Bernoulli tasks)
session       no        session id within subject (default 0); learning resets at session starts
transition    two-step  1 = common transition, 0 = rare
state2        no        second-stage state reached (0/1); must be a fixed function of choice and
                        transition within a subject
choice2       no        second-stage choice (0/1)
forced        no        1 = instructed trial: the subject learns from it but its choice is not
                        modelled (and it is not a "current" trial in stay analyses)
violation     no        1 = aborted trial: no choice to model, no learning, breaks trial-to-trial
                        analyses (its choice and reward may be missing)
magnitude_left, magnitude_right   no   reward magnitudes shown before the choice (Behrens task)
============  ========  ===========================================================================

Tables coded otherwise are converted on import by :func:`prepare_table` (``read_table`` and
``as_table`` take the same options; the CLI as ``--choice-coding``, ``--missed``, ``--practice``):
choices coded 1/2 or left/right, missed-trial codes (NaN, −1 ...) turned into violations, and a
practice-trial column whose marked rows are dropped.

:func:`validate_table` checks all of this and raises :class:`~neurometarl.errors.DataError` naming the
column and the offending rows.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError

REQUIRED_COLUMNS = ("subject", "trial", "choice", "reward")
TWOSTEP_COLUMNS = ("transition",)
BINARY_COLUMNS = ("choice", "transition", "state2", "choice2", "forced", "violation")
OPTIONAL_COLUMNS = ("session", "state2", "choice2", "forced", "violation", "magnitude_left", "magnitude_right")
KINDS = ("bandit", "twostep", None)
#: what the codes of the binary columns mean (for error messages)
CODES = {"choice": "0 = left, 1 = right", "transition": "1 = common, 0 = rare", "state2": "second-stage state 0 or 1",
         "choice2": "0 = left, 1 = right"}


#: choice codings :func:`prepare_table` converts to 0 = left, 1 = right
CHOICE_CODINGS: dict[str, dict[int | str, int]] = {"0-1": {0: 0, 1: 1}, "1-2": {1: 0, 2: 1}, "left-right": {"left": 0, "right": 1}}


def _is_missed(values: pd.Series, codes) -> pd.Series:
    """Where ``values`` holds one of the missed-trial ``codes`` ('nan' matches NaN and empty cells)."""
    codes = [str(c).strip().lower() for c in codes]
    out = pd.Series(False, index=values.index)
    if "nan" in codes:
        out |= values.isna()
    text = values.astype(str).str.strip().str.lower()
    numeric = pd.to_numeric(values, errors="coerce")
    for c in codes:
        if c == "nan":
            continue
        out |= text == c
        try:
            out |= numeric == float(c)
        except ValueError:
            pass
    return out


def prepare_table(table: pd.DataFrame, *, choice_coding: str | None = None, missed=None, practice: str | None = None) -> pd.DataFrame:
    """Convert a table coded otherwise into the long format (before :func:`validate_table`).

    Parameters
    ----------
    table : raw DataFrame, one row per trial.
    choice_coding : how ``choice`` (and ``choice2``) are coded: '0-1' (default: 0 = left, 1 = right),
        '1-2' (1 = left, 2 = right) or 'left-right' (the words, any case).
    missed : codes of missed trials in ``choice`` (e.g. ``['nan', -1]``); those rows become
        violations (``violation = 1``: no choice modelled, no learning; their choice is cleared).
    practice : name of a column marking practice trials (1/True); those rows are dropped.

    Returns
    -------
    DataFrame (n_rows, ...) with the same row labels (minus dropped practice rows).
    """
    df = table.copy()
    if practice is not None:
        if practice not in df:
            raise DataError(f"practice column {practice!r} is not in the table; it has {list(df.columns)}")
        flag = df[practice]
        marked = flag.astype(str).str.strip().str.lower().isin(["1", "1.0", "true", "yes", "practice"])
        df = df.loc[~marked].drop(columns=practice)
        if len(df) == 0:
            raise DataError(f"every row is marked as practice in column {practice!r}; nothing is left to analyse")
    if missed is not None and len(missed) and "choice" in df:
        gone = _is_missed(df["choice"], missed)
        previous = pd.to_numeric(df["violation"], errors="coerce").fillna(0) if "violation" in df else 0
        df["violation"] = np.where(gone, 1, previous).astype(int)
        df["choice"] = df["choice"].where(~gone, np.nan)
        if "choice2" in df:
            df["choice2"] = df["choice2"].where(~gone, np.nan)
    if choice_coding is not None and choice_coding != "0-1":
        if choice_coding not in CHOICE_CODINGS:
            raise DataError(f"choice coding must be one of {list(CHOICE_CODINGS)}, got {choice_coding!r}")
        mapping = CHOICE_CODINGS[choice_coding]
        for col in ("choice", "choice2"):
            if col not in df:
                continue
            values = df[col]
            key = values.astype(str).str.strip().str.lower() if choice_coding == "left-right" else pd.to_numeric(values, errors="coerce")
            df[col] = key.map(mapping)  # other values become NaN: validate_table names them
            unknown = df[col].isna() & values.notna()
            if unknown.any():
                shown = sorted(set(values[unknown].astype(str)))[:5]
                raise DataError(f"column {col!r} has values {shown} that coding {choice_coding!r} does not know "
                                f"(it expects {list(mapping)}) at {_rows(unknown, df.index)}; if they mark missed trials, "
                                f"pass --missed {' '.join(shown)} (Python: missed={shown})")
    return df


def _coding_hint(values: pd.Series) -> str:
    """How to fix a ``choice`` column that is not 0/1: the import option its values point to."""
    text = set(values.dropna().astype(str).str.strip().str.lower())
    numeric = pd.to_numeric(values, errors="coerce")
    if text and text <= {"left", "right"}:
        return "; choices look coded as words: pass --choice-coding left-right (Python: choice_coding='left-right')"
    present = set(numeric.dropna().unique())
    if present and present <= {1, 2, -1} and 2 in present:
        extra = " and --missed -1" if -1 in present else ""
        return (f"; choices look 1-coded: pass --choice-coding 1-2{extra} "
                f"(Python: choice_coding='1-2'{', missed=[-1]' if extra else ''})")
    if values.isna().any() or -1 in present:
        codes = " ".join((["nan"] if values.isna().any() else []) + (["-1"] if -1 in present else []))
        return f"; missed trials? pass --missed {codes} to mark them violations (Python: missed={codes.split()})"
    return ""


def _names(values) -> str:
    """'[a, b]' with plain str() of each value (no numpy reprs)."""
    return "[" + ", ".join(str(v) for v in values) + "]"


def _rows(mask: np.ndarray | pd.Series, index: pd.Index, limit: int = 10) -> str:
    """'rows [3, 7, 12] (and 40 more)' for the table rows where ``mask`` is true."""
    labels = list(index[np.asarray(mask, bool)])
    text = ", ".join(str(x) for x in labels[:limit])
    more = f" (and {len(labels) - limit} more)" if len(labels) > limit else ""
    return f"rows [{text}]{more}"


def validate_table(table: pd.DataFrame, kind: str | None = None) -> pd.DataFrame:
    """Check a trial table and return a clean copy, sorted by (subject, session, trial).

    Parameters
    ----------
    table : DataFrame with the columns described in :mod:`neurometarl.data.table`.
    kind : ``"bandit"``, ``"twostep"`` (requires ``transition``) or ``None`` (two-step when a
        ``transition`` column is present).

    Returns
    -------
    DataFrame (n_rows, n_columns) with ``session``, ``forced`` and ``violation`` filled in (0 when
    absent), integer codes for the binary columns (-1 where a violation trial has no value), and the
    original row labels kept as the index so errors and predictions refer to the caller's rows.

    Raises
    ------
    DataError
        For a missing column, a non-binary code, a missing or non-finite value on a non-violation
        trial, duplicated (subject, session, trial) rows, a subject with no usable trials, or a
        ``state2`` that is not a fixed function of ``choice`` and ``transition``.
    """
    if kind not in KINDS:
        raise DataError(f"kind must be one of {KINDS}, got {kind!r}")
    if not isinstance(table, pd.DataFrame):
        raise DataError(f"a trial table must be a pandas DataFrame, got {type(table).__name__}")
    if kind is None:
        kind = "twostep" if "transition" in table.columns else "bandit"
    required = REQUIRED_COLUMNS + (TWOSTEP_COLUMNS if kind == "twostep" else ())
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise DataError(
            f"the trial table lacks required column(s) {missing}; it has {list(table.columns)}. "
            f"A {kind} table needs {list(required)}"
        )
    if len(table) == 0:
        raise DataError("the trial table has no rows")
    df = table.copy()
    if isinstance(df["subject"].dtype, pd.CategoricalDtype):
        empty = [c for c in df["subject"].cat.categories if not (df["subject"] == c).any()]
        if empty:
            raise DataError(f"subject(s) {_names(empty)} have no trials (unused categories of column 'subject')")
        df["subject"] = df["subject"].astype(df["subject"].cat.categories.dtype)
    if df["subject"].isna().any():
        raise DataError(f"column 'subject' is missing at {_rows(df['subject'].isna(), df.index)}")
    if "session" not in df:
        df["session"] = 0
    for col in ("forced", "violation"):
        if col not in df:
            df[col] = 0
    for col in ("trial", "session"):
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.isna() | (values != np.round(values))
        if bad.any():
            raise DataError(f"column {col!r} must hold whole numbers; bad values at {_rows(bad, df.index)}")
        df[col] = values.astype(np.int64)
    for col in ("forced", "violation"):
        values = pd.to_numeric(df[col], errors="coerce")
        bad = ~values.isin([0, 1])
        if bad.any():
            raise DataError(f"column {col!r} must be 0 or 1; bad values {sorted(set(df.loc[bad, col].astype(str)))[:5]} at {_rows(bad, df.index)}")
        df[col] = values.astype(np.int8)
    used = df["violation"] == 0

    for col in [c for c in BINARY_COLUMNS if c in df and c not in ("forced", "violation")]:
        values = pd.to_numeric(df[col], errors="coerce")
        bad = used & ~values.isin([0, 1])
        if bad.any():
            shown = sorted(set(df.loc[bad, col].astype(str)))[:5]
            hint = _coding_hint(df.loc[used, col]) if col in ("choice", "choice2") else ""
            raise DataError(
                f"column {col!r} must be 0 or 1 ({CODES[col]}) on every non-violation trial; found {shown} at "
                f"{_rows(bad, df.index)}{hint}"
            )
        df[col] = values.where(values.isin([0, 1]), -1).astype(np.int8)
    for col in ["reward"] + [c for c in ("magnitude_left", "magnitude_right") if c in df]:
        values = pd.to_numeric(df[col], errors="coerce")
        bad = used & ~np.isfinite(values.to_numpy(float))
        if bad.any():
            raise DataError(f"column {col!r} is missing or not a finite number at {_rows(bad, df.index)}")
        df[col] = values.astype(float)

    dup = df.duplicated(["subject", "session", "trial"], keep=False)
    if dup.any():
        raise DataError(f"(subject, session, trial) is repeated at {_rows(dup, df.index)}; each trial needs one row")
    usable = df.loc[used & (df["forced"] == 0)].groupby("subject", sort=False).size()
    idle = [s for s in pd.unique(df["subject"]) if usable.get(s, 0) == 0]
    if idle:
        raise DataError(f"subject(s) {_names(idle)} have no usable trials (every row is a violation or forced)")

    df = df.sort_values(["subject", "session", "trial"], kind="stable")
    if kind == "twostep" and "state2" in df:
        canonical = np.where(df["transition"] == 1, df["choice"], 1 - df["choice"])
        same = pd.Series(canonical == df["state2"], index=df.index)[df["violation"] == 0]
        agree = same.groupby(df["subject"]).transform(lambda s: s.mean() >= 0.5)
        bad = same != agree
        if bad.any():
            raise DataError(
                "column 'state2' must follow from 'choice' and 'transition' (one fixed action→state mapping "
                f"per subject); it does not at {_rows(bad, same.index)}"
            )
    return df


def read_table(path: str | os.PathLike, kind: str | None = None, **import_options) -> pd.DataFrame:
    """Read a trial table from CSV (or tab-separated ``.tsv``/``.txt``) and validate it.

    Recognised source formats are converted first: the hBayesDM example files (``subjID`` columns)
    and the rat two-step trials file (``rat``, ``choice1`` columns; the dataset card's conversion).
    ``import_options`` (``choice_coding``, ``missed``, ``practice``) go to :func:`prepare_table`.
    """
    from .convert import convert_hbayesdm, convert_rat_twostep, detect_format

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no trial table at {path}")
    sep = "\t" if path.suffix in (".tsv", ".txt") else ","
    try:
        raw = pd.read_csv(path, sep=sep)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty (no header, no rows)") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DataError(f"{path} is not a readable {'tab' if sep == chr(9) else 'comma'}-separated table ({err})") from None
    fmt = detect_format(raw)
    if fmt == "rat_twostep":
        raw = convert_rat_twostep(raw)
    elif fmt is not None:
        raw = convert_hbayesdm(raw, fmt)
    try:
        if import_options:
            raw = prepare_table(raw, **import_options)
        return validate_table(raw, kind)
    except DataError as err:
        if fmt is None and "rows [" in str(err):  # say how the row labels map to the file's lines
            raise DataError(f"{path}: {err} (rows are data lines counted from 0: file line = row + 2)") from None
        raise DataError(f"{path}: {err}") from None


IMPORT_OPTIONS = ("choice_coding", "missed", "practice")


def as_table(data, kind: str | None = None, **options) -> pd.DataFrame:
    """A validated trial table from a DataFrame, a recording (``xarray.Dataset``) or a file path.

    ``options``: for a table, the import options of :func:`prepare_table` (``choice_coding``,
    ``missed``, ``practice``); for a recording (or a ``.nc`` path), the options of
    :func:`neurometarl.data.recording_to_table`.
    """
    import xarray as xr

    from .convert import recording_to_table

    import_options = {k: options.pop(k) for k in IMPORT_OPTIONS if k in options}
    import_options = {k: v for k, v in import_options.items() if v is not None}
    recording_options = options
    if isinstance(data, pd.DataFrame):
        return validate_table(prepare_table(data, **import_options) if import_options else data, kind)
    if isinstance(data, xr.Dataset):
        return validate_table(recording_to_table(data, **recording_options), kind)
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if path.suffix == ".nc":
            from ..lab import load_recording

            return validate_table(recording_to_table(load_recording(path), **recording_options), kind)
        return read_table(path, kind, **import_options)
    raise DataError(f"expected a trial table (DataFrame), a recording (xarray.Dataset) or a path, got {type(data).__name__}")
