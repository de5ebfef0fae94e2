"""Fig. 2 panels (Sim 1, matching task): matching law, Lau & Glimcher kernels, unit coding at fixation
and within-episode learning, agent beside its baselines and the paper's monkey/model values. Every
function draws from the experiment's saved numbers (plain lists), never from a live model."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from .style import PALETTE, note_band, save_figure, use_style

COLORS = {"agent": PALETTE[0], "rw": PALETTE[2], "bayes": PALETTE[1], "monkey": PALETTE[7], "paper": "k"}
LABELS = {"agent": "meta-RL (ours)", "rw": "RW + perseveration (fitted)", "bayes": "Bayesian observer (fitted)"}


def _axes(ax):
    return ax if ax is not None else plt.gca()


def _mean_sem(rows) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(rows, dtype=float)
    sem = a.std(0, ddof=1) / np.sqrt(len(a)) if len(a) > 1 else np.zeros(a.shape[1:])
    return a.mean(0), sem


def plot_matching(numbers: dict, *, ax=None) -> plt.Axes:
    """log2 choice ratio against log2 reward ratio, one dot per test episode (all replicas), episodes
    with training-range and held-out p0 in two colours, each replica's fitted slope averaged."""
    ax = _axes(ax)
    lim = 0.0
    for part, color, marker in (("train", COLORS["agent"], "o"), ("held_out", PALETTE[3], "^")):
        x = np.concatenate([p["log_reward_ratio"] for p in numbers["matching_points"][part]])
        y = np.concatenate([p["log_choice_ratio"] for p in numbers["matching_points"][part]])
        slope = np.mean(numbers["agent"][f"slope_{part}"])
        ax.scatter(x, y, s=3, alpha=0.25, color=color, marker=marker, lw=0, rasterized=True)
        fit = np.polyfit(x, y, 1)
        xs = np.linspace(x.min(), x.max(), 2)
        ax.plot(xs, np.polyval(fit, xs), color=color, lw=1.5,
                label=f"{'training' if part == 'train' else 'held-out'} p0: slope {slope:.2f}")
        lim = max(lim, np.abs(x).max(), np.abs(y).max())
    ax.plot([-lim, lim], [-lim, lim], color="0.5", ls="--", lw=0.8, label="strict matching (slope 1)")
    ax.set_xlabel("log2(rewards right / rewards left)")
    ax.set_ylabel("log2(choices right / choices left)")
    ax.legend(frameon=False, fontsize=7, loc="upper left")
    return ax


def plot_slopes(numbers: dict, *, ax=None) -> plt.Axes:
    """Matching slope (mean ± s.e.m. over replicas, replicas as dots) for training-range and held-out
    p0: agent, baselines, and the paper's ≈0.5 for monkeys and model."""
    ax = _axes(ax)
    subjects = ("agent", "rw", "bayes")
    for j, part in enumerate(("train", "held_out")):
        for k, s in enumerate(subjects):
            values = np.asarray(numbers[s][f"slope_{part}"])
            mean, sem = _mean_sem(values[:, None])
            pos = j * 4 + k
            ax.bar(pos, mean, yerr=sem, color=COLORS[s], capsize=2, label=LABELS[s] if j == 0 else None,
                   hatch="//" if part == "held_out" else None, edgecolor="w")
            ax.scatter(np.full(len(values), pos), values, s=4, color="k", zorder=3)
    ax.axhline(numbers["paper_matching_slope"], color=COLORS["paper"], ls=":", lw=1,
               label="monkeys and paper model ≈ 0.5 (spec)")
    ax.axhline(1.0, color="0.5", ls="--", lw=0.8, label="strict matching")
    ax.set_xticks([1, 5], ["training p0", "held-out p0"])
    ax.set_ylabel("matching slope (sensitivity)")
    return ax


def plot_kernel(numbers: dict, kernel: str, *, ax=None) -> plt.Axes:
    """Lau & Glimcher regression weights by lag (mean ± s.e.m. over replicas) for agent and baselines."""
    ax = _axes(ax)
    for s in ("agent", "rw", "bayes"):
        mean, sem = _mean_sem(numbers[s][kernel])
        lags = np.arange(1, len(mean) + 1)
        ax.errorbar(lags, mean, yerr=sem, color=COLORS[s], marker="o", ms=3, capsize=2, lw=1.2, label=LABELS[s])
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel("lag (trials back)")
    return ax


def plot_unit_coding(numbers: dict, *, ax=None) -> plt.Axes:
    """Mean |partial Spearman r| over units at fixation for each regressor: agent (bars, replicas as
    dots), baselines' latents, the paper's model values; the monkeys' proportions of coding neurons
    and the agent's fraction of units at P < 0.05 as markers (a different statistic, same axis)."""
    ax = _axes(ax)
    names = list(numbers["paper_unit_r"])
    x = np.arange(len(names))
    width = 0.22
    for k, s in enumerate(("agent", "rw", "bayes")):
        values = np.array([[u[n] for n in names] for u in numbers[s]["unit_mean_abs_r"]])
        mean, sem = _mean_sem(values)
        pos = x + (k - 1) * width
        ax.bar(pos, mean, width, yerr=sem, color=COLORS[s], capsize=2,
               label=LABELS[s] + (" (latents as units)" if s != "agent" else ""))
        if s == "agent":
            ax.scatter(np.repeat(pos[None], len(values), 0).ravel(), values.ravel(), s=4, color="k", zorder=3, lw=0)
    ax.scatter(x + 2 * width, [numbers["paper_unit_r"][n] for n in names], marker="_", s=200, color=COLORS["paper"],
               zorder=4, label="paper model, mean |r| (spec)")
    frac, _ = _mean_sem([[u[n] for n in names] for u in numbers["agent"]["unit_fraction_p05"]])
    ax.scatter(x + 2 * width, frac, marker="D", s=14, color=COLORS["agent"], edgecolor="k", zorder=4,
               label="ours: fraction of units P < 0.05")
    ax.scatter(x + 2 * width, [numbers["monkey_fraction"][n] for n in names], marker="s", s=14,
               color=COLORS["monkey"], edgecolor="k", zorder=4, label="monkeys: fraction of neurons (spec)")
    ax.set_xticks(x, names)
    ax.set_ylabel("mean |partial r| at fixation  /  fraction")
    return ax


def plot_within_episode(numbers: dict, *, ax=None) -> plt.Axes:
    """P(choose the richer arm) over the first 50 trials (mean ± s.e.m. over replicas), weights frozen."""
    ax = _axes(ax)
    for s in ("agent", "rw", "bayes"):
        mean, sem = _mean_sem(numbers[s]["p_richer"])
        trials = np.arange(1, len(mean) + 1)
        ax.plot(trials, mean, color=COLORS[s], lw=1.4, label=LABELS[s])
        ax.fill_between(trials, mean - sem, mean + sem, color=COLORS[s], alpha=0.25, lw=0)
    ax.axhline(0.5, color="0.6", lw=0.8)
    note_band(ax, "band: ± s.e.m. over replicas")
    for lo, hi in (numbers["early_trials"], numbers["late_trials"]):
        ax.axvspan(lo + 0.5, hi + 0.5, color="0.92", lw=0, zorder=0)
    ax.set_xlabel("trial")
    ax.set_ylabel("P(choose the richer arm)")
    return ax


def plot_fig2(numbers: dict, path_stem) -> list[Path]:
    """The whole Fig. 2 (six panels) from the numbers of ``neurometarl experiment sim1``."""
    with use_style():
        fig, axes = plt.subplots(2, 3, figsize=(14, 8))
        plot_matching(numbers, ax=axes[0, 0])
        axes[0, 0].set_title("a  matching, meta-RL (one dot per test episode)")
        plot_slopes(numbers, ax=axes[0, 1])
        axes[0, 1].set_title("b  matching slope (under-matching < 1)")
        axes[0, 1].set_ylim(0, 1.45)
        axes[0, 1].set_yticks(np.arange(0, 1.01, 0.2))
        axes[0, 1].legend(frameon=False, fontsize=7, loc="upper center", ncol=2)
        plot_kernel(numbers, "reward_kernel", ax=axes[0, 2])
        axes[0, 2].set_ylabel("weight on past reward (log-odds)\n+ : a rewarded right choice favours right")
        axes[0, 2].set_title("c  Lau & Glimcher reward kernel")
        axes[0, 2].legend(frameon=False, fontsize=7)
        plot_kernel(numbers, "choice_kernel", ax=axes[1, 0])
        axes[1, 0].set_ylabel("weight on past choice (log-odds)\n+ : a right choice favours right")
        axes[1, 0].set_title("d  Lau & Glimcher choice kernel")
        plot_unit_coding(numbers, ax=axes[1, 1])
        axes[1, 1].set_title("e  unit coding at fixation")
        axes[1, 1].legend(frameon=False, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2)
        plot_within_episode(numbers, ax=axes[1, 2])
        axes[1, 2].set_title("f  learning within an episode (weights frozen)")
        axes[1, 2].legend(frameon=False, fontsize=7, loc="lower right")
        fig.suptitle(f"Fig. 2 — matching task (weights frozen; {numbers['n_replicas']} replicas, "
                     f"{numbers['n_test_episodes']} test episodes each)", fontsize=11)
        fig.tight_layout()
        paths = save_figure(fig, path_stem)
        plt.close(fig)
    return paths
