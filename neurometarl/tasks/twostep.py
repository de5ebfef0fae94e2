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
Gaussian random walk, s.d. ``drift_sd``, reflected in ``drift_bounds``; Daw 2011), 'levels' (the monkey
task, :class:`MonkeyTwoStepTask`: each of four options pays one of three amounts, jumping between them).

``info`` carries the timing, the latents ``reward_prob`` (batch, 2: S1, S2) and ``common`` (batch,), the
second-stage state reached so far ``state2`` (batch,; −1 before it is reached or after an invalid
choice) and ``valid_actions`` (batch, 3) for the step about to be taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from .base import ConfigError, Task, TaskConfig, Variable

SCHEDULES = ("switch", "blocks", "drift", "levels")
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
    """The two-step task (:class:`TwoStepConfig`, see the module docstring): three steps a trial
    (fixation, first-stage choice leading to S1 or S2 by a common or rare transition, second-stage
    response) under the 'switch', 'blocks' or 'drift' reward schedule."""

    config: TwoStepConfig
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
    cue_names: ClassVar[tuple[str, ...]] = ("fixation", "choice", "S1", "S2", "blank")
    #: whether the second stage is a choice between two options (Daw et al. 2011's four arms)
    stage2_choice = False
    #: the reward schedules this class runs
    schedules: ClassVar[tuple[str, ...]] = ("switch", "blocks", "drift")

    def __init__(self, config, batch_size, device="cpu"):
        if config.reward_schedule not in self.schedules:
            raise ConfigError(f"task {type(self).__name__} runs reward_schedule {' or '.join(map(repr, self.schedules))}, "
                              f"got {config.reward_schedule!r}")
        super().__init__(config, batch_size, device)

    @property
    def n_obs(self) -> int:
        """One channel per entry of ``cue_names``: the one-hot cue (5 here; the monkey protocol adds cues)."""
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
        if period == CHOICE:  # left or right, or only the side offered (the monkey protocol's instructed trials)
            valid = self._valid_actions().gather(1, action[:, None])[:, 0]
            side = (action - LEFT).clamp(0, 1)
            self.state2 = torch.where(valid, torch.where(self.common, side, 1 - side), torch.full_like(side, -1))
            return torch.where(valid, zero, penalty)
        reached = self.state2 >= 0
        valid = self._valid_actions().gather(1, action[:, None])[:, 0]
        reward = torch.where(reached, torch.where(valid, self._payoff(action), penalty), zero)
        self._start_trial()
        return reward

    def _payoff(self, action: torch.Tensor) -> torch.Tensor:
        """(batch,) reward of a valid second-stage response: 1 with the reward probability, else 0."""
        return (self.uniform(self.batch_size) < self._reward_prob_of(action)).float()

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
    schedules = ("drift",)

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


@dataclass(frozen=True)
class MonkeyTwoStepConfig(TwoStepConfig):
    """The monkeys' two-step task (Miranda et al. 2025): :class:`TwoStepConfig` plus

    level_values: the reward each option pays at level 0, 1 and 2 (the monkeys' low / medium / high outcome).
    level_hold: (fewest, most) trials an option holds its level before the schedule may move it
        (uniform over the whole numbers between).
    level_jump_prob: at the end of a hold, probability of jumping to one of the other two levels
        (equally likely); otherwise the level is kept for a new hold.
    forced1_prob, forced2_prob: probability that a trial offers one first-stage option only (the
        authors' trial type 2) or one second-stage option only (type 3).

    The schedule is the authors' task code (jamesbutler01/TwoStepTask: holds of 5-9 trials, then stay with
    probability 1/3); on the monkeys' 57 sessions (``PreparedData.mat``) an option kept its level on
    90.5% of consecutive good trials and jumped to either other level equally often, as this schedule
    gives (9.5%); trial types 2 and 3 were about 7% each; transitions 70% common.
    """

    common_prob: float = 0.7
    reward_schedule: str = "levels"
    level_values: tuple[float, float, float] = (0.0, 0.5, 1.0)
    level_hold: tuple[int, int] = (5, 9)
    level_jump_prob: float = 2 / 3
    forced1_prob: float = 0.07
    forced2_prob: float = 0.07

    def __post_init__(self):
        super().__post_init__()
        if len(self.level_values) != 3:
            raise ConfigError(f"level_values needs three rewards (levels 0, 1, 2), got {self.level_values}")
        lo, hi = self.level_hold
        if not 1 <= lo <= hi:
            raise ConfigError(f"level_hold must be (fewest, most) trials with 1 <= fewest <= most, got {self.level_hold}")
        probs = (self.level_jump_prob, self.forced1_prob, self.forced2_prob)
        if not all(0 <= p <= 1 for p in probs) or self.forced1_prob + self.forced2_prob > 1:
            raise ConfigError(f"level_jump_prob, forced1_prob, forced2_prob must lie in [0, 1] (forced ones summing to <= 1), got {probs}")


class MonkeyTwoStepTask(TwoStepChoiceTask):
    """The monkeys' two-step protocol (Miranda et al. 2025): first-stage choice between two options,
    70/30 transitions, a second-stage choice between the two options of the state reached. Each of the
    four options pays a fixed amount set by its level (0, 1 or 2: ``level_values``); a level is held for
    5-9 trials, then jumps to one of the other two with probability 2/3 (``level_hold``,
    ``level_jump_prob``). Instructed trials offer one option only, at the first stage (``forced1_prob``:
    cues ``choice-left-only`` / ``choice-right-only``) or at the second (``forced2_prob``: cues
    ``S1-left-only`` ...); choosing the option not offered is an invalid response.

    Latents: ``reward_prob`` (batch, state, option) holds each option's current reward (the name the
    second-stage-choice protocols share), ``level`` its level, ``trial_type`` the authors' code (1 free,
    2 instructed first stage, 3 instructed second stage) and ``forced`` = 1 on type 2 (the first-stage
    choice is not the subject's: the trial table's ``forced``).
    """

    config: MonkeyTwoStepConfig
    name = "twostep-monkey"
    description = "Monkey two-step (Miranda et al. 2025): 70/30 transitions, four second-stage options paying 0/0.5/1 by level"
    citation = "Miranda et al. 2025 eLife 14:RP106032"
    latents = {
        "reward_prob": Variable(("state", "option"), "reward each second-stage option pays now (its level's value)", "reward"),
        "level": Variable(("state", "option"), "reward level of each second-stage option (0, 1, 2)", "1"),
        "common": Variable((), "the trial's transition is common (1) or rare (0)", "1"),
        "trial_type": Variable((), "trial type: 1 free, 2 one first-stage option offered, 3 one second-stage option offered", "1"),
        "forced": Variable((), "instructed first-stage choice (trial type 2)", "1"),
    }
    cue_names = ("fixation", "choice", "S1", "S2", "blank", "choice-left-only", "choice-right-only",
                 "S1-left-only", "S1-right-only", "S2-left-only", "S2-right-only")
    schedules = ("levels",)

    def _new_holds(self, *shape: int) -> torch.Tensor:
        lo, hi = self.config.level_hold
        return lo + (self.uniform(*shape) * (hi - lo + 1)).long().clamp(max=hi - lo)

    def _reset(self):
        b = self.batch_size
        self.levels = (self.uniform(b, 2, 2) * 3).long().clamp(max=2)
        self.hold = self._new_holds(b, 2, 2)
        self._start_trial(first=True)

    def _start_trial(self, first: bool = False):
        cfg, b = self.config, self.batch_size
        if not first:
            self.hold -= 1
            due = self.hold <= 0
            jump = due & (self.uniform(b, 2, 2) < cfg.level_jump_prob)
            shift = 1 + (self.uniform(b, 2, 2) < 0.5).long()  # to one of the other two levels
            self.levels = torch.where(jump, (self.levels + shift) % 3, self.levels)
            self.hold = torch.where(due, self._new_holds(b, 2, 2), self.hold)
        self.probs = torch.tensor(cfg.level_values, device=self.device)[self.levels]
        self.common = self.uniform(b) < cfg.common_prob
        u = self.uniform(b)
        self.trial_type = torch.where(u < cfg.forced1_prob, 2, torch.where(u < cfg.forced1_prob + cfg.forced2_prob, 3, 1))
        self.offered = LEFT + (self.uniform(b) < 0.5).long()  # the one side offered on an instructed stage
        self.state2 = torch.full((b,), -1, dtype=torch.long, device=self.device)

    def _payoff(self, action):
        """(batch,) the chosen option's amount, paid for sure."""
        return self._reward_prob_of(action)

    def _instructed(self) -> torch.Tensor:
        """(batch,) bool: the step about to be taken offers one option only."""
        period = self.t % 3
        if period == CHOICE:
            return self.trial_type == 2
        return (self.trial_type == 3) & (self.state2 >= 0) if period == STAGE2 else torch.zeros_like(self.common)

    def _valid_actions(self):
        mask = super()._valid_actions()
        one = self._instructed()
        mask[one] = False
        mask[one, self.offered[one]] = True
        return mask

    def _observe(self):
        obs, info = super()._observe()
        if self.t < self.n_steps and self.t % 3 != FIXATION:
            names = self.cue_names  # the left-only cue of the step; right-only follows it
            first = (names.index("choice-left-only") if self.t % 3 == CHOICE
                     else names.index("S1-left-only") + 2 * self.state2.clamp(min=0))
            cue = torch.where(self._instructed(), first + self.offered - LEFT, obs.argmax(1))
            obs = torch.nn.functional.one_hot(cue, self.n_obs).float()
        info.update(level=self.levels.clone(), trial_type=self.trial_type.float(), forced=(self.trial_type == 2).float())
        return obs, info
