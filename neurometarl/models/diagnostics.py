"""What a fit says about itself: convergence, parameters at their bounds, standard errors that exist or
say why not, agreement across starts, distance from the prior, and chance-level subjects.

:func:`diagnose` adds these columns to a model's ``subject_fits_`` and :func:`warn_fits` turns them
into warnings, one line per kind of problem with the number of subjects it concerns (never one line
per subject).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy.stats import chi2

#: a parameter is at a bound when it lies within this fraction of its range from the bound (for a
#: one-sided bound, within this absolute distance)
BOUND_TOL = 1e-3
#: a fit has converged when the optimizer stopped by its own test and the largest absolute gradient
#: entry of the objective (unconstrained parameters; those not at a bound, where the optimum lies at
#: infinity and the gradient may point outward) is below this
GRAD_TOL = 1e-2
#: starts whose optimum is within this many nats of the best count as having reached it
SAME_NLL_TOL = 1e-2
#: a posterior mode closer than this many prior standard deviations to the prior mean is "at the prior"
PRIOR_Z_TOL = 0.25


class FitWarning(UserWarning):
    """A fit that may not say what it seems to: parameters at bounds, unconverged or chance-level
    subjects, starts that disagree, estimates that are the prior's."""


def at_bound(specs, natural: np.ndarray) -> np.ndarray:
    """(n_subjects, n_params) bool: each natural parameter within :data:`BOUND_TOL` of a finite bound."""
    out = np.zeros(natural.shape, bool)
    for i, s in enumerate(specs):
        v = natural[:, i]
        if math.isfinite(s.lower) and math.isfinite(s.upper):
            tol = BOUND_TOL * (s.upper - s.lower)
            out[:, i] = (v - s.lower <= tol) | (s.upper - v <= tol)
        elif math.isfinite(s.lower):
            out[:, i] = v - s.lower <= BOUND_TOL
    return out


def chance_level(nll: np.ndarray, n_choices: np.ndarray, n_params: int, level: float = 0.05) -> np.ndarray:
    """True where the fitted model is not significantly better than choosing at random (likelihood
    ratio against P = 1/2 on every binary choice, χ² with ``n_params`` degrees of freedom)."""
    lr = 2 * (n_choices * math.log(2) - nll)
    return lr < chi2.ppf(1 - level, n_params)


def diagnose(model, fits: pd.DataFrame, *, natural, flat, se, optimizer_converged, grad, n_at_best, n_starts,
             pd_hessian, prior_z=None) -> pd.DataFrame:
    """Add diagnostic columns to ``fits`` (one row per subject) and return it.

    Columns: ``converged`` (optimizer status and ``grad_norm`` < :data:`GRAD_TOL`), ``optimizer_converged``,
    ``grad_norm`` (largest absolute gradient entry over the parameters not at a bound; ``grad`` is
    (n_subjects, n_params) in unconstrained space), ``n_starts``, ``n_starts_at_best`` (starts within :data:`SAME_NLL_TOL` nats of the
    best), ``chance_level``, ``<param>_se`` (NaN where not defined), ``se_note`` (why), ``<param>_at_bound``
    (within :data:`BOUND_TOL` of a bound, or ``flat``: the objective at the bound is within
    :data:`SAME_NLL_TOL` of the optimum),
    ``at_bound`` (names of the parameters at a bound, ';'-separated) and, for fits with a prior,
    ``<param>_prior_z`` (distance of the mode from the prior mean, in prior standard deviations).
    """
    specs = model.specs()
    names = [s.name for s in specs]
    bound = at_bound(specs, natural) | flat
    se = np.where(bound, np.nan, se)
    grad_norm = np.where(bound, 0.0, np.abs(grad)).max(1)
    notes = []
    for j in range(len(fits)):
        why = []
        if not pd_hessian[j]:
            why.append("Hessian not positive definite (a flat or saddle direction: parameters not identified)")
        if bound[j].any():
            why.append("at bound: " + ", ".join(n for n, b in zip(names, bound[j]) if b))
        notes.append("; ".join(why))
    fits["converged"] = np.asarray(optimizer_converged, bool) & (np.asarray(grad_norm) < GRAD_TOL)
    fits["optimizer_converged"] = np.asarray(optimizer_converged, bool)
    fits["grad_norm"] = np.asarray(grad_norm, float)
    fits["n_starts"] = int(n_starts)
    fits["n_starts_at_best"] = np.asarray(n_at_best, int)
    fits["chance_level"] = chance_level(fits["nll"].to_numpy(), fits["n_choices"].to_numpy(), len(specs))
    for i, n in enumerate(names):
        fits[f"{n}_se"] = se[:, i]
    fits["se_note"] = notes
    for i, n in enumerate(names):
        fits[f"{n}_at_bound"] = bound[:, i]
    fits["at_bound"] = [";".join(n for n, b in zip(names, row) if b) for row in bound]
    if prior_z is not None:
        for i, n in enumerate(names):
            fits[f"{n}_prior_z"] = prior_z[:, i]
    return fits


def problems(model, fits: pd.DataFrame) -> list[str]:
    """One line per kind of problem in ``fits`` (see :func:`diagnose`), each with its subject count."""
    n = len(fits)
    name = model.name
    lines = []
    for s in model.specs():
        k = int(fits[f"{s.name}_at_bound"].sum())
        if k:
            values = fits.loc[fits[f"{s.name}_at_bound"], s.name]
            where = sorted({("lower" if abs(v - s.lower) < abs(v - s.upper) else "upper") for v in values})
            bounds = {"lower": f"{s.lower:g}", "upper": f"{s.upper:g}"}
            lines.append(f"{name}: {s.name} at its {' and '.join(where)} bound ({', '.join(bounds[w] for w in where)}) "
                         f"for {k} of {n} subjects (see the '{s.name}_at_bound' column; standard errors are NaN there)")
    k = int((~fits["converged"]).sum())
    if k:
        lines.append(f"{name}: {k} of {n} subjects did not converge (optimizer stopped early or gradient norm >= {GRAD_TOL:g}); "
                     "raise max_iter or n_starts")
    k = int(fits["chance_level"].sum())
    if k:
        lines.append(f"{name}: {k} of {n} subjects choose no better than chance under the fitted model "
                     "(likelihood-ratio test against P = 1/2, p > 0.05)")
    if int(fits["n_starts"].iloc[0]) > 1:
        k = int((fits["n_starts_at_best"] == 1).sum())
        if k:
            lines.append(f"{name}: starts disagree for {k} of {n} subjects (only 1 of {int(fits['n_starts'].iloc[0])} "
                         f"starts reached the best NLL within {SAME_NLL_TOL:g}); more starts may find better optima")
    k = int(fits["se_note"].str.contains("Hessian").sum())
    if k:
        lines.append(f"{name}: Hessian not positive definite for {k} of {n} subjects; their standard errors are NaN")
    return lines


def prior_notes(model, fits: pd.DataFrame, fraction: float = 0.5) -> list[str]:
    """Parameters whose posterior mode lies within :data:`PRIOR_Z_TOL` prior sd of the prior mean for
    more than ``fraction`` of subjects: there the estimate is the prior's, not the data's."""
    prior = getattr(model, "prior_", None)
    if prior is None:
        return []
    lines = []
    for s in model.specs():
        col = f"{s.name}_prior_z"
        if col not in fits:
            continue
        close = fits[col].abs() < PRIOR_Z_TOL
        if close.mean() > fraction:
            lines.append(f"{model.name}: the {s.name} mode is within {PRIOR_Z_TOL:g} prior sd of the prior mean "
                         f"({s.name} = {prior.loc[s.name, 'natural_centre']:.3g}) for {int(close.sum())} of {len(fits)} subjects: "
                         "there the estimate is the prior's, not the data's")
    return lines


def warn_fits(lines: list[str]) -> None:
    """Issue each line as a :class:`FitWarning`, pointing at the code that called the fit."""
    for line in lines:
        warnings.warn(line, FitWarning, stacklevel=3)


def prior_frame(model, mean: np.ndarray, sd: np.ndarray, kind: str) -> pd.DataFrame:
    """The prior a fit used, one row per parameter: ``mean``, ``sd`` (unconstrained Normal), the
    ``transform``, the ``natural_centre`` (the mean mapped to natural units) and ``kind`` ('map': the
    parameters' priors; 'eb': the fitted group prior)."""
    import torch

    specs = model.specs()
    centre = [float(s.to_natural(torch.tensor(float(m), dtype=torch.float64))) for s, m in zip(specs, mean)]
    transform = [("logit" if math.isfinite(s.upper) else "log") if math.isfinite(s.lower) else "identity" for s in specs]
    return pd.DataFrame({"mean": mean, "sd": sd, "transform": transform, "natural_centre": centre, "kind": kind},
                        index=pd.Index([s.name for s in specs], name="parameter"))
