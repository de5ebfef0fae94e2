"""Sim 2 (Fig. 3): the learning rate adapts to volatility — the human task of Behrens et al. 2007.

Replicas trained on the two-level volatility generator are tested with weights frozen on the two
200-trial schedules (stable-first, volatile-first), 200 episodes each. Beside them on the same
schedules: the Bayesian volatility observer (:class:`neurometarl.models.VolatilityObserver`, the exact
filter of the training generator) and a fixed-rate Rescorla–Wagner learner
(:class:`neurometarl.models.BehrensLearner`, α = 0.25), each simulated as one replica per agent
replica. Analyses (spec Sim 2):

(a) the Bayesian observer run on each agent's own trials gives the posterior mean volatility;
(b) that estimate is decoded from the 48 units by ridge regression, cross-validated over episodes;
(c) effective learning rate in sliding 10-trial windows (values run over all earlier trials), pooled
    over the episodes of each schedule, for the agent, the observer and the fixed-rate control;
(d) per unit, activity at the choice step regressed on the true volatility (volatile phase 1 / stable
    0) with the previous reward, the upcoming action and the true reward probability as covariates;
    slopes counted at P < 0.05, Bonferroni over the units.

Phase labels follow the spec: stable-1 and volatile-1 are the two phases of the stable-first
schedule, volatile-2 and stable-2 those of the volatile-first schedule. A phase's learning rate is
the mean over the windows lying entirely inside it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr
from scipy import stats
from sklearn.model_selection import cross_val_predict

from ..agents import TrainConfig
from ..analysis import (
    decode,
    episode_folds,
    fraction_significant,
    make_decoder,
    unit_regression,
)
from ..analysis.align import activity
from ..lab import record_session
from ..models import BehrensLearner, VolatilityObserver
from .base import Claim, Context, Experiment, mean_sem, reference_table, register
from .episode_fits import window_learning_rates

SCHEDULES = {"stable-first": "volatility-stable-first", "volatile-first": "volatility-volatile-first"}
#: (label, schedule, phase) in the order of the paper's bars
PHASES = (("stable-1", "stable-first", 0), ("volatile-1", "stable-first", 1),
          ("volatile-2", "volatile-first", 1), ("stable-2", "volatile-first", 0))
#: spec Sim 2, read off Fig. 3 [fig]
HUMAN_RATES = {"stable-1": 0.07, "volatile-1": 0.19, "volatile-2": 0.21, "stable-2": 0.10}
PAPER_MODEL_RATES = {"stable-1": 0.21, "volatile-1": 0.46, "volatile-2": 0.51, "stable-2": 0.28}
PAPER_VOLATILITY_UNITS = 0.37
FIXED_RW = {"alpha": 0.25, "beta": 0.15}  # the control's true learning rate; β per point of magnitude
BAYES_BETA = 0.15  # softmax of the simulated observer (per point of expected value)
WINDOW, WINDOW_STEP = 10, 2
SUBJECTS = ("agent", "bayes", "fixed_rw")


def phase_rates(lr: xr.Dataset, volatile: np.ndarray) -> dict[int, float]:
    """Mean window learning rate over the windows entirely inside each phase (0 stable, 1 volatile)."""
    window = int(lr.attrs["window"])
    starts = lr["window_start"].to_numpy()
    out = {}
    for phase in (0, 1):
        inside = np.array([(volatile[w : w + window] == phase).all() for w in starts])
        out[phase] = float(lr["alpha"].to_numpy()[inside].mean())
    return out


def _rates(recordings: dict[str, xr.Dataset]) -> tuple[dict, dict]:
    """Window learning-rate curves per schedule and the four phase rates of one replica."""
    curves, phases = {}, {}
    for schedule, ds in recordings.items():
        lr = window_learning_rates(ds, window=WINDOW, step=WINDOW_STEP)
        curves[schedule] = lr["alpha"].to_numpy().tolist()
        by_phase = phase_rates(lr, ds["volatile"].isel(episode=0).to_numpy())
        for label, sched, phase in PHASES:
            if sched == schedule:
                phases[label] = by_phase[phase]
    return curves, phases


def _concat(recordings: dict[str, xr.Dataset]) -> xr.Dataset:
    parts = list(recordings.values())
    ds = xr.concat(parts, "episode", combine_attrs="override")
    return ds.assign_coords(episode=np.arange(ds.sizes["episode"]),
                            schedule=("episode", np.repeat(list(recordings), [p.sizes["episode"] for p in parts])))


def observer_volatility(ds: xr.Dataset) -> xr.DataArray:
    """The Bayesian observer's posterior mean volatility before each trial of ``ds`` (episode, trial),
    computed from the choices and outcomes the subject actually had (the filter does not depend on
    the observer's softmax, so any β gives the same estimate)."""
    return VolatilityObserver().with_params({"beta": 1.0}).latents(ds)["volatility"]


def _decoding(ds: xr.Dataset, target: xr.DataArray, seed: int) -> dict:
    """Cross-validated decoding of ``target`` from the units at the choice step: R² (the analysis
    package's decoder) and the correlation of the held-out predictions with the target."""
    result = decode(ds, "bayes_volatility", latents={"bayes_volatility": target}, period="choice",
                    n_shuffles=0, random_state=seed)
    X = activity(ds, "hidden", "choice").to_numpy().reshape(-1, ds.sizes["unit"])
    y = target.transpose("episode", "trial").to_numpy().ravel()
    groups = np.repeat(np.arange(ds.sizes["episode"]), ds.sizes["trial"])
    folds = episode_folds(groups, 5, random_state=seed)
    predicted = cross_val_predict(make_decoder("regression"), X, y, cv=folds)
    r = float(stats.pearsonr(predicted, y).statistic)
    shape = (ds.sizes["episode"], ds.sizes["trial"])
    by_schedule = {}
    for schedule in SCHEDULES:
        sel = (ds["schedule"] == schedule).to_numpy()
        by_schedule[schedule] = {"bayes": target.to_numpy()[sel].mean(0).tolist(),
                                 "decoded": predicted.reshape(shape)[sel].mean(0).tolist()}
    bins = np.linspace(0, 0.2, 11)
    which = np.clip(np.digitize(y, bins) - 1, 0, len(bins) - 2)
    binned = [float(predicted[which == b].mean()) if (which == b).any() else float("nan") for b in range(len(bins) - 1)]
    return {"r2": float(result["score_mean"]), "r": r, "timecourse": by_schedule,
            "binned_bayes": (0.5 * (bins[1:] + bins[:-1])).tolist(), "binned_decoded": binned}


def _volatility_units(ds: xr.Dataset) -> dict:
    """Fraction of units whose activity codes the true volatility (Bonferroni over units)."""
    regressors = {"volatility": ds["volatile"], "prev_reward": "prev_reward", "action": "action",
                  "reward_prob_left": "reward_prob[left]"}
    result = unit_regression(ds, regressors, period="choice")
    frac = fraction_significant(result, alpha=0.05, correction="bonferroni")
    return {"fraction": float(frac["fraction"].sel(regressor="volatility")),
            "n_units": int(frac["n_units"]),
            "fraction_by_regressor": {str(r): float(frac["fraction"].sel(regressor=r)) for r in frac["regressor"].values}}


def _simulate_baseline(model, params: dict, n_replicas: int, seed: int, n_test: int) -> list[dict[str, xr.Dataset]]:
    """``n_replicas`` replicas of a baseline, each ``n_test`` episodes of both schedules."""
    replicas = [{} for _ in range(n_replicas)]
    for k, (schedule, task) in enumerate(SCHEDULES.items()):
        ds = model.simulate(task, params={p: [v] for p, v in params.items()}, n_episodes=n_test * n_replicas, seed=seed + k)
        for i in range(n_replicas):
            replicas[i][schedule] = ds.isel(episode=slice(i * n_test, (i + 1) * n_test))
    return replicas


def analyse(ctx: Context) -> dict:
    """Record each replica on both test schedules (``n_test`` episodes each) and simulate as many
    replicas of the volatility observer and the fixed-rate RW learner: sliding-window and per-phase
    learning rates of all three, reward per trial, the cross-validated decoding of the observer's
    volatility from the units and the fraction of units coding the true volatility."""
    agents = ctx.subjects["agent"]
    n = len(agents)
    curves = {s: [] for s in SUBJECTS}
    phases = {s: [] for s in SUBJECTS}
    reward = {s: [] for s in SUBJECTS}
    decoding, units = [], []
    for i, agent in enumerate(agents):
        recordings = {sched: record_session(agent, task, ctx.sizes["n_test"], seed=ctx.seed + 100 * i + k)
                      for k, (sched, task) in enumerate(SCHEDULES.items())}
        c, p = _rates(recordings)
        curves["agent"].append(c)
        phases["agent"].append(p)
        reward["agent"].append(float(np.mean([ds["reward"].mean() for ds in recordings.values()])))
        both = _concat(recordings)
        decoding.append(_decoding(both, observer_volatility(both), seed=ctx.seed + i))
        units.append(_volatility_units(both))
    for name, model, params, offset in (("bayes", VolatilityObserver(), {"beta": BAYES_BETA}, 10_000),
                                        ("fixed_rw", BehrensLearner(), FIXED_RW, 20_000)):
        for recordings in _simulate_baseline(model, params, n, ctx.seed + offset, ctx.sizes["n_test"]):
            c, p = _rates(recordings)
            curves[name].append(c)
            phases[name].append(p)
            reward[name].append(float(np.mean([ds["reward"].mean() for ds in recordings.values()])))

    labels = [label for label, _, _ in PHASES]
    summary = {s: {label: mean_sem([p[label] for p in phases[s]]) for label in labels} for s in SUBJECTS}
    window_centre = (np.arange(0, 200 - WINDOW + 1, WINDOW_STEP) + (WINDOW - 1) / 2).tolist()
    volatile_trials = {sched: recordings[sched]["volatile"].isel(episode=0).to_numpy().astype(int).tolist()
                       for sched in SCHEDULES}
    return {
        "n_replicas": n, "n_test_episodes_per_schedule": ctx.sizes["n_test"], "window": WINDOW, "window_step": WINDOW_STEP,
        "window_centre": window_centre, "volatile_trials": volatile_trials,
        "learning_rate_curves": curves, "phase_rates": phases, "phase_rates_mean_sem": summary,
        "reward_per_trial": {s: mean_sem(v) for s, v in reward.items()},
        "fixed_rw_true_alpha": FIXED_RW["alpha"],
        "human_rates": HUMAN_RATES, "paper_model_rates": PAPER_MODEL_RATES,
        "decoding_r": [d["r"] for d in decoding], "decoding_r2": [d["r2"] for d in decoding],
        "decoding_timecourse": [d["timecourse"] for d in decoding],
        "decoding_binned": {"bayes": decoding[0]["binned_bayes"],
                            "decoded": [d["binned_decoded"] for d in decoding]},
        "volatility_unit_fraction": [u["fraction"] for u in units],
        "unit_fraction_by_regressor": [u["fraction_by_regressor"] for u in units],
        "paper_volatility_unit_fraction": PAPER_VOLATILITY_UNITS,
    }


def plot(numbers: dict, out_dir: Path) -> list[Path]:
    """Draw Fig. 3 (``fig3.png``/``.pdf``, six panels) with :func:`~neurometarl.figures.volatility.plot_fig3`."""
    from ..figures.volatility import plot_fig3

    return plot_fig3(numbers, out_dir / "fig3")


# --- claims -----------------------------------------------------------------------------------------
def _adapts(numbers: dict, subject: str = "agent") -> list[bool]:
    return [p["volatile-1"] > p["stable-1"] and p["volatile-2"] > p["stable-2"] for p in numbers["phase_rates"][subject]]


def _claim_adapts(n: dict):
    ok = _adapts(n)
    m = n["phase_rates_mean_sem"]["agent"]
    text = (f"{sum(ok)} of {len(ok)} seeds; mean " + " / ".join(f"{k} {m[k][0]:.3f}" for k in m))
    return text, sum(ok) >= int(np.ceil(7 / 8 * len(ok)))


def _claim_decoding(n: dict):
    r = np.array(n["decoding_r"])
    return f"r = {r.mean():.2f} ± {r.std(ddof=1) / np.sqrt(len(r)) if len(r) > 1 else 0:.2f} (min {r.min():.2f})", bool(r.mean() >= 0.5)


def _claim_units(n: dict):
    f = np.array(n["volatility_unit_fraction"])
    return f"{100 * f.mean():.0f}% ± {100 * f.std(ddof=1) / np.sqrt(len(f)) if len(f) > 1 else 0:.0f}%", bool(f.mean() >= 0.20)


def _claim_fixed(n: dict):
    m = {k: v[0] for k, v in n["phase_rates_mean_sem"]["fixed_rw"].items()}
    true = n["fixed_rw_true_alpha"]
    diffs = [m["volatile-1"] - m["stable-1"], m["volatile-2"] - m["stable-2"]]
    bias = max(abs(v - true) for v in m.values())
    text = f"volatile − stable {diffs[0]:+.3f}, {diffs[1]:+.3f}; max |α − {true}| = {bias:.3f}"
    return text, bool(max(abs(d) for d in diffs) <= 0.03 and bias <= 0.03)


def reference_tables(n) -> list[dict]:
    """The report's reference rows: animals, humans and the paper's model beside ours."""
    keys = list(n["human_rates"])
    ours = n["phase_rates_mean_sem"]
    return [reference_table("Learning rate per phase", keys, {
        "humans (Behrens et al. 2007)": [n["human_rates"][k] for k in keys],
        "the paper's meta-RL model (Wang et al. 2018)": [n["paper_model_rates"][k] for k in keys],
        **{f"{label}, ours (mean over seeds)": [ours[who][k][0] for k in keys]
           for who, label in (("agent", "meta-RL agent"), ("bayes", "Bayesian learner"), ("fixed_rw", "fixed-rate RW"))
           if who in ours}})]


CLAIMS = (
    Claim("learning_rate_adapts", "fitted learning rate higher in the volatile than in the stable phase, in both schedules",
          "0.21 / 0.46 / 0.51 / 0.28 (stable-1 / volatile-1 / volatile-2 / stable-2), 8 seeds", "≥ 7 of 8 seeds",
          _claim_adapts),
    Claim("decoded_volatility", "the Bayesian observer's volatility estimate is decodable from the units",
          "decodable (Fig. 3c)", "cross-validated r ≥ 0.5 (mean over seeds)", _claim_decoding),
    Claim("volatility_units", "fraction of units coding volatility (Bonferroni P < 0.05)",
          "37 ± 1%", "≥ 20% (mean over seeds)", _claim_units),
    Claim("fixed_rw_flat", "a fixed-rate RW control comes back flat at its true rate",
          "control for the method", "|volatile − stable| ≤ 0.03 in both schedules and |α − 0.25| ≤ 0.03", _claim_fixed),
)

SIM2 = register(Experiment(
    name="sim2",
    title="Learning rate adapts to volatility (Wang et al. 2018 Fig. 3, Behrens et al. 2007)",
    train={"agent": TrainConfig(task="volatility", gamma=0.1, lr=2e-2, unroll=100, entropy_coef=1.0, entropy_final=0.0,
                                train_episodes=102_400, n_threads=1, eval_episodes=0)},
    analyse=analyse, plot=plot, claims=CLAIMS, n_seeds=8,
    description=__doc__,
    sizes={"n_test": 200},  # episodes per schedule and replica (400 a replica, as the paper's test set)
    references=reference_tables,
))
