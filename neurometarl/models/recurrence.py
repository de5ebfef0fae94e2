"""Affine recurrences with an analytic adjoint: the fast path of models whose state update is linear.

Many learners update their state affinely given the data: Rescorla–Wagner Q ← Q ⊙ (1 − α·onehot) +
α·r·onehot, a decaying choice kernel, Beta counts. :func:`affine_recurrence` runs such a recurrence
over all trials and gives autograd an exact backward pass that is itself a plain loop (the adjoint
recursion), instead of recording a graph node per operation per trial: several times faster, and
identical to the step-by-step loop (tests compare them).

Both passes are compiled loops (numba) over trials; :func:`use_engine` ('python') switches back to the
torch loop of one tensor operation per trial (the implementation before compilation, kept for the
benchmark and as a reference in the tests).
"""

from __future__ import annotations

import contextlib

import numba
import numpy as np
import torch

ENGINES = ("numba", "python")
_engine = ["numba"]


@contextlib.contextmanager
def use_engine(name: str):
    """Run affine recurrences with ``name`` ('numba': compiled loops; 'python': one torch operation per
    trial) inside the ``with`` block."""
    if name not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {name!r}")
    old, _engine[0] = _engine[0], name
    try:
        yield
    finally:
        _engine[0] = old


def current_engine() -> str:
    """The engine affine recurrences use now: 'numba' (the default) or 'python' (set by :func:`use_engine`)."""
    return _engine[0]


@numba.njit(cache=True, nogil=True)
def _forward_kernel(keep, gain, init, states):  # (T, M), (T, M), (M,), (T, M)
    q = init.copy()
    for t in range(keep.shape[0]):
        for m in range(keep.shape[1]):
            states[t, m] = q[m]
            q[m] = gain[t, m] + q[m] * keep[t, m]


@numba.njit(cache=True, nogil=True)
def _backward_kernel(keep, states, grad_states, grad_keep, grad_gain):
    adjoint = np.zeros(keep.shape[1])  # dL/dq_{t+1}
    for t in range(keep.shape[0] - 1, -1, -1):
        for m in range(keep.shape[1]):
            a = adjoint[m]
            grad_gain[t, m] = a
            grad_keep[t, m] = a * states[t, m]
            adjoint[m] = grad_states[t, m] + a * keep[t, m]
    return adjoint


def _flat(x: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(x.detach().reshape(x.shape[0], -1).numpy(), dtype=np.float64)


class _AffineRecurrence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, keep, gain, init):
        if _engine[0] == "numba" and keep.dtype == torch.float64 and keep.device.type == "cpu":
            states = np.empty((keep.shape[0], init.numel()))
            _forward_kernel(_flat(keep), _flat(gain), np.ascontiguousarray(init.detach().reshape(-1).numpy(), np.float64), states)
            states = torch.from_numpy(states).reshape((keep.shape[0],) + init.shape)
            ctx.compiled = True
        else:
            states = torch.empty((keep.shape[0],) + init.shape, dtype=init.dtype)
            q = init
            for t in range(keep.shape[0]):
                states[t] = q
                q = torch.addcmul(gain[t], q, keep[t])
            ctx.compiled = False
        ctx.save_for_backward(keep, states)
        return states

    @staticmethod
    def backward(ctx, grad_states):
        keep, states = ctx.saved_tensors
        if ctx.compiled:
            T = keep.shape[0]
            grad_keep, grad_gain = np.empty((T, states[0].numel())), np.empty((T, states[0].numel()))
            adjoint = _backward_kernel(_flat(keep), _flat(states), _flat(grad_states), grad_keep, grad_gain)
            shape = keep.shape
            return (torch.from_numpy(grad_keep).reshape(shape), torch.from_numpy(grad_gain).reshape(shape),
                    torch.from_numpy(adjoint).reshape(shape[1:]))
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
