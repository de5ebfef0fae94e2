"""The behavioural-model contract and the machinery every model shares.

A model is written once, as three batched torch functions over columns (one per session of every
subject × start × fold, or one per episode when it plays a task):

- ``_init_state(p, n)`` → dict of state tensors at a session start;
- ``_logits(state, p, x)`` → (columns, 2) logits of the first-stage (bandit) choice; two-step models
  with second-stage choices also give ``_logits2(state, p, x)``;
- ``_update(state, p, x)`` → the new state after trial ``x`` (choice, reward, transition...).

The same functions give the likelihood (a Python loop over trials, vectorised over all rows),
per-trial latents, and a lab subject that plays a protocol (:mod:`neurometarl.models.subject`).
The sklearn-style front end (``fit``, ``params_``, ``nll_``, ``bic_``, ``predict_proba``, ``score``,
``latents``, ``simulate``) lives in :class:`BehaviouralModel`; fitting itself in
:mod:`neurometarl.models.fitting`; the trial layout (:class:`TrialData`, :class:`RowBatch`) in
:mod:`neurometarl.models.trials`. Models with a compiled likelihood (:mod:`neurometarl.models.compiled`)
also implement ``_compiled_loglik``; models with nested special cases ``_nested``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal, get_args

import numpy as np
import pandas as pd
import torch
import xarray as xr
from sklearn.base import BaseEstimator

from ..errors import ConfigError, DataError
from ..data.table import as_table
from .diagnostics import problems, warn_fits
from .fitting import fit_in_windows, fit_pooled, fit_subjects, natural_values
from .recurrence import current_engine
from .subject import ModelSubject
from .trials import DTYPE, RowBatch, TrialData, TrialView, _where_state, log_softmax2  # noqa: F401 (re-exported)



# --- parameters ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Parameter:
    """A free parameter: its natural range, the transform to an unconstrained value, the range random
    starts and simulations draw from, and a weak default prior in unconstrained space.

    lower, upper : natural bounds. Both finite: ``lower + (upper - lower) * sigmoid(x)``; only
        ``lower``: ``lower + exp(x)``; neither: ``x``.
    init : (low, high) natural range for random starts and for simulated subjects.
    prior : (mean, sd) of the Normal prior on the unconstrained value (MAP fits).
    """

    name: str
    lower: float
    upper: float
    init: tuple[float, float]
    long_name: str
    prior: tuple[float, float] = (0.0, 1.5)

    def to_natural(self, x: torch.Tensor) -> torch.Tensor:
        """Map unconstrained values ``x`` (any shape) to the natural range, elementwise."""
        if math.isfinite(self.lower) and math.isfinite(self.upper):
            return self.lower + (self.upper - self.lower) * torch.sigmoid(x)
        if math.isfinite(self.lower):
            return self.lower + torch.exp(x.clamp(max=30.0))
        return x

    def to_unconstrained(self, v: np.ndarray | float) -> np.ndarray:
        """Inverse of :meth:`to_natural`; values on or beyond a bound are clipped just inside it."""
        v = np.asarray(v, float)
        if math.isfinite(self.lower) and math.isfinite(self.upper):
            u = np.clip((v - self.lower) / (self.upper - self.lower), 1e-9, 1 - 1e-9)
            return np.log(u) - np.log1p(-u)
        if math.isfinite(self.lower):
            return np.log(np.maximum(v - self.lower, 1e-12))
        return v

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        """d natural / d unconstrained at ``x`` (for delta-method standard errors)."""
        x = np.asarray(x, float)
        if math.isfinite(self.lower) and math.isfinite(self.upper):
            s = 1 / (1 + np.exp(-x))
            return (self.upper - self.lower) * s * (1 - s)
        if math.isfinite(self.lower):
            return np.exp(np.minimum(x, 30.0))
        return np.ones_like(x)


def unit(name, long_name, init=(0.05, 0.95), prior=(0.0, 1.5)):
    """A parameter in [0, 1] (learning rates, weights, lapse rates), through a logistic transform."""
    return Parameter(name, 0.0, 1.0, init, long_name, prior)


def positive(name, long_name, init=(0.5, 10.0), prior=(-2.75, 1.5), upper=50.0):
    """A positive parameter with a finite cap (inverse temperatures: ML estimates otherwise run off to
    infinity for near-deterministic choosers); the default prior is centred near 3 on that scale."""
    return Parameter(name, 0.0, upper, init, long_name, prior)


def real(name, long_name, init=(-1.0, 1.0), prior=(0.0, 1.0)):
    """An unbounded parameter (biases, perseveration weights), used untransformed."""
    return Parameter(name, -math.inf, math.inf, init, long_name, prior)


def frame_json(params) -> str:
    """Natural parameters (DataFrame, one row per fit, or a dict/Series for one set) as a JSON string for
    dataset attributes."""
    frame = params if isinstance(params, pd.DataFrame) else pd.DataFrame([pd.Series(params)])
    return frame.to_json()


# --- the estimator ------------------------------------------------------------------------------
FitMethod = Literal["ml", "map", "eb"]
FIT_METHODS: tuple[str, ...] = get_args(FitMethod)


class BehaviouralModel(BaseEstimator):
    """Base class: subclasses set ``kind``, ``name`` and ``description`` and implement
    ``_parameter_specs``, ``_init_state``, ``_logits``, ``_update``, ``_latents`` and
    ``_prediction_errors`` (two-step models with second-stage choices also ``_logits2``). Optional
    hooks for speed: ``_policy_inputs``/``_policy_logits`` and ``_vectorised_inputs``; for a
    lapse-style choice rule: ``_log_probs``.

    Fitting hyperparameters shared by every model (sklearn style, stored untouched by ``__init__``):
    ``method`` ('ml' maximum likelihood, 'map' with the parameters' priors, 'eb' hierarchical
    empirical Bayes), ``n_starts`` (local optimisations per subject, from the best ``n_starts`` of 24
    candidate points screened in one batched pass: the centre of each parameter's ``init`` range and
    uniform draws in it), ``prior`` (dict name → (mean, sd) overriding default priors, in
    unconstrained space), ``max_iter``, ``random_state``.
    """

    kind: ClassVar[str] = "bandit"
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    supports_stage2: ClassVar[bool] = False

    # -- to implement ----------------------------------------------------------------------------
    def _parameter_specs(self) -> tuple[Parameter, ...]:
        raise NotImplementedError

    def _init_state(self, p: dict[str, torch.Tensor], n_rows: int) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def _logits(self, state: dict, p: dict, x: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """(rows, 2) first-stage logits before trial ``x``."""
        raise NotImplementedError

    def _policy_inputs(self, state: dict, p: dict, x: Mapping[str, torch.Tensor]):
        """What the likelihood loop keeps from each trial to build the logits afterwards, for all trials
        at once (default: the logits themselves). Models override this with
        :meth:`_policy_logits` to move parameter products out of the loop over trials."""
        return self._logits(state, p, x)

    def _policy_logits(self, inputs, p: dict) -> torch.Tensor:
        """Logits (..., rows, 2) from :meth:`_policy_inputs` stacked over trials (or one trial)."""
        return inputs

    def _log_probs(self, logits: torch.Tensor, p: dict) -> torch.Tensor:
        """Log-probabilities of the two choices from logits (..., rows, 2)."""
        return log_softmax2(logits)

    def _log_policy(self, state: dict, p: dict, x: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """(rows, 2) log-probabilities of the first-stage choice before trial ``x``."""
        return self._log_probs(self._policy_logits(self._policy_inputs(state, p, x), p), p)

    def _logits2(self, state: dict, p: dict, x: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """(rows, 2) second-stage logits in the state reached on trial ``x`` (two-step models)."""
        raise NotImplementedError

    def _vectorised_inputs(self, p: dict, batch: "RowBatch"):
        """The stacked :meth:`_policy_inputs` of every trial at once, (n_trials, columns, ...), for
        models whose state update has a closed vectorised form (e.g. an affine recurrence, see
        :mod:`neurometarl.models.recurrence`); ``None`` (default) runs the loop over trials. Must
        skip violation trials (``batch.tensors['update']``) as the loop does."""
        return None

    def _update(self, state: dict, p: dict, x: Mapping[str, torch.Tensor]) -> dict:
        raise NotImplementedError

    def _latents(self, state: dict, p: dict, x: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Per-trial quantities before the choice (values), each (rows,)."""
        raise NotImplementedError

    def _prediction_errors(self, state: dict, p: dict, x: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Per-trial prediction errors of trial ``x`` (computed from the pre-update state)."""
        raise NotImplementedError

    def _nested(self) -> list:
        """Nested special cases whose optima are starting points of this model's fit (so that it never
        fits worse than they do): a list of (model, embed), ``embed`` mapping the nested model's
        fitted natural parameters (DataFrame) to this model's. Default: none."""
        return []

    def _sub_model(self, cls, **options):
        """A ``cls`` with this model's fitting options (the prior restricted to its parameters)."""
        shared = {k: v for k, v in self.get_params().items() if k in cls().get_params()}
        shared.update(options)
        sub = cls(**shared)
        if shared.get("prior"):
            sub.set_params(prior={k: v for k, v in shared["prior"].items() if k in sub.param_names} or None)
        return sub

    # -- configuration -----------------------------------------------------------------------------
    def _resolve(self, data: TrialData | None, task=None) -> None:
        """Fix data-dependent settings (two-step models: which stages are modelled)."""
        self.stage2_ = False

    def _set_fit_options(self, method, n_starts, prior, max_iter, random_state) -> None:
        """Store the fitting options every model's constructor takes (sklearn: one attribute per parameter)."""
        self.method, self.n_starts, self.prior, self.max_iter, self.random_state = method, n_starts, prior, max_iter, random_state

    def _check_fit_options(self):
        method = getattr(self, "method", "ml")
        if method not in FIT_METHODS:
            raise ConfigError(f"method must be one of {FIT_METHODS}, got {method!r}")
        if getattr(self, "n_starts", 1) < 1:
            raise ConfigError(f"n_starts must be >= 1, got {self.n_starts}")

    @property
    def param_names(self) -> list[str]:
        """Names of the free parameters, in the column order of unconstrained parameter arrays."""
        return [s.name for s in self._parameter_specs()]

    def specs(self) -> tuple[Parameter, ...]:
        """The free parameters (after any data-dependent choice made by ``fit``)."""
        return self._parameter_specs()

    def priors(self) -> tuple[np.ndarray, np.ndarray]:
        """(mean, sd) of each parameter's unconstrained Normal prior, overrides applied."""
        over = getattr(self, "prior", None) or {}
        unknown = set(over) - set(self.param_names)
        if unknown:
            raise ConfigError(f"prior given for unknown parameter(s) {sorted(unknown)}; {self.name} has {self.param_names}")
        mean = np.array([over.get(s.name, s.prior)[0] for s in self.specs()], float)
        sd = np.array([over.get(s.name, s.prior)[1] for s in self.specs()], float)
        if (sd <= 0).any():
            raise ConfigError(f"prior sd must be > 0, got {dict(zip(self.param_names, sd))}")
        return mean, sd

    def natural(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Unconstrained (rows, n_params) → dict of natural (rows,) parameters."""
        return {s.name: s.to_natural(x[:, i]) for i, s in enumerate(self.specs())}

    def _param_tensor(self, params) -> dict[str, torch.Tensor]:
        """Natural parameters for the rows from a DataFrame/dict of arrays (rows,)."""
        names = self.param_names
        if isinstance(params, pd.Series):
            params = params.to_frame().T
        if isinstance(params, dict):
            params = pd.DataFrame({k: np.atleast_1d(v) for k, v in params.items()})
        missing = [n for n in names if n not in params]
        if missing:
            raise ConfigError(f"{self.name} needs parameter(s) {missing}; got {list(params.columns)}")
        out = {}
        for s in self.specs():
            v = np.array(params[s.name], float)
            if np.any(v < s.lower) or np.any(v > s.upper) or not np.all(np.isfinite(v)):
                raise ConfigError(f"parameter {s.name!r} must lie in [{s.lower}, {s.upper}], got {v}")
            out[s.name] = torch.as_tensor(v, dtype=DTYPE)
        return out

    # -- the likelihood loop -------------------------------------------------------------------------
    def _run(self, p: dict[str, torch.Tensor], batch: RowBatch, record: bool = False):
        """Log-likelihood of every column (columns,) with parameters ``p`` given per column; with
        ``record`` also per-trial latents, each (n_trials, columns). Every column starts a session."""
        stacked = None if record or self.stage2_ else self._vectorised_inputs(p, batch)
        if stacked is None:
            state = self._init_state(p, len(batch.col_row))
            inputs, logits2, rec = [], [], []
            for t in range(batch.n_trials):
                x = TrialView(batch.tensors, t)
                inputs.append(self._policy_inputs(state, p, x))
                if self.stage2_:
                    logits2.append(self._logits2(state, p, x))
                if record:
                    rec.append({**self._latents(state, p, x), **self._prediction_errors(state, p, x)})
                new = self._update(state, p, x)
                state = _where_state(x["update"], new, state) if batch.any_skip[t] else new
            stacked = {k: torch.stack([i[k] for i in inputs]) for k in inputs[0]} if isinstance(inputs[0], dict) else torch.stack(inputs)
        lp1 = self._log_probs(self._policy_logits(stacked, p), p)  # (T, columns, 2)
        ll = (lp1.gather(2, batch.choice[..., None])[..., 0] * batch.lik1).sum(0)
        out: dict[str, torch.Tensor | dict[str, torch.Tensor]] = {"logp1": lp1}
        if self.stage2_:
            lp2 = log_softmax2(torch.stack(logits2))
            ll = ll + (lp2.gather(2, batch.choice2[..., None])[..., 0] * batch.lik2).sum(0)
            out["logp2"] = lp2
        if record:
            out["latents"] = {k: torch.stack([r[k] for r in rec]) for k in rec[0]}
        return ll, out

    def _compiled_loglik(self, p: dict, batch: RowBatch) -> torch.Tensor | None:
        """Per-column log-likelihood (columns,) from a compiled kernel (:mod:`neurometarl.models.compiled`),
        differentiable in ``p``; ``None`` (default) runs :meth:`_run`."""
        return None

    def loglik(self, x: torch.Tensor, batch: RowBatch) -> torch.Tensor:
        """Log-likelihood (rows,) at unconstrained parameters ``x`` (rows, n_params): by the model's
        compiled kernel where it has one (engine 'numba', see
        :func:`~neurometarl.models.recurrence.use_engine`), else by the torch loop :meth:`_run`."""
        p = {k: v[batch.col_row_t] for k, v in self.natural(x).items()}
        ll = self._compiled_loglik(p, batch) if current_engine() == "numba" else None
        return batch.per_row(self._run(p, batch)[0] if ll is None else ll)

    # -- sklearn front end ---------------------------------------------------------------------------
    def _table(self, data, **recording_options) -> pd.DataFrame:
        return as_table(data, self.kind, **recording_options)

    def _trial_data(self, data, **recording_options) -> TrialData:
        """The validated table of ``data`` as a :class:`TrialData`; for a recording, with its task config."""
        config = {}
        if isinstance(data, (str, os.PathLike)) and str(data).endswith(".nc"):
            from ..lab import load_recording

            data = load_recording(data)
        if isinstance(data, xr.Dataset) and "task_config" in data.attrs:
            config = json.loads(data.attrs["task_config"])
        return TrialData(self._table(data, **recording_options), self.kind, config)

    def fit(self, data, y=None, *, pooled: bool = False, **recording_options):
        """Fit every subject in ``data`` (trial table, recording or path); returns ``self``.

        Sets ``params_`` (DataFrame, subject × parameter, natural units), ``params_se_`` (delta-method
        standard errors from the Hessian), ``subject_fits_`` (per subject: parameters, nll, n_choices,
        aic, bic and the diagnostics of :func:`neurometarl.models.diagnostics.diagnose`: ``converged``,
        ``grad_norm``, ``n_starts_at_best``, ``chance_level``, ``<param>_se``, ``se_note``,
        ``<param>_at_bound``, ``at_bound``, and ``<param>_prior_z`` with a prior), ``at_bound_``
        (subject × parameter, bool), ``prior_`` (the prior used, one row per parameter; ``None`` for
        'ml'), ``warnings_`` (the lines warned, one per kind of problem), ``nll_``, ``aic_``, ``bic_``
        (totals over subjects), ``n_choices_``; for ``method='eb'`` also ``group_mean_``, ``group_sd_``
        (unconstrained) and ``ibic_``.

        The starts include the optimum of every nested special case (``_nested``), so that a model
        never fits worse (ML) than a model it contains.

        With ``pooled=True``: one parameter set shared by every subject of ``data`` (e.g. the episodes
        of one agent, each its own subject), by maximum likelihood (``method='ml'`` only) from
        ``n_starts`` starting points (the first at the centre of each parameter's ``init`` range, the
        others uniform in it), without screening, nested starts or diagnostics. Sets ``params_`` (one
        row, 'pooled': used for every subject of any data), ``params_unconstrained_``, ``nll_``,
        ``n_choices_``, ``n_params_``, ``aic_``, ``bic_`` (totals) and ``converged_``.
        """
        return self._fit(data, pooled=pooled, **recording_options)

    def _fit(self, data, nested_fits=None, pooled=False, **recording_options):
        td = self._prepare(data, **recording_options)
        method = getattr(self, "method", "ml")
        if pooled:
            if method != "ml":
                raise ConfigError(f"a pooled fit is maximum likelihood: method must be 'ml', got {method!r}")
            x, nll, converged = fit_pooled(self, td)
            index = pd.Index(["pooled"], name="subject")
            self.params_ = pd.DataFrame(natural_values(self, x), index=index, columns=self.param_names)
            self.params_unconstrained_ = pd.DataFrame(x.numpy(), index=index, columns=self.param_names)
            self.n_params_ = len(self.param_names)
            self.n_choices_ = int(td.n_choices.sum())
            self.nll_ = nll
            self.aic_ = 2 * nll + 2 * self.n_params_
            self.bic_ = float(2 * nll + self.n_params_ * np.log(self.n_choices_))
            self.converged_ = converged
            return self
        fit = fit_subjects(self, td, nested_fits)
        fits, names = fit.fits, self.param_names
        self.subject_fits_ = fits
        self.params_ = fits[names]
        self.params_unconstrained_ = fit.unconstrained
        self.params_se_ = pd.DataFrame(fits[[f"{k}_se" for k in names]].to_numpy(), index=fits.index, columns=names)
        self.at_bound_ = pd.DataFrame(fits[[f"{k}_at_bound" for k in names]].to_numpy(), index=fits.index, columns=names)
        self.prior_ = fit.prior
        self.nll_ = float(fits["nll"].sum())
        self.aic_ = float(fits["aic"].sum())
        self.bic_ = float(fits["bic"].sum())
        self.n_choices_ = int(fits["n_choices"].sum())
        self.n_params_ = len(names) * len(fits)
        if method == "eb":
            self.group_mean_, self.group_sd_, self.log_evidence_ = fit.group_mean, fit.group_sd, fit.log_evidence
            self.ibic_ = float(-2 * self.log_evidence_.sum() + 2 * len(names) * np.log(self.n_choices_))
        self.warnings_ = problems(self, fits)
        warn_fits(self.warnings_)
        return self

    def fit_windows(self, data, *, window: int, step: int = 1, **recording_options):
        """Fit the model by maximum likelihood in sliding windows of trials; returns ``self``.

        For each subject and each window of ``window`` trials starting at session position 0,
        ``step``, ..., only the choices at those positions of every session of the subject enter the
        likelihood, while the model's values run over all trials from the session start (as
        :func:`neurometarl.analysis.behaviour.sliding_window_learning_rate`). Sets ``window_fits_``:
        DataFrame indexed by (subject, window_start), the parameters (natural units) and ``nll``.
        """
        if window < 1 or step < 1:
            raise ConfigError(f"window and step must be >= 1, got {window}, {step}")
        td = self._prepare(data, **recording_options)
        if getattr(self, "method", "ml") != "ml":
            raise ConfigError(f"windowed fits are maximum likelihood: method must be 'ml', got {self.method!r}")
        starts, natural, nll = fit_in_windows(self, td, window, step)
        index = pd.MultiIndex.from_arrays([np.repeat(np.asarray(td.subjects, dtype=object), len(starts)),
                                           np.tile(starts, td.n_subjects)], names=["subject", "window_start"])
        self.window_fits_ = pd.DataFrame(natural, index=index, columns=self.param_names).assign(nll=nll)
        return self

    def with_params(self, params):
        """Give the model known parameters instead of fitting them; returns ``self``.

        ``params``: natural units, a dict or Series (one set for every subject) or a DataFrame indexed
        by subject. Sets ``params_``, so that ``predict_proba``, ``score``, ``latents`` and ``simulate``
        run with them; data-dependent settings (two-step stages) come from the data evaluated."""
        frame = params if isinstance(params, pd.DataFrame) else pd.DataFrame(
            {k: np.atleast_1d(np.asarray(v, float)) for k, v in dict(params).items()}).rename_axis("subject")
        self._param_tensor(frame)  # checks names and ranges
        self._forget()
        self.params_ = frame
        self._given_params = True
        return self

    def _prepare(self, data, **recording_options) -> TrialData:
        """Check the fit options, forget any earlier fit, and read ``data`` and its settings."""
        self._check_fit_options()
        self._forget()
        td = self._trial_data(data, **recording_options)
        self._resolve(td)
        return td

    def _forget(self):
        """Drop the fitted attributes (trailing underscore) of an earlier ``fit``/``with_params``."""
        for k in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            delattr(self, k)
        self._given_params = False

    def _check_fitted(self):
        if not hasattr(self, "params_"):
            raise ConfigError(f"this {type(self).__name__} is not fitted yet: call fit(data) first")

    def _evaluate(self, data, record=False, params=None):
        """Run fitted (or given) parameters over ``data``: (table, TrialData, batch, per-subject
        log-likelihood, outputs)."""
        td = self._trial_data(data)
        table = td.table
        if params is None and not getattr(self, "_given_params", False):
            self._check_fitted()
            if self.kind == "twostep" and self.stage2_ and not td.has_choice2:
                raise DataError(f"{self.name} was fitted with second-stage choices but this table has no 'choice2'")
            params = self.params_
        else:  # given parameters: settings from this data
            self._resolve(td)
            params = self.params_ if params is None else params
        if isinstance(params, pd.DataFrame) and all(n in params.columns for n in self.param_names) and len(params) != 1:
            unknown = [s for s in td.subjects if s not in params.index]
            if unknown:
                raise DataError(f"no parameters for subject(s) {unknown[:5]}; parameters are given for {list(params.index)[:10]}")
            frame = params.loc[td.subjects]
        else:  # one parameter set for every subject
            one = params.iloc[0] if isinstance(params, pd.DataFrame) else pd.Series(params)
            frame = pd.DataFrame([one] * td.n_subjects)
        batch = td.rows(np.arange(td.n_subjects))
        p = {k: v[batch.col_row_t] for k, v in self._param_tensor(frame).items()}
        with torch.no_grad():
            ll, out = self._run(p, batch, record=record)
        return table, td, batch, batch.per_row(ll), out

    def _per_row(self, td: TrialData, batch: RowBatch, values: np.ndarray, table_len: int) -> np.ndarray:
        """(n_trials, columns, ...) → (n_table_rows, ...) in table order."""
        out = np.full((table_len,) + values.shape[2:], np.nan)
        index = td.row_index[:, batch.col_unit]
        mask = index >= 0
        out[index[mask]] = values[mask]
        return out

    def predict_proba(self, data, params=None) -> np.ndarray:
        """P(choice = 0) and P(choice = 1) on each trial, (n_rows, 2), rows in the validated table's
        order (subject, session, trial); NaN on violation trials. ``params`` (a dict or Series: one
        set for every subject; or a DataFrame indexed by subject) replaces the fitted parameters."""
        table, td, batch, _, out = self._evaluate(data, params=params)
        prob = self._per_row(td, batch, out["logp1"].exp().numpy(), len(table))
        prob[table["violation"].to_numpy() == 1] = np.nan
        return prob

    def score(self, data, y=None, params=None) -> float:
        """Mean log-likelihood per modelled choice (higher is better)."""
        _, td, _, ll, _ = self._evaluate(data, params=params)
        return float(ll.sum() / td.n_choices.sum())

    def loglik_per_subject(self, data, params=None) -> pd.Series:
        """Log-likelihood of each subject's modelled choices under the fitted (or given) parameters."""
        _, td, _, ll, _ = self._evaluate(data, params=params)
        return pd.Series(ll.numpy(), index=pd.Index(td.subjects, name="subject"), name="loglik")

    def latents(self, data, params=None):
        """Per-trial latent variables under the fitted (or given ``params``, as in
        :meth:`predict_proba`) parameters: values before the choice, choice probabilities and
        prediction errors.

        Returns a DataFrame aligned with the validated trial table (one row per trial, NaN on violation
        trials) for a table, or an ``xarray.Dataset`` on (episode, trial) for a recording.
        """
        table, td, batch, _, out = self._evaluate(data, record=True, params=params)
        cols = {}
        for k, v in out["latents"].items():
            cols[k] = self._per_row(td, batch, v.numpy(), len(table))
        prob = self._per_row(td, batch, out["logp1"].exp().numpy(), len(table))
        cols["p_choose_right"] = prob[:, 1]
        frame = pd.DataFrame(cols, index=table.index)
        frame.loc[table["violation"].to_numpy() == 1] = np.nan
        frame.insert(0, "subject", table["subject"].to_numpy())
        frame.insert(1, "session", table["session"].to_numpy())
        frame.insert(2, "trial", table["trial"].to_numpy())
        if not isinstance(data, xr.Dataset):
            return frame
        n_ep, n_tr = data.sizes["episode"], data.sizes["trial"]
        order = table.sort_index()  # recording_to_table writes episode-major rows
        arrays = {k: (("episode", "trial"), frame.loc[order.index, k].to_numpy().reshape(n_ep, n_tr),
                      {"long_name": self._latent_long_name(k), "units": "1" if k.startswith("p_") else "reward"})
                  for k in frame.columns[3:]}
        return xr.Dataset(arrays, coords={"episode": data["episode"].to_numpy(), "trial": data["trial"].to_numpy()},
                          attrs={"model": self.name, "model_params": frame_json(params if params is not None else self.params_)})

    def _latent_long_name(self, key: str) -> str:
        return {"p_choose_right": "model probability of choosing right"}.get(key, key.replace("_", " "))

    def simulate(self, task="bandit-restless", *, params=None, n_episodes: int = 1, seed: int = 0, **task_overrides) -> xr.Dataset:
        """Play ``task`` as a lab subject and return the recording.

        Parameters
        ----------
        task : task name or built task (any protocol with 'left'/'right' choices; two-step models need
            a two-step protocol).
        params : DataFrame or dict of natural parameters, one row per simulated subject; default the
            fitted ``params_``.
        n_episodes : episodes per subject (each a session); episode ``i`` belongs to subject
            ``i // n_episodes``, stored in the recording's ``subject`` coordinate.
        seed : seeds every random draw (task and choices).
        task_overrides : task config fields, e.g. ``n_trials=200``.

        Returns
        -------
        xarray.Dataset: a neurometarl recording with an episode-level ``subject`` coordinate, ready for
        :func:`neurometarl.data.recording_to_table` and ``fit``.
        """
        from ..lab import record_session
        from ..tasks import make_task

        if params is None:
            self._check_fitted()
            params = self.params_
        if isinstance(task, str):
            task = make_task(task, 1, **task_overrides)
        elif task_overrides:
            raise ConfigError("task_overrides only apply when task is given by name")
        self._resolve(None, task)
        frame = params if isinstance(params, pd.DataFrame) else pd.DataFrame({k: np.atleast_1d(v) for k, v in dict(params).items()})
        p = self._param_tensor(frame)
        ids = frame.index.to_numpy() if isinstance(params, pd.DataFrame) else np.arange(len(frame))
        p = {k: v.repeat_interleave(n_episodes) for k, v in p.items()}
        subject = ModelSubject(self, p)
        ds = record_session(subject, task, n_episodes=len(ids) * n_episodes, seed=seed)
        return ds.assign_coords(subject=("episode", np.repeat(ids, n_episodes), {"long_name": "simulated subject"}))
