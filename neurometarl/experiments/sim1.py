"""Sim 1 (Fig. 2): reinforcement learning in the prefrontal network — the monkey matching task.

Replicas trained on the baited matching task (p0 held out in [0.1, 0.2] ∪ [0.3, 0.4]) are tested with
weights frozen on 500 episodes drawing p0_R from all of [0, 0.5] (held-out episodes marked). Two
baselines play the same protocol: a model-free Rescorla–Wagner learner with a perseveration kernel
(:class:`neurometarl.models.QLearning`, ``perseveration=True``) and a Bayesian observer of the baited
schedule (:class:`neurometarl.models.baited.BaitedObserver`), each with its parameters fitted by
maximum likelihood to the replica's own choices (one baseline replica per agent replica).

Analyses (spec Sim 1), on the trials each episode actually ran (the padding after an episode's end
is left out through the ``active`` latent):

(a) matching: log2(C_R/C_L) on log2(R_R/R_L), one point per episode, slope per replica, separately
    for episodes with training-range and held-out p0;
(b) Lau & Glimcher lag regression (15 lags of reward history ±1 and choice history ±1, last
    two-thirds of each episode); positive weights favour choosing right after a rewarded right
    choice (reward kernel) or after a right choice (choice kernel);
(c) unit coding at the fixation step: per-unit partial Spearman correlation with the last action,
    last reward, action × reward and the value of the left action (the fitted RW model's Q_left);
    mean |r| over units, and the fraction of units with P < 0.05 for comparison with the monkeys'
    proportions of coding neurons. Baselines' latent variables stand in for their units;
(d) learning within an episode with weights frozen: P(choose the richer arm) through the first 50
    trials (every episode has at least 50), in episodes whose base rates differ (|p0_R − 0.25| ≥ 0.1).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..agents import TrainConfig
from ..analysis import partial_correlation, regressor
from ..analysis.behaviour import lau_glimcher_regression, matching_law
from ..data import recording_to_table
from ..lab import record_session
from ..models import QLearning
from ..models.baited import BaitedObserver
from .base import Claim, Context, Experiment, nanmean, reference_table, register
from .episode_fits import fit_numbers

TEST_TASK = "matching-test"
N_LAGS = 15
EARLY, LATE = (0, 10), (40, 50)  # trial ranges compared for within-episode learning
SUBJECTS = ("agent", "rw", "bayes")
LONG = {"rw": "RW learner with perseveration", "bayes": "Bayesian observer of the baited schedule"}
REGRESSORS = {"last action": "prev_action", "last reward": "prev_reward", "action x reward": "prev_action_x_reward"}
VALUE = "value left"


def active_table(ds: xr.Dataset, subject: str) -> pd.DataFrame:
    """The recording's trial table (one session per episode of ``subject``), running trials only."""
    table = recording_to_table(ds, episodes_as="sessions", subject=subject)
    return table[table["active"] == 1].reset_index(drop=True)


def richer_choice(ds: xr.Dataset, n_trials: int = 50, min_gap: float = 0.1) -> np.ndarray:
    """P(choose the arm with the higher base rate) at each of the first ``n_trials`` trials, over the
    episodes whose p0_R differs from p0_total / 2 by at least ``min_gap`` (n_trials,)."""
    p0 = ds["p0"].isel(trial=0)
    p0_right, total = p0.sel(arm="right").to_numpy(), p0.sum("arm").to_numpy()
    keep = np.abs(p0_right - total / 2) >= min_gap
    names = ds["choice"].attrs["flag_meanings"].split()
    choice = ds["choice"].isel(trial=slice(0, n_trials)).to_numpy()[keep]
    richer = np.where(p0_right[keep] > total[keep] / 2, names.index("right"), names.index("left"))
    return (choice == richer[:, None]).mean(0)


def unit_coding(ds: xr.Dataset, value_left: xr.DataArray, period: str = "fixation") -> dict:
    """Partial Spearman correlation of every unit at ``period`` with the four Sim 1 regressors."""
    active = ds["active"] > 0
    latents = {VALUE: value_left.where(active), **{k: _masked(ds, v, active) for k, v in REGRESSORS.items()}}
    # a regressor that never varies (e.g. the value of a fitted model with α = 0) cannot be
    # partialled out: leave it out and report NaN for it
    varying = [k for k in (*REGRESSORS, VALUE) if float(latents[k].std()) > 1e-12]
    out = {key: {k: float("nan") for k in (*REGRESSORS, VALUE)} for key in ("mean_abs_r", "max_abs_r", "fraction_p05")}
    if not varying:
        return {**out, "n_units": int(ds.sizes["unit"])}
    result = partial_correlation(ds, {k: latents[k] for k in varying}, period=period)
    r = np.abs(result["r"].transpose("regressor", "unit").to_numpy())
    significant = (result["p_value"].transpose("regressor", "unit").to_numpy() < 0.05).mean(1)
    for j, name in enumerate(str(x) for x in result["regressor"].values):
        out["mean_abs_r"][name] = float(r[j].mean())
        out["max_abs_r"][name] = float(r[j].max())
        out["fraction_p05"][name] = float(significant[j])
    return {**out, "n_units": int(r.shape[1])}


def _masked(ds: xr.Dataset, name: str, active: xr.DataArray) -> xr.DataArray:
    """Regressor ``name`` with the padding trials set to NaN (left out of the fits)."""
    return regressor(ds, name).where(active.drop_vars([c for c in active.coords if c not in ("episode", "trial")]))


def behaviour(ds: xr.Dataset, subject: str) -> dict:
    """Matching slopes (training-range and held-out p0), lag-regression kernels, within-episode learning."""
    table = active_table(ds, subject)
    out: dict[str, object] = {}
    for part, held in (("train", 0), ("held_out", 1)):
        fit = matching_law(table[table["held_out"] == held])
        out[f"slope_{part}"] = float(fit["sensitivity"].item())
        out[f"points_{part}"] = {"log_reward_ratio": fit["log_reward_ratio"].to_numpy().tolist(),
                                 "log_choice_ratio": fit["log_choice_ratio"].to_numpy().tolist()}
    lg = lau_glimcher_regression(table, n_lags=N_LAGS)
    out["reward_kernel"] = lg["coef"].sel(regressor="reward").isel(subject=0).to_numpy().tolist()
    out["choice_kernel"] = lg["coef"].sel(regressor="choice").isel(subject=0).to_numpy().tolist()
    out["p_richer"] = richer_choice(ds).tolist()
    reward = ds["reward"].where(ds["active"] > 0)
    out["reward_per_trial"] = float(reward.mean())
    return out


def analyse(ctx: Context) -> xr.Dataset:
    """Per replica: record ``n_test`` frozen episodes over the whole p0 range, fit the perseverative
    RW learner and the baited Bayesian observer to the first ``n_fit`` episodes, simulate each
    fitted baseline on the same protocol, and run the matching, Lau & Glimcher and unit-coding
    analyses on agent and baselines alike. Returns a Dataset of per-replica values (see :func:`numbers`)."""
    size = ctx.sizes
    per: dict[str, list] = {s: [] for s in SUBJECTS}
    fits = []
    for i, agent in enumerate(ctx.subjects["agent"]):
        ds = record_session(agent, TEST_TASK, size["n_test"], seed=ctx.seed + i)
        fit_table = active_table(ds.isel(episode=slice(0, size["n_fit"])), f"seed{i}")
        fit_table["subject"] = fit_table["session"]  # episodes as rows sharing one parameter set
        options = {"n_starts": size["fit_starts"], "max_iter": size["fit_max_iter"], "random_state": i}
        rw = QLearning(perseveration=True, **options).fit(fit_table, pooled=True)
        rw_fit, bayes_fit = fit_numbers(rw), fit_numbers(BaitedObserver(**options).fit(fit_table, pooled=True))
        fits.append({"rw": rw_fit, "bayes": bayes_fit})
        value_left = rw.latents(ds)["q_left"]  # the pooled parameters on every episode
        recordings = {"agent": (ds, value_left)}
        for name, model, fitted in (("rw", QLearning(perseveration=True), rw_fit), ("bayes", BaitedObserver(), bayes_fit)):
            sim = model.simulate(TEST_TASK, params={k: [v] for k, v in fitted["params"].items()}, n_episodes=size["n_test"],
                                 seed=ctx.seed + 1000 * (SUBJECTS.index(name)) + i)
            own_value = "q_left" if name == "rw" else "value_left"
            values = xr.DataArray(sim["hidden"].sel(unit=own_value).isel(step=slice(0, None, 2)).to_numpy(),
                                  dims=("episode", "trial"), coords={"episode": sim["episode"].to_numpy(), "trial": sim["trial"].to_numpy()})
            recordings[name] = (sim, values)
        for name, (rec, values) in recordings.items():
            per[name].append({**behaviour(rec, f"seed{i}"), "units": {"fixation": unit_coding(rec, values),
                                                                     "choice": unit_coding(rec, values, "choice")}})
    return numbers(per, fits, size["n_test"], ctx.experiment.reference_values)


def numbers(per: dict, fits: list, n_test: int, ref: dict) -> xr.Dataset:
    """The per-replica results as the Sim 1 Dataset: on (learner, replica, ...) ``matching_slope``
    (p0_range), ``reward_kernel`` and ``choice_kernel`` (lag), ``p_richer`` (trial), ``reward_per_trial``,
    and unit coding ``unit_mean_abs_r``, ``unit_max_abs_r``, ``unit_fraction_p05`` (period, variable);
    the agents' matching points on (replica, p0_range, point); the baselines' pooled fits on replica;
    the paper's and the monkeys' values."""
    variables = list(ref["paper_unit_r"])
    ranges = ("train", "held_out")
    periods = ("fixation", "choice")

    def each(get):
        return [[get(r) for r in per[s]] for s in SUBJECTS]

    n_points = max(len(r[f"points_{part}"]["log_reward_ratio"]) for r in per["agent"] for part in ranges)

    def points(key):
        out = np.full((len(per["agent"]), len(ranges), n_points), np.nan)
        for i, r in enumerate(per["agent"]):
            for j, part in enumerate(ranges):
                values = r[f"points_{part}"][key]
                out[i, j, :len(values)] = values
        return out

    weight = {"units": "log-odds"}
    unit = ("learner", "replica", "period", "variable")
    one = {"units": "1"}
    fit_vars = {}
    for who in ("rw", "bayes"):
        fit_vars[f"{who}_params"] = (("replica", f"{who}_param"), [list(f[who]["params"].values()) for f in fits],
                                     {"long_name": f"pooled fit of the {LONG[who]}, natural-scale parameter", **one})
    for key, label, units in (("nll", "negative log-likelihood of the pooled fit", "nats"), ("bic", "BIC of the pooled fit", "nats"),
                              ("n_choices", "choices fitted", "1"), ("converged", "the pooled fit's optimiser converged", "1")):
        fit_vars[f"fit_{key}"] = (("replica", "baseline"), [[f[who][key] for who in ("rw", "bayes")] for f in fits],
                                  {"long_name": label, "units": units})
    return xr.Dataset(
        {"matching_slope": (("learner", "replica", "p0_range"), each(lambda r: [r[f"slope_{part}"] for part in ranges]),
                            {"long_name": "matching slope (sensitivity of log2 choice ratio to log2 reward ratio)", **one}),
         "reward_kernel": (("learner", "replica", "lag"), each(lambda r: r["reward_kernel"]),
                           {"long_name": "Lau & Glimcher weight on past reward (+1 rewarded right, -1 rewarded left)", **weight}),
         "choice_kernel": (("learner", "replica", "lag"), each(lambda r: r["choice_kernel"]),
                           {"long_name": "Lau & Glimcher weight on past choice (+1 right, -1 left)", **weight}),
         "p_richer": (("learner", "replica", "trial"), each(lambda r: r["p_richer"]),
                      {"long_name": "P(choose the richer arm)", **one}),
         "reward_per_trial": (("learner", "replica"), each(lambda r: r["reward_per_trial"]),
                              {"long_name": "reward per running trial", "units": "reward"}),
         **{f"unit_{stat}": (unit, each(lambda r: [[r["units"][p][stat][v] for v in variables] for p in periods]),
                             {"long_name": label, **one})
            for stat, label in (("mean_abs_r", "mean |partial Spearman r| over units"),
                                ("max_abs_r", "largest |partial Spearman r| over units"),
                                ("fraction_p05", "fraction of units with P < 0.05"))},
         "log_reward_ratio": (("replica", "p0_range", "point"), points("log_reward_ratio"),
                              {"long_name": "log2(rewards right / rewards left), one point per test episode (NaN-padded)", "units": "log2 ratio"}),
         "log_choice_ratio": (("replica", "p0_range", "point"), points("log_choice_ratio"),
                              {"long_name": "log2(choices right / choices left), one point per test episode (NaN-padded)", "units": "log2 ratio"}),
         **fit_vars,
         "paper_unit_r": ("variable", [ref["paper_unit_r"][v] for v in variables],
                          {"long_name": "mean |partial r| over units, the paper's model (spec Sim 1 [fig])", **one}),
         "monkey_fraction": ("variable", [ref["monkey_fraction"][v] for v in variables],
                             {"long_name": "fraction of dlPFC neurons coding the variable, monkeys (Tsutsui et al. 2016)", **one}),
         "paper_matching_slope": ((), ref["paper_matching_slope"], {"long_name": "matching slope, monkeys and the paper's model", **one})},
        coords={"learner": ("learner", list(SUBJECTS), {"long_name": "learner"}), "replica": np.arange(len(per["agent"])),
                "p0_range": ("p0_range", list(ranges), {"long_name": "episodes' base rates: training range or held out"}),
                "lag": ("lag", np.arange(1, N_LAGS + 1), {"long_name": "lag (trials back)", "units": "trial"}),
                "trial": ("trial", np.arange(len(per["agent"][0]["p_richer"])), {"long_name": "trial from the episode start", "units": "trial"}),
                "period": ("period", list(periods), {"long_name": "step of the trial the units are read at"}),
                "variable": ("variable", variables, {"long_name": "coded variable"}),
                "baseline": list(fits[0]), "rw_param": list(fits[0]["rw"]["params"]), "bayes_param": list(fits[0]["bayes"]["params"])},
        attrs={"n_test_episodes": n_test, "n_lags": N_LAGS, "early_trials": list(EARLY), "late_trials": list(LATE),
               "paper_best_unit_r": json.dumps(ref["paper_best_unit_r"])},
    )


def plot(ds: xr.Dataset, out_dir: Path) -> list[Path]:
    """Draw Fig. 2 (``fig2.png``/``.pdf``, six panels) with :func:`~neurometarl.figures.matching.plot_fig2`."""
    from ..figures.matching import plot_fig2

    return plot_fig2(ds, out_dir / "fig2")


# --- claims -----------------------------------------------------------------------------------------
def _slope_claim(part: str):
    def check(ds: xr.Dataset):
        s = ds["matching_slope"].sel(learner="agent", p0_range=part).values
        return f"{s.mean():.2f} ± {s.std(ddof=1) / np.sqrt(len(s)) if len(s) > 1 else 0:.2f} (seeds {s.min():.2f}..{s.max():.2f})", bool(0.3 <= s.mean() <= 0.9)

    return check


def _kernel_claim(ds: xr.Dataset):
    k = ds["reward_kernel"].sel(learner="agent").transpose("replica", "lag").values
    mean = k.mean(0)
    positive = int((k[:, 0] > 0).sum())
    decays = bool(mean[0] > mean[4] > mean[9:].mean()) if k.shape[1] >= 10 else bool(mean[0] > mean[-1])
    text = (f"lag 1 {mean[0]:+.2f} (> 0 in {positive} of {len(k)} seeds), lag 5 {mean[4]:+.2f}, "
            f"lags 10-15 {mean[9:].mean():+.2f}")
    return text, bool(mean[0] > 0 and positive >= int(np.ceil(7 / 8 * len(k))) and decays)


def _units_claim(ds: xr.Dataset):
    r = ds["unit_mean_abs_r"].sel(learner="agent", period="fixation")
    action, reward, value = (float(np.mean(r.sel(variable=v).values)) for v in ("last action", "last reward", "value left"))
    text = f"mean |r|: last action {action:.2f}, value {value:.2f}, last reward {reward:.2f}"
    return text, bool(action > reward and value > reward)


def improvement(ds: xr.Dataset, learner: str = "agent") -> np.ndarray:
    """Per replica, P(richer) over the late trials minus over the early trials (``late_trials``,
    ``early_trials`` attrs: [start, stop) trial indices)."""
    early, late = (slice(*ds.attrs[k]) for k in ("early_trials", "late_trials"))
    return np.array([float(np.mean(p[late]) - np.mean(p[early]))
                     for p in ds["p_richer"].sel(learner=learner).transpose("replica", "trial").values])


def _improvement_claim(ds: xr.Dataset):
    d = improvement(ds)
    early, late = ds.attrs["early_trials"], ds.attrs["late_trials"]
    text = (f"P(richer) trials {late[0] + 1}-{late[1]} minus {early[0] + 1}-{early[1]}: {d.mean():+.3f} "
            f"(> 0 in {int((d > 0).sum())} of {len(d)} seeds)")
    return text, bool((d > 0).sum() >= int(np.ceil(7 / 8 * len(d))))


def reference_tables(ds: xr.Dataset) -> list[dict]:
    """The report's reference rows: animals, humans and the paper's model beside ours."""
    keys = [str(v) for v in ds["variable"].values]
    fraction = ds["unit_fraction_p05"].sel(learner="agent", period="fixation")
    return [
        reference_table("Fraction of units coding each variable (P < 0.05)", keys, {
            "monkeys' dlPFC neurons (Tsutsui et al. 2016)": ds["monkey_fraction"].values.tolist(),
            "meta-RL agent, ours (mean over seeds)": [nanmean(fraction.sel(variable=k).values) for k in keys]}),
        reference_table("Matching slope (under-matching below 1)", ["slope"], {
            "monkeys and the paper's model (Lau & Glimcher 2005; Wang et al. 2018)": [float(ds["paper_matching_slope"])],
            "meta-RL agent, ours (mean over seeds)": [nanmean(ds["matching_slope"].sel(learner="agent", p0_range="train").values)]}),
    ]


CLAIMS = (
    Claim("undermatching_train", "matching slope on training-range p0 (under-matching)",
          "≈0.5, monkeys and model under-match", "mean slope in [0.3, 0.9]", _slope_claim("train")),
    Claim("undermatching_held_out", "matching slope on held-out p0 (under-matching generalises)",
          "≈0.5 on held-out p0", "mean slope in [0.3, 0.9]", _slope_claim("held_out")),
    Claim("reward_kernel", "Lau & Glimcher reward kernel positive at lag 1 and decaying with lag",
          "≈1.0 at lag 1 → ≈0 by lag 12", "lag 1 > 0 (mean, and in ≥ 7 of 8 seeds); lag 1 > lag 5 > mean of lags 10-15",
          _kernel_claim),
    Claim("units_action_value_over_reward", "units code the last action and the value more than the last reward",
          "mean |r| 0.22 / 0.21 vs 0.07", "mean |r| last action > last reward and value > last reward", _units_claim),
    Claim("learns_within_episode", "choices of the richer arm increase within an episode with weights frozen",
          "learning by activity dynamics", "P(richer) late > early in ≥ 7 of 8 seeds", _improvement_claim),
)

SIM1 = register(Experiment(
    name="sim1",
    title="RL in the prefrontal network: matching task (Wang et al. 2018 Fig. 2, Lau & Glimcher 2005, Tsutsui et al. 2016)",
    # batched A2C with 16 episodes an update (2,400 updates; the paper made one per episode): 128 an update
    # (300 updates) trained a weaker policy whose units kept more of the reward input (docs/sim1.md)
    train={"agent": TrainConfig(task="matching", gamma=0.75, lr=3e-3, batch_size=16, entropy_coef=0.05,
                                entropy_final=0.0, train_episodes=38_400, n_threads=1, eval_episodes=0)},
    analyse=analyse, plot=plot, claims=CLAIMS, n_seeds=8,
    description=__doc__,
    # test episodes per replica (the paper's 500); episodes of each replica the baselines are fitted to;
    # optimisation starts and L-BFGS iterations of the baseline fits
    sizes={"n_test": 500, "n_fit": 250, "fit_starts": 2, "fit_max_iter": 100},
    references=reference_tables,
    reference_values={
        # spec Sim 1 [fig]: the paper's model, mean |partial r| over units, and its best units
        "paper_unit_r": {"last action": 0.22, "last reward": 0.07, "action x reward": 0.11, "value left": 0.21},
        "paper_best_unit_r": {"last action": 0.65, "value left": 0.55},
        # spec Sim 1: monkeys' proportions of dlPFC neurons coding each variable (Tsutsui et al. 2016)
        "monkey_fraction": {"last action": 0.21, "last reward": 0.17, "action x reward": 0.13, "value left": 0.33},
        "paper_matching_slope": 0.5,  # monkeys and the model both, [fig]
    },
))
