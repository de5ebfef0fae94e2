"""RPEs: δ_t = r_t + γ·V_{t+1} − V_t from value and reward, aligned to trial events, checked on
hand-computed numbers (the off-by-one between "on arrival" and "after the action" is the classic bug)."""

import numpy as np
import pytest
import torch

from neurometarl.analysis import recompute_rpe, rpe_at
from neurometarl.analysis.synthetic import synthetic_recording
from neurometarl.errors import DataError
from neurometarl.lab import record_session


@pytest.fixture()
def hand():
    """One episode, two trials of (fixation, cue, outcome), with hand-set values and rewards."""
    ds = synthetic_recording(1, 2, n_units=0, periods=("fixation", "cue", "outcome"), gamma=0.9)
    ds["value"][:] = [[0.2, 0.5, 0.9, 0.1, 0.4, 0.8]]
    ds["step_reward"][:] = [[0, 0, 1, 0, 0, 1]]
    # δ by hand, γ = 0.9, V = 0 after the last step:
    # δ0 = 0 + .9·.5 − .2 = .25   δ1 = 0 + .9·.9 − .5 = .31   δ2 = 1 + .9·.1 − .9 = .19
    # δ3 = 0 + .9·.4 − .1 = .26   δ4 = 0 + .9·.8 − .4 = .32   δ5 = 1 + 0 − .8 = .20
    ds["rpe"][:] = [[0.25, 0.31, 0.19, 0.26, 0.32, 0.20]]
    return ds


def test_recompute_matches_hand_computed_td_errors(hand):
    delta = recompute_rpe(hand)
    np.testing.assert_allclose(delta.values, [[0.25, 0.31, 0.19, 0.26, 0.32, 0.20]], atol=1e-6)
    assert delta.dims == ("episode", "step")
    assert delta.attrs["gamma"] == pytest.approx(0.9)
    np.testing.assert_allclose(recompute_rpe(hand, gamma=0.0).values, [[-0.2, -0.5, 0.1, -0.1, -0.4, 0.2]], atol=1e-6)


@pytest.mark.parametrize("source", ["recorded", "recomputed"])
def test_event_alignment_by_hand(hand, source):
    after_cue = rpe_at(hand, "cue", when="after", source=source)
    onset_cue = rpe_at(hand, "cue", when="onset", source=source)
    assert after_cue.dims == ("episode", "trial")
    np.testing.assert_allclose(after_cue.values, [[0.31, 0.32]], atol=1e-6)  # δ1, δ4
    np.testing.assert_allclose(onset_cue.values, [[0.25, 0.26]], atol=1e-6)  # δ0, δ3: arriving at the cue
    np.testing.assert_allclose(rpe_at(hand, "outcome", source=source).values, [[0.19, 0.20]], atol=1e-6)
    onset_fix = rpe_at(hand, "fixation", when="onset", source=source).values
    assert np.isnan(onset_fix[0, 0])  # nothing precedes the episode's first step
    np.testing.assert_allclose(onset_fix[0, 1], 0.19, atol=1e-6)  # trial 1's fixation follows trial 0's outcome


class _ConstantCritic:
    """A minimal lab subject with a value output and a discount: the lab computes its RPE."""

    name, gamma, unit_names = "critic", 0.8, ("u",)

    def reset(self, task, generator):
        self.t = 0

    def act(self, obs, info):
        b = obs.shape[0]
        self.t += 1
        return {"policy": torch.full((b, 2), 0.5), "hidden": torch.zeros(b, 1),
                "value": torch.full((b,), 0.1 * self.t) + 0.05 * info["reward_prob"][:, 0]}

    def observe(self, action, reward, info):
        return None

    def describe(self):
        return {"name": self.name}


def test_recompute_agrees_with_the_lab_recorder():
    ds = record_session(_ConstantCritic(), "bandit-correlated", 4, seed=1)
    np.testing.assert_allclose(recompute_rpe(ds).values, ds["rpe"].values, atol=1e-5)
    # the δ at the choice of trial t uses V of trial t+1 (not t-1)
    v, r = ds["value"].values.astype(float), ds["step_reward"].values.astype(float)
    np.testing.assert_allclose(rpe_at(ds, "choice", source="recomputed").values[:, 3], r[:, 3] + 0.8 * v[:, 4] - v[:, 3], atol=1e-6)


def test_agent_rpe_at_second_stage_onset():
    """On a recurrent agent's two-step recording: the lab's δ is recomputed exactly, and the RPE on
    arriving at the second stage is δ of the first-stage choice step."""
    from neurometarl.agents import AgentSubject, TrainConfig, build_agent

    cfg = TrainConfig(task="twostep", train_episodes=1, seed=1)
    ds = record_session(AgentSubject(build_agent(cfg), cfg.gamma), "twostep", 3, seed=0)
    np.testing.assert_allclose(recompute_rpe(ds).values, ds["rpe"].values, atol=2e-6)
    periods = ds["step_period"].attrs["flag_meanings"].split()
    stage2 = periods.index("stage2")
    v, r = ds["value"].values.astype(float), ds["step_reward"].values.astype(float)
    s = 5 * len(periods) + stage2  # trial 5, second stage
    by_hand = r[:, s - 1] + cfg.gamma * v[:, s] - v[:, s - 1]
    np.testing.assert_allclose(rpe_at(ds, "stage2", when="onset").values[:, 5], by_hand, atol=2e-6)


def test_errors():
    ds = synthetic_recording(2, 3, n_units=0)
    ds.attrs["gamma"] = float("nan")
    with pytest.raises(DataError, match="pass gamma"):
        recompute_rpe(ds)
    np.testing.assert_allclose(recompute_rpe(ds, gamma=0.5).isel(step=0), ds["step_reward"][:, 0] + 0.5 * ds["value"][:, 1] - ds["value"][:, 0], atol=1e-6)
    with pytest.raises(DataError, match="when"):
        rpe_at(ds, "cue", when="before")
    with pytest.raises(DataError, match="unknown period"):
        rpe_at(ds, "reward")
