"""Compiled likelihoods: the log-likelihood of every column (one session) and its exact gradient in one
numba loop over trials, for the two families whose fits meet long sequences or many subjects.

- :func:`rw_kernel`: the Rescorla–Wagner / Q-learning family (:class:`~neurometarl.models.QLearning`
  with any of asymmetric rates, forgetting, a choice kernel, a lapse rate);
- :func:`hybrid_kernel`: the Daw et al. 2011 two-step hybrid and its special cases mf (w = 0) and mb
  (w = 1), with or without second-stage choices.

Each kernel carries the derivatives of its state with respect to every parameter along with the
state (forward-mode differentiation: a few numbers per trial), so one pass gives the log-likelihood
and its gradient. :func:`compiled_loglik` wraps a kernel as a torch function of the natural
parameters (n_columns, n_kernel_params), so the transforms, priors, optimizer and Hessian stay the
torch code every model shares; the models' torch recurrences (``_run``) remain the reference, used for
latents, predictions and by :func:`~neurometarl.models.recurrence.use_engine` ('python'), and the tests
check that both give the same likelihood and gradient.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import torch

#: the rw kernel's parameter vector
RW_PARAMS = ("alpha_pos", "alpha_neg", "beta", "forget", "kappa", "tau", "lapse")
#: the hybrid kernel's parameter vector
HYBRID_PARAMS = ("alpha1", "alpha2", "lambda", "beta1", "beta2", "perseveration", "w")


@numba.njit(cache=True, nogil=True, inline="always")
def _log_sigmoid(z):
    """log(1 / (1 + exp(−z))), stable."""
    return -math.log1p(math.exp(-z)) if z >= 0 else z - math.log1p(math.exp(z))


@numba.njit(cache=True, nogil=True, inline="always")
def _sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@numba.njit(cache=True, nogil=True, inline="always")
def _binary_choice(d, choice, weight):
    """A choice between two options with logit difference ``d`` (right − left): the weighted log
    probability of ``choice`` and d(that)/dd."""
    sign = 1.0 if choice == 1 else -1.0
    z = sign * d
    return weight * _log_sigmoid(z), weight * (1 - _sigmoid(z)) * sign


@numba.njit(cache=True, nogil=True)
def rw_kernel(cols, P, choice, reward, lik1, update, q0, use_lapse, ll, grad):
    """Q-learning log-likelihood and gradient for every column.

    P : (columns, 7) natural parameters in :data:`RW_PARAMS` order (forget = 0, kappa = 0, lapse = 0
    switch those parts off; a symmetric learner passes alpha twice). choice, update : (columns, T)
    int8; reward, lik1 : (columns, T). Writes ll (columns,) and grad (columns, 7) of the columns
    ``cols`` (int64 indices).
    """
    T = choice.shape[1]
    for ci in range(cols.shape[0]):
        c = cols[ci]
        a_pos, a_neg, beta, forget, kappa, tau, lapse = P[c, 0], P[c, 1], P[c, 2], P[c, 3], P[c, 4], P[c, 5], P[c, 6]
        q = np.full(2, q0)
        k = np.zeros(2)
        dq = np.zeros((2, 7))
        dk = np.zeros((2, 7))
        total = 0.0
        g = np.zeros(7)
        for t in range(T):
            if lik1[c, t] != 0.0:
                a = choice[c, t]
                d = beta * (q[1] - q[0]) + kappa * (k[1] - k[0])
                sign = 1.0 if a == 1 else -1.0
                z = sign * d  # log P(choice) = log sigmoid(z)
                pz = _sigmoid(z)
                w = lik1[c, t]
                if use_lapse:
                    prob = (1 - lapse) * pz + 0.5 * lapse
                    total += w * math.log(prob)
                    dlog_dz = (1 - lapse) * pz * (1 - pz) / prob
                    g[6] += w * (0.5 - pz) / prob
                else:
                    total += w * _log_sigmoid(z)
                    dlog_dz = 1 - pz
                scale = w * dlog_dz * sign
                for j in range(7):
                    g[j] += scale * (beta * (dq[1, j] - dq[0, j]) + kappa * (dk[1, j] - dk[0, j]))
                g[2] += scale * (q[1] - q[0])
                g[4] += scale * (k[1] - k[0])
            if update[c, t] != 0:
                a = choice[c, t]
                u = 1 - a
                delta = reward[c, t] - q[a]
                pos = delta >= 0
                alpha = a_pos if pos else a_neg
                for j in range(7):
                    dq[a, j] -= alpha * dq[a, j]
                    dq[u, j] -= forget * dq[u, j]
                    dk[0, j] -= tau * dk[0, j]
                    dk[1, j] -= tau * dk[1, j]
                dq[a, 0 if pos else 1] += delta
                dq[u, 3] += q0 - q[u]
                dk[a, 5] += 1 - k[a]
                dk[u, 5] += -k[u]
                q[a] += alpha * delta
                q[u] += forget * (q0 - q[u])
                k[a] += tau * (1 - k[a])
                k[u] += tau * (0 - k[u])
        ll[c] = total
        for j in range(7):
            grad[c, j] = g[j]


@numba.njit(cache=True, nogil=True)
def hybrid_kernel(cols, P, choice, reward, state2, choice2, lik1, lik2, update, q0, common, stage2, ll, grad):
    """Two-step hybrid log-likelihood and gradient for every column.

    P : (columns, 7) natural parameters in :data:`HYBRID_PARAMS` order (mf: w = 0; mb: w = 1 and
    alpha1 = 0). choice, state2, choice2, update : (columns, T) int8; reward, lik1, lik2 : (columns, T).
    ``stage2``: second-stage values are max over actions and second-stage choices are modelled.
    Computes the columns ``cols`` (int64 indices).
    """
    T = choice.shape[1]
    K = 7
    for ci in range(cols.shape[0]):
        c = cols[ci]
        a1, a2, lam, b1, b2, pers, w = P[c, 0], P[c, 1], P[c, 2], P[c, 3], P[c, 4], P[c, 5], P[c, 6]
        q1 = np.full(2, q0)
        q2 = np.full(4, q0)
        prev = np.zeros(2)
        dq1 = np.zeros((2, K))
        dq2 = np.zeros((4, K))
        v2 = np.zeros(2)
        dv2 = np.zeros((2, K))
        total = 0.0
        g = np.zeros(K)
        for t in range(T):
            if lik1[c, t] != 0.0:
                for s in range(2):  # V2(s): max over second-stage actions (ties split the gradient, as torch)
                    x0, x1 = q2[2 * s], q2[2 * s + 1]
                    if not stage2:
                        v2[s] = x0
                        for j in range(K):
                            dv2[s, j] = dq2[2 * s, j]
                    elif x0 > x1:
                        v2[s] = x0
                        for j in range(K):
                            dv2[s, j] = dq2[2 * s, j]
                    elif x1 > x0:
                        v2[s] = x1
                        for j in range(K):
                            dv2[s, j] = dq2[2 * s + 1, j]
                    else:
                        v2[s] = x0
                        for j in range(K):
                            dv2[s, j] = 0.5 * (dq2[2 * s, j] + dq2[2 * s + 1, j])
                # Q_MB(a) = c V(a) + (1 − c) V(other); difference right − left:
                mb_diff = (2 * common - 1) * (v2[1] - v2[0])
                mf_diff = q1[1] - q1[0]
                net_diff = w * mb_diff + (1 - w) * mf_diff
                logp, scale = _binary_choice(b1 * net_diff + pers * (prev[1] - prev[0]), choice[c, t], lik1[c, t])
                total += logp
                for j in range(K):
                    dmb = (2 * common - 1) * (dv2[1, j] - dv2[0, j])
                    dmf = dq1[1, j] - dq1[0, j]
                    g[j] += scale * b1 * (w * dmb + (1 - w) * dmf)
                g[3] += scale * net_diff
                g[5] += scale * (prev[1] - prev[0])
                g[6] += scale * b1 * (mb_diff - mf_diff)
            s = state2[c, t]
            if stage2 and lik2[c, t] != 0.0:
                logp, scale = _binary_choice(b2 * (q2[2 * s + 1] - q2[2 * s]), choice2[c, t], lik2[c, t])
                total += logp
                for j in range(K):
                    g[j] += scale * b2 * (dq2[2 * s + 1, j] - dq2[2 * s, j])
                g[4] += scale * (q2[2 * s + 1] - q2[2 * s])
            if update[c, t] != 0:
                a = choice[c, t]
                sa = 2 * s + choice2[c, t]  # as the torch model: 0 without second-stage choices
                q2_sa = q2[sa]
                d2 = reward[c, t] - q2_sa
                d1 = q2_sa - q1[a]
                for j in range(K):
                    dd2 = -dq2[sa, j]
                    dd1 = dq2[sa, j] - dq1[a, j]
                    dq1[a, j] += a1 * (dd1 + lam * dd2)
                    dq2[sa, j] += a2 * dd2
                dq1[a, 0] += d1 + lam * d2
                dq1[a, 2] += a1 * d2
                dq2[sa, 1] += d2
                q1[a] += a1 * (d1 + lam * d2)
                q2[sa] += a2 * d2
                prev[a] = 1.0
                prev[1 - a] = 0.0
        ll[c] = total
        for j in range(K):
            grad[c, j] = g[j]


class _Compiled(torch.autograd.Function):
    @staticmethod
    def forward(ctx, P, run, cache):
        values = np.ascontiguousarray(P.detach().numpy())
        if cache is not None and cache.get("P") is not None and cache["P"].shape == values.shape:
            # the optimizer re-evaluates every row while only some move: recompute the columns that changed
            changed = np.flatnonzero((values != cache["P"]).any(1))
            ll, grad = cache["ll"].copy(), cache["grad"].copy()
        else:
            changed = np.arange(values.shape[0])
            ll, grad = np.empty(values.shape[0]), np.empty(values.shape)
        if len(changed):
            run(changed.astype(np.int64), values, ll, grad)
        if cache is not None:
            cache.update(P=values.copy(), ll=ll, grad=grad)
        ctx.save_for_backward(torch.from_numpy(grad.copy()))
        return torch.from_numpy(ll.copy())

    @staticmethod
    def backward(ctx, grad_out):
        (grad,) = ctx.saved_tensors
        return grad_out[:, None] * grad, None, None


def compiled_loglik(P: torch.Tensor, run, cache: dict | None = None) -> torch.Tensor:
    """Per-column log-likelihood (columns,), differentiable in ``P`` (columns, n_kernel_params);
    ``run(cols, P, ll, grad)`` is a kernel with its data bound. ``cache`` (a dict kept with the data,
    e.g. by the :class:`~neurometarl.models.base.RowBatch`) remembers the last call, so that only
    columns whose parameters changed are recomputed."""
    return _Compiled.apply(P, run, cache)
