"""Batched optimisation: many independent small problems (subjects × random starts) solved at once.

The objective returns one value per row; rows never interact, so one autograd pass gives every row's
gradient. :func:`minimize_rows` runs L-BFGS with a separate history, step size and stopping test per
row; :func:`hessian_rows` differentiates the gradients by central differences, all rows and
directions in a single batched call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

Objective = Callable[[torch.Tensor], torch.Tensor]  # x (rows, n_params) -> f (rows,)


@dataclass
class RowsResult:
    """Result of :func:`minimize_rows`: ``x`` (rows, n_params), ``fun`` (rows,), ``grad`` (rows,
    n_params), ``n_iter`` (rows,) iterations used, ``converged`` (rows,) bool."""

    x: torch.Tensor
    fun: torch.Tensor
    grad: torch.Tensor
    n_iter: torch.Tensor
    converged: torch.Tensor


def value_and_grad(fun: Objective, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``fun(x)`` (rows,) and its gradient (rows, n_params), non-finite values mapped to +inf."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        f = fun(x)
        (g,) = torch.autograd.grad(f.sum(), x)
    f, g = f.detach(), g.detach()
    bad = ~torch.isfinite(f) | ~torch.isfinite(g).all(1)
    return torch.where(bad, torch.full_like(f, float("inf")), f), torch.where(bad[:, None], torch.zeros_like(g), g)


def minimize_rows(
    fun: Objective,
    x0: torch.Tensor,
    *,
    max_iter: int = 200,
    gtol: float = 1e-5,
    ftol: float = 1e-10,
    history: int = 10,
    max_backtracks: int = 25,
    window: int = 5,
    window_ftol: float = 1e-6,
    callback: Callable[[int], None] | None = None,
) -> RowsResult:
    """Minimise every row of ``fun`` independently with L-BFGS (Armijo backtracking line search).

    Parameters
    ----------
    fun : maps x (rows, n_params) to f (rows,); row i of f must depend on row i of x only.
    x0 : (rows, n_params) starting points.
    gtol : a row stops when its largest absolute gradient entry is below ``gtol``;
    ftol : or when an accepted step lowers f by less than ``ftol * (1 + |f|)``;
    window, window_ftol : or when the last ``window`` iterations together lowered f by less than
        ``window_ftol * (1 + |f|)`` (a row crawling toward a parameter bound at an infinite
        unconstrained value, where the gradient vanishes only slowly).
    callback : called after every iteration with the number of rows still active (progress bars).
    """
    x = x0.detach().clone()
    rows, n = x.shape
    f, g = value_and_grad(fun, x)
    S = torch.zeros(history, rows, n, dtype=x.dtype)
    Y = torch.zeros_like(S)
    rho = torch.zeros(history, rows, dtype=x.dtype)
    n_iter = torch.zeros(rows, dtype=torch.long)
    active = torch.isfinite(f) & (g.abs().amax(1) > gtol)
    converged = ~active & torch.isfinite(f)
    past = [f.clone()]  # f at the start of recent iterations
    k = 0
    for it in range(max_iter):
        if not active.any():
            break
        # two-loop recursion, vectorised over rows (entries with rho = 0 are skipped)
        q = g.clone()
        alphas = []
        m = min(k, history)
        for i in reversed(range(m)):  # newest pair first
            j = (k - m + i) % history
            a = rho[j] * (S[j] * q).sum(1)
            q = q - a[:, None] * Y[j]
            alphas.append((j, a))
        if k > 0:
            j = (k - 1) % history
            yy = (Y[j] * Y[j]).sum(1)
            gamma = torch.where((rho[j] > 0) & (yy > 0), 1.0 / (rho[j] * yy).clamp(min=1e-300), torch.ones_like(yy))
        else:
            gamma = 1.0 / g.abs().amax(1).clamp(min=1.0)
        r = gamma[:, None] * q
        for j, a in reversed(alphas):
            b = rho[j] * (Y[j] * r).sum(1)
            r = r + (a - b)[:, None] * S[j]
        d = -r
        slope = (g * d).sum(1)
        uphill = slope >= 0
        d = torch.where(uphill[:, None], -g, d)
        slope = torch.where(uphill, -(g * g).sum(1), slope)
        d = torch.where(active[:, None], d, torch.zeros_like(d))

        step = torch.ones(rows, dtype=x.dtype)
        accepted = ~active
        f_new, g_new, x_new = f.clone(), g.clone(), x.clone()
        for _ in range(max_backtracks):
            trial = ~accepted
            x_try = torch.where(trial[:, None], x + step[:, None] * d, x_new)
            f_try, g_try = value_and_grad(fun, x_try)
            ok = trial & (f_try <= f + 1e-4 * step * slope)
            x_new = torch.where(ok[:, None], x_try, x_new)
            f_new = torch.where(ok, f_try, f_new)
            g_new = torch.where(ok[:, None], g_try, g_new)
            accepted = accepted | ok
            if accepted.all():
                break
            # minimise the quadratic through f, the slope and f_try; keep the new step in [0.1, 0.5] x step
            curvature = f_try - f - slope * step
            quad = -slope * step**2 / (2 * curvature.clamp(min=1e-300))
            shrunk = torch.where(torch.isfinite(f_try) & (curvature > 0), quad.clamp(0.1 * step, 0.5 * step), 0.1 * step)
            step = torch.where(accepted, step, shrunk)
        failed = active & ~accepted  # no decrease along d: treat as converged at a (local) minimum
        moved = active & accepted
        s, y = x_new - x, g_new - g
        sy = (s * y).sum(1)
        j = k % history
        good = moved & (sy > 1e-12)
        S[j] = torch.where(good[:, None], s, torch.zeros_like(s))
        Y[j] = torch.where(good[:, None], y, torch.zeros_like(y))
        rho[j] = torch.where(good, 1.0 / sy.clamp(min=1e-300), torch.zeros_like(sy))
        k += 1
        small_change = moved & ((f - f_new).abs() <= ftol * (1 + f_new.abs()))
        if len(past) == window:
            small_change = small_change | (moved & (past[0] - f_new <= window_ftol * (1 + f_new.abs())))
        past = (past + [f_new.clone()])[-window:]
        x, f, g = x_new, f_new, g_new
        n_iter = n_iter + active.long()
        done = moved & ((g.abs().amax(1) <= gtol) | small_change)
        converged = converged | done | failed
        active = active & ~done & ~failed
        if callback is not None:
            callback(int(active.sum()))
    return RowsResult(x=x, fun=f, grad=g, n_iter=n_iter, converged=converged)


def hessian_rows(fun: Objective, x: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """Hessian of every row's objective, (rows, n_params, n_params), by central differences of the
    autograd gradient; the 2 × n_params shifted copies of all rows go through ``fun`` in one call.

    ``fun`` must accept any number of rows laid out as ``x.repeat(2 * n_params, 1)`` (row-major
    blocks of the original rows)."""
    rows, n = x.shape
    shifts = torch.cat([torch.eye(n, dtype=x.dtype), -torch.eye(n, dtype=x.dtype)]) * eps  # (2n, n)
    xs = (x[None] + shifts[:, None, :]).reshape(2 * n * rows, n)
    _, g = value_and_grad(fun, xs)
    g = g.reshape(2, n, rows, n)
    H = (g[0] - g[1]).permute(1, 0, 2) / (2 * eps)  # (rows, n, n): row p = d grad / d x_p
    return 0.5 * (H + H.transpose(1, 2))

