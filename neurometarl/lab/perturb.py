"""Perturbations of a trained network during a frozen-weight session: the lab's lesions and optogenetics.

Wrap a network subject with one or more perturbations and record it like any subject; the
perturbations are written into the recording's attrs (``perturbations``, a JSON list)::

    subject = perturb(AgentSubject.from_checkpoint(path),
                      ShiftRPE(-4.0, when=Event(action="risky_action", reward_min=4)))
    ds = record_session(subject, "risk", 1333, seed=0)

Perturbations (all usable on every protocol; events are described in the task's own terms):

- :class:`ShiftRPE` / :class:`ClampRPE`: add to / replace the RPE δ fed to the actor, on the outcomes
  matching an :class:`Event` (needs a network whose actor reads δ, ``architecture='actor-critic'``).
- :class:`SilenceUnits` / :class:`ClampUnits`: hold chosen units at 0 / at a value at every step (the
  held value is also what the network carries to the next step).
- :class:`RemoveInput`: replace an input channel (``observation``, ``action``, ``reward``, ``trial``) by
  zeros, e.g. the reward input, which leaves a bandit-trained network at chance (Wang et al. 2016).

An :class:`Event` is judged on the outcome just observed — the action taken at the previous step and the
reward it earned — because that is what the δ at the next step reports.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Sequence

import torch

from ..errors import ConfigError

CHANNELS = ("observation", "action", "reward", "trial")


@dataclass(frozen=True)
class Event:
    """Which outcomes a perturbation acts on (every condition given must hold; none given: every outcome).

    Parameters
    ----------
    action : the action taken — an index, an action name (``"left"``), or the name of a task latent
        holding an action index per episode (``"risky_action"`` in the risk task); None: any action.
    reward_min, reward_max : inclusive bounds on the reward the action earned; None: unbounded.
    period : name of the trial period whose action it was (e.g. ``"choice"``); None: any period.
    """

    action: int | str | None = None
    reward_min: float | None = None
    reward_max: float | None = None
    period: str | None = None

    def mask(self, task, action: torch.Tensor, reward: torch.Tensor, info: dict) -> torch.Tensor:
        """(batch,) bool: which episodes' outcome (``action``, ``reward`` at the step described by ``info``) match."""
        hit = torch.ones_like(reward, dtype=torch.bool)
        if self.action is not None:
            if isinstance(self.action, int):
                target = torch.full_like(action, self.action)
            elif self.action in task.action_names:
                target = torch.full_like(action, task.action_names.index(self.action))
            elif self.action in info:
                target = info[self.action].to(action.device).long()
            else:
                raise ConfigError(f"Event action {self.action!r} is neither an action of {task.name!r} "
                                  f"{task.action_names} nor one of its latents {sorted(task.latents)}")
            hit &= action == target
        if self.reward_min is not None:
            hit &= reward >= self.reward_min
        if self.reward_max is not None:
            hit &= reward <= self.reward_max
        if self.period is not None:
            if self.period not in task.period_names:
                raise ConfigError(f"Event period {self.period!r} is not a period of {task.name!r}: {task.period_names}")
            hit &= info["period"].to(action.device) == task.period_names.index(self.period)
        return hit


class Perturbation:
    """Base class: a JSON-describable change to the network's activity during a session."""

    kind = ""

    def to_dict(self) -> dict:
        """JSON-ready form: ``kind`` plus the fields (``when`` as a dict); :func:`condition_from_dict` reverses it."""
        fields = dataclasses.asdict(self)  # type: ignore[call-overload]  # every subclass is a dataclass
        return {"kind": self.kind, **fields}


@dataclass(frozen=True)
class ShiftRPE(Perturbation):
    """Add ``amount`` to the δ fed to the actor on outcomes matching ``when`` (dopamine stimulation or block)."""

    amount: float
    when: Event = Event()
    kind = "shift_rpe"


@dataclass(frozen=True)
class ClampRPE(Perturbation):
    """Replace the δ fed to the actor by ``value`` on outcomes matching ``when``."""

    value: float
    when: Event = Event()
    kind = "clamp_rpe"


@dataclass(frozen=True)
class ClampUnits(Perturbation):
    """Hold ``units`` (indices or unit names) at ``value`` at every step."""

    units: tuple
    value: float
    kind = "clamp_units"


@dataclass(frozen=True)
class SilenceUnits(Perturbation):
    """Hold ``units`` (indices or unit names) at 0 at every step (a lesion)."""

    units: tuple
    kind = "silence_units"


@dataclass(frozen=True)
class RemoveInput(Perturbation):
    """Replace input ``channel`` (observation, action, reward or trial) by zeros at every step."""

    channel: str
    kind = "remove_input"

    def __post_init__(self):
        if self.channel not in CHANNELS:
            raise ConfigError(f"RemoveInput channel must be one of {CHANNELS}, got {self.channel!r}")


def _input_slices(agent) -> dict[str, slice]:
    """Where each channel sits in the network's step input (obs ‖ prev action ‖ prev reward ‖ trial)."""
    a = agent.n_obs + agent.n_actions
    slices = {"observation": slice(0, agent.n_obs), "action": slice(agent.n_obs, a), "reward": slice(a, a + 1)}
    if getattr(agent, "trial_index_input", False):
        slices["trial"] = slice(a + 1, a + 2)
    return slices


class PerturbedSubject:
    """A network subject (:class:`neurometarl.agents.AgentSubject`) playing under perturbations.

    Behaves as the wrapped subject in every respect (name, units, RPE) except that its network runs
    with the perturbations' hooks; ``recording_attrs`` adds them to the recording's attrs.

    Parameters
    ----------
    subject : the network subject (it must have ``agent``, ``state``, ``prev_action``, ``prev_reward``).
    perturbations : the perturbations, applied together.
    """

    def __init__(self, subject, perturbations: Sequence[Perturbation]):
        if not hasattr(subject, "agent"):
            raise ConfigError(f"perturbations act on a network's activity; {type(subject).__name__} has no network")
        for p in perturbations:
            if not isinstance(p, Perturbation):
                raise ConfigError(f"not a perturbation: {p!r} (use ShiftRPE, ClampRPE, ClampUnits, SilenceUnits, RemoveInput)")
            if isinstance(p, (ShiftRPE, ClampRPE)) and not getattr(subject.agent, "feeds_rpe", False):
                raise ConfigError(f"{type(p).__name__} needs a network whose actor reads the critic's δ; "
                                  f"train it with architecture='actor-critic'")
            if isinstance(p, RemoveInput) and p.channel not in _input_slices(subject.agent):
                raise ConfigError(f"this network has no {p.channel!r} input (channels: {sorted(_input_slices(subject.agent))})")
        self.subject, self.perturbations = subject, tuple(perturbations)
        self.name, self.gamma, self.unit_names = subject.name, subject.gamma, subject.unit_names
        self._units = [(p, self._unit_index(p.units)) for p in self.perturbations if isinstance(p, (ClampUnits, SilenceUnits))]

    @property
    def recording_attrs(self) -> dict:
        """The perturbations as a JSON list under ``perturbations``, for the recording's attrs."""
        return {"perturbations": json.dumps([p.to_dict() for p in self.perturbations], sort_keys=True)}

    def _unit_index(self, units) -> torch.Tensor:
        names = list(self.subject.unit_names)
        index = []
        for u in units:
            if isinstance(u, str):
                if u not in names:
                    raise ConfigError(f"no unit named {u!r}; units are {names[0]} … {names[-1]}")
                index.append(names.index(u))
            elif not 0 <= int(u) < len(names):
                raise ConfigError(f"unit index {u} out of range: the network has {len(names)} units")
            else:
                index.append(int(u))
        return torch.tensor(index, dtype=torch.long)

    def reset(self, task, generator):
        """Start the wrapped subject's episodes; no outcome observed yet, so no δ is changed on the first step."""
        self.subject.reset(task, generator)
        self.task = task
        self._events = [(p, torch.zeros(task.batch_size, dtype=torch.bool, device=task.device))
                        for p in self.perturbations if isinstance(p, (ShiftRPE, ClampRPE))]

    def _hooks(self) -> dict:
        hooks = {}
        removed = [_input_slices(self.subject.agent)[p.channel] for p in self.perturbations if isinstance(p, RemoveInput)]
        if removed:
            def remove(x):
                x = x.clone()
                for s in removed:
                    x[:, s] = 0.0
                return x
            hooks["input"] = remove
        if self._events:
            def rpe(delta):
                for p, hit in self._events:
                    changed = delta + p.amount if isinstance(p, ShiftRPE) else torch.full_like(delta, p.value)
                    delta = torch.where(hit, changed, delta)
                return delta
            hooks["rpe"] = rpe
        if self._units:
            def hidden(h):
                h = h.clone()
                for p, index in self._units:
                    h[:, index.to(h.device)] = float(getattr(p, "value", 0.0))
                return h
            hooks["hidden"] = hidden
        return hooks

    @torch.no_grad()
    def act(self, obs, info):
        """One step of the wrapped network under the perturbations' hooks (inputs zeroed, δ shifted
        or clamped, units held); the same record as the wrapped subject's."""
        s = self.subject
        x = s.agent.make_input(obs, s.prev_action, s.prev_reward, info["trial"])
        logits, value, h, s.state = s.agent(x, s.state, hooks=self._hooks())
        record = {"policy": torch.softmax(logits, 1), "hidden": h, "value": value}
        if len(s.state) == 2:
            record["cell"] = s.state[1]
        return record

    def observe(self, action, reward, info):
        """Mark the episodes whose outcome matches each RPE perturbation's :class:`Event` (their δ
        changes at the next step), then pass the outcome to the wrapped subject."""
        self._events = [(p, p.when.mask(self.task, action, reward, info)) for p, _ in self._events]
        return self.subject.observe(action, reward, info)

    def describe(self) -> dict:
        """The wrapped subject's description (the perturbations go into ``recording_attrs``)."""
        return self.subject.describe()


def perturb(subject, *perturbations: Perturbation) -> PerturbedSubject:
    """``subject`` playing under ``perturbations`` (see the module docstring)."""
    return PerturbedSubject(subject, perturbations)


def condition_from_dict(spec: dict) -> Perturbation:
    """Rebuild a perturbation from its :meth:`Perturbation.to_dict` form (as stored in recording attrs)."""
    kinds = {cls.kind: cls for cls in (ShiftRPE, ClampRPE, ClampUnits, SilenceUnits, RemoveInput)}
    spec = dict(spec)
    kind = spec.pop("kind", None)
    if kind not in kinds:
        raise ConfigError(f"unknown perturbation kind {kind!r}; valid: {sorted(kinds)}")
    if "when" in spec:
        spec["when"] = Event(**spec["when"])
    if "units" in spec:
        spec["units"] = tuple(spec["units"])
    return kinds[kind](**spec)


__all__ = ["Event", "Perturbation", "ShiftRPE", "ClampRPE", "ClampUnits", "SilenceUnits", "RemoveInput",
           "PerturbedSubject", "perturb", "condition_from_dict"]
