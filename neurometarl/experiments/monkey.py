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
import json
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from ..agents import AgentSubject, TrainConfig, build_agent
from ..analysis.behaviour import stay_probabilities, twostep_lag_regression
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
SUBJECTS = ("Charlie", "Jacob")
BASELINES = ("model-free", "model-based", "hybrid")
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
#: the stay cells (previous transition, outcome) in the order the figures and tables show them
STAY_CELLS = (("common", "rewarded"), ("rare", "rewarded"), ("common", "unrewarded"), ("rare", "unrewarded"))


# --------------------------------------------------------------------------------------------- behaviour
def high_reward(table: pd.DataFrame) -> pd.DataFrame:
    """The table with ``reward`` = 1 on the high level only (the authors' stay split: high vs low/medium)."""
    return table.assign(reward=(table["reward"] >= 1.0).astype(float))


#: the hybrid's parameters as reported
HYBRID_PARAMS = ("alpha1", "alpha2", "lambda", "beta1", "beta2", "perseveration", "w")


def hybrid_fit(table: pd.DataFrame, n_starts: int = SIZES["fit_starts"], notes: list[str] | None = None
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Daw hybrid fitted to each subject of ``table`` (second-stage choices modelled): (params, latents).
    With ``notes``, the fit's warnings (parameters at a bound...) go there instead of to the terminal."""
    model = HybridTwoStep(n_starts=n_starts, random_state=0)
    if notes is None:
        model.fit(table)
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(table)
        notes.extend(f"{', '.join(map(str, pd.unique(table['subject'])[:3]))}...: {w.message}" for w in caught)
    return model.params_, model.latents(table)


def behaviour(table: pd.DataFrame, params: pd.DataFrame, group: str) -> xr.Dataset:
    """Stay probabilities (``stay_prob``, ``stay_se`` on subject × transition × outcome; ``mb_index``,
    ``mf_index``), Miller lag coefficients (``lag_coef`` on subject × trial_type × lag) and the fitted hybrid's
    parameters (``hybrid_param`` on subject × parameter; ``params`` from :func:`hybrid_fit` of the same table) of
    every subject in ``table``, labelled ``group``."""
    split = high_reward(table)
    stay = stay_probabilities(split)
    with warnings.catch_warnings():  # near-deterministic agents separate; 'converged' records it
        warnings.filterwarnings("ignore", message="twostep_lag_regression: the logistic fit did not converge")
        lags = twostep_lag_regression(split, n_lags=5)
    names = [c for c in HYBRID_PARAMS if c in params.columns]
    out = xr.Dataset({
        "stay_prob": stay["stay_prob"].assign_attrs(long_name="P(repeat first-stage choice), outcome = high level"),
        "stay_se": stay["se"],
        "mb_index": stay["mb_index"], "mf_index": stay["mf_index"],
        "lag_coef": lags["coef"].assign_attrs(long_name="Miller lag-regression coefficient (high level = rewarded)",
                                             units="log-odds"),
        "hybrid_param": (("subject", "parameter"), params.loc[[str(x) for x in stay["subject"].values], names].to_numpy(float),
                         {"long_name": "Daw hybrid parameter, fitted to the subject's choices", "units": "1"}),
    }, coords={"parameter": names})
    return out.assign_coords(group=("subject", [group] * out.sizes["subject"],
                                    {"long_name": "whose choices: monkey, monkeys (pooled), agents or a baseline", "units": "1"}))


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


def value_flip(nds: xr.Dataset, regs: dict) -> xr.DataArray:
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
    if pair is None:
        return float("nan")
    first, second = pair
    return float(rsatoolbox.rdm.compare(first, second, method="corr")[0, 0])


def noise_ceiling(rdms: list) -> tuple[float, float]:
    """rsatoolbox's leave-one-out noise ceiling (lower, upper) over per-monkey RDMs of one area."""
    import rsatoolbox

    aligned = _aligned(*rdms)
    if aligned is None:
        return float("nan"), float("nan")
    lower, upper = rsatoolbox.inference.boot_noise_ceiling(rsatoolbox.rdm.concat(aligned), method="corr")
    return float(lower), float(upper)


# -------------------------------------------------------------------------------------------- analysis
def _agent_block(subjects, labels, seed0: int, size: dict, notes: list[str]) -> dict:
    """Record, tabulate, fit and regress a list of agent subjects (trained or untrained)."""
    tables, neurons, regs = [], [], []
    n_test, n_neural = size["n_test"], size["n_neural_episodes"]
    for i, (subject, label) in enumerate(zip(subjects, labels)):
        ds = record_session(subject, make_task(TASK, n_test), n_test, seed=seed0 + i)
        table = validate_table(recording_to_table(ds, episodes_as="sessions", subject=label))
        tables.append(table)
        neurons.append(agent_neurons(ds.isel(episode=slice(0, n_neural)), label))
    joined = pd.concat(tables, ignore_index=True)
    params, latents = hybrid_fit(joined, size["fit_starts"], notes)
    for table, nds in zip(tables, neurons):
        rows = latents.loc[latents["subject"] == table["subject"].iloc[0]]
        regs.append({k: v[:n_neural] for k, v in session_regressors(table, rows, n_test).items()})
    return {"table": joined, "params": params, "neurons": neurons, "regs": regs}


def analyse(ctx: Context) -> xr.Dataset:
    """Monkeys, agents and baselines through the same analyses: behaviour (stay, lagged regressions, hybrid fit) of
    the monkeys over all sessions, of the trained agents on ``twostep-monkey`` and of the hybrid played at w = 0, 1
    and the monkeys' w; unit coding against the circular-shift null in the ``n_sessions`` sessions recording the
    most areas and cells and in trained and untrained agents; coding-profile and RDM similarity of the agents to
    each area with bootstrap intervals; the chosen-value flip after rare transitions and CPD time courses per area."""
    seed, size = ctx.seed, ctx.sizes
    n_boot, n_starts = size["n_boot"], size["fit_starts"]
    notes: list[str] = []  # the fits' warnings (parameters at a bound...), kept in the numbers' attrs
    # the monkeys: behaviour over all 57 sessions; neurons session by session
    mtable = validate_table(monkey_table(None))
    mparams_each, mlat = hybrid_fit(mtable, n_starts, notes)
    pooled = mtable.assign(subject="monkeys", session=mtable["session"] + 100 * (mtable["subject"] == "Jacob"))
    monkeys = behaviour(mtable, mparams_each, "monkey")
    monkeys_pooled = behaviour(pooled, hybrid_fit(pooled, n_starts, notes)[0], "monkeys")
    sessions = monkey_sessions(None)
    sessions = sessions.assign(n_areas=sessions["areas"].str.count(",") + 1).sort_values(
        ["n_areas", "n_cells"], ascending=False, kind="stable").head(size["n_sessions"]).sort_values(["subject", "session"])
    coding_parts: list[xr.Dataset] = []
    flip_parts: list[xr.DataArray] = []
    cpd_parts: list[xr.DataArray] = []
    patterns: dict[tuple[str, str], list] = {}
    for row in progress_bar(list(sessions.itertuples()), desc="monkey sessions", unit="session"):
        nds = read_monkey_session(None, row.subject, row.session, bin_ms=BIN_MS)
        keep = (mtable["subject"] == row.subject) & (mtable["session"] == row.session)
        regs = session_regressors(mtable.loc[keep], mlat.loc[keep], 1)
        coding_parts.append(code_units(nds, regs, seed, size["n_shuffles"]))
        flip_parts.append(value_flip(nds, regs))
        cpd_parts.append(cpd_time_course(nds, regs))
        for area in AREAS:
            if (nds["area"].values == area).any():
                sub = nds.isel(unit=np.flatnonzero(nds["area"].values == area))
                patterns.setdefault((area, row.subject), []).append((sub, regs))
    coding = xr.concat(coding_parts, dim="unit")
    flips = xr.concat(flip_parts, dim="unit")
    cpd = xr.concat(cpd_parts, dim="unit")

    # agents (trained and untrained, same architecture) and baselines on the monkeys' protocol
    trained = _agent_block(ctx.subjects["agent"], [f"agent/seed{i}" for i in range(len(ctx.subjects["agent"]))], seed + 1000, size, notes)
    cfg = ctx.experiment.train["agent"]
    untrained_subjects = [AgentSubject(build_agent(dataclasses.replace(cfg, seed=i)), cfg.gamma, name=f"untrained seed {i}")
                          for i in range(len(ctx.subjects["agent"]))]
    untrained = _agent_block(untrained_subjects, [f"untrained/seed{i}" for i in range(len(untrained_subjects))], seed + 2000, size, notes)
    # the baselines play with the monkeys' (pooled) parameters
    mparams = pd.DataFrame(monkeys_pooled["hybrid_param"].values, columns=monkeys_pooled["parameter"].values)
    base_tables = []
    for name, w in zip(BASELINES, (0.0, 1.0, float(mparams["w"].iloc[0]))):
        params = pd.concat([mparams.assign(w=w)] * len(ctx.subjects["agent"]), ignore_index=True)
        rec = HybridTwoStep().simulate(TASK, params=params, n_episodes=size["n_test"], seed=seed + 3000)
        table = validate_table(recording_to_table(rec))
        base_tables.append(table.assign(subject=name + "/" + table["subject"].astype(str)))

    behaviour_ds = xr.concat([monkeys, monkeys_pooled, behaviour(trained["table"], trained["params"], "agents"),
                              *(behaviour(t, hybrid_fit(t, n_starts, notes)[0], name) for name, t in zip(BASELINES, base_tables))],
                             dim="subject")

    # unit coding: fractions per area / agent seed, with the shift null
    agent_coding = xr.concat([code_units(n, r, seed, size["n_shuffles"]) for n, r in zip(trained["neurons"], trained["regs"])], dim="unit")
    untrained_coding = xr.concat([code_units(n, r, seed, size["n_shuffles"])
                                  for n, r in zip(untrained["neurons"], untrained["regs"])], dim="unit")
    seeds_of = lambda c: np.array([u.split("/")[1] for u in c["unit"].values])  # noqa: E731
    frac, null = fractions(coding, "area")
    afrac = agent_coding["sig"].mean("unit")
    ufrac = untrained_coding["sig"].mean("unit")
    per_seed = agent_coding["sig"].groupby(xr.DataArray(seeds_of(agent_coding), dims="unit", name="seed")).mean("unit")

    def p_null(obs, nul):
        return ((1 + (nul >= obs - 1e-12).sum("shuffle")) / (1 + nul.sizes["shuffle"]))

    # coding profiles and representational similarity, bootstrapped over sessions and seeds
    rng = np.random.default_rng(seed)
    sessions_of = coding["session"].values
    profile = {a: profile_similarity(afrac.values, frac.sel(area=a).values) for a in AREAS}
    profile_untrained = {a: profile_similarity(ufrac.values, frac.sel(area=a).values) for a in AREAS}
    boot_lists: dict[str, list[float]] = {a: [] for a in AREAS}
    aseeds = seeds_of(agent_coding)
    for _ in range(n_boot):
        agent_b = _boot_fraction(agent_coding["sig"], aseeds, rng)
        for a in AREAS:
            in_area = coding["area"].values == a
            area_b = _boot_fraction(coding["sig"].isel(unit=np.flatnonzero(in_area)), sessions_of[in_area], rng)
            boot_lists[a].append(profile_similarity(agent_b, area_b))
    boot = {a: np.array(v) for a, v in boot_lists.items()}
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
        rsa[area] = {"agent": rdm_similarity(agent_rdm, area_rdm),
                     "agent_per_monkey": [dict(zip(per_monkey, sims)).get(m, float("nan")) for m in SUBJECTS],
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

    nets = {"agents": agent_coding, "untrained": untrained_coding}
    # (groupby sorts the areas: select them in AREAS order before labelling by position)
    frac = xr.concat([frac.sel(area=list(AREAS)), *(c["sig"].mean("unit").expand_dims(area=[k]) for k, c in nets.items())], dim="area")
    null = xr.concat([null.sel(area=list(AREAS)), *(c["null_sig"].mean("unit").expand_dims(area=[k]) for k, c in nets.items())],
                     dim="area")
    frac, null = frac.rename(area="population"), null.rename(area="population")
    n_units = [int((coding["area"].values == a).sum()) for a in AREAS] + [c.sizes["unit"] for c in nets.values()]
    # condition_patterns' order: period, then choice (A, B) × transition (rare, common) × reward level (0, 1, 2)
    labels = [f"{'AB'[k // 6]}/{('rare', 'common')[k // 3 % 2]}/reward {k % 3}@{p}" for p in RSA_PERIODS for k in range(12)]
    frac_attrs = {"long_name": f"fraction of units coding the regressor (p < {ALPHA})", "units": "1"}
    r_attrs = {"units": "Pearson r"}
    pm = ("period", "regressor")
    ds = xr.Dataset(
        {"fraction": (("population", *pm), frac.sel(population=[*AREAS, *nets]).transpose("population", *pm).values, frac_attrs),
         "fraction_null_mean": (("population", *pm), null.mean("shuffle").transpose("population", *pm).values,
                                {**frac_attrs, "long_name": "fraction coding, mean of the circular-shift null"}),
         "fraction_null_95": (("population", *pm), null.quantile(0.95, "shuffle").transpose("population", *pm).values,
                              {**frac_attrs, "long_name": "fraction coding, 95th percentile of the circular-shift null"}),
         "fraction_p_null": (("population", *pm), p_null(frac, null).transpose("population", *pm).values,
                             {"long_name": "P(null fraction >= observed), circular shifts", "units": "1"}),
         "n_units": ("population", n_units, {"long_name": "units analysed", "units": "1"}),
         "agent_fraction_per_seed": (("replica", *pm), per_seed.transpose("seed", *pm).values, frac_attrs),
         "profile_r": (("network", "area"), [[profile[a] for a in AREAS], [profile_untrained[a] for a in AREAS]],
                       {"long_name": "r(network's coding profile, area's)", **r_attrs}),
         "profile_ci": (("area", "bound"), [np.percentile(boot[a], [2.5, 97.5]) for a in AREAS],
                        {"long_name": "95% bootstrap interval of the agents' profile r (sessions, seeds)", **r_attrs}),
         "profile_best_minus_second_ci": ("bound", np.percentile(boot[best] - boot[second], [2.5, 97.5]),
                                          {"long_name": f"r({best}) - r({second}), 95% bootstrap interval", **r_attrs}),
         "rsa_r": (("network", "area"), [[rsa[a]["agent"] for a in AREAS], [rsa[a]["untrained"] for a in AREAS]],
                   {"long_name": "RDM similarity to the area's (rsatoolbox, Pearson)", **r_attrs}),
         "rsa_r_per_monkey": (("area", "monkey"), [rsa[a]["agent_per_monkey"] for a in AREAS],
                              {"long_name": "agents' RDM similarity to each monkey's RDM of the area", **r_attrs}),
         "rsa_noise_ceiling": (("area", "bound"), [rsa[a]["noise_ceiling"] for a in AREAS],
                               {"long_name": "noise ceiling across the two monkeys (rsatoolbox)", **r_attrs}),
         "rsa_shuffled_null_95": ("area", [rsa[a]["shuffled_null_95"] for a in AREAS],
                                  {"long_name": "agents' RDM similarity, 95th percentile of the condition-shuffled null", **r_attrs}),
         "rsa_trained_minus_untrained_ci": (("area", "bound"), [rsa[a]["trained_minus_untrained_ci"] for a in AREAS],
                                            {"long_name": "trained - untrained RDM similarity, 95% bootstrap interval", **r_attrs}),
         "rdm": (("rdm_of", "pattern", "pattern_b"), [rsa_agent_rdm] + [rsa[a]["rdm"] for a in AREAS],
                 {"long_name": "correlation distance between condition patterns", "units": "1 - r"}),
         "flip_r": ("area", [flip[a]["r"] for a in AREAS],
                    {"long_name": "r(chosen-value beta on common trials, beta on rare) across units", **r_attrs}),
         "flip_ci": (("area", "bound"), [flip[a]["ci"] for a in AREAS], {"long_name": "95% bootstrap interval over units", **r_attrs}),
         "flip_n_units": ("area", [flip[a]["n_units"] for a in AREAS], {"long_name": "units in the flip correlation", "units": "1"}),
         "cpd": (("area", *pm, "time"), cpd.groupby("area").mean("unit").sel(area=list(AREAS)).transpose("area", *pm, "time").values,
                 {"long_name": "mean coefficient of partial determination, neurons", "units": "1"}),
         "agent_cpd": (pm, agent_coding["cpd"].mean("unit").transpose(*pm).values,
                       {"long_name": "mean coefficient of partial determination, agent units", "units": "1"}),
         **behaviour_ds.data_vars},
        coords={"population": list(AREAS) + list(nets), "period": list(PERIODS), "regressor": list(REGRESSORS),
                "area": list(AREAS), "network": list(nets), "bound": ["lower", "upper"], "monkey": list(SUBJECTS),
                "replica": np.arange(len(ctx.subjects["agent"])), "rdm_of": ["agents", *AREAS],
                "pattern": labels, "pattern_b": labels,
                "time": ("time", cpd["time"].values + BIN_MS / 2000, {"long_name": "bin centre from the period's event", "units": "s"}),
                **behaviour_ds.coords},
        attrs={"n_sessions": int(len(sessions)), "n_neural_trials": int(trained["neurons"][0].sizes["episode"] * trained["neurons"][0].sizes["trial"]),
               "n_test_episodes": size["n_test"], "n_shuffles": size["n_shuffles"], "n_boot": n_boot, "alpha": ALPHA,
               "profile_best": best, "profile_second": second, "fit_notes": json.dumps(notes)})
    return ds


# ---------------------------------------------------------------------------------------------- figure
COLOURS = dict(zip(AREAS + ("agents", "untrained"), PALETTE))
GROUPS = ("monkeys", "agents", *BASELINES)


def _short(regressor: str) -> str:
    return regressor.replace("reward_x_transition_x_choice", "R×T×C").replace("reward_x_transition", "R×T")


def plot_behaviour(ds: xr.Dataset, *, axes) -> None:
    """Stay probabilities by previous transition × outcome, the lagged model-based pattern and hybrid w of the
    pooled monkeys, the agents and the baselines (mean ± s.e.m. over a group's subjects), on three axes."""
    by_group = {g: ds.isel(subject=np.flatnonzero(ds["group"].values == g)) for g in GROUPS}
    width = 0.8 / len(GROUPS)
    for j, (name, g) in enumerate(by_group.items()):
        stay = np.array([[float(g["stay_prob"].sel(subject=s, transition=t, outcome=o)) for t, o in STAY_CELLS] for s in g["subject"].values])
        sem = stay.std(0, ddof=1) / np.sqrt(len(stay)) if len(stay) > 1 else np.zeros(4)
        axes[0].bar(np.arange(4) + j * width, stay.mean(0), width, yerr=sem, label=name)
        coef = g["lag_coef"].transpose("subject", "trial_type", "lag")
        mb = (coef.sel(trial_type="CR") - coef.sel(trial_type="CO") - coef.sel(trial_type="RR") + coef.sel(trial_type="RO")) / 4
        axes[1].plot(coef["lag"], mb.mean("subject"), "o-", label=name, color=PALETTE[j])
        w = g["hybrid_param"].sel(parameter="w").values
        axes[2].scatter(np.full(len(w), j) + np.linspace(-0.15, 0.15, len(w)), w, color=PALETTE[j], s=14)
    axes[0].set_xticks(np.arange(4) + 0.4 - width / 2, ["common\nhigh", "rare\nhigh", "common\nlow/med", "rare\nlow/med"])
    axes[0].set_ylabel(ds["stay_prob"].attrs["long_name"].split(",")[0])
    axes[0].set_ylim(0, 1)
    axes[0].legend(fontsize=6, ncol=2)
    axes[0].set_title("a  stay by previous transition × outcome")
    axes[1].axhline(0, color="0.6", lw=0.8)
    axes[1].set_yscale("symlog", linthresh=1.0)  # near-deterministic agents' lag-1 fits run large
    axes[1].set_xlabel("lag (trials)")
    axes[1].set_ylabel(f"(CR − CO − RR + RO) / 4 ({ds['lag_coef'].attrs['units']})")
    axes[1].set_title("b  lagged regression: model-based pattern")
    monkey_w = ds["hybrid_param"].sel(parameter="w").isel(subject=np.flatnonzero(ds["group"].values == "monkey"))
    axes[2].scatter([0] * monkey_w.size, monkey_w, marker="x", color="k", s=20, label="each monkey")
    axes[2].set_xticks(range(len(GROUPS)), GROUPS, rotation=20)
    axes[2].set_ylabel("hybrid model-based weight w")
    axes[2].set_ylim(-0.05, 1.05)
    axes[2].legend(fontsize=6)
    axes[2].set_title("c  hybrid fit")


def plot_fractions(ds: xr.Dataset, period: str, *, ax=None, legend: bool = False):
    """Fraction of units coding each regressor at ``period``: the four areas (bars, '–' the mean of their
    circular-shift null) and the agents (hatched)."""
    ax = ax or plt.gca()
    x = np.arange(ds.sizes["regressor"])
    width = 0.8 / (len(AREAS) + 1)
    at = ds.sel(period=period)
    for j, pop in enumerate((*AREAS, "agents")):
        ax.bar(x + j * width, at["fraction"].sel(population=pop), width, color=COLOURS[pop], label=f"{pop} (n={int(at['n_units'].sel(population=pop))})",
               hatch="//" if pop == "agents" else None, edgecolor="white" if pop == "agents" else None)
        if pop != "agents":
            ax.scatter(x + j * width, at["fraction_null_mean"].sel(population=pop), color="0.3", marker="_", s=20, zorder=3)
    ax.set_xticks(x + 0.4, [_short(r) for r in ds["regressor"].values], rotation=60, fontsize=6)
    ax.set_title(period)
    return ax


def plot_cpd(ds: xr.Dataset, period: str, *, ax=None, agent_top: float | None = None):
    """CPD time courses (%) of reward, transition and R×T×C around ``period``'s event per area; the agents'
    CPD at that period as markers on a right-hand axis of their own."""
    ax = ax or plt.gca()
    twin = ax.twinx()  # the agents' CPDs run an order of magnitude above the neurons': their own axis
    for reg, style, marker in (("reward", "-", "o"), ("transition", "--", "s"), ("reward_x_transition_x_choice", ":", "^")):
        for area in AREAS:
            ax.plot(ds["time"], 100 * ds["cpd"].sel(area=area, period=period, regressor=reg), style, color=COLOURS[area], lw=1,
                    label=area if reg == "reward" else None)
        twin.plot([1.15], [100 * float(ds["agent_cpd"].sel(period=period, regressor=reg))], marker=marker,
                  color=COLOURS["agents"], ls="none", label=f"agents: {_short(reg)}")
    twin.set_ylim(0, agent_top)
    twin.spines["right"].set_visible(True)
    twin.tick_params(axis="y", colors=COLOURS["agents"], labelsize=6)
    ax.axvline(0, color="0.6", lw=0.8)
    ax.set_xlim(-1.0, 1.25)
    ax.set_xlabel(f"time from {period} event ({ds['time'].attrs['units']})")
    return ax, twin


def plot_similarity(ds: xr.Dataset, *, axes) -> None:
    """Coding-profile similarity (bootstrap intervals) and RSA similarity (noise ceilings, nulls) of the agents
    to each area, beside the untrained network; the agents' RDM and the most similar area's, on four axes."""
    xs = np.arange(len(AREAS))
    colours = [COLOURS[a] for a in AREAS]
    r, ci = ds["profile_r"].sel(network="agents"), ds["profile_ci"]
    axes[0].bar(xs, r, color=colours)
    axes[0].vlines(xs, ci.sel(bound="lower"), ci.sel(bound="upper"), color="k")  # the bootstrap interval
    axes[0].scatter(xs, ds["profile_r"].sel(network="untrained"), marker="x", color="k", label="untrained network", zorder=3)
    axes[0].set_ylabel("r(agent profile, area profile)")
    axes[0].set_title("a  coding profiles (95% bootstrap CI)")
    rsa = ds["rsa_r"]
    axes[1].bar(xs, rsa.sel(network="agents"), color=colours)
    axes[1].scatter(xs, rsa.sel(network="untrained"), marker="x", color="k", label="untrained network", zorder=3)
    axes[1].scatter(xs, ds["rsa_shuffled_null_95"], marker="_", color="0.3", s=120, label="shuffled 95%", zorder=3)
    for j, area in enumerate(AREAS):
        lo, hi = ds["rsa_noise_ceiling"].sel(area=area).values
        axes[1].fill_between([j - 0.4, j + 0.4], lo, hi, color="0.85", zorder=0, label="noise ceiling" if j == 0 else None)
    axes[1].set_ylabel(f"RDM similarity ({rsa.attrs['units']})")
    axes[1].set_title("b  representational similarity")
    for ax in axes[:2]:
        ax.set_xticks(xs, AREAS)
        ax.legend(fontsize=6)
    best = str(rsa.sel(network="agents").idxmax("area").values)
    n_cond = ds.sizes["pattern"] // len(RSA_PERIODS)
    for ax, name in ((axes[2], "agents"), (axes[3], best)):
        im = ax.imshow(ds["rdm"].sel(rdm_of=name), cmap="viridis")
        ax.set_title(f"RDM: {name}")
        ticks = np.arange(len(RSA_PERIODS)) * n_cond + n_cond / 2
        ax.set_xticks(ticks, [p[:4] for p in RSA_PERIODS])
        ax.set_yticks(ticks, [p[:4] for p in RSA_PERIODS])
        plt.colorbar(im, ax=ax, fraction=0.046)


def plot(ds: xr.Dataset, out_dir: Path) -> list[Path]:
    """Draw ``monkey_twostep_behaviour`` (stay by transition × outcome, the lagged model-based pattern,
    hybrid w), ``monkey_twostep_neurons`` (coding fractions per period against the shift null, CPD time
    courses) and ``monkey_twostep_similarity`` (coding profiles, representational similarity, RDMs)."""
    periods = list(ds["period"].values)
    paths = []
    with use_style():
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
        plot_behaviour(ds, axes=axes)
        fig.tight_layout()
        paths += save_figure(fig, out_dir / "monkey_twostep_behaviour")
        plt.close(fig)

        fig, axes = plt.subplots(2, len(periods), figsize=(16, 6.8), sharey="row")
        agent_top = 1.1 * 100 * float(ds["agent_cpd"].max())
        for k, period in enumerate(periods):
            plot_fractions(ds, period, ax=axes[0, k])
            ax, twin = plot_cpd(ds, period, ax=axes[1, k], agent_top=agent_top)
            if k == 0:
                axes[0, k].set_ylabel(ds["fraction"].attrs["long_name"])
                fig.legend(*axes[0, k].get_legend_handles_labels(), loc="upper center", ncol=5, fontsize=7,
                           bbox_to_anchor=(0.5, 0.955), frameon=False)
                ax.set_ylabel("neurons: mean CPD (%)")
                ax.legend(fontsize=6, title="— reward, -- transition, ··· R×T×C", title_fontsize=6, loc="upper left")
            if k == len(periods) - 1:
                twin.set_ylabel("agents: mean CPD (%), markers", color=COLOURS["agents"])
                twin.legend(fontsize=6, loc="upper left")
        n_agents = int(ds["n_units"].sel(population="agents"))
        fig.suptitle(f"Monkey units (ACC, DLPFC, caudate, putamen; bars, '–' = mean of the circular-shift null) and agent units "
                     f"({n_agents} LSTM units, {ds.sizes['replica']} replicas, {ds.attrs['n_neural_trials']} trials each) "
                     "through the same regressions", fontsize=10)
        fig.tight_layout(rect=(0, 0, 1, 0.93))
        paths += save_figure(fig, out_dir / "monkey_twostep_neurons")
        plt.close(fig)

        fig, axes = plt.subplots(1, 4, figsize=(16, 3.8), gridspec_kw={"width_ratios": [1.2, 1.2, 1, 1]})
        plot_similarity(ds, axes=axes)
        fig.suptitle("Populations: 12 conditions (choice × transition × reward level) × 3 periods", fontsize=10)
        fig.tight_layout()
        paths += save_figure(fig, out_dir / "monkey_twostep_similarity")
        plt.close(fig)
    return paths


# ---------------------------------------------------------------------------------------------- claims
def _frac(ds, population, period, reg) -> float:
    return float(ds["fraction"].sel(population=population, period=period, regressor=reg))


def _p(ds, population, period, reg) -> float:
    return float(ds["fraction_p_null"].sel(population=population, period=period, regressor=reg))


def _reward_all_areas(ds):
    fr = {a: _frac(ds, a, "outcome", "reward") for a in AREAS}
    ok = all(_p(ds, a, "outcome", "reward") < ALPHA for a in AREAS) and max(fr, key=fr.get) == "ACC"
    return ", ".join(f"{a} {fr[a]:.2f} (p_null {_p(ds, a, 'outcome', 'reward'):.3f})" for a in AREAS), ok


def _acc_rtc(ds):
    fr = {a: _frac(ds, a, "outcome", "reward_x_transition_x_choice") for a in AREAS}
    return ", ".join(f"{a} {fr[a]:.3f}" for a in AREAS), fr["ACC"] > fr["DLPFC"] and fr["ACC"] > fr["Putamen"]


def _flip(ds):
    r, ci = ds["flip_r"], ds["flip_ci"].sel(area="Caudate").values
    others = ", ".join(f"{a} {float(r.sel(area=a)):+.2f}" for a in AREAS if a != "Caudate")
    return (f"caudate r {float(r.sel(area='Caudate')):+.2f} [{ci[0]:+.2f}, {ci[1]:+.2f}], "
            f"n = {int(ds['flip_n_units'].sel(area='Caudate'))} (others: {others})"), ci[1] < 0


def _group(ds, group) -> xr.Dataset:
    return ds.isel(subject=np.flatnonzero(ds["group"].values == group))


def stay_distance(ds, group) -> float:
    """Euclidean distance between a group's mean stay probabilities (4) and the pooled monkeys'."""
    mean = _group(ds, group)["stay_prob"].mean("subject")
    return float(np.sqrt(((mean - _group(ds, "monkeys")["stay_prob"].isel(subject=0)) ** 2).sum()))


def _agents_mb(ds):
    agents = _group(ds, "agents")
    mb = agents["mb_index"].values
    w = agents["hybrid_param"].sel(parameter="w").values
    m, s = mean_sem(mb)
    t = stats.ttest_1samp(mb, 0.0)
    d = {g: stay_distance(ds, g) for g in ("agents", *BASELINES)}
    text = (f"stay interaction {m:.2f} ± {s:.2f} (t-test p {t.pvalue:.2g}); median w {np.median(w):.2f} "
            f"[{w.min():.2f}, {w.max():.2f}]; distance to the monkeys' stay {d['agents']:.2f} "
            f"(MF {d['model-free']:.2f}, MB {d['model-based']:.2f}, hybrid {d['hybrid']:.2f})")
    return text, m > 0 and t.pvalue < ALPHA and np.median(w) > 0.5


def _agents_encode(ds):
    parts, ok = [], True
    for reg, period in (("reward", "outcome"), ("transition", "transition"), ("reward_x_transition_x_choice", "outcome")):
        obs = _frac(ds, "agents", period, reg)
        thr = float(ds["fraction_null_95"].sel(population="agents", period=period, regressor=reg))
        parts.append(f"{reg}@{period} {obs:.2f} (null 95% {thr:.2f})")
        ok &= obs > thr
    return "; ".join(parts), ok


def _profile(ds):
    best, lo_hi = ds.attrs["profile_best"], ds["profile_best_minus_second_ci"].values
    r, ci = ds["profile_r"].sel(network="agents"), ds["profile_ci"]
    sims = ", ".join(f"{a} {float(r.sel(area=a)):.2f} [{float(ci.sel(area=a, bound='lower')):.2f}, "
                     f"{float(ci.sel(area=a, bound='upper')):.2f}]" for a in AREAS)
    text = f"{sims}; best {best}, minus {ds.attrs['profile_second']} CI [{lo_hi[0]:+.2f}, {lo_hi[1]:+.2f}]"
    return text, best in ("ACC", "DLPFC") and lo_hi[0] > 0


def _rsa(ds):
    best = str(ds["rsa_r"].sel(network="agents").idxmax("area").values)
    at = ds.sel(area=best)
    ci, ceiling = at["rsa_trained_minus_untrained_ci"].values, at["rsa_noise_ceiling"].values
    agent, untrained = float(at["rsa_r"].sel(network="agents")), float(at["rsa_r"].sel(network="untrained"))
    text = (f"best {best}: agent {agent:.2f}, untrained {untrained:.2f}, trained − untrained CI "
            f"[{ci[0]:+.2f}, {ci[1]:+.2f}], shuffled null 95% {float(at['rsa_shuffled_null_95']):.2f}, noise ceiling "
            f"[{ceiling[0]:.2f}, {ceiling[1]:.2f}]")
    return text, ci[0] > 0 and agent > float(at["rsa_shuffled_null_95"])


def reference_tables(ds: xr.Dataset) -> list[dict]:
    """The report's reference rows: the monkeys' stay probabilities and coding fractions beside ours."""
    keys = [f"{t}_{o}" for t, o in STAY_CELLS]

    def stay(sub):
        return [float(sub["stay_prob"].sel(transition=t, outcome=o).mean("subject")) for t, o in STAY_CELLS]

    rows = {f"monkey {s} (Miranda et al. 2025 data)": stay(ds.sel(subject=[s])) for s in _group(ds, "monkey")["subject"].values}
    rows["meta-RL agent, ours (mean over seeds)"] = stay(_group(ds, "agents"))
    rows.update({f"{g} baseline, monkeys' parameters": stay(_group(ds, g)) for g in BASELINES})
    regs = ["reward", "transition", "reward_x_transition_x_choice", "mb_value"]
    frac = {f"{a} neurons": [_frac(ds, a, "outcome", r) for r in regs] for a in AREAS}
    frac["meta-RL agent units, ours"] = [_frac(ds, "agents", "outcome", r) for r in regs]
    return [reference_table("Stay probabilities (outcome: high level vs the lower two)", keys, rows),
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
