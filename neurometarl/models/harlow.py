"""Baselines for the Harlow task (Sim 5), as lab subjects: learners that start every problem from scratch.

:class:`ObjectValueLearner` keeps a Rescorla–Wagner value per object of the episode's pair (both 0 at
the start of each episode: nothing carries over between problems), updates the chosen object's value
with the choice outcome and picks between the two shown objects by a softmax over their values. It
answers the fixation cue with centre. With ``learning_rate=1`` and ``inverse_temperature=inf`` it is
the ideal one-shot learner: 50% on trial 1, 100% from trial 2 on (:func:`ideal_one_shot_learner`).
"""

from __future__ import annotations

import math

import torch

from ..errors import ConfigError

CENTRE, LEFT, RIGHT = 0, 1, 2


class ObjectValueLearner:
    """Rescorla–Wagner per object, softmax choice between the two shown objects (a Harlow-task subject).

    Parameters
    ----------
    learning_rate : α in (0, 1]; value ← value + α (reward − value) for the chosen object.
    inverse_temperature : β ≥ 0 of the softmax over the two objects' values (``math.inf``: argmax,
        ties broken 50/50).
    """

    gamma = None
    unit_names = ("value_left", "value_right")

    def __init__(self, learning_rate: float = 0.5, inverse_temperature: float = 3.0, name: str | None = None):
        if not 0 < learning_rate <= 1 or not inverse_temperature >= 0:
            raise ConfigError(f"need 0 < learning_rate <= 1 and inverse_temperature >= 0, got "
                              f"{learning_rate}, {inverse_temperature}")
        self.learning_rate, self.inverse_temperature = float(learning_rate), float(inverse_temperature)
        self.name = name or f"RW per object (α={learning_rate:g}, β={inverse_temperature:g})"

    def reset(self, task, generator):
        """Start ``task.batch_size`` problems: no object seen yet, both values 0; refuses a task
        without Harlow objects in ``info``."""
        if "object_left" not in task.latents:
            raise ConfigError(f"{type(self).__name__} plays the Harlow task (objects in 'info'); got {task.name!r}")
        b = task.batch_size
        self.pair = torch.full((b, 2), -1, dtype=torch.long, device=task.device)  # the episode's two object ids
        self.values = torch.zeros(b, 2, device=task.device)

    def _columns(self, info):
        left, right = info["object_left"].long(), info["object_right"].long()
        unseen = self.pair[:, 0] < 0
        self.pair = torch.where(unseen[:, None], torch.stack([left, right], 1), self.pair)
        return (left != self.pair[:, 0]).long(), (right != self.pair[:, 0]).long()

    def act(self, obs, info):
        """Centre at fixation; at the choice a softmax (argmax when β is infinite) between the two
        shown objects' values. ``hidden`` holds the left and right objects' values (batch, 2)."""
        b = obs.shape[0]
        policy = torch.zeros(b, 3, device=obs.device)
        col_left, col_right = self._columns(info)
        v_left, v_right = self.values.gather(1, col_left[:, None])[:, 0], self.values.gather(1, col_right[:, None])[:, 0]
        if math.isinf(self.inverse_temperature):
            p_left = torch.where(v_left > v_right, 1.0, torch.where(v_left < v_right, 0.0, 0.5))
        else:
            p_left = torch.sigmoid(self.inverse_temperature * (v_left - v_right))
        choice = info["period"] == 1
        policy[:, CENTRE] = (~choice).float()
        policy[:, LEFT] = torch.where(choice, p_left, 0.0)
        policy[:, RIGHT] = torch.where(choice, 1 - p_left, 0.0)
        return {"policy": policy, "hidden": torch.stack([v_left, v_right], 1)}

    def observe(self, action, reward, info):
        """Move the chosen object's value toward the choice-step reward by α; fixation steps and
        centre responses change nothing. Returns ``None``."""
        col_left, col_right = self._columns(info)
        chosen = torch.where(action == LEFT, col_left, col_right)
        update = (info["period"] == 1) & (action != CENTRE)
        old = self.values.gather(1, chosen[:, None])[:, 0]
        new = torch.where(update, old + self.learning_rate * (reward - old), old)
        self.values = self.values.scatter(1, chosen[:, None], new[:, None])
        return None

    def describe(self) -> dict:
        """Name, model, learning rate and inverse temperature, for the recording's provenance."""
        return {"name": self.name, "model": "object-value RW", "learning_rate": self.learning_rate,
                "inverse_temperature": self.inverse_temperature}


def ideal_one_shot_learner() -> ObjectValueLearner:
    """The ideal observer of the Harlow task: one outcome identifies the rewarded object."""
    return ObjectValueLearner(1.0, math.inf, name="ideal one-shot learner")


__all__ = ["ObjectValueLearner", "ideal_one_shot_learner"]
