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
from scipy import stats

from ..agents import AgentSubject, TrainConfig, build_agent, load_checkpoint
from ..figures.harlow import plot_learning_set, plot_monkeys, plot_trial2_over_training
from ..figures.style import save_figure, use_style
from ..lab import record_session, save_recording
from ..models.harlow import ObjectValueLearner, ideal_one_shot_learner
from .base import Claim, Context, Experiment, mean_sem, reference_table, register

#: test episodes per replica, training point and object pool
VARIANTS = {"abstract": ("harlow", "harlow-held-out"), "pixel": ("harlow-pixel", "harlow-pixel-held-out")}
POOLS = ("held-out", "train")
#: Harlow's monkeys, trial-2 % correct by block of problems (Harlow 1949, 1950; spec [fig])
HARLOW_MONKEYS = {"first problems": 50, "1–100": 82, "101–200": 87, "257–312": 97}


def percent_correct_by_trial(ds) -> np.ndarray:
    """(n_trials,) % of episodes choosing the rewarded object on each trial."""
    return 100 * (ds["choice"] == ds["correct_action"]).mean("episode").values


def _training_points(checkpoint: Path) -> list[tuple[float, AgentSubject]]:
    """(fraction of training, subject) for the untrained network, every snapshot, and the final weights."""
    ckpt = load_checkpoint(checkpoint)
    cfg = ckpt.config
    points = [(0.0, AgentSubject(build_agent(cfg), cfg.gamma, name="untrained"))]
    for path in sorted((Path(checkpoint) / "snapshots").glob("iter*.pt")):
        snap = load_checkpoint(path)
        if snap.iteration < ckpt.iteration:
            points.append((snap.iteration / cfg.n_iterations, AgentSubject(snap.agent, cfg.gamma, name=str(path))))
    points.append((ckpt.iteration / cfg.n_iterations, AgentSubject.from_checkpoint(checkpoint)))
    return points


def analyse(ctx: Context) -> dict:
    """For each variant (abstract, pixel) and replica, record ``n_test`` episodes on held-out and on training
    objects at every training point (untrained, each snapshot, final): % correct by trial per point and pool
    (mean ± s.e.m. over replicas, each replica's final curve), the RW-per-object and ideal one-shot baselines
    on held-out objects, and Harlow's monkeys. The first replica's final sessions go to ``recordings/``."""
    n_test, rec_dir = ctx.sizes["n_test"], ctx.out_dir / "recordings"
    numbers: dict = {"n_test_episodes": n_test, "variants": {}}
    for variant, paths in ctx.checkpoints.items():
        tasks = dict(zip(POOLS, VARIANTS[variant][::-1]))
        per_point: dict[float, dict[str, list]] = {}
        for replica, path in enumerate(paths):
            for fraction, subject in _training_points(path):
                key = round(fraction, 3)
                for j, pool in enumerate(POOLS):
                    ds = record_session(subject, tasks[pool], n_test, seed=ctx.seed + 100 * replica + j)
                    if replica == 0 and fraction == 1.0:
                        save_recording(ds, rec_dir / f"{variant}_{pool}_final.nc")
                    per_point.setdefault(key, {p: [] for p in POOLS})[pool].append(percent_correct_by_trial(ds).tolist())
        points = sorted(k for k, v in per_point.items() if len(v["held-out"]) == len(paths))
        summary = {"progress": points}
        for pool in POOLS:
            rows = [np.array(per_point[k][pool]) for k in points]  # each (replica, trial)
            summary[pool] = {
                "mean": [r.mean(0).tolist() for r in rows],
                "sem": [[mean_sem(r[:, t])[1] for t in range(r.shape[1])] for r in rows],
                "final_per_replica": rows[-1].tolist(),
            }
        numbers["variants"][variant] = summary
    held_out_task = VARIANTS[next(iter(ctx.checkpoints))][1]
    n_base = n_test * max(len(p) for p in ctx.checkpoints.values())
    numbers["baselines"] = {
        s.name: percent_correct_by_trial(record_session(s, held_out_task, n_base, seed=ctx.seed)).tolist()
        for s in (ObjectValueLearner(0.5, 3.0), ideal_one_shot_learner())}
    numbers["harlow_monkeys_trial2"] = HARLOW_MONKEYS
    return numbers


def plot(numbers: dict, out_dir: Path) -> list[Path]:
    """Draw Fig. 6 (``fig6.png``/``.pdf``): per variant, learning-set curves on held-out and
    training objects at each training point and trial-2 % correct over training; Harlow's monkeys."""
    variants = numbers["variants"]
    with use_style():
        fig, axes = plt.subplots(len(variants), 4, figsize=(15, 3.6 * len(variants)), squeeze=False)
        for row, (variant, v) in enumerate(variants.items()):
            labels = ["untrained" if p == 0 else f"{100 * p:.0f}%" for p in v["progress"]]
            for col, pool in enumerate(POOLS):
                curves = {lab: {"mean": m, "sem": s} for lab, m, s in zip(labels, v[pool]["mean"], v[pool]["sem"])}
                plot_learning_set(curves, baselines=numbers["baselines"] if pool == "held-out" else None,
                                  ax=axes[row, col], title=f"{'abcefg'[3 * row + col]}  {variant}: {pool} objects")
            series = {pool: {"mean": [m[1] for m in v[pool]["mean"]], "sem": [s[1] for s in v[pool]["sem"]]} for pool in POOLS}
            final_trial2 = [r[1] for r in v["held-out"]["final_per_replica"]]
            at_ceiling = sum(t >= 90 for t in final_trial2)
            plot_trial2_over_training(v["progress"], series, ax=axes[row, 2],
                                      title=f"{'cg'[row]}  {variant}: learning set forms over training\n"
                                            f"({at_ceiling} of {len(final_trial2)} replicas reach ≥ 90% on trial 2)")
        plot_monkeys(numbers["harlow_monkeys_trial2"], ax=axes[0, 3], title="d  Harlow's monkeys (Harlow 1949, 1950)")
        for ax in axes[1:, 3]:  # the monkeys' panel is shared by every row
            ax.axis("off")
        n_rep = len(next(iter(variants.values()))["held-out"]["final_per_replica"])
        fig.suptitle(f"Fig. 6 — Harlow learning sets: % correct by trial, weights frozen at points of training "
                     f"(mean ± s.e.m., {n_rep} replicas)", fontsize=10)
        fig.tight_layout()
        paths = save_figure(fig, out_dir / "fig6")
        plt.close(fig)
    return paths


def _final(n, variant, pool="held-out"):
    return n["variants"][variant][pool]["mean"][-1]


def _rises(n, variant):
    trial2 = [m[1] for m in n["variants"][variant]["held-out"]["mean"]]
    rho = stats.spearmanr(n["variants"][variant]["progress"], trial2).statistic if len(trial2) > 2 else float("nan")
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


def reference_tables(n) -> list[dict]:
    """The report's reference rows: animals, humans and the paper's model beside ours."""
    monkeys = n["harlow_monkeys_trial2"]
    ours = {f"meta-RL agent, {variant} objects, ours (held-out)": [v["held-out"]["mean"][0][1], v["held-out"]["mean"][-1][1]]
            for variant, v in n["variants"].items()}
    return [reference_table("Harlow's monkeys: % correct on trial 2, by block of problems", list(monkeys),
                   {"monkeys (Harlow 1949, 1950)": list(monkeys.values())}),
            reference_table("% correct on trial 2, start vs end of learning", ["start", "end"],
                   {"monkeys (Harlow 1949, 1950)": [list(monkeys.values())[0], list(monkeys.values())[-1]], **ours})]


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
))
