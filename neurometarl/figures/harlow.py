"""Fig. 6 panels: Harlow learning-set curves across training, baselines and Harlow's monkeys."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from .style import PALETTE


def _mean_sem(da: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
    """Mean and s.e.m. over ``replica`` (s.e.m. 0 for one replica)."""
    n = da.sizes["replica"]
    return da.mean("replica"), (da.std("replica", ddof=1) / np.sqrt(n) if n > 1 else xr.zeros_like(da.mean("replica")))


def _point_label(fraction: float) -> str:
    return "untrained" if fraction == 0 else f"{100 * fraction:.0f}%"


def plot_learning_set(correct: xr.DataArray, *, baselines: xr.DataArray | None = None, ax=None, title: str = ""):
    """% correct by trial within a problem (mean ± s.e.m. over replicas), one line per point of training.

    Parameters
    ----------
    correct : % correct on (progress, replica, trial) (Sim 5's ``percent_correct`` of one variant and pool).
    baselines : % correct on (baseline, trial), drawn as dashed grey lines, or None.
    """
    ax = ax or plt.gca()
    colours = plt.get_cmap("viridis")(np.linspace(0.1, 0.9, correct.sizes["progress"]))
    for colour, fraction in zip(colours, correct["progress"].values):
        mean, sem = _mean_sem(correct.sel(progress=fraction))
        ax.errorbar(correct["trial"], mean, yerr=sem, color=colour, marker="o", ms=3, lw=1.3, capsize=2,
                    label=_point_label(fraction))
    if baselines is not None:
        for name, style in zip(baselines["baseline"].values, ("--", ":", "-.")):
            ax.plot(baselines["trial"], baselines.sel(baseline=name), style, color="0.35", lw=1.2, label=str(name).split(" (")[0])
    ax.axhline(50, color="0.7", lw=0.8, ls=":")
    ax.set_xticks(correct["trial"].values)
    ax.set_xlabel(correct["trial"].attrs.get("long_name", "trial"))
    ax.set_ylabel(correct.attrs.get("units", "% correct"))
    ax.set_ylim(0, 102)
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=6, loc="lower right", ncol=3, columnspacing=0.8, handlelength=1.5)
    return ax


def plot_trial2_over_training(correct: xr.DataArray, *, ax=None, title: str = ""):
    """Trial-2 % correct (mean ± s.e.m. over replicas) against the training done, one line per object pool,
    from % correct on (progress, pool, replica, trial)."""
    ax = ax or plt.gca()
    for colour, pool in zip((PALETTE[0], PALETTE[1], PALETTE[2]), correct["pool"].values):
        mean, sem = _mean_sem(correct.sel(pool=pool, trial=2))
        ax.errorbar(100 * correct["progress"], mean, yerr=sem, color=colour, marker="o", ms=3, capsize=2, label=str(pool))
    ax.axhline(50, color="0.7", lw=0.8, ls=":")
    ax.set_xlabel(f"{correct['progress'].attrs.get('long_name', 'training done')} (%)")
    ax.set_ylabel(f"trial-2 {correct.attrs.get('units', '% correct')}")
    ax.set_ylim(0, 102)
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=7, loc="lower right")
    return ax


def plot_monkeys(trial2: xr.DataArray, *, ax=None, title: str = ""):
    """Harlow's monkeys: trial-2 % correct over blocks of problems, from a DataArray on ``block``."""
    ax = ax or plt.gca()
    x = np.arange(trial2.sizes["block"])
    ax.plot(x, trial2.values, marker="s", color=PALETTE[3], lw=1.3)
    for xi, v in zip(x, trial2.values):
        ax.annotate(f"{v:g}", (xi, v), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=7)
    ax.axhline(50, color="0.7", lw=0.8, ls=":")
    ax.set_xticks(x, [str(b) for b in trial2["block"].values], rotation=20)
    ax.set_xlabel("problems")
    ax.set_ylabel(f"trial-2 {trial2.attrs.get('units', '% correct')}")
    ax.set_ylim(0, 102)
    ax.set_title(title)
    return ax
