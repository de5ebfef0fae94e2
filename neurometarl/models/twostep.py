"""Two-step task models (Daw et al. 2011; Miller et al. 2017; spec Sim 4).

States are canonical: second-stage state ``a`` is the one first-stage choice ``a`` commonly leads to
(the table's ``state2`` is checked against, then replaced by, this labelling), so the known transition
matrix is [[c, 1 − c], [1 − c, c]] with c the common-transition probability.

- :class:`HybridTwoStep` (``hybrid``): the Daw et al. 2011 hybrid, α1, α2, λ, β1, β2, perseveration p,
  weight w: P(a1) ∝ exp(β1 [w Q_MB + (1 − w) Q_MF](a1) + p·[a1 = previous a1]); SARSA(λ) for Q_MF
  (δ1 = Q2(s, a2) − Q_MF(a1), δ2 = r − Q2(s, a2), Q_MF(a1) += α1 (δ1 + λ δ2)), Q2(s, a2) += α2 δ2,
  Q_MB(a) = Σ_s P(s | a) max_a2 Q2(s, a2); second-stage choices P(a2 | s) ∝ exp(β2 Q2(s, a2)).
- :class:`ModelFreeTwoStep` (``mf``): the hybrid at w = 0 (SARSA(λ)).
- :class:`ModelBasedTwoStep` (``mb``): the hybrid at w = 1 (planning with the known transitions).
- :class:`LatentStateTwoStep` (``latent-state``): a planner that infers which second-stage state is
  currently rich (a two-state HMM with a hazard rate) and plans through the known transitions.

Second-stage choices are modelled (β2) when the data have a ``choice2`` column (``stages='auto'``).
"""

from __future__ import annotations

import torch

from ..errors import ConfigError, DataError
from .base import BehaviouralModel, positive, real, unit
from .bayesian import _reversal_step
from .compiled import compiled_loglik, hybrid_kernel

STAGES = ("auto", "first", "both")


class _TwoStepBase(BehaviouralModel):
    kind = "twostep"

    def _resolve(self, data, task=None):
        if self.stages not in STAGES:
            raise ConfigError(f"stages must be one of {STAGES}, got {self.stages!r}")
        if data is not None:
            has2 = data.has_choice2
            if self.stages == "both" and not has2:
                raise DataError("stages='both' needs a 'choice2' column; this table has none (use stages='first')")
            self.stage2_ = self.supports_stage2 and has2 and self.stages != "first"
            if self.common_prob is not None:
                self.common_prob_ = float(self.common_prob)
            elif "common_prob" in data.task_config:  # a recording of a known protocol
                self.common_prob_ = float(data.task_config["common_prob"])
            else:
                used = data.arrays["update"] > 0
                self.common_prob_ = float(data.arrays["transition"][used].mean())
        else:
            if task is None or "common" not in getattr(task, "latents", {}):
                raise ConfigError(f"{self.name} plays two-step protocols only (tasks 'twostep', 'twostep-rat', 'twostep-daw'), not {getattr(task, 'name', task)!r}")
            choice2 = getattr(task, "stage2_choice", False)
            if self.stages == "both" and not choice2:
                raise ConfigError(f"task {task.name!r} has no second-stage choice; simulate with stages='first' or 'auto', or use 'twostep-daw-choice'")
            self.stage2_ = self.supports_stage2 and choice2 and self.stages != "first"
            self.common_prob_ = float(self.common_prob if self.common_prob is not None else task.config.common_prob)
        if not 0.5 <= self.common_prob_ <= 1:
            raise DataError(f"the common-transition probability must be in [0.5, 1], got {self.common_prob_:.3f}: "
                            "is 'transition' coded 1 = common, 0 = rare?")

    def _plan(self, v2):
        """Q_MB(a) = c V(a) + (1 − c) V(other), v2 (rows, 2) → (rows, 2)."""
        c = self.common_prob_
        return c * v2 + (1 - c) * v2.flip(-1)


class HybridTwoStep(_TwoStepBase):
    """The Daw et al. (2011) hybrid model-based / model-free learner.

    Parameters
    ----------
    stages : 'auto' (model second-stage choices when the data have ``choice2``), 'first', 'both'.
    common_prob : known common-transition probability; ``None`` takes the protocol's ``common_prob``
        for a recording (and when simulating), else the fraction of common transitions in the data.
    q0 : initial values at each session start.
    method, n_starts, prior, max_iter, random_state : fitting options.

    Free parameters: ``alpha1``, ``alpha2``, ``lambda``, ``beta1``, ``beta2`` (second-stage choices
    only), ``perseveration``, ``w``.
    """

    name = "hybrid"
    description = "Daw 2011 hybrid MB/MF (alpha1, alpha2, lambda, beta1, beta2, perseveration, w)"
    supports_stage2 = True
    #: parameters held fixed (subclasses pin w)
    fixed: dict = {}

    def __init__(self, stages="auto", common_prob=None, q0=0.5, method="ml", n_starts=3, prior=None, max_iter=200, random_state=0):
        self.stages = stages
        self.common_prob = common_prob
        self.q0 = q0
        self._set_fit_options(method, n_starts, prior, max_iter, random_state)

    def _parameter_specs(self):
        w = self.fixed.get("w")
        specs = []
        if w != 1.0:
            specs += [unit("alpha1", "first-stage model-free learning rate"),
                      unit("alpha2", "second-stage learning rate"),
                      unit("lambda", "eligibility trace: second-stage RPE credited to the first-stage choice")]
        else:
            specs.append(unit("alpha2", "second-stage learning rate"))
        specs.append(positive("beta1", "first-stage inverse temperature"))
        if getattr(self, "stage2_", False):
            specs.append(positive("beta2", "second-stage inverse temperature"))
        specs.append(real("perseveration", "bonus for repeating the previous first-stage choice", init=(-0.5, 1.0)))
        if w is None:
            specs.append(unit("w", "model-based weight", prior=(0.0, 1.5)))
        return tuple(specs)

    def _nested(self):
        """The hybrid contains MF (w = 0) and MB (w = 1; alpha1 and lambda then have no effect, set to
        0.5); MF and MB contain nothing fitted here."""
        if self.fixed.get("w") is not None:
            return []

        def from_mf(params):
            return params.assign(w=0.0)

        def from_mb(params):
            return params.assign(alpha1=0.5, **{"lambda": 0.5}, w=1.0)

        return [(self._sub_model(ModelFreeTwoStep), from_mf), (self._sub_model(ModelBasedTwoStep), from_mb)]

    def _compiled_loglik(self, p, batch):
        w = self.fixed.get("w")
        zero = torch.zeros_like(p["beta1"])
        P = torch.stack([p.get("alpha1", zero), p["alpha2"], p.get("lambda", zero), p["beta1"], p.get("beta2", zero),
                         p["perseveration"], p["w"] if w is None else zero + w], 1)
        a = batch.columns()
        q0, common, stage2 = float(self.q0), float(self.common_prob_), bool(self.stage2_)

        def run(cols, values, ll, grad):
            hybrid_kernel(cols, values, a["choice"], a["reward"], a["state2"], a["choice2"], a["lik1"], a["lik2"], a["update"],
                          q0, common, stage2, ll, grad)

        return compiled_loglik(P, run, batch.kernel_cache.setdefault(f"hybrid q0={q0} c={common} stage2={stage2}", {}))

    def _init_state(self, p, n):
        dt = p["beta1"].dtype
        return {"q1": torch.full((n, 2), float(self.q0), dtype=dt),
                "q2": torch.full((n, 4), float(self.q0), dtype=dt),  # (state, a2) flattened
                "prev": torch.zeros(n, 2, dtype=dt)}

    def _v2(self, q2):
        q = q2.view(-1, 2, 2)
        return q.amax(-1) if self.stage2_ else q[..., 0]

    def _values(self, state, p):
        w = self.fixed.get("w")
        q_mb = self._plan(self._v2(state["q2"])) if w != 0.0 else None
        if w == 0.0:
            return state["q1"], q_mb
        if w == 1.0:
            return q_mb, q_mb
        ww = p["w"][:, None]
        return ww * q_mb + (1 - ww) * state["q1"], q_mb

    def _logits(self, state, p, x):
        net, _ = self._values(state, p)
        return p["beta1"][:, None] * net + p["perseveration"][:, None] * state["prev"]

    def _logits2(self, state, p, x):
        q = state["q2"].view(-1, 2, 2)
        q_s = (q * x["state2_onehot"][..., None]).sum(1)
        return p["beta2"][:, None] * q_s

    def _update(self, state, p, x):
        onehot, s2a2 = x["choice_onehot"], x["s2a2_onehot"]
        q1, q2 = state["q1"], state["q2"]
        q2_sa = (q2 * s2a2).sum(-1)
        d2 = x["reward"] - q2_sa
        new = {"q2": q2 + (p["alpha2"] * d2)[:, None] * s2a2, "prev": onehot}
        if self.fixed.get("w") != 1.0:
            d1 = q2_sa - (q1 * onehot).sum(-1)
            new["q1"] = q1 + (p["alpha1"] * (d1 + p["lambda"] * d2))[:, None] * onehot
        else:
            new["q1"] = q1
        return new

    def _latents(self, state, p, x):
        net, q_mb = self._values(state, p)
        out = {"q_net_left": net[:, 0], "q_net_right": net[:, 1]}
        if self.fixed.get("w") != 1.0:
            out.update(q_mf_left=state["q1"][:, 0], q_mf_right=state["q1"][:, 1])
        if q_mb is not None:
            out.update(q_mb_left=q_mb[:, 0], q_mb_right=q_mb[:, 1])
        v2 = self._v2(state["q2"])
        out.update(v2_state0=v2[:, 0], v2_state1=v2[:, 1])
        return out

    def _prediction_errors(self, state, p, x):
        """rpe1: at second-stage arrival, V2(s) − Q(a1) of the model's own first-stage value (Q_MF for
        mf/hybrid, Q_MB for mb); rpe2: at the outcome, r − Q2(s, a2)."""
        q2_sa = (state["q2"] * x["s2a2_onehot"]).sum(-1)
        net, q_mb = self._values(state, p)
        first = q_mb if self.fixed.get("w") == 1.0 else state["q1"]
        return {"rpe1": q2_sa - (first * x["choice_onehot"]).sum(-1), "rpe2": x["reward"] - q2_sa}


class ModelFreeTwoStep(HybridTwoStep):
    """Model-free SARSA(λ) on the two-step task: the hybrid with w = 0."""

    name = "mf"
    description = "model-free SARSA(lambda) (alpha1, alpha2, lambda, beta1, beta2, perseveration)"
    fixed = {"w": 0.0}


class ModelBasedTwoStep(HybridTwoStep):
    """Model-based planner with the known transition matrix: the hybrid with w = 1 (second-stage
    values learned at rate α2)."""

    name = "mb"
    description = "model-based planner with known transitions (alpha2, beta1, beta2, perseveration)"
    fixed = {"w": 1.0}


class LatentStateTwoStep(_TwoStepBase):
    """Model-based planner that infers which second-stage state is rich.

    The hidden state says whether state 0 or state 1 is rich (rewards with ``p_rich``, the other
    with ``p_poor``) and switches with probability ``hazard`` before each trial; the belief is the
    exact forward filter; first-stage values plan through the known transitions:
    Q(a) = c V(a) + (1 − c) V(other), V(s) = E[P(reward | s)]. Choices: softmax β1 plus a
    perseveration bonus. First-stage choices only.

    Parameters
    ----------
    p_rich, p_poor : reward probabilities of the rich and poor state (``p_poor=None``: 1 − p_rich).
    common_prob, stages, method, n_starts, prior, max_iter, random_state : as :class:`HybridTwoStep`.

    Free parameters: ``hazard``, ``beta1``, ``perseveration``.
    """

    name = "latent-state"
    description = "latent-state MB learner: infers the rich state with a hazard rate (hazard, beta1, perseveration)"
    supports_stage2 = False

    def __init__(self, p_rich=0.8, p_poor=None, stages="auto", common_prob=None, method="ml", n_starts=3, prior=None, max_iter=200, random_state=0):
        self.p_rich = p_rich
        self.p_poor = p_poor
        self.stages = stages
        self.common_prob = common_prob
        self._set_fit_options(method, n_starts, prior, max_iter, random_state)

    def _probs(self):
        poor = 1 - self.p_rich if self.p_poor is None else self.p_poor
        if not 0 <= poor < self.p_rich <= 1:
            raise ConfigError(f"need 0 <= p_poor < p_rich <= 1, got p_rich={self.p_rich}, p_poor={poor}")
        return self.p_rich, poor

    def _parameter_specs(self):
        self._probs()
        return (unit("hazard", "probability that the rich state switches before each trial", init=(0.005, 0.2), prior=(-3.0, 1.5)),
                positive("beta1", "first-stage inverse temperature"),
                real("perseveration", "bonus for repeating the previous first-stage choice", init=(-0.5, 1.0)))

    def _init_state(self, p, n):
        dt = p["beta1"].dtype
        return {"belief": torch.full((n,), 0.5, dtype=dt), "prev": torch.zeros(n, 2, dtype=dt)}

    def _v2(self, belief):
        rich, poor = self._probs()
        return torch.stack([belief * rich + (1 - belief) * poor, belief * poor + (1 - belief) * rich], -1)

    def _logits(self, state, p, x):
        return p["beta1"][:, None] * self._plan(self._v2(state["belief"])) + p["perseveration"][:, None] * state["prev"]

    def _update(self, state, p, x):
        rich, poor = self._probs()
        won = x["reward"] > 0
        at0 = x["state2_onehot"][:, 0]
        p_if0 = poor + (rich - poor) * at0  # P(reward) here if state 0 is rich
        p_if1 = rich - (rich - poor) * at0
        like0 = torch.where(won, p_if0, 1 - p_if0)
        like1 = torch.where(won, p_if1, 1 - p_if1)
        return {"belief": _reversal_step(state["belief"], like0, like1, p["hazard"]), "prev": x["choice_onehot"]}

    def _latents(self, state, p, x):
        v2 = self._v2(state["belief"])
        q = self._plan(v2)
        return {"belief_state0_rich": state["belief"], "q_mb_left": q[:, 0], "q_mb_right": q[:, 1],
                "v2_state0": v2[:, 0], "v2_state1": v2[:, 1]}

    def _prediction_errors(self, state, p, x):
        v2 = self._v2(state["belief"])
        v_s = (v2 * x["state2_onehot"]).sum(-1)
        return {"rpe1": v_s - (self._plan(v2) * x["choice_onehot"]).sum(-1), "rpe2": x["reward"] - v_s}
