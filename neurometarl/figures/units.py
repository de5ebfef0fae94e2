"""Axes-level panels for the recording analyses: unit coding, CPD time courses, decoding against
chance, PCA trajectories. Each takes the Dataset an analysis returned and draws on ``ax`` (a new
figure when omitted) in the house style; labels come from the variables' ``long_name``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import xarray as xr

from ..errors import DataError
from .style import PALETTE, note_band, readable, use_style

__all__ = ["plot_fraction_significant", "plot_coding_histogram", "plot_cpd_timecourse", "plot_decoding", "plot_pca"]


def _axes(ax):
    if ax is None:
        with use_style():
            _, ax = plt.subplots(figsize=(3.5, 2.6))
    return ax


def _time_dim(ds: xr.Dataset | xr.DataArray) -> str | None:
    for dim in ("checkpoint", "step", "period"):
        if dim in ds.dims:
            return dim
    return None


def plot_fraction_significant(frac: xr.Dataset, *, ax=None, chance: float | None = None) -> plt.Axes:
    """Bars: fraction of units coding each regressor (grouped by period when there are several).

    Parameters
    ----------
    frac : output of :func:`neurometarl.analysis.fraction_significant`.
    chance : a reference line (default: alpha when uncorrected, none otherwise).
    """
    ax = _axes(ax)
    if "fraction" not in frac:
        raise DataError("plot_fraction_significant needs the output of fraction_significant (a 'fraction' variable)")
    f = frac["fraction"]
    if "step" in f.dims:
        raise DataError("fraction per step is a time course; plot it with plot_cpd_timecourse-style lines, or select steps")
    df = f.to_dataframe().reset_index()
    df["regressor"] = df["regressor"].map(readable)
    hue = "period" if "period" in f.dims and f.sizes["period"] > 1 else None
    with use_style():
        sns.barplot(df, x="regressor", y="fraction", hue=hue, ax=ax, palette=PALETTE[: f.sizes.get("period", 1)] if hue else None,
                    color=None if hue else PALETTE[0])
        if chance is None and frac.attrs.get("correction") == "none":
            chance = frac.attrs.get("alpha")
        if chance is not None:
            ax.axhline(chance, color="0.4", ls="--", lw=0.8, label="nominal")
        ax.set_ylim(0, 1)
        ax.set_ylabel(f"fraction of units\n({frac.attrs.get('correction', '?')}, α = {frac.attrs.get('alpha', '?')})")
        ax.set_xlabel("")
        ax.tick_params(axis="x", rotation=30)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
    return ax


def plot_coding_histogram(result: xr.Dataset, regressor: str, *, var: str | None = None, ax=None,
                          alpha: float = 0.05, period: str | None = None) -> plt.Axes:
    """Histogram across units of one regressor's coding strength, significant units (Bonferroni) stacked.

    Parameters
    ----------
    result : output of :func:`unit_regression` or :func:`partial_correlation`.
    regressor : which regressor.
    var : the variable histogrammed (default ``'r'`` for partial correlations, ``'partial_r'`` otherwise).
    period : the period to show when ``result`` has several.
    """
    ax = _axes(ax)
    var = var or ("r" if "r" in result else "partial_r")
    if var not in result or regressor not in result["regressor"].values:
        raise DataError(f"the result has no {var!r} for regressor {regressor!r} "
                        f"(regressors: {list(result['regressor'].values)})")
    sel = result.sel(regressor=regressor)
    if "period" in sel.dims:
        if period is None and sel.sizes["period"] > 1:
            raise DataError(f"the result has {sel.sizes['period']} periods {list(sel['period'].values)}; pass period=")
        sel = sel.sel(period=period) if period is not None else sel.isel(period=0)
    if "step" in sel.dims:
        raise DataError("select one step first (result.sel(step=...))")
    values = sel[var].values
    n_units = values.size
    significant = sel["p_value"].values * n_units < alpha
    df = pd.DataFrame({var: values, "unit": np.where(significant, "significant", "not significant")})
    with use_style():
        sns.histplot(df, x=var, hue="unit", multiple="stack", ax=ax, bins=min(30, max(5, n_units // 3)),
                     hue_order=["not significant", "significant"], palette=["0.75", PALETTE[1]])
        ax.axvline(0, color="0.3", lw=0.6)
        ax.set_xlabel(f"{result[var].attrs.get('long_name', var)}\nwith {readable(regressor)}")
        ax.set_ylabel("units")
        ax.set_title(f"{significant.mean():.0%} of {n_units} units significant", fontsize=8)
    return ax


def plot_cpd_timecourse(result: xr.Dataset, *, ax=None, regressors=None, var: str = "cpd") -> plt.Axes:
    """Mean ± s.e.m. across units of each regressor's CPD (in %) over periods or steps of the trial.

    Parameters
    ----------
    result : output of :func:`unit_regression` with a ``period`` or ``step`` dim.
    regressors : which to show (default all but the intercept).
    var : ``'cpd'`` (default), or another per-unit variable such as ``'partial_r'``.
    """
    ax = _axes(ax)
    time = _time_dim(result)
    if time is None:
        raise DataError("plot_cpd_timecourse needs a result with a 'period' or 'step' dim (run with period=None or by='step')")
    regressors = regressors or [r for r in result["regressor"].values if r != "intercept"]
    da = result[var].sel(regressor=list(regressors))
    scale = 100.0 if var == "cpd" else 1.0
    df = (da * scale).to_dataframe(name=var).reset_index()
    df["regressor"] = df["regressor"].map(readable)
    x = time if time != "period" else "period"
    with use_style():
        sns.lineplot(df, x=x, y=var, hue="regressor", errorbar="se", marker="o", markersize=3, ax=ax, sort=time != "period")
        note_band(ax, "band: ± s.e.m. over units")
        ax.set_ylabel(f"{result[var].attrs.get('long_name', var)}" + (" (%)" if var == "cpd" else ""))
        ax.set_xlabel("step of the episode" if time == "step" else "trial period")
        ax.legend(frameon=False, fontsize=7)
    return ax


def plot_decoding(result: xr.Dataset, *, ax=None, color=None, label: str | None = None) -> plt.Axes:
    """Cross-validated decoding score (mean ± s.e.m. over folds) against chance (the 2.5–97.5 percentile
    band and mean of the label shuffles), over periods, steps or checkpoints."""
    ax = _axes(ax)
    if "score" not in result:
        raise DataError("plot_decoding needs the output of decode or decode_checkpoints")
    time = _time_dim(result)
    score = result["score"]
    mean_da = score.mean("fold")
    sem_da = score.std("fold", ddof=1) / np.sqrt(score.sizes["fold"])
    ticks: list | None
    color = color or PALETTE[0]
    metric = "R²" if result.attrs.get("metric") == "r2" else "accuracy"
    with use_style():
        if time is None:
            x = np.array([0])
            mean, sem = np.atleast_1d(mean_da.values), np.atleast_1d(sem_da.values)
            ticks = [result.attrs.get("target", "")]
        else:
            labels = result[time].values
            categorical = time == "period" or labels.dtype.kind not in "iuf"
            x = np.arange(len(labels)) if categorical else labels.astype(float)
            mean, sem = mean_da.transpose(time).values, sem_da.transpose(time).values
            ticks = list(labels) if categorical else None
        if result.attrs.get("n_shuffles", 0) and "null_score" in result:
            null = result["null_score"]
            lo = np.atleast_1d(null.quantile(0.025, "shuffle").values)
            hi = np.atleast_1d(null.quantile(0.975, "shuffle").values)
            ax.fill_between(x, lo, hi, color="0.8", step=None, label="shuffled labels (95%)", lw=0) if len(x) > 1 else \
                ax.errorbar(x, (lo + hi) / 2, yerr=(hi - lo) / 2, color="0.6", fmt="none", capsize=6, label="shuffled labels (95%)")
            chance = np.atleast_1d(result["chance"].values)
            if len(x) > 1:
                ax.plot(x, chance, color="0.5", ls="--", lw=0.8, label="chance (mean of shuffles)")
            else:  # a single point: a line across the axes, so the legend entry has something to point at
                ax.axhline(chance[0], color="0.5", ls="--", lw=0.8, label="chance (mean of shuffles)")
        ax.errorbar(x, mean, yerr=sem, color=color, marker="o", ms=3, capsize=2,
                    label=label or f"decoded {result.attrs.get('target', '')}")
        if ticks is not None:
            ax.set_xticks(x, [str(t) for t in ticks])
        ax.set_xlabel({"checkpoint": "training checkpoint", "step": "step of the episode", "period": "trial period"}.get(time or "", ""))
        ax.set_ylabel(f"cross-validated {metric}")
        ax.legend(frameon=False, fontsize=7)
    return ax


def plot_pca(result: xr.Dataset | xr.DataArray, *, ax=None, color=None, components=(0, 1), episodes=None,
             cmap: str = "viridis", colorbar_label: str | None = None) -> plt.Axes:
    """Trajectories of episodes in two principal components (circle: start, cross: end).

    Parameters
    ----------
    result : output of :func:`pca_trajectories` (or its ``pc`` DataArray (episode, step | trial, component)).
    color : per-episode values (array (episode,)) coloured with ``cmap``, e.g. the better arm's probability.
    components : the two components drawn.
    episodes : which episodes (indices; default the first 20).
    """
    ax = _axes(ax)
    pc = result["pc"] if isinstance(result, xr.Dataset) else result
    if "component" not in pc.dims or "episode" not in pc.dims:
        raise DataError(f"plot_pca needs projections with 'episode' and 'component' dims, got {pc.dims}")
    time = [d for d in pc.dims if d not in ("episode", "component")]
    if len(time) != 1:
        raise DataError(f"plot_pca needs one time dim besides episode and component, got {time}")
    idx = np.arange(min(20, pc.sizes["episode"])) if episodes is None else np.asarray(episodes)
    a, b = components
    values = None if color is None else np.asarray(color, dtype=float)
    norm = None if values is None else plt.Normalize(np.nanmin(values), np.nanmax(values))
    colormap = plt.get_cmap(cmap)
    with use_style():
        for i, e in enumerate(idx):
            traj = pc.isel(episode=int(e)).transpose(time[0], "component").values
            c = PALETTE[i % len(PALETTE)] if values is None or norm is None else colormap(norm(values[e]))
            ax.plot(traj[:, a], traj[:, b], color=c, lw=0.8, alpha=0.8)
            ax.plot(traj[0, a], traj[0, b], "o", color=c, ms=3)
            ax.plot(traj[-1, a], traj[-1, b], "x", color=c, ms=4)
        if isinstance(result, xr.Dataset) and "explained_variance_ratio" in result:
            evr = result["explained_variance_ratio"].values
            ax.set_xlabel(f"PC{a + 1} ({evr[a]:.0%} variance)")
            ax.set_ylabel(f"PC{b + 1} ({evr[b]:.0%} variance)")
        else:
            ax.set_xlabel(f"PC{a + 1}")
            ax.set_ylabel(f"PC{b + 1}")
        if values is not None:
            sm = plt.cm.ScalarMappable(norm=norm, cmap=colormap)
            ax.figure.colorbar(sm, ax=ax, label=colorbar_label or "")
    return ax
