"""A Bayesian observer of the baited matching task (Wang et al. 2018 Sim 1 baseline).

The observer knows the task's structure: base rates p0 = (p0_total − p0_R, p0_R) with p0_R uniform on
``p0_range``, and a choice of arm a pays with probability 1 − (1 − p0(a)) ** (n(a) + 1), n(a) being the
trials since a was last chosen. It keeps the exact posterior over p0_R on a grid, predicts each arm's
payoff probability for the coming trial (posterior average of the baiting formula at the current
n(a)) and chooses by a softmax over those predictions.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import ConfigError
from .base import BehaviouralModel, positive


class BaitedObserver(BehaviouralModel):
    """Bayesian observer of a baited two-armed schedule, followed by a softmax on predicted payoffs.

    Parameters
    ----------
    p0_total : p0_L + p0_R (0.5 in Sim 1).
    p0_range : (low, high) of the uniform prior on p0_R.
    n_grid : grid points over p0_R (midpoints of equal bins).
    method, n_starts, prior, max_iter, random_state : fitting options, see
        :class:`~neurometarl.models.base.BehaviouralModel`.

    Free parameter: ``beta`` (inverse temperature on predicted payoff probabilities). Latents: the
    predicted payoff of each arm (``value_left``, ``value_right``), the posterior mean of p0_R and the
    trials since each arm was chosen.
    """

    kind = "bandit"
    name = "baited-observer"
    description = "Bayesian observer of a baited schedule: grid posterior over p0_R, softmax on predicted payoffs (beta)"

    def __init__(self, p0_total=0.5, p0_range=(0.0, 0.5), n_grid=50, method="ml", n_starts=3, prior=None,
                 max_iter=200, random_state=0):
        self.p0_total = p0_total
        self.p0_range = p0_range
        self.n_grid = n_grid
        self._set_fit_options(method, n_starts, prior, max_iter, random_state)

    def _parameter_specs(self):
        lo, hi = self.p0_range
        if not 0 <= lo < hi <= self.p0_total <= 1 or self.n_grid < 2:
            raise ConfigError(f"need 0 <= p0_range[0] < p0_range[1] <= p0_total <= 1 and n_grid >= 2; got "
                              f"p0_range={self.p0_range}, p0_total={self.p0_total}, n_grid={self.n_grid}")
        return (positive("beta", "inverse temperature on predicted payoff probabilities", init=(2.0, 20.0)),)

    def grid(self, dtype=torch.float64) -> torch.Tensor:
        """(n_grid, 2) base rates (p0_L, p0_R) at the grid's midpoints."""
        lo, hi = self.p0_range
        edges = np.linspace(lo, hi, self.n_grid + 1)
        right = torch.as_tensor(0.5 * (edges[1:] + edges[:-1]), dtype=dtype)
        return torch.stack([self.p0_total - right, right], 1)

    def _init_state(self, p, n):
        dtype = p["beta"].dtype
        return {"log_post": torch.full((n, self.n_grid), -float(np.log(self.n_grid)), dtype=dtype),
                "n_since": torch.zeros(n, 2, dtype=dtype)}

    def _payoff(self, state) -> torch.Tensor:
        """(rows, grid, 2): payoff probability of each arm now, for every grid value."""
        p0 = self.grid(state["n_since"].dtype)[None]
        return 1 - (1 - p0) ** (state["n_since"][:, None, :] + 1)

    def _predicted(self, state) -> torch.Tensor:
        post = torch.softmax(state["log_post"], -1)
        return (post[..., None] * self._payoff(state)).sum(1)

    def _logits(self, state, p, x):
        return p["beta"][:, None] * self._predicted(state)

    def _update(self, state, p, x):
        onehot = x["choice_onehot"]
        payoff = (self._payoff(state) * onehot[:, None, :]).sum(-1)  # (rows, grid) for the chosen arm
        won = (x["reward"] > 0).to(payoff.dtype)[:, None]
        like = torch.where(won > 0, payoff, 1 - payoff).clamp(min=1e-12)
        log_post = state["log_post"] + torch.log(like)
        log_post = log_post - torch.logsumexp(log_post, -1, keepdim=True)
        n_since = (state["n_since"] + 1) * (1 - onehot)
        return {"log_post": log_post, "n_since": n_since}

    def _latents(self, state, p, x):
        pred = self._predicted(state)
        post = torch.softmax(state["log_post"], -1)
        return {"value_left": pred[:, 0], "value_right": pred[:, 1],
                "p0_right": (post * self.grid(post.dtype)[:, 1]).sum(-1),
                "n_since_left": state["n_since"][:, 0], "n_since_right": state["n_since"][:, 1]}

    def _prediction_errors(self, state, p, x):
        won = (x["reward"] > 0).to(state["n_since"].dtype)
        return {"rpe": won - (self._predicted(state) * x["choice_onehot"]).sum(-1)}
