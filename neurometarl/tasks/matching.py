"""The monkey matching task (Lau & Glimcher 2005; Tsutsui et al. 2016; Wang et al. 2018 Sim 1, Fig. 2).

Each trial has two steps, actions (centre, left, right):

1. ``fixation``: the fixation cue; the valid response is centre (a_C).
2. ``choice``: the choice cue, answered with left or right.

An invalid response (anything but centre at fixation, centre at the choice) earns ``invalid_penalty``
(−1) and no reward; an invalid choice counts as a choice of neither arm.

**Baited schedule.** Each episode draws base rates ``p0 = (0.5 − p0_R, p0_R)`` with p0_R uniform on
``p0_range`` (so p0_L + p0_R = 0.5). Choosing arm a pays 1 with probability

    p(a) = 1 − (1 − p0(a)) ** (n(a) + 1),

where n(a) is the number of trials since a was last chosen (0 when it was chosen on the previous
trial, and counted from the episode start when it has not been chosen yet). This is the probability
that a bait, armed with probability p0(a) on each trial and held until collected, is waiting.

**Held-out base rates.** ``held_out`` lists p0_R intervals. With ``exclude_held_out`` (training) p0_R is
drawn uniformly from the rest of ``p0_range``; without it (test) from all of ``p0_range``, and the
``held_out`` latent marks episodes whose p0_R falls in a held-out interval. The intervals apply to
p0_R, so with the default [0.1, 0.2] ∪ [0.3, 0.4] the mirrored p0_L = 0.5 − p0_R is held out too.

**Episode length and padding.** Episode lengths are drawn from U{``min_trials`` .. ``n_trials``} but a
batch steps in lockstep for ``n_trials`` trials. After its last trial an episode is *over*: both of
its steps show an ``end`` cue (which never appears before the end, so the length cannot be
anticipated), every action earns 0 and nothing changes. The ``active`` latent (1 while the episode
runs, 0 after) masks the padding in every analysis; ``episode_length`` gives each episode's length.
Training sees the padding as zero-reward steps after the end, which leaves the returns of real steps
unchanged (the padding's value is learnt to be 0, its advantage is 0 in expectation).

``info`` carries the timing, the latents (``p0``, ``reward_prob`` = p(a) for the coming choice,
``n_since``, ``held_out``, ``active``, ``episode_length``) and ``valid_actions`` (batch, 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .base import ConfigError, Task, TaskConfig, Variable

CENTRE, LEFT, RIGHT = 0, 1, 2
FIXATION, CHOICE = 0, 1
CUE_FIXATION, CUE_CHOICE, CUE_END = 0, 1, 2


@dataclass(frozen=True)
class MatchingConfig(TaskConfig):
    """The baited two-armed matching task.

    n_trials: longest episode, and the number of trials every batch steps through (padding after the end).
    min_trials: shortest episode; lengths are uniform on {min_trials, ..., n_trials}.
    p0_total: p0_L + p0_R.
    p0_range: (low, high) interval from which p0_R is drawn uniformly.
    held_out: p0_R intervals held out of training, as (low, high) pairs.
    exclude_held_out: draw p0_R outside the held-out intervals (training) or anywhere in p0_range (test).
    fixed_p0_right: if >= 0, every episode uses this p0_R (protocol checks, examples); -1 draws it.
    invalid_penalty: reward for an invalid response.
    """

    n_trials: int = 100
    min_trials: int = 50
    p0_total: float = 0.5
    p0_range: tuple[float, float] = (0.0, 0.5)
    held_out: tuple[tuple[float, float], ...] = ((0.1, 0.2), (0.3, 0.4))
    exclude_held_out: bool = True
    fixed_p0_right: float = -1.0
    invalid_penalty: float = -1.0

    def __post_init__(self):
        # JSON task options arrive as lists: normalise to tuples so configs compare and hash
        object.__setattr__(self, "p0_range", tuple(float(x) for x in self.p0_range))
        object.__setattr__(self, "held_out", tuple(tuple(float(x) for x in iv) for iv in self.held_out))
        if not 1 <= self.min_trials <= self.n_trials:
            raise ConfigError(f"need 1 <= min_trials <= n_trials, got min_trials={self.min_trials}, n_trials={self.n_trials}")
        if not 0 < self.p0_total <= 1:
            raise ConfigError(f"p0_total must lie in (0, 1], got {self.p0_total}")
        lo, hi = self.p0_range if len(self.p0_range) == 2 else (1, 0)
        if not 0 <= lo < hi <= self.p0_total:
            raise ConfigError(f"p0_range must be (low, high) with 0 <= low < high <= p0_total={self.p0_total}, got {self.p0_range}")
        for iv in self.held_out:
            if len(iv) != 2 or not lo <= iv[0] < iv[1] <= hi:
                raise ConfigError(f"each held_out interval must be (low, high) inside p0_range {self.p0_range}, got {iv}")
        if self.exclude_held_out and self.fixed_p0_right < 0 and self.allowed_length() <= 0:
            raise ConfigError(f"held_out {self.held_out} covers all of p0_range {self.p0_range}: nothing left to train on")
        if self.fixed_p0_right >= 0 and not 0 <= self.fixed_p0_right <= self.p0_total:
            raise ConfigError(f"fixed_p0_right must lie in [0, p0_total={self.p0_total}] (or -1 to draw it), got {self.fixed_p0_right}")

    def merged_held_out(self) -> list[tuple[float, float]]:
        """The held-out intervals sorted and merged where they overlap."""
        out: list[list[float]] = []
        for lo, hi in sorted(self.held_out):
            if out and lo <= out[-1][1]:
                out[-1][1] = max(out[-1][1], hi)
            else:
                out.append([lo, hi])
        return [(lo, hi) for lo, hi in out]

    def allowed_length(self) -> float:
        """Total length of p0_range left once the held-out intervals are removed."""
        return (self.p0_range[1] - self.p0_range[0]) - sum(hi - lo for lo, hi in self.merged_held_out())


def is_held_out(p0_right: torch.Tensor, held_out) -> torch.Tensor:
    """Bool tensor: ``p0_right`` lies in one of the closed ``held_out`` intervals."""
    mask = torch.zeros_like(p0_right, dtype=torch.bool)
    for lo, hi in held_out:
        mask |= (p0_right >= lo) & (p0_right <= hi)
    return mask


def baited_probability(p0: torch.Tensor, n_since: torch.Tensor) -> torch.Tensor:
    """p(a) = 1 − (1 − p0(a)) ** (n(a) + 1): the chance that a bait waits at arm a."""
    return 1 - (1 - p0) ** (n_since + 1)


class MatchingTask(Task):
    """The baited matching task (:class:`MatchingConfig`, see the module docstring): fixation then
    choice each trial, actions (centre, left, right), episodes of random length padded to
    ``n_trials`` (``active`` marks the real trials)."""

    config: MatchingConfig
    name = "matching"
    description = "Baited two-armed matching task with fixation (Lau & Glimcher 2005)"
    citation = "Lau & Glimcher 2005 J Exp Anal Behav; Tsutsui et al. 2016 Nat Commun; Wang et al. 2018 Nat Neurosci Fig. 2"
    action_names = ("centre", "left", "right")
    period_names = ("fixation", "choice")
    choice_period = "choice"
    latents = {
        "p0": Variable(("arm",), "base baiting rate of each arm", "1"),
        "reward_prob": Variable(("arm",), "probability that each arm pays if chosen now", "1"),
        "n_since": Variable(("arm",), "trials since each arm was last chosen", "trials"),
        "held_out": Variable((), "p0 in a range held out of training (1) or not (0)", "1"),
        "active": Variable((), "the episode is running (1) or over, padding (0)", "1"),
        "episode_length": Variable((), "trials in the episode", "trials"),
    }
    latent_coords = {"arm": ("left", "right")}
    cue_names = ("fixation", "choice", "end")

    @property
    def n_obs(self) -> int:
        """3: the one-hot cue (fixation, choice, end of episode)."""
        return len(self.cue_names)

    def _draw_p0_right(self) -> torch.Tensor:
        cfg, b = self.config, self.batch_size
        if cfg.fixed_p0_right >= 0:
            return torch.full((b,), float(cfg.fixed_p0_right), device=self.device)
        lo, hi = cfg.p0_range
        u = self.uniform(b)
        if not cfg.exclude_held_out:
            return lo + (hi - lo) * u
        # inverse CDF of the uniform distribution on p0_range minus the held-out intervals
        x = lo + cfg.allowed_length() * u
        for h_lo, h_hi in cfg.merged_held_out():
            x = torch.where(x >= h_lo, x + (h_hi - h_lo), x)
        return x.clamp(lo, hi)

    def _reset(self):
        cfg, b = self.config, self.batch_size
        p0_right = self._draw_p0_right()
        self.p0 = torch.stack([cfg.p0_total - p0_right, p0_right], 1)
        self.held = is_held_out(p0_right, cfg.held_out)
        span = cfg.n_trials - cfg.min_trials + 1
        self.length = cfg.min_trials + (self.uniform(b) * span).long().clamp(max=span - 1)
        self.n_since = torch.zeros(b, 2, device=self.device)

    def _active(self) -> torch.Tensor:
        trial = min(self.t, self.n_steps - 1) // 2
        return trial < self.length

    def _step(self, action):
        cfg, b = self.config, self.batch_size
        active = self._active()
        zero = torch.zeros(b, device=self.device)
        penalty = torch.full((b,), float(cfg.invalid_penalty), device=self.device)
        if self.t % 2 == FIXATION:
            return torch.where(active & (action != CENTRE), penalty, zero)
        valid = (action == LEFT) | (action == RIGHT)
        arm = (action - LEFT).clamp(0, 1)
        p = baited_probability(self.p0, self.n_since).gather(1, arm[:, None])[:, 0]
        won = (self.uniform(b) < p).float()
        reward = torch.where(valid, won, penalty)
        chosen = torch.nn.functional.one_hot(arm, 2).bool() & valid[:, None]
        # every running episode counts the trial: the chosen arm's count restarts, the other's grows
        counted = torch.where(chosen, torch.zeros_like(self.n_since), self.n_since + 1)
        self.n_since = torch.where(active[:, None], counted, self.n_since)
        return torch.where(active, reward, zero)

    def _valid_actions(self, active: torch.Tensor) -> torch.Tensor:
        mask = torch.zeros(self.batch_size, 3, dtype=torch.bool, device=self.device)
        if min(self.t, self.n_steps - 1) % 2 == FIXATION:
            mask[:, CENTRE] = True
        else:
            mask[:, LEFT] = mask[:, RIGHT] = True
        mask[~active] = True  # padding: nothing is penalised
        return mask

    def _observe(self):
        active = self._active()
        period = min(self.t, self.n_steps - 1) % 2
        cue = torch.full((self.batch_size,), CUE_FIXATION if period == FIXATION else CUE_CHOICE, device=self.device, dtype=torch.long)
        cue = torch.where(active, cue, torch.full_like(cue, CUE_END))
        obs = torch.nn.functional.one_hot(cue, self.n_obs).float()
        info = {
            **self._timing(),
            "p0": self.p0.clone(),
            "reward_prob": baited_probability(self.p0, self.n_since),
            "n_since": self.n_since.clone(),
            "held_out": self.held.float(),
            "active": active.float(),
            "episode_length": self.length.float(),
            "valid_actions": self._valid_actions(active),
        }
        return obs, info
