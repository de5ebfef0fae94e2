"""The lab's perturbation API: zero perturbations change nothing, δ manipulations act only on their
events, silencing and input removal do what they say, and every perturbation lands in the attrs."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr

from neurometarl.agents import AgentSubject, TrainConfig, build_agent, train
from neurometarl.errors import ConfigError
from neurometarl.lab import (ClampRPE, ClampUnits, Event, RemoveInput, ShiftRPE, SilenceUnits, perturb,
                             record_session)
from neurometarl.lab.perturb import condition_from_dict
from neurometarl.tasks import make_task

SHIPPED = Path(__file__).resolve().parents[1] / "datasets" / "checkpoints" / "fig1" / "correlated"


def _strip(ds):
    ds = ds.copy()
    ds.attrs = {k: v for k, v in ds.attrs.items() if k not in ("created", "perturbations")}
    return ds


@pytest.fixture(scope="module")
def actor_critic():
    cfg = TrainConfig(task="risk", architecture="actor-critic", n_units=16)
    return AgentSubject(build_agent(cfg), cfg.gamma)


@pytest.fixture(scope="module")
def bandit_agent():
    """A small agent trained briefly on easy correlated bandits, p = {0.1, 0.9} (well above chance)."""
    cfg = TrainConfig(task="bandit-correlated-easy", n_units=32, train_episodes=6400, eval_episodes=0, batch_size=64,
                      task_options='{"n_trials": 20}')
    return AgentSubject(train(cfg, progress=False).agent, cfg.gamma)


def test_zero_rpe_perturbation_leaves_recording_bit_identical(actor_critic):
    task = make_task("risk", 100)
    control = record_session(actor_critic, task, 200, seed=5)
    zero = ShiftRPE(0.0, Event(action="risky_action", reward_min=4.0))
    perturbed = record_session(perturb(actor_critic, zero), task, 200, seed=5)
    xr.testing.assert_identical(_strip(control), _strip(perturbed))
    assert "perturbations" not in control.attrs
    assert json.loads(perturbed.attrs["perturbations"]) == [
        {"kind": "shift_rpe", "amount": 0.0,
         "when": {"action": "risky_action", "reward_min": 4.0, "reward_max": None, "period": None}}]


def test_rpe_shift_acts_from_the_first_matching_outcome_only(actor_critic):
    task = make_task("risk", 100)
    control = record_session(actor_critic, task, 200, seed=5)
    event = Event(action="safe_action", reward_min=0.0)
    shifted = record_session(perturb(actor_critic, ShiftRPE(-1.0, event)), task, 200, seed=5)
    # the policy is unchanged up to and including the step of the first safe payoff, different after
    chose_safe = (control.step_action == control.safe_action.isel(trial=control.step_trial)) & (control.step_reward >= 0)
    first = chose_safe.argmax("step").values
    diff = np.abs(shifted.policy - control.policy).max("action").values
    for e in range(20):
        if chose_safe.isel(episode=e).any():
            assert diff[e, : first[e] + 1].max() == 0 and diff[e, first[e] + 1] > 0
    # the critic (and so the recorded RPE of the value) is untouched at that first step after the event
    e = int(np.argmax(chose_safe.any("step").values))
    assert control.value.values[e, first[e] + 1] == shifted.value.values[e, first[e] + 1]
    clamped = record_session(perturb(actor_critic, ClampRPE(0.0)), task, 50, seed=5)
    assert not np.array_equal(clamped.policy.values, control.policy.values[:50])


def test_rpe_perturbations_need_an_actor_fed_by_delta(bandit_agent):
    with pytest.raises(ConfigError, match="actor-critic"):
        perturb(bandit_agent, ShiftRPE(1.0))
    with pytest.raises(ConfigError, match="channel"):
        RemoveInput("smell")
    with pytest.raises(ConfigError, match="out of range"):
        perturb(bandit_agent, SilenceUnits((99,)))
    with pytest.raises(ConfigError, match="neither an action"):
        record_session(perturb(build_subject_risk(), ShiftRPE(1.0, Event(action="jump"))), "risk", 10)


def build_subject_risk():
    cfg = TrainConfig(task="risk", architecture="actor-critic", n_units=8)
    return AgentSubject(build_agent(cfg), cfg.gamma)


def test_silencing_every_unit_leaves_a_constant_policy(bandit_agent):
    silenced = record_session(perturb(bandit_agent, SilenceUnits(tuple(range(32)))), "bandit-correlated", 50, seed=1)
    assert np.all(silenced.hidden.values == 0)
    expected = torch.softmax(bandit_agent.agent.policy_head.bias, 0).detach().numpy()
    np.testing.assert_allclose(silenced.policy.values, np.broadcast_to(expected, silenced.policy.shape), rtol=1e-6)
    clamped = record_session(perturb(bandit_agent, ClampUnits(("unit000", "unit003"), 0.5)), "bandit-correlated", 20, seed=1)
    assert np.all(clamped.hidden.sel(unit=["unit000", "unit003"]).values == 0.5)
    assert json.loads(clamped.attrs["perturbations"])[0]["units"] == ["unit000", "unit003"]


def _best_arm(ds):
    p = ds.reward_prob.values
    return float(((p[..., 1] > p[..., 0]).astype(int) == ds.choice.values).mean())


def test_removing_the_reward_input_drops_bandit_performance_to_chance(bandit_agent):
    task = make_task("bandit-correlated-easy", 1000, n_trials=20)
    intact = record_session(bandit_agent, task, 2000, seed=2)
    lesioned = record_session(perturb(bandit_agent, RemoveInput("reward")), task, 2000, seed=2)
    assert _best_arm(intact) > 0.75
    assert abs(_best_arm(lesioned) - 0.5) < 0.02
    assert abs(float(lesioned.reward.mean()) - 0.5) < 0.02


@pytest.mark.skipif(not (SHIPPED / "seed0" / "checkpoint.pt").is_file(), reason="shipped Fig. 1 checkpoint absent")
def test_removing_reward_input_on_the_shipped_fig1_agent():
    subject = AgentSubject.from_checkpoint(SHIPPED / "seed0")
    intact = record_session(subject, "bandit-correlated", 500, seed=3)
    lesioned = record_session(perturb(subject, RemoveInput("reward")), "bandit-correlated", 500, seed=3)
    assert _best_arm(intact) > 0.85 and float(intact.reward.mean()) > 0.7
    assert abs(_best_arm(lesioned) - 0.5) < 0.03 and abs(float(lesioned.reward.mean()) - 0.5) < 0.03


def test_perturbations_round_trip_through_their_json():
    for p in (ShiftRPE(-4.0, Event(action="risky_action", reward_min=4.0)), ClampRPE(0.5, Event(period="choice")),
              SilenceUnits((1, 2)), ClampUnits(("unit000",), 1.0), RemoveInput("reward")):
        assert condition_from_dict(json.loads(json.dumps(p.to_dict()))) == p
