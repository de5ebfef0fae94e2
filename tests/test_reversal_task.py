"""The cue-reversal protocol (Sim 3): trial structure, rewards and penalties, reversal statistics in
the reset and stream variants, and the latents the analysis needs."""

import numpy as np
import pytest
import torch

from neurometarl.errors import ConfigError
from neurometarl.lab import record_session
from neurometarl.seeding import make_generator
from neurometarl.tasks import TASKS, make_task
from neurometarl.tasks.reversal import CENTRE, LEFT, RIGHT


def play(task, respond, seed=0):
    """Step every step of ``task``; ``respond(info)`` gives the (batch,) actions. Returns per-step
    rewards (batch, step) and per-trial latents read at the response step (batch, trial)."""
    obs, info = task.reset(make_generator(seed))
    rewards, latents = [], {k: [] for k in task.latents}
    observations = []
    for step in range(task.n_steps):
        if step % 4 == 2:
            for k in task.latents:
                latents[k].append(info[k].numpy())
        observations.append(obs.numpy())
        obs, r, done, info = task.step(respond(info))
        rewards.append(r.numpy())
    assert bool(done.all())
    return np.stack(rewards, 1), {k: np.stack(v, 1) for k, v in latents.items()}, np.stack(observations, 1)


def valid(info):
    return info["valid_actions"].float().argmax(1)


def test_registered_and_shaped():
    reset, stream = make_task("reversal", 3), make_task("reversal-stream", 3)
    assert reset.period_names == ("fixation", "cue", "response", "outcome") and reset.choice_period == "response"
    assert reset.action_names == ("centre", "left", "right")
    assert (reset.n_trials, reset.n_steps) == (5, 20)
    assert (stream.n_trials, stream.n_steps) == (50, 200)  # the paper's BPTT length
    assert TASKS["reversal"].config.reversal_prob == 0.5
    with pytest.raises(ConfigError, match="multiple of episode_trials"):
        make_task("reversal", 2, n_trials=7)
    with pytest.raises(ConfigError, match="reversal_prob"):
        make_task("reversal", 2, reversal_prob=1.5)


def test_valid_play_pays_exactly_on_the_rewarded_cue():
    task = make_task("reversal-stream", 64)
    rewards, lat, obs = play(task, valid)
    assert rewards.min() == 0  # a valid player is never penalised
    outcome = rewards[:, 3::4]
    assert np.array_equal(outcome, (lat["cue"] == lat["rewarded_cue"]).astype(float))
    assert rewards[:, [0, 1, 2]].sum() == 0  # only the outcome step pays
    # the cue is shown at the cue and response steps, with the go signal at the response
    cue_obs = obs[:, 1::4, 1:3].argmax(-1)
    assert np.array_equal(cue_obs, lat["cue"]) and (obs[:, 2::4, 3] == 1).all() and (obs[:, 1::4, 3] == 0).all()


def test_invalid_responses_cost_minus_one_and_forfeit_the_reward():
    task = make_task("reversal", 200)
    # answer the opposite of the cue at the response step, centre elsewhere
    def wrong(info):
        a = torch.full((task.batch_size,), CENTRE)
        if task.t % 4 == 2:
            a = RIGHT - info["cue"].long()
        return a
    rewards, _, _ = play(task, wrong)
    assert (rewards[:, 2::4] == -1).all() and (rewards[:, 3::4] == 0).all()
    assert (play(task, lambda info: torch.full((task.batch_size,), LEFT))[0][:, 0::4] == -1).all()


def test_reversal_statistics_reset_mode():
    task = make_task("reversal", 4000)
    _, lat, _ = play(task, valid, seed=3)
    # fixed within the episode, reversed against the (unseen) previous episode with probability 0.5
    assert (lat["rewarded_cue"] == lat["rewarded_cue"][:, :1]).all()
    reversed_ = lat["reversed"][:, 0]
    assert np.array_equal(reversed_, (lat["rewarded_cue"][:, 0] != lat["previous_rewarded_cue"][:, 0]).astype(float))
    assert abs(reversed_.mean() - 0.5) < 0.03 and abs(lat["cue"].mean() - 0.5) < 0.02
    assert (lat["episode_index"] == 0).all() and np.array_equal(lat["episode_trial"][0], np.arange(5))


def test_stream_carries_the_assignment_across_episodes():
    task = make_task("reversal-stream", 500)
    _, lat, _ = play(task, valid, seed=4)
    per_episode = lat["rewarded_cue"].reshape(500, 10, 5)
    assert (per_episode == per_episode[..., :1]).all()
    previous = lat["previous_rewarded_cue"].reshape(500, 10, 5)[..., 0]
    assert np.array_equal(previous[:, 1:], per_episode[:, :-1, 0])  # judged against the previous episode
    flips = lat["reversed"].reshape(500, 10, 5)[:, 1:, 0]
    assert abs(flips.mean() - 0.5) < 0.03
    assert np.array_equal(lat["episode_index"][0], np.repeat(np.arange(10), 5))


def test_recording_carries_the_latents_for_the_analysis():
    from neurometarl.agents import AgentSubject, TrainConfig
    from neurometarl.agents.a2c import build_agent

    untrained = AgentSubject(build_agent(TrainConfig(task="reversal")), gamma=0.9)
    ds = record_session(untrained, "reversal", 20, seed=0)
    for name in ("cue", "rewarded_cue", "previous_rewarded_cue", "reversed", "episode_trial"):
        assert ds[name].dims == ("episode", "trial") and "long_name" in ds[name].attrs
    assert ds["step_period"].attrs["flag_meanings"] == "fixation cue response outcome"
    assert ds.sizes["step"] == 20 and ds.sizes["trial"] == 5
