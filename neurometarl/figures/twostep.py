"""Fig. 5 (Sim 4): two-step stay bars, lagged regression and RPE scatters, drawn from ``numbers.json``.

The stay and lag panels rebuild the datasets of :mod:`neurometarl.analysis.behaviour` from the saved
numbers and draw them with its own plotting functions, so agents, baselines and rats look alike.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from ..analysis.behaviour import plot_lag_regression, plot_stay_probabilities
from .style import PALETTE, save_figure, use_style


def stay_dataset(stay_prob, subjects=None) -> xr.Dataset:
    """(subject, transition, outcome) stay probabilities as the dataset :func:`plot_stay_probabilities` reads."""
    p = np.asarray(stay_prob, float)
    subjects = subjects if subjects is not None else [str(i) for i in range(len(p))]
    return xr.Dataset({"stay_prob": (("subject", "transition", "outcome"), p, {"long_name": "P(stay)", "units": "1"})},
                      coords={"subject": list(subjects), "transition": ["common", "rare"], "outcome": ["rewarded", "unrewarded"]})


def lag_dataset(coef, trial_types) -> xr.Dataset:
    """(subject, trial_type, lag) coefficients as the dataset :func:`plot_lag_regression` reads."""
    c = np.asarray(coef, float)
    ds = xr.Dataset({"coef": (("subject", "trial_type", "lag"), c, {"long_name": "weight", "units": "log-odds"}),
                     "se": (("subject", "trial_type", "lag"), np.zeros_like(c), {"long_name": "s.e.", "units": "log-odds"})},
                    coords={"subject": np.arange(len(c)), "trial_type": list(trial_types), "lag": np.arange(1, c.shape[2] + 1)})
    return ds


def plot_stay(stay: dict, *, ax=None, title: str = ""):
    """Stay bars (mean ± s.e.m. over subjects) from one entry of ``numbers['stay']``."""
    ax = plot_stay_probabilities(stay_dataset(stay["stay_prob"]), ax=ax)
    n = len(stay["stay_prob"])
    ax.set_title(f"{title} (n = {n})")
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    return ax


def plot_fig5(numbers: dict, stem: Path) -> list[Path]:
    """The Fig. 5 panels: stay bars (agent, agent on the rat protocol, MF, MB, rats), lag regression
    (agent vs rats), RPE scatters against the model-based RPE and the model-free residual."""
    stay = numbers["stay"]
    with use_style():
        fig, axes = plt.subplots(2, 5, figsize=(17, 7))
        panels = [("agent", "a  meta-RL agent"), ("mf", "b  model-free SARSA(λ=1)"), ("mb", "c  model-based"),
                  ("agent_rat_protocol", "d  agent, rat protocol"), ("rats", "e  rats (Miller data)")]
        for ax, (key, title) in zip(axes[0], panels):
            plot_stay(stay[key], ax=ax, title=title)
            ax.set_ylim(0, 1.22)
            ax.set_yticks(np.linspace(0, 1, 6))
        axes[0, 0].legend(title="previous transition", frameon=False, loc="upper center", ncol=2)
        lags = numbers["lags"]
        # each panel on its own scale: the agent's near-deterministic stays give log-odds weights ~10× the rats'
        for ax, key, title in ((axes[1, 0], "agent_coef", "f  agent: regression weights"), (axes[1, 1], "rats_coef", "g  rats: regression weights")):
            plot_lag_regression(lag_dataset(lags[key], lags["trial_type"]), ax=ax)
            top = np.nanmax(np.abs(np.nanmean(np.asarray(lags[key], float), 0)))
            ax.set_title(f"{title} (n = {len(lags[key])})")
            ax.set_ylim(-1.25 * top, 1.25 * top)
            ax.legend(frameon=False, ncol=2, fontsize=7)
        points = numbers["rpe_points_replica0"]
        r2 = numbers["rpe"]
        for ax, key, label, title in ((axes[1, 2], "mb", "model-based RPE", "h  agent vs model-based RPE"),
                                      (axes[1, 3], "mf_residual", "model-free RPE, residual", "i  agent vs model-free residual")):
            for event, color in (("arrival", PALETTE[0]), ("reward", PALETTE[1])):
                ax.scatter(points[event][key], points[event]["agent"], s=4, alpha=0.4, lw=0, color=color, label=f"at {event}")
            value = float(np.mean(r2["pooled"]["r2_mb" if key == "mb" else "r2_mf_residual"]))
            ax.text(0.04, 0.96, f"r² = {value:.3g} (mean of {numbers['n_replicas']} seeds)", transform=ax.transAxes, va="top")
            ax.set_xlabel(label)
            ax.set_ylabel("agent RPE δ")
            ax.set_title(title + " (seed 0)")
            ax.legend(frameon=False, loc="lower right", markerscale=3)
        ax = axes[1, 4]
        keys = ("common_rewarded", "rare_rewarded", "common_unrewarded", "rare_unrewarded")
        rows = {"agent (Wang protocol)": stay["agent"]["mean"], "agent, Daw protocol": stay["agent_daw_protocol"]["mean"],
                "agent, rat protocol": stay["agent_rat_protocol"]["mean"], "rats": stay["rats"]["summary"],
                "humans (hBayesDM ts)": stay["humans_hbayesdm"]["summary"]}
        width = 0.16
        for j, (label, m) in enumerate(rows.items()):
            ax.bar(np.arange(4) + (j - 2) * width, [m[k] for k in keys], width, label=label, color=PALETTE[j])
        ax.set_xticks(np.arange(4), ["CR", "RR", "CU", "RU"])
        ax.set_ylim(0, 1.45)
        ax.set_yticks(np.linspace(0, 1, 6))
        ax.set_ylabel("P(stay)")
        ax.set_title("j  stay probabilities by protocol (means)")
        ax.legend(frameon=False, fontsize=6.5, loc="upper center", ncol=2)
        fig.suptitle("Fig. 5 — two-step task: model-based behaviour and RPEs (weights frozen)", fontsize=11)
        fig.tight_layout()
        paths = save_figure(fig, stem)
        plt.close(fig)
    return paths
