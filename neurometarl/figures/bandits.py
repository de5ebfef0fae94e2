"""Fig. 1 panels: example-episode rasters, cumulative regret, state-space trajectories and manifold.

Each function draws from saved numbers (Fig. 1's labelled DataArrays or a recording), never from a live model.
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


def plot_regret(regret: xr.DataArray, *, ax=None, colors: dict | None = None,
                band: str = "95% CI over episodes") -> plt.Axes:
    """Cumulative expected regret by trial with a shaded band (``band`` says what it is, shown on the axes),
    one line per player, from regret on (player, estimate, trial) with estimates ``mean``, ``lower`` and
    ``upper`` (Fig. 1's ``regret``; for one :func:`~neurometarl.analysis.bandits.regret_curve`:
    ``curve.to_dataarray("estimate").expand_dims(player=["meta-RL"])``); axis labels from its attrs."""
    ax = _axes(ax)
    trials = regret["trial"].values
    for i, label in enumerate(regret["player"].values):
        c = regret.sel(player=label)
        color = (colors or {}).get(label, PALETTE[i % len(PALETTE)])
        mean = c.sel(estimate="mean").values
        ax.plot(trials, mean, color=color, label=f"{label} ({mean[-1]:.2f})", lw=1.4)
        ax.fill_between(trials, c.sel(estimate="lower"), c.sel(estimate="upper"), color=color, alpha=0.2, lw=0)
    ax.set_xlabel(regret["trial"].attrs.get("long_name", "trial"))
    units = f" ({regret.attrs['units']})" if "units" in regret.attrs else ""
    ax.set_ylabel(regret.attrs.get("long_name", "cumulative expected regret") + units)
    ax.legend(frameon=False, title="regret at trial 100", loc="upper left")
    note_band(ax, f"band: {band}")
    return ax


def plot_trajectories(pcs: xr.DataArray, *, p_left=None, ax=None) -> plt.Axes:
    """Single-episode state trajectories in PC1–PC2 from ``pcs`` on (example, trial, component);
    ``p_left`` (one per example) colours them."""
    ax = _axes(ax)
    cmap = plt.get_cmap("coolwarm")
    for i, traj in enumerate(pcs.transpose("example", "trial", "component").values):
        color = cmap(p_left[i]) if p_left is not None else PALETTE[i % len(PALETTE)]
        ax.plot(traj[:, 0], traj[:, 1], color=color, lw=0.8, alpha=0.9)
        ax.scatter(traj[0, 0], traj[0, 1], color="k", s=8, zorder=3)
        ax.scatter(traj[-1, 0], traj[-1, 1], color=color, s=14, marker="s", zorder=3, edgecolor="k", linewidth=0.3)
    _pc_labels(ax, pcs)
    ax.set_title("single-episode trajectories (start ●, trial 100 ■)")
    return ax


def plot_manifold(pcs: xr.DataArray, p_left: xr.DataArray, *, ax=None) -> plt.Axes:
    """States at the last trial of many episodes in PC1–PC2, coloured by p_L; ``pcs`` on (episode, component),
    ``p_left`` on (episode,)."""
    ax = _axes(ax)
    xy = pcs.transpose("episode", "component").values
    sc = ax.scatter(xy[:, 0], xy[:, 1], c=p_left.values, cmap="coolwarm", vmin=0, vmax=1, s=6)
    plt.colorbar(sc, ax=ax, label=p_left.attrs.get("long_name", "p_L"), fraction=0.046)
    _pc_labels(ax, pcs)
    ax.set_title("state at trial 100 across episodes")
    return ax


def _pc_labels(ax, pcs: xr.DataArray) -> None:
    units = f" ({pcs.attrs['units']})" if "units" in pcs.attrs else ""
    ax.set_xlabel(f"{pcs['component'].values[0]}{units}")
    ax.set_ylabel(f"{pcs['component'].values[1]}{units}")
