"""Fig. 1 panels: example-episode rasters, cumulative regret, state-space trajectories and manifold.

Each function draws from saved numbers (plain arrays or a recording), never from a live model.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from .style import PALETTE, note_band


def _axes(ax):
    return ax if ax is not None else plt.gca()


def plot_raster(ds: xr.Dataset, *, episodes=None, ax=None, title: str | None = None) -> plt.Axes:
    """Choices (row per episode; marker above/below for right/left) filled if rewarded, with p_L.

    ``episodes``: indices to show (default the first 4).
    """
    ax = _axes(ax)
    episodes = list(range(min(4, ds.sizes["episode"]))) if episodes is None else list(episodes)
    for row, ep in enumerate(episodes):
        e = ds.isel(episode=ep)
        choice, reward = e["choice"].values.astype(int), e["reward"].values > 0
        trials = np.arange(choice.size) + 1
        y = row + np.where(choice == 1, 0.15, -0.15)
        color = np.where(choice == 1, 1, 0)
        for rewarded, face in ((True, None), (False, "none")):
            sel = reward == rewarded
            ax.scatter(trials[sel], y[sel], s=9, marker="o",
                       facecolors=[PALETTE[c] for c in color[sel]] if face is None else "none",
                       edgecolors=[PALETTE[c] for c in color[sel]], linewidths=0.6)
        p = e["reward_prob"].isel(trial=0).values
        ax.text(trials[-1] + 2, row, f"p_L={p[0]:.2f}", va="center", fontsize=7)
    ax.set_yticks(range(len(episodes)), [f"ep {ep}" for ep in episodes])
    ax.set_ylim(-0.6, len(episodes) - 0.4)
    ax.set_xlabel("trial")
    ax.set_xlim(0, ds.sizes["trial"] + 16)
    ax.set_title(title or "choices (filled: rewarded)")
    ax.text(1.0, 1.0, "● right (above)", color=PALETTE[1], transform=ax.transAxes, ha="right", va="bottom", fontsize=7)
    ax.text(0.0, 1.0, "● left (below)", color=PALETTE[0], transform=ax.transAxes, ha="left", va="bottom", fontsize=7)
    return ax


def plot_regret(curves: dict[str, dict], *, ax=None, colors: dict | None = None,
                band: str = "95% CI over episodes") -> plt.Axes:
    """Cumulative expected regret by trial with a shaded band (``band`` says what it is, shown on the axes);
    ``curves[label] = {mean, lower, upper}`` lists."""
    ax = _axes(ax)
    for i, (label, c) in enumerate(curves.items()):
        color = (colors or {}).get(label, PALETTE[i % len(PALETTE)])
        trials = np.arange(1, len(c["mean"]) + 1)
        ax.plot(trials, c["mean"], color=color, label=f"{label} ({c['mean'][-1]:.2f})", lw=1.4)
        ax.fill_between(trials, c["lower"], c["upper"], color=color, alpha=0.2, lw=0)
    ax.set_xlabel("trial")
    ax.set_ylabel("cumulative expected regret")
    ax.legend(frameon=False, title="regret at trial 100", loc="upper left")
    note_band(ax, f"band: {band}")
    return ax


def plot_trajectories(pcs: np.ndarray, *, p_left=None, ax=None) -> plt.Axes:
    """Single-episode state trajectories in PC1–PC2; ``pcs`` (episode, step, component)."""
    ax = _axes(ax)
    cmap = plt.get_cmap("coolwarm")
    for i, traj in enumerate(np.asarray(pcs)):
        color = cmap(p_left[i]) if p_left is not None else PALETTE[i % len(PALETTE)]
        ax.plot(traj[:, 0], traj[:, 1], color=color, lw=0.8, alpha=0.9)
        ax.scatter(traj[0, 0], traj[0, 1], color="k", s=8, zorder=3)
        ax.scatter(traj[-1, 0], traj[-1, 1], color=color, s=14, marker="s", zorder=3, edgecolor="k", linewidth=0.3)
    ax.set_xlabel("PC1")
    ax.set_ylabel("PC2")
    ax.set_title("single-episode trajectories (start ●, trial 100 ■)")
    return ax


def plot_manifold(pcs: np.ndarray, p_left: np.ndarray, *, ax=None) -> plt.Axes:
    """States at the last trial of many episodes in PC1–PC2, coloured by p_L; ``pcs`` (episode, component)."""
    ax = _axes(ax)
    pcs = np.asarray(pcs)
    sc = ax.scatter(pcs[:, 0], pcs[:, 1], c=p_left, cmap="coolwarm", vmin=0, vmax=1, s=6)
    plt.colorbar(sc, ax=ax, label="p_L", fraction=0.046)
    ax.set_xlabel("PC1")
    ax.set_ylabel("PC2")
    ax.set_title("state at trial 100 across episodes")
    return ax
