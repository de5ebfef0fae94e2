"""The emergence figure: learning curves, regret, learning gain, fitted learning rates, unit
coding and the distribution-shift likelihood ratios, per memory architecture and ablation.

Every function draws from the experiment's saved numbers (labelled DataArrays of ``numbers.nc``), never from a live model.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib import ticker
import numpy as np
import xarray as xr

from .style import PALETTE, save_figure, use_style

#: colour and line style per condition: memory architectures in colour, ablations in grey
STYLES = {"lstm": (PALETTE[0], "-"), "gru": (PALETTE[1], "-"), "rnn": (PALETTE[2], "-"), "attention": (PALETTE[3], "-"),
          "feedforward": ("0.35", "--"), "fixed": ("0.55", "-."), "lesion": ("0.7", ":")}
SHORT = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN", "attention": "attention", "feedforward": "feed-fwd",
         "fixed": "fixed", "lesion": "lesion"}
#: colour, line style and width of the reference players
REFERENCE_STYLES = {"bayes-optimal": ("k", "-", 0.9), "random": ("k", ":", 0.9)}


def _label(da: xr.DataArray) -> str:
    return da.attrs.get("long_name", da.name or "")


def plot_learning_curves(reward_by_trial: xr.DataArray, *, labels: dict | None = None, ax=None, smooth: int = 5) -> plt.Axes:
    """Reward by trial (mean over replicas, running mean over ``smooth`` trials) per condition, with the
    Bayes-optimal and random players on the same episodes, from reward on (player, replica, trial)
    (players not among the conditions or those two are left out); ``labels``: legend label per player."""
    ax = ax or plt.gca()
    kernel = np.ones(smooth) / smooth
    trials = reward_by_trial["trial"].values
    players = [p for p in reward_by_trial["player"].values if p in STYLES or p in REFERENCE_STYLES]
    for p in players:
        color, style, lw = (*STYLES[p], 1.3) if p in STYLES else REFERENCE_STYLES[p]
        mean = reward_by_trial.sel(player=p).mean("replica").values
        ax.plot(trials[smooth - 1:], np.convolve(mean, kernel, "valid"), style, color=color, lw=lw, label=(labels or {}).get(p, p))
    ax.axvspan(1, 10, color="0.93", zorder=0)
    ax.axvspan(51, 100, color="0.96", zorder=0)
    ax.set(xlabel=reward_by_trial["trial"].attrs.get("long_name", "trial"),
           ylabel=f"{reward_by_trial.attrs.get('units', 'reward')} (running mean of {smooth} trials)", xlim=(1, 100), ylim=(0.22, 0.82))
    ax.text(5.5, 0.80, "1–10", ha="center", fontsize=7, color="0.4")
    ax.text(75, 0.80, "51–100", ha="center", fontsize=7, color="0.4")
    ax.legend(loc="lower right", ncol=2, frameon=False, fontsize=6.5, columnspacing=1.0, handlelength=2.2)
    return ax


def _bars(ax, values: xr.DataArray, *, log: bool = False):
    """Bars (mean over replicas) and dots (replicas) per condition, from values on (player or condition, replica)."""
    dim = values.dims[0]
    names = [c for c in values[dim].values if c in STYLES]
    for i, c in enumerate(names):
        v = values.sel({dim: c}).values
        ax.bar(i, v.mean(), color=STYLES[c][0], alpha=0.75, width=0.7)
        ax.plot(np.full(v.size, i) + np.linspace(-0.15, 0.15, v.size), v, "o", ms=2.5, color="k")
    ax.set_xticks(range(len(names)), [SHORT[c] for c in names], rotation=40, ha="right")
    if log:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(ticker.FixedLocator([0.5, 1, 2, 5, 10, 20, 50]))
        ax.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    return names


def plot_regret(regret: xr.DataArray, *, ax=None) -> plt.Axes:
    """Expected regret at trial 100 per condition (bars: mean; dots: replicas), Bayes-optimal and random as
    lines, from regret on (player, replica)."""
    ax = ax or plt.gca()
    _bars(ax, regret, log=True)
    for name, (_, style, _) in REFERENCE_STYLES.items():
        ax.axhline(regret.sel(player=name).values.mean(), color="k", ls=style, lw=0.9, label=name)
    ax.set_ylabel(_label(regret))
    ax.legend(frameon=False, fontsize=7, loc="upper left")
    return ax


def expected_gain(ds: xr.Dataset, prefix: str = "") -> tuple[xr.DataArray, xr.DataArray | None]:
    """The within-episode gain per (player or ``ppo_variant``, replica) and its 95 % interval per player:
    that of the expected reward where the numbers have it (``by_episode``, ``interval``), else the rewards'."""
    if f"{prefix}by_episode" not in ds:
        return ds[f"{prefix}gain"], None
    return (ds[f"{prefix}by_episode"].sel(statistic="gain").mean("episode"),
            ds[f"{prefix}interval"].sel(statistic="gain"))


def plot_gain(gain: xr.DataArray, *, interval: xr.DataArray | None = None, ax=None) -> plt.Axes:
    """Within-episode learning: reward in trials 51–100 minus trials 1–10 per condition, from gain on
    (player, replica); with ``interval`` (player, bound) a line for each condition's 95 % interval. Dashed:
    the learning claims' margin (0.05); dotted: the flat claims' (0.03)."""
    ax = ax or plt.gca()
    names = _bars(ax, gain)
    if interval is not None:
        for i, name in enumerate(names):
            ax.plot([i, i], interval.sel(player=name).values, color="k", lw=1.6, solid_capstyle="butt")
    ax.axhline(0, color="k", lw=0.6)
    ax.axhline(0.05, color="k", ls="--", lw=0.6)
    ax.axhline(0.03, color="k", ls=":", lw=0.6)
    ax.set_ylabel(f"{'expected ' if interval is not None else ''}reward 51–100 − 1–10")
    return ax


def plot_learning_rates(alpha: xr.DataArray, *, loglik_difference: xr.DataArray | None = None, ax=None) -> plt.Axes:
    """Fitted Rescorla–Wagner learning rate α per condition, from α on (condition, replica); above each bar
    the mean of ``loglik_difference`` (Bayes observer − RW log likelihood per choice, on (condition, replica))."""
    ax = ax or plt.gca()
    names = _bars(ax, alpha)
    ax.set_ylabel(_label(alpha).replace("fitted Rescorla–Wagner", "fitted RW"))
    top = float(alpha.max())
    ax.set_ylim(0, top * 1.35)
    if loglik_difference is not None:
        for i, c in enumerate(names):
            ax.text(i, top * 1.22, f"{loglik_difference.sel(condition=c).values.mean():+.2f}", ha="center", fontsize=6)
        ax.text(-0.6, top * 1.31, "log L per choice, Bayes observer − RW:", fontsize=6, va="bottom")
    return ax


def plot_units(fraction: xr.DataArray, *, ax=None) -> plt.Axes:
    """Fraction of units coding each regressor (the correlated observer's belief, the previous choice and the
    previous reward) per condition, from fractions on (condition, replica, regressor)."""
    ax = ax or plt.gca()
    names = list(fraction["condition"].values)
    regressors = list(fraction["regressor"].values)
    width = 0.8 / len(regressors)
    for j, reg in enumerate(regressors):
        means = [np.mean(fraction.sel(condition=c, regressor=reg).values) for c in names]
        ax.bar(np.arange(len(names)) + (j - (len(regressors) - 1) / 2) * width, means, width, color=PALETTE[4 + j],
               label=reg.replace("_", " "))
    ax.set_xticks(range(len(names)), [SHORT[c] for c in names], rotation=40, ha="right")
    ax.set(ylabel="fraction of units (Bonferroni)", ylim=(0, 1.15))
    ax.legend(frameon=False, fontsize=6.5, ncol=3, loc="upper center")
    return ax


def plot_shift(log_lr_per_choice: xr.DataArray, *, interval: xr.DataArray | None = None, ideal: xr.DataArray | None = None,
               reward_ratio: xr.DataArray | None = None, ax=None) -> plt.Axes:
    """Log likelihood ratio per choice, training-distribution observer vs test-distribution observer, from
    values on (shift, replica): bars at the mean, dots per replica; ``interval`` (on (shift, bound)): its
    95 % interval as a line; ``ideal`` (on (shift, replica, observer)): what ideal training and test
    observers would score, as ticks; ``reward_ratio`` (on (shift, replica)): the agent's reward over the
    test distribution's Bayes-optimal player's, its mean written beside each bar."""
    ax = ax or plt.gca()
    shifts = list(log_lr_per_choice["shift"].values)
    for i, s in enumerate(shifts):
        v = log_lr_per_choice.sel(shift=s).values
        ax.barh(i, v.mean(), color=PALETTE[0] if v.mean() > 0 else PALETTE[3], alpha=0.75, height=0.6)
        ax.plot(v, np.full(v.size, i) + np.linspace(-0.12, 0.12, v.size), "o", ms=2.5, color="k")
        if interval is not None:
            ax.plot(interval.sel(shift=s).values, [i, i], color="k", lw=1.6, solid_capstyle="butt")
        if ideal is not None:
            for observer, marker in (("train", ">"), ("test", "<")):
                ax.plot(float(ideal.sel(shift=s, observer=observer).mean()), i - 0.38, marker, ms=4, color="0.35")
        if reward_ratio is not None:
            ax.text(1.02, i, f"reward {np.mean(reward_ratio.sel(shift=s).values):.2f}× test Bayes",
                    transform=ax.get_yaxis_transform(), va="center", fontsize=6.5)
    ax.axvline(0, color="k", lw=0.6)
    ax.set_yticks(range(len(shifts)), shifts)
    ax.invert_yaxis()
    label = f"log LR per choice, {log_lr_per_choice.attrs.get('units', 'nats')} (> 0: training observer wins)"
    if interval is not None or ideal is not None:
        label += "\n" + "; ".join([*(["line: 95 % interval"] if interval is not None else []),
                                   *(["▸ ◂: ideal training / test observer"] if ideal is not None else [])])
    ax.set_xlabel(label)
    return ax


def plot_emergence(ds: xr.Dataset, path_stem: str | Path) -> list[Path]:
    """The six-panel emergence figure from the emergence experiment's numbers, written as ``<path_stem>.png`` and ``.pdf``."""
    gain, gain_interval = expected_gain(ds)
    with use_style():
        fig, axes = plt.subplots(2, 3, figsize=(15, 8.2), gridspec_kw={"width_ratios": (1.45, 1, 1)})
        panels = ((lambda ax: plot_learning_curves(ds["reward_by_trial"], labels=json.loads(ds.attrs["labels"]), ax=ax),
                   "a  within-episode learning, weights frozen"),
                  (lambda ax: plot_regret(ds["regret"], ax=ax), "b  regret at trial 100 (correlated bandit)"),
                  (lambda ax: plot_gain(gain, interval=gain_interval, ax=ax),
                   "c  learning gain (line: 95 % interval; claim margins)"),
                  (lambda ax: plot_learning_rates(ds["rw_alpha"], loglik_difference=ds["bayes_loglik_per_choice"] - ds["rw_loglik_per_choice"],
                                                  ax=ax), "d  fitted learning rate"),
                  (lambda ax: plot_units(ds["unit_fraction"], ax=ax), "e  unit coding at the choice step"),
                  (lambda ax: plot_shift(ds["log_lr_per_choice"], interval=ds.get("shift_interval"), ideal=ds.get("shift_ideal"),
                                         reward_ratio=ds["shift_reward"] / ds["shift_bayes_reward"], ax=ax),
                   "f  distribution shift: whose observer?"))
        for ax, (draw, title) in zip(axes.flat, panels):
            draw(ax)
            ax.set_title(title)
        fig.suptitle(f"Emergence of within-episode learning ({ds.sizes['replica']} replicas × "
                     f"{ds.attrs['n_test_episodes_per_replica']} test episodes per condition)", fontsize=11)
        fig.tight_layout()
        paths = save_figure(fig, path_stem)
        plt.close(fig)
    return paths


def _over_progress(da: xr.DataArray, ax, color, label: str | None = None, **kwargs) -> None:
    """Each replica thin, their mean thick, against the fraction of training (``progress``)."""
    x = da["progress"].values
    for replica in da["replica"].values:
        ax.plot(x, da.sel(replica=replica).values, color=color, lw=0.6, alpha=0.45, **kwargs)
    ax.plot(x, da.mean("replica").values, color=color, lw=1.8, label=label, **kwargs)


def plot_two_rates(inner: xr.DataArray, outer: xr.DataArray, *, ax=None) -> plt.Axes:
    """The inner learner's α per test phase (on (replica, phase)) beside the outer learner's weight change
    per episode on all-stable and all-volatile episodes (on (replica, outer_condition)), on one log axis:
    bars at the mean, dots per replica."""
    ax = ax or plt.gca()
    columns = [(f"inner α\n{p}", inner.sel(phase=p).values, PALETTE[3] if p.startswith("volatile") else PALETTE[0])
               for p in inner["phase"].values]
    columns += [(f"outer\n{c}", outer.sel(outer_condition=c).values, "0.45") for c in outer["outer_condition"].values]
    for i, (_, v, color) in enumerate(columns):
        ax.bar(i, v.mean(), color=color, alpha=0.75, width=0.7)
        ax.plot(np.full(v.size, i) + np.linspace(-0.15, 0.15, v.size), v, "o", ms=2.5, color="k")
    ax.set_xticks(range(len(columns)), [c[0] for c in columns], fontsize=7)
    ax.set(yscale="log", ylabel="rate: α per trial (inner), ‖Δθ‖/‖θ‖ per episode (outer)")
    return ax


def plot_ppo(ds: xr.Dataset, *, ax=None) -> plt.Axes:
    """Within-episode gain of each core trained by A2C and by PPO (:func:`expected_gain`): paired bars,
    dots per replica."""
    ax = ax or plt.gca()
    names = [str(v).removesuffix("-ppo") for v in ds["ppo_variant"].values]
    a2c, ppo = expected_gain(ds)[0], expected_gain(ds, "ppo_")[0]
    for i, name in enumerate(names):
        for offset, values, hatch, label in ((-0.2, a2c.sel(player=name).values, None, "A2C"),
                                             (0.2, ppo.sel(ppo_variant=f"{name}-ppo").values, "//", "PPO")):
            ax.bar(i + offset, values.mean(), width=0.38, color=STYLES[name][0], alpha=0.75, hatch=hatch,
                   edgecolor="k" if hatch else None, lw=0.3, label=label if i == 0 else None)
            ax.plot(np.full(values.size, i + offset), values, "o", ms=2.5, color="k")
    ax.axhline(0.05, color="k", ls="--", lw=0.6)
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xticks(range(len(names)), [SHORT[n] for n in names])
    ax.set(ylabel=f"within-episode gain, {'expected ' if 'by_episode' in ds else ''}reward 51–100 − 1–10")
    ax.legend(frameon=False, fontsize=7)
    return ax


def plot_timeline(ds: xr.Dataset, path_stem: str | Path) -> list[Path]:
    """The timeline of emergence (``timeline_*`` variables on (replica, progress)), written as
    ``<path_stem>.png`` and ``.pdf``: the inner learner's gain beside the training reward, its regret, the
    two learners' rates, the belief's decodability, gain against training reward, the rise points,
    (with ``inner_rate``/``outer_rate``) the two rates on the volatility protocol and (with ``ppo_gain``)
    the gains of the cores trained by PPO beside A2C's."""
    rises = ds["timeline_rise"]
    t50, t90 = float(rises.sel(rise="gain t50").median()), float(rises.sel(rise="training reward t90").median())
    with use_style():
        fig, axes = plt.subplots(2, 4, figsize=(18, 7.6))
        if "ppo_gain" in ds:
            plot_ppo(ds, ax=axes[1, 3])
            axes[1, 3].set_title("h  trained by PPO vs A2C")
        else:
            fig.delaxes(axes[1, 3])
        if "inner_rate" in ds:
            plot_two_rates(ds["inner_rate"], ds["outer_rate"], ax=axes[0, 3])
            axes[0, 3].set_title("g  volatility protocol: inner vs outer rate")
        ax = axes[0, 0]
        _over_progress(ds["timeline_gain"], ax, PALETTE[0], label="gain (frozen test)")
        curve = ds["timeline_training_curve"]
        twin = ax.twinx()
        twin.plot(curve["iteration"].values / curve.sizes["iteration"], curve.mean("replica").values, color="0.5", lw=1)
        twin.set_ylabel("training reward per trial (grey)")
        for t, style, text, height in ((t50, "--", "gain t50", 0.99), (t90, ":", "reward t90", 0.92)):
            ax.axvline(t, color="k", ls=style, lw=0.8)
            ax.text(t, height, f" {text} (median)", transform=ax.get_xaxis_transform(), fontsize=6.5, va="top")
        ax.set(xlabel="fraction of outer training", ylabel=_label(ds["timeline_gain"]).split(",")[0])
        ax.set_title("a  inner learner's gain and the outer reward")

        ax = axes[0, 1]
        _over_progress(ds["timeline_regret"], ax, PALETTE[3])
        ax.set(xlabel="fraction of outer training", ylabel="expected regret at trial 100", yscale="log")
        ax.set_title("b  regret of the frozen network")

        ax = axes[0, 2]
        _over_progress(ds["timeline_rw_alpha"], ax, PALETTE[2], label="inner: RW α, per trial")
        _over_progress(ds["timeline_weight_change"], ax, "0.3", label="outer: ‖Δθ‖/‖θ‖ per episode")
        ax.set(xlabel="fraction of outer training", ylabel="learning rate", yscale="log")
        ax.legend(frameon=False, fontsize=7)
        ax.set_title("c  two learners, two rates")

        ax = axes[1, 0]
        _over_progress(ds["timeline_belief_r2"], ax, PALETTE[1])
        ax.set(xlabel="fraction of outer training", ylabel="R² of the Bayes belief from units")
        ax.set_title("d  the belief becomes decodable")

        ax = axes[1, 1]
        for replica in ds["replica"].values:
            sc = ax.scatter(ds["timeline_training_reward"].sel(replica=replica), ds["timeline_gain"].sel(replica=replica),
                            c=ds["progress"].values, cmap="viridis", s=12)
        fig.colorbar(sc, ax=ax, label="fraction of outer training")
        ax.set(xlabel="training reward per trial", ylabel="within-episode gain")
        ax.set_title("e  gain against the outer reward")

        ax = axes[1, 2]
        for i, rise in enumerate(ds["rise"].values):
            v = rises.sel(rise=rise).values
            ax.plot(v, np.full(v.size, i) + np.linspace(-0.15, 0.15, v.size), "o", ms=4, color=PALETTE[i])
            ax.plot([np.median(v)] * 2, [i - 0.3, i + 0.3], color="k", lw=1.5)
        ax.set_yticks(range(ds.sizes["rise"]), ds["rise"].values)
        ax.invert_yaxis()
        ax.set(xlabel="fraction of outer training (dots: replicas, bar: median)", xlim=(0, 1))
        ax.set_title("f  rise points")
        fig.suptitle(f"The timeline of emergence (a–f: LSTM on the correlated bandit, {ds.sizes['replica']} replicas, "
                     f"{ds.sizes['progress']} training points); two learners' rates (g); A2C and PPO (h)", fontsize=11)
        fig.tight_layout()
        paths = save_figure(fig, path_stem)
        plt.close(fig)
    return paths
