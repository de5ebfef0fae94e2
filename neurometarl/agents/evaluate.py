"""Frozen-weight evaluation of a trained agent against the task's Bayes-optimal reference."""

from __future__ import annotations

from ..errors import ConfigError
from ..lab import record_session
from ..tasks import make_task
from .subject import AgentSubject


def evaluate(agent, cfg, n_episodes: int = 300, seed: int = 10_000) -> dict:
    """Mean reward per trial of ``agent`` (weights frozen) on ``n_episodes`` of its training task, and of
    the Bayes-optimal baseline on the same episodes (same seed) where one exists for the task."""
    task = make_task(cfg.task, min(n_episodes, 500), cfg.device, **cfg.task_overrides())
    ds = record_session(AgentSubject(agent, cfg.gamma), task, n_episodes, seed, device=cfg.device)
    result = {"task": cfg.task, "episodes": n_episodes, "seed": seed,
              "agent_reward_per_trial": float(ds.reward.mean())}
    try:
        from ..models import make_baseline

        ref = record_session(make_baseline("bayes-optimal"), task, n_episodes, seed, device=cfg.device)
    except ConfigError:  # no Bayes-optimal baseline for this protocol
        return result
    result["bayes_optimal_reward_per_trial"] = float(ref.reward.mean())
    result["ratio_to_bayes_optimal"] = result["agent_reward_per_trial"] / result["bayes_optimal_reward_per_trial"]
    return result
