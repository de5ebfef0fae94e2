"""Fig. 6 panels: Harlow learning-set curves across training, baselines and Harlow's monkeys."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .style import PALETTE


def plot_learning_set(curves: dict, *, baselines: dict | None = None, ax=None, title: str = ""):
    """% correct by trial (1–6) at several points of training.

    Parameters
    ----------
    curves : ``{label: {"mean": [6 values], "sem": [6 values]}}`` in training order (e.g. "20% of training").
    baselines : ``{label: [6 values]}`` drawn as dashed grey lines, or None.
    """
    ax = ax or plt.gca()
    colours = plt.get_cmap("viridis")(np.linspace(0.1, 0.9, len(curves)))
    for colour, (label, c) in zip(colours, curves.items()):
        trials = np.arange(1, len(c["mean"]) + 1)
        ax.errorbar(trials, c["mean"], yerr=c.get("sem"), color=colour, marker="o", ms=3, lw=1.3, capsize=2, label=label)
    for (label, values), style in zip((baselines or {}).items(), ("--", ":", "-.")):
        ax.plot(np.arange(1, len(values) + 1), values, style, color="0.35", lw=1.2, label=label.split(" (")[0])
    ax.axhline(50, color="0.7", lw=0.8, ls=":")
    ax.set_xticks(range(1, 7))
    ax.set_xlabel("trial within problem")
    ax.set_ylabel("% correct")
    ax.set_ylim(0, 102)
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=6, loc="lower right", ncol=3, columnspacing=0.8, handlelength=1.5)
    return ax


def plot_trial2_over_training(progress, series: dict, *, ax=None, title: str = ""):
    """Trial-2 % correct against the fraction of training done, one line per object pool.

    Parameters
    ----------
    progress : fractions of training (0–1) at which the snapshots were taken.
    series : ``{label: {"mean": [...], "sem": [...]}}`` aligned with ``progress``.
    """
    ax = ax or plt.gca()
    for colour, (label, s) in zip((PALETTE[0], PALETTE[1], PALETTE[2]), series.items()):
        ax.errorbar(100 * np.asarray(progress), s["mean"], yerr=s.get("sem"), color=colour, marker="o", ms=3,
                    capsize=2, label=label)
    ax.axhline(50, color="0.7", lw=0.8, ls=":")
    ax.set_xlabel("training done (%)")
    ax.set_ylabel("trial-2 % correct")
    ax.set_ylim(0, 102)
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=7, loc="lower right")
    return ax


def plot_monkeys(blocks: dict, *, ax=None, title: str = ""):
    """Harlow's monkeys: trial-2 % correct over blocks of problems, ``{block label: percent}``."""
    ax = ax or plt.gca()
    x = np.arange(len(blocks))
    ax.plot(x, list(blocks.values()), marker="s", color=PALETTE[3], lw=1.3)
    for xi, v in zip(x, blocks.values()):
        ax.annotate(f"{v:g}", (xi, v), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=7)
    ax.axhline(50, color="0.7", lw=0.8, ls=":")
    ax.set_xticks(x, list(blocks), rotation=20)
    ax.set_xlabel("problems")
    ax.set_ylabel("trial-2 % correct")
    ax.set_ylim(0, 102)
    ax.set_title(title)
    return ax
