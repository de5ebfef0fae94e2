"""Analyses of recordings: behaviour, and the electrophysiologist's toolkit for units.

Every analysis takes a recording (``xarray.Dataset`` in the lab's format: an agent's or a baseline's)
and returns an ``xarray.Dataset`` with named dims; none of them trains anything.

Units (recording analyses):

* :func:`make_regressors` / :func:`regressor` — trial regressors (task variables, latents), event-aligned;
* :func:`unit_regression`, :func:`partial_correlation`, :func:`fraction_significant` — unit coding,
  statsmodels-identical OLS vectorised over units and periods or steps, CPD, shuffle nulls;
* :func:`decode`, :func:`decode_checkpoints` — cross-validated linear decoders grouped by episode;
* :class:`PopulationPCA`, :func:`pca_trajectories`, :func:`condition_average`, :func:`cluster_distances`;
* :func:`recompute_rpe`, :func:`rpe_at` — TD errors aligned to trial events;
* NWB export/import lives in :mod:`neurometarl.lab.nwb`.
"""

from .align import active_trials, activity, at_period, by_trial, choice_period, period_names
from .decoding import decode, decode_checkpoints, episode_folds, make_decoder
from .geometry import PopulationPCA, cluster_distances, condition_average, condition_labels, pca_trajectories
from .ols import OLSFit, fdr_bh, fit_ols
from .regressors import TASK_REGRESSORS, baseline_latents, make_regressors, regressor, signed_action
from .rpe import recompute_rpe, rpe_at
from .units import design, fraction_significant, partial_correlation, unit_regression

__all__ = [
    "activity", "active_trials", "at_period", "by_trial", "choice_period", "period_names",
    "make_regressors", "regressor", "signed_action", "baseline_latents", "TASK_REGRESSORS",
    "fit_ols", "OLSFit", "fdr_bh",
    "unit_regression", "partial_correlation", "fraction_significant", "design",
    "decode", "decode_checkpoints", "episode_folds", "make_decoder",
    "PopulationPCA", "pca_trajectories", "condition_average", "condition_labels", "cluster_distances",
    "recompute_rpe", "rpe_at",
]
