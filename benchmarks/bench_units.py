"""Benchmark: per-unit OLS with p-values for 256 units × 100,000 samples × 10 regressors.

Times, on at most 2 BLAS threads (the project's machine size):

1. ``fit_ols`` — the vectorised core (one QR, one product) — on raw arrays;
2. ``unit_regression`` on a recording of that size (1,000 episodes × 100 trials, 256 units), i.e. with
   regressor building and alignment included;
3. the per-unit ``statsmodels.OLS(...).fit()`` loop it replaces (params, bse, pvalues of every unit),

checks that 1 and 3 agree to 1e-8, and prints the speed-up. Target: (1) and (2) under 2 s.

    .venv/bin/python benchmarks/bench_units.py            # full statsmodels loop (256 fits)
    .venv/bin/python benchmarks/bench_units.py --check    # exit 1 if the target is missed
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import statsmodels.api as sm
import xarray as xr
from threadpoolctl import threadpool_limits

from neurometarl.analysis import fit_ols, unit_regression
from neurometarl.analysis.synthetic import synthetic_recording

N_UNITS, N_SAMPLES, N_REGRESSORS = 256, 100_000, 10
TARGET_S = 2.0


def best_of(fn, repeats: int) -> tuple[float, float, object]:
    """Best wall-clock time, the CPU time of that run (all threads), and the result."""
    best, cpu, out = np.inf, np.inf, None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = fn()
        wall = time.perf_counter() - start
        if wall < best:
            best, cpu = wall, time.process_time() - start_cpu
    return best, cpu, out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="BLAS threads (default 2: the project's cores)")
    parser.add_argument("--statsmodels-units", type=int, default=N_UNITS, help="units in the statsmodels loop")
    parser.add_argument("--check", action="store_true", help="exit 1 if the vectorised fit misses the target")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    X = np.c_[np.ones(N_SAMPLES), rng.standard_normal((N_SAMPLES, N_REGRESSORS))]
    beta = rng.normal(scale=0.05, size=(N_REGRESSORS + 1, N_UNITS))
    Y = X @ beta + rng.standard_normal((N_SAMPLES, N_UNITS))

    # a recording with the same numbers of samples and units: 1,000 episodes × 100 one-step trials
    ds = synthetic_recording(1000, 100, n_units=0, periods=("choice",), actions=("left", "right"), seed=1)
    ds["hidden"] = (("episode", "step", "unit"), Y.reshape(1000, 100, N_UNITS).astype(np.float32),
                    {"long_name": "unit activity", "units": "a.u."})
    ds = ds.assign_coords(unit=[f"u{i}" for i in range(N_UNITS)])
    regressors = {f"x{j}": xr.DataArray(X[:, j + 1].reshape(1000, 100), dims=("episode", "trial")) for j in range(N_REGRESSORS)}

    with threadpool_limits(limits=args.threads):
        t_core, cpu_core, fit = best_of(lambda: fit_ols(X, Y), 5)
        t_rec, cpu_rec, _ = best_of(lambda: unit_regression(ds, regressors, period="choice"), 3)
        n_sm = min(args.statsmodels_units, N_UNITS)

        def loop():
            out = []
            for u in range(n_sm):
                res = sm.OLS(Y[:, u], X).fit()
                out.append((res.params, res.bse, res.pvalues))
            return out

        t_sm, cpu_sm, ref = best_of(loop, 1)
    t_sm_full = t_sm * N_UNITS / n_sm
    err = max(max(np.abs(fit.coef[:, u] - p).max(), np.abs(fit.se[:, u] - s).max(), np.abs(fit.p_value[:, u] - pv).max())
              for u, (p, s, pv) in enumerate(ref))

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{N_UNITS} units x {N_SAMPLES:,} samples x {N_REGRESSORS} regressors (+ intercept), {args.threads} BLAS threads, "
          f"{os.cpu_count()} cores, load average {load:.1f}")
    print(f"  {'':46s}{'wall':>9s}{'cpu':>9s}")
    print(f"  {'fit_ols (coef, se, t, p, CPD, partial r)':46s}{t_core:8.3f}s{cpu_core:8.3f}s")
    print(f"  {'unit_regression on a recording (xarray)':46s}{t_rec:8.3f}s{cpu_rec:8.3f}s")
    label = f"statsmodels loop ({n_sm} units{'' if n_sm == N_UNITS else ', scaled to 256'})"
    print(f"  {label:46s}{t_sm_full:8.3f}s{cpu_sm * N_UNITS / n_sm:8.3f}s")
    print(f"  speed-up vs statsmodels: fit_ols x{t_sm_full / t_core:.0f}, unit_regression x{t_sm_full / t_rec:.0f}")
    print(f"  max |difference| to statsmodels (coef, se, p): {err:.2e}")
    ok = t_core < TARGET_S and t_rec < TARGET_S and err < 1e-8
    print(f"  target (< {TARGET_S} s, agreement 1e-8): {'met' if ok else 'MISSED'}")
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
