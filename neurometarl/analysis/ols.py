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
from threadpoolctl import threadpool_limits

from ..errors import DataError

__all__ = ["OLSFit", "fit_ols", "fdr_bh", "MAX_CONDITION"]

#: designs whose condition number exceeds this are rejected as rank-deficient
MAX_CONDITION = 1e10
#: RSS or TSS below this fraction of Σy² is recomputed from explicit residuals (no cancellation)
CANCELLATION = 1e-3


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

    Notes
    -----
    One QR factorisation per distinct design; ``Y`` is read once in row blocks (``QᵀY``, sums, sums of
    squares), with no copy. Sums of squares come from ``Σy² − ‖Qᵀy‖²`` unless that cancels to under
    ``CANCELLATION`` of ``Σy²`` (near-perfect fits, large offsets): then from explicit residuals.
    """
    X = np.asarray(X)
    Y = np.asarray(Y)
    if X.ndim < 2 or Y.ndim < 2:
        raise DataError(f"X needs (..., n_samples, n_regressors) and Y (..., n_samples, n_targets); got {X.shape}, {Y.shape}")
    n_rows, n_reg = X.shape[-2:]
    if Y.shape[-2] != n_rows:
        raise DataError(f"X has {n_rows} samples but Y has {Y.shape[-2]}")
    names = names or [f"x{j}" for j in range(n_reg)]
    if mask is None:
        mask = np.ones((1,) * (X.ndim - 2) + (n_rows,), bool)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape[-1] != n_rows:
        raise DataError(f"mask has {mask.shape[-1]} samples but X has {n_rows}")
    batch = np.broadcast_shapes(X.shape[:-2], Y.shape[:-2], mask.shape[:-1])
    n_targets = Y.shape[-1]
    out = {name: np.empty(batch + (n_reg, n_targets)) for name in ("coef", "se")}
    rss, tss = np.empty(batch + (n_targets,)), np.empty(batch + (n_targets,))
    xtx_inv_diag = np.empty(batch + (n_reg,))
    n = np.empty(batch, dtype=np.int64)
    block = max(256, 2**21 // max(n_targets, 1))  # rows per block: ~16 MB of float64
    designs: dict = {}

    with threadpool_limits(limits=1, user_api="blas"):  # small blocks: BLAS threads only add overhead
        for index in np.ndindex(*batch):
            _fit_one(X, Y, mask, index, names, designs, block, out, rss, tss, xtx_inv_diag, n)

    if not (np.isfinite(out["coef"]).all() and np.isfinite(rss).all()):
        raise DataError("the responses hold NaN/inf in rows used by the fit; drop or mask them")
    coef = out["coef"]
    df = n - n_reg
    sigma2 = rss / df[..., None]
    se = np.sqrt(xtx_inv_diag[..., :, None] * sigma2[..., None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        t = coef / se
        p_value = 2 * stats.t.sf(np.abs(t), df[..., None, None])
        delta = coef**2 / xtx_inv_diag[..., :, None]
        cpd = delta / (rss[..., None, :] + delta)
        partial_r = t / np.sqrt(t**2 + df[..., None, None])
        r2 = 1 - rss / tss
    return OLSFit(coef=coef, se=se, t=t, p_value=p_value, cpd=cpd, partial_r=partial_r, rss=rss, r2=r2,
                  n_samples=n, df_resid=df)


def _fit_one(X, Y, mask, index, names, designs, block, out, rss, tss, xtx_inv_diag, n) -> None:
    """Fit batch element ``index`` into the output arrays (QR of its design cached in ``designs``)."""
    n_reg, n_targets = X.shape[-1], Y.shape[-1]
    xi = _pick(X, index, 2)
    mi = _pick(mask, index, 1)
    key = (_key(X, index, 2), _key(mask, index, 1))
    if key not in designs:
        rows = np.flatnonzero(mi)
        x = xi[rows].astype(np.float64)
        if len(rows) - n_reg < 1:
            raise DataError(f"too few samples: {len(rows)} samples for {n_reg} regressors ({', '.join(names)})")
        if not np.isfinite(x).all():
            raise DataError("the design holds NaN/inf in rows used by the fit; mask them out")
        Q, R = np.linalg.qr(x)
        sv = np.linalg.svd(R, compute_uv=False)
        cond = sv[0] / max(sv[-1], np.finfo(float).tiny)
        if cond > MAX_CONDITION:
            raise DataError(f"the design is rank-deficient (condition number {cond:.3g}): one of the regressors "
                            f"({', '.join(names)}) is constant or a combination of the others in this selection")
        R_inv = np.linalg.inv(R)
        designs[key] = (rows, x, Q, R_inv, bool(mi.all()))
    rows, x, Q, R_inv, full = designs[key]
    yi = _pick(Y, index, 2)
    # one pass over Y in row blocks: QᵀY, column sums and sums of squares
    qty = np.zeros((n_reg, n_targets))
    total = np.zeros(n_targets)
    sumsq = np.zeros(n_targets)
    for start in range(0, len(rows), block):
        y = _rows(yi, rows, start, block, full)
        qty += Q[start:start + block].T @ y
        total += y.sum(0)
        sumsq += np.einsum("nk,nk->k", y, y)
    coef = R_inv @ qty
    mean = total / len(rows)
    # RSS = Σy² − ‖Qᵀy‖² and TSS = Σy² − n·ȳ², exact unless they cancel to a small fraction of Σy²;
    # those columns get a second, direct pass over their residuals
    r_ss = sumsq - np.einsum("pk,pk->k", qty, qty)
    t_ss = sumsq - len(rows) * mean**2
    redo = np.flatnonzero((r_ss < CANCELLATION * sumsq) | (t_ss < CANCELLATION * sumsq))
    if redo.size:
        r_ss[redo], t_ss[redo] = 0.0, 0.0
        for start in range(0, len(rows), block):
            y = _rows(yi, rows, start, block, full)[:, redo]
            resid = y - x[start:start + block] @ coef[:, redo]
            r_ss[redo] += np.einsum("nk,nk->k", resid, resid)
            centred = y - mean[redo]
            t_ss[redo] += np.einsum("nk,nk->k", centred, centred)
    out["coef"][index] = coef
    rss[index], tss[index] = r_ss, t_ss
    xtx_inv_diag[index] = np.einsum("ij,ij->i", R_inv, R_inv)  # diag(R⁻¹ R⁻ᵀ) = diag((XᵀX)⁻¹)
    n[index] = len(rows)


def _key(a: np.ndarray, index: tuple, core: int) -> tuple:
    """Index into ``a``'s own batch dims (``a.ndim - core`` of them, broadcast against the full batch)."""
    lead = a.ndim - core
    offset = len(index) - lead
    return tuple(0 if a.shape[k] == 1 else index[offset + k] for k in range(lead))


def _pick(a: np.ndarray, index: tuple, core: int) -> np.ndarray:
    """The batch element ``index`` of ``a`` (with ``core`` trailing core dims)."""
    return a[_key(a, index, core)]


def _rows(y: np.ndarray, rows: np.ndarray, start: int, block: int, full: bool) -> np.ndarray:
    """Block ``start`` of the used rows of ``y`` as float64 (a view when every row is used)."""
    if full:
        return y[start:start + block].astype(np.float64, copy=False)
    return y[rows[start:start + block]].astype(np.float64, copy=False)


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
