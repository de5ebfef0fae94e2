"""Bandit baselines as lab subjects: policies without a likelihood (Bayes-optimal, Thompson, UCB,
random). They play the same protocol and write the same recording as a trained network, with their
latent variables (posterior means) in place of units. Learners with a likelihood (Rescorla-Wagner, the
Beta-Bernoulli observer...) are behavioural models, played through :class:`~neurometarl.models.subject.ModelSubject`
(``make_baseline("rw", alpha=0.2)``).

All are batched over episodes (torch) and draw randomness only from the session's generator.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from ..errors import ConfigError
from ..tasks import Task
from ..tasks.bandits import BanditTask
from .bayesian import beta_counts, beta_mean


class BanditSubject:
    """Shared machinery: per-arm success/failure counts and a posterior-mean latent."""

    name = "bandit-baseline"
    gamma = None
    unit_names: tuple[str, ...] = ("estimate_left", "estimate_right")

    def reset(self, task: Task, generator: torch.Generator) -> None:
        """Start ``task.batch_size`` episodes with zero counts on both arms; only two-armed bandit tasks
        (:class:`~neurometarl.tasks.bandits.BanditTask`) are accepted."""
        if not isinstance(task, BanditTask):
            raise ConfigError(f"baseline {self.name!r} plays two-armed bandit tasks only, not {task.name!r}")
        self.task, self.generator = task, generator
        b, dev = task.batch_size, task.device
        self.successes = torch.zeros(b, 2, device=dev)
        self.failures = torch.zeros(b, 2, device=dev)
        self.t = 0

    def estimate(self) -> torch.Tensor:
        """Expected reward of each arm, (batch, 2)."""
        return beta_mean(self.successes, self.failures)

    def choose(self) -> torch.Tensor:
        """Choice probabilities for this trial, (batch, 2) float over (left, right); set by each baseline."""
        raise NotImplementedError

    def act(self, obs, info):
        """Choose on the current trial: the ``choose`` policy, the arms' reward estimates as ``hidden``
        (batch, 2) and their policy-weighted mean as ``value`` (batch,)."""
        policy = self.choose()
        est = self.estimate()
        return {"policy": policy, "hidden": est, "value": (policy * est).sum(1)}

    def observe(self, action, reward, info):
        """Add the trial's 0/1 ``reward`` to the chosen arm's success or failure count and return the RPE,
        reward minus the chosen arm's estimate before the update, (batch,)."""
        chosen = torch.nn.functional.one_hot(action, 2).float()
        rpe = reward - self.estimate().gather(1, action[:, None])[:, 0]
        self.successes, self.failures = beta_counts(self.successes, self.failures, chosen, reward[:, None])
        self.t += 1
        return {"rpe": rpe}

    def describe(self) -> dict:
        """Name plus the scalar settings and state (``prior``, ``mode``, trial count...) for the recording."""
        return {"name": self.name, **{k: v for k, v in vars(self).items() if isinstance(v, (int, float, str))}}


def greedy(scores: torch.Tensor) -> torch.Tensor:
    """One-hot argmax policy that splits ties evenly (the lab's sampling then breaks them at random)."""
    best = scores >= scores.max(1, keepdim=True).values - 1e-12
    return best.float() / best.sum(1, keepdim=True)


class RandomSubject(BanditSubject):
    """Chooses either arm with probability 0.5 on every trial; no latents, no value, no RPE."""

    name = "random"
    unit_names = ()

    def act(self, obs, info):
        """Uniform policy (batch, 2) and a NaN ``value``; no ``hidden`` units."""
        b = obs.shape[0]
        return {"policy": torch.full((b, 2), 0.5, device=obs.device), "value": torch.full((b,), float("nan"), device=obs.device)}

    def observe(self, action, reward, info):
        """Learn nothing and report no RPE (the recording's ``rpe`` is NaN)."""
        return None


class ThompsonSubject(BanditSubject):
    """Thompson sampling with independent Beta(1, 1) priors on each arm."""

    name = "thompson"

    def reset(self, task, generator):
        """Reset the counts and seed the numpy generator of the Beta draws from the session's ``generator``."""
        super().reset(task, generator)
        seed = int(torch.randint(2**62, (1,), generator=generator, device=generator.device))
        self.rng = np.random.default_rng(seed)

    def choose(self):
        """Draw each arm's reward probability from its Beta(s + 1, f + 1) posterior and pick the larger."""
        draws = self.rng.beta((self.successes + 1).cpu().numpy(), (self.failures + 1).cpu().numpy())
        return greedy(torch.as_tensor(draws, dtype=torch.float32, device=self.successes.device))


class UCBSubject(BanditSubject):
    """UCB1 (Auer et al. 2002): pull each arm once, then argmax of mean + sqrt(2 ln t / n)."""

    name = "ucb"

    def choose(self):
        """Greedy on the UCB1 score, an untried arm first; ``t`` is the number of trials played so far."""
        n = self.successes + self.failures
        mean = self.successes / n.clamp(min=1)
        bonus = torch.sqrt(2 * np.log(max(self.t, 1)) / n.clamp(min=1))
        return greedy(torch.where(n == 0, torch.full_like(n, np.inf), mean + bonus))


class BayesOptimalSubject(BanditSubject):
    """The Bayes-optimal player for the task's own prior.

    prior='correlated': p2 = 1 − p1, so every pull is one observation of p1 and choosing the arm with the
    higher posterior mean is optimal (uniform p1, or the task's discrete ``levels``).
    prior='independent': finite-horizon dynamic programming over the two arms' Beta(1, 1) posteriors.
    prior=None takes the task's distribution ('fixed' and 'restless' use 'independent').
    """

    name = "bayes-optimal"

    def __init__(self, prior: str | None = None):
        if prior not in (None, "correlated", "independent"):
            raise ConfigError(f"prior must be 'correlated' or 'independent', got {prior!r}")
        self.prior = prior

    def reset(self, task, generator):
        """Reset the counts and fix the prior (``mode``, discrete ``levels``) from the task's configuration;
        under the independent prior, take the dynamic-programming plan for ``task.n_trials``."""
        super().reset(task, generator)
        cfg = task.config
        self.mode = self.prior or ("correlated" if cfg.distribution == "correlated" else "independent")
        self.levels = tuple(cfg.levels) if self.mode == "correlated" and cfg.distribution == "correlated" else ()
        if self.mode == "independent":
            self.plan = independent_dp(task.n_trials)[0]

    def estimate(self):
        """Posterior mean reward of each arm, (batch, 2). Correlated prior: the posterior mean of p1 from the
        evidence of both arms (over the symmetrised ``levels`` if the task has them) and 1 − p1; independent:
        each arm's Beta(1, 1) posterior mean."""
        if self.mode == "independent":
            return super().estimate()
        # evidence for "left is the better arm": left successes and right failures, against the rest
        a = self.successes[:, 0] + self.failures[:, 1]
        b = self.failures[:, 0] + self.successes[:, 1]
        if self.levels:
            lv = torch.tensor(sorted({*self.levels, *(1 - x for x in self.levels)}), device=a.device)
            logw = a[:, None] * torch.log(lv) + b[:, None] * torch.log1p(-lv)
            p1 = (torch.softmax(logw, 1) * lv).sum(1)
        else:
            p1 = beta_mean(a, b)
        return torch.stack([p1, 1 - p1], 1)

    def choose(self):
        """Correlated prior: the arm with the higher posterior mean; independent: the arm with the higher
        Q-value in the dynamic-programming plan at the current trial and counts (ties split evenly)."""
        if self.mode == "correlated":
            return greedy(self.estimate())
        n1 = (self.successes[:, 0] + self.failures[:, 0]).long().cpu()
        s1, s2 = self.successes.long().cpu().unbind(1)
        advantage = torch.as_tensor(self.plan[self.t][n1, s1, s2], dtype=torch.float32)  # Q(right) − Q(left)
        return greedy(torch.stack([-advantage, advantage], 1).to(self.successes.device))


@functools.lru_cache(maxsize=4)
def independent_dp(n_trials: int) -> tuple[list[np.ndarray], float]:
    """Finite-horizon Bayes-optimal policy for two independent Beta(1, 1) Bernoulli arms.

    Returns ``(advantage, value)``: ``advantage[t][n1, s1, s2]`` is Q(right) − Q(left) after t pulls,
    n1 of them on the left arm with s1 successes, and s2 successes in the t − n1 right pulls;
    ``value`` is the expected total reward of the optimal policy over ``n_trials``.
    """
    nxt = np.zeros((n_trials + 1,) * 3)
    advantage: list[np.ndarray] = [None] * n_trials  # type: ignore[list-item]  # placeholders, each filled by the loop below
    for t in range(n_trials - 1, -1, -1):
        n1, s1, s2 = np.ogrid[: t + 1, : t + 1, : t + 1]
        p1 = (s1 + 1) / (n1 + 2)
        p2 = (s2 + 1) / (t - n1 + 2)
        q1 = p1 * (1 + nxt[1 : t + 2, 1 : t + 2, : t + 1]) + (1 - p1) * nxt[1 : t + 2, : t + 1, : t + 1]
        q2 = p2 * (1 + nxt[: t + 1, : t + 1, 1 : t + 2]) + (1 - p2) * nxt[: t + 1, : t + 1, : t + 1]
        advantage[t] = (q2 - q1).astype(np.float32)
        nxt = np.maximum(q1, q2)
    return advantage, float(nxt[0, 0, 0])


def correlated_greedy_expected_reward(n_trials: int) -> float:
    """Exact expected reward per trial of posterior-greedy play on the uniform correlated bandit.

    With a uniform prior the evidence count a after t pulls is uniform on {0..t} (a Pólya urn), and the
    greedy arm pays with predictive probability (max(a, t − a) + 1) / (t + 2).
    """
    total = 0.0
    for t in range(n_trials):
        a = np.arange(t + 1)
        total += float(np.mean((np.maximum(a, t - a) + 1) / (t + 2)))
    return total / n_trials


BASELINES = {
    "bayes-optimal": BayesOptimalSubject,
    "thompson": ThompsonSubject,
    "ucb": UCBSubject,
    "random": RandomSubject,
}
