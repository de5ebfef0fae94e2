"""From a neurometarl recording (``xarray.Dataset``, see :mod:`neurometarl.lab.schema`) to the long trial
table, so that behavioural models and descriptive analyses treat agents, baselines and animals alike; and
from the source formats of registered datasets (the rats' two-step trials, the hBayesDM example files),
which both their readers (:mod:`neurometarl.data.datasets`) and :func:`~neurometarl.data.read_table` convert."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError

EPISODES_AS = ("subjects", "sessions", None)
#: the hBayesDM example formats :func:`convert_hbayesdm` reads
HBAYESDM_FORMATS = ("ts", "bandit2arm", "prl", "prl_multipleB")


def recording_to_table(ds: xr.Dataset, *, episodes_as: str | None = None, subject: str | None = None) -> pd.DataFrame:
    """One row per (episode, trial) of a recording, in the trial-table format.

    Parameters
    ----------
    ds : a recording with ``choice`` and ``reward`` on (episode, trial).
    episodes_as : ``"subjects"``: every episode is its own subject (id = the episode coordinate), one
        session each; ``"sessions"``: episodes are sessions of one subject (``subject``, or the
        recording's ``subject`` coordinate on ``episode`` when there is one, else its ``subject``
        attribute). ``None`` picks ``"sessions"`` when an episode-level ``subject`` coordinate exists
        (as in :meth:`BehaviouralModel.simulate` recordings) and ``"subjects"`` otherwise.
    subject : subject id for ``episodes_as="sessions"`` (overrides the coordinate and attribute).

    Returns
    -------
    DataFrame (n_episodes * n_trials rows) with ``subject, session, trial, choice, reward, violation``;
    two-step recordings (a ``common`` latent) add ``transition`` and ``state2``; a ``reward_prob`` latent
    adds ``reward_prob_<label>`` columns; a two-valued ``magnitude`` latent adds ``magnitude_left`` and
    ``magnitude_right``; other scalar latents are copied as they are.

    Notes
    -----
    ``choice`` is 0 for the ``left`` action and 1 for ``right``. A trial is a violation (``violation`` =
    1, choice −1) when its choice-period action was neither, or when any of its steps earned a negative
    reward (the −1 penalty for an invalid response in the fixation protocols). ``state2`` is the
    recording's ``state2`` latent when present, else the state the transition led to under the
    protocols' common mapping (left → state 0, right → state 1).
    """
    if episodes_as not in EPISODES_AS:
        raise DataError(f"episodes_as must be one of {EPISODES_AS}, got {episodes_as!r}")
    missing = [v for v in ("choice", "reward") if v not in ds]
    if missing:
        raise DataError(f"the recording lacks variable(s) {missing}; is it a neurometarl recording?")
    names = ds["choice"].attrs.get("flag_meanings", "").split() or [str(a) for a in ds.coords.get("action", [])]
    if "left" not in names or "right" not in names:
        raise DataError(f"the recording's actions {names} have no 'left' and 'right'; only two-choice protocols convert to a trial table")
    code = ds["choice"].transpose("episode", "trial").to_numpy()
    n_episodes, n_trials = code.shape
    choice = np.where(code == names.index("left"), 0, np.where(code == names.index("right"), 1, -1))
    violation = choice < 0
    if "step_reward" in ds and "step_trial" in ds.coords:
        penalised = (ds["step_reward"] < 0).groupby(ds["step_trial"].rename("trial")).any()
        violation |= penalised.transpose("episode", "trial").to_numpy()

    episode_ids = ds["episode"].to_numpy()
    has_coord = "subject" in ds.coords and ds["subject"].dims == ("episode",)
    mode = episodes_as or ("sessions" if has_coord else "subjects")
    if mode == "subjects":
        subjects = np.repeat(episode_ids, n_trials)
        sessions = np.zeros(n_episodes * n_trials, np.int64)
    else:
        if subject is not None:
            ids = np.full(n_episodes, subject, dtype=object)
        elif has_coord:
            ids = ds["subject"].to_numpy()
        else:
            ids = np.full(n_episodes, ds.attrs.get("subject", "subject"), dtype=object)
        subjects = np.repeat(ids, n_trials)
        sessions = np.repeat(episode_ids, n_trials)

    table = pd.DataFrame(
        {
            "subject": subjects,
            "session": sessions,
            "trial": np.tile(ds["trial"].to_numpy(), n_episodes),
            "choice": choice.ravel(),
            "reward": ds["reward"].transpose("episode", "trial").to_numpy().ravel().astype(float),
            "violation": violation.ravel().astype(np.int8),
        }
    )
    if "common" in ds:
        common = ds["common"].transpose("episode", "trial").to_numpy()
        table["transition"] = np.where(violation, -1, common).ravel().astype(np.int8)
        if "state2" in ds:
            state2 = ds["state2"].transpose("episode", "trial").to_numpy()
        else:
            state2 = np.where(common == 1, choice, 1 - choice)
        table["state2"] = np.where(violation, -1, state2).ravel().astype(np.int8)
        if "reward_prob" in ds and "option" in ds["reward_prob"].dims:  # a second-stage choice protocol
            periods = ds["step_period"].attrs.get("flag_meanings", "").split()
            second = ds["step_action"].isel(step=ds["step_period"].to_numpy() == periods.index("stage2"))
            code2 = second.transpose("episode", "step").to_numpy()
            choice2 = np.where(code2 == names.index("left"), 0, np.where(code2 == names.index("right"), 1, -1))
            table["choice2"] = np.where(violation, -1, choice2).ravel().astype(np.int8)
    for name, var in ds.data_vars.items():
        dims = var.dims
        if dims[:2] != ("episode", "trial") or name in ("choice", "reward", "common", "state2"):
            continue
        if len(dims) == 2:
            table[name] = var.transpose("episode", "trial").to_numpy().ravel()
        elif len(dims) == 3:
            labels = [str(x) for x in ds[dims[2]].to_numpy()]
            values = var.transpose("episode", "trial", dims[2]).to_numpy().reshape(n_episodes * n_trials, -1)
            if name == "magnitude" and len(labels) == 2:
                labels = ["left", "right"]
            for j, label in enumerate(labels):
                table[f"{name}_{label}"] = values[:, j]
    return table


# --- source formats of registered datasets (:mod:`neurometarl.data.datasets`) ----------------------
def convert_rat_twostep(raw: pd.DataFrame) -> pd.DataFrame:
    """The rats' trials (:func:`~neurometarl.data.datasets.read_rat_twostep_mat`, or a CSV with its columns) as a
    trial table.

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
    raise DataError(f"unknown hBayesDM format {fmt!r}; known: {list(HBAYESDM_FORMATS)}")
