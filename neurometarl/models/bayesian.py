"""Bayesian observers for two-armed bandits, each followed by a softmax over its predicted rewards.

- :class:`BetaBernoulli`: independent Beta posteriors over each arm's reward probability.
- :class:`HMMReversal`: a two-state hidden Markov model ("left is good" / "right is good") with a
  hazard rate of reversal; the exact forward filter.
- :class:`VolatilityObserver`: the two-level observer of the spec's Sim 2: the exact forward filter
  on a grid over the reward state r (which arm is better and by how much), the volatility v (the
  per-trial probability that r flips, itself switching between levels) and v's switch rate k.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import ConfigError
from .base import BehaviouralModel, positive, unit


def beta_counts(successes, failures, chosen, won):
    """The Beta-Bernoulli count update, shared by the observer model and the bandit baselines: the
    chosen arm (one-hot ``chosen``, (rows, 2)) gains a success if ``won`` (0/1, (rows, 1)), else a failure."""
    return successes + chosen * won, failures + chosen * (1 - won)


def beta_mean(successes, failures, a0=1.0, b0=1.0):
    """Posterior mean (s + a0) / (s + f + a0 + b0) of a Beta(a0, b0) prior after the counts."""
    return (successes + a0) / (successes + failures + a0 + b0)


class BetaBernoulli(BehaviouralModel):
    """Beta–Bernoulli observer: arm a's posterior mean (s_a + a0) / (n_a + a0 + b0), P(a) ∝ exp(β mean_a).

    Parameters
    ----------
    a0, b0 : Beta prior pseudo-counts of success and failure, reset at each session start.

    Free parameter: ``beta``. Outcomes are ``reward > 0``.
    """

    kind = "bandit"
    name = "beta-bernoulli"
    description = "Beta-Bernoulli observer of each arm with softmax on posterior means (beta)"

    def __init__(self, a0=1.0, b0=1.0, method="ml", n_starts=3, prior=None, max_iter=200, random_state=0):
        self.a0 = a0
        self.b0 = b0
        self._set_fit_options(method, n_starts, prior, max_iter, random_state)

    def _parameter_specs(self):
        return (positive("beta", "inverse temperature on posterior means"),)

    def _init_state(self, p, n):
        z = torch.zeros(n, 2, dtype=p["beta"].dtype)
        return {"successes": z, "failures": z.clone()}

    def _mean(self, state):
        return beta_mean(state["successes"], state["failures"], self.a0, self.b0)

    def _logits(self, state, p, x):
        return p["beta"][:, None] * self._mean(state)

    def _update(self, state, p, x):
        won = (x["reward"] > 0).to(x["choice_onehot"].dtype)[:, None]
        successes, failures = beta_counts(state["successes"], state["failures"], x["choice_onehot"], won)
        return {"successes": successes, "failures": failures}

    def _latents(self, state, p, x):
        m = self._mean(state)
        return {"mean_left": m[:, 0], "mean_right": m[:, 1]}

    def _prediction_errors(self, state, p, x):
        won = (x["reward"] > 0).to(x["choice_onehot"].dtype)
        return {"rpe": won - (self._mean(state) * x["choice_onehot"]).sum(-1)}


def _reversal_step(belief, like_if_first, like_if_second, hazard):
    """Posterior that hypothesis 1 holds after one observation, then one step of the Markov chain
    that switches hypotheses with probability ``hazard``; all (rows,)."""
    joint = belief * like_if_first
    post = joint / (joint + (1 - belief) * like_if_second)
    return (1 - hazard) * post + hazard * (1 - post)


class HMMReversal(BehaviouralModel):
    """Reversal observer: a hidden state says which arm is good (pays with ``p_high``; the other with
    ``p_low``) and reverses with probability ``hazard`` before every trial.

    Free parameters: ``hazard``, ``beta`` (softmax on the predicted reward of each arm).
    """

    kind = "bandit"
    name = "hmm-reversal"
    description = "Bayesian reversal observer: 2-state HMM with hazard rate (hazard, beta)"

    def __init__(self, p_high=0.8, p_low=0.2, method="ml", n_starts=3, prior=None, max_iter=200, random_state=0):
        self.p_high = p_high
        self.p_low = p_low
        self._set_fit_options(method, n_starts, prior, max_iter, random_state)

    def _parameter_specs(self):
        if not 0 < self.p_low < self.p_high < 1:
            raise ConfigError(f"need 0 < p_low < p_high < 1, got p_low={self.p_low}, p_high={self.p_high}")
        return (unit("hazard", "probability of a reversal before each trial", init=(0.01, 0.3), prior=(-2.5, 1.5)),
                positive("beta", "inverse temperature on predicted rewards"))

    def _init_state(self, p, n):
        return {"belief": torch.full((n,), 0.5, dtype=p["beta"].dtype)}

    def _values(self, state):
        b = state["belief"]
        return torch.stack([b * self.p_high + (1 - b) * self.p_low, b * self.p_low + (1 - b) * self.p_high], -1)

    def _logits(self, state, p, x):
        return p["beta"][:, None] * self._values(state)

    def _update(self, state, p, x):
        won = x["reward"] > 0
        left = (x["choice"] == 0).to(state["belief"].dtype)
        p_chosen_if_left_good = self.p_low + (self.p_high - self.p_low) * left
        p_chosen_if_right_good = self.p_high - (self.p_high - self.p_low) * left
        like1 = torch.where(won, p_chosen_if_left_good, 1 - p_chosen_if_left_good)
        like2 = torch.where(won, p_chosen_if_right_good, 1 - p_chosen_if_right_good)
        return {"belief": _reversal_step(state["belief"], like1, like2, p["hazard"])}

    def _latents(self, state, p, x):
        v = self._values(state)
        return {"belief_left_good": state["belief"], "value_left": v[:, 0], "value_right": v[:, 1]}

    def _prediction_errors(self, state, p, x):
        won = (x["reward"] > 0).to(state["belief"].dtype)
        return {"rpe": won - (self._values(state) * x["choice_onehot"]).sum(-1)}


class VolatilityObserver(BehaviouralModel):
    """The two-level volatility observer: the exact forward filter of the spec's Sim 2 generator on a
    grid, followed by a softmax over expected value (predicted probability × shown magnitude).

    Generative model (per episode k is fixed, ln k on a grid of ``n_k`` midpoints over
    ``log_k_range``): before every trial the volatility level j toggles with probability k, then the
    better arm flips with probability ``volatilities[j]``. The better arm pays with
    ``reward_levels[j]`` and the other with 1 − that (anticorrelated arms). The hidden state is
    (better arm, j, k): 2 × 2 × ``n_k`` grid points, a uniform prior at each session start.

    Parameters
    ----------
    volatilities : per-trial flip probability of each volatility level (default stable 0, volatile 0.2).
    reward_levels : the better arm's reward probability at each level (default 0.75 and 0.8; the
        spec notes the paper's {0, 1} for the volatile level may be a typo for {0.2, 0.8}).
    log_k_range, n_k : the grid over ln k.

    Free parameter: ``beta``. Latents: posterior mean P(left pays), posterior mean volatility, and the
    posterior mean of ln k.
    """

    kind = "bandit"
    name = "volatility"
    description = "two-level volatility observer: exact grid filter over reward state, volatility and its switch rate (beta)"

    def __init__(self, volatilities=(0.0, 0.2), reward_levels=(0.75, 0.8), log_k_range=(-4.5, -3.5), n_k=9,
                 method="ml", n_starts=3, prior=None, max_iter=200, random_state=0):
        self.volatilities = volatilities
        self.reward_levels = reward_levels
        self.log_k_range = log_k_range
        self.n_k = n_k
        self._set_fit_options(method, n_starts, prior, max_iter, random_state)

    def _parameter_specs(self):
        if len(self.volatilities) != len(self.reward_levels) or len(self.volatilities) < 1:
            raise ConfigError(f"volatilities {self.volatilities} and reward_levels {self.reward_levels} need one entry per level")
        if self.n_k < 1 or self.log_k_range[0] > self.log_k_range[1]:
            raise ConfigError(f"need n_k >= 1 and an increasing log_k_range, got {self.n_k}, {self.log_k_range}")
        return (positive("beta", "inverse temperature on expected values"),)

    def grid(self, dtype=torch.float64):
        """(k (n_k,), log k (n_k,), v (n_levels,), r_left (2, n_levels): P(left pays) given the
        better arm (0 = left, 1 = right) and level)."""
        lo, hi = self.log_k_range
        edges = np.linspace(lo, hi, self.n_k + 1)
        log_k = torch.as_tensor(0.5 * (edges[1:] + edges[:-1]), dtype=dtype)
        levels = torch.as_tensor(self.reward_levels, dtype=dtype)
        r_left = torch.stack([levels, 1 - levels])
        return log_k.exp(), log_k, torch.as_tensor(self.volatilities, dtype=dtype), r_left

    def _init_state(self, p, n):
        n_lv = len(self.volatilities)
        return {"belief": torch.full((n, 2, n_lv, self.n_k), 1.0 / (2 * n_lv * self.n_k), dtype=p["beta"].dtype)}

    def _p_left(self, state):
        _, _, _, r_left = self.grid(state["belief"].dtype)
        return (state["belief"] * r_left[None, :, :, None]).sum((1, 2, 3))

    def _logits(self, state, p, x):
        pl = self._p_left(state)
        return p["beta"][:, None] * torch.stack([pl, 1 - pl], -1) * x["magnitude"]

    def _update(self, state, p, x):
        k, _, v, r_left = self.grid(state["belief"].dtype)
        b = state["belief"]
        won = (x["reward"] > 0)[:, None, None, None]
        left = (x["choice"] == 0)[:, None, None, None]
        p_win = torch.where(left, r_left[None, :, :, None], 1 - r_left[None, :, :, None])
        b = b * torch.where(won, p_win, 1 - p_win)
        b = b / b.sum((1, 2, 3), keepdim=True)
        if b.shape[2] == 2:  # the level toggles with probability k
            b = (1 - k) * b + k * b.flip(2)
        flip = v[None, None, :, None]
        b = (1 - flip) * b + flip * b.flip(1)  # then the better arm flips with the new level's volatility
        return {"belief": b}

    def _latents(self, state, p, x):
        _, log_k, v, _ = self.grid(state["belief"].dtype)
        b = state["belief"]
        return {"p_left_pays": self._p_left(state), "volatility": (b.sum((1, 3)) * v).sum(-1),
                "log_k": (b.sum((1, 2)) * log_k).sum(-1)}

    def _prediction_errors(self, state, p, x):
        pl = self._p_left(state)
        won = (x["reward"] > 0).to(pl.dtype)
        return {"rpe": won - torch.where(x["choice"] == 0, pl, 1 - pl)}
