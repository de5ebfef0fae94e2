import numpy as np
import pytest

from neurometarl.lab import record_session
from neurometarl.models import make_baseline
from neurometarl.models.bandit_baselines import correlated_greedy_expected_reward, independent_dp


def test_bayes_optimal_correlated_matches_exact_expectation():
    exact = correlated_greedy_expected_reward(100)
    assert exact == pytest.approx(0.737, abs=0.002)  # the spec's reference value
    ds = record_session(make_baseline("bayes-optimal"), "bandit-correlated", 4000, seed=0)
    rewards = ds.reward.mean("trial").values
    assert abs(rewards.mean() - exact) < 3 * rewards.std() / np.sqrt(rewards.size)


def test_bayes_optimal_independent_matches_dynamic_programming_value():
    _, value = independent_dp(100)
    ds = record_session(make_baseline("bayes-optimal"), "bandit-independent", 3000, seed=1)
    per_episode = ds.reward.sum("trial").values
    assert abs(per_episode.mean() - value) < 3 * per_episode.std() / np.sqrt(per_episode.size)


def test_bayes_optimal_beats_heuristics_on_its_prior():
    means = {name: float(record_session(make_baseline(name), "bandit-independent", 1000, seed=2).reward.mean())
             for name in ("bayes-optimal", "thompson", "ucb", "random")}
    assert means["bayes-optimal"] > means["thompson"] > means["random"]
    assert means["bayes-optimal"] > means["ucb"]
    assert abs(means["random"] - 0.5) < 0.01


def test_rw_repeats_more_after_reward():
    ds = record_session(make_baseline("rw", alpha=0.3, beta=5.0), "bandit-correlated", 500, seed=3)
    choice, reward = ds.choice.values, ds.reward.values
    stay = choice[:, 1:] == choice[:, :-1]
    after_win, after_loss = stay[reward[:, :-1] == 1].mean(), stay[reward[:, :-1] == 0].mean()
    assert after_win > after_loss + 0.1


def test_baseline_latents_are_recorded_as_units():
    ds = record_session(make_baseline("thompson"), "bandit-fixed", 40, seed=0)
    assert list(ds.unit.values) == ["estimate_left", "estimate_right"]
    # the posterior mean of the better arm climbs toward 0.75 as it is pulled
    better = ds.reward_prob.isel(trial=0).argmax("arm")
    late = ds.hidden.isel(step=-1, unit=better).mean().item()
    assert 0.6 < late < 0.9
