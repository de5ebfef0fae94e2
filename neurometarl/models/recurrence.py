"""Affine recurrences with an analytic adjoint: the fast path of models whose state update is linear.

Many learners update their state affinely given the data: Rescorla–Wagner Q ← Q ⊙ (1 − α·onehot) +
α·r·onehot, a decaying choice kernel, Beta counts. :func:`affine_recurrence` runs such a recurrence
over all trials and gives autograd an exact backward pass that is itself a plain loop (the adjoint
recursion), instead of recording a graph node per operation per trial: several times faster, and
identical to the step-by-step loop (tests compare them).
"""

from __future__ import annotations

import torch


class _AffineRecurrence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, keep, gain, init):
        states = torch.empty((keep.shape[0],) + init.shape, dtype=init.dtype)
        q = init
        for t in range(keep.shape[0]):
            states[t] = q
            q = torch.addcmul(gain[t], q, keep[t])
        ctx.save_for_backward(keep, states)
        return states

    @staticmethod
    def backward(ctx, grad_states):
        keep, states = ctx.saved_tensors
        grad_keep = torch.empty_like(keep)
        grad_gain = torch.empty_like(keep)
        adjoint = torch.zeros_like(states[0])  # dL/dq_{t+1}
        for t in range(keep.shape[0] - 1, -1, -1):
            grad_gain[t] = adjoint
            torch.mul(adjoint, states[t], out=grad_keep[t])
            adjoint = torch.addcmul(grad_states[t], adjoint, keep[t])
        return grad_keep, grad_gain, adjoint


def affine_recurrence(keep: torch.Tensor, gain: torch.Tensor, init: torch.Tensor) -> torch.Tensor:
    """States before every trial of q_{t+1} = q_t ⊙ keep_t + gain_t, q_0 = ``init``.

    Parameters
    ----------
    keep, gain : (n_trials, *shape); ``init`` : (*shape) (broadcast to it).

    Returns
    -------
    (n_trials, *shape): q_0 … q_{n_trials − 1}, differentiable in ``keep``, ``gain`` and ``init``.
    """
    init = init.expand(keep.shape[1:]) if init.shape != keep.shape[1:] else init
    return _AffineRecurrence.apply(keep, gain, init)
