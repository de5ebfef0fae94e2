"""Protocol semantics of the Sim 2 volatility task: magnitudes, anticorrelated probabilities, the
two-level training generator and the stable-first / volatile-first test schedules."""

import math

import numpy as np
import pytest
import torch

from neurometarl.errors import ConfigError
from neurometarl.seeding import make_generator
from neurometarl.tasks import make_task
from neurometarl.tasks.volatility import _beta_sample, _gamma_sample


def play(task, arm=0, seed=0):
    obs, info = task.reset(make_generator(seed))
    out = {k: [] for k in ("obs", "reward", "reward_prob", "magnitude", "volatile", "volatility", "log_k")}
    for _ in range(task.n_steps):
        for k in ("reward_prob", "magnitude", "volatile", "volatility", "log_k"):
            out[k].append(info[k])
        out["obs"].append(obs)
        obs, reward, done, info = task.step(torch.full((task.batch_size,), arm))
        out["reward"].append(reward)
    assert done.all()
    return {k: torch.stack(v, 1) for k, v in out.items()}


def test_magnitudes_are_beta_4_4_points_scaled_in_the_observation():
    run = play(make_task("volatility", 500))
    m = run["magnitude"]
    assert (m > 0).all() and (m < 100).all()
    assert abs(m.mean().item() - 50) < 0.3 and abs(m.std().item() - 100 / 6) < 0.3  # Beta(4,4): sd 1/6
    assert torch.allclose(run["obs"], m / 100)


def test_rewards_anticorrelated_and_scaled():
    run = play(make_task("volatility-stable-first", 4000), arm=0)
    p = run["reward_prob"]
    assert torch.allclose(p.sum(-1), torch.ones(()))
    won = run["reward"] > 0
    assert torch.allclose(run["reward"][won], run["magnitude"][..., 0][won] / 100)
    assert abs(won.float().mean().item() - p[..., 0].mean().item()) < 0.005


@pytest.mark.parametrize("schedule", ["stable-first", "volatile-first"])
def test_test_schedules(schedule):
    run = play(make_task(f"volatility-{schedule}", 400))
    volatile = run["volatile"]
    better_left = run["reward_prob"][..., 0] > 0.5
    level = run["reward_prob"].max(-1).values
    first, second = slice(0, 100), slice(100, 200)
    vol_half, stable_half = (second, first) if schedule == "stable-first" else (first, second)
    assert (volatile[:, vol_half] == 1).all() and (volatile[:, stable_half] == 0).all()
    assert torch.allclose(level[:, stable_half], torch.tensor(0.75))
    assert torch.allclose(level[:, vol_half], torch.tensor(0.8))
    # stable phase: one better arm throughout; volatile phase: it swaps exactly every 25 trials
    assert (better_left[:, stable_half] == better_left[:, stable_half][:, :1]).all()
    swaps = (better_left[:, vol_half][:, 1:] != better_left[:, vol_half][:, :-1]).float()
    assert torch.equal(swaps.sum(0).nonzero().ravel() + 1, torch.tensor([25, 50, 75]))
    assert (swaps.sum(0)[[24, 49, 74]] == 400).all()
    # the better arm at the start of each phase is random
    assert 0.4 < better_left[:, 0].float().mean() < 0.6 and 0.4 < better_left[:, 100].float().mean() < 0.6
    assert torch.allclose(run["volatility"], volatile / 25)
    assert torch.isnan(run["log_k"]).all()


def test_training_generator_two_levels():
    run = play(make_task("volatility", 3000))
    level, volatile = run["reward_prob"].max(-1).values, run["volatile"]
    assert torch.allclose(level[volatile == 0], torch.tensor(0.75))
    assert torch.allclose(level[volatile == 1], torch.tensor(0.8))
    log_k = run["log_k"][:, 0]
    assert log_k.min() >= -4.5 and log_k.max() <= -3.5 and (run["log_k"] == log_k[:, None]).all()
    # level toggles at rate k (E[k] for ln k ~ U[-4.5, -3.5] is (e^-3.5 - e^-4.5) ≈ 0.019)
    toggles = (volatile[:, 1:] != volatile[:, :-1]).float().mean().item()
    assert abs(toggles - (math.exp(-3.5) - math.exp(-4.5))) < 0.002
    # the better arm flips with probability 0.2 after a trial in the volatile level, never in the stable one
    better = run["reward_prob"][..., 0] > 0.5
    flips = better[:, 1:] != better[:, :-1]
    nxt = volatile[:, 1:]
    assert flips[nxt == 0].sum() == 0
    assert abs(flips[nxt == 1].float().mean().item() - 0.2) < 0.005
    assert abs(volatile.mean().item() - 0.5) < 0.03


def test_beta_and_gamma_samplers_use_the_generator_only():
    g = make_generator(1)
    x = _beta_sample(4, 4, (200_000,), g)
    assert abs(x.mean().item() - 0.5) < 0.002 and abs(x.var().item() - 1 / 36) < 0.0005
    y = _beta_sample(2.5, 4.0, (200_000,), g)  # the Gamma route
    assert abs(y.mean().item() - 2.5 / 6.5) < 0.003
    z = _gamma_sample(0.5, (200_000,), g)
    assert abs(z.mean().item() - 0.5) < 0.01 and abs(z.var().item() - 0.5) < 0.02
    state = torch.random.get_rng_state()
    a = _beta_sample(4, 4, (10,), make_generator(3))
    b = _beta_sample(4, 4, (10,), make_generator(3))
    assert torch.equal(a, b) and torch.equal(state, torch.random.get_rng_state())


def test_bad_options_are_clear():
    with pytest.raises(ConfigError, match="schedule"):
        make_task("volatility", 2, schedule="sometimes")
    with pytest.raises(ConfigError, match="reward_levels"):
        make_task("volatility", 2, reward_levels=(0.3, 0.8))
    with pytest.raises(ConfigError, match="n_stable"):
        make_task("volatility", 2, n_stable=200)
    np.testing.assert_equal(make_task("volatility", 2, reward_levels=[1.0, 1.0]).config.reward_levels, (1.0, 1.0))
