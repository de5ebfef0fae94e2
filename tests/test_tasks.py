import pytest
import torch

from neurometarl.errors import ConfigError
from neurometarl.seeding import make_generator
from neurometarl.tasks import TASKS, make_task


def run_fixed_policy(task, arm, seed=0):
    obs, info = task.reset(make_generator(seed))
    rewards, probs = [], []
    for _ in range(task.n_steps):
        probs.append(info["reward_prob"])
        obs, reward, done, info = task.step(torch.full((task.batch_size,), arm))
        rewards.append(reward)
    return torch.stack(rewards, 1), torch.stack(probs, 1), done


def test_bandit_reward_rate_matches_arm_probability():
    task = make_task("bandit-fixed", 2000, counterbalance=False)
    rewards, probs, done = run_fixed_policy(task, arm=1)
    assert done.all()
    assert rewards.shape == (2000, 100)
    assert abs(rewards.mean().item() - 0.75) < 0.005  # 200,000 Bernoulli(0.75) draws


def test_fixed_problem_counterbalances_sides():
    rewards, probs, _ = run_fixed_policy(make_task("bandit-fixed", 2000), arm=1)
    right_is_better = probs[:, 0, 1] == 0.75
    assert 0.45 < right_is_better.float().mean().item() < 0.55
    assert abs(rewards[right_is_better].mean().item() - 0.75) < 0.01
    assert abs(rewards[~right_is_better].mean().item() - 0.25) < 0.01


def test_correlated_arms_sum_to_one_and_levels_respected():
    _, probs, _ = run_fixed_policy(make_task("bandit-correlated", 500), 0)
    assert torch.allclose(probs.sum(-1), torch.ones(()))
    _, probs, _ = run_fixed_policy(make_task("bandit-correlated-easy", 500), 0)
    assert sorted({round(p, 6) for p in probs[:, 0, 0].tolist()}) == [0.1, 0.9]


def test_restless_probabilities_drift_within_bounds():
    _, probs, _ = run_fixed_policy(make_task("bandit-restless", 200), 0)
    assert (probs >= 0).all() and (probs <= 1).all()
    step = (probs[:, 1:] - probs[:, :-1]).abs()
    assert 0.02 < step.mean().item() < 0.06  # s.d. 0.05 random walk: E|step| ≈ 0.04


def test_same_seed_same_episodes():
    a = run_fixed_policy(make_task("bandit-independent", 8), 0, seed=3)
    b = run_fixed_policy(make_task("bandit-independent", 8), 0, seed=3)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_unknown_task_and_bad_options_are_clear():
    with pytest.raises(ConfigError, match="valid tasks: .*bandit-correlated"):
        make_task("bandit-nope", 4)
    with pytest.raises(ConfigError, match="distribution"):
        make_task("bandit-correlated", 4, distribution="weird")
    with pytest.raises(ConfigError, match="options are"):
        make_task("bandit-correlated", 4, no_such_option=1)


def test_every_task_has_description_and_steps():
    for name, entry in TASKS.items():
        task = make_task(name, 2)
        assert entry.description and task.n_steps >= 1 and task.n_actions >= 2
        obs, info = task.reset(make_generator(0))
        assert obs.shape == (2, task.n_obs) and {"trial", "period"} <= set(info)
