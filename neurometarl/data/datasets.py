"""Readers that turn registered datasets (:mod:`neurometarl.data.registry`) into the trial table of
:mod:`neurometarl.data.table`. Nothing here is shipped: files come from the data directory, pooch's
cache or their pinned source, each checked against its SHA-256.

- ``rat-twostep``: 6 rats, 36,413 two-step trials (Miller, Botvinick & Brody 2022; MIT), read from the
  authors' ``ofc_physdata.mat``; :func:`load_rat_twostep`.
- ``hbayesdm``: the hBayesDM example files (GPL-3.0): two-step (``ts``), two-armed bandit
  (``bandit2arm``), reversal (``prl``, ``prl_multipleB``); :func:`load_hbayesdm`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from .registry import fetch
from .table import validate_table

HBAYESDM_FILES = {
    "ts": "ts_exampleData.txt",
    "bandit2arm": "bandit2arm_exampleData.txt",
    "prl": "prl_exampleData.txt",
    "prl_multipleB": "prl_multipleB_exampleData.txt",
}


# --- the rat two-step data (Miller, Botvinick & Brody 2022) ------------------------------------
def convert_rat_twostep(raw: pd.DataFrame) -> pd.DataFrame:
    """The rats' trials (:func:`read_rat_twostep_mat`, or a CSV with its columns) as a trial table.

    choice = first-step port (``l`` → 0, ``r`` → 1); state2 = second-step port visited (same codes);
    transition = ``common``; forced = ``forced``; violation = ``violation`` or no second-step port
    visited (``choice2 == 'v'``, the card's violation code for ``sides2``). The source columns
    ``left_reward_prob``, ``right_reward_prob``, ``bad_timing`` and ``p_congruent_rat`` are kept.
    """
    sides = {"l": 0, "r": 1}
    bad = ~raw["choice1"].isin(list(sides))
    if bad.any():
        raise DataError(f"column 'choice1' must be 'l' or 'r'; found {sorted(set(raw.loc[bad, 'choice1'].astype(str)))} at rows {list(raw.index[bad][:10])}")
    out = pd.DataFrame(
        {
            "subject": raw["rat"].astype(str),
            "session": raw["session"],
            "trial": raw["trial_in_session"],
            "choice": raw["choice1"].map(sides),
            "reward": raw["reward"],
            "transition": raw["common"],
            "state2": raw["choice2"].map(sides).fillna(-1).astype(int),
            "forced": raw["forced"],
            "violation": ((raw["violation"] == 1) | (raw["choice2"] == "v")).astype(int),
        },
        index=raw.index,
    )
    for col in ("left_reward_prob", "right_reward_prob", "bad_timing", "p_congruent_rat"):
        if col in raw:
            out[col] = raw[col]
    return out


def read_rat_twostep_mat(path: str | Path) -> pd.DataFrame:
    """The rats' trials from the authors' ``ofc_physdata.mat`` (MATLAB v7.3, read with h5py), one row a trial.

    Columns as the authors' fields, renamed: ``rat`` (``ratname``), ``session`` (counted from ``new_sess``,
    1-based per rat), ``trial_in_session`` (1-based), ``choice1``/``choice2`` (``sides1``/``sides2``:
    ``l``, ``r``, ``v`` = violation), ``forced`` (1 where ``better_choices`` is NaN, the source repository's
    definition of instructed trials), ``common`` (``trans_common``), ``reward`` (``rewards``),
    ``left_reward_prob``/``right_reward_prob`` (``leftprobs``/``rightprobs``), ``violation`` (``viols``),
    ``bad_timing`` and ``p_congruent_rat`` (``p_congruent``). No trial is dropped, no value changed.
    """
    import h5py

    def text(group, key) -> str:
        return "".join(map(chr, np.asarray(group[key]).ravel()))

    frames = []
    try:
        with h5py.File(path, "r") as handle:
            for ref in handle["ratdatas"][0]:
                rat = handle[ref]
                field = lambda key, rat=rat: np.asarray(rat[key], dtype=float).ravel()  # noqa: E731
                new_session = field("new_sess") == 1
                session = np.cumsum(new_session)
                first = np.flatnonzero(new_session)
                frames.append(pd.DataFrame({
                    "rat": text(rat, "ratname"),
                    "session": session,
                    "trial_in_session": np.arange(session.size) - first[session - 1] + 1,
                    "choice1": list(text(rat, "sides1")),
                    "choice2": list(text(rat, "sides2")),
                    "forced": np.isnan(field("better_choices")).astype(int),
                    "common": field("trans_common").astype(int),
                    "reward": field("rewards").astype(int),
                    "left_reward_prob": field("leftprobs"),
                    "right_reward_prob": field("rightprobs"),
                    "violation": field("viols").astype(int),
                    "bad_timing": field("bad_timing").astype(int),
                    "p_congruent_rat": field("p_congruent")[0],
                }))
    except (OSError, KeyError) as err:
        raise DataError(f"{path} is not the rat two-step ofc_physdata.mat ({err})") from None
    return pd.concat(frames, ignore_index=True)


def load_rat_twostep(data_dir: str | Path | None = None) -> pd.DataFrame:
    """The rat two-step trials as a validated trial table (all 36,413 trials, flags kept).

    The dataset card's exclusions are flags, applied where they matter: models skip ``violation``
    trials and do not score ``forced`` choices; :func:`neurometarl.analysis.behaviour.stay_probabilities`
    keeps a trial pair only when the current trial is free-choice, both are non-violation and both
    are in the same session. ``data_dir`` overrides the data directory setting.
    """
    raw = read_rat_twostep_mat(fetch("rat-twostep", "ofc_physdata.mat", data_dir))
    return validate_table(convert_rat_twostep(raw), "twostep")


# --- hBayesDM example files ---------------------------------------------------------------------
def detect_format(raw: pd.DataFrame) -> str | None:
    """``'rat_twostep'``, an hBayesDM format name, or ``None`` for a table already in our format."""
    cols = set(raw.columns)
    if {"rat", "choice1", "choice2", "common"} <= cols:
        return "rat_twostep"
    if {"subjID", "level1_choice", "level2_choice", "reward"} <= cols:
        return "ts"
    if {"subjID", "block", "choice", "outcome"} <= cols:
        return "prl_multipleB"
    if {"subjID", "choice", "outcome"} <= cols:
        return "bandit2arm"  # the two-armed bandit and the single-block reversal files share this layout
    return None


def convert_hbayesdm(raw: pd.DataFrame, fmt: str) -> pd.DataFrame:
    """Convert an hBayesDM example table to a trial table.

    - ``ts`` (two-step): choice = ``level1_choice`` − 1; state2 = 0 for ``level2_choice`` ∈ {1, 2}
      (the state commonly reached from level-1 choice 1), 1 for {3, 4}; choice2 = (level2 − 1) mod 2;
      transition = 1 where state2 equals choice (70 % common).
    - ``bandit2arm``/``prl``: choice = ``choice`` − 1, reward = 1 for a positive ``outcome`` (+1), 0 for
      a negative one (−1); the raw ``outcome`` is kept.
    - ``prl_multipleB``: as ``prl``, with ``block`` as the session (outcomes ±25).
    """
    for col in ("level1_choice", "choice"):
        if col in raw:
            bad = ~raw[col].isin([1, 2])
            if bad.any():
                raise DataError(f"column {col!r} must be 1 or 2 in hBayesDM files; bad values at rows {list(raw.index[bad][:10])}")
    if fmt == "ts":
        if (~raw["level2_choice"].isin([1, 2, 3, 4])).any():
            raise DataError("column 'level2_choice' must be 1-4 in the hBayesDM two-step format")
        choice = raw["level1_choice"] - 1
        state2 = (raw["level2_choice"] > 2).astype(int)
        out = pd.DataFrame(
            {
                "subject": raw["subjID"],
                "trial": raw["trial"],
                "choice": choice,
                "reward": raw["reward"],
                "transition": (state2 == choice).astype(int),
                "state2": state2,
                "choice2": (raw["level2_choice"] - 1) % 2,
            },
            index=raw.index,
        )
        for col in ("A1prob", "A2prob", "B1prob", "B2prob"):
            if col in raw:
                out[col] = raw[col]
        return out
    if fmt in ("bandit2arm", "prl", "prl_multipleB"):
        out = pd.DataFrame(
            {
                "subject": raw["subjID"],
                "trial": raw["trial"],
                "choice": raw["choice"] - 1,
                "reward": (raw["outcome"] > 0).astype(float).where(raw["outcome"].notna()),
                "outcome": raw["outcome"],
            },
            index=raw.index,
        )
        if fmt == "prl_multipleB":
            out.insert(1, "session", raw["block"])
        return out
    raise DataError(f"unknown hBayesDM format {fmt!r}; known: {list(HBAYESDM_FILES)}")


def load_hbayesdm(name: str, data_dir: str | Path | None = None) -> pd.DataFrame:
    """One hBayesDM example file (``'ts'``, ``'bandit2arm'``, ``'prl'``, ``'prl_multipleB'``) as a
    validated trial table; see :func:`convert_hbayesdm` for the codes."""
    if name not in HBAYESDM_FILES:
        raise DataError(f"unknown hBayesDM example {name!r}; choose from {list(HBAYESDM_FILES)}")
    raw = pd.read_csv(fetch("hbayesdm", HBAYESDM_FILES[name], data_dir), sep="\t")
    return validate_table(convert_hbayesdm(raw, name), "twostep" if name == "ts" else "bandit")


#: trial tables by the name the command line takes (``neurometarl fit MODEL rat-twostep``): name → loader
TABLES = {
    "rat-twostep": load_rat_twostep,
    **{f"hbayesdm-{name}": (lambda name=name: load_hbayesdm(name)) for name in HBAYESDM_FILES},
}
