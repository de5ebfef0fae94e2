"""Fig. 3 panels (Sim 2, volatility): learning-rate time courses, per-phase bars, decoded volatility
and the fraction of volatility-coding units. Every function draws from the experiment's saved
numbers (plain lists), never from a live model."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from .style import PALETTE, note_band, save_figure, use_style

COLORS = {"agent": PALETTE[0], "bayes": PALETTE[1], "fixed_rw": PALETTE[2], "human": PALETTE[7], "paper": "k"}
LABELS = {"agent": "meta-RL (ours)", "bayes": "Bayesian volatility observer", "fixed_rw": "fixed-rate RW (α = 0.25)"}


def _axes(ax):
    return ax if ax is not None else plt.gca()


def _mean_sem(rows) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(rows, dtype=float)
    sem = a.std(0, ddof=1) / np.sqrt(len(a)) if len(a) > 1 else np.zeros(a.shape[1:])
    return a.mean(0), sem


def shade_volatile(ax, volatile: list[int], *, label: str | None = "volatile phase") -> None:
    """Grey background over the trials where ``volatile`` is 1."""
    v = np.asarray(volatile)
    edges = np.flatnonzero(np.diff(np.r_[0, v, 0]))
    for k, (lo, hi) in enumerate(zip(edges[::2], edges[1::2])):
        ax.axvspan(lo - 0.5, hi - 0.5, color="0.9", lw=0, zorder=0, label=label if k == 0 else None)


def plot_learning_rate_curves(numbers: dict, schedule: str, *, ax=None) -> plt.Axes:
    """Effective learning rate (sliding window) through the episode for one schedule: mean ± s.e.m.
    over replicas for the agent and each baseline, volatile phase shaded."""
    ax = _axes(ax)
    shade_volatile(ax, numbers["volatile_trials"][schedule])
    x = np.asarray(numbers["window_centre"])
    for subject, curves in numbers["learning_rate_curves"].items():
        mean, sem = _mean_sem([c[schedule] for c in curves])
        ax.plot(x, mean, color=COLORS[subject], lw=1.4, label=LABELS[subject],
                ls="--" if subject == "fixed_rw" else "-")
        ax.fill_between(x, mean - sem, mean + sem, color=COLORS[subject], alpha=0.25, lw=0)
    note_band(ax, "band: ± s.e.m. over replicas")
    ax.set_xlabel("trial (window centre)")
    ax.set_ylabel("effective learning rate α")
    ax.set_xlim(0, len(numbers["volatile_trials"][schedule]))
    ax.set_ylim(0, 0.36)
    return ax


def plot_phase_bars(numbers: dict, *, ax=None) -> plt.Axes:
    """Per-phase learning rates: agent, Bayesian observer and fixed-rate RW (mean ± s.e.m. over
    replicas, with the replicas as dots), human values and the paper's model values (spec, [fig])."""
    ax = _axes(ax)
    labels = list(numbers["human_rates"])
    subjects = list(numbers["phase_rates"])
    width = 0.8 / (len(subjects) + 1)
    x = np.arange(len(labels))
    for j, subject in enumerate(subjects):
        values = np.array([[p[k] for k in labels] for p in numbers["phase_rates"][subject]])
        mean, sem = _mean_sem(values)
        pos = x + (j - len(subjects) / 2) * width
        ax.bar(pos, mean, width, yerr=sem, color=COLORS[subject], label=LABELS[subject], capsize=2)
        ax.scatter(np.repeat(pos[None], len(values), 0).ravel(), values.ravel(), s=4, color="k", zorder=3, lw=0)
    pos = x + (len(subjects) / 2) * width
    ax.bar(pos, [numbers["human_rates"][k] for k in labels], width, color=COLORS["human"], hatch="//",
           edgecolor="w", label="humans (Behrens 2007, spec)")
    ax.scatter(x, [numbers["paper_model_rates"][k] for k in labels], marker="_", s=300, color=COLORS["paper"],
               zorder=4, label="meta-RL in the paper (spec)")
    ax.set_xticks(x, labels)
    ax.set_ylabel("effective learning rate α")
    ax.set_ylim(0, max(0.6, ax.get_ylim()[1]))
    return ax


def plot_decoded_volatility(numbers: dict, *, ax=None) -> plt.Axes:
    """Bayesian posterior volatility and its cross-validated decoding from the units, through the
    episode (mean over episodes, then over replicas), both schedules."""
    ax = _axes(ax)
    styles = {"stable-first": "-", "volatile-first": ":"}
    for schedule, ls in styles.items():
        bayes, _ = _mean_sem([d[schedule]["bayes"] for d in numbers["decoding_timecourse"]])
        decoded, sem = _mean_sem([d[schedule]["decoded"] for d in numbers["decoding_timecourse"]])
        x = np.arange(len(bayes))
        ax.plot(x, bayes, color=COLORS["bayes"], ls=ls, lw=1.4, label=f"Bayesian estimate, {schedule}")
        ax.plot(x, decoded, color=COLORS["agent"], ls=ls, lw=1.4, label=f"decoded from units, {schedule}")
        ax.fill_between(x, decoded - sem, decoded + sem, color=COLORS["agent"], alpha=0.2, lw=0)
    r = np.asarray(numbers["decoding_r"])
    ax.set_title(f"d  volatility decoded from units (cross-validated r = {r.mean():.2f})")
    note_band(ax, "band: ± s.e.m. over replicas")
    ax.set_xlabel("trial")
    ax.set_ylabel("posterior mean volatility")
    return ax


def plot_decoded_scatter(numbers: dict, *, ax=None) -> plt.Axes:
    """Decoded volatility binned by the Bayesian estimate, one line per replica, identity dashed."""
    ax = _axes(ax)
    x = np.asarray(numbers["decoding_binned"]["bayes"])
    for k, row in enumerate(numbers["decoding_binned"]["decoded"]):
        ax.plot(x, row, color=COLORS["agent"], alpha=0.5, lw=1, marker="o", ms=2, label="replicas" if k == 0 else None)
    ax.plot([0, x.max()], [0, x.max()], color="0.5", ls="--", lw=0.8, label="identity")
    ax.set_xlabel("Bayesian posterior volatility (bin centre)")
    ax.set_ylabel("decoded volatility (cross-validated)")
    return ax


def plot_unit_fraction(numbers: dict, *, ax=None) -> plt.Axes:
    """Fraction of units coding volatility per replica (dots), mean ± s.e.m., the paper's 37%."""
    ax = _axes(ax)
    f = np.asarray(numbers["volatility_unit_fraction"])
    mean, sem = _mean_sem(f[:, None])
    ax.bar([0], mean, yerr=sem, color=COLORS["agent"], width=0.5, capsize=3, label="meta-RL (ours)")
    ax.scatter(np.zeros(len(f)) + np.linspace(-0.12, 0.12, len(f)), f, s=10, color="k", zorder=3)
    ax.bar([1], [numbers["paper_volatility_unit_fraction"]], color=COLORS["paper"], alpha=0.3, width=0.5,
           label="meta-RL in the paper (spec)")
    ax.set_xticks([0, 1], ["ours", "paper"])
    ax.set_ylim(0, 1)
    ax.set_ylabel("fraction of units coding volatility\n(Bonferroni P < 0.05)")
    return ax


def plot_fig3(numbers: dict, path_stem) -> list[Path]:
    """The whole Fig. 3 (six panels) from the numbers of ``neurometarl experiment sim2``."""
    with use_style():
        fig, axes = plt.subplots(2, 3, figsize=(14, 8))
        for ax, schedule, letter in ((axes[0, 0], "stable-first", "a"), (axes[0, 1], "volatile-first", "b")):
            plot_learning_rate_curves(numbers, schedule, ax=ax)
            ax.set_title(f"{letter}  effective learning rate, {schedule} schedule")
        axes[0, 0].legend(frameon=False, loc="upper left", ncol=2, fontsize=7)
        plot_phase_bars(numbers, ax=axes[0, 2])
        axes[0, 2].set_title("c  learning rate by phase (10-trial windows)")
        axes[0, 2].legend(frameon=False, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2)
        plot_decoded_volatility(numbers, ax=axes[1, 0])
        axes[1, 0].legend(frameon=False, fontsize=7)
        plot_decoded_scatter(numbers, ax=axes[1, 1])
        axes[1, 1].set_title("e  decoded vs Bayesian volatility")
        axes[1, 1].legend(frameon=False)
        plot_unit_fraction(numbers, ax=axes[1, 2])
        f = np.asarray(numbers["volatility_unit_fraction"])
        axes[1, 2].set_title(f"f  units coding volatility ({100 * f.mean():.0f}%)")
        n = numbers["n_replicas"]
        fig.suptitle(f"Fig. 3 — learning rate adapts to volatility (weights frozen; {n} replicas, "
                     f"{numbers['n_test_episodes_per_schedule']} test episodes per schedule each)", fontsize=11)
        fig.tight_layout()
        paths = save_figure(fig, path_stem)
        plt.close(fig)
    return paths
