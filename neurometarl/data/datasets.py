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
from .convert import HBAYESDM_FORMATS, convert_hbayesdm, convert_rat_twostep
from .registry import fetch
from .table import validate_table

HBAYESDM_FILES = {name: f"{name}_exampleData.txt" for name in HBAYESDM_FORMATS}


# --- the rat two-step data (Miller, Botvinick & Brody 2022) ------------------------------------
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
def load_hbayesdm(name: str, data_dir: str | Path | None = None) -> pd.DataFrame:
    """One hBayesDM example file (``'ts'``, ``'bandit2arm'``, ``'prl'``, ``'prl_multipleB'``) as a
    validated trial table; see :func:`~neurometarl.data.convert.convert_hbayesdm` for the codes."""
    if name not in HBAYESDM_FILES:
        raise DataError(f"unknown hBayesDM example {name!r}; choose from {list(HBAYESDM_FILES)}")
    raw = pd.read_csv(fetch("hbayesdm", HBAYESDM_FILES[name], data_dir), sep="\t")
    return validate_table(convert_hbayesdm(raw, name), "twostep" if name == "ts" else "bandit")


#: trial tables by the name the command line takes (``neurometarl fit MODEL rat-twostep``): name → loader
TABLES = {
    "rat-twostep": load_rat_twostep,
    **{f"hbayesdm-{name}": (lambda name=name: load_hbayesdm(name)) for name in HBAYESDM_FILES},
}
