"""The volatility task (Behrens et al. 2007; Wang et al. 2018 Sim 2, Fig. 3).

One step a trial, actions (left, right), no fixation. Before each choice the observation shows the
reward magnitude of each arm, drawn afresh every trial as ``100 × Beta(4, 4)`` and scaled by
``magnitude_scale`` (1/100) in the observation. The arms' reward probabilities are anticorrelated:
the better arm pays with probability r, the other with 1 − r. A rewarded choice earns the chosen
arm's magnitude × ``reward_scale`` (1/100 by default, so rewards lie in [0, 1]); an unrewarded one 0.

**Training generator** (``schedule='generative'``): a volatility level j ∈ {stable, volatile} with flip
probabilities ``volatilities`` = (0, 0.2) and better-arm probabilities ``reward_levels`` = (0.75, 0.8).
Per episode ln k ~ U[``log_k_range``]; the first trial's level and better arm are uniform. Before
every later trial the level toggles with probability k, then the better arm flips with the new
level's flip probability. (The paper gives r ∈ {0, 1} for the volatile level, which may be a typo for
{0.2, 0.8}: ``reward_levels`` is configurable, default 0.8.) This is exactly the generative model of
:class:`neurometarl.models.VolatilityObserver`.

**Test schedules**: ``'stable-first'``: ``n_stable`` trials with r = ``stable_level`` (0.75) on one arm,
then the volatile phase, the better arm swapping every ``block_length`` (25) trials at
``volatile_level`` (0.8); ``'volatile-first'``: the same phases in the reverse order. The better arm at
the start of each phase is drawn at random. Latents: ``reward_prob`` (batch, arm), ``volatile``
(1 in the volatile phase/level), ``volatility`` (the true per-trial flip probability: 0.2 in
the training generator's volatile level; in the test schedules 1/``block_length`` = 0.04, the rate of
its swaps), ``log_k`` (training only; NaN in test schedules) and ``magnitude`` (batch, arm, unscaled
points).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .base import ConfigError, Task, TaskConfig, Variable

SCHEDULES = ("generative", "stable-first", "volatile-first")


@dataclass(frozen=True)
class VolatilityConfig(TaskConfig):
    """Two-armed task with shown magnitudes and anticorrelated, volatile reward probabilities.

    schedule: 'generative' (the two-level training generator), 'stable-first' or 'volatile-first' (test).
    n_trials: trials per episode.
    volatilities: per-trial flip probability of the better arm at each level (stable, volatile).
    reward_levels: the better arm's reward probability at each level (stable, volatile).
    log_k_range: ln k ~ U[low, high] per episode; k is the per-trial probability that the level toggles.
    n_stable: test schedules: trials in the stable phase (the volatile phase takes the rest).
    block_length: test schedules: trials between swaps of the better arm in the volatile phase.
    magnitude_beta: (a, b) of the Beta distribution of magnitudes (in units of ``max_magnitude``).
    max_magnitude: magnitudes are max_magnitude × Beta(a, b) points.
    magnitude_scale: factor applied to the magnitudes in the observation.
    reward_scale: factor applied to the magnitude earned as reward.
    """

    schedule: str = "generative"
    n_trials: int = 200
    volatilities: tuple[float, float] = (0.0, 0.2)
    reward_levels: tuple[float, float] = (0.75, 0.8)
    log_k_range: tuple[float, float] = (-4.5, -3.5)
    n_stable: int = 100
    block_length: int = 25
    magnitude_beta: tuple[float, float] = (4.0, 4.0)
    max_magnitude: float = 100.0
    magnitude_scale: float = 0.01
    reward_scale: float = 0.01

    def __post_init__(self):
        for name in ("volatilities", "reward_levels", "log_k_range", "magnitude_beta"):
            object.__setattr__(self, name, tuple(float(x) for x in getattr(self, name)))
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if self.n_trials < 2:
            raise ConfigError(f"n_trials must be >= 2, got {self.n_trials}")
        if len(self.volatilities) != 2 or not all(0 <= v <= 1 for v in self.volatilities):
            raise ConfigError(f"volatilities needs two flip probabilities in [0, 1] (stable, volatile), got {self.volatilities}")
        if len(self.reward_levels) != 2 or not all(0.5 <= r <= 1 for r in self.reward_levels):
            raise ConfigError(f"reward_levels needs two probabilities in [0.5, 1] for the better arm (stable, volatile), got {self.reward_levels}")
        if len(self.log_k_range) != 2 or self.log_k_range[0] > self.log_k_range[1] or self.log_k_range[1] > 0:
            raise ConfigError(f"log_k_range must be (low, high) with low <= high <= 0, got {self.log_k_range}")
        if not 0 < self.n_stable < self.n_trials:
            raise ConfigError(f"n_stable must lie in (0, n_trials={self.n_trials}), got {self.n_stable}")
        if self.block_length < 1:
            raise ConfigError(f"block_length must be >= 1, got {self.block_length}")
        if len(self.magnitude_beta) != 2 or min(self.magnitude_beta) <= 0:
            raise ConfigError(f"magnitude_beta needs two positive shape parameters, got {self.magnitude_beta}")
        if self.max_magnitude <= 0 or self.magnitude_scale <= 0 or self.reward_scale <= 0:
            raise ConfigError("max_magnitude, magnitude_scale and reward_scale must be > 0, got "
                              f"{self.max_magnitude}, {self.magnitude_scale}, {self.reward_scale}")


class VolatilityTask(Task):
    """The volatility task (:class:`VolatilityConfig`, see the module docstring): one step a trial,
    actions (left, right), both arms' magnitudes shown before each choice, anticorrelated reward
    probabilities from the training generator or a test schedule."""

    config: VolatilityConfig
    name = "volatility"
    description = "Two-armed task with shown magnitudes and volatile anticorrelated probabilities (Behrens 2007)"
    citation = "Behrens et al. 2007 Nat Neurosci; Wang et al. 2018 Nat Neurosci Fig. 3"
    action_names = ("left", "right")
    period_names = ("choice",)
    choice_period = "choice"
    latents = {
        "reward_prob": Variable(("arm",), "reward probability of each arm", "1"),
        "magnitude": Variable(("arm",), "reward magnitude shown for each arm", "points"),
        "volatile": Variable((), "volatile phase or level (1) or stable (0)", "1"),
        "volatility": Variable((), "true per-trial probability that the better arm swaps", "1"),
        "log_k": Variable((), "ln of the per-trial probability that the volatility level toggles", "1"),
    }
    latent_coords = {"arm": ("left", "right")}

    @property
    def n_obs(self) -> int:
        """2: the two arms' shown magnitudes, scaled by ``magnitude_scale``."""
        return 2  # the two shown magnitudes, scaled

    # --- schedules -------------------------------------------------------------------------------
    def _phase_at(self, trial: int) -> tuple[bool, bool, bool]:
        """Test schedules at ``trial``: (volatile phase?, first trial of a phase?, first trial of a new
        volatile block after the phase's first?)."""
        cfg = self.config
        first_phase = trial < cfg.n_stable if cfg.schedule == "stable-first" else trial < cfg.n_trials - cfg.n_stable
        volatile = not first_phase if cfg.schedule == "stable-first" else first_phase
        start = 0 if first_phase else (cfg.n_stable if cfg.schedule == "stable-first" else cfg.n_trials - cfg.n_stable)
        new_phase = trial == start
        new_block = volatile and not new_phase and (trial - start) % cfg.block_length == 0
        return volatile, new_phase, new_block

    def _draw_magnitudes(self) -> torch.Tensor:
        a, b = self.config.magnitude_beta
        draws = _beta_sample(a, b, (self.batch_size, 2), self.generator)
        return self.config.max_magnitude * draws.to(self.device)

    def _reset(self):
        cfg, b = self.config, self.batch_size
        self.trial = 0
        self.better = (self.uniform(b) < 0.5).long()  # 0: left is the better arm
        if cfg.schedule == "generative":
            lo, hi = cfg.log_k_range
            self.log_k = lo + (hi - lo) * self.uniform(b)
            self.level = (self.uniform(b) < 0.5).long()
        else:
            self.log_k = torch.full((b,), math.nan, device=self.device)
            volatile, _, _ = self._phase_at(0)
            self.level = torch.full((b,), int(volatile), dtype=torch.long, device=self.device)
        self.magnitudes = self._draw_magnitudes()

    def _advance(self):
        """Move the latent state to the next trial."""
        cfg, b = self.config, self.batch_size
        self.trial += 1
        if self.trial >= cfg.n_trials:  # the episode is over: nothing left to draw
            return
        if cfg.schedule == "generative":
            toggle = self.uniform(b) < self.log_k.exp()
            self.level = torch.where(toggle, 1 - self.level, self.level)
            flip_prob = torch.tensor(cfg.volatilities, device=self.device)[self.level]
            flip = self.uniform(b) < flip_prob
            self.better = torch.where(flip, 1 - self.better, self.better)
        else:
            volatile, new_phase, new_block = self._phase_at(self.trial)
            self.level = torch.full((b,), int(volatile), dtype=torch.long, device=self.device)
            fresh = (self.uniform(b) < 0.5).long()  # drawn every trial so both schedules use the generator alike
            if new_phase:
                self.better = fresh
            elif new_block:
                self.better = 1 - self.better
        self.magnitudes = self._draw_magnitudes()

    def _reward_prob(self) -> torch.Tensor:
        r = torch.tensor(self.config.reward_levels, device=self.device)[self.level]
        p_left = torch.where(self.better == 0, r, 1 - r)
        return torch.stack([p_left, 1 - p_left], 1)

    def _step(self, action):
        p = self._reward_prob().gather(1, action[:, None])[:, 0]
        won = (self.uniform(self.batch_size) < p).float()
        reward = won * self.magnitudes.gather(1, action[:, None])[:, 0] * self.config.reward_scale
        self._advance()
        return reward

    def _true_volatility(self) -> torch.Tensor:
        cfg = self.config
        if cfg.schedule == "generative":
            return torch.tensor(cfg.volatilities, device=self.device)[self.level]
        return self.level.float() / cfg.block_length

    def _observe(self):
        obs = self.magnitudes * self.config.magnitude_scale
        info = {
            **self._timing(),
            "reward_prob": self._reward_prob(),
            "magnitude": self.magnitudes.clone(),
            "volatile": self.level.float(),
            "volatility": self._true_volatility(),
            "log_k": self.log_k.clone(),
        }
        return obs, info


def _beta_sample(a: float, b: float, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """Beta(a, b) draws from ``generator`` alone (no global RNG).

    Whole a and b: the a-th smallest of a + b − 1 uniforms (exact and fast); otherwise
    X = G_a / (G_a + G_b) with Gamma variates from :func:`_gamma_sample`.
    """
    if float(a).is_integer() and float(b).is_integer():
        u = torch.rand((*shape, int(a + b) - 1), generator=generator, device=generator.device)
        return u.sort(-1).values[..., int(a) - 1]
    g_a = _gamma_sample(a, shape, generator)
    g_b = _gamma_sample(b, shape, generator)
    return g_a / (g_a + g_b)


def _gamma_sample(alpha: float, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """Gamma(alpha, 1) by Marsaglia & Tsang (2000), vectorised with a fixed number of proposals.

    For alpha >= 1 each proposal is accepted with probability > 0.95, so 16 proposals leave a
    rejection of every proposal with probability < 1e-20; that case falls back to the mode.
    """
    if alpha < 1:
        u = torch.rand(shape, generator=generator, device=generator.device)
        return _gamma_sample(alpha + 1, shape, generator) * u ** (1 / alpha)
    d = alpha - 1 / 3
    c = 1 / math.sqrt(9 * d)
    n_prop = 16
    x = torch.randn((n_prop, *shape), generator=generator, device=generator.device)
    u = torch.rand((n_prop, *shape), generator=generator, device=generator.device)
    v = (1 + c * x) ** 3
    ok = (v > 0) & (torch.log(u) < 0.5 * x**2 + d - d * v + d * torch.log(v.clamp(min=1e-30)))
    first = ok.float().argmax(0)  # first accepted proposal
    chosen = (d * v).gather(0, first[None])[0]
    return torch.where(ok.any(0), chosen, torch.full_like(chosen, d))
