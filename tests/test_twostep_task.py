"""The two-step protocol: transition and reward statistics, invalid responses, and the behavioural
signatures of model-free and model-based players recorded through the lab."""

import numpy as np
import pytest
import torch
import xarray as xr

from neurometarl.analysis.behaviour import stay_probabilities
from neurometarl.data import recording_to_table
from neurometarl.errors import ConfigError
from neurometarl.models import make_model
from neurometarl.seeding import make_generator
from neurometarl.tasks import TASKS, make_task
from neurometarl.tasks.twostep import CENTRE, LEFT, RIGHT


def play(task, choose, seed=0):
    """Step ``task`` with fixation = centre, stage 2 = a valid response, first-stage choice from
    ``choose(trial)`` (batch,) actions; returns per-trial arrays."""
    g = make_generator(seed)
    obs, info = task.reset(g)
    out = {k: [] for k in ("choice", "state2", "common", "reward", "prob", "step_reward")}
    for t in range(task.n_trials):
        _, r0, _, info = task.step(torch.full((task.batch_size,), CENTRE))
        out["prob"].append(info["reward_prob"].numpy())
        out["common"].append(info["common"].numpy())
        a = choose(t)
        _, r1, _, info = task.step(a)
        out["state2"].append(info["state2"].numpy())
        valid = info["valid_actions"].float()
        response = torch.multinomial(valid, 1, generator=g)[:, 0]
        _, r2, _, info = task.step(response)
        out["choice"].append(a.numpy())
        out["reward"].append(r2.numpy())
        out["step_reward"].append((r0 + r1).numpy())
    return {k: np.stack(v, 1) for k, v in out.items()}  # (batch, trial, ...)


def random_choice(batch, seed=1):
    g = torch.Generator().manual_seed(seed)
    return lambda t: torch.randint(LEFT, RIGHT + 1, (batch,), generator=g)


def test_registered_variants():
    for name in ("twostep", "twostep-rat", "twostep-daw"):
        task = make_task(name, 2)
        assert task.action_names == ("centre", "left", "right")
        assert task.period_names == ("fixation", "choice", "stage2")
        assert {"reward_prob", "common"} <= set(task.latents)
    assert TASKS["twostep-daw"].config.common_prob == 0.7
    with pytest.raises(ConfigError, match="reward_schedule"):
        make_task("twostep", 2, reward_schedule="sometimes")


def test_wang_twostep_transitions_and_hazard():
    task = make_task("twostep", 400, n_trials=100)
    r = play(task, random_choice(400))
    side = r["choice"] - LEFT
    common = r["common"] == 1
    assert np.all(r["state2"] == np.where(common, side, 1 - side))
    assert abs(common.mean() - 0.8) < 0.01
    probs = r["prob"]
    assert np.allclose(np.unique(probs), [0.1, 0.9]) and np.allclose(probs.sum(-1), 1.0)
    switches = (np.diff(probs[:, :, 0], axis=1) != 0).mean()
    assert abs(switches - 0.025) < 0.004  # 400 x 99 trial starts
    rewarded_rich = r["reward"][np.take_along_axis(probs, r["state2"][..., None], 2)[..., 0] > 0.5].mean()
    assert abs(rewarded_rich - 0.9) < 0.01
    assert (r["step_reward"] == 0).all()  # valid responses are never penalised


def test_rat_blocks_respect_min_block_and_daw_drift_stays_in_bounds():
    task = make_task("twostep-rat", 200, n_trials=300)
    r = play(task, random_choice(200))
    p = r["prob"][:, :, 0]
    for ep in p:
        changes = np.flatnonzero(np.diff(ep) != 0) + 1
        assert np.all(np.diff(np.r_[0, changes]) >= 10)
    assert abs((r["common"] == 1).mean() - 0.8) < 0.01
    task = make_task("twostep-daw", 100)
    r = play(task, random_choice(100))
    p = r["prob"]
    assert p.min() >= 0.25 and p.max() <= 0.75
    steps = np.diff(p, axis=1)
    assert abs(steps.std() - 0.025) < 0.003 and abs((r["common"] == 1).mean() - 0.7) < 0.01


def test_invalid_responses_are_penalised():
    task = make_task("twostep", 3, n_trials=2)
    task.reset(make_generator(0))
    _, r, _, _ = task.step(torch.tensor([CENTRE, LEFT, RIGHT]))  # fixation
    assert r.tolist() == [0.0, -1.0, -1.0]
    _, r, _, info = task.step(torch.tensor([CENTRE, LEFT, RIGHT]))  # first-stage choice
    assert r.tolist() == [-1.0, 0.0, 0.0] and info["state2"][0] == -1 and (info["state2"][1:] >= 0).all()
    assert info["valid_actions"][0].all()  # blank second stage: nothing to do
    _, r, _, _ = task.step(torch.tensor([LEFT, LEFT, CENTRE]))  # stage 2 needs centre
    assert r[0] == 0.0 and r[1] == -1.0 and r[2] in (0.0, 1.0)


def test_same_seed_same_recording():
    model = make_model("mf")
    params = {"alpha1": 0.5, "alpha2": 0.5, "lambda": 0.5, "beta1": 4.0, "perseveration": 0.2}
    a = model.simulate("twostep", params=params, n_episodes=4, seed=3, n_trials=30)
    b = model.simulate("twostep", params=params, n_episodes=4, seed=3, n_trials=30)
    xr.testing.assert_identical(a.drop_attrs(), b.drop_attrs())


def stay(model_name, params, seed):
    """Mean stay probabilities over 60 simulated episodes: keys cr, cu, rr, ru, main (reward main
    effect) and interaction (reward x transition), as in ``stay_probabilities``."""
    model = make_model(model_name)
    ds = model.simulate("twostep", params=params, n_episodes=60, seed=seed, n_trials=100)
    table = recording_to_table(ds, episodes_as="subjects")
    assert table["violation"].sum() == 0
    res = stay_probabilities(table)
    probs = res["stay_prob"].mean("subject")
    out = {f"{t[0]}{o[0]}": float(probs.sel(transition=t, outcome=o)) for t in ("common", "rare") for o in ("rewarded", "unrewarded")}
    return {**out, "main": float(res["mf_index"].mean()), "interaction": float(res["mb_index"].mean())}


MF = {"alpha1": 0.6, "alpha2": 0.6, "lambda": 1.0, "beta1": 5.0, "perseveration": 0.0}
MB = {"alpha2": 0.6, "beta1": 5.0, "perseveration": 0.0}


def test_model_free_player_shows_a_reward_main_effect():
    mf, mb = stay("mf", MF, seed=0), stay("mb", MB, seed=0)
    # rewarded trials are repeated more, whatever the transition
    assert mf["cr"] > mf["cu"] + 0.3 and mf["rr"] > mf["ru"] + 0.1 and mf["main"] > 0.25
    # a model-free learner can show some interaction (Akam et al. 2015: trial type is confounded with
    # which action is currently better), but far less than a planner
    assert mf["interaction"] < 0.5 * mb["interaction"]


def test_model_based_player_shows_the_interaction():
    mb = stay("mb", MB, seed=1)
    assert mb["cr"] > mb["rr"] + 0.3 and mb["ru"] > mb["cu"] + 0.3
    assert mb["interaction"] > 0.4 and abs(mb["main"]) < 0.1


def test_second_stage_choice_variant():
    task = make_task("twostep-daw-choice", 300, n_trials=60)
    g = make_generator(0)
    task.reset(g)
    won, probs = [], []
    for t in range(task.n_trials):
        task.step(torch.full((300,), CENTRE))
        _, _, _, info = task.step(torch.randint(LEFT, RIGHT + 1, (300,), generator=g))
        assert info["valid_actions"][:, CENTRE].sum() == 0  # stage 2 is a left/right choice
        option = torch.randint(LEFT, RIGHT + 1, (300,), generator=g)
        p = info["reward_prob"][torch.arange(300), info["state2"], option - LEFT]
        _, r, _, _ = task.step(option)
        won.append(r.numpy()), probs.append(p.numpy())
    won, probs = np.stack(won), np.stack(probs)
    assert abs(won.mean() - probs.mean()) < 0.01 and np.corrcoef(won.ravel(), probs.ravel())[0, 1] > 0.15
    # a model with second-stage choices plays both stages, and the converter gives choice2
    model = make_model("hybrid")
    params = {"alpha1": 0.5, "alpha2": 0.5, "lambda": 0.5, "beta1": 4.0, "beta2": 6.0, "perseveration": 0.1, "w": 0.5}
    ds = model.simulate("twostep-daw-choice", params=params, n_episodes=2, seed=0, n_trials=40)
    assert ds["reward_prob"].dims == ("episode", "trial", "state", "option")
    table = recording_to_table(ds)
    assert set(table["choice2"].unique()) == {0, 1} and table["violation"].sum() == 0
    stage2 = ds["step_action"].isel(step=slice(2, None, 3)).values.ravel()
    assert np.array_equal(table["choice2"].to_numpy(), stage2 - LEFT)
    assert "beta2" in make_model("hybrid", n_starts=1, max_iter=20).fit(table).params_


# --- the monkeys' protocol (Miranda et al. 2025) ---------------------------------------------------

def _play_monkey(policy, n=2048, seed=0, **overrides):
    """Play twostep-monkey with ``policy(task, info) -> actions``; per-step rewards, infos and cues."""
    task = make_task("twostep-monkey", n, **overrides)
    obs, info = task.reset(make_generator(seed))
    rewards, infos, cues = [], [], []
    while True:
        infos.append({k: v.clone() for k, v in info.items() if torch.is_tensor(v)})
        cues.append(obs.argmax(1))
        obs, reward, done, info = task.step(policy(task, info))
        rewards.append(reward)
        if done.all():
            return task, torch.stack(rewards), infos, torch.stack(cues)


def _random_valid(task, info):
    valid = info["valid_actions"].float()
    return torch.multinomial(valid / valid.sum(1, keepdim=True), 1)[:, 0]


def test_monkey_levels_hold_five_to_nine_trials_then_jump():
    """Each option holds its level at least 5 trials; it keeps it on ~90.5% of trials (the monkeys'
    sessions: 90.5%) and jumps to either other level equally often; the chosen option pays its level's
    value, for sure."""
    task, rewards, infos, _ = _play_monkey(_random_valid)
    levels = torch.stack([i["level"] for i in infos[1::3]])  # (trial, batch, state, option) at each choice step
    kept = (levels[1:] == levels[:-1]).float().mean().item()
    assert kept == pytest.approx(0.905, abs=0.01)
    moved = levels[1:] != levels[:-1]
    up = ((levels[1:] - levels[:-1]) % 3 == 1) & moved
    assert up.sum().item() / moved.sum().item() == pytest.approx(0.5, abs=0.02)
    seq = levels.permute(1, 2, 3, 0).reshape(-1, levels.shape[0]).numpy()
    for row in seq[:500]:
        changes = np.flatnonzero(np.diff(row))
        assert (np.diff(changes) >= 5).all()
    values = torch.tensor(task.config.level_values)
    stage2 = infos[2::3]
    for t, info in enumerate(stage2):
        paid = rewards[3 * t + 2]
        reached = info["state2"] >= 0
        assert set(paid[reached].unique().tolist()) <= set(values.tolist())


def test_monkey_instructed_trials_offer_one_option_and_say_which():
    task, _, infos, cues = _play_monkey(_random_valid)
    choice_infos = infos[1::3]
    types = torch.stack([i["trial_type"] for i in choice_infos])
    assert (types == 2).float().mean().item() == pytest.approx(0.07, abs=0.01)
    assert (types == 3).float().mean().item() == pytest.approx(0.07, abs=0.01)
    for t, info in enumerate(choice_infos):
        one = info["trial_type"] == 2
        offered = info["valid_actions"][one]
        assert (offered.sum(1) == 1).all() and not offered[:, CENTRE].any()
        cue = cues[3 * t + 1][one]
        assert set(cue.tolist()) <= {5, 6}  # choice-left-only / choice-right-only
        assert (cue - 5 == offered[:, RIGHT].long()).all()
        two = infos[3 * t + 2]
        second = (two["trial_type"] == 3) & (two["state2"] >= 0)
        assert (two["valid_actions"][second].sum(1) == 1).all()
        assert (two["valid_actions"][(two["trial_type"] != 3) & (two["state2"] >= 0)][:, [LEFT, RIGHT]].all())


def test_monkey_oracle_beats_chance_and_models_obey_instructions():
    """An oracle that knows every option's level earns ~0.77 a trial against 0.50 for random valid choices;
    a model subject takes the one option offered on instructed trials (no violations)."""
    def oracle(task, info):
        period, p = task.t % 3, info["reward_prob"]
        best = p.max(2).values
        if period == 0:
            return torch.full((task.batch_size,), CENTRE)
        if period == 1:
            c = task.config.common_prob
            return torch.where(c * best[:, 1] + (1 - c) * best[:, 0] > c * best[:, 0] + (1 - c) * best[:, 1], RIGHT, LEFT)
        q = p[torch.arange(task.batch_size), info["state2"].clamp(min=0)]
        return torch.where(q[:, 1] > q[:, 0], RIGHT, LEFT)

    def obeying(task, info):
        a = oracle(task, info)
        ok = info["valid_actions"].gather(1, a[:, None])[:, 0]
        return torch.where(ok, a, info["valid_actions"].float().argmax(1))

    _, r_oracle, _, _ = _play_monkey(obeying, seed=1)
    _, r_random, _, _ = _play_monkey(_random_valid, seed=1)
    assert r_oracle[2::3].mean().item() == pytest.approx(0.77, abs=0.02)
    assert r_random[2::3].mean().item() == pytest.approx(0.50, abs=0.02)
    params = {"alpha1": 0.5, "alpha2": 0.5, "lambda": 0.5, "beta1": 5.0, "beta2": 5.0, "perseveration": 0.0, "w": 0.5}
    rec = make_model("hybrid").simulate("twostep-monkey", params=params, n_episodes=20, seed=0)
    table = recording_to_table(rec)
    assert table["violation"].sum() == 0 and {"choice2", "forced", "trial_type"} <= set(table.columns)
    assert table["forced"].mean() == pytest.approx(0.07, abs=0.02)


def test_monkey_refusing_an_instruction_is_an_invalid_response():
    """On an instructed first-stage trial the side not offered is penalised and leads nowhere (as on the
    second stage); free trials are unaffected."""
    def contrary(task, info):
        offered = info["valid_actions"][:, [LEFT, RIGHT]]
        return torch.where(offered[:, 0] & ~offered[:, 1], RIGHT, LEFT)  # the other side when one is offered

    task, rewards, infos, _ = _play_monkey(contrary, n=1024)
    for t, info in enumerate(infos[1::3]):
        instructed = info["trial_type"] == 2
        refused = instructed & ~info["valid_actions"][:, LEFT]  # offered right, chose left
        assert (rewards[3 * t + 1][refused] == task.config.invalid_penalty).all() and refused.any()
        assert (infos[3 * t + 2]["state2"][refused] == -1).all()
        assert (rewards[3 * t + 1][~instructed] == 0).all()
