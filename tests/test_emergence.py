"""Issue 11: memory cores (attention, feed-forward), the reward-input lesion, the Bayes observers used
for distribution shift, and (slow) the emergence experiment's claims on the shipped checkpoints."""

import json

import numpy as np
import pytest
import torch
import xarray as xr

from neurometarl.agents import AgentSubject, TrainConfig, build_agent, train
from neurometarl.analysis.observers import fit_softmax, observer_values
from neurometarl.errors import ConfigError
from neurometarl.lab import RemoveInput, perturb, record_session
from neurometarl.lab.schema import validate_recording
from neurometarl.tasks import make_task


def _outputs(agent, inputs):
    """Run ``inputs`` (steps, batch, n_in) through the agent step by step; returns h (steps, batch, n_units)."""
    state = agent.initial_state(inputs.shape[1])
    out = []
    with torch.no_grad():
        for x in inputs:
            _, _, h, state = agent(x, state)
            out.append(h)
    return torch.stack(out)


def _inputs(agent, n_steps=12, batch=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    n_in = agent.n_obs + agent.n_actions + 1
    return torch.rand(n_steps, batch, n_in, generator=g)


@pytest.mark.parametrize("core", ["attention", "lstm"])
def test_memory_core_is_causal_and_remembers(core):
    agent = build_agent(TrainConfig(core=core, n_units=16))
    x = _inputs(agent)
    later = x.clone()
    later[6:] += 1.0  # change every input from step 6 on
    earlier = x.clone()
    earlier[0] += 1.0  # change only the first step's input
    h, h_later, h_earlier = _outputs(agent, x), _outputs(agent, later), _outputs(agent, earlier)
    assert torch.equal(h[:6], h_later[:6])  # causal: steps 0-5 cannot see steps 6+
    assert not torch.allclose(h[6:], h_later[6:])
    assert not torch.allclose(h[8], h_earlier[8])  # memory: step 8 still depends on step 0


def test_feedforward_core_has_no_memory():
    agent = build_agent(TrainConfig(core="feedforward", n_units=16))
    x = _inputs(agent)
    earlier = x.clone()
    earlier[:6] += 1.0
    h, h_earlier = _outputs(agent, x), _outputs(agent, earlier)
    assert torch.equal(h[6:], h_earlier[6:])  # the output depends on the current step's input alone
    assert not torch.allclose(h[:6], h_earlier[:6])


def test_unknown_core_is_a_config_error():
    with pytest.raises(ConfigError, match="attention"):
        build_agent(TrainConfig(core="transformer-xl"))


@pytest.mark.parametrize("core", ["attention", "feedforward"])
def test_new_cores_train_record_and_reload(tmp_path, core):
    cfg = TrainConfig(core=core, n_units=16, batch_size=16, train_episodes=32, eval_episodes=0, n_threads=1)
    result = train(cfg, tmp_path / core, progress=False)
    assert np.isfinite(result.metrics["loss"]).all()
    subject = AgentSubject.from_checkpoint(tmp_path / core)
    for p, q in zip(subject.agent.parameters(), result.agent.parameters()):
        assert torch.equal(p, q)
    ds = validate_recording(record_session(subject, "bandit-correlated", 20, seed=3))
    assert ds["hidden"].shape == (20, 100, 16) and "cell" not in ds
    assert np.isfinite(ds["hidden"]).all()
    again = record_session(subject, "bandit-correlated", 20, seed=3)
    xr.testing.assert_equal(ds["hidden"], again["hidden"])  # same seed, same recording


def _fixed(probs):
    return make_task("bandit-fixed", 1, fixed_probs=probs, counterbalance=False)


def test_reward_lesion_makes_choices_blind_to_reward(tmp_path):
    subject = AgentSubject(build_agent(TrainConfig(n_units=16)), gamma=0.9)
    lesioned = perturb(subject, RemoveInput("reward"))
    # same seed: the same uniforms pick the actions, while the arms pay very differently
    a, b = (record_session(lesioned, _fixed(p), 50, seed=7) for p in ((0.05, 0.95), (0.95, 0.05)))
    assert not np.array_equal(a["reward"], b["reward"])
    np.testing.assert_array_equal(a["policy"], b["policy"])  # the reward channel has no effect
    c, d = (record_session(subject, _fixed(p), 50, seed=7) for p in ((0.05, 0.95), (0.95, 0.05)))
    assert not np.allclose(c["policy"], d["policy"])  # intact, it does
    assert json.loads(a.attrs["perturbations"])[0]["channel"] == "reward"


def _recording(choice, reward):
    n_ep, n_tr = choice.shape
    return xr.Dataset({"choice": (("episode", "trial"), choice), "reward": (("episode", "trial"), reward)},
                      coords={"episode": np.arange(n_ep), "trial": np.arange(n_tr)})


def test_observers_update_as_their_priors_say():
    ds = _recording(np.array([[0, 0, 1]]), np.array([[1.0, 0.0, 1.0]]))
    corr = observer_values(ds, "correlated").isel(episode=0).to_numpy()
    indep = observer_values(ds, "independent").isel(episode=0).to_numpy()
    np.testing.assert_allclose(corr[:, 0], [0.5, 2 / 3, 0.5])  # a left win is evidence against right too
    np.testing.assert_allclose(corr.sum(1), 1.0)
    np.testing.assert_allclose(indep, [[0.5, 0.5], [2 / 3, 0.5], [0.5, 0.5]])  # only the pulled arm moves
    easy = observer_values(ds, "correlated", levels=(0.1,)).isel(episode=0).to_numpy()
    assert easy[1, 0] == pytest.approx(0.82)  # P(left = 0.9 | one left win) = 0.9, mean 0.9·0.9 + 0.1·0.1


def _simulate_observer(prior, beta, n_episodes, seed):
    """Choices from a softmax on ``prior``'s posterior means, on uniform correlated arms."""
    rng = np.random.default_rng(seed)
    p_left = rng.uniform(size=n_episodes)
    choice, reward = np.zeros((n_episodes, 100), int), np.zeros((n_episodes, 100))
    for t in range(100):
        v = observer_values(_recording(choice[:, : t + 1], reward[:, : t + 1]), prior).isel(trial=t).to_numpy()
        choice[:, t] = rng.uniform(size=n_episodes) < 1 / (1 + np.exp(-beta * (v[:, 1] - v[:, 0])))
        reward[:, t] = rng.uniform(size=n_episodes) < np.where(choice[:, t] == 0, p_left, 1 - p_left)
    return _recording(choice, reward)


def test_softmax_fit_recovers_beta_and_picks_the_generating_observer():
    ds = _simulate_observer("correlated", beta=8.0, n_episodes=200, seed=0)
    true = fit_softmax(observer_values(ds, "correlated"), ds["choice"])
    other = fit_softmax(observer_values(ds, "independent"), ds["choice"])
    assert true["beta"] == pytest.approx(8.0, rel=0.2)
    assert true["loglik"] > other["loglik"] + 50  # the log likelihood ratio names the generating observer


@pytest.mark.parametrize("generator", ["correlated", "independent"])
def test_shift_evidence_names_the_generating_observer_at_its_ideal_score(generator):
    from neurometarl.experiments.emergence import bootstrap_interval, shift_evidence

    ds = _simulate_observer(generator, beta=8.0, n_episodes=200, seed=1)
    evidence = shift_evidence(ds, ("correlated", ()), ("independent", ()))  # "train" = correlated, "test" = independent
    llr = evidence["llr_by_episode"]
    d_train, d_test = evidence["ideal"]
    assert d_train > 0 > d_test
    low, high = bootstrap_interval(llr, np.random.default_rng(0))
    assert low < llr.mean() < high
    # the oracle: choices drawn from an observer's softmax score, on average, that observer's expected ratio
    expected = d_train if generator == "correlated" else d_test
    assert (low > 0) if generator == "correlated" else (high < 0)
    assert llr.mean() == pytest.approx(expected, rel=0.3)


def test_a_bound_is_decided_only_when_the_interval_is_on_one_side():
    from neurometarl.experiments.emergence import _shift_part, combine, side

    assert side((0.06, 0.08), 0.05) is True and side((0.01, 0.04), 0.05) is False and side((0.04, 0.06), 0.05) is None
    assert side((0.01, 0.02), 0.03, above=False) is True and side((0.02, 0.04), 0.03, above=False) is None
    assert combine([True, True]) is True and combine([True, None]) is None and combine([None, False]) is False
    # a shift: powered and above 0 passes; powered "neither" is decided; an underpowered "neither" is not
    assert _shift_part("training observer", True) is True and _shift_part("training observer", False) is None
    assert _shift_part("neither", True) is False and _shift_part("neither", False) is None
    assert _shift_part("test observer", False) is False


def test_within_episode_rule_decides_the_oracle_players():
    """The Bayes-optimal player learns within episodes and the random player does not, as the claims'
    rule decides them (intervals over 4 replicas × 150 episodes); the gain of the expected reward has the
    mean of the gain of the rewards drawn."""
    from neurometarl.experiments.emergence import bootstrap_interval, episode_statistics, side
    from neurometarl.models import make_baseline

    rng = np.random.default_rng(0)
    for name, learns in (("bayes-optimal", True), ("random", False)):
        sessions = [record_session(make_baseline(name), "bandit-correlated", 150, seed=s) for s in range(4)]
        stats = [episode_statistics(ds) for ds in sessions]
        gains = np.array([s["gain"] for s in stats])
        interval = bootstrap_interval(gains, rng)
        assert interval[0] < gains.mean() < interval[1]
        assert side(interval, 0.05) is (True if learns else False)
        assert side(interval, 0.03, above=False) is (False if learns else True)
        drawn = np.concatenate([(ds["reward"].isel(trial=slice(50, 100)).mean("trial")
                                 - ds["reward"].isel(trial=slice(0, 10)).mean("trial")).to_numpy() for ds in sessions])
        assert abs(drawn.mean() - gains.mean()) < 3 * drawn.std() / np.sqrt(drawn.size)
        assert gains.std() < drawn.std()  # the same estimand with less noise
        regret = np.concatenate([s["regret"] for s in stats])
        assert (regret.mean() < 5) if learns else (regret.mean() > 20)


@pytest.mark.slow
def test_emergence_claims_on_shipped_checkpoints(tmp_path):
    from neurometarl.cli import main
    from neurometarl.experiments import emergence, run_experiment
    from neurometarl.experiments.base import load_numbers

    card = run_experiment("emergence", tmp_path, progress=False)
    claims = {c["claim"]: c for c in card["claims"]}
    assert (tmp_path / "emergence.png").is_file()
    ds = load_numbers(tmp_path)  # numbers.nc: a labelled Dataset
    assert not (tmp_path / "numbers.json").exists()
    assert all({"long_name", "units"} <= set(ds[v].attrs) for v in ds.data_vars)
    assert ds["player"].values.tolist() == [*emergence.CONDITIONS, *emergence.REFERENCES, emergence.OWN]
    assert ds["reward_by_trial"].dims == ("player", "replica", "trial") and ds.sizes["replica"] == 4
    assert ds["rw_alpha"].dims == ("condition", "replica") and ds["unit_fraction"].dims == ("condition", "replica", "regressor")
    assert ds["shift_loglik"].dims == ("shift", "replica", "observer")
    # the stored summaries are those of the stored curves (float32 means), and the log LR that of the stored fits
    curve = ds["reward_by_trial"]
    late, early = curve.sel(trial=slice(51, 100)).mean("trial"), curve.sel(trial=slice(1, 10)).mean("trial")
    assert np.allclose(ds["gain"], late - early, atol=1e-6)
    assert np.allclose(ds["log_lr"], ds["shift_loglik"].sel(observer="train") - ds["shift_loglik"].sel(observer="test"))
    # every claim is decided from the stored per-episode statistics: the intervals bracket their means
    means = ds["by_episode"].mean(("replica", "episode"))
    assert ((ds["interval"].sel(bound="low") <= means) & (means <= ds["interval"].sel(bound="high"))).all()
    assert not any("undecided" in c["measured"] for c in claims.values())
    (tmp_path / "emergence.png").unlink()
    assert main(["figure", "emergence", "--results", str(tmp_path)]) == 0 and (tmp_path / "emergence.png").is_file()
    assert {name for name, c in claims.items() if c["pass"]} == set(EXPECTED_TO_PASS), \
        {name: c["measured"] for name, c in claims.items()}


#: the claims that pass from the shipped checkpoints; timeline_gradual, shift_training_observer and
#: shift_heldout_levels are decided fail with intervals (docs/emergence.md)
EXPECTED_TO_PASS = ("memory_learns_within_episode", "no_memory_flat", "fixed_problem_flat", "reward_lesion_chance",
                    "attention_matches_lstm", "timeline_before_plateau", "two_rates", "ppo_emerges")


def test_rise_point_is_where_the_curve_stays_above_its_level():
    from neurometarl.experiments.emergence import rise_point

    progress = np.linspace(0, 1, 5)
    assert rise_point(progress, np.array([0, 0, 0, 1, 1.0]), 0.5, 0.0, 1.0) == 0.75
    assert rise_point(progress, np.array([0, 0.6, 0.2, 0.8, 1.0]), 0.5, 0.0, 1.0) == 0.75  # a dip back below resets it
    assert rise_point(progress, np.array([0.9, 1, 1, 1, 1.0]), 0.5, 0.0, 1.0) == 0.0
    assert np.isnan(rise_point(progress, np.array([0, 1, 1, 1, 0.2]), 0.5, 0.0, 1.0))


def test_timeline_of_a_tiny_run(tmp_path):
    from neurometarl.experiments.emergence import TIMELINE, timeline

    cfg = TrainConfig(task="bandit-correlated", train_episodes=256, batch_size=32, n_units=8, snapshots=4,
                      eval_episodes=0, task_options='{"n_trials": 20}')
    train(cfg, tmp_path, progress=False)
    run = timeline(tmp_path, n_episodes=20, seed=0)
    assert run["progress"].tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]  # untrained, 3 snapshots before the end, final
    assert [set(r) for r in run["rows"]] == [set(TIMELINE)] * 5
    change = [r["weight_change"] for r in run["rows"]]
    assert np.isnan(change[0]) and all(c > 0 for c in change[1:])  # the outer learner moved the weights every interval
    assert np.isnan(run["rows"][0]["training_reward"])
    assert run["rows"][-1]["training_reward"] == pytest.approx(run["training_curve"][-1])
    assert all(np.isnan(t) or 0 <= t <= 1 for t in run["rises"])


def test_outer_rate_scales_with_the_optimizer_step(tmp_path, monkeypatch):
    """The outer learner's rate is the weight change per episode: RMSProp's step is proportional to its
    learning rate, so the same checkpoint continued at twice the learning rate (same seed: same episodes)
    changes its weights about twice as fast."""
    from neurometarl.experiments.emergence import OUTER_CONDITIONS, outer_rate

    cfg = TrainConfig(task="volatility", train_episodes=64, batch_size=16, n_units=8, unroll=100, lr=1e-3,
                      anneal_lr=False, eval_episodes=0)
    train(cfg, tmp_path, progress=False)
    rates = []
    for factor in (1, 2):
        monkeypatch.setattr(TrainConfig, "lr_at", lambda self, iteration, f=factor: self.lr * f)
        rates.append(outer_rate(tmp_path, OUTER_CONDITIONS["volatile"], n_iterations=3, seed=0))
    assert all(0 < r < 1e-2 for r in rates)
    assert rates[1] / rates[0] == pytest.approx(2.0, rel=0.15)
