"""Cross-validated linear decoding of task and latent variables from unit activity.

Ridge regression (R²) for continuous targets (value, volatility, reward probability), logistic
regression (accuracy) for categorical ones (choice, latent state). Both are scikit-learn pipelines
``StandardScaler → Ridge/LogisticRegression``; folds are grouped by episode so no episode is in
both the training and the test set of a fold. Chance is measured, not assumed: the same decoder on
labels shuffled across episodes (``shuffle='episode'``, which keeps each episode's sequence intact)
or across samples (``shuffle='sample'``).

The scores equal ``sklearn.model_selection.cross_val_score(pipeline, X, y, cv=folds)`` with the folds
of :func:`episode_folds`. Ridge is solved in closed form for the real and every shuffled label in one
linear solve per fold; logistic regression is fitted by scikit-learn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..errors import DataError
from ..progress import progress_bar
from ..seeding import make_rng
from .align import active_trials, activity, select_periods, select_trials
from .regressors import Latents, make_regressors

__all__ = ["decode", "decode_checkpoints", "episode_folds", "make_decoder"]

KINDS = ("auto", "regression", "classification")


def episode_folds(groups: np.ndarray, n_splits: int = 5, random_state=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """K folds over samples with whole episodes held out together.

    Parameters
    ----------
    groups : (n_samples,) episode of each sample.
    n_splits : number of folds (at most the number of episodes).
    random_state : seed or Generator; episodes are shuffled before being split into ``n_splits`` blocks.

    Returns
    -------
    list of (train_index, test_index) pairs, usable as ``cv=`` in scikit-learn.
    """
    groups = np.asarray(groups)
    episodes = np.unique(groups)
    if n_splits < 2:
        raise DataError(f"n_splits must be >= 2, got {n_splits}")
    if len(episodes) < n_splits:
        raise DataError(f"{n_splits}-fold decoding needs at least {n_splits} episodes, got {len(episodes)}")
    blocks = np.array_split(make_rng(random_state).permutation(episodes), n_splits)
    folds = []
    for block in blocks:
        test = np.isin(groups, block)
        folds.append((np.flatnonzero(~test), np.flatnonzero(test)))
    return folds


def make_decoder(kind: str, *, alpha: float = 1.0, C: float = 1.0):
    """The scikit-learn pipeline :func:`decode` uses: ``StandardScaler`` then ``Ridge(alpha)``
    (``kind='regression'``) or ``LogisticRegression(C, max_iter=1000)`` (``'classification'``)."""
    if kind == "regression":
        return make_pipeline(StandardScaler(), Ridge(alpha=alpha))
    if kind == "classification":
        return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000))
    raise DataError(f"kind must be 'regression' or 'classification', got {kind!r}")


def _ridge_scores(X: np.ndarray, Y: np.ndarray, folds, alpha: float) -> np.ndarray:
    """R² of StandardScaler+Ridge(alpha) on each fold, for every column of ``Y`` at once: (n_folds, n_cols)."""
    out = np.empty((len(folds), Y.shape[1]))
    for f, (train, test) in enumerate(folds):
        Xtr, Xte = X[train], X[test]
        mean, scale = Xtr.mean(0), Xtr.std(0)
        scale[scale == 0] = 1.0
        Xtr, Xte = (Xtr - mean) / scale, (Xte - mean) / scale
        x_off = Xtr.mean(0)
        y_off = Y[train].mean(0)
        Xc = Xtr - x_off
        A = Xc.T @ Xc + alpha * np.eye(X.shape[1])
        coef = np.linalg.solve(A, Xc.T @ (Y[train] - y_off))
        pred = (Xte - x_off) @ coef + y_off
        y_te = Y[test]
        ss_res = ((y_te - pred) ** 2).sum(0)
        ss_tot = ((y_te - y_te.mean(0)) ** 2).sum(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f] = np.where(ss_tot > 0, 1 - ss_res / ss_tot, np.where(ss_res == 0, 1.0, 0.0))
    return out


def _sk_scores(estimator, X: np.ndarray, Y: np.ndarray, folds) -> np.ndarray:
    """estimator.score on each fold for every column of ``Y``: (n_folds, n_cols)."""
    out = np.empty((len(folds), Y.shape[1]))
    for c in range(Y.shape[1]):
        for f, (train, test) in enumerate(folds):
            if np.unique(Y[train, c]).size < 2:
                raise DataError("a training fold holds a single class of the target; use fewer folds or more episodes")
            out[f, c] = clone(estimator).fit(X[train], Y[train, c]).score(X[test], Y[test, c])
    return out


def _kind(y: np.ndarray, kind: str) -> str:
    if kind not in KINDS:
        raise DataError(f"kind must be one of {KINDS}, got {kind!r}")
    if kind != "auto":
        return kind
    values = np.unique(y[np.isfinite(y)])
    return "classification" if values.size <= 10 and np.all(values == np.round(values)) else "regression"


def _samples(ds, target, var, period, by, trials, latents, target_period):
    """Activity and target as (batch, sample) arrays with episode groups.

    Returns X (B, n, U), y (n_ep, n_t) target grid, batch labels, batch coords, and the per-batch
    (episode, time) index of each sample."""
    table = make_regressors(ds, {"target": target} if not isinstance(target, str) else {target: target},
                            latents=latents, period=target_period)
    y = select_trials(table[list(table.data_vars)[0]].where(active_trials(ds)), trials)  # padding left out
    chosen = select_periods(ds, period)
    A = select_trials(activity(ds, var, chosen), trials)  # (episode, trial, period, unit)
    return A, y, chosen


def decode(ds: xr.Dataset, target: str | xr.DataArray | np.ndarray, *, var: str = "hidden",
           period: str | Sequence[str] | None = None, by: str = "period", kind: str = "auto",
           alpha: float = 1.0, C: float = 1.0, n_splits: int = 5, n_shuffles: int = 20, shuffle: str = "episode",
           trials=None, latents: Latents = None, target_period: str | None = None,
           random_state: int | np.random.Generator | None = 0) -> xr.Dataset:
    """Decode ``target`` from unit activity with cross-validation grouped by episode.

    Parameters
    ----------
    ds : the recording.
    target : a regressor name (``'value'``, ``'action'``, ``'reward_prob[left]'``, a latent name...)
        or an array / DataArray (episode, trial).
    var : unit variable (``'hidden'``, ``'cell'``) or a DataArray (episode, step, unit).
    period : period(s) at which activity is read; ``None`` = each period in turn.
    by : ``'period'`` (trials pooled, one decoder per period) or ``'step'`` (one per episode step,
        episodes as samples: decoding over time).
    kind : ``'regression'`` (ridge, R²), ``'classification'`` (logistic, accuracy) or ``'auto'``
        (classification for integer targets with at most 10 values).
    alpha, C : ridge penalty; inverse logistic penalty.
    n_splits : cross-validation folds (episodes grouped).
    n_shuffles : label shuffles for the chance level (0: none).
    shuffle : ``'episode'`` (permute whole episodes of labels) or ``'sample'``.
    trials : trials to use (slice, indices or boolean mask).
    latents : caller-supplied per-trial latents the target may name.
    target_period : period at which a step-level target (``value``) is read; default the choice period.
    random_state : seed for the folds and shuffles (default 0: reproducible).

    Returns
    -------
    xarray.Dataset over (``period`` | ``step``): ``score`` (fold, ...), ``score_mean``, ``null_score``
    (shuffle, ...: mean over folds of each shuffle), ``chance`` (mean null), ``p_value``
    ((1 + #{null ≥ score}) / (1 + n_shuffles)), ``n_samples``. ``attrs['metric']`` is ``'r2'`` or
    ``'accuracy'``.
    """
    if by not in ("period", "step"):
        raise DataError(f"by must be 'period' or 'step', got {by!r}")
    if shuffle not in ("episode", "sample"):
        raise DataError(f"shuffle must be 'episode' or 'sample', got {shuffle!r}")
    if n_shuffles < 0:
        raise DataError(f"n_shuffles must be >= 0, got {n_shuffles}")
    if n_splits < 2:
        raise DataError(f"n_splits must be >= 2 for cross-validation, got {n_splits}")
    A, y, chosen = _samples(ds, target, var, period, by, trials, latents, target_period)
    if not np.isfinite(A.values).all():
        bad = A.notnull().all([d for d in A.dims if d != "unit"]) if "unit" in A.dims else None
        units = [] if bad is None else [str(u) for u in A["unit"].values[~bad.values]][:5]
        raise DataError(f"the unit activity {getattr(var, 'name', var)!r} has NaN or infinite values"
                        + (f" (units {', '.join(units)}…)" if units else "")
                        + "; drop those units or episodes first, e.g. ds.dropna('unit')")
    yv = y.values  # (episode, trial)
    valid = np.isfinite(yv)
    if not valid.any():
        raise DataError(f"the target {y.name!r} is undefined (NaN) on every selected trial")
    kind = _kind(yv, kind)
    estimator = make_decoder(kind, alpha=alpha, C=C)
    rng = make_rng(random_state)
    n_ep, n_tr = yv.shape
    episodes = np.repeat(np.arange(n_ep)[:, None], n_tr, 1)

    if by == "period":
        keep = valid.ravel()
        groups = episodes.ravel()[keep]
        columns = [yv.ravel()[keep]]
        if n_shuffles:
            if shuffle == "episode":
                # whole episodes of labels in a permuted order, laid over the samples in sequence: with
                # episodes of equal length this is exactly an episode permutation; with padded episodes
                # each episode's label sequence stays contiguous
                blocks = [yv[e][valid[e]] for e in range(n_ep)]
                columns += [np.concatenate([blocks[e] for e in rng.permutation(n_ep)]) for _ in range(n_shuffles)]
            else:
                columns += [rng.permutation(columns[0]) for _ in range(n_shuffles)]
        Ymat = np.stack(columns, 1)
        folds = episode_folds(groups, n_splits, rng)
        batches = [(p, A.sel(period=p).values.reshape(n_ep * n_tr, -1)[keep], Ymat, folds) for p in chosen]
        batch_dim, batch_coords = "period", {"period": chosen}
    else:
        steps, batches = [], []
        names = ds["step_period"].attrs["flag_meanings"].split()
        spt = len(names)
        fold_of = np.empty(n_ep, dtype=int)  # one split of the episodes, shared by every step
        for f, (_, test) in enumerate(episode_folds(np.arange(n_ep), n_splits, rng)):
            fold_of[test] = f
        for t_pos, trial in enumerate(A["trial"].values):
            keep = valid[:, t_pos]
            if np.unique(fold_of[keep]).size < n_splits:
                continue  # too few episodes with the target defined at this trial
            columns = [yv[keep, t_pos]]
            columns += [rng.permutation(columns[0]) for _ in range(n_shuffles)]
            member = fold_of[keep]
            folds = [(np.flatnonzero(member != f), np.flatnonzero(member == f)) for f in range(n_splits)]
            for p in chosen:
                steps.append(int(trial) * spt + names.index(p))
                batches.append((steps[-1], A.sel(period=p).values[keep, t_pos], np.stack(columns, 1), folds))
        if not batches:
            raise DataError("no step has enough episodes with the target defined")
        order_idx = np.argsort(steps)
        batches = [batches[i] for i in order_idx]
        steps = [steps[i] for i in order_idx]
        batch_dim = "step"
        batch_coords = {"step": steps, "step_trial": ("step", ds["step_trial"].values[steps]),
                        "step_period": ("step", ds["step_period"].values[steps], ds["step_period"].attrs)}

    scores, nulls, n_samples = [], [], []
    for _, X, Ymat, folds in progress_bar(batches, desc=f"decode {y.name}", unit=batch_dim):
        if kind == "regression":
            s = _ridge_scores(X.astype(np.float64), Ymat, folds, alpha)
        else:
            s = _sk_scores(estimator, X.astype(np.float64), Ymat.astype(int) if np.all(Ymat == np.round(Ymat)) else Ymat, folds)
        scores.append(s[:, 0])
        nulls.append(s[:, 1:].mean(0))
        n_samples.append(len(X))
    score = np.stack(scores, 1)  # (fold, batch)
    null = np.stack(nulls, 1)  # (shuffle, batch)
    metric = "r2" if kind == "regression" else "accuracy"
    label = "R²" if kind == "regression" else "accuracy"
    out = xr.Dataset(
        {
            "score": (("fold", batch_dim), score, {"long_name": f"cross-validated {label}", "units": "1"}),
            "score_mean": ((batch_dim,), score.mean(0), {"long_name": f"mean cross-validated {label}", "units": "1"}),
            "null_score": (("shuffle", batch_dim), null, {"long_name": f"{label} with shuffled labels", "units": "1"}),
            "chance": ((batch_dim,), null.mean(0) if n_shuffles else np.full(len(batches), np.nan),
                       {"long_name": f"chance {label} (mean over label shuffles)", "units": "1"}),
            "p_value": ((batch_dim,), (1 + (null >= score.mean(0) - 1e-12).sum(0)) / (1 + n_shuffles) if n_shuffles
                        else np.full(len(batches), np.nan), {"long_name": "shuffle p-value of the mean score", "units": "1"}),
            "n_samples": ((batch_dim,), np.array(n_samples), {"long_name": "decoded samples", "units": "1"}),
        },
        coords={"fold": np.arange(n_splits), **batch_coords},
    )
    if by == "period" and isinstance(period, str):
        out = out.squeeze("period")
    out.attrs = {"analysis": "decode", "target": str(y.name), "kind": kind, "metric": metric, "by": by,
                 "n_splits": int(n_splits), "n_shuffles": int(n_shuffles), "shuffle": shuffle,
                 "alpha": float(alpha), "C": float(C), "source_subject": str(ds.attrs.get("subject", ""))}
    if str(y.name) == "value" and isinstance(var, str) and var in ("hidden", "cell"):
        out.attrs["caveat"] = ("a network's value is a linear readout of its hidden units, so decoding it from them "
                               "scores R² ≈ 1 by construction; decode a quantity the network does not output (a "
                               "model's value, reward_prob, an RPE) to test what the units represent")
    return out


def decode_checkpoints(recordings: Sequence[xr.Dataset] | Mapping[object, xr.Dataset],
                       target: str | xr.DataArray | np.ndarray, **kwargs) -> xr.Dataset:
    """:func:`decode` on recordings of several checkpoints of one training run, stacked on ``checkpoint``.

    Parameters
    ----------
    recordings : ``{label: recording}`` (labels such as training steps) or a sequence of recordings
        (labelled by ``attrs['checkpoint_step']`` or ``attrs['checkpoint']`` when every one has it,
        else 0, 1, ...).
    target, kwargs : as :func:`decode` (the same ``random_state`` gives every checkpoint the same folds
        when their episode counts match).

    Returns
    -------
    xarray.Dataset of :func:`decode`'s variables with a leading ``checkpoint`` dim.
    """
    if isinstance(recordings, Mapping):
        labels, items = list(recordings.keys()), list(recordings.values())
    else:
        items = list(recordings)
        labels = list(range(len(items)))
        for key in ("checkpoint_step", "checkpoint"):
            if items and all(key in r.attrs for r in items):
                labels = [r.attrs[key] for r in items]
                break
    if not items:
        raise DataError("decode_checkpoints needs at least one recording")
    if len(set(map(str, labels))) != len(labels):
        raise DataError(f"checkpoint labels must be distinct, got {labels}")
    results = [decode(r, target, **kwargs) for r in items]
    out = xr.concat(results, dim="checkpoint", combine_attrs="override")
    out = out.assign_coords(checkpoint=labels)
    out["checkpoint"].attrs = {"long_name": "training checkpoint"}
    out.attrs["analysis"] = "decode_checkpoints"
    return out
