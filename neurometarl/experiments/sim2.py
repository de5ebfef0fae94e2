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

import json
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
from .base import Claim, Context, Experiment, reference_table, register
from .episode_fits import window_learning_rates

SCHEDULES = {"stable-first": "volatility-stable-first", "volatile-first": "volatility-volatile-first"}
#: (label, schedule, phase) in the order of the paper's bars
PHASES = (("stable-1", "stable-first", 0), ("volatile-1", "stable-first", 1),
          ("volatile-2", "volatile-first", 1), ("stable-2", "volatile-first", 0))
FIXED_RW = {"alpha": 0.25, "beta": 0.15}  # the control's true learning rate; β per point of magnitude
BAYES_BETA = 0.15  # softmax of the simulated observer (per point of expected value)
WINDOW, WINDOW_STEP = 10, 2
SUBJECTS = ("agent", "bayes", "fixed_rw")
VOLATILITY_BINS = np.linspace(0, 0.2, 11)  # bins of the observer's volatility for the decoded-vs-Bayes panel


def phase_rates(lr: xr.Dataset, volatile: np.ndarray) -> dict[int, float]:
    """Mean window learning rate over the windows entirely inside each phase (0 stable, 1 volatile)."""
    window = int(lr.attrs["window"])
    starts = lr["window_start"].to_numpy()
    out = {}
    for phase in (0, 1):
        inside = np.array([(volatile[w : w + window] == phase).all() for w in starts])
        out[phase] = float(lr["alpha"].to_numpy()[inside].mean())
    return out


def phase_learning_rates(recordings: dict[str, xr.Dataset]) -> tuple[xr.DataArray, list[float]]:
    """Window learning-rate curves on (schedule, window_start) and the four phase rates (``PHASES``
    order) of one replica."""
    curves, phases = [], {}
    for schedule, ds in recordings.items():
        lr = window_learning_rates(ds, window=WINDOW, step=WINDOW_STEP)
        curves.append(lr["alpha"])
        by_phase = phase_rates(lr, ds["volatile"].isel(episode=0).to_numpy())
        for label, sched, phase in PHASES:
            if sched == schedule:
                phases[label] = by_phase[phase]
    return xr.concat(curves, "schedule"), [phases[label] for label, _, _ in PHASES]


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
    package's decoder), the correlation of the held-out predictions with the target, their mean time
    courses on (schedule, [target, decoded], trial) and the mean prediction in bins of the target."""
    result = decode(ds, "bayes_volatility", latents={"bayes_volatility": target}, period="choice",
                    n_shuffles=0, random_state=seed)
    X = activity(ds, "hidden", "choice").to_numpy().reshape(-1, ds.sizes["unit"])
    y = target.transpose("episode", "trial").to_numpy().ravel()
    groups = np.repeat(np.arange(ds.sizes["episode"]), ds.sizes["trial"])
    folds = episode_folds(groups, 5, random_state=seed)
    predicted = cross_val_predict(make_decoder("regression"), X, y, cv=folds)
    r = float(stats.pearsonr(predicted, y).statistic)
    shape = (ds.sizes["episode"], ds.sizes["trial"])
    timecourse = np.array([[target.to_numpy()[sel].mean(0), predicted.reshape(shape)[sel].mean(0)]
                           for sel in ((ds["schedule"] == schedule).to_numpy() for schedule in SCHEDULES)])
    which = np.clip(np.digitize(y, VOLATILITY_BINS) - 1, 0, len(VOLATILITY_BINS) - 2)
    binned = [float(predicted[which == b].mean()) if (which == b).any() else float("nan") for b in range(len(VOLATILITY_BINS) - 1)]
    return {"r2": float(result["score_mean"]), "r": r, "timecourse": timecourse, "binned_decoded": binned}


def _volatility_units(ds: xr.Dataset) -> xr.DataArray:
    """Fraction of units whose activity codes each regressor, the true volatility among them (on
    regressor; Bonferroni over units)."""
    regressors = {"volatility": ds["volatile"], "prev_reward": "prev_reward", "action": "action",
                  "reward_prob_left": "reward_prob[left]"}
    result = unit_regression(ds, regressors, period="choice")
    frac = fraction_significant(result, alpha=0.05, correction="bonferroni")
    return frac["fraction"]


def _simulate_baseline(model, params: dict, n_replicas: int, seed: int, n_test: int) -> list[dict[str, xr.Dataset]]:
    """``n_replicas`` replicas of a baseline, each ``n_test`` episodes of both schedules."""
    replicas: list[dict[str, xr.Dataset]] = [{} for _ in range(n_replicas)]
    for k, (schedule, task) in enumerate(SCHEDULES.items()):
        ds = model.simulate(task, params={p: [v] for p, v in params.items()}, n_episodes=n_test * n_replicas, seed=seed + k)
        for i in range(n_replicas):
            replicas[i][schedule] = ds.isel(episode=slice(i * n_test, (i + 1) * n_test))
    return replicas


def analyse(ctx: Context) -> xr.Dataset:
    """Record each replica on both test schedules (``n_test`` episodes each) and simulate as many
    replicas of the volatility observer and the fixed-rate RW learner. Returns a Dataset: sliding-window
    ``learning_rate`` on (learner, replica, schedule, window_start), ``phase_rate`` on (learner, replica,
    phase), ``reward_per_trial`` on (learner, replica); the agents' decoding of the observer's volatility
    (``decoding_r``, ``decoding_r2`` on replica, ``bayes_volatility`` and ``decoded_volatility`` on
    (replica, schedule, trial), ``binned_decoded`` on (replica, volatility_bin)) and the fraction of units
    coding each regressor (``unit_fraction`` on (replica, regressor)); the schedules' ``volatile`` phases
    and the humans' and the paper's values."""
    agents = ctx.subjects["agent"]
    n = len(agents)
    curves: dict[str, list] = {s: [] for s in SUBJECTS}
    phases: dict[str, list] = {s: [] for s in SUBJECTS}
    reward: dict[str, list] = {s: [] for s in SUBJECTS}
    decoding, units = [], []
    for i, agent in enumerate(agents):
        recordings = {sched: record_session(agent, task, ctx.sizes["n_test"], seed=ctx.seed + 100 * i + k)
                      for k, (sched, task) in enumerate(SCHEDULES.items())}
        c, p = phase_learning_rates(recordings)
        curves["agent"].append(c)
        phases["agent"].append(p)
        reward["agent"].append(float(np.mean([ds["reward"].mean() for ds in recordings.values()])))
        both = _concat(recordings)
        decoding.append(_decoding(both, observer_volatility(both), seed=ctx.seed + i))
        units.append(_volatility_units(both))
    for name, model, params, offset in (("bayes", VolatilityObserver(), {"beta": BAYES_BETA}, 10_000),
                                        ("fixed_rw", BehrensLearner(), FIXED_RW, 20_000)):
        for recordings in _simulate_baseline(model, params, n, ctx.seed + offset, ctx.sizes["n_test"]):
            c, p = phase_learning_rates(recordings)
            curves[name].append(c)
            phases[name].append(p)
            reward[name].append(float(np.mean([ds["reward"].mean() for ds in recordings.values()])))

    alpha = {"long_name": "effective learning rate α (10-trial windows)", "units": "1"}
    volatility = {"long_name": "posterior mean volatility (the better arm's flip probability per trial)", "units": "1"}
    learning_rate = xr.concat([xr.concat(curves[s], "replica") for s in SUBJECTS], "learner")
    window_centre = learning_rate["window_start"].values + (WINDOW - 1) / 2
    trial_dims = ("replica", "schedule", "trial")
    return xr.Dataset(
        {"learning_rate": learning_rate.drop_vars(["window_centre", "schedule"], errors="ignore").assign_attrs(alpha),
         "phase_rate": (("learner", "replica", "phase"), [phases[s] for s in SUBJECTS],
                        {**alpha, "long_name": "effective learning rate α, mean over the windows inside the phase"}),
         "reward_per_trial": (("learner", "replica"), [reward[s] for s in SUBJECTS],
                              {"long_name": "reward per trial, both schedules", "units": "reward"}),
         "volatile": (("schedule", "trial"), [recordings[sched]["volatile"].isel(episode=0).to_numpy().astype(int) for sched in SCHEDULES],
                      {"long_name": "volatile phase (1) or stable (0)", "units": "1"}),
         "decoding_r": ("replica", [d["r"] for d in decoding],
                        {"long_name": "correlation of the cross-validated decoded volatility with the observer's", "units": "1"}),
         "decoding_r2": ("replica", [d["r2"] for d in decoding],
                         {"long_name": "cross-validated R² of the observer's volatility decoded from the units", "units": "1"}),
         "bayes_volatility": (trial_dims, [d["timecourse"][:, 0] for d in decoding],
                              {**volatility, "long_name": "Bayesian observer's " + volatility["long_name"] + ", mean over episodes"}),
         "decoded_volatility": (trial_dims, [d["timecourse"][:, 1] for d in decoding],
                                {**volatility, "long_name": "volatility decoded from the units (cross-validated), mean over episodes"}),
         "binned_decoded": (("replica", "volatility_bin"), [d["binned_decoded"] for d in decoding],
                            {**volatility, "long_name": "decoded volatility (cross-validated), mean in the bin"}),
         "unit_fraction": xr.concat(units, "replica").drop_vars([c for c in units[0].coords if c != "regressor"]).assign_attrs(
             {"long_name": "fraction of units coding the regressor (Bonferroni P < 0.05)", "units": "1"}),
         "human_rates": ("phase", [ctx.experiment.reference_values["human_rates"][label] for label, _, _ in PHASES],
                         {"long_name": "learning rate, humans (Behrens et al. 2007, spec Sim 2 [fig])", "units": "1"}),
         "paper_model_rates": ("phase", [ctx.experiment.reference_values["paper_model_rates"][label] for label, _, _ in PHASES],
                               {"long_name": "learning rate, the paper's meta-RL model (spec Sim 2 [fig])", "units": "1"}),
         "paper_volatility_unit_fraction": ((), ctx.experiment.reference_values["paper_volatility_units"],
                                            {"long_name": "fraction of units coding volatility, the paper's model", "units": "1"})},
        coords={"learner": ("learner", list(SUBJECTS), {"long_name": "learner"}), "replica": np.arange(n),
                "schedule": ("schedule", list(SCHEDULES), {"long_name": "test schedule"}),
                "window_centre": ("window_start", window_centre, {"long_name": "trial (window centre)", "units": "trial"}),
                "trial": np.arange(len(recordings["stable-first"]["trial"])),
                "phase": ("phase", [label for label, _, _ in PHASES], {"long_name": "phase"}),
                "phase_schedule": ("phase", [sched for _, sched, _ in PHASES], {"long_name": "the phase's schedule", "units": "1"}),
                "volatility_bin": ("volatility_bin", 0.5 * (VOLATILITY_BINS[1:] + VOLATILITY_BINS[:-1]),
                                   {**volatility, "long_name": "Bayesian " + volatility["long_name"] + " (bin centre)"})},
        attrs={"n_test_episodes_per_schedule": ctx.sizes["n_test"], "window": WINDOW, "window_step": WINDOW_STEP,
               "fixed_rw": json.dumps(FIXED_RW), "bayes_beta": BAYES_BETA},
    )


def plot(ds: xr.Dataset, out_dir: Path) -> list[Path]:
    """Draw Fig. 3 (``fig3.png``/``.pdf``, six panels) with :func:`~neurometarl.figures.volatility.plot_fig3`."""
    from ..figures.volatility import plot_fig3

    return plot_fig3(ds, out_dir / "fig3")


# --- claims -----------------------------------------------------------------------------------------
def _mean(da: xr.DataArray) -> float:
    """Mean over replicas of a per-replica value."""
    return float(np.mean(da.values))


def _adapts(ds: xr.Dataset, learner: str = "agent") -> list[bool]:
    p = ds["phase_rate"].sel(learner=learner)
    return [bool(r.sel(phase="volatile-1") > r.sel(phase="stable-1") and r.sel(phase="volatile-2") > r.sel(phase="stable-2"))
            for r in p.transpose("replica", "phase")]


def _claim_adapts(ds: xr.Dataset):
    ok = _adapts(ds)
    rates = ds["phase_rate"].sel(learner="agent")
    text = f"{sum(ok)} of {len(ok)} seeds; mean " + " / ".join(f"{k} {_mean(rates.sel(phase=k)):.3f}" for k in ds["phase"].values)
    return text, sum(ok) >= int(np.ceil(7 / 8 * len(ok)))


def _claim_decoding(ds: xr.Dataset):
    r = ds["decoding_r"].values
    return f"r = {r.mean():.2f} ± {r.std(ddof=1) / np.sqrt(len(r)) if len(r) > 1 else 0:.2f} (min {r.min():.2f})", bool(r.mean() >= 0.5)


def _claim_units(ds: xr.Dataset):
    f = ds["unit_fraction"].sel(regressor="volatility").values
    return f"{100 * f.mean():.0f}% ± {100 * f.std(ddof=1) / np.sqrt(len(f)) if len(f) > 1 else 0:.0f}%", bool(f.mean() >= 0.20)


def _claim_fixed(ds: xr.Dataset):
    rates = ds["phase_rate"].sel(learner="fixed_rw")
    m = {str(k): _mean(rates.sel(phase=k)) for k in ds["phase"].values}
    true = json.loads(ds.attrs["fixed_rw"])["alpha"]
    diffs = [m["volatile-1"] - m["stable-1"], m["volatile-2"] - m["stable-2"]]
    bias = max(abs(v - true) for v in m.values())
    text = f"volatile − stable {diffs[0]:+.3f}, {diffs[1]:+.3f}; max |α − {true}| = {bias:.3f}"
    return text, bool(max(abs(d) for d in diffs) <= 0.03 and bias <= 0.03)


def reference_tables(ds: xr.Dataset) -> list[dict]:
    """The report's reference rows: animals, humans and the paper's model beside ours."""
    keys = [str(k) for k in ds["phase"].values]
    rates = ds["phase_rate"]
    return [reference_table("Learning rate per phase", keys, {
        "humans (Behrens et al. 2007)": ds["human_rates"].values.tolist(),
        "the paper's meta-RL model (Wang et al. 2018)": ds["paper_model_rates"].values.tolist(),
        **{f"{label}, ours (mean over seeds)": [_mean(rates.sel(learner=who, phase=k)) for k in keys]
           for who, label in (("agent", "meta-RL agent"), ("bayes", "Bayesian learner"), ("fixed_rw", "fixed-rate RW"))}})]


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
    reference_values={  # spec Sim 2, read off Fig. 3 [fig]
        "human_rates": {"stable-1": 0.07, "volatile-1": 0.19, "volatile-2": 0.21, "stable-2": 0.10},
        "paper_model_rates": {"stable-1": 0.21, "volatile-1": 0.46, "volatile-2": 0.51, "stable-2": 0.28},
        "paper_volatility_units": 0.37,
    },
))
