"""Fig. 3 panels (Sim 2, volatility): learning-rate time courses, per-phase bars, decoded volatility
and the fraction of volatility-coding units. Every function draws from the experiment's saved
numbers (DataArrays of the Sim 2 Dataset), never from a live model."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from .style import PALETTE, note_band, save_figure, use_style

COLORS = {"agent": PALETTE[0], "bayes": PALETTE[1], "fixed_rw": PALETTE[2], "human": PALETTE[7], "paper": "k"}
LABELS = {"agent": "meta-RL (ours)", "bayes": "Bayesian volatility observer", "fixed_rw": "fixed-rate RW (α = 0.25)"}


def _axes(ax):
    return ax if ax is not None else plt.gca()


def _mean_sem(da: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and s.e.m. over replicas (s.e.m. 0 for one replica)."""
    n = da.sizes["replica"]
    sem = da.std("replica", ddof=1) / np.sqrt(n) if n > 1 else xr.zeros_like(da.isel(replica=0))
    return da.mean("replica").values, sem.values


def shade_volatile(ax, volatile, *, label: str | None = "volatile phase") -> None:
    """Grey background over the trials where ``volatile`` is 1."""
    v = np.asarray(volatile)
    edges = np.flatnonzero(np.diff(np.r_[0, v, 0]))
    for k, (lo, hi) in enumerate(zip(edges[::2], edges[1::2])):
        ax.axvspan(lo - 0.5, hi - 0.5, color="0.9", lw=0, zorder=0, label=label if k == 0 else None)


def plot_learning_rate_curves(learning_rate: xr.DataArray, volatile: xr.DataArray, *, ax=None) -> plt.Axes:
    """Effective learning rate (sliding window) through the episode for one schedule, from
    ``learning_rate`` on (learner, replica, window_start) with its ``window_centre``: mean ± s.e.m. over
    replicas for the agent and each baseline, the trials where ``volatile`` is 1 shaded."""
    ax = _axes(ax)
    shade_volatile(ax, volatile.values)
    x = learning_rate["window_centre"]
    for learner in learning_rate["learner"].values:
        mean, sem = _mean_sem(learning_rate.sel(learner=learner))
        ax.plot(x, mean, color=COLORS[learner], lw=1.4, label=LABELS[learner], ls="--" if learner == "fixed_rw" else "-")
        ax.fill_between(x, mean - sem, mean + sem, color=COLORS[learner], alpha=0.25, lw=0)
    note_band(ax, "band: ± s.e.m. over replicas")
    ax.set_xlabel(x.attrs["long_name"])
    ax.set_ylabel(learning_rate.attrs["long_name"])
    ax.set_xlim(0, volatile.sizes["trial"])
    ax.set_ylim(0, 0.36)
    return ax


def plot_phase_bars(rates: xr.DataArray, humans: xr.DataArray, paper: xr.DataArray, *, ax=None) -> plt.Axes:
    """Per-phase learning rates from ``rates`` on (learner, replica, phase): each learner's mean ±
    s.e.m. over replicas, with the replicas as dots, beside the humans' and the paper's model's values
    (on phase)."""
    ax = _axes(ax)
    labels = rates["phase"].values
    learners = rates["learner"].values
    width = 0.8 / (len(learners) + 1)
    x = np.arange(len(labels))
    for j, learner in enumerate(learners):
        values = rates.sel(learner=learner).transpose("replica", "phase")
        mean, sem = _mean_sem(values)
        pos = x + (j - len(learners) / 2) * width
        ax.bar(pos, mean, width, yerr=sem, color=COLORS[learner], label=LABELS[learner], capsize=2)
        ax.scatter(np.repeat(pos[None], values.sizes["replica"], 0).ravel(), values.values.ravel(), s=4, color="k", zorder=3, lw=0)
    pos = x + (len(learners) / 2) * width
    ax.bar(pos, humans.sel(phase=labels), width, color=COLORS["human"], hatch="//", edgecolor="w",
           label="humans (Behrens 2007, spec)")
    ax.scatter(x, paper.sel(phase=labels), marker="_", s=300, color=COLORS["paper"], zorder=4, label="meta-RL in the paper (spec)")
    ax.set_xticks(x, labels)
    ax.set_ylabel("effective learning rate α")
    ax.set_ylim(0, max(0.6, ax.get_ylim()[1]))
    return ax


def plot_decoded_volatility(bayes: xr.DataArray, decoded: xr.DataArray, r: xr.DataArray, *, ax=None) -> plt.Axes:
    """The Bayesian posterior volatility and its cross-validated decoding from the units through the
    episode, from ``bayes`` and ``decoded`` on (replica, schedule, trial) (means over episodes; mean ±
    s.e.m. over replicas here), both schedules; ``r`` (on replica) in the title."""
    ax = _axes(ax)
    styles = {"stable-first": "-", "volatile-first": ":"}
    for schedule, ls in styles.items():
        b, _ = _mean_sem(bayes.sel(schedule=schedule))
        d, sem = _mean_sem(decoded.sel(schedule=schedule))
        x = bayes["trial"].values
        ax.plot(x, b, color=COLORS["bayes"], ls=ls, lw=1.4, label=f"Bayesian estimate, {schedule}")
        ax.plot(x, d, color=COLORS["agent"], ls=ls, lw=1.4, label=f"decoded from units, {schedule}")
        ax.fill_between(x, d - sem, d + sem, color=COLORS["agent"], alpha=0.2, lw=0)
    ax.set_title(f"d  volatility decoded from units (cross-validated r = {float(np.mean(r.values)):.2f})")
    note_band(ax, "band: ± s.e.m. over replicas")
    ax.set_xlabel("trial")
    ax.set_ylabel("posterior mean volatility")
    return ax


def plot_decoded_scatter(binned: xr.DataArray, *, ax=None) -> plt.Axes:
    """Decoded volatility binned by the Bayesian estimate, from ``binned`` on (replica, volatility_bin):
    one line per replica, identity dashed."""
    ax = _axes(ax)
    x = binned["volatility_bin"].values
    for k, row in enumerate(binned.transpose("replica", "volatility_bin").values):
        ax.plot(x, row, color=COLORS["agent"], alpha=0.5, lw=1, marker="o", ms=2, label="replicas" if k == 0 else None)
    ax.plot([0, x.max()], [0, x.max()], color="0.5", ls="--", lw=0.8, label="identity")
    ax.set_xlabel("Bayesian posterior volatility (bin centre)")
    ax.set_ylabel("decoded volatility (cross-validated)")
    return ax


def plot_unit_fraction(fraction: xr.DataArray, paper: float, *, ax=None) -> plt.Axes:
    """Fraction of units coding volatility per replica (``fraction`` on replica; dots), mean ± s.e.m.,
    beside the paper's value."""
    ax = _axes(ax)
    f = fraction.values
    mean, sem = _mean_sem(fraction)
    ax.bar([0], [mean], yerr=[sem], color=COLORS["agent"], width=0.5, capsize=3, label="meta-RL (ours)")
    ax.scatter(np.zeros(len(f)) + np.linspace(-0.12, 0.12, len(f)), f, s=10, color="k", zorder=3)
    ax.bar([1], [paper], color=COLORS["paper"], alpha=0.3, width=0.5, label="meta-RL in the paper (spec)")
    ax.set_xticks([0, 1], ["ours", "paper"])
    ax.set_ylim(0, 1)
    ax.set_ylabel("fraction of units coding volatility\n(Bonferroni P < 0.05)")
    return ax


def plot_fig3(ds: xr.Dataset, path_stem) -> list[Path]:
    """The whole Fig. 3 (six panels) from the numbers of ``neurometarl experiment sim2``."""
    with use_style():
        fig, axes = plt.subplots(2, 3, figsize=(14, 8))
        for ax, schedule, letter in ((axes[0, 0], "stable-first", "a"), (axes[0, 1], "volatile-first", "b")):
            plot_learning_rate_curves(ds["learning_rate"].sel(schedule=schedule), ds["volatile"].sel(schedule=schedule), ax=ax)
            ax.set_title(f"{letter}  effective learning rate, {schedule} schedule")
        axes[0, 0].legend(frameon=False, loc="upper left", ncol=2, fontsize=7)
        plot_phase_bars(ds["phase_rate"], ds["human_rates"], ds["paper_model_rates"], ax=axes[0, 2])
        axes[0, 2].set_title("c  learning rate by phase (10-trial windows)")
        axes[0, 2].legend(frameon=False, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2)
        plot_decoded_volatility(ds["bayes_volatility"], ds["decoded_volatility"], ds["decoding_r"], ax=axes[1, 0])
        axes[1, 0].legend(frameon=False, fontsize=7)
        plot_decoded_scatter(ds["binned_decoded"], ax=axes[1, 1])
        axes[1, 1].set_title("e  decoded vs Bayesian volatility")
        axes[1, 1].legend(frameon=False)
        fraction = ds["unit_fraction"].sel(regressor="volatility")
        plot_unit_fraction(fraction, float(ds["paper_volatility_unit_fraction"]), ax=axes[1, 2])
        axes[1, 2].set_title(f"f  units coding volatility ({100 * float(np.mean(fraction.values)):.0f}%)")
        fig.suptitle(f"Fig. 3 — learning rate adapts to volatility (weights frozen; {ds.sizes['replica']} replicas, "
                     f"{ds.attrs['n_test_episodes_per_schedule']} test episodes per schedule each)", fontsize=11)
        fig.tight_layout()
        paths = save_figure(fig, path_stem)
        plt.close(fig)
    return paths
