"""Trial data as the likelihood reads it: a validated trial table laid out as padded (trial, session)
arrays (:class:`TrialData`), the tensors of one batched problem (:class:`RowBatch`), and the small
helpers of the per-trial loop. Split from :mod:`neurometarl.models.base`, which re-exports them."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch

DTYPE = torch.float64


# --- trial data as batched tensors --------------------------------------------------------------
class TrialData:
    """A validated trial table as padded (trial, session) arrays.

    Learning starts afresh at every session start, so sessions are independent sequences: each is
    one column of the padded layout and the likelihood loop runs over the longest session, not the
    longest subject. A subject's parameters are shared by all its sessions.

    Attributes
    ----------
    subjects : subject ids, in table order; ``n_subjects``.
    unit_subject : (n_units,) subject index of each session ("unit" = one subject's session).
    subject_units : list of arrays, the sessions of each subject.
    arrays : dict of numpy arrays (n_trials_max, n_units): ``choice``, ``reward``, ``transition``,
        ``state2`` (canonical: state a is the one choice a commonly leads to), ``choice2``, ``lik1`` and
        ``lik2`` (1 where that stage's choice is modelled), ``update`` (1 where learning happens) and
        ``magnitude`` (n_trials_max, n_units, 2).
    row_index : (n_trials_max, n_units) position of each trial in ``table`` (−1 for padding).
    n_choices : (n_subjects,) modelled choices of each subject.
    """

    def __init__(self, table: pd.DataFrame, kind: str, task_config: dict | None = None):
        self.table = table
        self.kind = kind
        #: the protocol's config when the trials come from a recording (known task structure)
        self.task_config = task_config or {}
        subj = table["subject"].to_numpy()
        self.subjects = list(pd.unique(subj))
        subject_code = pd.Index(self.subjects).get_indexer(subj)
        units = pd.DataFrame({"s": subject_code, "session": table["session"].to_numpy()})
        unit_code = units.groupby(["s", "session"], sort=False).ngroup().to_numpy()
        n_units = unit_code.max() + 1
        position = units.groupby(["s", "session"], sort=False).cumcount().to_numpy()
        n_max = int(position.max()) + 1
        self.n_subjects, self.n_units, self.n_trials = len(self.subjects), int(n_units), n_max
        self.row_index = np.full((n_max, n_units), -1, np.int64)
        self.row_index[position, unit_code] = np.arange(len(table))
        self.unit_subject = np.zeros(n_units, np.int64)
        self.unit_subject[unit_code] = subject_code
        self.subject_units = [np.flatnonzero(self.unit_subject == j) for j in range(self.n_subjects)]
        pad = self.row_index < 0
        take = np.where(pad, 0, self.row_index)

        def col(name, default=0.0):
            v = table[name].to_numpy(float) if name in table else np.full(len(table), default)
            return np.where(pad, 0.0, v[take])

        valid = (col("violation") == 0) & ~pad
        choice = np.where(valid, col("choice"), 0).astype(np.int64)
        self.has_choice2 = "choice2" in table and bool((table.loc[table["violation"] == 0, "choice2"] >= 0).all())
        transition = np.where(valid, col("transition", 1.0), 1)
        self.arrays = {
            "choice": choice,
            "reward": np.where(valid, col("reward"), 0.0),
            "transition": transition,
            "state2": np.where(transition == 1, choice, 1 - choice),
            "choice2": np.where(valid, col("choice2"), 0).clip(0).astype(np.int64) if self.has_choice2 else np.zeros_like(choice),
            "lik1": (valid & (col("forced") == 0)).astype(float),
            "lik2": valid.astype(float) if self.has_choice2 else np.zeros((n_max, n_units)),
            "update": valid.astype(float),
            "magnitude": np.stack([col("magnitude_left", 1.0), col("magnitude_right", 1.0)], -1),
        }
        per_unit = self.arrays["lik1"].sum(0) + self.arrays["lik2"].sum(0)
        self.n_choices = np.bincount(self.unit_subject, per_unit, minlength=self.n_subjects)

    def layout(self, row_subject) -> tuple[np.ndarray, np.ndarray]:
        """Columns for problem rows: row i takes every session of subject ``row_subject[i]``.
        Returns (col_row, col_unit), each (n_columns,)."""
        units = [self.subject_units[s] for s in row_subject]
        col_row = np.repeat(np.arange(len(units)), [len(u) for u in units])
        return col_row, np.concatenate(units)

    def rows(self, row_subject, lik_mask=None) -> "RowBatch":
        """Tensors for problem rows ``row_subject`` (see :meth:`layout`). ``lik_mask(col_row, col_unit)``
        may return a (n_trials, n_columns) array restricting which trials count in the likelihood
        (cross-validation folds, sliding windows)."""
        col_row, col_unit = self.layout(np.asarray(row_subject, np.int64))
        mask = None if lik_mask is None else lik_mask(col_row, col_unit)
        return RowBatch(self, len(row_subject), col_row, col_unit, mask)


class RowBatch:
    """(n_trials, columns, ...) tensors for the likelihood loop (built once, reused every call); the
    loop reads trial ``t`` through a :class:`TrialView`."""

    def __init__(self, data: TrialData, n_rows: int, col_row: np.ndarray, col_unit: np.ndarray, lik_mask):
        self.n_rows = n_rows
        self.col_row, self.col_unit = col_row, col_unit
        self.col_row_t = torch.as_tensor(col_row)
        a = {k: v[:, col_unit] for k, v in data.arrays.items()}
        if lik_mask is not None:
            a["lik1"] = a["lik1"] * lik_mask
            a["lik2"] = a["lik2"] * lik_mask
        self.lik1 = torch.as_tensor(a["lik1"], dtype=DTYPE)
        self.lik2 = torch.as_tensor(a["lik2"], dtype=DTYPE)
        self.choice = torch.as_tensor(a["choice"])
        self.choice2 = torch.as_tensor(a["choice2"])
        #: (n_trials, columns, 2) one-hot first-stage choices and (n_trials, columns, 1) rewards
        self.choice_onehot = torch.nn.functional.one_hot(self.choice, 2).to(DTYPE)
        self.reward = torch.as_tensor(a["reward"], dtype=DTYPE)
        t = {
            "choice": self.choice,
            "choice_onehot": self.choice_onehot,
            "reward": self.reward,
            "magnitude": torch.as_tensor(a["magnitude"], dtype=DTYPE),
            "update": torch.as_tensor(a["update"], dtype=torch.bool),
        }
        if data.kind == "twostep":
            state2 = torch.as_tensor(a["state2"])
            t.update({
                "transition": torch.as_tensor(a["transition"], dtype=DTYPE),
                "state2": state2,
                "state2_onehot": torch.nn.functional.one_hot(state2, 2).to(DTYPE),
                "choice2": self.choice2,
                "s2a2_onehot": torch.nn.functional.one_hot(state2 * 2 + self.choice2, 4).to(DTYPE),
            })
        self.n_trials = data.n_trials
        self.tensors = t
        self.any_skip = (~a["update"].astype(bool)).any(1).tolist()
        self._a = a
        self._columns: dict[str, np.ndarray] | None = None
        #: per-kernel memory of the last compiled evaluation (see :func:`~neurometarl.models.compiled.compiled_loglik`)
        self.kernel_cache: dict[str, dict] = {}

    def columns(self) -> dict[str, np.ndarray]:
        """The trials as contiguous (columns, n_trials) numpy arrays for compiled kernels (built once):
        ``choice``, ``state2``, ``choice2``, ``update`` int8; ``reward``, ``lik1``, ``lik2`` float64."""
        if self._columns is None:
            a = self._a
            ints = {k: np.ascontiguousarray(a[k].T, dtype=np.int8) for k in ("choice", "state2", "choice2", "update")}
            floats = {k: np.ascontiguousarray(a[k].T, dtype=np.float64) for k in ("reward", "lik1", "lik2")}
            self._columns = {**ints, **floats}
        return self._columns

    def per_row(self, values: torch.Tensor) -> torch.Tensor:
        """Sum (columns,) values into their problem rows, (n_rows,)."""
        return torch.zeros(self.n_rows, dtype=values.dtype).index_add(0, self.col_row_t, values)


def log_softmax2(logits: torch.Tensor) -> torch.Tensor:
    """log-softmax over two actions, (..., 2) → (..., 2): −softplus of ∓ the logit difference.

    ``torch.log_softmax`` (and ``logsigmoid``) split even a (rows, 2) tensor across threads, and the
    synchronisation costs up to milliseconds a call on a busy machine; ``softplus`` is a plain
    elementwise kernel.
    """
    d = logits[..., 1] - logits[..., 0]
    softplus = torch.nn.functional.softplus
    return torch.stack([-softplus(d), -softplus(-d)], -1)


class TrialView(Mapping):
    """Trial ``t`` of a batch, read lazily: ``x[name]`` is ``tensors[name][t]`` (columns, ...)."""

    __slots__ = ("tensors", "t")

    def __init__(self, tensors: dict, t: int):
        self.tensors, self.t = tensors, t

    def __getitem__(self, name):
        return self.tensors[name][self.t]

    def __iter__(self):
        return iter(self.tensors)

    def __len__(self):
        return len(self.tensors)


def _where_state(mask: torch.Tensor, new: dict, old: dict) -> dict:
    out = {}
    for k, v in new.items():
        m = mask.reshape(mask.shape + (1,) * (v.dim() - 1))
        out[k] = torch.where(m, v, old[k])
    return out
