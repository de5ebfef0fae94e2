"""The GPU path (`--device cuda`): opt-in, skipped cleanly where torch sees no CUDA device."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from neurometarl.agents import AgentSubject, TrainConfig, load_checkpoint, train
from neurometarl.cli import main
from neurometarl.lab import record_session
from neurometarl.models import make_baseline
from neurometarl.sweep import SweepConfig, run_sweep

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")]

TINY = TrainConfig(task="bandit-correlated", train_episodes=256, batch_size=64, n_units=16, eval_episodes=50,
                   checkpoint_every=1, task_options='{"n_trials": 20}', device="cuda")


def test_training_runs_on_the_gpu_and_checkpoints_load_anywhere(tmp_path):
    result = train(TINY, tmp_path / "run", progress=False)
    assert all(p.device.type == "cuda" for p in result.agent.parameters())
    assert np.isfinite(result.metrics[["loss", "reward_per_trial"]].to_numpy()).all()
    assert 0 < result.evaluation["ratio_to_bayes_optimal"] < 1.2
    on_cpu = AgentSubject.from_checkpoint(tmp_path / "run", "cpu")
    on_gpu = AgentSubject.from_checkpoint(tmp_path / "run", "cuda")
    a = record_session(on_cpu, "bandit-correlated", 20, seed=3)
    b = record_session(on_gpu, "bandit-correlated", 20, seed=3, device="cuda")
    assert a.sizes == b.sizes and b.attrs["task"] == "bandit-correlated"
    # the same weights give the same policy on both devices for the same inputs
    ckpt_cpu, ckpt_gpu = load_checkpoint(tmp_path / "run", "cpu"), load_checkpoint(tmp_path / "run", "cuda")
    x = torch.randn(8, 4)
    out_cpu = ckpt_cpu.agent(x, ckpt_cpu.agent.initial_state(8))[0]
    out_gpu = ckpt_gpu.agent(x.cuda(), ckpt_gpu.agent.initial_state(8))[0].cpu()
    torch.testing.assert_close(out_cpu, out_gpu, rtol=1e-4, atol=1e-4)


def test_resume_on_the_gpu(tmp_path):
    cfg = dataclasses.replace(TINY, eval_episodes=0)
    short = dataclasses.replace(cfg, train_episodes=128)
    train(short, tmp_path / "a", progress=False)
    ckpt = load_checkpoint(tmp_path / "a", "cuda")
    assert ckpt.generator_state.dtype == torch.uint8
    # a finished shorter run cannot resume under a different config; a same-config resume is a no-op
    again = train(short, tmp_path / "a", resume=True, progress=False)
    assert len(again.metrics) == short.n_iterations


def test_baselines_and_sweeps_on_the_gpu(tmp_path):
    ds = record_session(make_baseline("bayes-optimal"), "bandit-independent", 20, seed=1, device="cuda")
    assert 0.5 < float(ds.reward.mean()) < 1
    config = SweepConfig(tasks=("bandit-fixed",), seeds=(0,), train={"train_episodes": 128, "batch_size": 64,
                         "n_units": 8, "task_options": {"n_trials": 20}}, test={"episodes": 20})
    (result,) = run_sweep(config.runs(device="cuda"), tmp_path / "sweep")
    assert result["status"] == "done" and result["config"]["device"] == "cuda"


def test_cli_train_device_cuda(tmp_path, capsys):
    assert main(["train", "bandit-fixed", "--out", str(tmp_path / "c"), "--train-episodes", "128", "--batch-size", "64",
                 "--n-units", "8", "--eval-episodes", "20", "--device", "cuda", "--quiet"]) == 0
    assert json.loads((tmp_path / "c" / "config.json").read_text())["device"] == "cuda"
    assert "frozen test" in capsys.readouterr().out


def test_sequence_pass_and_ppo_on_the_gpu():
    """The fused learning pass (cuDNN kernels on the cells' weights) gives the CPU's gradients on the same
    batch to 1e-4, and A2C with it and PPO train on the GPU."""
    import copy

    from neurometarl.agents.a2c import a2c_loss, build_agent, collect, replay, start_episodes
    from neurometarl.seeding import make_generator
    from neurometarl.tasks import make_task

    for core in ("lstm", "gru", "rnn", "attention"):
        cfg = dataclasses.replace(TINY, core=core, device="cpu")
        agent, task = build_agent(cfg), make_task(cfg.task, 8, **cfg.task_overrides())
        rollout, _ = collect(agent, task, start_episodes(agent, task, make_generator(0)), 20, make_generator(0))

        def gradients(device):
            moved = copy.deepcopy(agent).to(device)
            batch = dataclasses.replace(rollout, **{k: getattr(rollout, k).to(device) for k in
                                                    ("inputs", "actions", "rewards", "logits", "values", "bootstrap")})
            loss = a2c_loss(*replay(moved, [batch]), batch, cfg, 0.05)[0]
            return [None if g is None else g.cpu()
                    for g in torch.autograd.grad(loss, list(moved.parameters()), allow_unused=True)]

        for g_cpu, g_gpu in zip(gradients("cpu"), gradients("cuda")):
            if g_cpu is not None:
                torch.testing.assert_close(g_gpu, g_cpu, rtol=1e-4, atol=1e-4)
    for cfg in (dataclasses.replace(TINY, learning_pass="sequence", eval_episodes=0),
                dataclasses.replace(TINY, algorithm="ppo", n_minibatches=4, eval_episodes=0)):
        result = train(cfg, progress=False)
        assert np.isfinite(result.metrics[["loss", "reward_per_trial"]].to_numpy()).all()
