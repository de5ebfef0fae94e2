"""From a neurometarl recording (``xarray.Dataset``, see :mod:`neurometarl.lab.schema`) to the long trial
table, so that behavioural models and descriptive analyses treat agents, baselines and animals alike."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError

EPISODES_AS = ("subjects", "sessions", None)


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
