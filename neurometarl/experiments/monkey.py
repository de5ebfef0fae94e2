"""monkey-twostep: real neurons beside agent units on the monkeys' two-step protocol (beyond the paper).

Data: 661 single neurons of two macaques in ACC, DLPFC, caudate and putamen (Miranda, Butler et al. 2025,
eLife 14:RP106032; dataset ``monkey-twostep``, read in place, never copied). Agents: 8 replicas trained on
``twostep-monkey`` (70/30 transitions, a second-stage choice among two options per state, each option paying
0, 0.5 or 1 by its level, instructed trials), weights frozen. Baselines: the Daw hybrid played on the same
protocol with the monkeys' fitted parameters at w = 0 (model-free), w = 1 (model-based) and the fitted w.

Everything below runs through the same code for monkeys, agents and baselines:

* **Behaviour** (trial tables): stay probabilities by the previous transition × outcome (outcome = the high
  reward level vs the two lower ones, as the authors' behavioural analysis), Miller lagged regressions on
  that split, and the Daw hybrid (all parameters, second-stage choices modelled) fitted per subject.
* **Units**: one OLS per unit and period of the regressors :data:`REGRESSORS` (choice, transition, reward
  level, their products, previous reward, model-based and model-free chosen values and the second-stage
  prediction error of the hybrid fitted to the same subject's choices), on monkey firing rates in the
  windows of :data:`neurometarl.data.monkey.PERIODS` and on agent hidden units (h) read at the matching
  steps (:func:`agent_neurons`). A unit codes a regressor when its coefficient's p < 0.05; the null
  repeats the fits after circularly shifting the trials' regressors within each session (episode), so
  fractions are judged against what autocorrelated regressors give by chance. Coefficients of partial
  determination (CPD) in 100 ms bins give the monkeys' time courses.
* **Populations**: coding profiles (fraction × regressor × period) of the agents against each area
  (Pearson r), and representational similarity (``rsatoolbox``: correlation-distance RDMs of
  condition-averaged responses, compared by Pearson r, noise ceiling across the two monkeys), with
  bootstrap intervals over agent seeds and recording sessions, against an untrained network of the
  same architecture and condition-shuffled monkey data.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from ..agents import AgentSubject, TrainConfig, build_agent
from ..analysis.behaviour import stay_probabilities, stay_summary, twostep_lag_regression
from ..analysis.units import unit_regression
from ..data import monkey_sessions, monkey_table, read_monkey_session, recording_to_table, validate_table
from ..figures.style import PALETTE, save_figure, use_style
from ..lab import record_session
from ..lab.schema import step_coords
from ..models import HybridTwoStep
from ..progress import progress_bar
from ..tasks import make_task
from .base import Claim, Context, Experiment, mean_sem, reference_table, register

TASK = "twostep-monkey"
AREAS = ("ACC", "DLPFC", "Caudate", "Putamen")
PERIODS = ("fixation", "choice1", "transition", "choice2", "outcome")
RSA_PERIODS = ("choice1", "transition", "outcome")
REGRESSORS = ("choice", "transition", "reward", "reward_x_transition", "reward_x_transition_x_choice",
              "prev_reward", "mb_value", "mf_value", "pe")
ALPHA = 0.05
BIN_MS = 100
#: the analysis's sizes (``Experiment.sizes``; ``--size NAME=N`` shrinks them)
SIZES = {
    "n_test": 50,  # frozen test episodes of 100 trials per agent replica and per baseline replica
    # of which the unit analyses use the first few: 500 trials, about a monkey session (median 528), so an
    # agent unit's regression has the statistical power of a recorded neuron's
    "n_neural_episodes": 5,
    "n_shuffles": 50,  # circular shifts of each session's regressors (the null of the coding fractions)
    "n_boot": 200,  # bootstrap resamples of agent seeds and recording sessions
    "fit_starts": 2,  # optimiser starts of each hybrid fit
    # recording sessions analysed, those with the most areas (then cells) first: all 54
    "n_sessions": 54,
}
STAY_KEYS = ("common_rewarded", "rare_rewarded", "common_unrewarded", "rare_unrewarded")


# --------------------------------------------------------------------------------------------- behaviour
def high_reward(table: pd.DataFrame) -> pd.DataFrame:
    """The table with ``reward`` = 1 on the high level only (the authors' stay split: high vs low/medium)."""
    return table.assign(reward=(table["reward"] >= 1.0).astype(float))


#: the fits' warnings (parameters at a bound, lag fits that separate), kept for numbers.json
FIT_NOTES: list[str] = []


def hybrid_fit(table: pd.DataFrame, n_starts: int = SIZES["fit_starts"]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Daw hybrid fitted to each subject of ``table`` (second-stage choices modelled): (params, latents)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = HybridTwoStep(n_starts=n_starts, random_state=0).fit(table)
    FIT_NOTES.extend(f"{', '.join(map(str, pd.unique(table['subject'])[:3]))}...: {w.message}" for w in caught)
    return model.params_, model.latents(table)


def behaviour(table: pd.DataFrame, n_starts: int) -> dict:
    """Stay probabilities, lag regression and hybrid parameters of every subject in ``table``."""
    split = high_reward(table)
    stay = stay_probabilities(split)
    with warnings.catch_warnings():  # near-deterministic agents separate; 'converged' records it
        warnings.filterwarnings("ignore", message="twostep_lag_regression: the logistic fit did not converge")
        lags = twostep_lag_regression(split, n_lags=5)
    params, _ = hybrid_fit(table, n_starts)
    subjects = [str(s) for s in stay["subject"].values]
    return {"subjects": subjects,
            "stay": {str(s): [float(stay["stay_prob"].sel(subject=s, transition=t, outcome=o))
                              for t, o in (("common", "rewarded"), ("rare", "rewarded"), ("common", "unrewarded"), ("rare", "unrewarded"))]
                     for s in stay["subject"].values},
            "mb_index": dict(zip(subjects, stay["mb_index"].values.tolist())),
            "mf_index": dict(zip(subjects, stay["mf_index"].values.tolist())),
            "summary": stay_summary(stay),
            "lag_types": [str(t) for t in lags["trial_type"].values],
            "lag_coef": {str(s): lags["coef"].sel(subject=s).transpose("trial_type", "lag").values.tolist() for s in lags["subject"].values},
            "w": params["w"].to_dict() if "w" in params else {},
            "params": {str(k): {c: float(v) for c, v in row.items()} for k, row in params.iterrows()}}


# ------------------------------------------------------------------------------------------ regressors
def session_regressors(table: pd.DataFrame, latents: pd.DataFrame, n_episodes: int) -> dict[str, np.ndarray]:
    """Trial regressors (episode, trial) from one subject's trial table (rows episode-major) and the
    latents of the hybrid fitted to it: choice (+1 B/right, −1 A/left), transition (+1 common, −1 rare),
    reward level − 1 (−1, 0, 1: the authors' coding), the products, previous reward, the hybrid's
    model-based and model-free values of the chosen first-stage option and its second-stage prediction
    error. NaN on violation trials (and previous reward on each episode's first trial)."""
    ok = table["violation"].to_numpy() == 0
    choice = np.where(table["choice"].to_numpy() == 1, 1.0, -1.0)
    transition = np.where(table["transition"].to_numpy() == 1, 1.0, -1.0)
    reward = 2 * table["reward"].to_numpy(float) - 1
    right = table["choice"].to_numpy() == 1
    out = {
        "choice": choice, "transition": transition, "reward": reward,
        "reward_x_transition": reward * transition,
        "reward_x_transition_x_choice": reward * transition * choice,
        "prev_reward": np.r_[np.nan, reward[:-1]],
        "mb_value": np.where(right, latents["q_mb_right"], latents["q_mb_left"]),
        "mf_value": np.where(right, latents["q_mf_right"], latents["q_mf_left"]),
        "pe": latents["rpe2"].to_numpy(float),
        # for the caudate analysis: the hybrid's net values of the chosen and unchosen options
        "chosen_value": np.where(right, latents["q_net_right"], latents["q_net_left"]),
        "unchosen_value": np.where(right, latents["q_net_left"], latents["q_net_right"]),
    }
    first = np.r_[True, table["session"].to_numpy()[1:] != table["session"].to_numpy()[:-1]]
    out["prev_reward"][first] = np.nan
    return {k: np.where(ok, np.asarray(v, float), np.nan).reshape(n_episodes, -1) for k, v in out.items()}


def agent_neurons(ds: xr.Dataset, label: str) -> xr.Dataset:
    """An agent recording laid out as a neural recording with the monkeys' five periods: fixation and
    choice1 are the trial's fixation and choice steps, transition and choice2 both its second-stage step
    (the agent sees the state and chooses in one step), outcome the next trial's fixation step (where the
    reward arrives as an input; NaN on an episode's last trial). Units are the LSTM's outputs (h)."""
    h = ds["hidden"].transpose("episode", "step", "unit").values
    n_ep, n_units, n_tr = h.shape[0], h.shape[2], ds.sizes["trial"]
    h = h.reshape(n_ep, n_tr, 3, n_units)
    rates = np.full((n_ep, n_tr, len(PERIODS), n_units), np.nan)
    rates[:, :, 0], rates[:, :, 1], rates[:, :, 2], rates[:, :, 3] = h[:, :, 0], h[:, :, 1], h[:, :, 2], h[:, :, 2]
    rates[:, :-1, 4] = h[:, 1:, 0]
    units = [f"{label}/{u}" for u in ds["unit"].values]
    return xr.Dataset({"cell": (("episode", "step", "unit"), rates.reshape(n_ep, n_tr * len(PERIODS), n_units),
                                {"long_name": "LSTM output (h) at the period's step", "units": "1"})},
                      coords={"episode": ds["episode"].values, "trial": ds["trial"].values, **step_coords(n_tr, PERIODS),
                              "unit": units, "area": ("unit", [label.split("/")[0]] * n_units)},
                      attrs={"kind": "agent-as-neurons", "subject": label, "task": TASK})


def _usable(nds: xr.Dataset, regs: dict) -> tuple[xr.DataArray, dict]:
    """Activity with NaN (a trial missing an event, an episode's last outcome) set to 0 and those trials'
    regressors set to NaN, so the fits leave them out."""
    cell = nds["cell"]
    n_ep, n_tr = nds.sizes["episode"], nds.sizes["trial"]
    bad = ~np.isfinite(cell.values).all(-1).reshape(n_ep, n_tr, -1).all(-1)
    return cell.fillna(0.0), {k: np.where(bad, np.nan, v) for k, v in regs.items()}


def independent(regs: dict) -> dict:
    """:data:`REGRESSORS` in order, leaving out any that is constant or a linear combination of the ones kept
    (e.g. the model-free value of a subject fitted with w = 1); a left-out regressor codes nothing."""
    rows = np.isfinite(np.stack([regs[k] for k in REGRESSORS], -1)).all(-1).ravel()
    kept, columns = {}, [np.ones(rows.sum())]
    for name in REGRESSORS:
        trial = np.stack(columns + [regs[name].ravel()[rows]], 1)
        if np.linalg.matrix_rank(trial, tol=1e-8 * max(1.0, np.abs(trial).max()) * len(trial)) == trial.shape[1]:
            kept[name] = regs[name]
            columns.append(regs[name].ravel()[rows])
    return kept


def code_units(nds: xr.Dataset, regs: dict, seed: int, n_shuffles: int = SIZES["n_shuffles"]) -> xr.Dataset:
    """Per-unit OLS of activity on :data:`REGRESSORS` at every period, with the within-session circular
    shift null: ``sig`` and ``null_sig`` (shuffle, ...) booleans, ``coef``, ``cpd`` on (period, regressor, unit)."""
    cell, regs = _usable(nds, regs)
    res = unit_regression(nds, independent(regs), var=cell, by="period", n_shuffles=n_shuffles,
                          shuffle="trial", random_state=seed).drop_sel(regressor="intercept").reindex(regressor=list(REGRESSORS))
    df = res["df_resid"].broadcast_like(res["t"])
    null_p = 2 * stats.t.sf(np.abs(res["null_t"]), df)
    out = xr.Dataset({"coef": res["coef"], "cpd": res["cpd"], "sig": res["p_value"] < ALPHA,
                      "null_sig": (res["null_t"].dims, null_p < ALPHA)})
    return out.assign_coords(area=("unit", nds["area"].values), session=("unit", [str(nds.attrs.get("subject")) + "/"
                                                                                  + str(nds.attrs.get("session", "")) ] * nds.sizes["unit"]))


def value_flip(nds: xr.Dataset, regs: dict) -> xr.Dataset:
    """Chosen-value coefficients at the transition, fitted separately on common and rare trials (chosen and
    unchosen hybrid values as regressors): ``coef`` on (transition_kind, unit)."""
    cell, regs = _usable(nds, regs)
    out = []
    for kind, sign in (("common", 1.0), ("rare", -1.0)):
        keep = regs["transition"] == sign
        sub = {k: np.where(keep, regs[k], np.nan) for k in ("chosen_value", "unchosen_value")}
        res = unit_regression(nds, sub, var=cell, period="transition")
        out.append(res["coef"].sel(regressor="chosen_value", drop=True))
    return xr.concat(out, dim=pd.Index(["common", "rare"], name="transition_kind")).assign_coords(area=("unit", nds["area"].values))


def cpd_time_course(nds: xr.Dataset, regs: dict) -> xr.DataArray:
    """CPD of each regressor in :data:`BIN_MS` bins around each period's event: (period, regressor, time, unit)."""
    counts = nds["spike_count"].transpose("episode", "step", "time", "unit")
    n_time, n_units = counts.sizes["time"], counts.sizes["unit"]
    rates = counts.values.reshape(counts.shape[0], counts.shape[1], -1) / (BIN_MS / 1000)
    _, regs = _usable(nds, regs)
    var = xr.DataArray(rates, dims=("episode", "step", "unit"))
    res = unit_regression(nds, independent(regs), var=var, by="period").drop_sel(regressor="intercept").reindex(regressor=list(REGRESSORS))
    cpd = res["cpd"].values.reshape(len(PERIODS), len(REGRESSORS), n_time, n_units)
    return xr.DataArray(cpd, dims=("period", "regressor", "time", "unit"),
                        coords={"period": list(PERIODS), "regressor": list(REGRESSORS), "time": counts["time"].values,
                                "unit": nds["unit"].values, "area": ("unit", nds["area"].values)})


# ----------------------------------------------------------------------------------------- populations
def fractions(coding: xr.Dataset, by: str) -> tuple[xr.DataArray, xr.DataArray]:
    """Fraction of units coding each regressor at each period per group (``by`` a unit coordinate) and the
    null fractions (shuffle, group, period, regressor)."""
    frac = coding["sig"].groupby(by).mean("unit")
    null = coding["null_sig"].groupby(by).mean("unit")
    return frac, null


def profile_similarity(agent: np.ndarray, area: np.ndarray) -> float:
    """Pearson r between two coding profiles (fractions over period × regressor)."""
    return float(np.corrcoef(np.ravel(agent), np.ravel(area))[0, 1])


def _boot_fraction(sig: xr.DataArray, groups: np.ndarray, rng) -> np.ndarray:
    """Mean of ``sig`` over units after resampling the groups (sessions or seeds) with replacement."""
    labels = np.unique(groups)
    pick = rng.choice(labels, size=len(labels), replace=True)
    index = np.concatenate([np.flatnonzero(groups == g) for g in pick])
    return sig.isel(unit=index).mean("unit").values


def condition_patterns(nds: xr.Dataset, regs: dict, rng=None) -> np.ndarray:
    """Condition means of each unit at each period, z-scored over the conditions within the period:
    (choice 2 × transition 2 × reward 3) × :data:`RSA_PERIODS` patterns by units. ``rng`` shuffles the trials' condition labels (a null)."""
    cell, regs = _usable(nds, regs)
    n_ep, n_tr, n_units = nds.sizes["episode"], nds.sizes["trial"], nds.sizes["unit"]
    act = cell.values.reshape(n_ep * n_tr, len(PERIODS), n_units)[:, [PERIODS.index(p) for p in RSA_PERIODS]]
    cond = ((regs["choice"] > 0) * 6 + (regs["transition"] > 0) * 3 + (regs["reward"] + 1)).ravel()
    ok = np.isfinite(cond)
    act, cond = act[ok], cond[ok].astype(int)
    if rng is not None:
        cond = rng.permutation(cond)
    means = np.full((12, len(RSA_PERIODS), n_units), np.nan)
    for c in range(12):
        if (cond == c).any():
            means[c] = act[cond == c].mean(0)
    # z-scored within each period: the RDMs compare how conditions are told apart, not the periods' mean rates
    sd = means.std(0)
    return ((means - means.mean(0)) / np.where(sd > 0, sd, np.nan)).reshape(12 * len(RSA_PERIODS), n_units)


def rdm(patterns: np.ndarray):
    """Correlation-distance RDM (rsatoolbox) of patterns × units. A pattern (condition) that most units lack
    is left undefined (NaN distances); the units lacking any other pattern are left out."""
    import rsatoolbox

    rows = np.isfinite(patterns).mean(1) > 0.5
    units = np.isfinite(patterns[rows]).all(0)
    kept = np.where(rows[:, None], patterns[:, units], np.nan)
    data = rsatoolbox.data.Dataset(kept, obs_descriptors={"pattern": np.arange(len(patterns))})
    return rsatoolbox.rdm.calc_rdm(data, method="correlation")


def _aligned(*rdms):
    """The RDMs restricted to the patterns every one of them defines."""
    defined = [np.isfinite(r.get_matrices()[0]).sum(1) > 1 for r in rdms]  # an undefined pattern's row is NaN but its diagonal
    keep = np.flatnonzero(np.logical_and.reduce(defined)).tolist()
    return [r.subset_pattern("pattern", keep) for r in rdms] if len(keep) >= 3 else None


def rdm_similarity(a, b) -> float:
    """Pearson r between two RDMs' dissimilarities (rsatoolbox ``compare``, method 'corr')."""
    import rsatoolbox

    pair = _aligned(a, b)
    return float("nan") if pair is None else float(rsatoolbox.rdm.compare(*pair, method="corr")[0, 0])


def noise_ceiling(rdms: list) -> tuple[float, float]:
    """rsatoolbox's leave-one-out noise ceiling (lower, upper) over per-monkey RDMs of one area."""
    import rsatoolbox

    aligned = _aligned(*rdms)
    if aligned is None:
        return float("nan"), float("nan")
    lower, upper = rsatoolbox.inference.boot_noise_ceiling(rsatoolbox.rdm.concat(aligned), method="corr")
    return float(lower), float(upper)


# -------------------------------------------------------------------------------------------- analysis
def _agent_block(subjects, labels, seed0: int, size: dict) -> dict:
    """Record, tabulate, fit and regress a list of agent subjects (trained or untrained)."""
    tables, neurons, regs = [], [], []
    n_test, n_neural = size["n_test"], size["n_neural_episodes"]
    for i, (subject, label) in enumerate(zip(subjects, labels)):
        ds = record_session(subject, make_task(TASK, n_test), n_test, seed=seed0 + i)
        table = validate_table(recording_to_table(ds, episodes_as="sessions", subject=label))
        tables.append(table)
        neurons.append(agent_neurons(ds.isel(episode=slice(0, n_neural)), label))
    joined = pd.concat(tables, ignore_index=True)
    _, latents = hybrid_fit(joined, size["fit_starts"])
    for table, nds in zip(tables, neurons):
        rows = latents.loc[latents["subject"] == table["subject"].iloc[0]]
        regs.append({k: v[:n_neural] for k, v in session_regressors(table, rows, n_test).items()})
    return {"table": joined, "neurons": neurons, "regs": regs}


def analyse(ctx: Context) -> dict:
    """Monkeys, agents and baselines through the same analyses: behaviour (stay, lagged regressions, hybrid fit) of
    the monkeys over all sessions, of the trained agents on ``twostep-monkey`` and of the hybrid played at w = 0, 1
    and the monkeys' w; unit coding against the circular-shift null in the ``n_sessions`` sessions recording the
    most areas and cells and in trained and untrained agents; coding-profile and RDM similarity of the agents to
    each area with bootstrap intervals; the chosen-value flip after rare transitions and CPD time courses per area."""
    seed, size = ctx.seed, ctx.sizes
    n_boot, n_starts = size["n_boot"], size["fit_starts"]
    FIT_NOTES.clear()
    # the monkeys: behaviour over all 57 sessions; neurons session by session
    mtable = validate_table(monkey_table(None))
    _, mlat = hybrid_fit(mtable, n_starts)
    pooled = mtable.assign(subject="monkeys", session=mtable["session"] + 100 * (mtable["subject"] == "Jacob"))
    monkeys, monkeys_pooled = behaviour(mtable, n_starts), behaviour(pooled, n_starts)
    sessions = monkey_sessions(None)
    sessions = sessions.assign(n_areas=sessions["areas"].str.count(",") + 1).sort_values(
        ["n_areas", "n_cells"], ascending=False, kind="stable").head(size["n_sessions"]).sort_values(["subject", "session"])
    coding, flips, cpds, patterns = [], [], [], {}
    for row in progress_bar(list(sessions.itertuples()), desc="monkey sessions", unit="session"):
        nds = read_monkey_session(None, row.subject, row.session, bin_ms=BIN_MS)
        keep = (mtable["subject"] == row.subject) & (mtable["session"] == row.session)
        regs = session_regressors(mtable.loc[keep], mlat.loc[keep], 1)
        coding.append(code_units(nds, regs, seed, size["n_shuffles"]))
        flips.append(value_flip(nds, regs))
        cpds.append(cpd_time_course(nds, regs))
        for area in AREAS:
            if (nds["area"].values == area).any():
                sub = nds.isel(unit=np.flatnonzero(nds["area"].values == area))
                patterns.setdefault((area, row.subject), []).append((sub, regs))
    coding = xr.concat(coding, dim="unit")
    flips = xr.concat(flips, dim="unit")
    cpd = xr.concat(cpds, dim="unit")

    # agents (trained and untrained, same architecture) and baselines on the monkeys' protocol
    trained = _agent_block(ctx.subjects["agent"], [f"agent/seed{i}" for i in range(len(ctx.subjects["agent"]))], seed + 1000, size)
    cfg = ctx.experiment.train["agent"]
    untrained_subjects = [AgentSubject(build_agent(dataclasses.replace(cfg, seed=i)), cfg.gamma, name=f"untrained seed {i}")
                          for i in range(len(ctx.subjects["agent"]))]
    untrained = _agent_block(untrained_subjects, [f"untrained/seed{i}" for i in range(len(untrained_subjects))], seed + 2000, size)
    mparams = pd.DataFrame([monkeys_pooled["params"]["monkeys"]])  # the baselines play with the monkeys' parameters
    base_tables = []
    for name, w in (("model-free", 0.0), ("model-based", 1.0), ("hybrid", float(mparams["w"].iloc[0]))):
        params = pd.concat([mparams.assign(w=w)] * len(ctx.subjects["agent"]), ignore_index=True)
        rec = HybridTwoStep().simulate(TASK, params=params, n_episodes=size["n_test"], seed=seed + 3000)
        table = validate_table(recording_to_table(rec))
        base_tables.append(table.assign(subject=name + "/" + table["subject"].astype(str)))

    behaviour_numbers = {
        "monkeys": monkeys, "monkeys_pooled": monkeys_pooled, "agents": behaviour(trained["table"], n_starts),
        "baselines": {name: behaviour(t, n_starts) for name, t in zip(("model-free", "model-based", "hybrid"), base_tables)},
    }
    agent_stay = np.array(list(behaviour_numbers["agents"]["stay"].values()))
    monkey_stay = np.array(behaviour_numbers["monkeys_pooled"]["stay"]["monkeys"])
    behaviour_numbers["distance_to_monkeys"] = {
        "agents": float(np.linalg.norm(agent_stay.mean(0) - monkey_stay)),
        **{name: float(np.linalg.norm(np.array(list(b["stay"].values())).mean(0) - monkey_stay))
           for name, b in behaviour_numbers["baselines"].items()}}

    # unit coding: fractions per area / agent seed, with the shift null
    agent_coding = xr.concat([code_units(n, r, seed, size["n_shuffles"]) for n, r in zip(trained["neurons"], trained["regs"])], dim="unit")
    untrained_coding = xr.concat([code_units(n, r, seed, size["n_shuffles"])
                                  for n, r in zip(untrained["neurons"], untrained["regs"])], dim="unit")
    seeds_of = lambda c: np.array([u.split("/")[1] for u in c["unit"].values])  # noqa: E731
    frac, null = fractions(coding, "area")
    afrac = agent_coding["sig"].mean("unit")
    anull = agent_coding["null_sig"].mean("unit")
    ufrac = untrained_coding["sig"].mean("unit")
    per_seed = agent_coding["sig"].groupby(xr.DataArray(seeds_of(agent_coding), dims="unit", name="seed")).mean("unit")

    def p_null(obs, nul):
        return ((1 + (nul >= obs - 1e-12).sum("shuffle")) / (1 + nul.sizes["shuffle"]))

    # coding profiles and representational similarity, bootstrapped over sessions and seeds
    rng = np.random.default_rng(seed)
    sessions_of = coding["session"].values
    profile = {a: profile_similarity(afrac.values, frac.sel(area=a).values) for a in AREAS}
    profile_untrained = {a: profile_similarity(ufrac.values, frac.sel(area=a).values) for a in AREAS}
    boot = {a: [] for a in AREAS}
    aseeds = seeds_of(agent_coding)
    for _ in range(n_boot):
        agent_b = _boot_fraction(agent_coding["sig"], aseeds, rng)
        for a in AREAS:
            in_area = coding["area"].values == a
            area_b = _boot_fraction(coding["sig"].isel(unit=np.flatnonzero(in_area)), sessions_of[in_area], rng)
            boot[a].append(profile_similarity(agent_b, area_b))
    boot = {a: np.array(v) for a, v in boot.items()}
    ranked = sorted(AREAS, key=lambda a: -profile[a])
    best, second = ranked[0], ranked[1]

    agent_patterns = [condition_patterns(n, r) for n, r in zip(trained["neurons"], trained["regs"])]
    untrained_patterns = [condition_patterns(n, r) for n, r in zip(untrained["neurons"], untrained["regs"])]
    agent_rdm = rdm(np.concatenate(agent_patterns, 1))
    untrained_rdm = rdm(np.concatenate(untrained_patterns, 1))
    rsa = {}
    for area in AREAS:
        per_monkey = {m: np.concatenate([condition_patterns(n, r) for n, r in patterns[(area, m)]], 1)
                      for m in ("Charlie", "Jacob") if (area, m) in patterns}
        monkey_rdms = [rdm(p) for p in per_monkey.values()]
        area_rdm = rdm(np.concatenate(list(per_monkey.values()), 1))
        lower, upper = noise_ceiling(monkey_rdms) if len(monkey_rdms) > 1 else (float("nan"), float("nan"))
        sims = [rdm_similarity(agent_rdm, r) for r in monkey_rdms]
        shuffled = []
        for _ in range(max(n_boot // 4, 10)):
            shuf = np.concatenate([condition_patterns(n, r, rng) for m in per_monkey for n, r in patterns[(area, m)]], 1)
            shuffled.append(rdm_similarity(agent_rdm, rdm(shuf)))
        boots = []
        sessions_here = [(m, i) for m in per_monkey for i in range(len(patterns[(area, m)]))]
        for _ in range(max(n_boot // 4, 2)):
            pick = rng.integers(len(sessions_here), size=len(sessions_here))
            area_b = np.concatenate([condition_patterns(*patterns[(area, sessions_here[j][0])][sessions_here[j][1]]) for j in pick], 1)
            seeds_b = rng.integers(len(agent_patterns), size=len(agent_patterns))
            agent_b = np.concatenate([agent_patterns[j] for j in seeds_b], 1)
            boots.append(rdm_similarity(rdm(agent_b), rdm(area_b)) - rdm_similarity(untrained_rdm, rdm(area_b)))
        rsa[area] = {"agent": rdm_similarity(agent_rdm, area_rdm), "agent_per_monkey": sims,
                     "untrained": rdm_similarity(untrained_rdm, area_rdm), "noise_ceiling": [lower, upper],
                     "shuffled_null_95": float(np.percentile(shuffled, 95)),
                     "trained_minus_untrained_ci": np.percentile(boots, [2.5, 97.5]).tolist(),
                     "rdm": area_rdm.get_matrices()[0].tolist()}
    rsa_agent_rdm = agent_rdm.get_matrices()[0].tolist()

    # the caudate (and every area's) chosen-value flip after rare transitions
    flip = {}
    for area in AREAS:
        f = flips.isel(unit=np.flatnonzero(flips["area"].values == area))
        c, r = f.sel(transition_kind="common").values, f.sel(transition_kind="rare").values
        ok = np.isfinite(c) & np.isfinite(r)
        c, r = c[ok], r[ok]
        boots = [np.corrcoef(c[i], r[i])[0, 1] for i in (rng.integers(len(c), size=len(c)) for _ in range(1000))]
        flip[area] = {"r": float(np.corrcoef(c, r)[0, 1]), "ci": np.percentile(boots, [2.5, 97.5]).tolist(), "n_units": int(ok.sum())}

    cpd_area = cpd.groupby("area").mean("unit")
    agent_cpd = agent_coding["cpd"].mean("unit")
    return {
        "areas": list(AREAS), "periods": list(PERIODS), "regressors": list(REGRESSORS),
        "n_units": {a: int((coding["area"].values == a).sum()) for a in AREAS},
        "n_agent_units": int(agent_coding.sizes["unit"]), "n_sessions": int(len(sessions)),
        "n_replicas": len(ctx.subjects["agent"]), "n_neural_trials": int(trained["neurons"][0].sizes["episode"] * trained["neurons"][0].sizes["trial"]),
        "n_test_episodes": size["n_test"], "n_shuffles": size["n_shuffles"], "n_boot": n_boot, "alpha": ALPHA,
        "behaviour": behaviour_numbers,
        "fraction": {a: frac.sel(area=a).transpose("period", "regressor").values.tolist() for a in AREAS},
        "fraction_null_mean": {a: null.sel(area=a).mean("shuffle").transpose("period", "regressor").values.tolist() for a in AREAS},
        "fraction_p_null": {a: p_null(frac.sel(area=a), null.sel(area=a)).transpose("period", "regressor").values.tolist() for a in AREAS},
        "agent_fraction": afrac.transpose("period", "regressor").values.tolist(),
        "agent_fraction_per_seed": per_seed.transpose("seed", "period", "regressor").values.tolist(),
        "agent_fraction_null_95": anull.quantile(0.95, "shuffle").transpose("period", "regressor").values.tolist(),
        "agent_fraction_p_null": p_null(afrac, anull).transpose("period", "regressor").values.tolist(),
        "untrained_fraction": ufrac.transpose("period", "regressor").values.tolist(),
        "profile_similarity": profile, "profile_similarity_untrained": profile_untrained,
        "profile_ci": {a: np.percentile(boot[a], [2.5, 97.5]).tolist() for a in AREAS},
        "profile_best": best, "profile_second": second,
        "profile_best_minus_second_ci": np.percentile(boot[best] - boot[second], [2.5, 97.5]).tolist(),
        "rsa": rsa, "rsa_agent_rdm": rsa_agent_rdm, "rsa_periods": list(RSA_PERIODS),
        "value_flip": flip,
        "cpd_time": cpd["time"].values.tolist(),
        "cpd": {a: cpd_area.sel(area=a).transpose("period", "regressor", "time").values.tolist() for a in AREAS},
        "agent_cpd": agent_cpd.transpose("period", "regressor").values.tolist(),
        "fit_notes": list(FIT_NOTES),
    }


# ---------------------------------------------------------------------------------------------- figure
COLOURS = dict(zip(AREAS + ("agents", "untrained"), PALETTE))


def plot(n: dict, out_dir: Path) -> list[Path]:
    """Draw ``monkey_twostep_behaviour`` (stay by transition × outcome, the lagged model-based pattern,
    hybrid w), ``monkey_twostep_neurons`` (coding fractions per period against the shift null, CPD time
    courses) and ``monkey_twostep_similarity`` (coding profiles, representational similarity, RDMs)."""
    regs, periods = n["regressors"], n["periods"]
    paths = []
    with use_style():
        # behaviour: stay bars, lag curves, w
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
        groups = {"monkeys": n["behaviour"]["monkeys_pooled"], "agents": n["behaviour"]["agents"],
                  **{k: v for k, v in n["behaviour"]["baselines"].items()}}
        width = 0.8 / len(groups)
        for j, (name, b) in enumerate(groups.items()):
            stay = np.array(list(b["stay"].values()))
            m, s = stay.mean(0), (stay.std(0, ddof=1) / np.sqrt(len(stay)) if len(stay) > 1 else np.zeros(4))
            axes[0].bar(np.arange(4) + j * width, m, width, yerr=s, label=name)
        axes[0].set_xticks(np.arange(4) + 0.4 - width / 2, ["common\nhigh", "rare\nhigh", "common\nlow/med", "rare\nlow/med"])
        axes[0].set_ylabel("P(repeat first-stage choice)")
        axes[0].set_ylim(0, 1)
        axes[0].legend(fontsize=6, ncol=2)
        axes[0].set_title("a  stay by previous transition × outcome")
        for j, (name, b) in enumerate(groups.items()):
            coef = np.array(list(b["lag_coef"].values()))  # subject, trial_type, lag
            mb = (coef[:, 0] - coef[:, 1] - coef[:, 2] + coef[:, 3]) / 4  # CR − CO − RR + RO: the model-based pattern
            axes[1].plot(np.arange(1, mb.shape[1] + 1), np.nanmean(mb, 0), "o-", label=name, color=PALETTE[j])
        axes[1].axhline(0, color="0.6", lw=0.8)
        axes[1].set_yscale("symlog", linthresh=1.0)  # near-deterministic agents' lag-1 fits run large
        axes[1].set_xlabel("lag (trials)")
        axes[1].set_ylabel("(CR − CO − RR + RO) / 4")
        axes[1].set_title("b  lagged regression: model-based pattern")
        for j, (name, b) in enumerate(groups.items()):
            w = np.array(list(b["w"].values()), float)
            axes[2].scatter(np.full(len(w), j) + np.linspace(-0.15, 0.15, len(w)), w, color=PALETTE[j], s=14)
        monkey_w = n["behaviour"]["monkeys"]["w"]
        axes[2].scatter([0, 0], list(monkey_w.values()), marker="x", color="k", s=20, label="each monkey")
        axes[2].set_xticks(range(len(groups)), list(groups), rotation=20)
        axes[2].set_ylabel("hybrid model-based weight w")
        axes[2].set_ylim(-0.05, 1.05)
        axes[2].legend(fontsize=6)
        axes[2].set_title("c  hybrid fit")
        fig.tight_layout()
        paths += save_figure(fig, out_dir / "monkey_twostep_behaviour")
        plt.close(fig)

        # neurons: coding fractions per period, per regressor; CPD time courses
        fig, axes = plt.subplots(2, len(periods), figsize=(16, 6.8), sharey="row")
        x = np.arange(len(regs))
        width = 0.8 / (len(AREAS) + 1)
        for k, period in enumerate(periods):
            ax = axes[0, k]
            for j, area in enumerate(AREAS):
                ax.bar(x + j * width, np.array(n["fraction"][area])[k], width, color=COLOURS[area], label=f"{area} (n={n['n_units'][area]})")
                ax.scatter(x + j * width, np.array(n["fraction_null_mean"][area])[k], color="0.3", marker="_", s=20, zorder=3)
            ax.bar(x + len(AREAS) * width, np.array(n["agent_fraction"])[k], width, color=COLOURS["agents"],
                   label=f"agents (n={n['n_agent_units']})", hatch="//", edgecolor="white")
            ax.set_xticks(x + 0.4, [r.replace("reward_x_transition_x_choice", "R×T×C").replace("reward_x_transition", "R×T")
                                    for r in regs], rotation=60, fontsize=6)
            ax.set_title(period)
            if k == 0:
                ax.set_ylabel(f"fraction of units with p < {n['alpha']}")
                fig.legend(loc="upper center", ncol=5, fontsize=7, bbox_to_anchor=(0.5, 0.955), frameon=False)
        time = np.array(n["cpd_time"]) + (n["cpd_time"][1] - n["cpd_time"][0]) / 2
        agent_top = 1.1 * 100 * np.nanmax(np.array(n["agent_cpd"]))
        for k, period in enumerate(periods):
            ax = axes[1, k]
            twin = ax.twinx()  # the agents' CPDs run an order of magnitude above the neurons': their own axis
            for reg, style, marker in (("reward", "-", "o"), ("transition", "--", "s"), ("reward_x_transition_x_choice", ":", "^")):
                i = regs.index(reg)
                for area in AREAS:
                    ax.plot(time, 100 * np.array(n["cpd"][area])[k, i], style, color=COLOURS[area], lw=1,
                            label=f"{area}" if reg == "reward" else None)
                twin.plot([1.15], [100 * np.array(n["agent_cpd"])[k, i]], marker=marker, color=COLOURS["agents"], ls="none",
                          label=f"agents: {reg.replace('reward_x_transition_x_choice', 'R×T×C')}")
            twin.set_ylim(0, agent_top)
            twin.spines["right"].set_visible(True)
            twin.tick_params(axis="y", colors=COLOURS["agents"], labelsize=6)
            ax.axvline(0, color="0.6", lw=0.8)
            ax.set_xlim(-1.0, 1.25)
            ax.set_xlabel(f"time from {period} event (s)")
            if k == 0:
                ax.set_ylabel("neurons: mean CPD (%)")
                ax.legend(fontsize=6, title="— reward, -- transition, ··· R×T×C", title_fontsize=6, loc="upper left")
            if k == len(periods) - 1:
                twin.set_ylabel("agents: mean CPD (%), markers", color=COLOURS["agents"])
                twin.legend(fontsize=6, loc="upper left")
        fig.suptitle(f"Monkey units (ACC, DLPFC, caudate, putamen; bars, '–' = mean of the circular-shift null) and agent units "
                     f"({n['n_agent_units']} LSTM units, {n['n_replicas']} replicas, {n['n_neural_trials']} trials each) "
                     "through the same regressions", fontsize=10)
        fig.tight_layout(rect=(0, 0, 1, 0.93))
        paths += save_figure(fig, out_dir / "monkey_twostep_neurons")
        plt.close(fig)

        # populations: profile similarity, RSA with ceilings and nulls, RDMs
        fig, axes = plt.subplots(1, 4, figsize=(16, 3.8), gridspec_kw={"width_ratios": [1.2, 1.2, 1, 1]})
        xs = np.arange(len(AREAS))
        sims = [n["profile_similarity"][a] for a in AREAS]
        ci = np.array([n["profile_ci"][a] for a in AREAS])
        axes[0].bar(xs, sims, color=[COLOURS[a] for a in AREAS])
        axes[0].vlines(xs, ci[:, 0], ci[:, 1], color="k")  # the bootstrap interval (it need not contain the bar's top)
        axes[0].scatter(xs, [n["profile_similarity_untrained"][a] for a in AREAS], marker="x", color="k", label="untrained network", zorder=3)
        axes[0].set_xticks(xs, AREAS)
        axes[0].set_ylabel("r(agent profile, area profile)")
        axes[0].legend(fontsize=6)
        axes[0].set_title("a  coding profiles (95% bootstrap CI)")
        rsa = n["rsa"]
        axes[1].bar(xs, [rsa[a]["agent"] for a in AREAS], color=[COLOURS[a] for a in AREAS])
        axes[1].scatter(xs, [rsa[a]["untrained"] for a in AREAS], marker="x", color="k", label="untrained network", zorder=3)
        axes[1].scatter(xs, [rsa[a]["shuffled_null_95"] for a in AREAS], marker="_", color="0.3", s=120, label="shuffled 95%", zorder=3)
        for j, a in enumerate(AREAS):
            lo, hi = rsa[a]["noise_ceiling"]
            axes[1].fill_between([j - 0.4, j + 0.4], lo, hi, color="0.85", zorder=0, label="noise ceiling" if j == 0 else None)
        axes[1].set_xticks(xs, AREAS)
        axes[1].set_ylabel("RDM similarity (Pearson r)")
        axes[1].legend(fontsize=6)
        axes[1].set_title("b  representational similarity")
        labels = [f"{p[:4]}" for p in n["rsa_periods"]]
        rsa_best = max(AREAS, key=lambda a: rsa[a]["agent"])
        for ax, name, mat in ((axes[2], "agents", n["rsa_agent_rdm"]), (axes[3], rsa_best, rsa[rsa_best]["rdm"])):
            im = ax.imshow(np.array(mat), cmap="viridis")
            ax.set_title(f"RDM: {name}")
            ax.set_xticks(np.arange(len(labels)) * 12 + 6, labels)
            ax.set_yticks(np.arange(len(labels)) * 12 + 6, labels)
            fig.colorbar(im, ax=ax, fraction=0.046)
        fig.suptitle("Populations: 12 conditions (choice × transition × reward level) × 3 periods", fontsize=10)
        fig.tight_layout()
        paths += save_figure(fig, out_dir / "monkey_twostep_similarity")
        plt.close(fig)
    return paths


# ---------------------------------------------------------------------------------------------- claims
def _frac(n, group, period, reg):
    table = n["fraction"][group] if group in n["fraction"] else n["agent_fraction"]
    return np.array(table)[n["periods"].index(period), n["regressors"].index(reg)]


def _p(n, area, period, reg):
    return np.array(n["fraction_p_null"][area])[n["periods"].index(period), n["regressors"].index(reg)]


def _reward_all_areas(n):
    fr = {a: _frac(n, a, "outcome", "reward") for a in AREAS}
    ok = all(_p(n, a, "outcome", "reward") < ALPHA for a in AREAS) and max(fr, key=fr.get) == "ACC"
    return ", ".join(f"{a} {fr[a]:.2f} (p_null {_p(n, a, 'outcome', 'reward'):.3f})" for a in AREAS), ok


def _acc_rtc(n):
    fr = {a: _frac(n, a, "outcome", "reward_x_transition_x_choice") for a in AREAS}
    return ", ".join(f"{a} {fr[a]:.3f}" for a in AREAS), fr["ACC"] > fr["DLPFC"] and fr["ACC"] > fr["Putamen"]


def _flip(n):
    f = n["value_flip"]["Caudate"]
    others = ", ".join(f"{a} {n['value_flip'][a]['r']:+.2f}" for a in AREAS if a != "Caudate")
    return f"caudate r {f['r']:+.2f} [{f['ci'][0]:+.2f}, {f['ci'][1]:+.2f}], n = {f['n_units']} (others: {others})", f["ci"][1] < 0


def _agents_mb(n):
    b = n["behaviour"]["agents"]
    mb = np.array(list(b["mb_index"].values()))
    w = np.array(list(b["w"].values()), float)
    m, s = mean_sem(mb)
    t = stats.ttest_1samp(mb, 0.0)
    d = n["behaviour"]["distance_to_monkeys"]
    text = (f"stay interaction {m:.2f} ± {s:.2f} (t-test p {t.pvalue:.2g}); median w {np.median(w):.2f} "
            f"[{w.min():.2f}, {w.max():.2f}]; distance to the monkeys' stay {d['agents']:.2f} "
            f"(MF {d['model-free']:.2f}, MB {d['model-based']:.2f}, hybrid {d['hybrid']:.2f})")
    return text, m > 0 and t.pvalue < ALPHA and np.median(w) > 0.5


def _agents_encode(n):
    parts, ok = [], True
    for reg, period in (("reward", "outcome"), ("transition", "transition"), ("reward_x_transition_x_choice", "outcome")):
        i, k = n["regressors"].index(reg), n["periods"].index(period)
        obs, thr = np.array(n["agent_fraction"])[k, i], np.array(n["agent_fraction_null_95"])[k, i]
        parts.append(f"{reg}@{period} {obs:.2f} (null 95% {thr:.2f})")
        ok &= obs > thr
    return "; ".join(parts), ok


def _profile(n):
    best, lo_hi = n["profile_best"], n["profile_best_minus_second_ci"]
    sims = ", ".join(f"{a} {n['profile_similarity'][a]:.2f} [{n['profile_ci'][a][0]:.2f}, {n['profile_ci'][a][1]:.2f}]" for a in AREAS)
    text = f"{sims}; best {best}, minus {n['profile_second']} CI [{lo_hi[0]:+.2f}, {lo_hi[1]:+.2f}]"
    return text, best in ("ACC", "DLPFC") and lo_hi[0] > 0


def _rsa(n):
    best = max(AREAS, key=lambda a: n["rsa"][a]["agent"])
    r = n["rsa"][best]
    ci = r["trained_minus_untrained_ci"]
    text = (f"best {best}: agent {r['agent']:.2f}, untrained {r['untrained']:.2f}, trained − untrained CI "
            f"[{ci[0]:+.2f}, {ci[1]:+.2f}], shuffled null 95% {r['shuffled_null_95']:.2f}, noise ceiling "
            f"[{r['noise_ceiling'][0]:.2f}, {r['noise_ceiling'][1]:.2f}]")
    return text, ci[0] > 0 and r["agent"] > r["shuffled_null_95"]


def reference_tables(n) -> list[dict]:
    """The report's reference rows: animals, humans and the paper's model beside ours."""
    keys = ["common_rewarded", "rare_rewarded", "common_unrewarded", "rare_unrewarded"]
    b = n["behaviour"]
    stay = {f"monkey {s} (Miranda et al. 2025 data)": v for s, v in b["monkeys"]["stay"].items()}
    stay["meta-RL agent, ours (mean over seeds)"] = np.mean(list(b["agents"]["stay"].values()), 0).tolist()
    stay.update({f"{name} baseline, monkeys' parameters": np.mean(list(v["stay"].values()), 0).tolist()
                 for name, v in b["baselines"].items()})
    regs = ["reward", "transition", "reward_x_transition_x_choice", "mb_value"]
    at = n["periods"].index("outcome")
    frac = {f"{area} neurons": [n["fraction"][area][at][n["regressors"].index(r)] for r in regs] for area in n["areas"]}
    frac["meta-RL agent units, ours"] = [n["agent_fraction"][at][n["regressors"].index(r)] for r in regs]
    return [reference_table("Stay probabilities (outcome: high level vs the lower two)", keys, stay),
            reference_table("Fraction of units coding each regressor at outcome (p < 0.05)", regs, frac)]


CLAIMS = (
    Claim("monkeys_reward_all_areas_acc_most", "all four areas encode reward at outcome, ACC the most (Miranda et al. 2025)",
          "all four areas; ACC strongest", "every area's fraction above the circular-shift null (p < 0.05) and ACC's the largest",
          _reward_all_areas),
    Claim("monkeys_acc_reward_transition_choice", "ACC encodes the reward × transition × choice interaction more than DLPFC and putamen",
          "ACC > DLPFC, putamen (caudate to a lesser degree)", "ACC's fraction at outcome above DLPFC's and putamen's",
          _acc_rtc),
    Claim("monkeys_caudate_value_flip", "caudate chosen-value coding flips after rare transitions",
          "caudate value estimates flip after a rare transition",
          "across caudate units, r(β common, β rare) of the chosen value at the transition < 0 (95% CI over units below 0)",
          _flip),
    Claim("agents_model_based", "the agents' behaviour on the monkeys' protocol is model-based (compared with the monkeys')",
          "Wang et al.: meta-RL agents are model-based on the two-step task",
          "mean stay interaction > 0 (one-sample t-test p < 0.05 over seeds) and median hybrid w > 0.5",
          _agents_mb),
    Claim("agents_encode_reward_transition_interaction", "agent units encode reward, transition and the model-based interaction",
          "(new)", "agent fraction (all seeds) above the 95th percentile of its circular-shift null for each",
          _agents_encode),
    Claim("agents_profile_resembles_prefrontal", "the agents' coding profile resembles one area more than the others, a prefrontal one",
          "Wang et al. 2018 predict prefrontal cortex", "best area ACC or DLPFC and r(best) − r(second) 95% bootstrap CI above 0",
          _profile),
    Claim("agents_similarity_above_untrained", "agent-vs-area representational similarity exceeds an untrained network's",
          "(new)", "best area: trained − untrained 95% bootstrap CI above 0 and above the condition-shuffled null's 95th percentile",
          _rsa),
)

MONKEY = register(Experiment(
    name="monkey-twostep",
    title="Real neurons beside agent units: the monkey two-step task (Miranda et al. 2025)",
    # truncated unrolls (30 steps = 10 trials): whole-episode unrolls stayed at chance (0.49 a trial) after
    # 25,600 episodes in a pilot; the sequence pass is the faster learning pass with the same gradients
    train={"agent": TrainConfig(task=TASK, train_episodes=76_800, unroll=30, learning_pass="sequence",
                                n_threads=1, eval_episodes=0)},
    analyse=analyse, plot=plot, claims=CLAIMS, n_seeds=8, description=__doc__, datasets=("monkey-twostep",), sizes=SIZES,
    references=reference_tables,
))
