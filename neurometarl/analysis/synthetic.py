"""Synthetic recordings with known ground truth, to validate the unit analyses.

* :func:`synthetic_recording` builds a schema-valid recording with several periods per trial
  (fixation, cue, choice, outcome by default), random choices and rewards, a value trace, its TD
  errors and noise units: the format of a trained network's recording with nothing learnt in it.
* :func:`plant_units` replaces a recording's units with noise units, a known fraction of which
  encode a regressor: the planted-signal test of the unit regression.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from ..errors import DataError
from ..lab.schema import SCHEMA_VERSION, flag_attrs, provenance, step_coords
from ..lab.session import compute_rpe
from ..seeding import make_rng
from .align import steps_per_trial
from .regressors import Latents, regressor

__all__ = ["synthetic_recording", "plant_units"]


def synthetic_recording(n_episodes: int = 50, n_trials: int = 20, *, n_units: int = 8,
                        periods: Sequence[str] = ("fixation", "cue", "choice", "outcome"),
                        actions: Sequence[str] = ("centre", "left", "right"), gamma: float = 0.9,
                        seed: int = 0) -> xr.Dataset:
    """A recording in the lab's format with random behaviour and Gaussian noise units.

    The choice (left or right at random) is made at the ``'choice'`` period (the last period when there
    is none), every other step answers ``actions[0]``; the reward (Bernoulli with the chosen arm's
    probability, arms p and 1 − p drawn per episode) is paid after the last period. ``value`` is a
    random walk and ``rpe`` its TD error with ``gamma``.

    Returns
    -------
    xarray.Dataset (episode, trial, step, unit, action, arm) that passes ``validate_recording``.
    """
    if n_episodes < 1 or n_trials < 1 or n_units < 0:
        raise DataError(f"need n_episodes, n_trials >= 1 and n_units >= 0; got {n_episodes}, {n_trials}, {n_units}")
    rng = make_rng(seed)
    periods, actions = list(periods), list(actions)
    spt = len(periods)
    n_steps = n_trials * spt
    choice_p = periods.index("choice") if "choice" in periods else spt - 1
    sides = [a for a in ("left", "right") if a in actions] or actions[-2:]
    p_left = rng.uniform(size=n_episodes)
    probs = np.stack([p_left, 1 - p_left], -1)
    choice_side = rng.integers(0, 2, size=(n_episodes, n_trials))
    choice = np.array([actions.index(sides[s]) for s in range(2)])[choice_side].astype(np.int8)
    reward = (rng.uniform(size=(n_episodes, n_trials)) < np.take_along_axis(probs, choice_side, 1)).astype(np.float32)
    step_action = np.zeros((n_episodes, n_steps), np.int8)
    step_action[:, choice_p::spt] = choice
    step_reward = np.zeros((n_episodes, n_steps), np.float32)
    step_reward[:, spt - 1::spt] = reward
    value = (0.5 + 0.1 * rng.standard_normal((n_episodes, n_steps)).cumsum(1) / np.sqrt(np.arange(1, n_steps + 1))).astype(np.float32)
    policy = np.full((n_episodes, n_steps, len(actions)), 1.0 / len(actions), np.float32)
    ES, ET = ("episode", "step"), ("episode", "trial")
    data = {
        "choice": (ET, choice, {"long_name": "choice", "units": "1", **flag_attrs(actions)}),
        "reward": (ET, reward, {"long_name": "reward earned in the trial", "units": "reward"}),
        "step_action": (ES, step_action, {"long_name": "action at each step", "units": "1", **flag_attrs(actions)}),
        "step_reward": (ES, step_reward, {"long_name": "reward after the step's action", "units": "reward"}),
        "policy": ((*ES, "action"), policy, {"long_name": "action probabilities", "units": "1"}),
        "value": (ES, value, {"long_name": "state value V_t", "units": "reward"}),
        "rpe": (ES, compute_rpe(value, step_reward, gamma).astype(np.float32),
                {"long_name": "reward prediction error δ_t = r_t + γ·V_{t+1} − V_t", "units": "reward"}),
        "reward_prob": ((*ET, "arm"), np.repeat(probs[:, None, :], n_trials, 1).astype(np.float32),
                        {"long_name": "reward probability of each arm", "units": "1"}),
    }
    coords = {
        "episode": np.arange(n_episodes), "trial": np.arange(n_trials), **step_coords(n_trials, periods),
        "action": actions, "arm": sides,
    }
    if n_units:
        data["hidden"] = ((*ES, "unit"), rng.standard_normal((n_episodes, n_steps, n_units)).astype(np.float32),
                          {"long_name": "unit activity", "units": "a.u."})
        coords["unit"] = [f"u{i}" for i in range(n_units)]
    ds = xr.Dataset(data, coords=coords)
    ds.attrs = provenance(task="synthetic", task_config="{}", subject="synthetic-noise", subject_config="{}",
                          seed=int(seed) if isinstance(seed, (int, np.integer)) else 0, gamma=float(gamma),
                          schema_version=SCHEMA_VERSION)
    return ds


def plant_units(ds: xr.Dataset, coded: str | np.ndarray | xr.DataArray, *, n_units: int = 100, fraction: float = 0.3,
                effect: float = 0.5, noise: float = 1.0, period: str | None = None, latents: Latents = None,
                seed: int | np.random.Generator | None = 0) -> tuple[xr.Dataset, np.ndarray]:
    """Replace the recording's units with ``n_units`` Gaussian noise units, ``fraction`` of which add
    ``effect`` × (z-scored ``coded``) on every step of each trial (or only at ``period``).

    Parameters
    ----------
    ds : a recording.
    coded : the regressor the coding units carry (a name such as ``'value'``, or an array (episode, trial)).
    n_units, fraction : units made, and the fraction (rounded) that code; signs of the effect are random.
    effect, noise : coding amplitude per s.d. of the regressor; s.d. of the noise.
    period : only steps of this period carry the signal (default every step).

    Returns
    -------
    (recording with the new ``hidden``, boolean array (unit,) marking the coding units).
    """
    if not 0 <= fraction <= 1:
        raise DataError(f"fraction must lie in [0, 1], got {fraction}")
    rng = make_rng(seed)
    x = (regressor(ds, coded, latents=latents) if isinstance(coded, str)
         else xr.DataArray(np.asarray(coded, float), dims=("episode", "trial"))).values
    x = np.nan_to_num((x - np.nanmean(x)) / np.nanstd(x))
    spt = steps_per_trial(ds)
    coding = np.zeros(n_units, bool)
    coding[rng.choice(n_units, int(round(fraction * n_units)), replace=False)] = True
    weights = np.where(coding, effect * rng.choice([-1.0, 1.0], n_units), 0.0)
    signal = np.repeat(x, spt, axis=1)  # (episode, step)
    if period is not None:
        names = ds["step_period"].attrs["flag_meanings"].split()
        signal = signal * (ds["step_period"].values == names.index(period))[None, :]
    hidden = signal[..., None] * weights + noise * rng.standard_normal(signal.shape + (n_units,))
    out = ds.drop_vars([v for v in ("hidden", "cell") if v in ds]).drop_dims("unit", errors="ignore")
    out["hidden"] = (("episode", "step", "unit"), hidden.astype(np.float32),
                     {"long_name": "unit activity (planted)", "units": "a.u."})
    out = out.assign_coords(unit=[f"u{i}" for i in range(n_units)])
    out.attrs = {**ds.attrs, "planted": str(coded) if isinstance(coded, str) else "array", "planted_fraction": float(coding.mean())}
    return out, coding
