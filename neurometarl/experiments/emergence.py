"""The emergence conditions: memory × RL × a task distribution, other memory architectures, ablations,
and the learned algorithm under distribution shift (a question beyond the paper).

Conditions (each 4 replicas, trained by the same A2C trainer; see ``docs/emergence.md``):

- memory + RL + distribution, four memory architectures trained on the correlated bandit: ``lstm``
  (fig1's shipped agents), ``gru``, ``rnn`` and ``attention`` (slot-based key/value memory);
- no memory: ``feedforward`` (sees only the current observation, previous action and previous reward);
- no task distribution: ``fixed``, an LSTM trained on one fixed problem (left 0.25, right 0.75, never
  swapped);
- no reward input at test: ``lesion``, the ``lstm`` agents with the reward input zeroed
  (:class:`neurometarl.lab.RemoveInput`), no extra training.

Every condition plays the same 300 frozen test episodes of the uniform correlated bandit per replica,
beside the Bayes-optimal player and a random player on the same episodes. Analyses: reward by trial
(the within-episode learning curve), expected regret at trial 100, a fitted Rescorla–Wagner model
(effective learning rate α) against the correlated Bayes observer's softmax (log-likelihood per
choice), and the fraction of units coding the observer's belief, the previous choice and the previous
reward (Bonferroni).

The timeline of emergence: the LSTM condition trained again with 32 weight snapshots (variant
``timeline``); at every training point the frozen network's gain, regret, fitted RW α and the
decodability of the Bayes belief from its units, against the fraction of training, the training
reward there, and the outer learner's weight change per episode (the two learners' rates).

Distribution shift: correlated-trained LSTMs play independent arms and the held-out difficulty levels
(easy 0.1/0.9, medium 0.25/0.75, hard 0.4/0.6); independent-trained LSTMs (fig1) play correlated arms.
The choices are scored under the Bayes observer of the training distribution and of the test
distribution (each a softmax with its inverse temperature fitted); the log-likelihood ratio says
which assumptions the learned algorithm acts on.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import xarray as xr
from scipy import special

from torch.nn.utils import parameters_to_vector

from ..agents import load_checkpoint
from ..agents.a2c import a2c_iteration, make_optimizer
from ..analysis import fraction_significant, make_regressors, unit_regression
from ..analysis.bandits import expected_regret
from ..analysis.decoding import decode
from ..analysis.observers import fit_softmax, observer_values
from ..lab import RemoveInput, perturb, record_session
from ..models import QLearning, make_baseline
from ..models.diagnostics import FitWarning
from ..seeding import make_generator
from ..tasks import make_task
from .bandits import FIG1
from .base import Claim, Context, Experiment, register, training_points
from .sim2 import PHASES, SCHEDULES, SIM2, phase_learning_rates

CORRELATED = FIG1.train["correlated"]  # the paper's LSTM, shipped as fig1/correlated and reused here
#: variants: memory architectures and ablations, one training config each (budgets: docs/emergence.md)
TRAIN = {
    "lstm": CORRELATED,
    "gru": dataclasses.replace(CORRELATED, core="gru", train_episodes=64_000),
    # at the LSTM's lr 1e-2 the vanilla RNN was unstable (seed 0 reached 0.71 a trial, then fell back to 0.49);
    # at 128,000 and 256,000 episodes it had not converged (analyses/emergence_budget.py: regret 6.6 → 2.3 → 1.6)
    "rnn": dataclasses.replace(CORRELATED, core="rnn", lr=3e-3, train_episodes=512_000),
    "attention": dataclasses.replace(CORRELATED, core="attention", lr=3e-3, train_episodes=32_000),
    "feedforward": dataclasses.replace(CORRELATED, core="feedforward", train_episodes=32_000),
    "fixed": dataclasses.replace(CORRELATED, task="bandit-fixed", task_options='{"counterbalance": false}',
                                 train_episodes=32_000),
    "lstm-independent": FIG1.train["independent"],
    # the lstm condition again, with weight snapshots for the timeline of emergence (snapshots do not change training)
    "timeline": dataclasses.replace(CORRELATED, snapshots=32),
    "volatility": SIM2.train["agent"],  # Sim 2's agents, for the two learners' rates on the volatility protocol
}
#: the memory cores and the feed-forward control trained by PPO (the benchmark's fastest PPO; each condition's lr);
#: budgets: the RNN had not converged at 32,000 episodes (analyses/emergence_budget.py: regret 2.9 → 1.8 at 64,000)
PPO_EPISODES = {"lstm": 32_000, "gru": 32_000, "rnn": 64_000, "feedforward": 32_000}
PPO = {f"{name}-ppo": dataclasses.replace(TRAIN[name], algorithm="ppo", batch_size=32, n_epochs=2, n_minibatches=2,
                                          train_episodes=episodes) for name, episodes in PPO_EPISODES.items()}
TRAIN.update(PPO)
REUSE = {"lstm": "fig1/correlated", "lstm-independent": "fig1/independent", "volatility": "sim2/agent"}

TEST_TASK = "bandit-correlated"
MEMORY = ("lstm", "gru", "rnn", "attention")
#: condition → (variant, perturbations at test)
CONDITIONS = {"lstm": ("lstm", ()), "gru": ("gru", ()), "rnn": ("rnn", ()), "attention": ("attention", ()),
              "feedforward": ("feedforward", ()), "fixed": ("fixed", ()),
              "lesion": ("lstm", (RemoveInput("reward"),))}
LABELS = {"lstm": "LSTM", "gru": "GRU", "rnn": "vanilla RNN", "attention": "attention (slots)",
          "feedforward": "feed-forward (no memory)", "fixed": "fixed problem (no distribution)",
          "lesion": "LSTM, reward input lesioned"}
EARLY, LATE = slice(0, 10), slice(50, 100)  # trials 1–10 and 51–100
#: shift → (variant, test task, training distribution's observer, test distribution's observer);
#: an observer is (prior, levels)
SHIFTS = {
    "correlated → independent": ("lstm", "bandit-independent", ("correlated", ()), ("independent", ())),
    "independent → correlated": ("lstm-independent", "bandit-correlated", ("independent", ()), ("correlated", ())),
    "correlated → easy (0.1/0.9)": ("lstm", "bandit-correlated-easy", ("correlated", ()), ("correlated", (0.1,))),
    "correlated → medium (0.25/0.75)": ("lstm", "bandit-correlated-medium", ("correlated", ()), ("correlated", (0.25,))),
    "correlated → hard (0.4/0.6)": ("lstm", "bandit-correlated-hard", ("correlated", ()), ("correlated", (0.4,))),
}
UNIT_REGRESSORS = ("belief", "prev_action", "prev_reward")
OBSERVERS = ("train", "test")  # the training and the test distribution's Bayes observer


def episode_statistics(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """Per test episode (:data:`STATISTICS`): the within-episode gain of the *expected* reward (the chosen
    arm's reward probability, trials 51–100 − 1–10), the expected regret at trial 100 and the expected
    reward per trial. The expected reward has the rewards' mean without their coin flips."""
    chosen = ds["reward_prob"].isel(arm=ds["choice"].astype(int)).transpose("episode", "trial").to_numpy()
    return {"gain": chosen[:, LATE].mean(1) - chosen[:, EARLY].mean(1),
            "regret": expected_regret(ds).isel(trial=-1).to_numpy(), "expected_reward": chosen.mean(1)}


def learning_curve_summary(ds: xr.Dataset) -> dict:
    """Reward by trial and its early (trials 1–10) and late (51–100) means, with expected regret at trial
    100; and the :func:`episode_statistics` under ``by_episode``."""
    curve = ds["reward"].mean("episode").to_numpy()
    early, late = float(curve[EARLY].mean()), float(curve[LATE].mean())
    by_episode = episode_statistics(ds)
    return {"reward_by_trial": curve.tolist(), "reward": float(curve.mean()), "early": early, "late": late,
            "gain": late - early, "regret_100": float(by_episode["regret"].mean()), "by_episode": by_episode}


def behaviour_fits(ds: xr.Dataset) -> dict:
    """Rescorla–Wagner (effective α) and the correlated Bayes observer as choice models of ``ds``; the RW
    fit's diagnostics (parameters at a bound, chance-level choices: e.g. a memoryless network) are
    recorded here rather than warned about per replica."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        rw = QLearning().fit(ds, episodes_as="sessions", subject="agent")
    fit = rw.subject_fits_.iloc[0]
    bayes = fit_softmax(observer_values(ds, "correlated"), ds["choice"])
    n = rw.n_choices_.sum() if hasattr(rw.n_choices_, "sum") else rw.n_choices_
    return {"rw_alpha": float(rw.params_["alpha"].iloc[0]), "rw_beta": float(rw.params_["beta"].iloc[0]),
            "rw_loglik_per_choice": -float(rw.nll_) / float(n), "bayes_beta": bayes["beta"],
            "bayes_loglik_per_choice": bayes["loglik_per_choice"],
            "rw_at_bound": str(fit.get("at_bound", "")), "rw_chance_level": bool(fit.get("chance_level", False))}


def unit_coding(ds: xr.Dataset) -> dict:
    """Fraction of units (at the choice step, trials 2–100) coding the correlated observer's belief that
    left is better, the previous choice and the previous reward (each given the others; Bonferroni).

    A regressor that does not vary in the session (the fixed-problem agent always chooses one side) has
    nothing to be coded: it is left out of the regression and reported as NaN.
    """
    belief = observer_values(ds, "correlated").sel(arm="left") - 0.5
    table = make_regressors(ds, {"belief": belief, "prev_action": "prev_action", "prev_reward": "prev_reward"})
    varying = [r for r in UNIT_REGRESSORS if float(table[r].std(skipna=True)) > 0]
    if float(ds["hidden"].std()) == 0 or not varying:
        return {r: (0.0 if r in varying else float("nan")) for r in UNIT_REGRESSORS}
    result = unit_regression(ds, {r: table[r] for r in varying}, period="choice")
    frac = fraction_significant(result, alpha=0.05, correction="bonferroni")["fraction"]
    return {r: float(frac.sel(regressor=r)) if r in varying else float("nan") for r in UNIT_REGRESSORS}


def shift_evidence(ds: xr.Dataset, train_obs: tuple, test_obs: tuple) -> dict:
    """Which observer's assumptions a shifted agent acts on: per test episode, the mean log likelihood ratio
    per choice, log P_train(choice) − log P_test(choice), each observer a softmax with its inverse
    temperature fitted to these choices (``fit_softmax``); and the ideal observers' expected ratio per
    choice on the same trials, KL(P_train ‖ P_test) (choices drawn from the training observer's softmax)
    and −KL(P_test ‖ P_train) (from the test observer's)."""
    log_p, fits = {}, {}
    for side, obs in (("train", train_obs), ("test", test_obs)):
        values = observer_values(ds, *obs)
        fits[side] = fit_softmax(values, ds["choice"])
        x = fits[side]["beta"] * (values.sel(arm="right") - values.sel(arm="left")).transpose("episode", "trial").to_numpy()
        log_p[side] = (special.log_expit(-x), special.log_expit(x))  # log P(left), log P(right)
    right = ds["choice"].transpose("episode", "trial").to_numpy() == 1
    chosen = {side: np.where(right, lp[1], lp[0]) for side, lp in log_p.items()}

    def kl(a: str, b: str) -> float:  # mean over trials of KL(P_a ‖ P_b) between the two-choice predictions
        return float(sum(np.exp(log_p[a][k]) * (log_p[a][k] - log_p[b][k]) for k in (0, 1)).mean())

    return {"fits": fits, "llr_by_episode": (chosen["train"] - chosen["test"]).mean(1),
            "ideal": [kl("train", "test"), -kl("test", "train")]}


def bootstrap_means(values: np.ndarray, rng: np.random.Generator, n_boot: int = 2000) -> np.ndarray:
    """``n_boot`` two-level bootstrap resamples of the mean of ``values`` (replica, episode): replicas
    resampled with replacement, then episodes within each chosen replica (a 1-D array: episodes only)."""
    values = np.atleast_2d(values)
    n_rep, n_ep = values.shape
    rows = rng.integers(n_rep, size=(n_boot, n_rep)) if n_rep > 1 else np.zeros((n_boot, 1), int)
    return values[rows[..., None], rng.integers(n_ep, size=(n_boot, n_rep, n_ep))].mean((1, 2))


def percentile_interval(resamples: np.ndarray) -> tuple[float, float]:
    """The 95 % percentile interval of bootstrap ``resamples``."""
    low, high = np.percentile(resamples, [2.5, 97.5])
    return float(low), float(high)


def replica_interval(values: np.ndarray, rng: np.random.Generator, statistic=np.mean, n_boot: int = 2000) -> tuple[float, float]:
    """95 % bootstrap interval of ``statistic`` over replicas: ``values`` (one per replica) resampled with replacement."""
    values = np.asarray(values)
    return percentile_interval(statistic(values[rng.integers(len(values), size=(n_boot, len(values)))], axis=1))


def bootstrap_interval(values: np.ndarray, rng: np.random.Generator, n_boot: int = 2000) -> tuple[float, float]:
    """95 % two-level bootstrap interval of the mean of ``values`` (replica, episode): :func:`bootstrap_means`."""
    return percentile_interval(bootstrap_means(values, rng, n_boot))


#: the timeline's measures of the inner learner at each training point: name → (long_name, units)
TIMELINE = {"gain": ("within-episode gain of the expected reward, trials 51–100 − 1–10", "reward"),
            "regret": ("expected regret at trial 100", "reward"),
            "rw_alpha": ("fitted Rescorla–Wagner learning rate α (inner learner), per trial", "1"),
            "belief_r2": ("cross-validated R² of the correlated Bayes belief decoded from units at the choice step", "1"),
            "training_reward": ("training reward per trial there (10-iteration running mean)", "reward"),
            "weight_change": ("relative weight change per training episode since the previous point, ‖Δθ‖ / ‖θ‖ (outer learner)", "1")}
RISES = ("gain t10", "gain t50", "gain t90", "training reward t90")


def timeline_point(ds: xr.Dataset, seed: int) -> dict:
    """The inner learner in one frozen session: the gain and regret of the *expected* reward (the chosen
    arm's probability), the fitted RW α and the decodability of the correlated Bayes belief from the units."""
    stats = episode_statistics(ds)
    belief = observer_values(ds, "correlated").sel(arm="left") - 0.5
    r2 = decode(ds, belief, period="choice", n_shuffles=0, random_state=seed)["score_mean"]
    return {"gain": float(stats["gain"].mean()), "regret": float(stats["regret"].mean()),
            "rw_alpha": behaviour_fits(ds)["rw_alpha"], "belief_r2": float(r2.squeeze())}


def rise_point(progress: np.ndarray, values: np.ndarray, fraction: float, start: float, final: float) -> float:
    """The earliest ``progress`` from which ``values`` stay at or above ``fraction`` of the way from
    ``start`` to ``final`` (NaN if the last value is below it)."""
    below = np.flatnonzero(values < start + fraction * (final - start))
    i = below[-1] + 1 if below.size else 0
    return float(progress[i]) if i < len(progress) else float("nan")


def timeline(checkpoint: Path, n_episodes: int, seed: int) -> dict:
    """Every training point of one run (untrained, snapshots, final): :func:`timeline_point` on ``n_episodes``
    correlated-bandit episodes, the training reward there, the outer learner's relative weight change per
    episode since the previous point; and the rise points of the gain and of the training reward."""
    import pandas as pd

    points = training_points(checkpoint)
    cfg = load_checkpoint(Path(checkpoint) / "checkpoint.pt").config
    reward = pd.read_csv(Path(checkpoint) / "metrics.csv")["reward_per_trial"]
    running = reward.rolling(10, min_periods=1).mean().to_numpy()
    progress = np.array([p for p, _ in points])
    rows, previous = [], None
    for fraction, subject in points:
        row = timeline_point(record_session(subject, TEST_TASK, n_episodes, seed=seed), seed)
        theta = parameters_to_vector(subject.agent.parameters()).detach()
        iteration = round(fraction * cfg.n_iterations)
        row["training_reward"] = float(running[iteration - 1]) if iteration else float("nan")
        row["weight_change"] = (float("nan") if previous is None else float(
            (theta - previous[1]).norm() / previous[1].norm() / ((fraction - previous[0]) * cfg.train_episodes)))
        rows.append(row)
        previous = (fraction, theta)
    gain = np.array([r["gain"] for r in rows])
    final_gain = gain[-3:].mean()
    rises = [rise_point(progress, gain, x, gain[0], final_gain) for x in (0.1, 0.5, 0.9)]
    iterations = np.arange(1, len(running) + 1) / cfg.n_iterations
    rises.append(rise_point(iterations, running, 0.9, running[0], float(reward.iloc[-10:].mean())))
    return {"progress": progress, "rows": rows, "rises": rises, "training_curve": running}


#: the outer learner's test conditions: task options making every training episode stable or volatile
OUTER_CONDITIONS = {"stable": '{"volatilities": [0.0, 0.0]}', "volatile": '{"volatilities": [0.2, 0.2]}'}


def outer_rate(checkpoint: Path, task_options: str, n_iterations: int, seed: int) -> float:
    """The outer learner's rate: the mean relative weight change per training episode, ‖Δθ‖ / ‖θ‖ /
    ``batch_size`` per iteration, over ``n_iterations`` A2C iterations continued from ``checkpoint`` (its
    RMSProp state; the learning rate and entropy weight of mid-training) on its task with ``task_options``."""
    ckpt = load_checkpoint(Path(checkpoint) / "checkpoint.pt")
    cfg = dataclasses.replace(ckpt.config, task_options=task_options, seed=seed)
    agent = ckpt.agent.train()
    optimizer = make_optimizer(agent, cfg)
    optimizer.load_state_dict(ckpt.optimizer_state)
    middle = cfg.n_iterations // 2
    for group in optimizer.param_groups:
        group["lr"] = cfg.lr_at(middle)
    task, generator = make_task(cfg.task, cfg.batch_size, **cfg.task_overrides()), make_generator(seed)
    changes = []
    for _ in range(n_iterations):
        before = parameters_to_vector(agent.parameters()).detach()
        a2c_iteration(agent, task, optimizer, generator, cfg, middle, cfg.entropy_at(middle))
        after = parameters_to_vector(agent.parameters()).detach()
        changes.append(float((after - before).norm() / before.norm()) / cfg.batch_size)
    return float(np.mean(changes))


def volatility_ratios(inner: xr.DataArray, outer: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    """Per replica, volatile / stable: of the inner α (on (replica, phase): the two volatile phases' mean over
    the two stable ones') and of the outer rate (on (replica, outer_condition))."""
    stable, volatile = (inner.sel(phase=[f"{kind}-1", f"{kind}-2"]).mean("phase") for kind in ("stable", "volatile"))
    return (volatile / stable).values, (outer.sel(outer_condition="volatile") / outer.sel(outer_condition="stable")).values


def two_rates(subject, checkpoint: Path, n_episodes: int, seed: int) -> dict:
    """The inner learner's α in the four phases of the volatility test schedules (Sim 2's fit) and the outer
    learner's rate on all-stable and all-volatile training episodes, for one agent."""
    recordings = {name: record_session(subject, task, n_episodes, seed=seed) for name, task in SCHEDULES.items()}
    return {"inner": phase_learning_rates(recordings)[1],
            "outer": [outer_rate(checkpoint, OUTER_CONDITIONS[c], 10, seed) for c in OUTER_CONDITIONS]}


#: the learning-curve summary (:func:`learning_curve_summary`) as variables on (player, replica): name → (key, long_name)
CURVE = {"reward": ("reward", "reward per trial"), "early_reward": ("early", "reward per trial, trials 1–10"),
         "late_reward": ("late", "reward per trial, trials 51–100"),
         "gain": ("gain", "within-episode learning gain, reward(51–100) − reward(1–10)"),
         "regret": ("regret_100", "expected regret at trial 100")}
#: the per-episode statistics (:func:`episode_statistics`) the within-episode claims are decided on: key → long_name
STATISTICS = {"gain": "within-episode gain of the expected reward, trials 51–100 − 1–10",
              "regret": "expected regret at trial 100", "expected_reward": "expected reward per trial"}
#: the choice-model fits (:func:`behaviour_fits`) as variables on (condition, replica): key → (long_name, units)
FITS = {"rw_alpha": ("fitted Rescorla–Wagner learning rate α", "1"), "rw_beta": ("fitted Rescorla–Wagner inverse temperature β", "1"),
        "rw_loglik_per_choice": ("Rescorla–Wagner log likelihood per choice", "nats"),
        "bayes_beta": ("fitted inverse temperature of the correlated Bayes observer's softmax", "1"),
        "bayes_loglik_per_choice": ("correlated Bayes observer's log likelihood per choice", "nats"),
        "rw_at_bound": ("Rescorla–Wagner parameters at a bound of the fit", "1"),
        "rw_chance_level": ("Rescorla–Wagner fit at chance level", "1")}
#: players beside the conditions: the reference players on the same episodes and the fixed-problem agents on their own problem
REFERENCES = ("bayes-optimal", "random")
OWN = "fixed, own problem"


def analyse(ctx: Context) -> xr.Dataset:
    """Record every condition (memory cores, feed-forward, fixed problem, reward-input lesion) on
    ``n_test`` correlated-bandit episodes per replica, beside Bayes-optimal and random players on the
    same episodes: per player and replica the learning-curve summary (also the fixed-problem agents on
    their own problem, player ``fixed, own problem``); per condition and replica the RW and
    Bayes-observer fits and unit coding; the distribution-shift fits on (shift, [observer,] replica);
    each variant's final training reward on (variant, replica)."""
    def record(subject, task, seed: int) -> xr.Dataset:
        return record_session(subject, task, ctx.sizes["n_test"], seed=seed)

    seeds = [ctx.seed + i for i in range(len(ctx.subjects["lstm"]))]
    curves: dict[str, list[dict]] = {}
    fits: dict[str, list[dict]] = {}
    units: dict[str, list[dict]] = {}
    for name, (variant, perturbations) in CONDITIONS.items():
        curves[name], fits[name], units[name] = [], [], []
        for subject, seed in zip(ctx.subjects[variant], seeds):
            ds = record(perturb(subject, *perturbations) if perturbations else subject, TEST_TASK, seed)
            curves[name].append(learning_curve_summary(ds))
            fits[name].append(behaviour_fits(ds))
            units[name].append(unit_coding(ds))
    for name in REFERENCES:
        curves[name] = [learning_curve_summary(record(make_baseline(name), TEST_TASK, seed)) for seed in seeds]
    # the fixed-problem agents on their own training problem, and the best memoryless policy's level:
    # win-stay-lose-shift's stationary reward p² + (1 − p)² (any reactive policy that always stays after a win)
    own = make_task("bandit-fixed", 1, counterbalance=False)
    curves[OWN] = [learning_curve_summary(record(s, own, seed)) for s, seed in zip(ctx.subjects["fixed"], seeds)]
    probe = record(make_baseline("random"), TEST_TASK, seeds[0])["reward_prob"].isel(trial=0)
    memoryless_best = float((probe ** 2).sum("arm").mean())

    shifts: list[dict] = []
    rng = np.random.default_rng(ctx.seed)  # the bootstrap resamples
    for variant, task, train_obs, test_obs in SHIFTS.values():
        rows = []
        for subject, seed in zip(ctx.subjects[variant], seeds):
            ds = record(subject, task, seed)
            evidence = shift_evidence(ds, train_obs, test_obs)
            fit = evidence["fits"]
            bayes_test = record(make_baseline("bayes-optimal"), task, seed)
            rows.append({"reward": float(ds["reward"].mean()), "bayes_test_reward": float(bayes_test["reward"].mean()),
                         "loglik": [fit[o]["loglik"] for o in OBSERVERS], "beta": [fit[o]["beta"] for o in OBSERVERS],
                         "log_lr": fit["train"]["loglik"] - fit["test"]["loglik"],
                         "log_lr_per_choice": (fit["train"]["loglik"] - fit["test"]["loglik"]) / fit["train"]["n_choices"],
                         "ideal": evidence["ideal"], "llr_by_episode": evidence["llr_by_episode"],
                         "interval": bootstrap_interval(evidence["llr_by_episode"], rng)})
        by_episode = np.array([r["llr_by_episode"] for r in rows])
        shifts.append({"rows": rows, "interval": bootstrap_interval(by_episode, rng), "mean": float(by_episode.mean(1).mean())})

    runs = [timeline(path, ctx.sizes["n_timeline"], seed) for path, seed in zip(ctx.checkpoints["timeline"], seeds)]
    progress = runs[0]["progress"]
    ppo = {name: [learning_curve_summary(record(subject, TEST_TASK, seed)) for subject, seed in zip(ctx.subjects[name], seeds)]
           for name in PPO}
    rates = [two_rates(subject, path, ctx.sizes["n_volatility"], seed)
             for subject, path, seed in zip(ctx.subjects["volatility"], ctx.checkpoints["volatility"], seeds)]

    def table(rows: dict[str, list[dict]], key: str) -> np.ndarray:
        return np.array([[r[key] for r in per] for per in rows.values()])

    # the within-episode statistics per episode, their two-level bootstrap resamples and 95 % intervals
    stats_rng = np.random.default_rng((ctx.seed, 1))
    per_episode = {prefix: np.array([[[r["by_episode"][k] for r in per] for k in STATISTICS] for per in rows.values()])
                  for prefix, rows in (("", curves), ("ppo_", ppo))}  # (player, statistic, replica, episode)
    resampled = {prefix: np.array([[bootstrap_means(v, stats_rng) for v in per] for per in values])
                 for prefix, values in per_episode.items()}  # (player, statistic, resample)
    players, expected = list(curves), list(STATISTICS).index("expected_reward")
    ratio = resampled[""][players.index("attention"), expected] / resampled[""][players.index("lstm"), expected]
    rises = {r: np.array([run["rises"][RISES.index(r)] for run in runs]) for r in RISES}
    inner_rate = xr.DataArray([r["inner"] for r in rates], dims=("replica", "phase"), coords={"phase": [p for p, _, _ in PHASES]})
    outer_rate = xr.DataArray([r["outer"] for r in rates], dims=("replica", "outer_condition"),
                              coords={"outer_condition": list(OUTER_CONDITIONS)})
    inner_ratio, outer_ratio = volatility_ratios(inner_rate, outer_rate)
    replica_intervals = {  # name → (values per replica, statistic, long_name, units)
        "timeline_span": (rises["gain t90"] - rises["gain t10"], np.median, "the median over replicas of the gain's t90 − t10", "1"),
        "timeline_lead": (rises["training reward t90"] - rises["gain t50"], np.mean,
                          "the mean over replicas of the training reward's t90 − the gain's t50", "1"),
        "inner_ratio": (inner_ratio, np.mean, "the mean over replicas of the inner α's volatile / stable ratio", "1"),
        "outer_ratio": (outer_ratio, np.mean, "the mean over replicas of the outer rate's volatile / stable ratio", "1"),
    }
    stat_dims = {"": "player", "ppo_": "ppo_variant"}

    def shift(key: str) -> np.ndarray:
        return np.array([[r[key] for r in sh["rows"]] for sh in shifts])

    player, condition, reward = ("player", "replica"), ("condition", "replica"), {"units": "reward"}
    variables = {
        "reward_by_trial": (("player", "replica", "trial"), table(curves, "reward_by_trial"),
                            {"long_name": "mean reward by trial over the test episodes", **reward}),
        **{name: (player, table(curves, key), {"long_name": long_name, **reward}) for name, (key, long_name) in CURVE.items()},
        **{key: (condition, table(fits, key), {"long_name": long_name, "units": u}) for key, (long_name, u) in FITS.items()},
        "unit_fraction": (("condition", "replica", "regressor"), np.array([[[u[r] for r in UNIT_REGRESSORS] for u in per] for per in units.values()]),
                          {"long_name": "fraction of units coding the regressor at the choice step (Bonferroni)", "units": "1"}),
        "memoryless_best_reward": ((), memoryless_best, {"long_name": "best memoryless policy's reward per trial", **reward}),
        "shift_reward": (("shift", "replica"), shift("reward"), {"long_name": "reward per trial under distribution shift", **reward}),
        "shift_bayes_reward": (("shift", "replica"), shift("bayes_test_reward"),
                               {"long_name": "reward per trial of the test distribution's Bayes-optimal player", **reward}),
        "shift_loglik": (("shift", "replica", "observer"), shift("loglik"), {"long_name": "log likelihood of the choices under the observer's softmax", "units": "nats"}),
        "shift_beta": (("shift", "replica", "observer"), shift("beta"), {"long_name": "fitted inverse temperature of the observer's softmax", "units": "1"}),
        "log_lr": (("shift", "replica"), shift("log_lr"), {"long_name": "log likelihood ratio, training − test distribution's observer", "units": "nats"}),
        "log_lr_per_choice": (("shift", "replica"), shift("log_lr_per_choice"),
                              {"long_name": "log likelihood ratio per choice, training − test distribution's observer", "units": "nats"}),
        "shift_llr_by_episode": (("shift", "replica", "episode"), shift("llr_by_episode"),
                                 {"long_name": "log likelihood ratio per choice in each test episode, training − test observer", "units": "nats"}),
        "shift_replica_interval": (("shift", "replica", "bound"), shift("interval"),
                                   {"long_name": "95 % bootstrap interval (episodes) of the replica's log likelihood ratio per choice", "units": "nats"}),
        "shift_mean": (("shift",), np.array([sh["mean"] for sh in shifts]),
                       {"long_name": "log likelihood ratio per choice, mean over replicas of the episode means", "units": "nats"}),
        "shift_interval": (("shift", "bound"), np.array([sh["interval"] for sh in shifts]),
                           {"long_name": "95 % two-level bootstrap interval (replicas, then episodes) of shift_mean", "units": "nats"}),
        "shift_ideal": (("shift", "replica", "observer"), shift("ideal"),
                        {"long_name": "expected log likelihood ratio per choice if the choices came from the observer's softmax", "units": "nats"}),
        **{f"timeline_{key}": (("replica", "progress"), np.array([[r[key] for r in run["rows"]] for run in runs]),
                               {"long_name": long_name, "units": units}) for key, (long_name, units) in TIMELINE.items()},
        "timeline_rise": (("replica", "rise"), np.array([run["rises"] for run in runs]),
                          {"long_name": "fraction of outer training from which the curve stays above x % of its rise", "units": "1"}),
        "timeline_training_curve": (("replica", "iteration"), np.array([run["training_curve"] for run in runs]),
                                    {"long_name": "training reward per trial, 10-iteration running mean", **reward}),
        **{f"ppo_{key}": (("ppo_variant", "replica"), table(ppo, src), {"long_name": f"{long_name}, trained by PPO", **reward})
           for key, (src, long_name) in CURVE.items()},
        **{f"{prefix}by_episode": ((dim, "statistic", "replica", "episode"), per_episode[prefix],
                                   {"long_name": "the within-episode statistic in each test episode", **reward})
           for prefix, dim in stat_dims.items()},
        **{f"{prefix}interval": ((dim, "statistic", "bound"), np.percentile(resampled[prefix], [2.5, 97.5], axis=-1).transpose(1, 2, 0),
                                 {"long_name": "95 % two-level bootstrap interval (replicas, then episodes) of the statistic's mean", **reward})
           for prefix, dim in stat_dims.items()},
        "attention_ratio_interval": (("bound",), np.array(percentile_interval(ratio)),
                                     {"long_name": "95 % bootstrap interval of the expected reward ratio, attention / LSTM", "units": "1"}),
        **{f"{name}_interval": (("bound",), np.array(replica_interval(values, stats_rng, statistic)),
                                {"long_name": f"95 % bootstrap interval (replicas) of {long_name}", "units": units})
           for name, (values, statistic, long_name, units) in replica_intervals.items()},
        "inner_rate": (("replica", "phase"), inner_rate.values,
                       {"long_name": "inner learner: effective learning rate α per trial, volatility test phases", "units": "1"}),
        "outer_rate": (("replica", "outer_condition"), outer_rate.values,
                       {"long_name": "outer learner: relative weight change per training episode, ‖Δθ‖ / ‖θ‖", "units": "1"}),
        "final_training_reward": (("variant", "replica"),
 np.array([[_final_training_reward(p) for p in paths] for paths in ctx.checkpoints.values()]),
                                  {"long_name": "training reward per trial, last 10 iterations", **reward}),
    }
    return xr.Dataset(
        variables,
        coords={"player": list(curves), "condition": list(CONDITIONS), "replica": np.arange(len(seeds)),
                "trial": ("trial", np.arange(1, 101), {"long_name": "trial", "units": "1"}), "regressor": list(UNIT_REGRESSORS),
                "shift": list(SHIFTS), "observer": list(OBSERVERS), "variant": list(ctx.checkpoints),
                "bound": ("bound", ["low", "high"], {"long_name": "bound of the 95 % interval", "units": "1"}),
                "progress": ("progress", progress, {"long_name": "fraction of outer training done", "units": "1"}),
                "rise": list(RISES), "ppo_variant": list(PPO), "phase": [label for label, _, _ in PHASES],
                "outer_condition": list(OUTER_CONDITIONS),
                "statistic": ("statistic", list(STATISTICS), {"long_name": "; ".join(f"{k}: {v}" for k, v in STATISTICS.items())}),
                "iteration": ("iteration", np.arange(1, len(runs[0]["training_curve"]) + 1),
                              {"long_name": "training iteration (update)", "units": "1"}),
                "episode": ("episode", np.arange(ctx.sizes["n_test"]), {"long_name": "test episode", "units": "1"})},
        attrs={"test_task": TEST_TASK, "n_test_episodes_per_replica": ctx.sizes["n_test"],
               "labels": json.dumps({**LABELS, **{name: name for name in REFERENCES}, OWN: "fixed problem, on its own problem"}),
               "shift_tasks": json.dumps({name: task for name, (_, task, _, _) in SHIFTS.items()}, ensure_ascii=False)},
    )


def _final_training_reward(path: Path, last: int = 10) -> float:
    """Mean training reward per trial over the last ``last`` iterations (metrics.csv)."""
    import pandas as pd

    return float(pd.read_csv(Path(path) / "metrics.csv")["reward_per_trial"].iloc[-last:].mean())


def plot(ds: xr.Dataset, out_dir: Path) -> list[Path]:
    """Draw the six-panel emergence figure (``emergence.png``/``.pdf``): learning curves, regret,
    learning gain, fitted learning rates, unit coding and distribution shift; and the timeline of
    emergence (``timeline.png``/``.pdf``)."""
    from ..figures.emergence import plot_emergence, plot_timeline

    return [*plot_emergence(ds, out_dir / "emergence"), *plot_timeline(ds, out_dir / "timeline")]


# --- claims -----------------------------------------------------------------------------------------
def _values(ds: xr.Dataset, player: str, key: str) -> np.ndarray:
    """Per-replica values of ``key`` for ``player`` (a condition, a reference player or ``OWN``)."""
    return ds[key].sel(player=player).values


Verdict = bool | None  # a bound met (True), missed (False) or undecided (None: the interval straddles it)
OUTCOME = {True: "met", False: "missed", None: "undecided"}
LEARNS = {True: "learns", False: "does not learn", None: "undecided"}


def side(interval, bound: float, above: bool = True) -> Verdict:
    """Whether a 95 % ``interval`` (low, high) lies above (``above``) or below ``bound``; None if it straddles it."""
    low, high = interval
    if (low > bound) if above else (high < bound):
        return True
    return False if ((high < bound) if above else (low > bound)) else None


def combine(parts) -> Verdict:
    """All parts met: True; any missed: False; else undecided (None)."""
    parts = list(parts)
    return False if False in parts else None if None in parts else True


def _decided(text: str, parts) -> tuple[str, bool]:
    """A claim's scorecard entry: its text with the outcome (met / missed / undecided), and whether it passes."""
    verdict = combine(parts)
    return f"{text} → {OUTCOME[verdict]}", verdict is True


def _statistic(n: xr.Dataset, name: str, statistic: str) -> tuple[float, tuple[float, float], float]:
    """A player's (or, ``*-ppo``, a PPO variant's) mean ``statistic``, its 95 % interval and its smallest replica mean."""
    prefix, dim = ("ppo_", "ppo_variant") if name in PPO else ("", "player")
    values = n[f"{prefix}by_episode"].sel({dim: name, "statistic": statistic})
    low, high = n[f"{prefix}interval"].sel({dim: name, "statistic": statistic}).values
    return float(values.mean()), (float(low), float(high)), float(values.mean("episode").min())


def _learns_within_episode(n: xr.Dataset, name: str, random_regret: float) -> tuple[str, Verdict]:
    """One memory core's verdict (docs/emergence.md): the gain's interval above 0.05 and the regret's below
    0.2 × random's; and its text."""
    gain, gain_iv, smallest = _statistic(n, name, "gain")
    regret, regret_iv, _ = _statistic(n, name, "regret")
    verdict = combine([side(gain_iv, 0.05), side(regret_iv, 0.2 * random_regret, above=False)])
    return (f"{name} gain {gain:+.3f} [{gain_iv[0]:+.3f}, {gain_iv[1]:+.3f}] (smallest replica {smallest:+.3f}), regret "
            f"{regret:.2f} [{regret_iv[0]:.2f}, {regret_iv[1]:.2f}]: {LEARNS[verdict]}",
            verdict)


def _scales(n: xr.Dataset) -> tuple[float, str]:
    """Random's regret at trial 100 and the text of the scales (Bayes-optimal's gain, the regret bound)."""
    random_regret = _statistic(n, "random", "regret")[0]
    return random_regret, (f"Bayes-optimal gain {_statistic(n, 'bayes-optimal', 'gain')[0]:+.3f}; random regret "
                           f"{random_regret:.2f} (bound {0.2 * random_regret:.2f})")


def _flat(n: xr.Dataset, name: str, bound: float = 0.03) -> tuple[str, Verdict]:
    """The gain's interval below ``bound`` (within episodes the player does not learn), and its text."""
    gain, iv, _ = _statistic(n, name, "gain")
    return f"gain {gain:+.3f} [{iv[0]:+.3f}, {iv[1]:+.3f}]", side(iv, bound, above=False)


def _claim_memory(n):
    random_regret, scales = _scales(n)
    verdicts = [_learns_within_episode(n, c, random_regret) for c in MEMORY]
    return _decided("; ".join(text for text, _ in verdicts) + f"; {scales}", [v for _, v in verdicts])


def _claim_no_memory(n):
    text, flat = _flat(n, "feedforward")
    late, best = _values(n, "feedforward", "late_reward").mean(), float(n["memoryless_best_reward"])
    return _decided(f"{text}, trials 51–100 {late:.3f} (best memoryless policy {best:.3f})", [flat, bool(late <= best + 0.02)])


def _claim_fixed(n):
    text, flat = _flat(n, "fixed")
    own_gain, own_iv, _ = _statistic(n, OWN, "gain")
    own_reward = np.mean(_values(n, OWN, "reward"))
    return _decided(f"correlated test: {text}, reward {_values(n, 'fixed', 'reward').mean():.3f}; own problem: gain "
                    f"{own_gain:+.3f} [{own_iv[0]:+.3f}, {own_iv[1]:+.3f}], reward {own_reward:.3f} (best fixed policy 0.75)",
                    [flat, side(own_iv, 0.03, above=False), side(own_iv, -0.03), bool(own_reward >= 0.72)])


def _claim_lesion(n):
    text, flat = _flat(n, "lesion")
    reward, iv, _ = _statistic(n, "lesion", "expected_reward")
    return _decided(f"expected reward {reward:.3f} [{iv[0]:.3f}, {iv[1]:.3f}], {text}",
                    [side(iv, 0.48), side(iv, 0.52, above=False), flat])


def shift_verdict(n: xr.Dataset, shift: str) -> tuple[str, bool, str]:
    """``(verdict, powered, text)`` of one shift (criterion: docs/emergence.md): whose observer the 95 %
    interval of the log LR per choice favours, and whether it is narrower than half the ideal observers'
    separation."""
    low, high = n["shift_interval"].sel(shift=shift).values
    mean = float(n["shift_mean"].sel(shift=shift))
    d_train, d_test = n["shift_ideal"].sel(shift=shift).mean("replica").values
    verdict = "training observer" if low > 0 else "test observer" if high < 0 else "neither"
    powered = bool(high - low < 0.5 * (d_train - d_test))
    position = (mean - d_test) / (d_train - d_test)
    text = (f"{shift}: {mean:+.4f} [{low:+.4f}, {high:+.4f}]/choice, ideal observers {d_train:+.4f} / {d_test:+.4f}, "
            f"position {position:.2f}: {verdict}{'' if powered else ' (underpowered)'}")
    return verdict, powered, text


def _shift_part(verdict: str, powered: bool) -> Verdict:
    """A shift favours the training observer (True), decidedly not (False: powered, or the test observer's
    side of 0), or undecided (None: an underpowered interval that does not exclude it)."""
    if verdict == "training observer":
        return True if powered else None
    return False if powered or verdict == "test observer" else None


def _claim_shift(names):
    def check(n):
        verdicts = [shift_verdict(n, shift) for shift in names]
        return _decided("; ".join(text for _, _, text in verdicts), [_shift_part(v, p) for v, p, _ in verdicts])
    return check


def _claim_attention(n):
    att, lstm = _statistic(n, "attention", "expected_reward")[0], _statistic(n, "lstm", "expected_reward")[0]
    low, high = n["attention_ratio_interval"].values
    train = n["final_training_reward"]
    text = (f"frozen expected test reward attention {att:.4f} vs LSTM {lstm:.4f} (ratio {att / lstm:.3f} [{low:.3f}, {high:.3f}]); "
            f"final training reward {np.mean(train.sel(variant='attention').values):.4f} vs {np.mean(train.sel(variant='lstm').values):.4f}")
    return _decided(text, [side((low, high), 0.95)])


def _rises(n) -> dict[str, np.ndarray]:
    return {r: n["timeline_rise"].sel(rise=r).values for r in RISES}


def _claim_gradual(n):
    r = _rises(n)
    span = r["gain t90"] - r["gain t10"]
    low, high = n["timeline_span_interval"].values
    return _decided(f"gain rises from 10 % to 90 % of its final level over {np.median(span):.3f} [{low:.3f}, {high:.3f}] of "
                    f"training (median; replicas {', '.join(f'{v:.3f}' for v in span)}); t10 {np.median(r['gain t10']):.3f}, "
                    f"t90 {np.median(r['gain t90']):.3f}", [side((low, high), 0.1)])


def _claim_before_plateau(n):
    r = _rises(n)
    lead = n["timeline_lead_interval"].values
    return _decided(f"gain t50 {', '.join(f'{v:.3f}' for v in r['gain t50'])} vs training reward t90 "
                    f"{', '.join(f'{v:.3f}' for v in r['training reward t90'])} (replicas); lead "
                    f"{np.mean(r['training reward t90'] - r['gain t50']):.3f} [{lead[0]:.3f}, {lead[1]:.3f}] of training",
                    [bool((r["gain t50"] < r["training reward t90"]).all()), side(lead, 0.0)])


def _claim_two_rates(n):
    inner, outer = n["inner_rate"], n["outer_rate"]
    inner_ratio, outer_ratio = volatility_ratios(inner, outer)
    separation = (inner.min("phase") / outer.max("outer_condition")).values
    tracks = ((inner.sel(phase="volatile-1") > inner.sel(phase="stable-1")) & (inner.sel(phase="volatile-2") > inner.sel(phase="stable-2"))).values
    ok = bool((separation >= 100).all() and tracks.all() and (np.abs(outer_ratio - 1) < np.abs(inner_ratio - 1)).all())
    inner_iv, outer_iv = n["inner_ratio_interval"].values, n["outer_ratio_interval"].values
    text = (f"inner α {float(inner.mean()):.3f} a trial, outer {float(outer.mean()):.2e} an episode; smallest ratio "
            f"{separation.min():,.0f}×; volatile/stable inner {', '.join(f'{v:.2f}' for v in inner_ratio)} "
            f"[{inner_iv[0]:.2f}, {inner_iv[1]:.2f}], outer {', '.join(f'{v:.2f}' for v in outer_ratio)} "
            f"[{outer_iv[0]:.2f}, {outer_iv[1]:.2f}]; inner higher when volatile in both schedules in {tracks.sum()} of {tracks.size}")
    return _decided(text, [ok, side(inner_iv, 1.0)])


def _claim_ppo(n):
    random_regret, scales = _scales(n)
    parts = [_flat(n, name) if name == "feedforward-ppo" else _learns_within_episode(n, name, random_regret)
             for name in n["ppo_variant"].values]
    texts = [text if name != "feedforward-ppo" else f"{name} {text}" for (text, _), name in zip(parts, n["ppo_variant"].values)]
    return _decided("; ".join(texts) + f"; {scales}", [v for _, v in parts])


SHIFT_NAMES = list(SHIFTS)
CLAIMS = (
    Claim("memory_learns_within_episode",
          "with memory + RL + a task distribution every memory architecture (LSTM, GRU, RNN, attention) learns within "
          "episodes with weights frozen", "beyond the paper",
          "95 % intervals: gain of the expected reward (trials 51–100 − 1–10) above 0.05, regret at trial 100 below 0.2 × "
          "random's, every core", _claim_memory),
    Claim("no_memory_flat", "without memory (feed-forward core) performance is flat, at the best memoryless policy's level",
          "beyond the paper", "gain's interval below 0.03, trials 51–100 ≤ best memoryless level + 0.02", _claim_no_memory),
    Claim("fixed_problem_flat", "trained on one fixed problem, the agent does not learn within episodes",
          "beyond the paper", "gain's interval below 0.03 on the correlated test and within ±0.03 on its own problem, "
          "own-problem reward ≥ 0.72",
          _claim_fixed),
    Claim("reward_lesion_chance", "zeroing the reward input at test drops performance to chance",
          "beyond the paper; Wang et al. 2016", "expected reward's interval within 0.5 ± 0.02, gain's below 0.03", _claim_lesion),
    Claim("shift_training_observer", "across correlated ↔ independent arms, choices are better explained by the Bayes "
          "observer of the training distribution", "beyond the paper", "95 % interval of the log LR per choice (train − test observer) above 0 and narrower than half the ideal observers' separation, both shifts",
          _claim_shift(SHIFT_NAMES[:2])),
    Claim("shift_heldout_levels", "on held-out correlated difficulty levels, choices are better explained by the "
          "training (uniform) observer than by the observer that knows the level", "beyond the paper",
          "the same, each of the three levels", _claim_shift(SHIFT_NAMES[2:])),
    Claim("timeline_gradual", "the inner learner appears gradually over outer training, not in a jump", "beyond the paper",
          "the 95 % interval (replicas) of the median gain t90 − t10 above 0.1 of training", _claim_gradual),
    Claim("timeline_before_plateau", "the inner learner appears before the outer reward plateaus", "beyond the paper",
          "the gain's t50 < the training reward's t90 in every replica, and the interval (replicas) of the lead above 0",
          _claim_before_plateau),
    Claim("two_rates", "the inner and the outer learner differ in rate by orders of magnitude, and only the inner one "
          "tracks volatility", "beyond the paper; Wang et al. 2018 Sim 2",
          "every replica: smallest phase α ≥ 100 × outer rate; α volatile > stable in both schedules; "
          "|outer ratio − 1| < |inner ratio − 1|; the interval (replicas) of the inner ratio above 1", _claim_two_rates),
    Claim("ppo_emerges", "meta-RL emerges under PPO as under A2C: memory cores learn within episodes, without memory not",
          "beyond the paper", "PPO LSTM, GRU, RNN learn (the intervals of memory_learns_within_episode); PPO feed-forward: gain's interval below 0.03",
          _claim_ppo),
    Claim("attention_matches_lstm", "the slot-based (attention) core reaches the LSTM's reward on the correlated bandit",
          "beyond the paper", "95 % interval of the frozen expected test reward ratio above 0.95", _claim_attention),
)

EMERGENCE = register(Experiment(
    name="emergence",
    title="The emergence conditions: memory architectures, ablations, distribution shift and the timeline of emergence (beyond the paper)",
    train=TRAIN, analyse=analyse, plot=plot, claims=CLAIMS, n_seeds=4, description=__doc__, reuse=REUSE,
    # test episodes per replica and condition; per replica and training point; per volatility schedule and replica
    sizes={"n_test": 300, "n_timeline": 300, "n_volatility": 100},
))
