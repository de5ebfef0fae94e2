"""The training configuration (:class:`TrainConfig`) and the network it specifies (:func:`build_agent`):
what a checkpoint stores and rebuilds, what the trainer (:mod:`neurometarl.agents.a2c`) follows."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Annotated

import torch
from tyro.conf import Positional, arg

from ..errors import ConfigError
from ..tasks import make_task, task_config
from .network import ARCHITECTURES, CORES, ENCODERS, ActorCriticAgent, Agent, EncodedRecurrentAgent, RecurrentAgent

ALGORITHMS = ("a2c", "ppo")
LEARNING_PASSES = ("sequence", "step")
MAX_BATCH = 100_000  # episodes per update: an update holds all of them (observations, states, logits) in memory
OPTIMIZERS = ("rmsprop", "adam")


@dataclass(frozen=True)
class TrainConfig:
    """A2C (or PPO) training settings.

    Defaults are the paper's (Wang et al. 2018, common network: 48-unit LSTM, γ 0.9, β_v 0.05, β_e 0.05,
    RMSProp) except where batching changes the optimum: the paper made one update per episode at
    learning rate 7e-4; we update on ``batch_size`` = 128 episodes at once, which tolerates a larger step
    (1e-2), decayed linearly to 0 with β_e annealed 0.05 → 0 so the final weights are stable. With
    128,000 episodes these reach ≥ 0.72 reward per trial on the correlated bandit (Bayes-optimal 0.737)
    and a regret of about 1.1–1.2 on the (0.25, 0.75) test problem (64,000 episodes already reach 0.72
    but left regrets of 1.2–2.1 across seeds).

    ``learning_pass="step"`` (default) is the loop the shipped checkpoints were trained with;
    ``"sequence"`` gives the same gradients to float rounding from one fused call of the core per unroll
    (same random draws, so the same seed starts the same trajectory, but rounding differences grow over
    training: a retrain is not bit-identical). ``algorithm="ppo"`` uses the ``n_epochs`` … ``clip_value``
    fields (CleanRL's defaults: 4 epochs, 4 minibatches, clip 0.2, λ 0.95, no value clipping) and the
    shared ones; the fastest PPO measured on the correlated bandit (``benchmarks/bench_peer_sb3.py``, arm
    ``ppo``) keeps A2C's shared defaults with 32 episodes a batch and 2 epochs × 2 minibatches.
    """

    task: Annotated[Positional[str], arg(metavar="TASK")] = "bandit-correlated"  # protocol name (see `neurometarl tasks`)
    seed: int = 0  # one seed for weights, episodes and actions
    train_episodes: int = 128_000  # training episodes in total
    batch_size: int = 128  # episodes stepped in lockstep per update
    unroll: int = 0  # BPTT truncation in steps (0: the whole episode)
    n_units: int = 48  # units in the recurrent core
    core: str = "lstm"  # memory core: lstm, gru, rnn, attention (slot-based key/value memory) or feedforward (no memory)
    trial_index_input: bool = False  # also feed the trial index (Wang 2016 bandits)
    lr: float = 1e-2  # learning rate of the optimizer (paper: RMSProp 7e-4 with one episode per update)
    anneal_lr: bool = True  # decay the learning rate linearly to 0 over training (stable final weights)
    gamma: float = 0.9  # discount
    value_coef: float = 0.05  # β_v
    entropy_coef: float = 0.05  # β_e at the start of training
    entropy_final: float = 0.0  # β_e at the end, annealed linearly (negative: keep entropy_coef)
    max_grad_norm: float = 50.0  # gradient clipping (L2 norm)
    rmsprop_alpha: float = 0.99  # RMSProp smoothing
    rmsprop_eps: float = 1e-5  # RMSProp epsilon
    eval_episodes: int = 300  # frozen test episodes after training
    checkpoint_every: int = 50  # iterations between checkpoints (for --resume)
    n_threads: int = 1  # torch CPU threads (0: torch's default; 1 is fastest for small networks)
    device: str = "cpu"  # cpu or cuda
    task_options: str = "{}"  # JSON object of task config overrides, e.g. '{"n_trials": 50}'
    architecture: str = "single"  # network: single (one core, Sims 1-5) or actor-critic (critic LSTM + actor LSTM fed δ, Sim 6)
    encoder: str = "none"  # before the core, for pixel tasks: none, conv (trained), conv-fixed (random, untrained) or conv-contrast (conv-fixed, slot codes minus their mean)
    snapshots: int = 0  # weight snapshots kept at evenly spaced points of training (snapshots/iterNNNNNN.pt)
    algorithm: str = "a2c"  # learner: a2c (the paper's, one update per unroll) or ppo (GAE, clipped objective, n_epochs over minibatches of whole episodes)
    learning_pass: str = "step"  # a2c gradient: step (graph built step by step during the rollout; the shipped checkpoints) or sequence (rollout without a graph, one fused core call over the stored inputs; same gradients to float rounding, faster with small batches and truncated unrolls; ppo always replays this way)
    optimizer: str = "rmsprop"  # rmsprop (paper; rmsprop_alpha, rmsprop_eps) or adam (betas 0.9/0.999, eps rmsprop_eps)
    n_epochs: int = 4  # ppo: passes over each batch of episodes
    n_minibatches: int = 4  # ppo: minibatches of whole episodes per pass (batch_size must divide evenly)
    clip_coef: float = 0.2  # ppo: clip the probability ratio to 1 ± clip_coef
    gae_lambda: float = 0.95  # ppo: λ of the generalised advantage estimate (1: n-step returns as in a2c)
    clip_value: bool = False  # ppo: also clip each value update to ± clip_coef around the rollout's value

    def __post_init__(self):
        checks = {
            "train_episodes": self.train_episodes >= 1, "batch_size": self.batch_size >= 1,
            "unroll": self.unroll >= 0, "n_units": self.n_units >= 1, "lr": self.lr > 0,
            "gamma": 0 <= self.gamma <= 1, "value_coef": self.value_coef >= 0, "entropy_coef": self.entropy_coef >= 0,
            "max_grad_norm": self.max_grad_norm > 0, "eval_episodes": self.eval_episodes >= 0,
            "checkpoint_every": self.checkpoint_every >= 1, "n_threads": self.n_threads >= 0, "seed": self.seed >= 0,
        }
        bad = [f"{k}={getattr(self, k)!r}" for k, ok in checks.items() if not ok]
        if bad:
            raise ConfigError(f"invalid training config: {', '.join(bad)} (see `neurometarl train --help` for valid ranges)")
        if self.batch_size > MAX_BATCH:
            raise ConfigError(f"batch_size={self.batch_size} is above {MAX_BATCH}: one update's episodes are held in memory")
        choices = {"core": CORES, "architecture": ARCHITECTURES, "encoder": ENCODERS, "algorithm": ALGORITHMS,
                   "learning_pass": LEARNING_PASSES, "optimizer": OPTIMIZERS}
        bad = [f"{k} must be one of {', '.join(v)} (got {getattr(self, k)!r})" for k, v in choices.items() if getattr(self, k) not in v]
        if self.snapshots < 0:
            bad.append(f"snapshots must be >= 0 (got {self.snapshots})")
        if bad:
            raise ConfigError("; ".join(bad))
        if self.algorithm == "ppo":
            ppo_checks = {"n_epochs": self.n_epochs >= 1, "clip_coef": self.clip_coef > 0, "gae_lambda": 0 <= self.gae_lambda <= 1,
                          "n_minibatches": 1 <= self.n_minibatches <= self.batch_size and self.batch_size % self.n_minibatches == 0}
            bad = [f"{k}={getattr(self, k)!r}" for k, ok in ppo_checks.items() if not ok]
            if bad:
                raise ConfigError(f"invalid ppo config: {', '.join(bad)} (n_epochs >= 1, clip_coef > 0, 0 <= gae_lambda <= 1, "
                                  f"n_minibatches dividing batch_size={self.batch_size})")
        if self.device not in ("cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ConfigError(f"device must be 'cpu' or 'cuda', got {self.device!r}")
        task_config(self.task, **self.task_overrides())  # validates the task name and options

    def task_overrides(self) -> dict:
        """``task_options`` parsed into task config overrides (JSON lists become tuples);
        :class:`ConfigError` unless it is a JSON object."""
        try:
            options = json.loads(self.task_options)
        except json.JSONDecodeError as err:
            raise ConfigError(f"task_options must be a JSON object, got {self.task_options!r} ({err})") from None
        if not isinstance(options, dict):
            raise ConfigError(f"task_options must be a JSON object, got {self.task_options!r}")
        return {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}

    @property
    def n_iterations(self) -> int:
        """Updates in the whole run: ``train_episodes`` / ``batch_size``, rounded up."""
        return math.ceil(self.train_episodes / self.batch_size)

    def progress(self, iteration: int) -> float:
        """Fraction of training done before ``iteration`` (0 at the start, 1 at the last iteration)."""
        return iteration / max(self.n_iterations - 1, 1)

    def entropy_at(self, iteration: int) -> float:
        """β_e at ``iteration``: annealed linearly from ``entropy_coef`` to ``entropy_final`` over
        training (``entropy_coef`` throughout when ``entropy_final`` < 0)."""
        if self.entropy_final < 0:
            return self.entropy_coef
        return self.entropy_coef + self.progress(iteration) * (self.entropy_final - self.entropy_coef)

    def lr_at(self, iteration: int) -> float:
        """Learning rate at ``iteration``: ``lr`` decayed linearly toward 0 over ``n_iterations``
        when ``anneal_lr``, else ``lr``."""
        return self.lr * (1 - iteration / self.n_iterations) if self.anneal_lr else self.lr

    def snapshot_iterations(self) -> set[int]:
        """Iterations (1-based, after the update) at which a weight snapshot is kept: evenly spaced, last included."""
        if not self.snapshots:
            return set()
        return {max(1, round(self.n_iterations * (k + 1) / self.snapshots)) for k in range(self.snapshots)}


def config_from_dict(values: dict) -> TrainConfig:
    """Rebuild a :class:`TrainConfig` from a saved dict, naming unknown keys clearly."""
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"unknown training option(s) {sorted(unknown)}; valid: {sorted(known)}")
    return TrainConfig(**values)


def build_agent(cfg: TrainConfig) -> Agent:
    """The network for ``cfg``'s task, initialised from ``cfg.seed`` without touching global RNG state."""
    probe = make_task(cfg.task, 1, "cpu", **cfg.task_overrides())
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        if cfg.architecture == "actor-critic":
            if cfg.encoder != "none":
                raise ConfigError("the actor-critic architecture takes no encoder; use encoder='none'")
            return ActorCriticAgent(probe.n_obs, probe.n_actions, cfg.n_units, cfg.gamma, cfg.core,
                                    cfg.trial_index_input, probe.n_trials)
        if cfg.encoder.startswith("conv"):
            if len(getattr(probe, "obs_shape", ())) != 3:
                raise ConfigError(f"encoder='conv' needs a task with image observations (e.g. harlow-pixel); {cfg.task!r} has none")
            return EncodedRecurrentAgent(probe.obs_shape, probe.n_actions, cfg.n_units, cfg.core,
                                         cfg.trial_index_input, probe.n_trials, n_slots=getattr(probe, "n_slots", 1),
                                         train_encoder=cfg.encoder == "conv", contrast=cfg.encoder == "conv-contrast")
        return RecurrentAgent(probe.n_obs, probe.n_actions, cfg.n_units, cfg.core,
                              cfg.trial_index_input, probe.n_trials)
