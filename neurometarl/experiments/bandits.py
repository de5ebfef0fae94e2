"""Fig. 1: meta-RL on two-armed bandits — regret against baselines, and the learned algorithm's state space.

Agents trained on correlated and on independent arms are tested with weights frozen on the fixed
problem (0.25, 0.75) beside the Bayes-optimal player, Thompson sampling and UCB1, all on the same
episodes (same seed). The state of a correlated-trained agent is projected on its principal components.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from scipy import stats

from ..agents import TrainConfig
from ..analysis.bandits import expected_regret, regret_curve
from ..analysis.geometry import PopulationPCA
from ..figures.bandits import plot_manifold, plot_raster, plot_regret, plot_trajectories
from ..figures.style import save_figure, use_style
from ..lab import load_recording, record_session, save_recording
from ..models import make_baseline
from .base import Claim, Context, Experiment, register

TEST_TASK = "bandit-fixed"
BASELINES = {"Bayes-optimal (indep. prior)": ("bayes-optimal", {"prior": "independent"}),
             "Thompson": ("thompson", {}), "UCB1": ("ucb", {})}
AGENTS = {"meta-RL (trained correlated)": "correlated", "meta-RL (trained independent)": "independent"}


def analyse(ctx: Context) -> dict:
    """Record ``n_test`` frozen episodes of (0.25, 0.75) per replica of each variant (pooled) and as many
    of the Bayes-optimal, Thompson and UCB1 players on the same episodes: regret curves and regret at trial
    100 (also per replica). From 500 correlated-bandit episodes of the first correlated-trained replica:
    the state's principal components (example trajectories, the trial-100 manifold and its Spearman ρ with
    p_L) and its reward beside the Bayes-optimal player's. Recordings go to ``recordings/``."""
    rec_dir = ctx.out_dir / "recordings"
    recordings: dict[str, xr.Dataset] = {}
    for label, variant in AGENTS.items():
        # seeds are replicas: pool their test episodes (each replica its own seed offset)
        n_test = ctx.sizes["n_test"]
        parts = [record_session(s, TEST_TASK, n_test, seed=ctx.seed + i) for i, s in enumerate(ctx.subjects[variant])]
        recordings[label] = xr.concat(parts, "episode", combine_attrs="override").assign_coords(
            episode=np.arange(sum(p.sizes["episode"] for p in parts)), replica=("episode", np.repeat(np.arange(len(parts)), n_test)))
    n_pooled = recordings[next(iter(AGENTS))].sizes["episode"]
    for label, (name, params) in BASELINES.items():
        recordings[label] = record_session(make_baseline(name, **params), TEST_TASK, n_pooled, seed=ctx.seed)
    for label, ds in recordings.items():
        save_recording(ds, rec_dir / f"{_slug(label)}.nc")

    curves = {label: {k: regret_curve(ds)[k].values for k in ("mean", "lower", "upper")} for label, ds in recordings.items()}
    per_replica = {label: expected_regret(recordings[label]).isel(trial=-1).groupby("replica").mean().values
                   for label in AGENTS}

    # state space of the first correlated-trained replica on the correlated training distribution
    state = record_session(ctx.subjects["correlated"][0], "bandit-correlated", 500, seed=ctx.seed + 100)
    save_recording(state, rec_dir / "state_space.nc")
    pca = PopulationPCA(3).fit(state)
    pcs = pca.transform(state).values  # (episode, step, component)
    p_left = state["reward_prob"].isel(trial=0, arm=0).values
    rho = stats.spearmanr(pcs[:, -1, 0], p_left).statistic
    # agent reward on the correlated distribution vs the Bayes-optimal player on the same episodes
    bayes = record_session(make_baseline("bayes-optimal"), "bandit-correlated", 500, seed=ctx.seed + 100)
    examples = [int(np.argmin(np.abs(p_left - q))) for q in (0.1, 0.35, 0.65, 0.9)]
    return {
        "test_task": TEST_TASK,
        "n_test_episodes_per_subject": {label: int(ds.sizes["episode"]) for label, ds in recordings.items()},
        "regret_curves": curves,
        "regret_at_trial_100": {label: float(c["mean"][-1]) for label, c in curves.items()},
        "regret_at_trial_100_per_replica": {k: v.tolist() for k, v in per_replica.items()},
        "raster_episodes": examples,
        "pca_explained_variance": pca.explained_variance_ratio_.values.tolist(),
        "trajectories_pc": pcs[examples].tolist(),
        "trajectories_p_left": p_left[examples].tolist(),
        "final_state_pc": pcs[:, -1, :2].tolist(),
        "final_state_p_left": p_left.tolist(),
        "final_state_pc1_spearman_p_left": float(rho),
        "correlated_reward_per_trial": {"agent": float(state["reward"].mean()), "bayes_optimal": float(bayes["reward"].mean())},
    }


def plot(numbers: dict, out_dir: Path) -> list[Path]:
    """Draw Fig. 1 (``fig1.png``/``.pdf``): example episodes, regret curves, single-episode PC
    trajectories and the trial-100 state manifold; also reads ``recordings/state_space.nc``."""
    state = load_recording(out_dir / "recordings" / "state_space.nc")
    with use_style():
        fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
        plot_raster(state, episodes=numbers["raster_episodes"], ax=axes[0, 0],
                    title="c  example episodes, correlated-trained agent (filled: rewarded)")
        plot_regret(numbers["regret_curves"], ax=axes[0, 1])
        axes[0, 1].set_title(f"d  regret on p = (0.25, 0.75), mean ± 95% CI ({numbers['test_task']})")
        plot_trajectories(np.array(numbers["trajectories_pc"]), p_left=np.array(numbers["trajectories_p_left"]), ax=axes[1, 0])
        axes[1, 0].set_title("e  single-episode trajectories (colour: p_L)")
        plot_manifold(np.array(numbers["final_state_pc"]), np.array(numbers["final_state_p_left"]), ax=axes[1, 1])
        axes[1, 1].set_title(f"f  state at trial 100 (Spearman PC1 vs p_L = {numbers['final_state_pc1_spearman_p_left']:.2f})")
        fig.suptitle("Fig. 1 — meta-RL on two-armed bandits (weights frozen)", fontsize=11)
        fig.tight_layout()
        paths = save_figure(fig, out_dir / "fig1")
        plt.close(fig)
    return paths


def _slug(label: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in label.lower()).strip("_")


def _regret(label):
    return lambda n: n["regret_at_trial_100"][label]


CORR, INDEP = AGENTS
ORDER = {"corr": CORR, "indep": INDEP, "Thompson": "Thompson", "UCB": "UCB1"}


def _ordering(n):
    values = [_regret(label)(n) for label in ORDER.values()]
    text = ", ".join(f"{short} {v:.2f}" for short, v in zip(ORDER, values))
    return text, bool(np.all(np.diff(values) > 0))


CLAIMS = (
    Claim("regret_correlated", "correlated-trained agent's regret at trial 100 on (0.25, 0.75)",
          "≈1.2", "≤ 1.5", lambda n: (_regret(CORR)(n), _regret(CORR)(n) <= 1.5)),
    Claim("independent_beats_thompson_ucb", "independent-trained agent's regret below Thompson's and UCB's",
          "≈2.1 vs 2.9 and 3.1", "indep < Thompson and indep < UCB",
          lambda n: (f"{_regret(INDEP)(n):.2f} vs {_regret('Thompson')(n):.2f}, {_regret('UCB1')(n):.2f}",
                     _regret(INDEP)(n) < min(_regret("Thompson")(n), _regret("UCB1")(n)))),
    Claim("regret_ordering", "ordering meta-RL(corr) < meta-RL(indep) < Thompson < UCB",
          "Gittins ≲ corr < indep < Thompson < UCB", "strictly increasing", lambda n: _ordering(n)),
    Claim("manifold_ordered_by_p", "state at trial 100 lies on a 1-D manifold ordered by p_L",
          "qualitative (Fig. 1f)", "|Spearman(PC1, p_L)| ≥ 0.8",
          lambda n: (abs(n["final_state_pc1_spearman_p_left"]), abs(n["final_state_pc1_spearman_p_left"]) >= 0.8)),
    Claim("near_bayes_reward", "reward per trial on correlated bandits relative to the Bayes-optimal player",
          "near-optimal", "≥ 0.72 a trial (Bayes-optimal ≈ 0.737)",
          lambda n: (n["correlated_reward_per_trial"]["agent"], n["correlated_reward_per_trial"]["agent"] >= 0.72)),
)

FIG1 = register(Experiment(
    name="fig1",
    title="Meta-RL on bandits: regret and state space (Wang et al. 2018 Fig. 1)",
    # independent arms reward exploration whose payoff lies further ahead: γ 0.95 and 3× the episodes
    # (γ 0.9: regret 3.6 on (0.25, 0.75), worse than Thompson; γ 0.95, 192k episodes: 1.96; γ 0.98: 1.44
    # but only 0.84 of Bayes-optimal reward on its own training distribution)
    train={"correlated": TrainConfig(task="bandit-correlated"),
           "independent": TrainConfig(task="bandit-independent", gamma=0.95, train_episodes=192_000)},
    analyse=analyse, plot=plot, claims=CLAIMS, n_seeds=4,
    description=__doc__,
    sizes={"n_test": 300},  # test episodes per replica
))
