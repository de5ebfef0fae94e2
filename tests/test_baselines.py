import numpy as np
import pytest
import torch

from neurometarl.analysis.observers import observer_values
from neurometarl.errors import ConfigError
from neurometarl.lab import record_session
from neurometarl.models import BASELINES, MODELS, BehaviouralModel, make_baseline
from neurometarl.models.subject import ModelSubject
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


def test_rw_is_the_behavioural_model_and_its_choices_follow_its_values():
    subject = make_baseline("rw", alpha=0.2, beta=4.0)
    assert isinstance(subject, ModelSubject) and subject.model.name == "rw"
    ds = record_session(subject, "bandit-restless", 30, seed=0)
    q = ds.hidden.sel(unit=["q_left", "q_right"]).to_numpy().astype(float)  # (episode, step = trial, arm)
    expected = torch.softmax(4.0 * torch.as_tensor(q), -1).numpy()
    np.testing.assert_allclose(ds.policy.to_numpy(), expected, atol=1e-6)
    # the values are the RW recursion on the recorded choices and rewards, from q0 = 0.5
    chosen = ds.choice.to_numpy()[:, :-1, None] == np.arange(2)
    target = np.where(chosen, ds.reward.to_numpy()[:, :-1, None], q[:, :-1])
    np.testing.assert_allclose(q[:, 1:], q[:, :-1] + 0.2 * (target - q[:, :-1]), atol=1e-6)
    np.testing.assert_allclose(q[:, 0], 0.5)


def test_baseline_registry_holds_only_policies_without_a_likelihood():
    assert set(BASELINES) == {"bayes-optimal", "thompson", "ucb", "random"}
    assert not set(BASELINES) & set(MODELS)
    assert not any(isinstance(c, type) and issubclass(c, BehaviouralModel) for c in BASELINES.values())
    with pytest.raises(ConfigError, match="alpha"):
        make_baseline("rw", alpha=7)
    with pytest.raises(ConfigError, match="unknown baseline"):
        make_baseline("nope")


def test_baselines_and_observer_share_the_beta_counts():
    """Thompson's recorded posterior means are the independent observer's values on its own choices."""
    ds = record_session(make_baseline("thompson"), "bandit-fixed", 20, seed=0)
    values = observer_values(ds, "independent").to_numpy()
    np.testing.assert_allclose(ds.hidden.to_numpy(), values, atol=1e-6)


def test_baseline_latents_are_recorded_as_units():
    ds = record_session(make_baseline("thompson"), "bandit-fixed", 40, seed=0)
    assert list(ds.unit.values) == ["estimate_left", "estimate_right"]
    # the posterior mean of the better arm climbs toward 0.75 as it is pulled
    better = ds.reward_prob.isel(trial=0).argmax("arm")
    late = ds.hidden.isel(step=-1, unit=better).mean().item()
    assert 0.6 < late < 0.9
