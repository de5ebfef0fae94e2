"""The cue-reversal task (Bromberg-Martin et al. 2010; Wang et al. 2018 Sim 3, Fig. 4), batched.

An *episode* is ``episode_trials`` (5) trials of four steps each, actions (centre, left, right):

1. ``fixation``: the fixation cue; the valid response is centre (a_C).
2. ``cue``: one of two cues, A or B, drawn at random (probability ½ each); the valid response is
   centre (hold while the cue is shown). The RPE on arriving here is the "dopamine response to the
   cue" (:func:`neurometarl.analysis.rpe_at` with ``period="cue", when="onset"``).
3. ``response``: a go signal with the cue still shown; the valid response is the matching action,
   left for cue A and right for cue B.
4. ``outcome``: the outcome. The reward is paid here: 1 if the response was valid and the cue shown
   is the episode's rewarded cue, else 0. Any action is accepted (nothing to do).

An invalid response earns ``invalid_penalty`` (−1) on its step (and no reward at the outcome). The
cue values are anticorrelated: exactly one cue (``rewarded_cue``) pays in an episode. At each
episode start the assignment reverses with probability ``reversal_prob`` (0.5), uncued.

**Reset or stream.** A recorded (and trained) task episode holds ``n_trials`` trials. With the
default ``n_trials == episode_trials`` every episode is its own task episode, so the network's state
is reset between episodes; the reversal is judged against the *previous* episode's assignment,
which the generator draws and reports as the ``previous_rewarded_cue`` latent (the subject never
saw it). With ``n_trials = k · episode_trials`` (protocol ``reversal-stream``) k episodes run as one
continuous stream and the state carries across them; ``previous_rewarded_cue`` of episode j > 0 is
then that of episode j − 1 of the same stream (for j = 0 it is drawn, unseen, as in reset mode).

``info`` carries the timing, ``valid_actions`` (batch, 3) and the latents ``cue`` (0 = A, 1 = B),
``rewarded_cue``, ``previous_rewarded_cue``, ``reversed`` (1 if ``rewarded_cue`` differs from the
previous episode's), ``episode_index`` (the episode's position in its stream) and ``episode_trial``
(the trial's position in its episode, 0-based).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .base import ConfigError, Task, TaskConfig, Variable

CENTRE, LEFT, RIGHT = 0, 1, 2
FIXATION, CUE, RESPONSE, OUTCOME = 0, 1, 2, 3
OBS_FIXATION, OBS_CUE_A, OBS_CUE_B, OBS_GO, OBS_OUTCOME = range(5)


@dataclass(frozen=True)
class ReversalConfig(TaskConfig):
    """Cue-reversal task.

    n_trials: trials in a task episode (what the network sees between state resets); a multiple of
        ``episode_trials`` (equal: reset per episode; k times: a stream of k episodes).
    episode_trials: trials in one episode (one cue-reward assignment).
    reversal_prob: probability that the assignment reverses at an episode start.
    invalid_penalty: reward for an invalid response.
    """

    n_trials: int = 5
    episode_trials: int = 5
    reversal_prob: float = 0.5
    invalid_penalty: float = -1.0

    def __post_init__(self):
        if self.episode_trials < 1 or self.n_trials < 1 or self.n_trials % self.episode_trials:
            raise ConfigError(f"n_trials ({self.n_trials}) must be a positive multiple of episode_trials ({self.episode_trials})")
        if not 0 <= self.reversal_prob <= 1:
            raise ConfigError(f"reversal_prob must lie in [0, 1], got {self.reversal_prob}")

    @property
    def n_episodes(self) -> int:
        """Episodes (assignments) per task episode."""
        return self.n_trials // self.episode_trials


class ReversalTask(Task):
    """The cue-reversal task (:class:`ReversalConfig`, see the module docstring): four steps a trial
    (fixation, cue, response, outcome), one of two cues rewarded per episode, the assignment
    reversing uncued at episode starts; a stream of episodes when ``n_trials`` spans several."""

    config: ReversalConfig
    name = "reversal"
    description = "Cue-reversal task: fixation, cue A/B, matching response, outcome; one cue pays, uncued reversals"
    citation = "Bromberg-Martin et al. 2010 Neuron; Wang et al. 2018 Nat Neurosci Fig. 4"
    action_names = ("centre", "left", "right")
    period_names = ("fixation", "cue", "response", "outcome")
    choice_period = "response"
    latents = {
        "cue": Variable((), "cue shown (0 = A, 1 = B)", "1"),
        "rewarded_cue": Variable((), "the episode's rewarded cue (0 = A, 1 = B)", "1"),
        "previous_rewarded_cue": Variable((), "the previous episode's rewarded cue (0 = A, 1 = B)", "1"),
        "reversed": Variable((), "the assignment reversed at this episode's start (1) or not (0)", "1"),
        "episode_index": Variable((), "position of the episode in its stream", "episodes"),
        "episode_trial": Variable((), "position of the trial in its episode", "trials"),
    }
    cue_names = ("fixation", "cue A", "cue B", "go", "outcome")

    @property
    def n_obs(self) -> int:
        """5: one channel per entry of ``cue_names`` (fixation, cue A, cue B, go, outcome)."""
        return len(self.cue_names)

    def _reset(self):
        b = self.batch_size
        self.rewarded = (self.uniform(b) < 0.5).long()
        self._start_trial(0)

    def _start_trial(self, trial: int):
        cfg, b = self.config, self.batch_size
        if trial % cfg.episode_trials == 0:  # a new episode: maybe reverse
            self.previous = self.rewarded
            flip = self.uniform(b) < cfg.reversal_prob
            self.rewarded = torch.where(flip, 1 - self.previous, self.previous)
        self.cue = (self.uniform(b) < 0.5).long()
        self.response_valid = torch.zeros(b, dtype=torch.bool, device=self.device)

    def _step(self, action):
        cfg, b = self.config, self.batch_size
        trial, period = divmod(self.t, 4)
        zero = torch.zeros(b, device=self.device)
        penalty = torch.full((b,), float(cfg.invalid_penalty), device=self.device)
        if period in (FIXATION, CUE):
            return torch.where(action == CENTRE, zero, penalty)
        if period == RESPONSE:
            self.response_valid = action == self.cue + LEFT
            return torch.where(self.response_valid, zero, penalty)
        reward = (self.response_valid & (self.cue == self.rewarded)).float()
        if trial + 1 < self.n_trials:
            self._start_trial(trial + 1)
        return reward

    def _valid_actions(self) -> torch.Tensor:
        period = min(self.t, self.n_steps - 1) % 4
        mask = torch.zeros(self.batch_size, 3, dtype=torch.bool, device=self.device)
        if period in (FIXATION, CUE):
            mask[:, CENTRE] = True
        elif period == RESPONSE:
            mask.scatter_(1, (self.cue + LEFT)[:, None], True)
        else:
            mask[:] = True
        return mask

    def _observe(self):
        b = self.batch_size
        trial, period = divmod(min(self.t, self.n_steps - 1), 4)
        obs = torch.zeros(b, self.n_obs, device=self.device)
        if period == FIXATION:
            obs[:, OBS_FIXATION] = 1
        elif period == OUTCOME:
            obs[:, OBS_OUTCOME] = 1
        else:
            obs.scatter_(1, (self.cue + OBS_CUE_A)[:, None], 1.0)
            if period == RESPONSE:
                obs[:, OBS_GO] = 1
        full = lambda v: torch.full((b,), float(v), device=self.device)
        info = {
            **self._timing(),
            "cue": self.cue.float(),
            "rewarded_cue": self.rewarded.float(),
            "previous_rewarded_cue": self.previous.float(),
            "reversed": (self.rewarded != self.previous).float(),
            "episode_index": full(trial // self.config.episode_trials),
            "episode_trial": full(trial % self.config.episode_trials),
            "valid_actions": self._valid_actions(),
        }
        return obs, info
