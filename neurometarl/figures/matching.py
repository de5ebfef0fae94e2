"""Fig. 2 panels (Sim 1, matching task): matching law, Lau & Glimcher kernels, unit coding at fixation
and within-episode learning, agent beside its baselines and the paper's monkey/model values. Every
function draws from the experiment's saved numbers (DataArrays of the Sim 1 Dataset), never from a live model."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from .style import PALETTE, note_band, save_figure, use_style

COLORS = {"agent": PALETTE[0], "rw": PALETTE[2], "bayes": PALETTE[1], "monkey": PALETTE[7], "paper": "k"}
LABELS = {"agent": "meta-RL (ours)", "rw": "RW + perseveration (fitted)", "bayes": "Bayesian observer (fitted)"}


def _axes(ax):
    return ax if ax is not None else plt.gca()


def _mean_sem(da: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and s.e.m. over replicas (s.e.m. 0 for one replica)."""
    n = da.sizes["replica"]
    sem = da.std("replica", ddof=1) / np.sqrt(n) if n > 1 else xr.zeros_like(da.isel(replica=0))
    return da.mean("replica").values, sem.values


def plot_matching(log_reward_ratio: xr.DataArray, log_choice_ratio: xr.DataArray, slope: xr.DataArray, *, ax=None) -> plt.Axes:
    """log2 choice ratio against log2 reward ratio, one dot per test episode (all replicas; the ratios
    on (replica, p0_range, point), NaN-padded), episodes with training-range and held-out p0 in two
    colours, each replica's fitted ``slope`` (on (replica, p0_range)) averaged."""
    ax = _axes(ax)
    lim = 0.0
    for part, color, marker in (("train", COLORS["agent"], "o"), ("held_out", PALETTE[3], "^")):
        x = log_reward_ratio.sel(p0_range=part).transpose("replica", "point").values.ravel()
        y = log_choice_ratio.sel(p0_range=part).transpose("replica", "point").values.ravel()
        ok = np.isfinite(x) & np.isfinite(y)
        x, y = x[ok], y[ok]
        ax.scatter(x, y, s=3, alpha=0.25, color=color, marker=marker, lw=0, rasterized=True)
        fit = np.polyfit(x, y, 1)
        xs = np.linspace(x.min(), x.max(), 2)
        ax.plot(xs, np.polyval(fit, xs), color=color, lw=1.5,
                label=f"{'training' if part == 'train' else 'held-out'} p0: slope {float(np.mean(slope.sel(p0_range=part).values)):.2f}")
        lim = max(lim, np.abs(x).max(), np.abs(y).max())
    ax.plot([-lim, lim], [-lim, lim], color="0.5", ls="--", lw=0.8, label="strict matching (slope 1)")
    ax.set_xlabel(log_reward_ratio.attrs["long_name"].split(",")[0])
    ax.set_ylabel(log_choice_ratio.attrs["long_name"].split(",")[0])
    ax.legend(frameon=False, fontsize=7, loc="upper left")
    return ax


def plot_slopes(slope: xr.DataArray, paper: float, *, ax=None) -> plt.Axes:
    """Matching slope from ``slope`` on (learner, replica, p0_range) (mean ± s.e.m. over replicas,
    replicas as dots) for training-range and held-out p0, beside the paper's ``paper`` (≈0.5) for
    monkeys and model."""
    ax = _axes(ax)
    for j, part in enumerate(("train", "held_out")):
        for k, s in enumerate(slope["learner"].values):
            values = slope.sel(learner=s, p0_range=part)
            mean, sem = _mean_sem(values)
            pos = j * 4 + k
            ax.bar(pos, mean, yerr=sem, color=COLORS[s], capsize=2, label=LABELS[s] if j == 0 else None,
                   hatch="//" if part == "held_out" else None, edgecolor="w")
            ax.scatter(np.full(values.size, pos), values, s=4, color="k", zorder=3)
    ax.axhline(paper, color=COLORS["paper"], ls=":", lw=1, label="monkeys and paper model ≈ 0.5 (spec)")
    ax.axhline(1.0, color="0.5", ls="--", lw=0.8, label="strict matching")
    ax.set_xticks([1, 5], ["training p0", "held-out p0"])
    ax.set_ylabel("matching slope (sensitivity)")
    return ax


def plot_kernel(kernel: xr.DataArray, *, ax=None) -> plt.Axes:
    """Lau & Glimcher regression weights by lag from ``kernel`` on (learner, replica, lag) (mean ±
    s.e.m. over replicas) for agent and baselines."""
    ax = _axes(ax)
    for s in kernel["learner"].values:
        mean, sem = _mean_sem(kernel.sel(learner=s))
        ax.errorbar(kernel["lag"], mean, yerr=sem, color=COLORS[s], marker="o", ms=3, capsize=2, lw=1.2, label=LABELS[s])
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel(kernel["lag"].attrs["long_name"])
    return ax


def plot_unit_coding(mean_abs_r: xr.DataArray, fraction: xr.DataArray, paper: xr.DataArray, monkeys: xr.DataArray,
                     *, ax=None) -> plt.Axes:
    """Mean |partial Spearman r| over units (``mean_abs_r`` on (learner, replica, variable)) for each
    variable: agent (bars, replicas as dots), baselines' latents, the paper's model values (``paper`` on
    variable); the monkeys' proportions of coding neurons (``monkeys``) and the agent's fraction of
    units at P < 0.05 (``fraction`` on (replica, variable)) as markers (a different statistic, same axis)."""
    ax = _axes(ax)
    names = mean_abs_r["variable"].values
    x = np.arange(len(names))
    width = 0.22
    for k, s in enumerate(mean_abs_r["learner"].values):
        values = mean_abs_r.sel(learner=s).transpose("replica", "variable")
        mean, sem = _mean_sem(values)
        pos = x + (k - 1) * width
        ax.bar(pos, mean, width, yerr=sem, color=COLORS[s], capsize=2,
               label=LABELS[s] + (" (latents as units)" if s != "agent" else ""))
        if s == "agent":
            ax.scatter(np.repeat(pos[None], values.sizes["replica"], 0).ravel(), values.values.ravel(), s=4, color="k", zorder=3, lw=0)
    ax.scatter(x + 2 * width, paper.sel(variable=names), marker="_", s=200, color=COLORS["paper"],
               zorder=4, label="paper model, mean |r| (spec)")
    frac, _ = _mean_sem(fraction.sel(variable=names))
    ax.scatter(x + 2 * width, frac, marker="D", s=14, color=COLORS["agent"], edgecolor="k", zorder=4,
               label="ours: fraction of units P < 0.05")
    ax.scatter(x + 2 * width, monkeys.sel(variable=names), marker="s", s=14,
               color=COLORS["monkey"], edgecolor="k", zorder=4, label="monkeys: fraction of neurons (spec)")
    ax.set_xticks(x, names)
    ax.set_ylabel("mean |partial r| at fixation  /  fraction")
    return ax


def plot_within_episode(p_richer: xr.DataArray, early, late, *, ax=None) -> plt.Axes:
    """P(choose the richer arm) over the first trials from ``p_richer`` on (learner, replica, trial)
    (mean ± s.e.m. over replicas), weights frozen; the ``early`` and ``late`` [start, stop) trial
    ranges shaded."""
    ax = _axes(ax)
    for s in p_richer["learner"].values:
        mean, sem = _mean_sem(p_richer.sel(learner=s))
        trials = p_richer["trial"].values + 1
        ax.plot(trials, mean, color=COLORS[s], lw=1.4, label=LABELS[s])
        ax.fill_between(trials, mean - sem, mean + sem, color=COLORS[s], alpha=0.25, lw=0)
    ax.axhline(0.5, color="0.6", lw=0.8)
    note_band(ax, "band: ± s.e.m. over replicas")
    for lo, hi in (early, late):
        ax.axvspan(lo + 0.5, hi + 0.5, color="0.92", lw=0, zorder=0)
    ax.set_xlabel("trial")
    ax.set_ylabel(p_richer.attrs["long_name"])
    return ax


def plot_fig2(ds: xr.Dataset, path_stem) -> list[Path]:
    """The whole Fig. 2 (six panels) from the numbers of ``neurometarl experiment sim1``."""
    with use_style():
        fig, axes = plt.subplots(2, 3, figsize=(14, 8))
        plot_matching(ds["log_reward_ratio"], ds["log_choice_ratio"], ds["matching_slope"].sel(learner="agent"), ax=axes[0, 0])
        axes[0, 0].set_title("a  matching, meta-RL (one dot per test episode)")
        plot_slopes(ds["matching_slope"], float(ds["paper_matching_slope"]), ax=axes[0, 1])
        axes[0, 1].set_title("b  matching slope (under-matching < 1)")
        axes[0, 1].set_ylim(0, 1.45)
        axes[0, 1].set_yticks(np.arange(0, 1.01, 0.2))
        axes[0, 1].legend(frameon=False, fontsize=7, loc="upper center", ncol=2)
        plot_kernel(ds["reward_kernel"], ax=axes[0, 2])
        axes[0, 2].set_ylabel(f"weight on past reward ({ds['reward_kernel'].attrs['units']})\n+ : a rewarded right choice favours right")
        axes[0, 2].set_title("c  Lau & Glimcher reward kernel")
        axes[0, 2].legend(frameon=False, fontsize=7)
        plot_kernel(ds["choice_kernel"], ax=axes[1, 0])
        axes[1, 0].set_ylabel(f"weight on past choice ({ds['choice_kernel'].attrs['units']})\n+ : a right choice favours right")
        axes[1, 0].set_title("d  Lau & Glimcher choice kernel")
        plot_unit_coding(ds["unit_mean_abs_r"].sel(period="fixation"),
                         ds["unit_fraction_p05"].sel(learner="agent", period="fixation"),
                         ds["paper_unit_r"], ds["monkey_fraction"], ax=axes[1, 1])
        axes[1, 1].set_title("e  unit coding at fixation")
        axes[1, 1].legend(frameon=False, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2)
        plot_within_episode(ds["p_richer"], ds.attrs["early_trials"], ds.attrs["late_trials"], ax=axes[1, 2])
        axes[1, 2].set_title("f  learning within an episode (weights frozen)")
        axes[1, 2].legend(frameon=False, fontsize=7, loc="lower right")
        fig.suptitle(f"Fig. 2 — matching task (weights frozen; {ds.sizes['replica']} replicas, "
                     f"{ds.attrs['n_test_episodes']} test episodes each)", fontsize=11)
        fig.tight_layout()
        paths = save_figure(fig, path_stem)
        plt.close(fig)
    return paths
