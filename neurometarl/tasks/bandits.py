"""Two-armed Bernoulli bandits (Wang et al. 2016, 2018 Fig. 1).

Each episode draws the arms' reward probabilities once (or lets them drift, ``restless``); each trial
is one step: the subject pulls arm 0 (left) or 1 (right) and gets reward 1 with that arm's probability.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .base import ConfigError, Task, TaskConfig, Variable

DISTRIBUTIONS = ("independent", "correlated", "restless", "fixed")


@dataclass(frozen=True)
class BanditConfig(TaskConfig):
    """Two-armed Bernoulli bandit.

    distribution: how arm probabilities are drawn per episode: 'independent' (p1, p2 ~ U[0,1]),
        'correlated' (p1 from ``levels`` or U[0,1], p2 = 1 - p1), 'restless' (independent start, then a
        reflected Gaussian random walk), 'fixed' (``fixed_probs`` every episode).
    n_trials: trials (= steps) per episode.
    levels: for 'correlated', the allowed p1 values (each drawn with equal chance, and mirrored so either
        arm can be the better one); empty means p1 ~ U[0, 1].
    drift_sd: for 'restless', s.d. of the per-trial Gaussian step of each arm's probability.
    fixed_probs: for 'fixed', (p_left, p_right).
    counterbalance: for 'fixed', swap the two arms in a random half of the episodes, so a subject with a
        side bias gains nothing from it (regret is measured against the better arm either way).
    """

    distribution: str = "correlated"
    n_trials: int = 100
    levels: tuple[float, ...] = ()
    drift_sd: float = 0.05
    fixed_probs: tuple[float, float] = (0.25, 0.75)
    counterbalance: bool = True

    def __post_init__(self):
        if self.distribution not in DISTRIBUTIONS:
            raise ConfigError(f"distribution must be one of {DISTRIBUTIONS}, got {self.distribution!r}")
        if self.n_trials < 1:
            raise ConfigError(f"n_trials must be >= 1, got {self.n_trials}")
        if any(not 0 <= p <= 1 for p in (*self.levels, *self.fixed_probs)):
            raise ConfigError(f"probabilities must lie in [0, 1]: levels={self.levels}, fixed_probs={self.fixed_probs}")
        if len(self.fixed_probs) != 2:
            raise ConfigError(f"fixed_probs needs two values (left, right), got {self.fixed_probs}")
        if self.drift_sd < 0:
            raise ConfigError(f"drift_sd must be >= 0, got {self.drift_sd}")


class BanditTask(Task):
    """Two-armed Bernoulli bandit (:class:`BanditConfig`): one step a trial, actions (left, right),
    a constant observation; ``reward_prob`` (batch, arm) in ``info``."""

    config: BanditConfig
    name = "bandit"
    description = "Two-armed Bernoulli bandit"
    citation = "Wang et al. 2018 Nat Neurosci Fig. 1; Wang et al. 2016 arXiv:1611.05763"
    action_names = ("left", "right")
    period_names = ("choice",)
    choice_period = "choice"
    latents = {"reward_prob": Variable(("arm",), "reward probability of each arm", "1")}
    latent_coords = {"arm": ("left", "right")}

    @property
    def n_obs(self) -> int:
        """1: a constant go cue (learning runs on the previous action and reward inputs)."""
        return 1  # a constant "go" cue; learning is carried by the previous action and reward inputs

    def _draw_probs(self) -> torch.Tensor:
        cfg, b = self.config, self.batch_size
        if cfg.distribution == "fixed":
            probs = torch.tensor(cfg.fixed_probs, device=self.device).expand(b, 2)
            if cfg.counterbalance:
                probs = torch.where(self.uniform(b)[:, None] < 0.5, probs.flip(1), probs)
            return probs.clone()
        if cfg.distribution == "correlated":
            if cfg.levels:
                levels = torch.tensor(cfg.levels, device=self.device)
                idx = (self.uniform(b) * len(levels)).long().clamp(max=len(levels) - 1)
                p1 = levels[idx]
                flip = self.uniform(b) < 0.5
                p1 = torch.where(flip, 1 - p1, p1)
            else:
                p1 = self.uniform(b)
            return torch.stack([p1, 1 - p1], dim=1)
        return self.uniform(b, 2)  # independent, and the restless start

    def _observe(self):
        obs = torch.ones(self.batch_size, 1, device=self.device)
        return obs, {**self._timing(), "reward_prob": self.probs.clone()}

    def _reset(self):
        self.probs = self._draw_probs()

    def _step(self, action):
        p = self.probs.gather(1, action[:, None])[:, 0]
        reward = (self.uniform(self.batch_size) < p).float()
        if self.config.distribution == "restless":
            walk = self.probs + self.config.drift_sd * torch.randn(
                self.probs.shape, generator=self.generator, device=self.generator.device
            ).to(self.device)
            walk = walk.abs()  # reflect at 0 and at 1
            self.probs = torch.where(walk > 1, 2 - walk, walk).clamp(0, 1)
        return reward
