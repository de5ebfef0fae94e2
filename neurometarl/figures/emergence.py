"""The emergence figure: learning curves, regret, learning gain, fitted learning rates, unit
coding and the distribution-shift likelihood ratios, per memory architecture and ablation.

Every function draws from the experiment's saved numbers (``numbers.json``), never from a live model.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib import ticker
import numpy as np

from .style import PALETTE, save_figure, use_style

#: colour and line style per condition: memory architectures in colour, ablations in grey
STYLES = {"lstm": (PALETTE[0], "-"), "gru": (PALETTE[1], "-"), "rnn": (PALETTE[2], "-"), "attention": (PALETTE[3], "-"),
          "feedforward": ("0.35", "--"), "fixed": ("0.55", "-."), "lesion": ("0.7", ":")}
SHORT = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN", "attention": "attention", "feedforward": "feed-fwd",
         "fixed": "fixed", "lesion": "lesion"}


def _per_replica(numbers: dict, key: str) -> dict[str, np.ndarray]:
    return {c: np.array([r[key] for r in rows]) for c, rows in numbers["conditions"].items()}


def plot_learning_curves(numbers: dict, *, ax=None, smooth: int = 5) -> plt.Axes:
    """Reward by trial (mean over replicas, running mean over ``smooth`` trials) per condition, with the
    Bayes-optimal and random players on the same episodes."""
    ax = ax or plt.gca()
    kernel = np.ones(smooth) / smooth
    trials = np.arange(1, 101)

    def draw(curves, label, color, style, lw=1.3):
        mean = np.mean(curves, 0)
        ax.plot(trials[smooth - 1:], np.convolve(mean, kernel, "valid"), style, color=color, lw=lw, label=label)

    for c, rows in numbers["conditions"].items():
        draw([r["reward_by_trial"] for r in rows], numbers["labels"][c], *STYLES[c])
    for name, color, style in (("bayes-optimal", "k", "-"), ("random", "k", ":")):
        draw([r["reward_by_trial"] for r in numbers["references"][name]], name, color, style, lw=0.9)
    ax.axvspan(1, 10, color="0.93", zorder=0)
    ax.axvspan(51, 100, color="0.96", zorder=0)
    ax.set(xlabel="trial", ylabel=f"reward (running mean of {smooth} trials)", xlim=(1, 100), ylim=(0.22, 0.82))
    ax.text(5.5, 0.80, "1–10", ha="center", fontsize=7, color="0.4")
    ax.text(75, 0.80, "51–100", ha="center", fontsize=7, color="0.4")
    ax.legend(loc="lower right", ncol=2, frameon=False, fontsize=6.5, columnspacing=1.0, handlelength=2.2)
    return ax


def _bars(ax, values: dict[str, np.ndarray], *, log: bool = False):
    names = list(values)
    for i, c in enumerate(names):
        v = values[c]
        ax.bar(i, v.mean(), color=STYLES[c][0], alpha=0.75, width=0.7)
        ax.plot(np.full(v.size, i) + np.linspace(-0.15, 0.15, v.size), v, "o", ms=2.5, color="k")
    ax.set_xticks(range(len(names)), [SHORT[c] for c in names], rotation=40, ha="right")
    if log:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(ticker.FixedLocator([0.5, 1, 2, 5, 10, 20, 50]))
        ax.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    return ax


def plot_regret(numbers: dict, *, ax=None) -> plt.Axes:
    """Expected regret at trial 100 per condition (bars: mean; dots: replicas), Bayes-optimal and random as lines."""
    ax = ax or plt.gca()
    _bars(ax, _per_replica(numbers, "regret_100"), log=True)
    for name, style in (("bayes-optimal", "-"), ("random", ":")):
        ax.axhline(np.mean([r["regret_100"] for r in numbers["references"][name]]), color="k", ls=style, lw=0.9, label=name)
    ax.set_ylabel("expected regret at trial 100")
    ax.legend(frameon=False, fontsize=7, loc="upper left")
    return ax


def plot_gain(numbers: dict, *, ax=None) -> plt.Axes:
    """Within-episode learning: reward in trials 51–100 minus trials 1–10, per condition."""
    ax = ax or plt.gca()
    _bars(ax, _per_replica(numbers, "gain"))
    ax.axhline(0, color="k", lw=0.6)
    ax.axhline(0.05, color="k", ls="--", lw=0.6)
    ax.set_ylabel("reward 51–100 − reward 1–10")
    return ax


def plot_learning_rates(numbers: dict, *, ax=None) -> plt.Axes:
    """Fitted Rescorla–Wagner learning rate α per condition, with Bayes-observer − RW log-likelihood per choice."""
    ax = ax or plt.gca()
    alpha = _per_replica(numbers, "rw_alpha")
    _bars(ax, alpha)
    ax.set_ylabel("fitted RW learning rate α")
    top = max(v.max() for v in alpha.values())
    ax.set_ylim(0, top * 1.35)
    bayes, rw = _per_replica(numbers, "bayes_loglik_per_choice"), _per_replica(numbers, "rw_loglik_per_choice")
    for i, c in enumerate(alpha):
        ax.text(i, top * 1.22, f"{(bayes[c] - rw[c]).mean():+.2f}", ha="center", fontsize=6)
    ax.text(-0.6, top * 1.31, "log L per choice, Bayes observer − RW:", fontsize=6, va="bottom")
    return ax


def plot_units(numbers: dict, *, ax=None) -> plt.Axes:
    """Fraction of units coding the correlated observer's belief, the previous choice and the previous reward."""
    ax = ax or plt.gca()
    names = list(numbers["conditions"])
    regressors = list(numbers["conditions"][names[0]][0]["units"])
    width = 0.8 / len(regressors)
    for j, reg in enumerate(regressors):
        means = [np.mean([r["units"][reg] for r in numbers["conditions"][c]]) for c in names]
        ax.bar(np.arange(len(names)) + (j - (len(regressors) - 1) / 2) * width, means, width, color=PALETTE[4 + j],
               label=reg.replace("_", " "))
    ax.set_xticks(range(len(names)), [SHORT[c] for c in names], rotation=40, ha="right")
    ax.set(ylabel="fraction of units (Bonferroni)", ylim=(0, 1.15))
    ax.legend(frameon=False, fontsize=6.5, ncol=3, loc="upper center")
    return ax


def plot_shift(numbers: dict, *, ax=None) -> plt.Axes:
    """Log likelihood ratio per choice, training-distribution observer vs test-distribution observer."""
    ax = ax or plt.gca()
    shifts = list(numbers["shifts"])
    for i, s in enumerate(shifts):
        v = np.array([r["log_lr_per_choice"] for r in numbers["shifts"][s]])
        ratio = np.mean([r["reward"] / r["bayes_test_reward"] for r in numbers["shifts"][s]])
        ax.barh(i, v.mean(), color=PALETTE[0] if v.mean() > 0 else PALETTE[3], alpha=0.75, height=0.6)
        ax.plot(v, np.full(v.size, i) + np.linspace(-0.12, 0.12, v.size), "o", ms=2.5, color="k")
        ax.text(1.02, i, f"reward {ratio:.2f}× test Bayes", transform=ax.get_yaxis_transform(), va="center", fontsize=6.5)
    ax.axvline(0, color="k", lw=0.6)
    ax.set_yticks(range(len(shifts)), shifts)
    ax.invert_yaxis()
    ax.set_xlabel("log LR per choice (> 0: training observer wins)")
    return ax


def plot_emergence(numbers: dict, path_stem: str | Path) -> list[Path]:
    """The six-panel emergence figure, written as ``<path_stem>.png`` and ``.pdf``."""
    with use_style():
        fig, axes = plt.subplots(2, 3, figsize=(15, 8.2), gridspec_kw={"width_ratios": (1.45, 1, 1)})
        panels = ((plot_learning_curves, "a  within-episode learning, weights frozen"),
                  (plot_regret, "b  regret at trial 100 (correlated bandit)"),
                  (plot_gain, "c  learning gain (dashed: claim margin)"),
                  (plot_learning_rates, "d  fitted learning rate"),
                  (plot_units, "e  unit coding at the choice step"),
                  (plot_shift, "f  distribution shift: whose observer?"))
        for ax, (draw, title) in zip(axes.flat, panels):
            draw(numbers, ax=ax)
            ax.set_title(title)
        fig.suptitle(f"Emergence of within-episode learning ({numbers['n_replicas']} replicas × "
                     f"{numbers['n_test_episodes_per_replica']} test episodes per condition)", fontsize=11)
        fig.tight_layout()
        paths = save_figure(fig, path_stem)
        plt.close(fig)
    return paths
