"""The two-step task (Daw et al. 2011; Miller et al. 2017; Wang et al. 2018 Sim 4), batched over episodes.

Each trial has three steps, actions (centre, left, right):

1. ``fixation``: the fixation cue; the valid response is centre (a_C).
2. ``choice``: the first-stage choice, left or right. Left leads to second-stage state S1 with
   probability ``common_prob`` (a common transition) and to S2 otherwise; right the mirror image.
3. ``stage2``: the second-stage cue (S1 or S2) needing one response (``stage2_response``: 'centre',
   'side' = the port on the state's side, as rats poke the lit port, or 'any'); a valid response is
   rewarded with the state's reward probability.

An invalid response earns ``invalid_penalty`` (−1); an invalid first-stage choice leads to a blank
second stage with no reward. The transition of each trial is drawn at its start (independently of the
choice, so the distribution is the same), which lets the recording carry it as the ``common`` latent.

Reward schedules (``reward_schedule``): 'switch' (probabilities ``reward_levels`` for the rich and poor
state, swapped with probability ``switch_prob`` at each trial start; Wang Sim 4), 'blocks' (the same,
but only after ``min_block`` trials in the block; the rat task), 'drift' (each state's probability a
Gaussian random walk, s.d. ``drift_sd``, reflected in ``drift_bounds``; Daw 2011).

``info`` carries the timing, the latents ``reward_prob`` (batch, 2: S1, S2) and ``common`` (batch,), the
second-stage state reached so far ``state2`` (batch,; −1 before it is reached or after an invalid
choice) and ``valid_actions`` (batch, 3) for the step about to be taken.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .base import ConfigError, Task, TaskConfig, Variable

SCHEDULES = ("switch", "blocks", "drift")
RESPONSES = ("centre", "side", "any")
CENTRE, LEFT, RIGHT = 0, 1, 2
FIXATION, CHOICE, STAGE2 = 0, 1, 2
CUE_FIXATION, CUE_CHOICE, CUE_S1, CUE_S2, CUE_BLANK = range(5)


@dataclass(frozen=True)
class TwoStepConfig(TaskConfig):
    """Two-step task.

    n_trials: trials per episode (3 steps each).
    common_prob: probability of the common transition (left → S1, right → S2).
    reward_schedule: 'switch', 'blocks' or 'drift' (see the module docstring).
    reward_levels: (rich, poor) reward probabilities for 'switch' and 'blocks'.
    switch_prob: per-trial probability that rich and poor swap ('switch', 'blocks').
    min_block: 'blocks': trials in a block before a swap may happen.
    drift_sd: 'drift': s.d. of each state's per-trial Gaussian step.
    drift_bounds: 'drift': reflecting bounds of the reward probabilities (also the start range).
    stage2_response: the valid second-stage response: 'centre', 'side' (left for S1, right for S2) or 'any'.
    invalid_penalty: reward for an invalid response.
    """

    n_trials: int = 100
    common_prob: float = 0.8
    reward_schedule: str = "switch"
    reward_levels: tuple[float, float] = (0.9, 0.1)
    switch_prob: float = 0.025
    min_block: int = 0
    drift_sd: float = 0.025
    drift_bounds: tuple[float, float] = (0.25, 0.75)
    stage2_response: str = "centre"
    invalid_penalty: float = -1.0

    def __post_init__(self):
        if self.n_trials < 1:
            raise ConfigError(f"n_trials must be >= 1, got {self.n_trials}")
        if not 0 <= self.common_prob <= 1:
            raise ConfigError(f"common_prob must be in [0, 1], got {self.common_prob}")
        if self.reward_schedule not in SCHEDULES:
            raise ConfigError(f"reward_schedule must be one of {SCHEDULES}, got {self.reward_schedule!r}")
        if self.stage2_response not in RESPONSES:
            raise ConfigError(f"stage2_response must be one of {RESPONSES}, got {self.stage2_response!r}")
        if len(self.reward_levels) != 2 or not all(0 <= p <= 1 for p in self.reward_levels):
            raise ConfigError(f"reward_levels needs two probabilities (rich, poor), got {self.reward_levels}")
        if not 0 <= self.switch_prob <= 1 or self.min_block < 0 or self.drift_sd < 0:
            raise ConfigError(f"need 0 <= switch_prob <= 1, min_block >= 0, drift_sd >= 0; got {self.switch_prob}, {self.min_block}, {self.drift_sd}")
        lo, hi = self.drift_bounds
        if not 0 <= lo < hi <= 1:
            raise ConfigError(f"drift_bounds must satisfy 0 <= low < high <= 1, got {self.drift_bounds}")


def reflect(x: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    """Reflect values that stepped past ``lo`` or ``hi`` back inside (one bounce, then clamp)."""
    x = torch.where(x > hi, 2 * hi - x, x)
    x = torch.where(x < lo, 2 * lo - x, x)
    return x.clamp(lo, hi)


class TwoStepTask(Task):
    name = "twostep"
    description = "Two-step task: fixation, first-stage choice, probabilistic transition, second-stage response"
    citation = "Daw et al. 2011 Neuron; Miller et al. 2017 Nat Neurosci; Wang et al. 2018 Nat Neurosci Fig. 5"
    action_names = ("centre", "left", "right")
    period_names = ("fixation", "choice", "stage2")
    choice_period = "choice"
    latents = {
        "reward_prob": Variable(("state",), "reward probability of each second-stage state", "1"),
        "common": Variable((), "the trial's transition is common (1) or rare (0)", "1"),
    }
    latent_coords = {"state": ("S1", "S2")}
    cue_names = ("fixation", "choice", "S1", "S2", "blank")
    #: whether the second stage is a choice between two options (Daw et al. 2011's four arms)
    stage2_choice = False

    @property
    def n_obs(self) -> int:
        return len(self.cue_names)

    # --- episode dynamics ----------------------------------------------------------------------
    def _reset(self):
        cfg, b = self.config, self.batch_size
        if cfg.reward_schedule == "drift":
            lo, hi = cfg.drift_bounds
            self.probs = lo + (hi - lo) * self.uniform(b, 2)
        else:
            rich_first = (self.uniform(b) < 0.5).float()[:, None]
            levels = torch.tensor(cfg.reward_levels, device=self.device)
            self.probs = rich_first * levels + (1 - rich_first) * levels.flip(0)
        self.block_len = torch.zeros(b, dtype=torch.long, device=self.device)
        self._start_trial(first=True)

    def _start_trial(self, first: bool = False):
        cfg, b = self.config, self.batch_size
        if not first:
            if cfg.reward_schedule == "drift":
                step = torch.randn(b, 2, generator=self.generator, device=self.generator.device).to(self.device)
                self.probs = reflect(self.probs + cfg.drift_sd * step, *cfg.drift_bounds)
            else:
                self.block_len += 1
                swap = (self.uniform(b) < cfg.switch_prob) & (self.block_len >= cfg.min_block)
                self.probs = torch.where(swap[:, None], self.probs.flip(1), self.probs)
                self.block_len = torch.where(swap, torch.zeros_like(self.block_len), self.block_len)
        self.common = self.uniform(b) < cfg.common_prob
        self.state2 = torch.full((b,), -1, dtype=torch.long, device=self.device)

    def _step(self, action):
        cfg, b = self.config, self.batch_size
        period = self.t % 3
        penalty = torch.full((b,), float(cfg.invalid_penalty), device=self.device)
        zero = torch.zeros(b, device=self.device)
        if period == FIXATION:
            return torch.where(action == CENTRE, zero, penalty)
        if period == CHOICE:
            valid = (action == LEFT) | (action == RIGHT)
            side = (action - LEFT).clamp(0, 1)
            self.state2 = torch.where(valid, torch.where(self.common, side, 1 - side), torch.full_like(side, -1))
            return torch.where(valid, zero, penalty)
        reached = self.state2 >= 0
        valid = self._valid_actions().gather(1, action[:, None])[:, 0]
        won = (self.uniform(b) < self._reward_prob_of(action)).float()
        reward = torch.where(reached, torch.where(valid, won, penalty), zero)
        self._start_trial()
        return reward

    def _reward_prob_of(self, action: torch.Tensor) -> torch.Tensor:
        """(batch,) reward probability of the second-stage state reached (``action`` is the response)."""
        return self.probs.gather(1, self.state2.clamp(min=0)[:, None])[:, 0]

    def _valid_actions(self) -> torch.Tensor:
        """(batch, 3) bool: the responses that are valid at the current step."""
        b, period = self.batch_size, self.t % 3
        mask = torch.zeros(b, 3, dtype=torch.bool, device=self.device)
        if period == FIXATION:
            mask[:, CENTRE] = True
        elif period == CHOICE:
            mask[:, LEFT] = mask[:, RIGHT] = True
        else:
            response = self.config.stage2_response
            if response == "centre":
                mask[:, CENTRE] = True
            elif response == "side":
                mask.scatter_(1, (self.state2.clamp(min=0) + LEFT)[:, None], True)
            else:
                mask[:] = True
            mask[self.state2 < 0] = True  # blank second stage: nothing to do, nothing penalised
        return mask

    def _observe(self):
        b, period = self.batch_size, min(self.t, self.n_steps - 1) % 3
        if period == STAGE2:
            cue = torch.where(self.state2 >= 0, self.state2 + CUE_S1, torch.full_like(self.state2, CUE_BLANK))
        else:
            cue = torch.full((b,), CUE_FIXATION if period == FIXATION else CUE_CHOICE, dtype=torch.long, device=self.device)
        obs = torch.nn.functional.one_hot(cue, self.n_obs).float()
        info = {
            **self._timing(),
            "reward_prob": self.probs.clone(),
            "common": self.common.float(),
            "state2": self.state2.clone(),
            "valid_actions": self._valid_actions(),
        }
        return obs, info


class TwoStepChoiceTask(TwoStepTask):
    """The two-step task with a second-stage choice (Daw et al. 2011): in each second-stage state the
    subject chooses left or right, and each of the four (state, option) arms has its own reward
    probability, drifting as a reflected Gaussian random walk ('drift' schedule only). ``reward_prob``
    is (batch, state, option)."""

    name = "twostep-choice"
    description = "Two-step task with a second-stage choice between two options per state (Daw 2011, four drifting arms)"
    latents = {
        "reward_prob": Variable(("state", "option"), "reward probability of each second-stage option", "1"),
        "common": Variable((), "the trial's transition is common (1) or rare (0)", "1"),
    }
    latent_coords = {"state": ("S1", "S2"), "option": ("left", "right")}
    stage2_choice = True

    def __init__(self, config, batch_size, device="cpu"):
        if config.reward_schedule != "drift":
            raise ConfigError(f"the second-stage-choice task drifts its four arms: reward_schedule must be 'drift', got {config.reward_schedule!r}")
        super().__init__(config, batch_size, device)

    def _reset(self):
        lo, hi = self.config.drift_bounds
        self.probs = lo + (hi - lo) * self.uniform(self.batch_size, 2, 2)
        self.block_len = torch.zeros(self.batch_size, dtype=torch.long, device=self.device)
        self._start_trial(first=True)

    def _start_trial(self, first: bool = False):
        cfg, b = self.config, self.batch_size
        if not first:
            step = torch.randn(b, 2, 2, generator=self.generator, device=self.generator.device).to(self.device)
            self.probs = reflect(self.probs + cfg.drift_sd * step, *cfg.drift_bounds)
        self.common = self.uniform(b) < cfg.common_prob
        self.state2 = torch.full((b,), -1, dtype=torch.long, device=self.device)

    def _reward_prob_of(self, action):
        option = (action - LEFT).clamp(0, 1)
        in_state = self.probs.gather(1, self.state2.clamp(min=0)[:, None, None].expand(-1, 1, 2))[:, 0]
        return in_state.gather(1, option[:, None])[:, 0]

    def _valid_actions(self):
        if self.t % 3 != STAGE2:
            return super()._valid_actions()
        mask = torch.zeros(self.batch_size, 3, dtype=torch.bool, device=self.device)
        mask[:, LEFT] = mask[:, RIGHT] = True
        mask[self.state2 < 0] = True
        return mask
