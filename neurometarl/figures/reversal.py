"""Fig. 4 (Sim 3): RPE at cue onset by reversal condition, and the latent-state geometry, from Sim 3's numbers."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from .style import PALETTE, save_figure, use_style

LABELS = {"pre_reversal": "pre-reversal\n(trial 1)", "experienced": "experienced\n(trial 2)", "inferred": "inferred\n(trial 2)"}
CUE_COLORS = {"old_rewarded": PALETTE[3], "new_rewarded": PALETTE[2]}


def _mean_sem(da: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and s.e.m. over ``replica`` (s.e.m. 0 for one replica; NaN where a replica is NaN)."""
    v = da.transpose(..., "replica").values
    n = v.shape[-1]
    return v.mean(-1), (v.std(-1, ddof=1) / np.sqrt(n) if n > 1 else np.zeros(v.shape[:-1]))


def plot_condition_rpes(rpe: xr.DataArray, *, ax=None, title: str = "", paper: xr.DataArray | None = None):
    """Bars of the mean (± s.e.m. over replicas) cue-onset RPE per condition, old- vs new-rewarded cue.

    Parameters
    ----------
    rpe : cue-onset RPE on (condition, cue, replica) (Sim 3's ``rpe`` of one subject).
    paper : values read off the paper's figure on (condition, cue), drawn as black dashes.
    """
    ax = ax or plt.gca()
    conds = list(LABELS)
    x = np.arange(len(conds))
    for j, cue in enumerate(("old_rewarded", "new_rewarded")):
        mean, sem = _mean_sem(rpe.sel(condition=conds, cue=cue))
        ax.bar(x + (j - 0.5) * 0.38, mean, 0.38, yerr=sem, capsize=2, color=CUE_COLORS[cue],
               label=cue.replace("_", "-") + " cue")
        if paper is not None:
            ax.scatter(x + (j - 0.5) * 0.38, paper.sel(condition=conds, cue=cue).values, marker="_", s=120, color="k",
                       label="paper (model)" if j == 0 else None, zorder=3)
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_xticks(x, [LABELS[c] for c in conds])
    ax.set_ylabel(rpe.attrs.get("long_name", "RPE at cue onset δ").split(",")[0])
    ax.set_title(title)
    return ax


def plot_pca(ds: xr.Dataset, *, ax=None, title: str = ""):
    """Fixation states in PC1–PC2 coloured by latent state (``pca_pc`` on (point, component),
    ``pca_rewarded_cue``), with reversal examples (``example_pc`` on (example, example_trial, component))."""
    ax = ax or plt.gca()
    pc, cue = ds["pca_pc"].transpose("point", "component").values, ds["pca_rewarded_cue"].values
    for value, name in ((0, "cue A rewarded"), (1, "cue B rewarded")):
        ax.scatter(pc[cue == value, 0], pc[cue == value, 1], s=5, alpha=0.4, lw=0, color=PALETTE[value], label=name)
    for k, path in enumerate(ds["example_pc"].transpose("example", "example_trial", "component").values):
        for j in range(len(path) - 1):  # fixation states: trial before the reversal, trial 1, trial 2
            ax.annotate("", xy=path[j + 1], xytext=path[j], arrowprops={"arrowstyle": "->", "color": "k", "lw": 0.8})
        ax.scatter(*path[0], marker="s", s=18, color="k", zorder=3, label="trial before reversal" if k == 0 else None)
        ax.scatter(*path[-1], marker="o", s=18, facecolor="w", edgecolor="k", zorder=3, label="trial 2 after" if k == 0 else None)
    ev = ds["explained_variance"].values
    ax.set_xlabel(f"PC1 ({100 * ev[0]:.0f}% var.)")
    ax.set_ylabel(f"PC2 ({100 * ev[1]:.0f}% var.)")
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=7, markerscale=2)
    return ax


def plot_flip(flip: xr.DataArray, *, ax=None, title: str = ""):
    """The state's position on the latent-state axis across a reversal, from ``flip`` on (relative_trial,
    replica): one grey line per replica and their mean."""
    ax = ax or plt.gca()
    x = flip["relative_trial"].values
    values = flip.transpose("relative_trial", "replica").values
    for replica in range(values.shape[1]):
        ax.plot(x, values[:, replica], color="0.7", lw=0.8)
    ax.plot(x, values.mean(1), "o-", color="k", label="mean over seeds")
    ax.axhline(0, color="0.5", lw=0.8)
    ax.axvline(0.5, color=PALETTE[3], ls="--", lw=0.8)
    ax.set_xticks(x, ["before" if v == 0 else str(v) for v in x])
    ax.set_xlabel(flip["relative_trial"].attrs.get("long_name", "trial relative to the reversal"))
    ax.set_ylabel(flip.attrs.get("long_name", "position on latent-state axis").replace(" (", "\n("))
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=7)
    return ax


def plot_fig4(ds: xr.Dataset, stem: Path) -> list[Path]:
    """Panels: agent, model-free and ideal-observer RPEs by condition; PCA of fixation states by
    latent state with reversal examples; the state's position on the latent-state axis across a reversal."""
    with use_style():
        fig, axes = plt.subplots(1, 5, figsize=(19, 4.2))
        mean, sem = _mean_sem(ds["rpe"].sel(condition=list(LABELS)))
        top = np.nanmax([0.4, *(np.abs(mean) + sem).ravel()])  # conditions with no trials (an untrained agent) are NaN
        for ax, (key, title) in zip(axes[:3], (("agent", f"a  meta-RL agent (n = {ds.sizes['replica']})"),
                                              ("mf", "b  model-free, one value per cue"), ("hmm", "c  ideal reversal observer (HMM)"))):
            plot_condition_rpes(ds["rpe"].sel(subject=key), ax=ax, title=title, paper=ds["paper_rpe"] if key == "agent" else None)
            ax.set_ylim(-1.15 * top, 1.15 * top)
        axes[0].legend(frameon=False, loc="lower left", fontsize=7)
        plot_pca(ds, ax=axes[3], title="d  fixation states by latent state (seed 0)")
        plot_flip(ds["flip"], ax=axes[4], title="e  the state flips after the reversal")
        fig.suptitle("Fig. 4 — RPEs reflect inferred value: cue-reversal task (weights frozen)", fontsize=11)
        fig.tight_layout()
        paths = save_figure(fig, stem)
        plt.close(fig)
    return paths
