"""Batched advantage actor-critic (A2C), the "dopamine" learner that trains the network's weights, and PPO.

Read top to bottom: seeding → task and network → training loop, one function per phase:
``collect`` steps ``batch_size`` episodes in lockstep for one unroll and stores what the agent saw and
did; ``replay`` recomputes the unroll's logits and values with one sequence-level call of the core
(``learning_pass="sequence"``), or the step loop's graph is kept from the rollout (``"step"``, the
default); ``a2c_loss`` / ``ppo_loss`` and ``optimize`` make the update → checkpoint → frozen evaluation.
A2C loss per step (Wang et al. 2018): ``−log π(a)·A + β_v·½·A² − β_e·H(π)``, with A = G − V and G the
n-step bootstrapped return; one update per unroll. PPO (``algorithm="ppo"``) collects whole episodes,
then makes ``n_epochs`` passes over minibatches of them with the clipped objective and GAE(λ).
The settings (:class:`~neurometarl.agents.config.TrainConfig`) and the network they specify
(:func:`~neurometarl.agents.config.build_agent`) are in :mod:`neurometarl.agents.config`, which the
checkpoints that store them also read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import torch
from torch.nn import functional as F

from ..errors import ConfigError, TrainingDivergedError
from ..io import write_json
from ..lab.session import sample_actions
from ..progress import progress_bar
from ..seeding import make_generator
from ..tasks import make_task
from .checkpoint import load_checkpoint, save_checkpoint, save_snapshot
from .config import TrainConfig, build_agent
from .evaluate import evaluate
from .network import Agent, State


@dataclass
class TrainResult:
    """What :func:`train` returns: the trained network (eval mode), its config, the training metrics
    (one row per update), the frozen-weight evaluation (empty when ``eval_episodes`` is 0) and the
    output folder (``None`` when nothing was written)."""

    agent: Agent
    config: TrainConfig
    metrics: pd.DataFrame
    evaluation: dict = field(default_factory=dict)
    out_dir: Path | None = None


class Carry(NamedTuple):
    """Where the batch of episodes stands between unrolls: the next step's observation and the agent's memory."""

    obs: torch.Tensor  # (batch, n_obs)
    info: dict
    prev_action: torch.Tensor  # (batch, n_actions) one-hot, zeros before the first step
    prev_reward: torch.Tensor  # (batch,)
    state: State  # the agent's state (detached after an episode's first step)
    step: int  # steps already taken in the episode


@dataclass
class Rollout:
    """One unroll of the batch, every tensor (steps, batch, ...): what the learner needs to replay it."""

    first: bool  # the unroll starts the episode (the learner then starts from the learned initial state)
    state: State  # the agent's state before the unroll (detached)
    inputs: torch.Tensor  # (steps, batch, n_inputs) what the agent saw
    actions: torch.Tensor  # (steps, batch) long
    rewards: torch.Tensor  # (steps, batch)
    logits: torch.Tensor  # (steps, batch, n_actions) of the acting policy (with its graph for learning_pass='step')
    values: torch.Tensor  # (steps, batch) likewise
    bootstrap: torch.Tensor  # (batch,) V of the state after the unroll, 0 where the episode ended


def start_episodes(agent, task, generator: torch.Generator) -> Carry:
    obs, info = task.reset(generator)
    b, device = task.batch_size, obs.device
    return Carry(obs, info, torch.zeros(b, task.n_actions, device=device), torch.zeros(b, device=device),
                 agent.initial_state(b), 0)


def collect(agent, task, carry: Carry, n_steps: int, generator: torch.Generator, *,
            keep_graph: bool = False) -> tuple[Rollout, Carry]:
    """Step the batch ``n_steps`` steps with actions drawn from the agent's policy; without a graph unless
    ``keep_graph`` (the step-by-step learning pass learns from the graph built here)."""
    obs, info, prev_action, prev_reward, state, step = carry
    steps: dict[str, list[torch.Tensor]] = {"inputs": [], "actions": [], "rewards": [], "logits": [], "values": []}
    with torch.set_grad_enabled(keep_graph):
        for _ in range(n_steps):
            x = agent.make_input(obs, prev_action, prev_reward, info["trial"])
            logits, value, _, state = agent(x, state)
            action = sample_actions(F.log_softmax(logits, dim=1).exp().detach(), generator)
            obs, reward, done, info = task.step(action)
            for key, v in zip(steps, (x, action, reward, logits, value)):
                steps[key].append(v)
            prev_action, prev_reward = F.one_hot(action, task.n_actions).float(), reward
    with torch.no_grad():  # n-step returns bootstrap from V of the next state unless the episode ended
        x = agent.make_input(obs, prev_action, prev_reward, info["trial"])
        bootstrap = torch.zeros_like(prev_reward) if bool(done.all()) else agent(x, state)[1]
    rollout = Rollout(step == 0, tuple(s.detach() for s in carry.state), bootstrap=bootstrap,
                      **{key: torch.stack(v) for key, v in steps.items()})
    return rollout, Carry(obs, info, prev_action, prev_reward, tuple(s.detach() for s in state), step + n_steps)


def replay(agent, rollouts: list[Rollout], episodes: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits (steps, batch, n_actions) and values (steps, batch) of the stored steps under the current weights:
    per unroll, one sequence-level call of the core from the stored state (the learned initial state at an
    episode's start); ``episodes`` picks batch rows."""
    logits, values = [], []
    for r in rollouts:
        inputs = r.inputs if episodes is None else r.inputs[:, episodes]
        if r.first:
            state = agent.initial_state(inputs.shape[1])
        else:
            state = r.state if episodes is None else tuple(s[episodes] for s in r.state)
        step_logits, step_values, _ = agent.forward_sequence(inputs, state)
        logits.append(step_logits)
        values.append(step_values)
    return torch.cat(logits), torch.cat(values)


def discounted_returns(rewards: torch.Tensor, bootstrap: torch.Tensor, gamma: float) -> torch.Tensor:
    """n-step returns G_t = r_t + γ·G_{t+1}, G after the last step = ``bootstrap``; (steps, batch)."""
    ret, returns = bootstrap, []
    for r in reversed(rewards):
        ret = r + gamma * ret
        returns.append(ret)
    return torch.stack(returns[::-1])


def generalised_advantages(rewards, values, bootstrap, gamma: float, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """GAE(λ) advantages and the returns they imply (advantage + value), (steps, batch) each."""
    advantages, last, next_value = torch.zeros_like(rewards), torch.zeros_like(bootstrap), bootstrap
    for t in reversed(range(rewards.shape[0])):
        last = rewards[t] + gamma * next_value - values[t] + gamma * lam * last
        advantages[t], next_value = last, values[t]
    return advantages, advantages + values


def policy_terms(logits: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """log π(a) of the taken actions and the policy's entropy, (steps, batch) each."""
    log_policy = F.log_softmax(logits, dim=-1)
    return log_policy.gather(-1, actions[..., None])[..., 0], -(log_policy.exp() * log_policy).sum(-1)


def a2c_loss(logits, values, rollout: Rollout, cfg: TrainConfig, entropy_coef: float) -> tuple[torch.Tensor, dict]:
    """``−log π(a)·A + β_v·½·A² − β_e·H(π)`` averaged over the unroll, A = G − V with n-step returns G."""
    log_probs, entropies = policy_terms(logits, rollout.actions)
    advantage = discounted_returns(rollout.rewards, rollout.bootstrap, cfg.gamma) - values
    policy_loss = -(log_probs * advantage.detach()).mean()
    value_loss = 0.5 * advantage.pow(2).mean()
    loss = policy_loss + cfg.value_coef * value_loss - entropy_coef * entropies.mean()
    return loss, {"entropy": entropies.mean(), "value_loss": value_loss}


def ppo_loss(logits, values, batch: dict, cfg: TrainConfig, entropy_coef: float) -> tuple[torch.Tensor, dict]:
    """Clipped surrogate ``−min(ρ·Â, clip(ρ, 1 ± ε)·Â) + β_v·½·(V − G)² − β_e·H(π)`` on one minibatch,
    ρ = π(a)/π_old(a), Â the GAE advantages normalised over the minibatch; the value term optionally clipped."""
    log_probs, entropies = policy_terms(logits, batch["actions"])
    log_ratio = log_probs - batch["log_probs"]
    ratio = log_ratio.exp()
    adv = batch["advantages"]
    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    policy_loss = torch.max(-adv * ratio, -adv * ratio.clamp(1 - cfg.clip_coef, 1 + cfg.clip_coef)).mean()
    value_error = (values - batch["returns"]).pow(2)
    if cfg.clip_value:
        clipped = batch["values"] + (values - batch["values"]).clamp(-cfg.clip_coef, cfg.clip_coef)
        value_error = torch.max(value_error, (clipped - batch["returns"]).pow(2))
    value_loss = 0.5 * value_error.mean()
    loss = policy_loss + cfg.value_coef * value_loss - entropy_coef * entropies.mean()
    with torch.no_grad():
        approx_kl = ((ratio - 1) - log_ratio).mean()
        clip_fraction = ((ratio - 1).abs() > cfg.clip_coef).float().mean()
    return loss, {"entropy": entropies.mean(), "value_loss": value_loss, "approx_kl": approx_kl, "clip_fraction": clip_fraction}


def optimize(optimizer, agent, loss: torch.Tensor, cfg: TrainConfig, iteration: int) -> None:
    """One gradient step on ``loss`` with the gradient's L2 norm clipped to ``max_grad_norm``."""
    if not torch.isfinite(loss):
        raise TrainingDivergedError(
            f"loss became {loss.item()} at iteration {iteration}; lower --lr (now {cfg.lr}) or --max-grad-norm")
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(agent.parameters(), cfg.max_grad_norm)
    optimizer.step()


def a2c_iteration(agent, task, optimizer, generator, cfg: TrainConfig, iteration: int, entropy_coef: float) -> dict:
    """One batch of episodes, one A2C update per unroll (the weights change between unrolls)."""
    unroll = cfg.unroll or task.n_steps
    carry = start_episodes(agent, task, generator)
    totals = {"reward": 0.0, "loss": 0.0, "entropy": 0.0, "value_loss": 0.0}
    while carry.step < task.n_steps:
        n_steps = min(unroll, task.n_steps - carry.step)
        rollout, carry = collect(agent, task, carry, n_steps, generator, keep_graph=cfg.learning_pass == "step")
        logits, values = (rollout.logits, rollout.values) if cfg.learning_pass == "step" else replay(agent, [rollout])
        loss, stats = a2c_loss(logits, values, rollout, cfg, entropy_coef)
        optimize(optimizer, agent, loss, cfg, iteration)
        totals["reward"] += rollout.rewards.sum().item()
        for key, value in {"loss": loss, **stats}.items():
            totals[key] += value.item() * n_steps
    return {key: value / task.n_steps if key != "reward" else value for key, value in totals.items()}


def ppo_iteration(agent, task, optimizer, generator, cfg: TrainConfig, iteration: int, entropy_coef: float) -> dict:
    """One batch of whole episodes collected with the weights fixed, then ``n_epochs`` passes over
    ``n_minibatches`` minibatches of whole episodes (a shuffled split of the batch each pass)."""
    unroll = cfg.unroll or task.n_steps
    carry, rollouts = start_episodes(agent, task, generator), []
    while carry.step < task.n_steps:
        rollout, carry = collect(agent, task, carry, min(unroll, task.n_steps - carry.step), generator)
        rollouts.append(rollout)
    actions, rewards = torch.cat([r.actions for r in rollouts]), torch.cat([r.rewards for r in rollouts])
    values = torch.cat([r.values for r in rollouts])
    advantages, returns = generalised_advantages(rewards, values, rollouts[-1].bootstrap, cfg.gamma, cfg.gae_lambda)
    data = {"actions": actions, "log_probs": policy_terms(torch.cat([r.logits for r in rollouts]), actions)[0],
            "advantages": advantages, "returns": returns, "values": values}
    totals: dict[str, float] = {}
    for _ in range(cfg.n_epochs):
        order = torch.randperm(task.batch_size, generator=generator, device=generator.device).to(actions.device)
        for episodes in order.chunk(cfg.n_minibatches):
            logits, new_values = replay(agent, rollouts, episodes)
            loss, stats = ppo_loss(logits, new_values, {k: v[:, episodes] for k, v in data.items()}, cfg, entropy_coef)
            optimize(optimizer, agent, loss, cfg, iteration)
            for key, value in {"loss": loss, **stats}.items():
                totals[key] = totals.get(key, 0.0) + value.item() / (cfg.n_epochs * cfg.n_minibatches)
    return {"reward": rewards.sum().item(), **totals}


def make_optimizer(agent, cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(agent.parameters(), lr=cfg.lr, eps=cfg.rmsprop_eps)
    return torch.optim.RMSprop(agent.parameters(), lr=cfg.lr, alpha=cfg.rmsprop_alpha, eps=cfg.rmsprop_eps)


def train(cfg: TrainConfig, out_dir: str | Path | None = None, *, resume: bool = False,
          progress: bool = True) -> TrainResult:
    """Train a meta-RL agent with batched A2C (or PPO); write ``checkpoint.pt``, ``config.json``,
    ``metrics.csv`` and ``provenance.json`` into ``out_dir`` (if given)."""
    if cfg.n_threads:
        torch.set_num_threads(cfg.n_threads)
    out_dir = Path(out_dir) if out_dir is not None else None
    device = torch.device(cfg.device)
    generator = make_generator(cfg.seed, device)
    task = make_task(cfg.task, cfg.batch_size, device, **cfg.task_overrides())
    agent = build_agent(cfg).to(device)
    optimizer = make_optimizer(agent, cfg)
    start, metrics, elapsed_before = 0, [], 0.0
    if resume and out_dir is not None and (out_dir / "checkpoint.pt").exists():
        ckpt = load_checkpoint(out_dir / "checkpoint.pt", device=device)
        if ckpt.config != cfg:
            raise ConfigError(f"--resume: {out_dir} was trained with a different config; use a new --out or the same options")
        agent.load_state_dict(ckpt.agent.state_dict())
        optimizer.load_state_dict(ckpt.optimizer_state)
        generator.set_state(ckpt.generator_state.cpu())  # loaded onto `device`; a CUDA generator's state is a CPU tensor
        start, metrics = ckpt.iteration, ckpt.metrics
        elapsed_before = metrics[-1]["elapsed_s"] if metrics else 0.0
    learn = ppo_iteration if cfg.algorithm == "ppo" else a2c_iteration
    snapshot_at = cfg.snapshot_iterations()
    started = time.perf_counter()
    bar = progress_bar(range(start, cfg.n_iterations), desc=f"train {cfg.task}", show=progress, initial=start,
                       total=cfg.n_iterations)
    for iteration in bar:
        entropy_coef = cfg.entropy_at(iteration)
        for group in optimizer.param_groups:
            group["lr"] = cfg.lr_at(iteration)
        totals = learn(agent, task, optimizer, generator, cfg, iteration, entropy_coef)
        elapsed = elapsed_before + time.perf_counter() - started
        row = {
            "iteration": iteration + 1,
            "episodes": (iteration + 1) * cfg.batch_size,
            "env_steps": (iteration + 1) * cfg.batch_size * task.n_steps,
            "reward_per_trial": totals.pop("reward") / (cfg.batch_size * task.n_trials),
            **totals,
            "entropy_coef": entropy_coef,
            "elapsed_s": round(elapsed, 3),
        }
        metrics.append(row)
        bar.set_postfix(reward=f"{row['reward_per_trial']:.3f}", entropy=f"{row['entropy']:.2f}")
        last = iteration + 1 == cfg.n_iterations
        if out_dir is not None and ((iteration + 1) % cfg.checkpoint_every == 0 or last):
            save_checkpoint(out_dir, agent, cfg, optimizer, generator, iteration + 1, metrics)
        if out_dir is not None and iteration + 1 in snapshot_at:
            save_snapshot(out_dir / "snapshots" / f"iter{iteration + 1:06d}.pt", agent, cfg, iteration + 1, metrics)
    bar.close()
    result = TrainResult(agent.eval(), cfg, pd.DataFrame(metrics), out_dir=out_dir)
    if cfg.eval_episodes:
        result.evaluation = evaluate(agent, cfg, cfg.eval_episodes, seed=cfg.seed + 10_000)
        if out_dir is not None:
            write_json(out_dir / "evaluation.json", result.evaluation)
    return result


__all__ = ["TrainConfig", "TrainResult", "train", "build_agent"]
