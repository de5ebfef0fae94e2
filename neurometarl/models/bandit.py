"""Model-free learners for two-armed bandits (and any protocol with a left/right choice).

- :class:`QLearning`: Rescorla–Wagner / Q-learning with a softmax, with optional asymmetric learning
  rates (α+ for positive, α− for negative prediction errors), forgetting of the unchosen value, an
  exponential choice-perseveration kernel, and a lapse rate.
- :class:`BehrensLearner`: Rescorla–Wagner over reward probability, choosing by a softmax over
  expected value = probability × the magnitude shown on the trial (Behrens et al. 2007; spec Sim 2).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from .base import BehaviouralModel, log_softmax2, positive, real, unit
from .compiled import compiled_loglik, rw_kernel
from .recurrence import affine_recurrence


class QLearning(BehaviouralModel):
    """Rescorla–Wagner / Q-learning: Q_a ← Q_a + α (r − Q_a) for the chosen arm, P(a) ∝ exp(β Q_a).

    Parameters
    ----------
    asymmetric : separate learning rates ``alpha_pos`` (δ > 0) and ``alpha_neg`` (δ < 0).
    forgetting : the unchosen value decays toward ``q0``: Q_u ← Q_u + φ (q0 − Q_u) (``forget``).
    perseveration : an exponential choice kernel C ← C + τ (onehot(a) − C) adds κ C_a to the
        logits (``kappa``, ``tau``); τ = 1 is one-back perseveration.
    lapse : P(a) = (1 − ε) softmax + ε / 2 (``lapse``).
    q0 : initial value of both arms at every session start.
    method, n_starts, prior, max_iter, random_state : fitting options, see
        :class:`~neurometarl.models.base.BehaviouralModel`.

    Free parameters: ``alpha`` (or ``alpha_pos``, ``alpha_neg``), ``beta``, then ``forget``,
    ``kappa``, ``tau``, ``lapse`` when enabled.
    """

    kind = "bandit"

    def __init__(self, asymmetric=False, forgetting=False, perseveration=False, lapse=False, q0=0.5,
                 method="ml", n_starts=3, prior=None, max_iter=200, random_state=0):
        self.asymmetric = asymmetric
        self.forgetting = forgetting
        self.perseveration = perseveration
        self.lapse = lapse
        self.q0 = q0
        self._set_fit_options(method, n_starts, prior, max_iter, random_state)

    @property
    def name(self) -> str:  # type: ignore[override]  # follows the enabled components; never assigned
        """``rw`` plus a suffix per enabled component, e.g. ``rw-asymmetric-lapse``."""
        flags = ("asymmetric", "forgetting", "perseveration", "lapse")
        return "-".join(["rw", *(f for f in flags if getattr(self, f))])

    @property
    def description(self) -> str:  # type: ignore[override]  # follows the enabled components; never assigned
        """One line for ``neurometarl models``: the model and its free parameters (and q0 with forgetting)."""
        text = f"Rescorla-Wagner / Q-learning with softmax ({', '.join(s.name for s in self._parameter_specs())})"
        if self.forgetting:
            text += f"; the unchosen value decays toward q0 = {self.q0:g} (set with q0 / --q0)"
        return text

    def _parameter_specs(self):
        specs = []
        if self.asymmetric:
            specs += [unit("alpha_pos", "learning rate after positive prediction errors"),
                      unit("alpha_neg", "learning rate after negative prediction errors")]
        else:
            specs.append(unit("alpha", "learning rate"))
        specs.append(positive("beta", "inverse temperature of the softmax"))
        if self.forgetting:
            specs.append(unit("forget", "decay of the unchosen value toward q0", init=(0.01, 0.5), prior=(-2.0, 1.5)))
        if self.perseveration:
            specs += [real("kappa", "weight of the choice kernel on the logits"),
                      unit("tau", "update rate of the choice kernel")]
        if self.lapse:
            specs.append(unit("lapse", "probability of a random choice", init=(0.01, 0.2), prior=(-3.0, 1.5)))
        return tuple(specs)

    def _nested(self):
        """Plain RW (alpha, beta) is nested in every variant: no forgetting (forget = 0), no choice
        kernel (kappa = 0), no lapse (lapse = 0), equal learning rates (alpha_pos = alpha_neg)."""
        flags = ("asymmetric", "forgetting", "perseveration", "lapse")
        if not any(getattr(self, f) for f in flags):
            return []

        def embed(params):
            a, b = params["alpha"].to_numpy(), params["beta"].to_numpy()
            out = {"alpha_pos": a, "alpha_neg": a} if self.asymmetric else {"alpha": a}
            out["beta"] = b
            zero = np.zeros_like(a)
            if self.forgetting:
                out["forget"] = zero
            if self.perseveration:
                out.update(kappa=zero, tau=zero + 0.5)
            if self.lapse:
                out["lapse"] = zero
            return pd.DataFrame(out, index=params.index)

        return [(self._sub_model(QLearning, **{f: False for f in flags}), embed)]

    def _compiled_loglik(self, p, batch):
        zero = torch.zeros_like(p["beta"])
        P = torch.stack([p.get("alpha_pos", p.get("alpha")), p.get("alpha_neg", p.get("alpha")), p["beta"],
                         p.get("forget", zero), p.get("kappa", zero), p.get("tau", zero), p.get("lapse", zero)], 1)
        a = batch.columns()
        q0, lapse = float(self.q0), bool(self.lapse)

        def run(cols, values, ll, grad):
            rw_kernel(cols, values, a["choice"], a["reward"], a["lik1"], a["update"], q0, lapse, ll, grad)

        return compiled_loglik(P, run, batch.kernel_cache.setdefault(f"rw q0={q0} lapse={lapse}", {}))

    def _init_state(self, p, n):
        state = {"q": torch.full((n, 2), float(self.q0), dtype=p["beta"].dtype)}
        if self.perseveration:
            state["kernel"] = torch.zeros(n, 2, dtype=p["beta"].dtype)
        return state

    # The likelihood keeps only the values; β and κ multiply them once for all trials. Without
    # asymmetric rates the updates are affine recurrences, run with an analytic adjoint.
    def _policy_inputs(self, state, p, x):
        return state

    def _policy_logits(self, inputs, p):
        logits = p["beta"][:, None] * inputs["q"]
        if self.perseveration:
            logits = logits + p["kappa"][:, None] * inputs["kernel"]
        return logits

    def _logits(self, state, p, x):
        return self._policy_logits(state, p)

    def _log_probs(self, logits, p):
        logp = log_softmax2(logits)
        if self.lapse:
            eps = p["lapse"][:, None]
            logp = torch.log((1 - eps) * logp.exp() + 0.5 * eps)
        return logp

    def _value_map(self, p, onehot, reward):
        """Without asymmetric rates the value update is affine, Q ← Q ⊙ keep + gain (learning on the
        chosen arm, forgetting on the other); works for one trial (columns, 2) or all (T, columns, 2)."""
        alpha_onehot = p["alpha"][:, None] * onehot
        keep, gain = 1 - alpha_onehot, alpha_onehot * reward[..., None]
        if self.forgetting:
            forget_other = p["forget"][:, None] * (1 - onehot)
            keep, gain = keep - forget_other, gain + forget_other * self.q0
        return keep, gain

    def _vectorised_inputs(self, p, batch):
        if self.asymmetric:  # the learning rate depends on the sign of δ: not affine, use the loop
            return None
        onehot, learn = batch.choice_onehot, batch.tensors["update"][..., None]

        def skipping(keep, gain):  # violation trials leave the state as it is
            return (torch.where(learn, keep, 1.0), torch.where(learn, gain, 0.0)) if any(batch.any_skip) else (keep, gain)

        keep, gain = skipping(*self._value_map(p, onehot, batch.reward))
        n = onehot.shape[1]
        out = {"q": affine_recurrence(keep, gain, torch.full((n, 2), float(self.q0), dtype=keep.dtype))}
        if self.perseveration:
            tau = p["tau"][:, None]
            keep, gain = skipping((1 - tau).expand_as(onehot), tau * onehot)
            out["kernel"] = affine_recurrence(keep, gain, torch.zeros(n, 2, dtype=keep.dtype))
        return out

    def _update(self, state, p, x):
        onehot = x["choice_onehot"]
        q = state["q"]
        if self.asymmetric:
            delta = x["reward"] - (q * onehot).sum(-1)
            alpha = torch.where(delta >= 0, p["alpha_pos"], p["alpha_neg"])
            q = q + (alpha * delta)[:, None] * onehot
            if self.forgetting:
                q = q + p["forget"][:, None] * (1 - onehot) * (self.q0 - q)
        else:
            keep, gain = self._value_map(p, onehot, x["reward"])
            q = q * keep + gain
        new = {"q": q}
        if self.perseveration:
            new["kernel"] = state["kernel"] * (1 - p["tau"][:, None]) + p["tau"][:, None] * onehot
        return new

    def _latents(self, state, p, x):
        out = {"q_left": state["q"][:, 0], "q_right": state["q"][:, 1]}
        if self.perseveration:
            out["kernel_left"] = state["kernel"][:, 0]
            out["kernel_right"] = state["kernel"][:, 1]
        return out

    def _prediction_errors(self, state, p, x):
        return {"rpe": x["reward"] - (state["q"] * x["choice_onehot"]).sum(-1)}


class BehrensLearner(BehaviouralModel):
    """Rescorla–Wagner over reward probability with a softmax over expected value (probability ×
    shown magnitude), as in Behrens et al. 2007 and the spec's Sim 2 effective-learning-rate analysis.

    Uses the table's ``magnitude_left``/``magnitude_right`` (1 when absent); a trial's outcome is
    ``reward > 0``.

    Parameters
    ----------
    anticorrelated : the arms' probabilities are r and 1 − r, so one estimate p = P(left pays) learns
        from every outcome (target 1 when left chose-and-won or right chose-and-lost); otherwise each
        arm has its own estimate, updated when chosen.
    p0 : initial estimate(s) at each session start.

    Free parameters: ``alpha``, ``beta``.
    """

    kind = "bandit"
    name = "behrens"
    description = "RW over reward probability, softmax over probability x shown magnitude (alpha, beta)"

    def __init__(self, anticorrelated=True, p0=0.5, method="ml", n_starts=3, prior=None, max_iter=200, random_state=0):
        self.anticorrelated = anticorrelated
        self.p0 = p0
        self._set_fit_options(method, n_starts, prior, max_iter, random_state)

    def _parameter_specs(self):
        return (unit("alpha", "learning rate"), positive("beta", "inverse temperature on expected value"))

    def _init_state(self, p, n):
        first = float(self.p0)
        second = 1 - first if self.anticorrelated else first
        return {"p": torch.tensor([first, second], dtype=p["beta"].dtype).expand(n, 2).clone()}

    def _probs(self, state):
        return state["p"]  # anticorrelated: kept as (p, 1 − p) by the update

    def _map(self, p, onehot, choice, reward):
        """The affine update p ← p ⊙ keep + gain, for one trial (columns, 2) or all (T, columns, 2)."""
        outcome = (reward > 0).to(onehot.dtype)
        alpha = p["alpha"][:, None]
        if self.anticorrelated:  # both entries move toward (y, 1 − y), y = "left would have paid"
            left_won = torch.where(choice == 0, outcome, 1 - outcome)
            target = torch.stack([left_won, 1 - left_won], -1)
            return (1 - alpha).expand_as(onehot), alpha * target
        return 1 - alpha * onehot, alpha * outcome[..., None] * onehot

    # the logits need the trial's magnitudes: keep them beside the estimates
    def _policy_inputs(self, state, p, x):
        return {"p": self._probs(state), "magnitude": x["magnitude"]}

    def _policy_logits(self, inputs, p):
        return p["beta"][:, None] * inputs["p"] * inputs["magnitude"]

    def _logits(self, state, p, x):
        return self._policy_logits(self._policy_inputs(state, p, x), p)

    def _vectorised_inputs(self, p, batch):
        keep, gain = self._map(p, batch.choice_onehot, batch.choice, batch.reward)
        if any(batch.any_skip):
            learn = batch.tensors["update"][..., None]
            keep, gain = torch.where(learn, keep, 1.0), torch.where(learn, gain, 0.0)
        init = self._init_state(p, batch.choice.shape[1])["p"]
        return {"p": affine_recurrence(keep, gain, init), "magnitude": batch.tensors["magnitude"]}

    def _update(self, state, p, x):
        keep, gain = self._map(p, x["choice_onehot"], x["choice"], x["reward"])
        return {"p": state["p"] * keep + gain}

    def _latents(self, state, p, x):
        probs = self._probs(state)
        return {"prob_left": probs[:, 0], "prob_right": probs[:, 1],
                "ev_left": probs[:, 0] * x["magnitude"][:, 0], "ev_right": probs[:, 1] * x["magnitude"][:, 1]}

    def _prediction_errors(self, state, p, x):
        outcome = (x["reward"] > 0).to(state["p"].dtype)
        return {"rpe": outcome - (self._probs(state) * x["choice_onehot"]).sum(-1)}
