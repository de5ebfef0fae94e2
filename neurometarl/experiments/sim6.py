"""Sim 6 (Fig. 7): dopamine's two roles — the rat risk task (Stopper et al. 2014) with optogenetics.

An actor-critic pair of LSTMs (the actor reads the critic's δ in place of reward) is trained by A2C on
the risk task (safe arm 1, risky arm 4 with p ∈ {0.125, 0.5} per episode, 5 forced pulls of each arm
then 20 free choices). With weights frozen, the δ fed to the actor is manipulated on chosen outcomes
(the lab's :mod:`neurometarl.lab.perturb`): block risky reward (δ − 4 when the risky arm pays), block
safe reward (δ − 1 when the safe arm is chosen), stimulate on risky loss (δ + 1 when the risky arm
fails). Percent risky choice over free trials is compared with control at each p, beside the rats.
"""

from __future__ import annotations

from pathlib import Path

import json

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from ..agents import TrainConfig
from ..figures.risk import plot_risky_choice
from ..figures.style import save_figure, use_style
from ..lab import Event, ShiftRPE, perturb, record_session, save_recording
from ..tasks import make_task
from .base import Claim, Context, Experiment, reference_table, register

PROBS = (0.5, 0.125)
CONDITIONS = {
    "control": (),
    "block risky reward": (ShiftRPE(-4.0, Event(action="risky_action", reward_min=4.0)),),
    "block safe reward": (ShiftRPE(-1.0, Event(action="safe_action", reward_min=0.0)),),
    "stimulate on risky loss": (ShiftRPE(+1.0, Event(action="risky_action", reward_min=0.0, reward_max=0.0)),),
}
MANIPULATIONS = tuple(CONDITIONS)[1:]


def percent_risky(ds) -> float:
    """Percent of free trials on which the risky arm was chosen."""
    free = ds["forced"].values == 0
    return float(100 * (ds["choice"].values == ds["risky_action"].values)[free].mean())


def analyse(ctx: Context) -> xr.Dataset:
    """Record every replica under each δ condition at both risky probabilities (frozen weights, the same
    episodes in every condition); return % risky choice on (condition, p, replica) beside the rats' and
    the paper model's."""
    n_test = ctx.sizes["n_test"]
    rec_dir = ctx.out_dir / "recordings"
    risky = np.empty((len(CONDITIONS), len(PROBS), len(ctx.subjects["risk"])))
    for replica, subject in enumerate(ctx.subjects["risk"]):
        for c, (condition, perturbations) in enumerate(CONDITIONS.items()):
            for j, p in enumerate(PROBS):
                task = make_task("risk", min(n_test, 500), risky_probs=(p,))
                played = perturb(subject, *perturbations) if perturbations else subject
                # same seed in every condition: the same episodes (risky side, payoffs) under each manipulation
                ds = record_session(played, task, n_test, seed=ctx.seed + 100 * replica + j, condition=condition)
                if replica == 0:
                    save_recording(ds, rec_dir / f"{condition.replace(' ', '_')}_p{p:g}.nc")
                risky[c, j, replica] = percent_risky(ds)
    published = {who: ctx.experiment.reference_values[who] for who in ("rats", "paper_model")}
    reference = {who: [[list(values[m][k]) for k in range(2)] for m in MANIPULATIONS] for who, values in published.items()}
    pct = {"units": "% of free trials"}
    return xr.Dataset(
        {"percent_risky": (("condition", "p", "replica"), risky, {"long_name": "risky choice, meta-RL agent", **pct}),
         "rats": (("manipulation", "phase", "p"), np.array(reference["rats"], float),
                  {"long_name": "risky choice, rats (Stopper et al. 2014, read off Wang et al. 2018 Fig. 7)", **pct}),
         "paper_model": (("manipulation", "phase", "p"), np.array(reference["paper_model"], float),
                         {"long_name": "risky choice, the paper's model (Wang et al. 2018 Fig. 7)", **pct})},
        coords={"condition": list(CONDITIONS), "p": ("p", list(PROBS), {"long_name": "risky arm's reward probability", "units": "1"}),
                "replica": np.arange(risky.shape[2]), "manipulation": list(MANIPULATIONS), "phase": ["control", "manipulated"]},
        attrs={"n_test_episodes": n_test, "conditions": json.dumps({c: [p.to_dict() for p in ps] for c, ps in CONDITIONS.items()})},
    )


def plot(ds: xr.Dataset, out_dir: Path) -> list[Path]:
    """Fig. 7: one panel per δ manipulation, % risky choice at each p, control vs manipulated, agent beside rats."""
    with use_style():
        fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), sharey=True)
        for ax, (letter, m) in zip(axes, zip("abc", MANIPULATIONS)):
            plot_risky_choice(ds, manipulation=m, ax=ax, title=f"{letter}  {m}")
            if letter != "a":
                ax.set_ylabel("")
        fig.suptitle(f"Fig. 7 — risky choice under δ manipulations with frozen weights "
                     f"(agent: mean ± s.e.m., {ds.sizes['replica']} replicas; rats: Stopper et al. 2014)", fontsize=10)
        fig.tight_layout()
        paths = save_figure(fig, out_dir / "fig7")
        plt.close(fig)
    return paths


def _pr(ds, condition, p):
    return float(ds["percent_risky"].sel(condition=condition, p=p).mean("replica"))


def _change(ds, m, p):
    """'control → manipulation (change)' in % risky, like the paper's pairs, and the signed change."""
    shift = _pr(ds, m, p) - _pr(ds, "control", p)
    return f"{_pr(ds, 'control', p):.1f} → {_pr(ds, m, p):.1f} ({shift:+.1f} points)", shift


def reference_tables(ds: xr.Dataset) -> list[dict]:
    """The report's reference rows: rats, the paper's model and ours, control vs each manipulation."""
    rows = {}
    for m in MANIPULATIONS:
        for who, label in (("rats", "rats (Stopper et al. 2014)"), ("paper_model", "the paper's model")):
            rows[f"{label}: {m}"] = ds[who].sel(manipulation=m).values.ravel().tolist()
        rows[f"meta-RL agent, ours: {m}"] = [_pr(ds, c, p) for c in ("control", m) for p in PROBS]
    return [reference_table("% risky choices, control vs dopamine manipulation",
                            ["control p=0.5", "control p=0.125", "perturbed p=0.5", "perturbed p=0.125"], rows)]


CLAIMS = (
    Claim("block_risky_lowers_risky_at_0.5", "blocking δ when the risky arm pays lowers risky choice at p = 0.5",
          "90 → 43 (rats 75 → 54)", "drop ≥ 15 points",
          lambda n: (_change(n, "block risky reward", 0.5)[0], -_change(n, "block risky reward", 0.5)[1] >= 15)),
    Claim("block_safe_raises_risky_at_0.125", "blocking δ when the safe arm is chosen raises risky choice at p = 0.125",
          "29 → 59 (rats 27 → 43)", "rise ≥ 10 points",
          lambda n: (_change(n, "block safe reward", 0.125)[0], _change(n, "block safe reward", 0.125)[1] >= 10)),
    Claim("stimulate_loss_raises_risky_at_0.125", "stimulating δ when the risky arm fails raises risky choice at p = 0.125",
          "28 → 49 (rats 28 → 50)", "rise ≥ 10 points",
          lambda n: (_change(n, "stimulate on risky loss", 0.125)[0], _change(n, "stimulate on risky loss", 0.125)[1] >= 10)),
    Claim("control_preferences", "controls prefer the risky arm at p = 0.5 and the safe arm at p = 0.125",
          "≈90% / ≈28% risky", "> 50% at 0.5 and < 50% at 0.125",
          lambda n: (f"{_pr(n, 'control', 0.5):.1f}% / {_pr(n, 'control', 0.125):.1f}%",
                     _pr(n, "control", 0.5) > 50 and _pr(n, "control", 0.125) < 50)),
)

SIM6 = register(Experiment(
    name="sim6",
    title="Dopamine's two roles: risk task with δ manipulations (Wang et al. 2018 Fig. 7, Sim 6)",
    # 64,000 episodes × 60 steps ≈ 3.8 × 10⁶ steps (paper: 4 × 10⁶); γ 0.9 and the trainer's batched defaults
    train={"risk": TrainConfig(task="risk", architecture="actor-critic", train_episodes=64_000)},
    analyse=analyse, plot=plot, claims=CLAIMS, n_seeds=8,
    description=__doc__,
    # test episodes per replica, condition and risky probability (8 replicas pool 2,400, above the paper's 1,333)
    sizes={"n_test": 300},
    references=reference_tables,
    reference_values={
        # Stopper et al. 2014 rats, % risky at p = 0.5 / 0.125: (control, manipulated) (read off Wang Fig. 7 [fig])
        "rats": {"block risky reward": ((75, 25), (54, 23)), "block safe reward": ((65, 27), (65, 43)),
                 "stimulate on risky loss": ((67, 28), (68, 50))},
        # the paper's model, same layout
        "paper_model": {"block risky reward": ((90, 28), (43, 25)), "block safe reward": ((94, 29), (98, 59)),
                        "stimulate on risky loss": ((88, 28), (88, 49))},
    },
))
