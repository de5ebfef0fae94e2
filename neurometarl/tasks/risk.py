"""The rat risk task (Stopper et al. 2014; Wang et al. 2018 Sim 6), batched over episodes.

Two arms: the safe arm pays ``safe_reward`` (1) every time; the risky arm pays ``risky_reward`` (4)
with probability p, drawn per episode from ``risky_probs`` ({0.125, 0.5}). Which side is risky is
drawn per episode (left or right with probability 0.5, so it flips between episodes half the time).
An episode begins with ``n_forced`` forced pulls of each arm, in random pairs (each pair one pull of
each arm, in random order), then ``n_free`` free choices.

Each trial has two steps, actions (centre, left, right): ``fixation`` (centre is valid) and ``choice``.
The choice cue marks the valid arm(s) [ours; the paper does not say how forced trials are signalled]:
observation = (fixation cue, left available, right available); on a free trial both are available.
An invalid response (a side at fixation, centre or an unavailable side at the choice) earns
``invalid_penalty`` (−1) and no arm payoff.

``info`` carries the timing and the latents ``p_risky``, ``risky_action`` (the action index of the
risky arm: 1 left, 2 right), ``safe_action`` and ``forced`` (1 on forced trials).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .base import ConfigError, Task, TaskConfig, Variable

CENTRE, LEFT, RIGHT = 0, 1, 2


@dataclass(frozen=True)
class RiskConfig(TaskConfig):
    """Stopper et al. (2014) risk task.

    risky_probs: the risky arm's payoff probabilities, one drawn per episode with equal chance.
    n_forced: forced pulls of each arm at the start of the episode (in random pairs).
    n_free: free-choice trials after the forced ones.
    safe_reward, risky_reward: payoff of the safe arm and of a winning risky pull.
    invalid_penalty: reward for an invalid response.
    """

    risky_probs: tuple[float, ...] = (0.125, 0.5)
    n_forced: int = 5
    n_free: int = 20
    safe_reward: float = 1.0
    risky_reward: float = 4.0
    invalid_penalty: float = -1.0

    def __post_init__(self):
        if not self.risky_probs or any(not 0 <= p <= 1 for p in self.risky_probs):
            raise ConfigError(f"risky_probs needs probabilities in [0, 1], got {self.risky_probs}")
        if self.n_forced < 0 or self.n_free < 0 or self.n_forced + self.n_free < 1:
            raise ConfigError(f"need n_forced >= 0, n_free >= 0 and at least one trial; got {self.n_forced}, {self.n_free}")

    @property
    def n_trials(self) -> int:
        """Trials per episode: 2 · ``n_forced`` forced pulls, then ``n_free`` free choices."""
        return 2 * self.n_forced + self.n_free


class RiskTask(Task):
    """The risk task (:class:`RiskConfig`, see the module docstring): fixation then choice each trial,
    the risky side and its payoff probability drawn per episode, forced pulls before free choices."""

    config: RiskConfig
    name = "risk"
    description = "Stopper risk task: safe arm 1, risky arm 4 with p per episode; forced then free pulls"
    citation = "Stopper et al. 2014 Neuron; Wang et al. 2018 Nat Neurosci Fig. 7 (Sim 6)"
    action_names = ("centre", "left", "right")
    period_names = ("fixation", "choice")
    choice_period = "choice"
    latents = {
        "p_risky": Variable((), "payoff probability of the risky arm", "1"),
        "risky_action": Variable((), "action index of the risky arm (1 left, 2 right)", "1"),
        "safe_action": Variable((), "action index of the safe arm (1 left, 2 right)", "1"),
        "forced": Variable((), "forced trial (1) or free choice (0)", "1"),
    }

    @property
    def n_obs(self) -> int:
        """3: fixation cue, left available, right available."""
        return 3

    def _reset(self):
        cfg, b = self.config, self.batch_size
        probs = torch.tensor(cfg.risky_probs, device=self.device)
        self.p_risky = probs[(self.uniform(b) * len(probs)).long().clamp(max=len(probs) - 1)]
        self.risky_action = torch.where(self.uniform(b) < 0.5, LEFT, RIGHT).to(self.device)
        self.safe_action = LEFT + RIGHT - self.risky_action
        # forced arms: pairs of (risky, safe) in random order, as actions, (batch, 2 · n_forced)
        risky_first = (self.uniform(b, cfg.n_forced) < 0.5)[:, :, None]
        pair = torch.stack([self.risky_action, self.safe_action], 1)[:, None, :].expand(b, cfg.n_forced, 2)
        self.forced_actions = torch.where(risky_first, pair, pair.flip(2)).reshape(b, 2 * cfg.n_forced)
        self.wins = self.uniform(b, self.n_trials) < self.p_risky[:, None]  # risky payoff of each trial

    def _available(self, trial: int) -> torch.Tensor:
        """(batch, 2) availability of (left, right) on ``trial``."""
        if trial < 2 * self.config.n_forced:
            forced = self.forced_actions[:, trial]
            return torch.stack([forced == LEFT, forced == RIGHT], 1).float()
        return torch.ones(self.batch_size, 2, device=self.device)

    def _observe(self):
        b, timing = self.batch_size, self._timing()
        trial, period = int(timing["trial"][0]), int(timing["period"][0])
        if period == 0:
            obs = torch.cat([torch.ones(b, 1, device=self.device), torch.zeros(b, 2, device=self.device)], 1)
        else:
            obs = torch.cat([torch.zeros(b, 1, device=self.device), self._available(trial)], 1)
        forced = torch.full((b,), int(trial < 2 * self.config.n_forced), device=self.device)
        return obs, {**timing, "p_risky": self.p_risky.clone(), "risky_action": self.risky_action.clone(),
                     "safe_action": self.safe_action.clone(), "forced": forced}

    def _step(self, action):
        cfg = self.config
        trial, period = divmod(self.t, self.steps_per_trial)
        if period == 0:
            return torch.where(action == CENTRE, 0.0, cfg.invalid_penalty).float()
        available = self._available(trial)
        valid = (action != CENTRE) & (available.gather(1, (action - 1).clamp(min=0)[:, None])[:, 0] > 0)
        payoff = torch.where(action == self.risky_action,
                             torch.where(self.wins[:, trial], cfg.risky_reward, 0.0),
                             torch.full_like(self.p_risky, cfg.safe_reward))
        return torch.where(valid, payoff, torch.full_like(payoff, cfg.invalid_penalty)).float()
