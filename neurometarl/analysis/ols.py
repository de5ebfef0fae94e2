"""Vectorised ordinary least squares: many responses (units) and many designs (steps) in one solve.

:func:`fit_ols` gives the numbers ``statsmodels.OLS(y, X).fit()`` gives for each response column:
coefficients, standard errors, t statistics, two-sided p-values, residual sum of squares and R²,
plus the coefficient of partial determination (CPD) and the partial correlation of each regressor.
It uses one QR factorisation per design, so 256 units × 100,000 samples × 10 regressors is one
matrix product, not 256 model fits.

Identities used (exact, for a full-rank design with n − p residual degrees of freedom):

* ``se_j = sqrt(σ² [(XᵀX)⁻¹]_jj)`` with ``σ² = RSS / (n − p)``;
* dropping regressor j raises the RSS by ``Δ_j = β_j² / [(XᵀX)⁻¹]_jj``, so
  ``CPD_j = Δ_j / (RSS + Δ_j)`` (Frisch–Waugh–Lovell) without refitting p reduced models;
* the partial correlation of y with x_j given the other columns is ``t_j / sqrt(t_j² + n − p)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..errors import DataError

__all__ = ["OLSFit", "fit_ols", "fdr_bh", "MAX_CONDITION"]

#: designs whose condition number exceeds this are rejected as rank-deficient
MAX_CONDITION = 1e10


@dataclass(frozen=True)
class OLSFit:
    """Results of :func:`fit_ols`; ``...`` are the batch dims of the design.

    Attributes
    ----------
    coef, se, t, p_value, cpd, partial_r : (..., n_regressors, n_targets)
    rss, r2 : (..., n_targets)
    n_samples, df_resid : (...) int
    """

    coef: np.ndarray
    se: np.ndarray
    t: np.ndarray
    p_value: np.ndarray
    cpd: np.ndarray
    partial_r: np.ndarray
    rss: np.ndarray
    r2: np.ndarray
    n_samples: np.ndarray
    df_resid: np.ndarray


def fit_ols(X: np.ndarray, Y: np.ndarray, mask: np.ndarray | None = None, *, names: list[str] | None = None) -> OLSFit:
    """Least squares of every column of ``Y`` on the columns of ``X``, batched over leading dims.

    Parameters
    ----------
    X : (..., n_samples, n_regressors) design; include a column of ones for an intercept.
    Y : (..., n_samples, n_targets) responses (e.g. units); batch dims broadcast against ``X``'s.
    mask : (..., n_samples) bool, optional. Rows that are False are left out of the fit (the
        samples with a missing regressor), so each batch element may use a different subset.
    names : regressor names, used only in error messages.

    Returns
    -------
    OLSFit
        statsmodels-identical ``params``, ``bse``, ``tvalues``, ``pvalues``, ``ssr`` and ``rsquared``
        (centred, as statsmodels reports with a constant), plus CPD and partial correlations.

    Raises
    ------
    DataError
        Non-finite values in the used rows, too few samples, or a rank-deficient design.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if X.ndim < 2 or Y.ndim < 2:
        raise DataError(f"X needs (..., n_samples, n_regressors) and Y (..., n_samples, n_targets); got {X.shape}, {Y.shape}")
    if X.shape[-2] != Y.shape[-2]:
        raise DataError(f"X has {X.shape[-2]} samples but Y has {Y.shape[-2]}")
    n_reg = X.shape[-1]
    names = names or [f"x{j}" for j in range(n_reg)]
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        X = np.where(mask[..., None], X, 0.0)
        Y = np.where(mask[..., None], Y, 0.0)
        n = mask.sum(-1)
    else:
        n = np.full(np.broadcast_shapes(X.shape[:-2], Y.shape[:-2]), X.shape[-2])
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise DataError("the design or the responses hold NaN/inf in rows used by the fit; mask them out")
    n = np.broadcast_to(n, np.broadcast_shapes(np.shape(n), X.shape[:-2], Y.shape[:-2]))
    df = n - n_reg
    if np.any(df < 1):
        raise DataError(f"too few samples: {int(n.min())} samples for {n_reg} regressors ({', '.join(names)})")

    Q, R = np.linalg.qr(X)  # (..., n, p), (..., p, p)
    sv = np.linalg.svd(R, compute_uv=False)
    cond = sv[..., 0] / np.maximum(sv[..., -1], np.finfo(float).tiny)
    if np.any(cond > MAX_CONDITION):
        raise DataError(f"the design is rank-deficient (condition number {float(cond.max()):.3g}): one of the regressors "
                        f"({', '.join(names)}) is constant or a combination of the others in this selection")
    R_inv = np.linalg.inv(R)
    coef = R_inv @ (np.swapaxes(Q, -1, -2) @ Y)  # (..., p, k)
    resid = Y - X @ coef  # masked rows are zero in X and Y, so contribute nothing
    rss = np.einsum("...nk,...nk->...k", resid, resid)
    xtx_inv_diag = np.einsum("...ij,...ij->...i", R_inv, R_inv)  # diag(R⁻¹ R⁻ᵀ) = diag((XᵀX)⁻¹)
    sigma2 = rss / df[..., None]
    se = np.sqrt(xtx_inv_diag[..., :, None] * sigma2[..., None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        t = coef / se
        p_value = 2 * stats.t.sf(np.abs(t), df[..., None, None])
        delta = coef**2 / xtx_inv_diag[..., :, None]
        cpd = delta / (rss[..., None, :] + delta)
        partial_r = t / np.sqrt(t**2 + df[..., None, None])
        y_mean = Y.sum(-2) / n[..., None]
        centred = np.where(mask[..., None], Y - y_mean[..., None, :], 0.0) if mask is not None else Y - y_mean[..., None, :]
        tss = np.einsum("...nk,...nk->...k", centred, centred)
        r2 = 1 - rss / tss
    return OLSFit(coef=coef, se=se, t=t, p_value=p_value, cpd=cpd, partial_r=partial_r, rss=rss, r2=r2,
                  n_samples=np.asarray(n), df_resid=np.asarray(df))


def fdr_bh(p_values: np.ndarray, alpha: float = 0.05, axis: int = -1) -> np.ndarray:
    """Benjamini–Hochberg rejections along ``axis`` (the family), vectorised over the other axes.

    Equals ``statsmodels.stats.multitest.multipletests(p, alpha, method='fdr_bh')[0]`` on each family.
    NaN p-values are never rejected and do not count in the family size.
    """
    p = np.moveaxis(np.asarray(p_values, dtype=float), axis, -1)
    finite = np.isfinite(p)
    m = finite.sum(-1, keepdims=True)
    order = np.argsort(np.where(finite, p, np.inf), axis=-1)
    sorted_p = np.take_along_axis(np.where(finite, p, np.inf), order, -1)
    rank = np.arange(1, p.shape[-1] + 1)
    below = sorted_p <= alpha * rank / np.maximum(m, 1)
    # reject the k smallest where k is the largest rank satisfying the BH inequality
    k = np.where(below.any(-1), p.shape[-1] - np.argmax(below[..., ::-1], axis=-1), 0)
    reject_sorted = rank <= k[..., None]
    reject = np.empty_like(reject_sorted)
    np.put_along_axis(reject, order, reject_sorted, -1)
    return np.moveaxis(reject & finite, -1, axis)
