"""Benchmark: behavioural fits at the sizes of issue 20, against today's implementation and a per-subject
scipy loop, in one run.

    python benchmarks/bench_fitting.py              # the targets: mice-like and humans-like sizes
    python benchmarks/bench_fitting.py --quick      # small sizes (a minute)
    python benchmarks/bench_fitting.py --cases rw hybrid --skip-today --json out.json

Cases (``--n-starts`` starts per subject, 5 as the CLI):

- ``rw``: Q-learning (alpha, beta) on 15 mice-like subjects x 15,000 trials of a restless bandit
  (target <= 5 s);
- ``compare-rw``: ``compare_models`` of rw, rw-forgetting and rw-perseveration on the same data
  (target <= 20 s);
- ``hybrid``: the Daw 2011 hybrid (7 parameters, second-stage choices) on 200 humans-like subjects x
  125 two-step trials (target <= 10 s).

Each case is fitted three ways on the same data:

- **new**: ``neurometarl`` as it is (compiled numba likelihood with forward-mode gradients, batched
  row-wise L-BFGS, nested-model starts, diagnostics);
- **today**: the implementation before issue 20, emulated in this process: the torch likelihood loop
  over trials with autograd (``use_engine('python')``), no nested-model starts, no re-optimisation
  with parameters put on the bounds they are flat toward, the old stopping tolerances (ftol 1e-9,
  window_ftol 1e-6); it still computes the new diagnostics (one extra batched forward pass);
- **scipy loop**: one subject and one start at a time, a numpy loop over trials for the NLL and
  ``scipy.optimize.minimize(method='L-BFGS-B')`` with finite-difference gradients, from the same
  starting points as the first ``n_starts`` candidates neurometarl screens (centre of the ranges, then
  uniform draws), keeping each subject's best. At full size it runs on the first ``--scipy-subjects``
  subjects (3 bandit, 20 hybrid) and its time is scaled to all subjects (it is one subject at a time);
  the line says so.

Printed per case: the wall time of each (CPU time in the JSON), the ratios, the largest |NLL(new) −
NLL(today)| over fits where both optimizers stopped by their own test, how many of those the new
fit made lower / higher by more than 1e-6 (nested starts and tighter tolerances can only find lower
optima; a different path may land in a different local optimum), and how many subjects the scipy
loop fitted better by more than 1e-3 nats. Wall times on a shared machine include waiting for the CPU.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
import warnings

import numpy as np
import pandas as pd
import torch
from scipy.optimize import minimize

from neurometarl.data import recording_to_table
from neurometarl.models import BehaviouralModel, make_model
from neurometarl.models import fitting
from neurometarl.models.diagnostics import FitWarning
from neurometarl.models.fitting import compare_models, starting_points
from neurometarl.models.recurrence import use_engine
from neurometarl.seeding import make_rng

SIZES = {"full": {"rw": (15, 15_000), "compare-rw": (15, 15_000), "hybrid": (200, 125)},
         "quick": {"rw": (5, 2_000), "compare-rw": (5, 2_000), "hybrid": (20, 125)}}
TARGETS = {"rw": 5.0, "compare-rw": 20.0, "hybrid": 10.0}
RW_VARIANTS = ("rw", "rw-forgetting", "rw-perseveration")
LEGACY_TOLERANCES = {"gtol": 1e-4, "ftol": 1e-9, "window_ftol": 1e-6}


# --- data ---------------------------------------------------------------------------------------
def simulate_bandit(n_subjects: int, n_trials: int, seed: int) -> pd.DataFrame:
    """Mice-like data: RW learners with perseveration on a restless two-armed bandit (probabilities on
    a reflected random walk, s.d. 0.05 a trial), simulated in numpy (fast for 15,000 trials)."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_subjects):
        alpha, beta, kappa = rng.uniform(0.1, 0.6), rng.uniform(2.0, 8.0), rng.uniform(0.0, 1.0)
        p, q, prev = rng.uniform(0, 1, 2), np.full(2, 0.5), np.zeros(2)
        choice = np.empty(n_trials, int)
        reward = np.empty(n_trials)
        for t in range(n_trials):
            p = np.abs(p + rng.normal(0, 0.05, 2))
            p = np.where(p > 1, 2 - p, p)
            d = beta * (q[1] - q[0]) + kappa * (prev[1] - prev[0])
            c = int(rng.random() < 1 / (1 + np.exp(-d)))
            r = float(rng.random() < p[c])
            q[c] += alpha * (r - q[c])
            prev[:] = 0
            prev[c] = 1
            choice[t], reward[t] = c, r
        rows.append(pd.DataFrame({"subject": s, "trial": np.arange(n_trials), "choice": choice, "reward": reward}))
    return pd.concat(rows, ignore_index=True)


def simulate_twostep(n_subjects: int, n_trials: int, seed: int) -> pd.DataFrame:
    """Humans-like data: hybrid learners on the Daw 2011 two-step task with second-stage choices."""
    rng = np.random.default_rng(seed)
    params = pd.DataFrame({"alpha1": rng.uniform(0.2, 0.8, n_subjects), "alpha2": rng.uniform(0.2, 0.8, n_subjects),
                           "lambda": rng.uniform(0.2, 0.9, n_subjects), "beta1": rng.uniform(2, 6, n_subjects),
                           "beta2": rng.uniform(2, 6, n_subjects), "perseveration": rng.uniform(-0.2, 0.5, n_subjects),
                           "w": rng.uniform(0.1, 0.9, n_subjects)})
    ds = make_model("hybrid").simulate("twostep-daw-choice", params=params, n_trials=n_trials, seed=seed)
    return recording_to_table(ds)


# --- the per-subject scipy reference -------------------------------------------------------------
def nll_rw(x, names, choice, reward, q0=0.5):
    """RW family negative log-likelihood, one trial at a time (numpy)."""
    p = dict(zip(names, x))
    alpha, beta = p["alpha"], p["beta"]
    forget, kappa, tau = p.get("forget", 0.0), p.get("kappa", 0.0), p.get("tau", 0.0)
    q, k = np.array([q0, q0]), np.zeros(2)
    total = 0.0
    for c, r in zip(choice, reward):
        logits = beta * q + kappa * k
        total -= logits[c] - np.logaddexp(logits[0], logits[1])
        u = 1 - c
        q[c] += alpha * (r - q[c])
        q[u] += forget * (q0 - q[u])
        k += tau * (np.eye(2)[c] - k)
    return total


def nll_hybrid(x, names, choice, reward, state2, choice2, common, q0=0.5):
    """Daw 2011 hybrid (second-stage choices modelled) negative log-likelihood, one trial at a time."""
    a1, a2, lam, b1, b2, pers, w = (dict(zip(names, x))[n] for n in ("alpha1", "alpha2", "lambda", "beta1", "beta2", "perseveration", "w"))
    q1, q2, prev = np.full(2, q0), np.full((2, 2), q0), np.zeros(2)
    total = 0.0
    for a, r, s, b in zip(choice, reward, state2, choice2):
        v = q2.max(1)
        q_mb = common * v + (1 - common) * v[::-1]
        logits = b1 * (w * q_mb + (1 - w) * q1) + pers * prev
        total -= logits[a] - np.logaddexp(logits[0], logits[1])
        l2 = b2 * q2[s]
        total -= l2[b] - np.logaddexp(l2[0], l2[1])
        d2 = r - q2[s, b]
        d1 = q2[s, b] - q1[a]
        q1[a] += a1 * (d1 + lam * d2)
        q2[s, b] += a2 * d2
        prev[:] = 0
        prev[a] = 1
    return total


def fit_scipy(model: BehaviouralModel, table: pd.DataFrame, n_starts: int, seed: int) -> np.ndarray:
    """Best NLL per subject (table order) of per-subject, per-start L-BFGS-B fits."""
    td = model._trial_data(table)
    model._resolve(td)
    specs = model.specs()
    names = [s.name for s in specs]
    x0 = starting_points(model, td.n_subjects, n_starts, make_rng(seed))
    natural = np.stack([s.to_natural(x0[:, i]).numpy() for i, s in enumerate(specs)], 1).reshape(n_starts, td.n_subjects, -1)
    bounds = [((s.lower + 1e-6, s.upper - 1e-6) if np.isfinite(s.upper) else (None, None)) for s in specs]
    out = []
    for j, (_, g) in enumerate(td.table.groupby("subject", sort=False)):
        if model.kind == "twostep":
            state2 = np.where(g["transition"] == 1, g["choice"], 1 - g["choice"]).astype(int)
            args = (names, g["choice"].to_numpy(int), g["reward"].to_numpy(float), state2, g["choice2"].to_numpy(int),
                    model.common_prob_)
            fun = nll_hybrid
        else:
            args = (names, g["choice"].to_numpy(int), g["reward"].to_numpy(float))
            fun = nll_rw
        best = min(minimize(fun, natural[k, j], args=args, method="L-BFGS-B", bounds=bounds).fun for k in range(n_starts))
        out.append(best)
    return np.array(out)


# --- the three ways -----------------------------------------------------------------------------
@contextlib.contextmanager
def today():
    """The implementation before issue 20: torch loop over trials, no nested starts, old tolerances."""
    nested, polish, tolerances = fitting._nested_starts, fitting._polish_at_bounds, dict(fitting.TOLERANCES)
    fitting._nested_starts = lambda model, data, nested_fits: None

    def no_polish(model, data, row_subject, starts, *, mean=None, sd=None):  # the diagnostic only
        return starts, fitting._flat_to_bound(model, data, row_subject, starts.x, starts.fun, mean=mean, sd=sd)

    fitting._polish_at_bounds = no_polish
    fitting.TOLERANCES.update(LEGACY_TOLERANCES)
    try:
        with use_engine("python"):
            yield
    finally:
        fitting._nested_starts, fitting._polish_at_bounds = nested, polish
        fitting.TOLERANCES.clear()
        fitting.TOLERANCES.update(tolerances)


def _timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def run_case(case: str, table: pd.DataFrame, args) -> dict:
    names = RW_VARIANTS if case == "compare-rw" else (("rw",) if case == "rw" else ("hybrid",))

    def ours():
        models = {n: make_model(n, n_starts=args.n_starts, random_state=args.seed) for n in names}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FitWarning)
            if case == "compare-rw":
                compare_models(models, table)
            else:
                next(iter(models.values())).fit(table)
        return models

    new, t_new, c_new = _timed(ours)
    result = {"case": case, "n_subjects": int(table["subject"].nunique()),
              "n_trials": int(table.groupby("subject").size().max()), "n_starts": args.n_starts,
              "new_s": round(t_new, 3), "new_cpu_s": round(c_new, 3), "target_s": TARGETS[case]}
    if not args.skip_today:
        with today():
            old, t_old, c_old = _timed(ours)
        diffs, n_both = [], 0
        lower = higher = equal = 0
        for n in names:
            a, b = new[n].subject_fits_, old[n].subject_fits_
            both = a["optimizer_converged"] & b["optimizer_converged"]
            n_both += int(both.sum())
            delta = (a["nll"] - b["nll"])[both]
            diffs.append(float(delta.abs().max()) if both.any() else float("nan"))
            lower, higher = lower + int((delta < -1e-6).sum()), higher + int((delta > 1e-6).sum())
            equal += int((delta.abs() <= 1e-6).sum())
        result.update({"today_s": round(t_old, 3), "today_cpu_s": round(c_old, 3), "speedup_vs_today": round(t_old / t_new, 1),
                       "max_abs_nll_difference_vs_today": max(diffs), "subjects_converged_in_both": n_both,
                       "fits_equal_within_1e-6": equal, "fits_new_lower_by_1e-6": lower, "fits_new_higher_by_1e-6": higher})
    if not args.skip_scipy:
        subjects = list(pd.unique(table["subject"]))
        k = len(subjects) if args.scipy_subjects is None else min(args.scipy_subjects, len(subjects))
        part = table[table["subject"].isin(subjects[:k])]

        def reference():
            return {n: fit_scipy(make_model(n), part, args.n_starts, args.seed) for n in names}

        ref, t_ref, c_ref = _timed(reference)
        scale = len(subjects) / k  # the loop is one subject at a time: its time scales with the subjects
        ours = {n: new[n].subject_fits_["nll"].to_numpy()[:k] for n in names}
        worse = sum(int((ref[n] < ours[n] - 1e-3).sum()) for n in names)
        result.update({"scipy_subjects": k, "scipy_loop_s": round(t_ref * scale, 3), "scipy_loop_measured_s": round(t_ref, 3),
                       "scipy_loop_cpu_s": round(c_ref * scale, 3), "speedup_vs_scipy": round(t_ref * scale / t_new, 1),
                       "subjects_where_scipy_found_lower_nll_by_1e-3": worse,
                       "max_abs_nll_difference_vs_scipy": max(float(np.abs(ref[n] - ours[n]).max()) for n in names)})
    return result


def warm_up(case: str, table: pd.DataFrame) -> None:
    """Load the compiled kernels (numba's cache) outside the timings: one tiny fit."""
    first = table[table["subject"] == table["subject"].iloc[0]].head(100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        make_model("hybrid" if case == "hybrid" else "rw-perseveration", n_starts=1).fit(first)


def line(r: dict) -> str:
    text = (f"{r['case']:<10s} {r['n_subjects']} x {r['n_trials']} trials, {r['n_starts']} starts: new {r['new_s']:.2f} s "
            f"(target <= {r['target_s']:g} s: {'met' if r['new_s'] <= r['target_s'] else 'NOT met'})")
    if "today_s" in r:
        text += (f" | today {r['today_s']:.2f} s ({r['speedup_vs_today']:g}x); max |dNLL| vs today "
                 f"{r['max_abs_nll_difference_vs_today']:.2g} over {r['subjects_converged_in_both']} fits converged in both: "
                 f"equal within 1e-6 on {r['fits_equal_within_1e-6']}, new lower on {r['fits_new_lower_by_1e-6']}, "
                 f"higher on {r['fits_new_higher_by_1e-6']}")
    if "scipy_loop_s" in r:
        part = (f"{r['scipy_loop_measured_s']:.2f} s on {r['scipy_subjects']} of {r['n_subjects']} subjects, "
                f"{r['scipy_loop_s']:.0f} s for all" if r["scipy_subjects"] < r["n_subjects"] else f"{r['scipy_loop_s']:.2f} s")
        text += (f" | scipy loop {part} ({r['speedup_vs_scipy']:g}x); lower NLL than new by >1e-3 on "
                 f"{r['subjects_where_scipy_found_lower_nll_by_1e-3']} of {r['scipy_subjects']} subjects")
    return text


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: " + str(SIZES["quick"]))
    parser.add_argument("--cases", nargs="+", choices=list(TARGETS), default=list(TARGETS))
    parser.add_argument("--n-subjects", type=int, default=None, help="override every case's number of subjects")
    parser.add_argument("--n-trials", type=int, default=None, help="override the bandit cases' trials per subject")
    parser.add_argument("--n-starts", type=int, default=5, help="optimisation starts per subject, for every fitter (default 5, as the CLI)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-today", action="store_true", help="do not time today's implementation")
    parser.add_argument("--skip-scipy", action="store_true", help="do not time the per-subject scipy loop")
    parser.add_argument("--scipy-subjects", type=int, default=None,
                        help="run the scipy loop on the first K subjects and scale its time to all (default: all with "
                             "--quick, else 3 for the bandit cases and 20 for the hybrid)")
    parser.add_argument("--json", default=None, metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    sizes = SIZES["quick" if args.quick else "full"]
    results, data = [], {}
    explicit_scipy = args.scipy_subjects
    for case in args.cases:
        if explicit_scipy is None and not args.quick:
            args.scipy_subjects = 20 if case == "hybrid" else 3
        n_sub, n_trials = sizes[case]
        n_sub = args.n_subjects or n_sub
        if case == "hybrid":
            table = simulate_twostep(n_sub, n_trials, args.seed)
        else:
            n_trials = args.n_trials or n_trials
            key = (n_sub, n_trials)
            table = data[key] = data.get(key) if key in data else simulate_bandit(n_sub, n_trials, args.seed)
        warm_up(case, table)
        r = run_case(case, table, args)
        print(line(r), flush=True)
        results.append(r)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
