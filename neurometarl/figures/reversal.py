"""Fig. 4 (Sim 3): RPE at cue onset by reversal condition, and the latent-state geometry, from ``numbers.json``."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from .style import PALETTE, save_figure, use_style

LABELS = {"pre_reversal": "pre-reversal\n(trial 1)", "experienced": "experienced\n(trial 2)", "inferred": "inferred\n(trial 2)"}
CUE_COLORS = {"old_rewarded": PALETTE[3], "new_rewarded": PALETTE[2]}


def plot_condition_rpes(summary: dict, *, ax=None, title: str = "", paper: dict | None = None):
    """Bars of the mean (± s.e.m. over replicas) cue-onset RPE per condition, old- vs new-rewarded cue.

    Parameters
    ----------
    summary : ``numbers[subject]``: condition → cue → (mean, sem).
    paper : condition → (old, new) values read off the paper's figure, drawn as open markers.
    """
    ax = ax or plt.gca()
    conds = list(LABELS)
    x = np.arange(len(conds))
    for j, cue in enumerate(("old_rewarded", "new_rewarded")):
        mean = [summary[c][cue][0] for c in conds]
        sem = [summary[c][cue][1] for c in conds]
        ax.bar(x + (j - 0.5) * 0.38, mean, 0.38, yerr=sem, capsize=2, color=CUE_COLORS[cue],
               label=cue.replace("_", "-") + " cue")
        if paper:
            ax.scatter(x + (j - 0.5) * 0.38, [paper[c][j] for c in conds], marker="_", s=120, color="k",
                       label="paper (model)" if j == 0 else None, zorder=3)
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_xticks(x, [LABELS[c] for c in conds])
    ax.set_ylabel("RPE at cue onset δ")
    ax.set_title(title)
    return ax


def plot_fig4(numbers: dict, stem: Path) -> list[Path]:
    """Panels: agent, model-free and ideal-observer RPEs by condition; PCA of fixation states by
    latent state with reversal examples; the state's position on the latent-state axis across a reversal."""
    with use_style():
        fig, axes = plt.subplots(1, 5, figsize=(19, 4.2))
        n = numbers["n_replicas"]
        extent = [abs(numbers[s][c][k][0]) + numbers[s][c][k][1] for s in ("agent", "mf", "hmm") for c in LABELS
                  for k in ("old_rewarded", "new_rewarded")]
        top = np.nanmax([0.4, *extent])  # conditions with no trials (an untrained agent) are NaN
        for ax, (key, title) in zip(axes[:3], (("agent", f"a  meta-RL agent (n = {n})"), ("mf", "b  model-free, one value per cue"),
                                              ("hmm", "c  ideal reversal observer (HMM)"))):
            plot_condition_rpes(numbers[key], ax=ax, title=title, paper=numbers["paper"] if key == "agent" else None)
            ax.set_ylim(-1.15 * top, 1.15 * top)
        axes[0].legend(frameon=False, loc="lower left", fontsize=7)
        ax = axes[3]
        pca = numbers["pca"]
        pc = np.asarray(pca["pc"])
        cue = np.asarray(pca["rewarded_cue"])
        for value, name in ((0, "cue A rewarded"), (1, "cue B rewarded")):
            ax.scatter(pc[cue == value, 0], pc[cue == value, 1], s=5, alpha=0.4, lw=0, color=PALETTE[value], label=name)
        for k, ex in enumerate(pca["examples"]):
            path = np.asarray(ex["pc"])  # fixation states: trial before the reversal, trial 1, trial 2
            for j in range(len(path) - 1):
                ax.annotate("", xy=path[j + 1], xytext=path[j], arrowprops={"arrowstyle": "->", "color": "k", "lw": 0.8})
            ax.scatter(*path[0], marker="s", s=18, color="k", zorder=3, label="trial before reversal" if k == 0 else None)
            ax.scatter(*path[-1], marker="o", s=18, facecolor="w", edgecolor="k", zorder=3, label="trial 2 after" if k == 0 else None)
        ev = pca["explained_variance_ratio"]
        ax.set_xlabel(f"PC1 ({100 * ev[0]:.0f}% var.)")
        ax.set_ylabel(f"PC2 ({100 * ev[1]:.0f}% var.)")
        ax.set_title("d  fixation states by latent state (seed 0)")
        ax.legend(frameon=False, fontsize=7, markerscale=2)
        ax = axes[4]
        flip = numbers["flip"]
        keys = sorted(flip, key=int)
        values = np.asarray([flip[k] for k in keys])  # (position, seed)
        x = np.array([int(k) for k in keys])
        for seed in range(values.shape[1]):
            ax.plot(x, values[:, seed], color="0.7", lw=0.8)
        ax.plot(x, values.mean(1), "o-", color="k", label="mean over seeds")
        ax.axhline(0, color="0.5", lw=0.8)
        ax.axvline(0.5, color=PALETTE[3], ls="--", lw=0.8)
        ax.set_xticks(x, ["before" if v == 0 else str(v) for v in x])
        ax.set_xlabel("trial relative to the reversal (fixation state)")
        ax.set_ylabel("position on latent-state axis\n(−1 old assignment, +1 new)")
        ax.set_title("e  the state flips after the reversal")
        ax.legend(frameon=False, fontsize=7)
        fig.suptitle("Fig. 4 — RPEs reflect inferred value: cue-reversal task (weights frozen)", fontsize=11)
        fig.tight_layout()
        paths = save_figure(fig, stem)
        plt.close(fig)
    return paths
