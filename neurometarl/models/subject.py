"""A behavioural model as a lab subject: it plays any protocol with 'left'/'right' choices through
:func:`neurometarl.lab.record_session`, using the very functions its likelihood uses.

At the choice period it plays the model's policy (and, for a two-step model with second-stage
choices on a protocol that has them, its second-stage policy); at other periods (fixation, a
one-response second stage) it gives a valid response (the task's ``info['valid_actions']``, else centre). It learns at
the end of every trial from the trial's choice and summed reward (plus, on two-step protocols, the
second-stage state reached and the transition). Its latent variables (values, beliefs) are recorded
as ``hidden`` units; its prediction error is recorded at the trial's last step (NaN elsewhere).
"""

from __future__ import annotations

import torch

from ..errors import ConfigError
from .trials import DTYPE, _where_state


class ModelSubject:
    """Plays ``model`` (a :class:`~neurometarl.models.base.BehaviouralModel`) with per-episode natural
    parameters ``params`` (dict of (n_episodes,) tensors; consecutive ``reset`` calls, one per recorded
    batch, take consecutive episodes' parameters) or with one set for every episode (dict of 0-d
    tensors, as :func:`neurometarl.models.make_baseline` builds it)."""

    gamma = None

    def __init__(self, model, params: dict[str, torch.Tensor]):
        self.model = model
        self.params = params
        first = next(iter(params.values()))
        self.n_total = len(first) if first.dim() else None  # None: the same parameters in every episode
        self.offset = 0
        self.name = f"model:{model.name}"
        self.unit_names: tuple[str, ...] = ()

    def describe(self) -> dict:
        """Model name and fitting hyperparameters, plus the parameters when every episode shares them."""
        out = {"name": self.name, "model": self.model.name, "hyperparameters": {k: repr(v) for k, v in self.model.get_params().items()}}
        if self.n_total is None:
            out["params"] = {k: float(v) for k, v in self.params.items()}
        return out

    def reset(self, task, generator) -> None:
        """Start ``task.batch_size`` episodes: check that the task offers left/right choices (and is a two-step
        protocol for a two-step model), take the next episodes' parameters and set the model's initial state.
        ``generator`` is unused: the lab samples the actions."""
        names = task.action_names
        if "left" not in names or "right" not in names:
            raise ConfigError(f"{self.model.name} chooses left or right; task {task.name!r} has actions {names}")
        if self.model.kind == "twostep" and "common" not in task.latents:
            raise ConfigError(f"{self.model.name} is a two-step model; task {task.name!r} is not a two-step protocol")
        self.model._resolve(None, task)
        missing = [k for k in self.model.param_names if k not in self.params]
        if missing:
            raise ConfigError(f"{self.model.name} needs parameter(s) {missing} on task {task.name!r}")
        b = task.batch_size
        if self.n_total is not None and self.offset + b > self.n_total:
            raise ConfigError(f"parameters for {self.n_total} episodes, but the session asks for more")
        self.task = task
        self.left, self.right = names.index("left"), names.index("right")
        self.centre = names.index("centre") if "centre" in names else None
        self.choice_period = task.period_names.index(task.choice_period)
        self.last_period = task.steps_per_trial - 1
        plays_stage2 = self.model.kind == "twostep" and getattr(self.model, "stage2_", False)
        self.stage2_period = task.period_names.index("stage2") if plays_stage2 else None
        if self.n_total is None:
            self.p = {k: v.expand(b) for k, v in self.params.items()}
        else:
            self.p = {k: v[self.offset : self.offset + b] for k, v in self.params.items()}
            self.offset += b
        self.state = self.model._init_state(self.p, b)
        self._new_trial(b)
        self.unit_names = tuple(self.model._latents(self.state, self.p, self._context(None)).keys())

    def _new_trial(self, b):
        self.choice = torch.zeros(b, dtype=torch.long)
        self.choice2 = torch.zeros(b, dtype=torch.long)
        self.valid = torch.zeros(b, dtype=torch.bool)
        self.reward = torch.zeros(b, dtype=DTYPE)
        self.magnitude = torch.ones(b, 2, dtype=DTYPE)

    def _context(self, info, state2=None, transition=None) -> dict:
        b = self.choice.shape[0]
        if info is not None and "magnitude" in info:
            self.magnitude = info["magnitude"].to(DTYPE).cpu()
        s2 = self.choice if state2 is None else state2.clamp(min=0)
        return {
            "choice": self.choice,
            "choice_onehot": torch.nn.functional.one_hot(self.choice, 2).to(DTYPE),
            "reward": self.reward,
            "transition": torch.ones(b, dtype=DTYPE) if transition is None else transition,
            "state2": s2,
            "state2_onehot": torch.nn.functional.one_hot(s2, 2).to(DTYPE),
            "choice2": self.choice2,
            "s2a2_onehot": torch.nn.functional.one_hot(s2 * 2 + self.choice2, 4).to(DTYPE),
            "magnitude": self.magnitude,
        }

    def act(self, obs, info):
        """At the choice period, the model's left/right probabilities (at the second stage, its second-stage
        policy; an instructed trial's only option); at other periods, uniform over the valid actions or
        centre. ``hidden`` holds the model's latents (batch, len(unit_names)); ``value`` is NaN."""
        b = obs.shape[0]
        period = int(info["period"][0])
        x = self._context(info if period == self.choice_period else None)
        latents = self.model._latents(self.state, self.p, x)
        policy = torch.zeros(b, self.task.n_actions)
        if period == self.choice_period:
            probs = self.model._log_policy(self.state, self.p, x).exp().float()
            policy[:, self.left], policy[:, self.right] = probs[:, 0], probs[:, 1]
        elif period == self.stage2_period:
            x = self._context(None, info["state2"].cpu())
            probs = torch.softmax(self.model._logits2(self.state, self.p, x), -1).float()
            policy[:, self.left], policy[:, self.right] = probs[:, 0], probs[:, 1]
            blank = info["state2"].cpu() < 0  # after an invalid first-stage choice: any response
            policy[blank] = 1.0 / self.task.n_actions
        if period in (self.choice_period, self.stage2_period) and "valid_actions" in info:
            # an instructed trial offers one option only (twostep-monkey): the subject takes it
            offered = info["valid_actions"].cpu()
            one = offered[:, self.left] ^ offered[:, self.right]
            policy[one] = offered[one].float()
        if period not in (self.choice_period, self.stage2_period):
            if "valid_actions" in info:
                valid = info["valid_actions"].float().cpu()
            elif self.centre is not None:
                valid = torch.nn.functional.one_hot(torch.full((b,), self.centre), self.task.n_actions).float()
            else:
                raise ConfigError(f"task {self.task.name!r} has a non-choice period but no 'valid_actions' in info and no centre action")
            policy = valid / valid.sum(1, keepdim=True)
        hidden = torch.stack([v.float() for v in latents.values()], 1)
        return {"policy": policy.to(obs.device), "hidden": hidden, "value": torch.full((b,), float("nan"))}

    def observe(self, action, reward, info):
        """Note the choice(s) and add ``reward`` to the trial's total; at the trial's last step, return the
        model's prediction error (its last one, (batch,)) and update its state, except on trials with an
        invalid choice. ``rpe`` is NaN at other steps."""
        period = int(info["period"][0])
        action = action.cpu()
        if period == self.choice_period:
            self.choice = (action == self.right).long()
            self.valid = (action == self.left) | (action == self.right)
        if period == self.stage2_period:
            self.choice2 = (action == self.right).long()
            self.valid = self.valid & ((action == self.left) | (action == self.right))
        self.reward = self.reward + reward.to(DTYPE).cpu()
        rpe = torch.full((action.shape[0],), float("nan"))
        if period == self.last_period:
            if self.model.kind == "twostep":
                x = self._context(None, info["state2"].cpu(), info["common"].to(DTYPE).cpu())
            else:
                x = self._context(None)
            errors = self.model._prediction_errors(self.state, self.p, x)
            rpe = list(errors.values())[-1].float()
            new = self.model._update(self.state, self.p, x)
            self.state = _where_state(self.valid, new, self.state)
            self._new_trial(action.shape[0])
        return {"rpe": rpe}
