"""Command-line sub-commands for behavioural models and choice analyses.

    neurometarl models                                  list the models
    neurometarl fit MODEL DATA [--out FIT.csv|.nc]      fit, print the parameter table, save per-subject rows
    neurometarl compare MODEL [MODEL ...] DATA          fit several models, compare by AIC/BIC (and CV)
    neurometarl stay DATA                               two-step stay probabilities as JSON (mean over subjects)
    neurometarl lags DATA [--out STEM]                  lag regression kernels: STEM.csv and STEM.png

Tables coded otherwise are converted on reading: ``--choice-coding 1-2`` (or ``left-right``),
``--missed nan -1`` (those choices become violations), ``--practice COLUMN`` (rows marked 1 dropped).

DATA is a trial table (.csv, or tab-separated .tsv/.txt, including the hBayesDM example formats), a
recording (.nc; ``--episodes-as`` chooses whether episodes are subjects or sessions) or a shipped
dataset name (see ``neurometarl models``).
"""

from __future__ import annotations

import json
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
import xarray as xr
from tyro.conf import Positional, arg

from ..cli import DataDir, at_least, described
from ..errors import ConfigError, DataError
from ..io import atomic_path, write_csv
from .base import BehaviouralModel, FitMethod


@dataclass(frozen=True)
class TableOptions:
    """How DATA is read: a table's coding (:func:`neurometarl.data.prepare_table`), a recording's episodes."""

    choice_coding: Annotated[Literal["0-1", "1-2", "left-right"] | None, described("0-1", "{0-1,1-2,left-right}")] = None  # how choice (and choice2) are coded in a table
    missed: Annotated[tuple[str, ...], described("none", "CODE")] = ()  # choice codes of missed trials, e.g. --missed nan -1: those trials become violations
    practice: Annotated[str | None, described("none", "COLUMN")] = None  # drop the rows marked 1/true in this column
    episodes_as: Annotated[Literal["subjects", "sessions"] | None, described("by its subject coordinate", "{subjects,sessions}")] = None  # for a recording: episodes are subjects, or sessions of one subject

    def load(self, data: str, kind: str | None = None):
        """A validated trial table (CSV/TSV, registered dataset), or a recording (.nc) as it is, so that
        models see its protocol (e.g. the known ``common_prob``); ``episodes_as`` applies where it is read."""
        from ..data import as_table
        from ..data.datasets import TABLES
        from ..lab import load_recording

        if data in TABLES:
            return TABLES[data]()
        path = Path(data)
        if not path.exists():
            raise DataError(f"{data!r} is neither a file nor a registered dataset ({', '.join(TABLES)}; see `neurometarl datasets`)")
        if path.suffix == ".nc":
            return load_recording(path)
        options = {"choice_coding": self.choice_coding, "missed": list(self.missed) or None, "practice": self.practice}
        return as_table(path, kind, **{k: v for k, v in options.items() if v is not None})

    def table(self, data: str, kind: str | None = None) -> pd.DataFrame:
        """:meth:`load`, with a recording turned into its trial table."""
        table = self.load(data, kind)
        if isinstance(table, xr.Dataset):
            from ..data import recording_to_table

            table = recording_to_table(table, **self.episodes())
        return table

    def episodes(self) -> dict:
        """``episodes_as`` as a keyword for the fitting functions (none when unset)."""
        return {"episodes_as": self.episodes_as} if self.episodes_as else {}


@dataclass(frozen=True)
class FitOptions:
    """The estimator's options shared by ``fit`` and ``compare``."""

    method: FitMethod = "ml"  # ml, map (default priors) or eb (hierarchical empirical Bayes)
    n_starts: int = 5  # optimisation starts per subject
    seed: int = 0  # random starts and CV folds
    stages: Annotated[Literal["auto", "first", "both"] | None, described("the model's", "{auto,first,both}")] = None  # two-step: model second-stage choices?
    q0: Annotated[float | None, described("0.5", "Q0")] = None  # initial values at session starts, and the value rw-forgetting decays toward

    def check(self) -> None:
        """Reject option values out of range (the CLI calls this after parsing)."""
        at_least(self, n_starts=1, seed=0)

    def build(self, name: str) -> BehaviouralModel:
        """Model ``name`` with these options; :class:`ConfigError` for an option it does not take."""
        from . import make_model

        options: dict = {"method": self.method, "n_starts": self.n_starts, "random_state": self.seed}
        model = make_model(name)
        if self.stages is not None:
            if "stages" not in model.get_params():
                raise ConfigError(f"--stages applies to two-step models only, not {name!r}")
            options["stages"] = self.stages
        if self.q0 is not None:
            if "q0" not in model.get_params():
                raise ConfigError(f"--q0 applies to value-learning models (rw..., mf, mb, hybrid), not {name!r}")
            options["q0"] = self.q0
        return model.set_params(**options)


Data = Annotated[Positional[str], arg(metavar="DATA")]
#: the table and fitting options, with no prefix on their option names
Table = Annotated[TableOptions, arg(name="")]
Fitting = Annotated[FitOptions, arg(name="")]


@contextmanager
def _fit_warnings(*categories):
    """Print fit warnings (or warnings of ``categories``) as plain 'warning: ...' lines on stderr (one per
    kind of problem)."""
    from .diagnostics import FitWarning

    categories = categories or (FitWarning,)
    with warnings.catch_warnings(record=True) as caught:
        for category in categories:
            warnings.simplefilter("always", category)
        yield
    for w in caught:
        if issubclass(w.category, categories):
            print(f"warning: {w.message}", file=sys.stderr)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)


def _print_prior(model) -> None:
    prior = getattr(model, "prior_", None)
    if prior is not None:
        what = "fitted group prior (empirical Bayes)" if model.method == "eb" else "prior (MAP)"
        print(f"\n{what}: Normal(mean, sd) on the unconstrained parameter; natural_centre = the mean in natural units")
        print(prior.to_string(float_format="{:.4g}".format))


OUT_SUFFIXES = (".csv", ".nc")


@dataclass(frozen=True)
class Fit:
    """``fit MODEL DATA``: fit, print the parameter table, save one row per subject (``--out``)."""

    model: Annotated[Positional[str], arg(metavar="MODEL")]  # model name (see 'neurometarl models'), e.g. rw, hybrid, mb, mf
    data: Data  # trial table (.csv/.tsv/.txt), recording (.nc) or registered dataset name (`neurometarl datasets`)
    out: Annotated[str | None, described("none", "FIT.csv|FIT.nc")] = None  # write one row per subject (parameters, nll, bic...)
    fitting: Fitting = FitOptions()
    table: Table = TableOptions()
    data_dir: DataDir = None

    def check(self) -> None:
        """Reject option values out of range (the CLI calls this after parsing)."""
        self.fitting.check()

    def run(self) -> int:
        """Fit and print the per-subject table, the means, the prior and the totals."""
        if self.out and Path(self.out).suffix not in OUT_SUFFIXES:  # before a fit that may take minutes
            raise ConfigError(f"--out must end in .csv or .nc, got {self.out!r}")
        model = self.fitting.build(self.model)
        with _fit_warnings():
            model.fit(self.table.load(self.data, model.kind), **self.table.episodes())
        fits = model.subject_fits_
        shown = [*model.param_names, "nll", "n_choices", "bic", "converged", "n_starts_at_best", "at_bound", "chance_level"]
        with pd.option_context("display.max_rows", 60, "display.width", 160, "display.float_format", "{:.4g}".format):
            print(f"{model.name}: {len(fits)} subject(s), {model.n_choices_} choices, method={self.fitting.method}")
            print(f"model: {model.description}")
            print(fits[shown].to_string(max_rows=60))
            print("(standard errors, gradient norms and notes per subject: --out FIT.csv)")
            if len(fits) > 1:
                print("\nmean (sd) over subjects:")
                print(pd.DataFrame({"mean": model.params_.mean(), "sd": model.params_.std()}).to_string())
            _print_prior(model)
            print(f"\ntotal nll {model.nll_:.2f}  aic {model.aic_:.2f}  bic {model.bic_:.2f}"
                  + (f"  ibic {model.ibic_:.2f}" if hasattr(model, "ibic_") and self.fitting.method == "eb" else ""))
        if self.out:
            _save_fit(model, self.out)
            print(f"wrote {self.out}")
        return 0


def _save_fit(model, out: str) -> None:
    path = Path(out)
    fits = model.subject_fits_.reset_index()
    prior = getattr(model, "prior_", None)
    if prior is not None:  # the prior used, on every row (unconstrained Normal; see prior_)
        for name, row in prior.iterrows():
            fits[f"{name}_prior_mean"], fits[f"{name}_prior_sd"] = row["mean"], row["sd"]
    if path.suffix == ".csv":
        write_csv(fits, path, index=False)
    elif path.suffix == ".nc":
        fits = model.subject_fits_
        ds = xr.Dataset.from_dataframe(fits.assign(**{c: fits[c].astype(int) for c in fits.columns if fits[c].dtype == bool}))
        for name in model.params_se_.columns:
            ds[f"{name}_se"] = ("subject", model.params_se_[name].to_numpy())
            ds[name].attrs.update(long_name=next(s.long_name for s in model.specs() if s.name == name), units="1")
            ds[f"{name}_se"].attrs.update(long_name=f"standard error of {name}", units="1")
        ds["subject"] = ds["subject"].astype(str)
        ds.attrs.update(model=model.name, hyperparameters=json.dumps({k: repr(v) for k, v in model.get_params().items()}))
        if getattr(model, "prior_", None) is not None:
            ds.attrs["prior"] = model.prior_.to_json()
        with atomic_path(path) as tmp:
            ds.to_netcdf(tmp)
    else:
        raise ConfigError(f"--out must end in .csv or .nc, got {out!r}")


@dataclass(frozen=True)
class Compare:
    """``compare MODEL [MODEL ...] DATA``: fit several models to the same data, rank by BIC (and CV)."""

    items: Annotated[Positional[tuple[str, ...]], arg(metavar="MODEL... DATA")]  # model names, then the data
    cv_folds: Annotated[int | None, arg(aliases=("--cv",), metavar="FOLDS")] = None  # also cross-validate, holding out whole sessions (compare_models' cv_folds; --cv is the same option)
    out: Annotated[str | None, arg(metavar="FILE.csv")] = None  # write the comparison table to a CSV (and *_per_subject_bic.csv beside it)
    fitting: Fitting = FitOptions()
    table: Table = TableOptions()
    data_dir: DataDir = None

    def check(self) -> None:
        """Reject option values out of range (the CLI calls this after parsing)."""
        at_least(self, cv_folds=2)
        self.fitting.check()

    def run(self) -> int:
        """Fit every model, print the comparison (best first) and its notes."""
        from .fitting import compare_models

        *names, data = self.items
        if not names:
            raise ConfigError("compare needs at least one model name before DATA, e.g. 'neurometarl compare mf mb hybrid data.csv'")
        models = {n: self.fitting.build(n) for n in names}
        table = self.table.load(data, next(iter(models.values())).kind)
        with _fit_warnings():
            summary, per_subject = compare_models(models, table, cv_folds=self.cv_folds, random_state=self.fitting.seed,
                                                  **self.table.episodes())
        with pd.option_context("display.width", 160, "display.float_format", "{:.2f}".format):
            print(summary.to_string())
        print(f"\nbest by BIC: {summary.index[0]}")
        for note in summary.attrs.get("notes", []):
            print(f"note: {note}")
        if self.out:
            path = Path(self.out)
            write_csv(summary, path)
            write_csv(per_subject, path.with_name(path.stem + "_per_subject_bic.csv"))
            print(f"wrote {path}")
        return 0


@dataclass(frozen=True)
class Stay:
    """``stay DATA``: two-step stay probabilities (mean over subjects) as JSON."""

    data: Data  # two-step trial table (.csv) with a 'transition' column, recording or registered dataset
    table: Table = TableOptions()
    data_dir: DataDir = None

    def run(self) -> int:
        """Print the stay probabilities as JSON."""
        from ..analysis.behaviour import stay_probabilities, stay_summary

        print(json.dumps(stay_summary(stay_probabilities(self.table.table(self.data, "twostep"))), indent=2))
        return 0


@dataclass(frozen=True)
class Lags:
    """``lags DATA``: lag-regression kernels, printed and written to ``STEM.csv`` and ``STEM.png``."""

    data: Data  # trial table (.csv/.tsv/.txt), recording (.nc) or registered dataset name
    out: Annotated[str, arg(metavar="STEM")] = "lags"  # write STEM.csv (coefficients, s.e.) and STEM.png
    n_lags: int = 10  # trials back
    start_fraction: float = 1 / 3  # bandit: model trials from this fraction of each session on (1/3, as Sim 1)
    analysis: Literal["auto", "bandit", "twostep"] = "auto"  # bandit: Lau-Glimcher kernels; twostep: Miller et al. trial types (auto: twostep when the table has 'transition')
    table: Table = TableOptions()
    data_dir: DataDir = None

    def check(self) -> None:
        """Reject option values out of range (the CLI calls this after parsing)."""
        at_least(self, n_lags=1)

    def run(self) -> int:
        """Fit the lag regression, print the (mean) kernels, write the table and the figure."""
        import matplotlib

        matplotlib.use("Agg")
        from ..analysis.behaviour import lag_table, lau_glimcher_regression, plot_lags, twostep_lag_regression
        from ..figures.style import save_figure

        table = self.table.table(self.data)
        analysis = self.analysis
        if analysis == "auto":
            analysis = "twostep" if "transition" in table.columns else "bandit"
        with _fit_warnings(UserWarning):  # e.g. subjects whose logistic fit failed
            if analysis == "twostep":
                ds = twostep_lag_regression(table, n_lags=self.n_lags)
            else:
                ds = lau_glimcher_regression(table, n_lags=self.n_lags, start_fraction=self.start_fraction)
        frame = lag_table(ds)
        kind = "trial_type" if "trial_type" in ds.dims else "regressor"
        mean = frame[frame["subject"] == "mean"] if ds.sizes["subject"] > 1 else frame
        print(f"{ds.attrs['analysis']}: {ds.sizes['subject']} subject(s), {ds.sizes['lag']} lags; "
              f"coefficients (log-odds){' mean over subjects' if ds.sizes['subject'] > 1 else ''}:")
        print(mean.pivot(index="lag", columns=kind, values="coef").to_string(float_format=lambda v: f"{v:.3f}"))
        stem = Path(self.out)
        stem = stem.with_suffix("") if stem.suffix in (".csv", ".png", ".pdf") else stem
        csv = write_csv(frame, stem.with_name(stem.name + ".csv"), index=False)
        png, _ = save_figure(plot_lags(ds), stem)
        print(f"wrote {csv} and {png}")
        return 0


@dataclass(frozen=True)
class Models:
    """``models``: every behavioural model with its kind and description, then the registered tables."""

    def run(self) -> int:
        """Print one model a line."""
        from ..data.datasets import TABLES
        from . import MODELS, make_model

        for name in MODELS:
            m = make_model(name)
            print(f"{name:18s} [{m.kind}] {m.description}")
        print("\ndatasets (see `neurometarl datasets`): " + ", ".join(TABLES))
        return 0
