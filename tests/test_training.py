"""End to end on tiny budgets: train → checkpoint → record → schema → figure; resume; divergence."""

import dataclasses
import json

import numpy as np
import pytest
import torch
import xarray as xr

from neurometarl.agents import AgentSubject, TrainConfig, load_checkpoint, train
from neurometarl.errors import CheckpointError, ConfigError, TrainingDivergedError
from neurometarl.lab import load_recording, record_session, save_recording

TINY = TrainConfig(task="bandit-correlated", train_episodes=192, batch_size=32, n_units=16,
                   eval_episodes=50, checkpoint_every=2, task_options='{"n_trials": 20}')


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    return train(TINY, out, progress=False), out


def test_train_writes_checkpoint_config_metrics_provenance(trained):
    result, out = trained
    for name in ("checkpoint.pt", "config.json", "metrics.csv", "provenance.json", "evaluation.json"):
        assert (out / name).is_file(), name
    assert json.loads((out / "config.json").read_text())["task"] == "bandit-correlated"
    assert len(result.metrics) == TINY.n_iterations
    ev = result.evaluation
    assert 0 < ev["ratio_to_bayes_optimal"] < 1.2 and ev["episodes"] == 50


def test_checkpoint_round_trip_gives_identical_recording(trained, tmp_path):
    result, out = trained
    ckpt = load_checkpoint(out)
    assert ckpt.config == TINY and ckpt.iteration == TINY.n_iterations
    a = record_session(AgentSubject(result.agent, TINY.gamma), "bandit-correlated", 40, seed=5, batch_size=16)
    b = record_session(AgentSubject.from_checkpoint(out), "bandit-correlated", 40, seed=5, batch_size=16)
    xr.testing.assert_equal(a, b)
    assert a.sizes == {"episode": 40, "trial": 100, "step": 100, "action": 2, "unit": 16, "arm": 2}


def test_recording_schema_round_trip(trained, tmp_path):
    result, out = trained
    ds = record_session(AgentSubject.from_checkpoint(out), "bandit-fixed", 10, seed=1)
    path = save_recording(ds, tmp_path / "rec.nc")
    back = load_recording(path)
    xr.testing.assert_identical(ds, back)
    for name, var in back.data_vars.items():
        assert {"long_name", "units"} <= set(var.attrs), name
    assert back.choice.attrs["flag_meanings"] == "left right"


def test_rpe_is_td_error_of_recorded_values(trained):
    result, out = trained
    ds = record_session(AgentSubject.from_checkpoint(out), "bandit-fixed", 5, seed=2)
    v, r = ds.value.values, ds.step_reward.values
    expected_first = r[:, 0] + TINY.gamma * v[:, 1] - v[:, 0]
    np.testing.assert_allclose(ds.rpe.values[:, 0], expected_first, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ds.rpe.values[:, -1], r[:, -1] - v[:, -1], rtol=1e-5, atol=1e-6)


def test_same_seed_same_training_and_recording(trained, tmp_path):
    result, _ = trained
    again = train(dataclasses.replace(TINY, eval_episodes=0), progress=False)
    for p, q in zip(result.agent.parameters(), again.agent.parameters()):
        assert torch.equal(p, q)
    other = train(dataclasses.replace(TINY, seed=1, eval_episodes=0), progress=False)
    assert not torch.equal(next(result.agent.parameters()), next(other.agent.parameters()))


def test_interrupted_run_resumes_identically(tmp_path, monkeypatch):
    cfg = dataclasses.replace(TINY, eval_episodes=0, train_episodes=128, checkpoint_every=1)
    straight = train(cfg, tmp_path / "a", progress=False)
    import neurometarl.agents.a2c as a2c

    calls = {"n": 0}
    real = a2c.save_checkpoint

    def crash_after_two(*args, **kwargs):
        real(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(a2c, "save_checkpoint", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path / "b", progress=False)
    monkeypatch.setattr(a2c, "save_checkpoint", real)
    assert load_checkpoint(tmp_path / "b").iteration == 2
    resumed = train(cfg, tmp_path / "b", resume=True, progress=False)
    assert len(resumed.metrics) == 4
    for p, q in zip(straight.agent.parameters(), resumed.agent.parameters()):
        assert torch.equal(p, q)


def test_divergence_raises_clear_error():
    cfg = dataclasses.replace(TINY, lr=1e30, max_grad_norm=1e30, eval_episodes=0, anneal_lr=False)
    with pytest.raises(TrainingDivergedError, match="lower --lr"):
        train(cfg, progress=False)


def test_bad_config_and_checkpoint_errors(tmp_path):
    with pytest.raises(ConfigError, match="lr=-1"):
        TrainConfig(lr=-1)
    with pytest.raises(ConfigError, match="unknown task"):
        TrainConfig(task="nope")
    with pytest.raises(ConfigError, match="JSON"):
        TrainConfig(task_options="{bad")
    with pytest.raises(ConfigError, match="core must be"):
        train(dataclasses.replace(TINY, core="transformer9"), progress=False)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing")
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable"):
        load_checkpoint(tmp_path / "bad.pt")


def test_seeds_trained_in_parallel_processes_equal_those_trained_one_after_another(tmp_path):
    from neurometarl.experiments.base import train_all

    configs = [dataclasses.replace(TINY, seed=seed, eval_episodes=0) for seed in (0, 1, 2)]
    for n_workers in (1, 2):
        train_all([(cfg, tmp_path / f"w{n_workers}" / f"seed{cfg.seed}") for cfg in configs], n_workers=n_workers, progress=False)
    for cfg in configs:
        one, two = (load_checkpoint(tmp_path / f"w{n}" / f"seed{cfg.seed}" / "checkpoint.pt").agent.state_dict() for n in (1, 2))
        assert all(torch.equal(one[k], two[k]) for k in one)
    seeds = [load_checkpoint(tmp_path / "w2" / f"seed{s}" / "checkpoint.pt").agent.state_dict() for s in (0, 1)]
    assert not all(torch.equal(seeds[0][k], seeds[1][k]) for k in seeds[0])  # each process trained its own seed


def test_retrain_trains_each_training_once(tmp_path):
    """A variant that differs only in snapshots shares the run that keeps them (its weights are the same as
    without), and a variant reused from another experiment takes that experiment's finished run from the
    results folder only when its config is the same."""
    from neurometarl.experiments.base import Experiment, get_checkpoints

    cfg = dataclasses.replace(TINY, eval_episodes=0)
    plain = train(cfg, tmp_path / "plain", progress=False).agent.state_dict()
    kept = train(dataclasses.replace(cfg, snapshots=2), tmp_path / "kept", progress=False).agent.state_dict()
    assert all(torch.equal(plain[k], kept[k]) for k in plain)  # snapshots do not change training
    other_cfg = dataclasses.replace(cfg, gamma=0.8)
    other = tmp_path / "results" / "other" / "checkpoints" / "other" / "base" / "seed0"
    train(other_cfg, other, progress=False)
    exp = Experiment("mine", "", train={"plain": cfg, "timeline": dataclasses.replace(cfg, snapshots=2), "borrowed": other_cfg,
                                        "borrowed-longer": dataclasses.replace(other_cfg, train_episodes=64)},
                     analyse=None, plot=None, n_seeds=1,  # type: ignore[arg-type]
                     reuse={"borrowed": "other/base", "borrowed-longer": "other/base"})
    paths = get_checkpoints(exp, retrain=True, out_dir=tmp_path / "mine", n_seeds=1, progress=False,
                            trained_root=tmp_path / "results")
    assert paths["plain"] == paths["timeline"] == [tmp_path / "mine" / "checkpoints" / "mine" / "timeline" / "seed0"]
    assert list((paths["plain"][0] / "snapshots").glob("iter*.pt"))
    assert paths["borrowed"] == [other]  # same config: the other experiment's run
    assert paths["borrowed-longer"] == [tmp_path / "mine" / "checkpoints" / "mine" / "borrowed-longer" / "seed0"]
    assert not (tmp_path / "mine" / "checkpoints" / "mine" / "plain").exists()
    assert load_checkpoint(paths["borrowed-longer"][0]).config.train_episodes == 64
