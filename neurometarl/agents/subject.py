"""A trained network as a lab subject: weights frozen, activity recorded."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from torch.nn import functional as F

from ..errors import CheckpointError
from .checkpoint import load_checkpoint
from .network import Agent


class AgentSubject:
    """Plays a task with a frozen :class:`RecurrentAgent`, recording ``hidden``, ``cell``, ``value``, ``policy``.

    Parameters
    ----------
    agent : the trained network.
    gamma : discount for the lab's RPE (the training γ).
    name : label written into recordings (e.g. the checkpoint path).
    """

    def __init__(self, agent: Agent, gamma: float, name: str = "agent", description: dict | None = None):
        self.agent, self.gamma, self.name = agent.eval(), gamma, name
        self.unit_names = getattr(agent, "unit_names", None) or tuple(f"unit{i:03d}" for i in range(agent.n_units))
        self._description = description or {}

    @classmethod
    def from_checkpoint(cls, path, device: str = "cpu") -> "AgentSubject":
        """The subject of a saved network (file or folder), described for the recording's provenance
        by its path, SHA-256, training config and iteration."""
        ckpt = load_checkpoint(path, device)
        return cls(ckpt.agent, ckpt.config.gamma, name=str(ckpt.path),
                   description={"checkpoint": str(ckpt.path), "checkpoint_sha256": ckpt.sha256,
                                "train_config": dataclasses.asdict(ckpt.config), "iteration": ckpt.iteration})

    def check_task(self, task) -> None:
        """Refuse a task whose observations or actions differ from the ones the network was trained on."""
        trained = self._description.get("train_config", {}).get("task", "its training task")
        for size in ("n_obs", "obs_shape", "n_actions"):
            want, got = getattr(self.agent, size, None), getattr(task, size, None)
            if want is not None and got is not None and tuple(np.atleast_1d(want)) != tuple(np.atleast_1d(got)):
                raise CheckpointError(
                    f"{self.name} was trained on {trained} ({size} {want}) and cannot play {task.name} "
                    f"({size} {got}); record it on {trained} or a task with the same observations and actions")

    def reset(self, task, generator):
        """Start ``task.batch_size`` episodes: refuse a task the network cannot play (:meth:`check_task`), set
        its initial state, zero the previous action and reward (the network draws nothing from ``generator``)."""
        self.check_task(task)
        b, dev = task.batch_size, task.device
        self.n_actions = task.n_actions
        self.state = self.agent.initial_state(b)
        self.prev_action = torch.zeros(b, task.n_actions, device=dev)
        self.prev_reward = torch.zeros(b, device=dev)

    @torch.no_grad()
    def act(self, obs, info):
        """One step of the frozen network: ``policy`` (batch, n_actions) probabilities, ``hidden``
        (batch, n_units), ``value`` (batch,) and, for an LSTM core, ``cell`` (batch, n_units)."""
        x = self.agent.make_input(obs, self.prev_action, self.prev_reward, info["trial"])
        logits, value, h, self.state = self.agent(x, self.state)
        record = {"policy": torch.softmax(logits, 1), "hidden": h, "value": value}
        if len(self.state) == 2:
            record["cell"] = self.state[1]
        return record

    def observe(self, action, reward, info):
        """Keep the step's action (one-hot) and reward as the next step's input; returns ``None``
        (the lab computes δ from ``value``)."""
        self.prev_action = F.one_hot(action, self.n_actions).float()
        self.prev_reward = reward
        return None

    def describe(self) -> dict:
        """The subject's name, plus its checkpoint's path, SHA-256, training config and iteration
        when loaded from one."""
        return {"name": self.name, **self._description}
