"""What the lab needs from a subject: trained networks and baseline models alike.

A subject plays ``batch_size`` episodes in lockstep. The lab calls, for every step,

    record = subject.act(obs, info)        # record["policy"]: (batch, n_actions) probabilities
    action = sample(record["policy"])
    obs, reward, done, next_info = task.step(action)
    extra = subject.observe(action, reward, info)   # the subject learns (inside the episode)

``act`` may also return ``hidden`` (batch, n_units), ``cell`` (batch, n_units) and ``value`` (batch,);
baselines put their latent variables (posterior means, Q-values...) in ``hidden`` with ``unit_names``
naming them, so every unit analysis runs on networks and models alike. ``observe`` may return a dict
with ``rpe`` (batch,) when the subject has its own prediction error; otherwise the lab computes
δ_t = r_t + γ·V_{t+1} − V_t from ``value`` with the subject's ``gamma``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch

from ..tasks import Task


@runtime_checkable
class Subject(Protocol):
    """What the lab plays: ``batch_size`` episodes in lockstep through ``reset``, ``act`` and ``observe`` (see the
    module docstring); trained networks (:class:`~neurometarl.agents.AgentSubject`) and baseline models alike."""

    # read-only members (properties), so that a subject may narrow them: e.g. a float ``gamma``, or a property
    @property
    def name(self) -> str:
        """Label written into recordings."""
        ...

    @property
    def gamma(self) -> float | None:
        """Discount used for the lab's RPE; ``None`` when the subject reports its own RPE or has no value."""
        ...

    @property
    def unit_names(self) -> tuple[str, ...]:
        """Names of the ``hidden`` entries (units or latents); empty when the subject has none."""
        ...

    def reset(self, task: Task, generator: torch.Generator) -> None:
        """Start ``task.batch_size`` fresh episodes of ``task``, drawing any randomness of the
        subject from ``generator``."""
        ...

    def act(self, obs: torch.Tensor, info: dict) -> dict[str, torch.Tensor]:
        """Respond to ``obs`` (batch, n_obs): ``policy`` (batch, n_actions) probabilities,
        optionally ``hidden``, ``cell`` and ``value``."""
        ...

    def observe(self, action: torch.Tensor, reward: torch.Tensor, info: dict) -> dict[str, torch.Tensor] | None:
        """Learn from the step's ``action`` and ``reward`` (batch,); return ``{"rpe": (batch,)}``
        when the subject has its own prediction error, else ``None``."""
        ...

    def describe(self) -> dict:
        """JSON-serialisable description written into the recording's provenance."""
        ...
