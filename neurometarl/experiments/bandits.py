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
ESTIMATES = ("mean", "lower", "upper")  # regret curves: mean over episodes and its 95% CI
AGENTS = {"meta-RL (trained correlated)": "correlated", "meta-RL (trained independent)": "independent"}


def analyse(ctx: Context) -> xr.Dataset:
    """Record ``n_test`` frozen episodes of (0.25, 0.75) per replica of each variant (pooled) and as many
    of the Bayes-optimal, Thompson and UCB1 players on the same episodes: regret curves (mean and 95% CI
    over episodes) on (player, estimate, trial) and the agents' regret at trial 100 on (agent, replica).
    From 500 correlated-bandit episodes of the first correlated-trained replica: the state's principal
    components (example trajectories, the trial-100 manifold and its Spearman ρ with p_L) and its reward
    beside the Bayes-optimal player's. Recordings go to ``recordings/``."""
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

    regret = np.array([[regret_curve(ds)[k].values for k in ESTIMATES] for ds in recordings.values()])
    per_replica = np.array([expected_regret(recordings[label]).isel(trial=-1).groupby("replica").mean().values
                            for label in AGENTS])

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
    pc = {"long_name": "state projected on a principal component", "units": "a.u."}
    return xr.Dataset(
        {"regret": (("player", "estimate", "trial"), regret, {"long_name": "cumulative expected regret", "units": "reward"}),
         "regret_per_replica": (("agent", "replica"), per_replica,
                                {"long_name": "cumulative expected regret at the last trial, mean over the replica's episodes", "units": "reward"}),
         "n_episodes": ("player", [ds.sizes["episode"] for ds in recordings.values()], {"long_name": "test episodes (pooled over replicas)", "units": "episodes"}),
         "explained_variance": ("component", pca.explained_variance_ratio_.values, {"long_name": "explained variance ratio", "units": "1"}),
         "trajectory_pc": (("example", "trial", "component"), pcs[examples], {**pc, "long_name": "single-episode state trajectory"}),
         "example_episode": ("example", examples, {"long_name": "episode of the state-space recording", "units": "1"}),
         "final_state_pc": (("episode", "component"), pcs[:, -1], {**pc, "long_name": "state at the last trial"}),
         "p_left": ("episode", p_left, {"long_name": "p_L", "units": "probability"}),
         "final_state_pc1_spearman_p_left": ((), rho, {"long_name": "Spearman ρ of the last trial's PC1 with p_L", "units": "1"}),
         "correlated_reward_per_trial": ("reward_player", [float(state["reward"].mean()), float(bayes["reward"].mean())],
                                         {"long_name": "reward per trial on the correlated bandit", "units": "reward"})},
        coords={"player": list(recordings), "estimate": list(ESTIMATES), "agent": list(AGENTS),
                "trial": ("trial", np.arange(1, regret.shape[-1] + 1), {"long_name": "trial", "units": "1"}),
                "replica": np.arange(per_replica.shape[1]), "component": [f"PC{i + 1}" for i in range(pcs.shape[-1])],
                "episode": np.arange(len(p_left)), "example": np.arange(len(examples)), "reward_player": ["agent", "bayes_optimal"]},
        attrs={"test_task": TEST_TASK, "regret_band": "95% CI over episodes (t)", "state_space_episodes": len(p_left)},
    )


def plot(ds: xr.Dataset, out_dir: Path) -> list[Path]:
    """Draw Fig. 1 (``fig1.png``/``.pdf``): example episodes, regret curves, single-episode PC
    trajectories and the trial-100 state manifold; also reads ``recordings/state_space.nc``."""
    state = load_recording(out_dir / "recordings" / "state_space.nc")
    examples = ds["example_episode"].values.tolist()
    with use_style():
        fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
        plot_raster(state, episodes=examples, ax=axes[0, 0],
                    title="c  example episodes, correlated-trained agent (filled: rewarded)")
        plot_regret(ds["regret"], ax=axes[0, 1], band=ds.attrs["regret_band"])
        axes[0, 1].set_title(f"d  regret on p = (0.25, 0.75), mean ± 95% CI ({ds.attrs['test_task']})")
        plot_trajectories(ds["trajectory_pc"], p_left=ds["p_left"].values[examples], ax=axes[1, 0])
        axes[1, 0].set_title("e  single-episode trajectories (colour: p_L)")
        plot_manifold(ds["final_state_pc"], ds["p_left"], ax=axes[1, 1])
        axes[1, 1].set_title(f"f  state at trial 100 (Spearman PC1 vs p_L = {float(ds['final_state_pc1_spearman_p_left']):.2f})")
        fig.suptitle("Fig. 1 — meta-RL on two-armed bandits (weights frozen)", fontsize=11)
        fig.tight_layout()
        paths = save_figure(fig, out_dir / "fig1")
        plt.close(fig)
    return paths


def _slug(label: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in label.lower()).strip("_")


def _regret(label):
    return lambda ds: float(ds["regret"].sel(player=label, estimate="mean").isel(trial=-1))


CORR, INDEP = AGENTS
ORDER = {"corr": CORR, "indep": INDEP, "Thompson": "Thompson", "UCB": "UCB1"}


def _agent_reward(ds):
    return float(ds["correlated_reward_per_trial"].sel(reward_player="agent"))


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
          lambda n: (abs(float(n["final_state_pc1_spearman_p_left"])), abs(float(n["final_state_pc1_spearman_p_left"])) >= 0.8)),
    Claim("near_bayes_reward", "reward per trial on correlated bandits relative to the Bayes-optimal player",
          "near-optimal", "≥ 0.72 a trial (Bayes-optimal ≈ 0.737)",
          lambda n: (_agent_reward(n), _agent_reward(n) >= 0.72)),
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
