"""The Harlow task: trial structure, rewards, disjoint object pools, both observation modes, baselines."""

import numpy as np
import pytest
import torch

from neurometarl.errors import ConfigError
from neurometarl.lab import record_session
from neurometarl.models.harlow import ObjectValueLearner, ideal_one_shot_learner
from neurometarl.seeding import make_generator
from neurometarl.tasks import make_task, task_config
from neurometarl.tasks.harlow import object_pool


def _play(name, policy, batch=64, seed=0):
    task = make_task(name, batch)
    obs, info = task.reset(make_generator(seed))
    rewards, infos, observations = [], [], []
    for _ in range(task.n_steps):
        observations.append(obs)
        infos.append(info)
        obs, reward, done, info = task.step(policy(info))
        rewards.append(reward)
    assert bool(done.all())
    return task, torch.stack(rewards, 1), infos, observations


def correct(info):
    return torch.where(info["period"] == 0, 0, info["correct_action"])


@pytest.mark.parametrize("name", ["harlow", "harlow-pixel"])
def test_perfect_play_earns_fixation_and_correct_rewards(name):
    task, rewards, infos, _ = _play(name, correct)
    assert task.n_trials == 6 and task.steps_per_trial == 2
    assert torch.allclose(rewards[:, 0::2], torch.tensor(0.2)) and torch.all(rewards[:, 1::2] == 1)


def test_wrong_and_invalid_responses_cost_one():
    wrong = lambda info: torch.where(info["period"] == 0, 0, 3 - info["correct_action"])
    _, rewards, _, _ = _play("harlow", wrong)
    assert torch.all(rewards[:, 1::2] == -1)
    _, rewards, _, _ = _play("harlow", lambda info: torch.zeros_like(info["period"]))  # centre at the choice
    assert torch.all(rewards[:, 1::2] == -1)
    _, rewards, _, _ = _play("harlow", lambda info: torch.ones_like(info["period"]))  # a side at fixation
    assert torch.all(rewards[:, 0::2] == -1)


def test_objects_fixed_within_episode_placement_random_and_new_each_episode():
    _, _, infos, _ = _play("harlow", correct, batch=400)
    choice = [i for i in infos if int(i["period"][0]) == 1]
    pairs = [torch.sort(torch.stack([i["object_left"], i["object_right"]], 1), 1).values for i in choice]
    assert all(torch.equal(pairs[0], p) for p in pairs[1:])  # the same two objects all episode
    assert torch.all(pairs[0][:, 0] != pairs[0][:, 1])
    right = torch.stack([i["correct_action"] == 2 for i in choice]).float()
    assert 0.4 < right.mean() < 0.6  # rewarded object placed left or right at random
    assert len(set(pairs[0][:, 0].tolist())) > 300  # new objects per episode


def test_held_out_pool_is_disjoint_from_training_pool():
    for mode in ("abstract", "pixel"):
        pool = object_pool(mode, 200, 8, 2018)
        flat = pool.reshape(len(pool), -1)
        assert len({row.tobytes() for row in flat}) == len(flat)  # every object distinct, so the halves share none
    _, _, train_infos, _ = _play("harlow", correct)
    _, _, held_infos, _ = _play("harlow-held-out", correct)
    n = task_config("harlow").n_objects
    assert int(train_infos[1]["object_left"].max()) < n <= int(held_infos[1]["object_left"].min())
    assert int(held_infos[1]["held_out"][0]) == 1


def test_observations_show_the_objects_in_their_slots():
    task, _, infos, observations = _play("harlow", correct)
    pool = object_pool("abstract", task.config.n_objects, task.config.n_features, task.config.pool_seed)
    obs, info = observations[1], infos[1]
    d = task.config.n_features
    assert np.allclose(obs[:, 1:1 + d].numpy(), pool[info["object_left"].numpy()])
    assert np.allclose(obs[:, 1 + d:].numpy(), pool[info["object_right"].numpy()])
    assert torch.all(observations[0][:, 0] == 1) and torch.all(observations[0][:, 1:] == 0)  # fixation: cue only
    pixel, _, pinfos, pobs = _play("harlow-pixel", correct)
    assert pixel.obs_shape == (1, 16, 32) and pobs[1].shape == (64, 512)
    images = object_pool("pixel", pixel.config.n_objects, 8, pixel.config.pool_seed)
    screen = pobs[1].reshape(-1, 16, 32).numpy()
    assert np.allclose(screen[:, :, :16], images[pinfos[1]["object_left"].numpy()])


def test_config_errors_are_clear():
    with pytest.raises(ConfigError, match="mode"):
        task_config("harlow", mode="3d")
    with pytest.raises(ConfigError, match="pool"):
        task_config("harlow", pool="test")


def test_baselines_learn_each_problem_from_scratch():
    ideal = record_session(ideal_one_shot_learner(), "harlow-held-out", 1000, seed=0)
    by_trial = 100 * (ideal.choice == ideal.correct_action).mean("episode").values
    assert 45 < by_trial[0] < 55 and np.all(by_trial[1:] == 100)
    rw = record_session(ObjectValueLearner(0.5, 3.0), "harlow-held-out", 1000, seed=0)
    rw_trial = 100 * (rw.choice == rw.correct_action).mean("episode").values
    assert 45 < rw_trial[0] < 55 and 70 < rw_trial[1] < by_trial[1] and rw_trial[5] > rw_trial[1]
