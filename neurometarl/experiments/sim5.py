"""Sim 5 (Fig. 6): learning to learn — the Harlow task (Harlow 1949 learning sets).

A recurrent agent is trained by A2C on Harlow problems (two objects new to each episode, one rewarded,
6 trials of fixation + choice) drawn from a training pool of objects, in two observation modes:
``abstract`` (objects as random feature vectors) and ``pixel`` (a rendered 1 × 16 × 32 screen read by a
small conv encoder). Weight snapshots kept at evenly spaced points of training are tested with weights
frozen on training objects and on a disjoint held-out pool: % correct by trial 1–6 at each point gives
the learning-set curves. Beside them: a Rescorla–Wagner learner per object that solves every problem
from scratch, the ideal one-shot learner, and Harlow's monkeys.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from scipy import stats

from ..agents import TrainConfig
from ..figures.harlow import plot_learning_set, plot_monkeys, plot_trial2_over_training
from ..figures.style import save_figure, use_style
from ..lab import record_session, save_recording
from ..models.harlow import ObjectValueLearner, ideal_one_shot_learner
from .base import Claim, Context, Experiment, reference_table, register, training_points

#: test episodes per replica, training point and object pool
VARIANTS = {"abstract": ("harlow", "harlow-held-out"), "pixel": ("harlow-pixel", "harlow-pixel-held-out")}
POOLS = ("held-out", "train")


def percent_correct_by_trial(ds) -> np.ndarray:
    """(n_trials,) % of episodes choosing the rewarded object on each trial."""
    return 100 * (ds["choice"] == ds["correct_action"]).mean("episode").values


def analyse(ctx: Context) -> xr.Dataset:
    """For each variant (abstract, pixel) and replica, record ``n_test`` episodes on held-out and on training
    objects at every training point (untrained, each snapshot, final): % correct by trial on (variant,
    progress, pool, replica, trial); the RW-per-object and ideal one-shot baselines on held-out objects;
    Harlow's monkeys. The first replica's final sessions go to ``recordings/``."""
    n_test, rec_dir = ctx.sizes["n_test"], ctx.out_dir / "recordings"
    variants = []
    for variant, paths in ctx.checkpoints.items():
        tasks = dict(zip(POOLS, VARIANTS[variant][::-1]))
        per_point: dict[float, dict[str, list]] = {}
        for replica, path in enumerate(paths):
            for fraction, subject in training_points(path):
                key = round(fraction, 3)
                for j, pool in enumerate(POOLS):
                    ds = record_session(subject, tasks[pool], n_test, seed=ctx.seed + 100 * replica + j)
                    if replica == 0 and fraction == 1.0:
                        save_recording(ds, rec_dir / f"{variant}_{pool}_final.nc")
                    per_point.setdefault(key, {p: [] for p in POOLS})[pool].append(percent_correct_by_trial(ds))
        points = sorted(k for k, v in per_point.items() if len(v["held-out"]) == len(paths))
        values = np.array([[per_point[k][pool] for pool in POOLS] for k in points])  # (progress, pool, replica, trial)
        variants.append(xr.DataArray(values, dims=("progress", "pool", "replica", "trial"),
                                     coords={"progress": points, "pool": list(POOLS)}).expand_dims(variant=[variant]))
    correct = xr.concat(variants, dim="variant", join="outer")  # NaN where a variant lacks a training point
    held_out_task = VARIANTS[next(iter(ctx.checkpoints))][1]
    n_base = n_test * max(len(p) for p in ctx.checkpoints.values())
    baselines = (ObjectValueLearner(0.5, 3.0), ideal_one_shot_learner())
    baseline = [percent_correct_by_trial(record_session(b, held_out_task, n_base, seed=ctx.seed)) for b in baselines]
    pct = {"units": "% correct"}
    return xr.Dataset(
        {"percent_correct": (correct.dims, correct.values, {"long_name": "choices of the rewarded object, meta-RL agent", **pct}),
         "baseline_percent_correct": (("baseline", "trial"), np.array(baseline),
                                      {"long_name": "choices of the rewarded object, baseline on held-out objects", **pct}),
         "monkeys_trial2": ("block", list(ctx.experiment.reference_values["harlow_monkeys_trial2"].values()),
                            {"long_name": "Harlow's monkeys, trial 2 (Harlow 1949, 1950)", **pct})},
        coords={"variant": correct["variant"].values, "pool": list(POOLS), "replica": np.arange(correct.sizes["replica"]),
                "progress": ("progress", correct["progress"].values, {"long_name": "training done", "units": "fraction"}),
                "trial": ("trial", np.arange(1, correct.sizes["trial"] + 1), {"long_name": "trial within problem", "units": "1"}),
                "baseline": [b.name for b in baselines], "block": list(ctx.experiment.reference_values["harlow_monkeys_trial2"])},
        attrs={"n_test_episodes": n_test},
    )


def plot(ds: xr.Dataset, out_dir: Path) -> list[Path]:
    """Draw Fig. 6 (``fig6.png``/``.pdf``): per variant, learning-set curves on held-out and
    training objects at each training point and trial-2 % correct over training; Harlow's monkeys."""
    with use_style():
        fig, axes = plt.subplots(ds.sizes["variant"], 4, figsize=(15, 3.6 * ds.sizes["variant"]), squeeze=False)
        for row, variant in enumerate(ds["variant"].values):
            correct = ds["percent_correct"].sel(variant=variant).dropna("progress", how="all")
            for col, pool in enumerate(POOLS):
                plot_learning_set(correct.sel(pool=pool), baselines=ds["baseline_percent_correct"] if pool == "held-out" else None,
                                  ax=axes[row, col], title=f"{'abcefg'[3 * row + col]}  {variant}: {pool} objects")
            final_trial2 = correct.isel(progress=-1).sel(pool="held-out", trial=2)
            plot_trial2_over_training(correct, ax=axes[row, 2],
                                      title=f"{'cg'[row]}  {variant}: learning set forms over training\n"
                                            f"({int((final_trial2 >= 90).sum())} of {final_trial2.size} replicas reach ≥ 90% on trial 2)")
        plot_monkeys(ds["monkeys_trial2"], ax=axes[0, 3], title="d  Harlow's monkeys (Harlow 1949, 1950)")
        for ax in axes[1:, 3]:  # the monkeys' panel is shared by every row
            ax.axis("off")
        fig.suptitle(f"Fig. 6 — Harlow learning sets: % correct by trial, weights frozen at points of training "
                     f"(mean ± s.e.m., {ds.sizes['replica']} replicas)", fontsize=10)
        fig.tight_layout()
        paths = save_figure(fig, out_dir / "fig6")
        plt.close(fig)
    return paths


def _curve(ds, variant, pool="held-out") -> xr.DataArray:
    """Mean % correct over replicas on (progress, trial), the variant's training points only."""
    return ds["percent_correct"].sel(variant=variant, pool=pool).dropna("progress", how="all").mean("replica")


def _final(n, variant, pool="held-out"):
    return _curve(n, variant, pool).isel(progress=-1).values.tolist()


def _rises(n, variant):
    curve = _curve(n, variant)
    trial2 = curve.sel(trial=2).values.tolist()
    progress = curve["progress"].values.tolist()
    rho = stats.spearmanr(progress, trial2).statistic if len(trial2) > 2 else float("nan")
    text = f"trial 2 {trial2[0]:.0f}% → {trial2[-1]:.0f}% (Spearman {rho:.2f})"
    return text, trial2[0] < 65 and trial2[-1] >= 90 and rho >= 0.8


def _claims(variant: str) -> tuple[Claim, ...]:
    return (
        Claim(f"{variant}_trial1_chance", f"{variant}: trial 1 on held-out objects at chance after training",
              "≈53%", "45–55%", lambda n: (_final(n, variant)[0], 45 <= _final(n, variant)[0] <= 55)),
        Claim(f"{variant}_trial2_one_shot", f"{variant}: trial 2 on held-out objects after training (one-shot learning)",
              "≈97%", "≥ 90%", lambda n: (_final(n, variant)[1], _final(n, variant)[1] >= 90)),
        Claim(f"{variant}_learning_set_rises", f"{variant}: trial-2 accuracy rises across training from chance to one-shot, "
              "like Harlow's monkeys over problems (≈50% → 97%)", "chance → ≈97%",
              "first point < 65%, final ≥ 90%, Spearman(progress, trial 2) ≥ 0.8", lambda n: _rises(n, variant)),
    )


def reference_tables(ds: xr.Dataset) -> list[dict]:
    """The report's reference rows: Harlow's monkeys beside ours, trial-2 % correct at the start and end of learning."""
    monkeys = ds["monkeys_trial2"]
    ours = {f"meta-RL agent, {v} objects, ours (held-out)": [float(_curve(ds, v).sel(trial=2)[i]) for i in (0, -1)]
            for v in ds["variant"].values}
    return [reference_table("Harlow's monkeys: % correct on trial 2, by block of problems", list(monkeys["block"].values),
                            {"monkeys (Harlow 1949, 1950)": monkeys.values.tolist()}),
            reference_table("% correct on trial 2, start vs end of learning", ["start", "end"],
                            {"monkeys (Harlow 1949, 1950)": [float(monkeys[0]), float(monkeys[-1])], **ours})]


SIM5 = register(Experiment(
    name="sim5",
    title="Learning to learn: Harlow learning sets (Wang et al. 2018 Fig. 6, Sim 5)",
    # batched A2C (see TrainConfig): lr 1e-2 held constant (as the paper's RMSProp; annealed to 0, replicas
    # still rising were frozen on a partial solution) and β_e 0.05 → 0; the paper's Sim 5 overrides γ 0.91
    # and β_v 0.4; a 128-unit LSTM (paper: 256 after the conv encoder). 512k episodes: replicas leave the
    # win-stay-only plateau at unpredictable points (128k left 3 of 8 in each mode on it; docs/sim5.md).
    # 6 snapshots place points on the rise.
    train={
        "abstract": TrainConfig(task="harlow", n_units=128, gamma=0.91, value_coef=0.4, anneal_lr=False,
                                train_episodes=512_000, snapshots=6),
        # pixels: a fixed random conv "retina" per slot, each slot's code minus the mean over slots (trained encoders
        # collapsed their object codes under A2C; fixed codes without the contrast stayed at chance for 192k episodes)
        "pixel": TrainConfig(task="harlow-pixel", encoder="conv-contrast", n_units=128, gamma=0.91, value_coef=0.4,
                             anneal_lr=False, train_episodes=512_000, snapshots=6),
    },
    analyse=analyse, plot=plot, claims=_claims("abstract") + _claims("pixel"), n_seeds=8,
    description=__doc__,
    sizes={"n_test": 300},  # test episodes per replica, variant and pool
    references=reference_tables,
    # Harlow's monkeys, trial-2 % correct by block of problems (Harlow 1949, 1950; spec [fig])
    reference_values={"harlow_monkeys_trial2": {"first problems": 50, "1–100": 82, "101–200": 87, "257–312": 97}},
))
