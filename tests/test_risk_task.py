"""The Stopper risk task: forced pairs then free choices, payoffs, risky side drawn per episode."""

import pytest
import torch

from neurometarl.errors import ConfigError
from neurometarl.seeding import make_generator
from neurometarl.tasks import make_task, task_config


def _play(policy, batch=2000, seed=0, **overrides):
    task = make_task("risk", batch, **overrides)
    obs, info = task.reset(make_generator(seed))
    out = []
    for _ in range(task.n_steps):
        action = policy(obs, info)
        next_obs, reward, done, next_info = task.step(action)
        out.append((obs, info, action, reward))
        obs, info = next_obs, next_info
    assert bool(done.all())
    return task, out


def follow_cue_prefer(arm):
    """Centre at fixation; the only available side on forced trials, else the risky/safe arm."""
    def policy(obs, info):
        preferred = info[f"{arm}_action"]
        forced_side = torch.where(obs[:, 1] > 0, 1, 2)
        choice = torch.where(info["forced"] == 1, forced_side, preferred)
        return torch.where(info["period"] == 0, 0, choice)
    return policy


def test_structure_forced_pairs_then_free():
    task, steps = _play(follow_cue_prefer("risky"))
    assert task.n_trials == 30 and task.n_steps == 60
    choice_steps = steps[1::2]
    forced = torch.stack([s[1]["forced"] for s in choice_steps], 1)
    assert torch.all(forced[:, :10] == 1) and torch.all(forced[:, 10:] == 0)
    cues = torch.stack([s[0][:, 1:] for s in choice_steps], 1)  # (batch, trial, [left, right])
    assert torch.all(cues[:, :10].sum(-1) == 1) and torch.all(cues[:, 10:] == 1)
    risky_cued = torch.stack([(s[0][:, 1] > 0) == (s[1]["risky_action"] == 1) for s in choice_steps[:10]], 1)
    pairs = risky_cued.reshape(-1, 5, 2).sum(-1)
    assert torch.all(pairs == 1)  # each pair is one pull of each arm
    first_of_pair = risky_cued.reshape(-1, 5, 2)[:, :, 0].float().mean()
    assert 0.45 < first_of_pair < 0.55  # in random order


def test_payoffs_and_risky_probabilities():
    for p in (0.5, 0.125):
        _, steps = _play(follow_cue_prefer("risky"), risky_probs=(p,))
        free = torch.stack([s[3] for s in steps[1::2][10:]])
        assert set(free.unique().tolist()) <= {0.0, 4.0}
        assert abs(float((free == 4).float().mean()) - p) < 0.02
    _, steps = _play(follow_cue_prefer("safe"))
    assert torch.all(torch.stack([s[3] for s in steps[1::2][10:]]) == 1)  # free trials on the safe arm
    _, steps = _play(follow_cue_prefer("risky"))
    side = steps[0][1]["risky_action"].float()
    assert 0.45 < float((side == 1).float().mean()) < 0.55
    p_risky = steps[0][1]["p_risky"]
    assert set(p_risky.unique().tolist()) == {0.125, 0.5}


def test_invalid_responses_cost_one():
    _, steps = _play(lambda obs, info: torch.where(info["period"] == 0, 1, 0))
    assert all(torch.all(s[3] == -1) for s in steps)
    # the unavailable arm on a forced trial is invalid
    def wrong_forced(obs, info):
        return torch.where(info["period"] == 0, 0, torch.where(obs[:, 1] > 0, 2, 1))
    _, steps = _play(wrong_forced)
    assert all(torch.all(s[3] == -1) for s in steps[1:20:2])


def test_config_errors():
    with pytest.raises(ConfigError, match="risky_probs"):
        task_config("risk", risky_probs=(1.5,))
    with pytest.raises(ConfigError, match="n_forced"):
        task_config("risk", n_forced=-1)
