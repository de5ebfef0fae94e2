"""Sim 4 (Fig. 5): model-based behaviour and RPEs — the two-step task (Daw et al. 2011; Miller et al. 2017).

Replicas trained on the Wang two-step protocol (``twostep``: common transitions 0.8, second-stage
reward probabilities 0.9/0.1 swapping with probability 0.025 per trial) are tested with weights frozen
on 300 episodes of 100 trials each. The same analysis code (trial table → stay probabilities, Miller
lagged regression) runs on the agents, on two baseline learners playing the same protocol (model-free
SARSA(λ) and model-based planning, :mod:`neurometarl.models.twostep`) and on the six rats of the
shipped ``miller2022_rat_twostep`` data, so the animal row of the figure is real data.

Analyses (spec Sim 4):

(a) stay probabilities by previous transition × outcome, with model-based (interaction) and
    model-free (reward main effect) indices;
(b) Miller et al. (2017) lagged logistic regression, lags 1–5, trial types CR/CO/RR/RO;
(c) Daw et al. (2011) hybrid model fitted to each replica's first-stage choices (one parameter set
    pooled over its test episodes): the model-based weight w;
(d) RPEs: the agent's δ on arriving at the second stage (``rpe_at(ds, 'stage2', when='onset')``) and
    at the reward (``when='after'``), regressed on the prediction errors of a model-based learner that
    infers the latent reward state with the true transition matrix, reward levels and 0.025 hazard
    (:class:`~neurometarl.models.LatentStateTwoStep`) and of a model-free SARSA(0) learner
    (:class:`~neurometarl.models.ModelFreeTwoStep`, λ = 0, fitted to the replica's choices), both run
    on the replica's own trial sequence; the model-free RPE's residual after regressing out the
    model-based one measures what model-free learning adds.
(e) Other protocols, weights still frozen: the rat protocol (``twostep-rat``: 0.8/0.2 reward blocks)
    and the Daw 2011 human protocol (``twostep-daw``: 0.7/0.3 transitions, drifting probabilities),
    both with the centre response at the second stage the agents were trained on. The rat-protocol
    stay pattern is compared with the six rats' (Euclidean distance between the four stay
    probabilities); the human example data of hBayesDM (Daw-style task) give a human row.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..agents import TrainConfig
from ..analysis.behaviour import (
    STAY_KEYS,
    stay_probabilities,
    stay_summary,
    twostep_lag_regression,
)
from ..analysis.rpe import rpe_at
from ..data import recording_to_table
from ..data.datasets import load_hbayesdm, load_rat_twostep
from ..lab import record_session
from ..models import (
    HybridTwoStep,
    LatentStateTwoStep,
    ModelBasedTwoStep,
    ModelFreeTwoStep,
)
from ..tasks import make_task, task_config
from .base import Claim, Context, Experiment, reference_table, register
from .episode_fits import fit_numbers

TEST_TASK = "twostep"
N_LAGS = 5
HAZARD = 0.025  # the protocol's switch probability, known to the model-based RPE model
#: baselines that play the protocol for the stay bars (illustrative parameters, not fitted)
MF_PARAMS = {"alpha1": 0.5, "alpha2": 0.5, "lambda": 1.0, "beta1": 5.0, "perseveration": 0.0}
MB_PARAMS = {"alpha2": 0.5, "beta1": 5.0, "perseveration": 0.0}
#: spec Sim 4 [fig] and the rat data card
PAPER_STAY = {"common_rewarded": 0.985, "rare_rewarded": 0.64, "common_unrewarded": 0.62, "rare_unrewarded": 0.985}
PAPER_LAG1 = {"CR": 3.4, "CO": -2.0, "RR": -2.0, "RO": 3.2}
CARD_RAT_STAY = {"common_rewarded": 0.861, "rare_rewarded": 0.465, "common_unrewarded": 0.458, "rare_unrewarded": 0.863}
RAT_PROTOCOL = "twostep-rat"
HUMAN_PROTOCOL = "twostep-daw"


def table_of(ds: xr.Dataset, subject: str) -> pd.DataFrame:
    """A recording's trial table with its episodes as sessions of one subject."""
    return recording_to_table(ds, episodes_as="sessions", subject=subject)


def stay_numbers(table: pd.DataFrame) -> dict:
    """Stay probabilities per subject (subject, transition, outcome) and their means with MB/MF indices."""
    ds = stay_probabilities(table)
    return {"subjects": [str(s) for s in ds["subject"].values],
            "stay_prob": ds["stay_prob"].transpose("subject", "transition", "outcome").values.tolist(),
            "mb_index": ds["mb_index"].values.tolist(), "mf_index": ds["mf_index"].values.tolist(),
            "summary": stay_summary(ds)}


def lag_numbers(table: pd.DataFrame) -> dict:
    """Miller lag-regression coefficients (subject, trial_type, lag), standard errors and whether each fit
    converged: the trained agents stay almost deterministically, so their fits separate and diverge
    (the claim reads only the signs; ``converged`` records it instead of a warning per seed)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="twostep_lag_regression: the logistic fit did not converge")
        ds = twostep_lag_regression(table, n_lags=N_LAGS)
    return {"subjects": [str(s) for s in ds["subject"].values], "trial_type": [str(t) for t in ds["trial_type"].values],
            "coef": ds["coef"].values.tolist(), "se": ds["se"].values.tolist(),
            "converged": ds["converged"].values.tolist()}


def r_squared(y: np.ndarray, x: np.ndarray) -> float:
    """R² of the least-squares line of ``y`` on ``x`` (with intercept)."""
    ok = np.isfinite(y) & np.isfinite(x)
    if ok.sum() < 3 or np.std(x[ok]) == 0 or np.std(y[ok]) == 0:
        return float("nan")
    return float(np.corrcoef(y[ok], x[ok])[0, 1] ** 2)


def residual(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``y`` minus its least-squares line on ``x`` (NaN where either is missing)."""
    ok = np.isfinite(y) & np.isfinite(x)
    slope, intercept = np.polyfit(x[ok], y[ok], 1)
    return np.where(ok, y - (slope * x + intercept), np.nan)


def rpe_regression(ds: xr.Dataset, mf_params: dict) -> dict:
    """The agent's RPEs at second-stage arrival and at reward against model-based and model-free RPEs
    computed on the same trials; returns R² per event (and pooled after centring each event)."""
    mb = LatentStateTwoStep(p_rich=max(ds_levels(ds)), p_poor=min(ds_levels(ds)))
    mb_lat = mb.latents(ds, params={"hazard": HAZARD, "beta1": 1.0, "perseveration": 0.0})
    mf_lat = ModelFreeTwoStep(stages="first").latents(ds, params=mf_params)
    valid = ~np.isnan(mb_lat["rpe1"].values)
    agent = {"arrival": rpe_at(ds, "stage2", when="onset").values, "reward": rpe_at(ds, "stage2", when="after").values}
    models = {"arrival": "rpe1", "reward": "rpe2"}
    out, pooled = {}, {"agent": [], "mb": [], "mf_residual": []}
    for event, key in models.items():
        y = np.where(valid, agent[event], np.nan).ravel()
        x_mb, x_mf = mb_lat[key].values.ravel(), mf_lat[key].values.ravel()
        res = residual(x_mf, x_mb)
        out[event] = {"r2_mb": r_squared(y, x_mb), "r2_mf": r_squared(y, x_mf), "r2_mf_residual": r_squared(y, res)}
        for name, v in (("agent", y), ("mb", x_mb), ("mf_residual", res)):
            pooled[name].append(v - np.nanmean(v))
    out["pooled"] = {"r2_mb": r_squared(np.concatenate(pooled["agent"]), np.concatenate(pooled["mb"])),
                     "r2_mf_residual": r_squared(np.concatenate(pooled["agent"]), np.concatenate(pooled["mf_residual"]))}
    rng = np.random.default_rng(0)  # a fixed subsample of points for the scatter panels
    points = {}
    for event, key in models.items():
        y = np.where(valid, agent[event], np.nan).ravel()
        x_mb, x_mf = mb_lat[key].values.ravel(), mf_lat[key].values.ravel()
        res = residual(x_mf, x_mb)
        ok = np.flatnonzero(np.isfinite(y) & np.isfinite(x_mb) & np.isfinite(res))
        pick = rng.choice(ok, size=min(600, len(ok)), replace=False)
        points[event] = {"agent": y[pick].tolist(), "mb": x_mb[pick].tolist(), "mf_residual": res[pick].tolist()}
    out["points"] = points
    return out


def ds_levels(ds: xr.Dataset) -> tuple[float, float]:
    """The (rich, poor) reward levels of a recorded 'switch'/'blocks' two-step protocol."""
    import json

    return tuple(json.loads(ds.attrs["task_config"])["reward_levels"])


def protocol(name: str):
    """A two-step protocol with the centre response at the second stage (what the agents were trained on)."""
    return make_task(name, 1, config=task_config(name, stage2_response="centre"))


def analyse(ctx: Context) -> dict:
    """Per replica: ``n_test`` frozen episodes of Wang's protocol (stay probabilities, lagged regression,
    pooled hybrid and SARSA fits, RPEs regressed on model-based and model-free prediction errors) and
    ``n_other`` each of the rat and Daw protocols (stay; lags on the rat protocol); beside them model-free and
    model-based baselines on Wang's protocol, the rats' data and hBayesDM's humans. Returns
    :func:`summarise`'s numbers plus the lag-1 model-based share of agents (rat protocol) and rats."""
    size = ctx.sizes
    fit = {"n_starts": size["fit_starts"], "max_iter": size["fit_max_iter"]}
    per: dict[str, list] = {"agent": [], "agent_rat_protocol": [], "agent_daw_protocol": []}
    lags, rat_protocol_lags, fits, rpes = [], [], [], []
    for i, agent in enumerate(ctx.subjects["agent"]):
        ds = record_session(agent, TEST_TASK, size["n_test"], seed=ctx.seed + i)
        table = table_of(ds, f"seed{i}")
        per["agent"].append(stay_numbers(table))
        lags.append(lag_numbers(table))
        pooled = table.assign(subject=table["session"])  # episodes as rows sharing one parameter set
        hybrid = fit_numbers(HybridTwoStep(stages="first", **fit, random_state=i).fit(pooled, pooled=True))
        mf = fit_numbers(ModelFreeTwoStep(stages="first", **fit, random_state=i).fit(pooled, pooled=True))
        mf_params = {**mf["params"], "lambda": 0.0}  # SARSA(0): the fitted rates, no eligibility trace
        fits.append({"hybrid": hybrid, "mf": mf})
        rpes.append(rpe_regression(ds, mf_params))
        for key, name in (("agent_rat_protocol", RAT_PROTOCOL), ("agent_daw_protocol", HUMAN_PROTOCOL)):
            other = table_of(record_session(agent, protocol(name), size["n_other"], seed=ctx.seed + 100 + i), f"seed{i}")
            per[key].append(stay_numbers(other))
            if name == RAT_PROTOCOL:
                rat_protocol_lags.append(lag_numbers(other))
    n = len(per["agent"])
    baselines = {}
    for key, model, params in (("mf", ModelFreeTwoStep(), MF_PARAMS), ("mb", ModelBasedTwoStep(), MB_PARAMS)):
        sim = model.simulate(TEST_TASK, params={k: [v] * n for k, v in params.items()}, n_episodes=size["n_test"] // 3,
                             seed=ctx.seed + 500)
        baselines[key] = stay_numbers(recording_to_table(sim))
    rats = load_rat_twostep()
    rat_stay = stay_numbers(rats)
    rat_lags = lag_numbers(rats)
    humans = stay_numbers(load_hbayesdm("ts"))
    out = summarise(per, lags, fits, rpes, baselines, rat_stay, rat_lags, humans)
    out.update(n_test_episodes=size["n_test"], n_other_episodes=size["n_other"])
    agent_purity = [lag1_components(lag["coef"][0])["mb_share"] for lag in rat_protocol_lags]
    rat_purity = [lag1_components(c)["mb_share"] for c in rat_lags["coef"]]
    out["rat_protocol_lag1_mb_share"] = {"agent": agent_purity, "rats": rat_purity}
    out["rat_protocol_lag1_components"] = {
        "agent": [lag1_components(lag["coef"][0]) for lag in rat_protocol_lags],
        "rats": [lag1_components(c) for c in rat_lags["coef"]]}
    return out


def lag1_components(coef) -> dict:
    """Miller et al. (2017) decomposition of one subject's lag-1 weights (trial_type order CR, CO, RR,
    RO): model-based (CR − CO − RR + RO)/4, model-free (CR − CO + RR − RO)/4, perseveration (the mean),
    and the model-based share |MB| / (|MB| + |MF| + |perseveration|)."""
    cr, co, rr, ro = (float(c[0]) for c in coef)
    mb, mf, pers = (cr - co - rr + ro) / 4, (cr - co + rr - ro) / 4, (cr + co + rr + ro) / 4
    return {"model_based": mb, "model_free": mf, "perseveration": pers,
            "mb_share": abs(mb) / (abs(mb) + abs(mf) + abs(pers))}


def summarise(per, lags, fits, rpes, baselines, rat_stay, rat_lags, humans) -> dict:
    """Gather the per-replica results into the numbers of the figure and claims.

    Parameters
    ----------
    per : protocol (``agent``, ``agent_rat_protocol``, ``agent_daw_protocol``) → per replica, stay numbers.
    lags : per replica, the lagged regression on the test protocol.
    fits : per replica, the pooled ``hybrid`` and ``mf`` fits.
    rpes : per replica, the RPE regressions (``arrival``, ``reward``, ``pooled``, ``points``).
    baselines : ``mf``, ``mb`` → stay numbers of the simulated baselines.
    rat_stay, rat_lags, humans : the rats' stay and lag numbers, hBayesDM's humans' stay numbers.

    Returns
    -------
    dict with ``stay`` (per subject: probabilities, MB and MF indices, means), ``lags`` (agent and rat
    coefficients), ``hybrid_w``, ``fits``, ``rpe``, the rat-protocol distance and MB index, reference values.
    """
    def stack(rows):
        return {"stay_prob": [r["stay_prob"][0] for r in rows], "mb_index": [r["mb_index"][0] for r in rows],
                "mf_index": [r["mf_index"][0] for r in rows],
                "mean": {k: float(np.mean([r["summary"][k] for r in rows])) for k in (*STAY_KEYS, "mb_index", "mf_index")}}

    out = {"n_replicas": len(lags), "n_lags": N_LAGS,
           "paper_stay": PAPER_STAY, "paper_lag1": PAPER_LAG1, "card_rat_stay": CARD_RAT_STAY,
           "stay": {k: stack(v) for k, v in per.items()}}
    out["stay"].update({k: v for k, v in baselines.items()})
    out["stay"]["rats"] = rat_stay
    out["stay"]["humans_hbayesdm"] = humans
    coef = np.array([lag["coef"][0] for lag in lags])  # (seed, trial_type, lag)
    out["lags"] = {"trial_type": lags[0]["trial_type"], "agent_coef": coef.tolist(),
                   "agent_lag1_mean": dict(zip(lags[0]["trial_type"], coef[:, :, 0].mean(0).tolist())),
                   "rats_coef": rat_lags["coef"], "rats": rat_lags["subjects"],
                   "rats_lag1_mean": dict(zip(rat_lags["trial_type"], np.nanmean(np.array(rat_lags["coef"])[:, :, 0], 0).tolist()))}
    out["hybrid_w"] = [f["hybrid"]["params"]["w"] for f in fits]
    out["fits"] = fits
    out["rpe"] = {event: {k: [r[event][k] for r in rpes] for k in rpes[0][event]} for event in ("arrival", "reward", "pooled")}
    out["rpe_points_replica0"] = rpes[0]["points"]
    rat_mean = np.array([rat_stay["summary"][k] for k in STAY_KEYS])
    agent_rat = np.array([out["stay"]["agent_rat_protocol"]["mean"][k] for k in STAY_KEYS])
    out["rat_protocol_distance"] = float(np.linalg.norm(agent_rat - rat_mean))
    out["rat_protocol_mb_index"] = {"agent": out["stay"]["agent_rat_protocol"]["mean"]["mb_index"],
                                    "rats": rat_stay["summary"]["mb_index"]}
    return out


def plot(numbers: dict, out_dir: Path) -> list[Path]:
    """Draw Fig. 5 (``fig5.png``/``.pdf``) with :func:`~neurometarl.figures.twostep.plot_fig5`."""
    from ..figures.twostep import plot_fig5

    return plot_fig5(numbers, out_dir / "fig5")


# --- claims -----------------------------------------------------------------------------------------
def _stay_claim(n: dict):
    m = n["stay"]["agent"]["mean"]
    high = min(m["common_rewarded"], m["rare_unrewarded"])
    low = max(m["rare_rewarded"], m["common_unrewarded"])
    text = " / ".join(f"{k} {m[k]:.3f}" for k in STAY_KEYS) + f"; gap {high - low:.3f}"
    return text, bool(high - low >= 0.2)


def _replicas_claim(n: dict):
    p = np.asarray(n["stay"]["agent"]["stay_prob"])  # (seed, transition [common, rare], outcome [rewarded, unrewarded])
    gap = np.minimum(p[:, 0, 0], p[:, 1, 1]) - np.maximum(p[:, 1, 0], p[:, 0, 1])
    ok = gap >= 0.2
    text = f"{int(ok.sum())} of {len(ok)} replicas; per-replica gap " + ", ".join(f"{g:.2f}" for g in gap)
    return text, bool(ok.sum() >= int(np.ceil(7 / 8 * len(ok))))


def _lag_claim(n: dict):
    m = n["lags"]["agent_lag1_mean"]
    text = ", ".join(f"{k} {v:+.2f}" for k, v in m.items())
    return text, bool(m["CR"] > 0 and m["RO"] > 0 and m["CO"] < 0 and m["RR"] < 0)


def _rpe_mb_claim(n: dict):
    pooled = np.asarray(n["rpe"]["pooled"]["r2_mb"])
    a, r = np.mean(n["rpe"]["arrival"]["r2_mb"]), np.mean(n["rpe"]["reward"]["r2_mb"])
    text = f"both events {pooled.mean():.3f} (seeds {pooled.min():.3f}..{pooled.max():.3f}); arrival alone {a:.3f}, reward alone {r:.3f}"
    return text, bool(pooled.mean() >= 0.8)


def _rpe_mf_claim(n: dict):
    a, r = np.mean(n["rpe"]["arrival"]["r2_mf_residual"]), np.mean(n["rpe"]["reward"]["r2_mf_residual"])
    return f"arrival {a:.4f}, reward {r:.4f}", bool(max(a, r) <= 0.05)


def _rat_table_claim(n: dict):
    m = n["stay"]["rats"]["summary"]
    diff = max(abs(m[k] - v) for k, v in CARD_RAT_STAY.items())
    return " / ".join(f"{k} {m[k]:.3f}" for k in STAY_KEYS) + f"; max |Δ| vs card {diff:.4f}", bool(diff <= 0.005)


def _rat_protocol_claim(n: dict):
    mb = n["rat_protocol_mb_index"]
    share = {k: float(np.mean(v)) for k, v in n["rat_protocol_lag1_mb_share"].items()}
    text = (f"stay distance to the rats {n['rat_protocol_distance']:.3f} (agent "
            + " / ".join(f"{n['stay']['agent_rat_protocol']['mean'][k]:.3f}" for k in STAY_KEYS)
            + f"); model-based share of lag-1 weights agent {share['agent']:.2f} vs rats {share['rats']:.2f}; "
            f"stay MB index agent {mb['agent']:.3f} vs rats {mb['rats']:.3f}")
    return text, bool(share["agent"] > share["rats"])


def reference_tables(n) -> list[dict]:
    """The report's reference rows: animals, humans and the paper's model beside ours."""
    keys = ["common_rewarded", "rare_rewarded", "common_unrewarded", "rare_unrewarded", "mb_index"]
    stay = n["stay"]
    rows = {"rats (Miller et al. 2022 data, shipped)": [stay["rats"]["summary"][k] for k in keys],
            "humans (hBayesDM example data, Daw-style task)": [stay["humans_hbayesdm"]["summary"][k] for k in keys],
            "the paper's meta-RL model (Wang et al. 2018)": [n["paper_stay"].get(k) for k in keys],
            "meta-RL agent, ours (mean over seeds)": [stay["agent"]["mean"][k] for k in keys]}
    for who, label in (("mf", "model-free baseline, ours"), ("mb", "model-based baseline, ours")):
        if who in stay:
            rows[label] = [stay[who]["summary"][k] for k in keys]
    return [reference_table("Two-step stay probabilities", keys, rows)]


CLAIMS = (
    Claim("model_based_stay", "stay pattern is model-based: rewarded-common and unrewarded-rare exceed the other two",
          "0.985 / 0.64 / 0.62 / 0.985 (CR / RR / CU / RU)", "min(CR, RU) − max(RR, CU) ≥ 0.2 (mean over seeds)", _stay_claim),
    Claim("replicas_consistent", "the model-based stay pattern holds in (nearly) every replica, not only in the mean",
          "8 replicas, mean ± s.e.m.", "gap ≥ 0.2 in ≥ 7 of 8 replicas", _replicas_claim),
    Claim("lag1_signs", "Miller regression at lag 1: CR, RO > 0 and CO, RR < 0",
          "CR 3.4, RO 3.2, RR −2.0, CO −2.0", "signs of the mean over seeds", _lag_claim),
    Claim("rpe_model_based", "the agent's RPE is explained by the model-based RPE",
          "r² = 0.89", "r² ≥ 0.8, RPEs at second-stage arrival and at reward together (each event centred), mean over seeds",
          _rpe_mb_claim),
    Claim("rpe_model_free_residual", "the model-free RPE adds nothing beyond the model-based one",
          "r² ≈ 6e-7", "r² with the MF residual ≤ 0.05 at both events (mean over seeds)", _rpe_mf_claim),
    Claim("rat_stay_table", "the stay analysis on the shipped rat data reproduces the dataset card",
          "card: 0.861 / 0.465 / 0.458 / 0.863", "max |difference| ≤ 0.005", _rat_table_claim),
    Claim("rat_protocol_vs_rats", "on the rat protocol the agent is more purely model-based than the six rats",
          "rats 0.92/0.70/0.70/0.91 (Miller 2017), agent more model-based",
          "model-based share of the lag-1 weights (Miller 2017 decomposition: MB, MF, perseveration), agent > rats (mean); stay distance reported",
          _rat_protocol_claim),
)

SIM4 = register(Experiment(
    name="sim4",
    title="Model-based behaviour and RPEs on the two-step task (Wang et al. 2018 Fig. 5, Daw et al. 2011, Miller et al. 2017)",
    # batched A2C: 128 episodes an update at lr 1e-2 (decayed), entropy 0.05 → 0, BPTT 100 steps; 76,800
    # episodes × 100 trials (the paper: 10,000 single-episode updates at 7e-4). Every seed sits on a
    # chance plateau (0.5 a trial) before it finds the two-step strategy; with 38,400 episodes the
    # learning rate had decayed before 3 of 8 seeds left it.
    train={"agent": TrainConfig(task="twostep", gamma=0.9, lr=1e-2, unroll=100, entropy_coef=0.05, entropy_final=0.0,
                                train_episodes=76_800, n_threads=1, eval_episodes=0)},
    analyse=analyse, plot=plot, claims=CLAIMS, n_seeds=8,
    description=__doc__, datasets=("rat-twostep", "hbayesdm"),
    # test episodes per replica (the paper's 300); per replica on the rat and Daw protocols; optimiser starts
    # and iterations of the pooled model fits
    sizes={"n_test": 300, "n_other": 50, "fit_starts": 2, "fit_max_iter": 200},
    references=reference_tables,
))
