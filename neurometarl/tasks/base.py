"""The batched task protocol every neurometarl task follows.

A task steps ``batch_size`` episodes in lockstep as torch tensors. Episodes have a fixed number of
trials, each trial a fixed number of steps (``periods``: e.g. fixation then choice), so a whole batch
ends together and recordings have regular ``trial`` and ``step`` axes.

    task = make_task("bandit-correlated", batch_size=128)
    obs, info = task.reset(generator)          # obs: (batch, n_obs)
    obs, reward, done, info = task.step(action)  # action: (batch,) long

``info`` describes the step whose observation was just returned (the one the subject acts on next):
``trial`` and ``period`` (batch,) long tensors plus every latent named in ``task.latents``
(e.g. ``reward_prob`` of shape (batch, n_arms)).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import ClassVar

import torch

from ..errors import ConfigError


@dataclass(frozen=True)
class Variable:
    """How a latent or recorded variable is written into a recording.

    Parameters
    ----------
    dims : extra dimensions after the leading ones, e.g. ``("arm",)``.
    long_name, units : CF attributes.
    """

    dims: tuple[str, ...]
    long_name: str
    units: str = "1"


@dataclass(frozen=True)
class TaskConfig:
    """Base for task configs: frozen, validated, serialisable."""

    def to_json(self) -> str:
        """The config as sorted-key JSON, as recordings store it (``task_config``)."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


class Task:
    """Base class for batched tasks. Subclasses set the class attributes and implement
    :meth:`_reset`, :meth:`_step` and :meth:`_observe`."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    citation: ClassVar[str] = ""
    action_names: ClassVar[tuple[str, ...]] = ()
    period_names: ClassVar[tuple[str, ...]] = ("choice",)
    choice_period: ClassVar[str] = "choice"
    #: latent task variables reported in ``info`` and recorded per trial
    latents: ClassVar[dict[str, Variable]] = {}
    #: coordinate labels for the extra latent dims, e.g. {"arm": ("left", "right")}
    latent_coords: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init__(self, config: TaskConfig, batch_size: int, device: str | torch.device = "cpu"):
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        self.config = config
        self.batch_size = int(batch_size)
        self.device = torch.device(device)

    # --- shape of an episode -------------------------------------------------------------
    @property
    def n_actions(self) -> int:
        """Number of actions, one per entry of ``action_names``."""
        return len(self.action_names)

    @property
    def n_obs(self) -> int:
        """Length of the observation vector (set by each task)."""
        raise NotImplementedError

    @property
    def n_trials(self) -> int:
        """Trials per episode (from the config)."""
        return int(self.config.n_trials)  # type: ignore[attr-defined]  # every task config has n_trials; TaskConfig has no fields

    @property
    def steps_per_trial(self) -> int:
        """Steps per trial: one per period of ``period_names``."""
        return len(self.period_names)

    @property
    def n_steps(self) -> int:
        """Steps per episode, ``n_trials`` × ``steps_per_trial``: the whole batch ends together."""
        return self.n_trials * self.steps_per_trial

    # --- stepping ----------------------------------------------------------------------
    def reset(self, generator: torch.Generator) -> tuple[torch.Tensor, dict]:
        """Start ``batch_size`` fresh episodes, drawing every random quantity from ``generator``."""
        self.generator = generator
        self.t = 0
        self._reset()
        return self._observe()

    def step(self, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict]:
        """Apply one action per episode; returns ``obs, reward, done, info`` (batch-leading)."""
        if self.t >= self.n_steps:
            raise RuntimeError("episode finished: call reset() before step()")
        reward = self._step(action.to(self.device).long())
        self.t += 1
        done = torch.full((self.batch_size,), self.t >= self.n_steps, device=self.device)
        obs, info = self._observe()
        return obs, reward, done, info

    def _timing(self) -> dict:
        """``trial`` and ``period`` for the current step, as batch tensors."""
        trial, period = divmod(min(self.t, self.n_steps - 1), self.steps_per_trial)
        full = lambda v: torch.full((self.batch_size,), v, device=self.device, dtype=torch.long)
        return {"trial": full(trial), "period": full(period)}

    def _reset(self) -> None:
        """Draw the new episodes' latent state."""
        raise NotImplementedError

    def _step(self, action: torch.Tensor) -> torch.Tensor:
        """Apply ``action`` at step ``self.t``, advance the latent state, return the (batch,) reward."""
        raise NotImplementedError

    def _observe(self) -> tuple[torch.Tensor, dict]:
        """Observation and info for step ``self.t`` (the one acted on next)."""
        raise NotImplementedError

    def uniform(self, *shape: int) -> torch.Tensor:
        """U[0, 1) draws from the task's generator, on the task's device."""
        return torch.rand(*shape, generator=self.generator, device=self.generator.device).to(self.device)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, batch_size={self.batch_size})"
