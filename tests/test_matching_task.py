"""Protocol semantics of the Sim 1 matching task: baiting formula, held-out base rates, fixation,
invalid responses and the padding after an episode's end."""

import numpy as np
import pytest
import torch

from neurometarl.errors import ConfigError
from neurometarl.seeding import make_generator
from neurometarl.tasks import make_task
from neurometarl.tasks.matching import CENTRE, LEFT, RIGHT, baited_probability

HELD_OUT = ((0.1, 0.2), (0.3, 0.4))


def play(task, choose, seed=0):
    """Run ``task`` to the end; ``choose(t, info) -> (batch,) action``. Returns per-step lists."""
    obs, info = task.reset(make_generator(seed))
    steps = []
    for t in range(task.n_steps):
        action = choose(t, info)
        next_obs, reward, done, next_info = task.step(action)
        steps.append({"obs": obs, "info": info, "action": action, "reward": reward})
        obs, info = next_obs, next_info
    assert done.all()
    return steps


def valid_policy(arm_of_trial):
    def choose(t, info):
        b = info["trial"].shape[0]
        if t % 2 == 0:
            return torch.full((b,), CENTRE)
        return arm_of_trial(t // 2, info)
    return choose


def test_training_excludes_held_out_and_test_marks_it():
    train = play(make_task("matching", 4000), valid_policy(lambda t, i: torch.full((4000,), LEFT)))
    p0 = train[0]["info"]["p0"]
    right = p0[:, 1]
    assert torch.allclose(p0.sum(1), torch.full((4000,), 0.5))
    inside = torch.zeros_like(right, dtype=torch.bool)
    for lo, hi in HELD_OUT:
        inside |= (right > lo) & (right < hi)
    assert not inside.any()
    assert right.min() < 0.02 and right.max() > 0.48  # still covers both ends of [0, 0.5]
    # uniform on the allowed set [0, 0.1) ∪ (0.2, 0.3) ∪ (0.4, 0.5]: a third of the draws in each piece
    pieces = [((right >= a) & (right <= b)).float().mean().item() for a, b in ((0, 0.1), (0.2, 0.3), (0.4, 0.5))]
    assert np.allclose(pieces, 1 / 3, atol=0.03)

    test = play(make_task("matching-test", 4000), valid_policy(lambda t, i: torch.full((4000,), LEFT)))
    info = test[0]["info"]
    right = info["p0"][:, 1]
    marked = info["held_out"].bool()
    expected = torch.zeros_like(marked)
    for lo, hi in HELD_OUT:
        expected |= (right >= lo) & (right <= hi)
    assert torch.equal(marked, expected)
    assert abs(marked.float().mean().item() - 0.4) < 0.03  # held-out ranges are 40% of [0, 0.5]


def test_baiting_formula_matches_the_reward_rate():
    """Always choosing left after k trials on the right pays 1 − (1 − p0_L)^(k+1)."""
    task = make_task("matching", 20_000, fixed_p0_right=0.4, min_trials=100)  # p0_L = 0.1
    period = 5  # choose right 4 trials, then left once: left has waited n = 4 trials

    steps = play(task, valid_policy(lambda t, i: torch.full((20_000,), LEFT if t % period == period - 1 else RIGHT)))
    left_trials = [s for s in steps[1::2] if int(s["action"][0]) == LEFT]
    n_since = torch.stack([s["info"]["n_since"][:, 0] for s in left_trials[1:]])
    assert (n_since == 4).all()
    rate = torch.stack([s["reward"] for s in left_trials[1:]]).mean().item()
    expected = 1 - (1 - 0.1) ** 5
    assert abs(rate - expected) < 0.005  # ~380,000 draws
    assert abs(baited_probability(torch.tensor(0.1), torch.tensor(4.0)).item() - expected) < 1e-6
    # the recorded probability is the formula at the recorded counts
    info = left_trials[3]["info"]
    assert torch.allclose(info["reward_prob"], baited_probability(info["p0"], info["n_since"]))


def test_staying_on_one_arm_pays_p0():
    task = make_task("matching", 20_000, fixed_p0_right=0.35, min_trials=100)
    steps = play(task, valid_policy(lambda t, i: torch.full((20_000,), RIGHT)))
    rate = torch.stack([s["reward"] for s in steps[1::2]]).mean().item()
    assert abs(rate - 0.35) < 0.003


def test_invalid_responses_cost_one_and_count_no_choice():
    task = make_task("matching", 64, min_trials=100)
    steps = play(task, lambda t, info: torch.full((64,), LEFT if t % 2 == 0 else CENTRE))
    fixation = torch.stack([s["reward"] for s in steps[0::2]])
    choice = torch.stack([s["reward"] for s in steps[1::2]])
    assert (fixation == -1).all() and (choice == -1).all()
    counts = steps[-1]["info"]["n_since"]
    assert (counts == task.n_trials - 1).all()  # neither arm was ever chosen


def test_episode_length_and_padding():
    task = make_task("matching", 3000)
    steps = play(task, valid_policy(lambda t, i: torch.full((3000,), RIGHT)))
    length = steps[0]["info"]["episode_length"]
    assert length.min() == 50 and length.max() == 100
    assert abs(length.mean().item() - 75) < 0.6
    active = torch.stack([s["info"]["active"] for s in steps[1::2]], 1)  # (batch, trial)
    assert torch.equal(active.sum(1), length)
    assert torch.equal(active, (torch.arange(100)[None] < length[:, None]).float())
    # after the end: an 'end' cue, no reward and no penalty whatever the action, counts frozen
    end_cue = torch.stack([s["obs"][:, 2] for s in steps], 1)
    assert torch.equal(end_cue, 1 - active.repeat_interleave(2, 1))
    padded = torch.stack([s["reward"] for s in steps[1::2]], 1)[active == 0]
    assert (padded == 0).all()
    wrong = play(task, lambda t, info: torch.full((3000,), LEFT))  # invalid at every fixation
    fixation = torch.stack([s["reward"] for s in wrong[0::2]], 1)
    assert torch.equal(fixation, -active)


def test_same_seed_same_episodes_and_bad_options():
    a = play(make_task("matching-test", 16), valid_policy(lambda t, i: torch.full((16,), LEFT)), seed=5)
    b = play(make_task("matching-test", 16), valid_policy(lambda t, i: torch.full((16,), LEFT)), seed=5)
    assert all(torch.equal(x["reward"], y["reward"]) for x, y in zip(a, b))
    with pytest.raises(ConfigError, match="min_trials"):
        make_task("matching", 4, min_trials=120)
    with pytest.raises(ConfigError, match="held_out"):
        make_task("matching", 4, held_out=((0.3, 0.7),))
    with pytest.raises(ConfigError, match="nothing left"):
        make_task("matching", 4, held_out=((0.0, 0.5),))
