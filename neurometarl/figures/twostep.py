"""Fig. 5 (Sim 4): two-step stay bars, lagged regression and RPE scatters, drawn from the Sim 4 numbers.

The stay and lag panels hand one group's variables (agents, baselines, rats: their own dims, real
standard errors) to the plotting functions of :mod:`neurometarl.analysis.behaviour`, under the names
those read, so agents, baselines and rats look alike.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from ..analysis.behaviour import STAY_KEYS, plot_lag_regression, plot_stay_probabilities
from .style import PALETTE, save_figure, use_style


def _subjects(da: xr.DataArray) -> str:
    """The dim of ``da`` that runs over subjects (replica, rat, ...)."""
    return str(next(d for d in da.dims if d not in ("transition", "outcome", "trial_type", "lag")))


def plot_stay(stay: xr.DataArray, *, ax=None, title: str = ""):
    """Stay bars (mean ± s.e.m. over subjects) from one group's P(stay) on (subjects, transition, outcome)."""
    dim = _subjects(stay)
    ax = plot_stay_probabilities(stay.rename({dim: "subject"}).to_dataset(name="stay_prob"), ax=ax)
    ax.set_ylabel("P(stay)" if stay.attrs["units"] == "1" else f"P(stay) ({stay.attrs['units']})")
    ax.set_title(f"{title} (n = {stay.sizes[dim]})")
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    return ax


def plot_lags(coef: xr.DataArray, se: xr.DataArray, *, ax=None, title: str = ""):
    """Lag-regression weights (mean ± s.e.m. over subjects, every subject's fit) from one group's ``coef``
    and ``se`` on (subjects, trial_type, lag), each panel on its own scale."""
    dim = _subjects(coef)
    ds = xr.Dataset({"coef": coef, "se": se}).rename({dim: "subject"})
    ax = plot_lag_regression(ds, ax=ax)
    top = np.nanmax(np.abs(coef.mean(dim).values))
    ax.set_ylabel(f"weight ({coef.attrs['units']})")
    ax.set_title(f"{title} (n = {coef.sizes[dim]})")
    ax.set_ylim(-1.25 * top, 1.25 * top)
    ax.legend(frameon=False, ncol=2, fontsize=7)
    return ax


def plot_rpe_scatter(sample: xr.DataArray, r2: xr.DataArray, *, signal: str, ax=None, title: str = ""):
    """The agent's RPE against ``signal`` (a model's RPE) at the sampled trials of each event, with the
    pooled r² (mean over replicas) from ``r2`` on (replica, event, model)."""
    ax = ax or plt.gca()
    for event, color in (("arrival", PALETTE[0]), ("reward", PALETTE[1])):
        points = sample.sel(sample_event=event)
        ax.scatter(points.sel(signal=signal), points.sel(signal="agent"), s=4, alpha=0.4, lw=0, color=color, label=f"at {event}")
    value = float(np.mean(r2.sel(event="pooled", model=signal).values))
    ax.text(0.04, 0.96, f"r² = {value:.3g} (mean of {r2.sizes['replica']} seeds)", transform=ax.transAxes, va="top")
    ax.set_xlabel(f"{signal} RPE ({sample.attrs['units']})")
    ax.set_ylabel(f"agent RPE δ ({sample.attrs['units']})")
    ax.set_title(title)
    ax.legend(frameon=False, loc="lower right", markerscale=3)
    return ax


def plot_fig5(ds: xr.Dataset, stem: Path) -> list[Path]:
    """The Fig. 5 panels: stay bars (agent, agent on the rat protocol, MF, MB, rats), lag regression
    (agent vs rats), RPE scatters against the model-based RPE and the model-free residual, and the
    mean stay probabilities by protocol."""
    agent = ds["agent_stay"]
    with use_style():
        fig, axes = plt.subplots(2, 5, figsize=(17, 7))
        baselines = ds["baseline_stay"]["baseline"].values
        panels = [(agent.sel(protocol="twostep"), "a  meta-RL agent"),
                  (ds["baseline_stay"].sel(baseline=baselines[0]), f"b  {baselines[0]}"),
                  (ds["baseline_stay"].sel(baseline=baselines[1]), f"c  {baselines[1]}"),
                  (agent.sel(protocol="twostep-rat"), "d  agent, rat protocol"),
                  (ds["rat_stay"], "e  rats (Miller data)")]
        for ax, (stay, title) in zip(axes[0], panels):
            plot_stay(stay, ax=ax, title=title)
            ax.set_ylim(0, 1.22)
            ax.set_yticks(np.linspace(0, 1, 6))
        axes[0, 0].legend(title="previous transition", frameon=False, loc="upper center", ncol=2)
        # each panel on its own scale: the agent's near-deterministic stays give log-odds weights ~10× the rats'
        plot_lags(ds["agent_lag_coef"], ds["agent_lag_se"], ax=axes[1, 0], title="f  agent: regression weights")
        plot_lags(ds["rat_lag_coef"], ds["rat_lag_se"], ax=axes[1, 1], title="g  rats: regression weights")
        seed = f" (seed {ds.attrs['rpe_sample_replica']})"
        plot_rpe_scatter(ds["rpe_sample"], ds["rpe_r2"], signal="model-based", ax=axes[1, 2], title="h  agent vs model-based RPE" + seed)
        plot_rpe_scatter(ds["rpe_sample"], ds["rpe_r2"], signal="model-free residual", ax=axes[1, 3],
                         title="i  agent vs model-free residual" + seed)
        ax = axes[1, 4]
        rows = {"agent (Wang protocol)": agent.sel(protocol="twostep").mean("replica"),
                "agent, Daw protocol": agent.sel(protocol="twostep-daw").mean("replica"),
                "agent, rat protocol": agent.sel(protocol="twostep-rat").mean("replica"),
                "rats": ds["rat_stay"].mean("rat"), "humans (hBayesDM ts)": ds["human_stay"].mean("human")}
        width = 0.16
        for j, (label, m) in enumerate(rows.items()):
            values = [float(m.sel(transition=k.split("_")[0], outcome=k.split("_")[1])) for k in STAY_KEYS]
            ax.bar(np.arange(4) + (j - 2) * width, values, width, label=label, color=PALETTE[j])
        ax.set_xticks(np.arange(4), ["CR", "RR", "CU", "RU"])
        ax.set_ylim(0, 1.45)
        ax.set_yticks(np.linspace(0, 1, 6))
        ax.set_ylabel(axes[0, 0].get_ylabel())
        ax.set_title("j  stay probabilities by protocol (means)")
        ax.legend(frameon=False, fontsize=6.5, loc="upper center", ncol=2)
        fig.suptitle("Fig. 5 — two-step task: model-based behaviour and RPEs (weights frozen)", fontsize=11)
        fig.tight_layout()
        paths = save_figure(fig, stem)
        plt.close(fig)
    return paths
