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

import argparse
import json
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import xarray as xr

from ..errors import ConfigError, DataError
from ..io import atomic_path, write_csv
from .base import FIT_METHODS, BehaviouralModel


def _import_options(args) -> dict:
    options = {"choice_coding": getattr(args, "choice_coding", None), "missed": getattr(args, "missed", None),
               "practice": getattr(args, "practice", None)}
    return {k: v for k, v in options.items() if v is not None}


def _load(arg: str, kind: str | None = None, args=None):
    """A validated trial table (CSV/TSV, registered dataset), or a recording (.nc) as it is, so that models
    see its protocol (e.g. the known ``common_prob``); ``--episodes-as`` is applied where it is read.
    A table is read with the import options in ``args`` (``--choice-coding``, ``--missed``, ``--practice``)."""
    from ..data import as_table
    from ..data.datasets import TABLES
    from ..lab import load_recording

    if arg in TABLES:
        return TABLES[arg]()
    path = Path(arg)
    if not path.exists():
        raise DataError(f"{arg!r} is neither a file nor a registered dataset ({', '.join(TABLES)}; see `neurometarl datasets`)")
    return load_recording(path) if path.suffix == ".nc" else as_table(path, kind, **_import_options(args))


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


def _episodes(args) -> dict:
    return {"episodes_as": args.episodes_as} if args.episodes_as else {}


def _build(name: str, args) -> BehaviouralModel:
    from . import make_model

    options = {"method": args.method, "n_starts": args.n_starts, "random_state": args.seed}
    model = make_model(name)
    if getattr(args, "stages", None) is not None:
        if "stages" not in model.get_params():
            raise ConfigError(f"--stages applies to two-step models only, not {name!r}")
        options["stages"] = args.stages
    if getattr(args, "q0", None) is not None:
        if "q0" not in model.get_params():
            raise ConfigError(f"--q0 applies to value-learning models (rw..., mf, mb, hybrid), not {name!r}")
        options["q0"] = args.q0
    return model.set_params(**options)


OUT_SUFFIXES = (".csv", ".nc")


def _fit(args) -> int:
    if args.out and Path(args.out).suffix not in OUT_SUFFIXES:  # before a fit that may take minutes
        raise ConfigError(f"--out must end in .csv or .nc, got {args.out!r}")
    model = _build(args.model, args)
    with _fit_warnings():
        model.fit(_load(args.data, model.kind, args), **_episodes(args))
    fits = model.subject_fits_
    shown = [*model.param_names, "nll", "n_choices", "bic", "converged", "n_starts_at_best", "at_bound", "chance_level"]
    with pd.option_context("display.max_rows", 60, "display.width", 160, "display.float_format", "{:.4g}".format):
        print(f"{model.name}: {len(fits)} subject(s), {model.n_choices_} choices, method={args.method}")
        print(f"model: {model.description}")
        print(fits[shown].to_string(max_rows=60))
        print("(standard errors, gradient norms and notes per subject: --out FIT.csv)")
        if len(fits) > 1:
            print("\nmean (sd) over subjects:")
            print(pd.DataFrame({"mean": model.params_.mean(), "sd": model.params_.std()}).to_string())
        _print_prior(model)
        print(f"\ntotal nll {model.nll_:.2f}  aic {model.aic_:.2f}  bic {model.bic_:.2f}"
              + (f"  ibic {model.ibic_:.2f}" if hasattr(model, "ibic_") and args.method == "eb" else ""))
    if args.out:
        _save_fit(model, args.out)
        print(f"wrote {args.out}")
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


def _compare(args) -> int:
    from .fitting import compare_models

    *names, data = args.items
    if not names:
        raise ConfigError("compare needs at least one model name before DATA, e.g. 'neurometarl compare mf mb hybrid data.csv'")
    models = {n: _build(n, args) for n in names}
    table = _load(data, next(iter(models.values())).kind, args)
    with _fit_warnings():
        summary, per_subject = compare_models(models, table, cv_folds=args.cv_folds, random_state=args.seed, **_episodes(args))
    with pd.option_context("display.width", 160, "display.float_format", "{:.2f}".format):
        print(summary.to_string())
    print(f"\nbest by BIC: {summary.index[0]}")
    for note in summary.attrs.get("notes", []):
        print(f"note: {note}")
    if args.out:
        path = Path(args.out)
        write_csv(summary, path)
        write_csv(per_subject, path.with_name(path.stem + "_per_subject_bic.csv"))
        print(f"wrote {path}")
    return 0


def _stay(args) -> int:
    from ..analysis.behaviour import stay_probabilities, stay_summary

    table = _load(args.data, "twostep", args)
    if isinstance(table, xr.Dataset):
        from ..data import recording_to_table

        table = recording_to_table(table, **_episodes(args))
    print(json.dumps(stay_summary(stay_probabilities(table)), indent=2))
    return 0


def _lags(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from ..analysis.behaviour import lag_table, lau_glimcher_regression, plot_lags, twostep_lag_regression
    from ..figures.style import save_figure

    table = _load(args.data, None, args)
    if isinstance(table, xr.Dataset):
        from ..data import recording_to_table

        table = recording_to_table(table, **_episodes(args))
    analysis = args.analysis
    if analysis == "auto":
        analysis = "twostep" if "transition" in table.columns else "bandit"
    with _fit_warnings(UserWarning):  # e.g. subjects whose logistic fit failed
        if analysis == "twostep":
            ds = twostep_lag_regression(table, n_lags=args.n_lags)
        else:
            ds = lau_glimcher_regression(table, n_lags=args.n_lags, start_fraction=args.start_fraction)
    frame = lag_table(ds)
    kind = "trial_type" if "trial_type" in ds.dims else "regressor"
    mean = frame[frame["subject"] == "mean"] if ds.sizes["subject"] > 1 else frame
    print(f"{ds.attrs['analysis']}: {ds.sizes['subject']} subject(s), {ds.sizes['lag']} lags; "
          f"coefficients (log-odds){' mean over subjects' if ds.sizes['subject'] > 1 else ''}:")
    print(mean.pivot(index="lag", columns=kind, values="coef").to_string(float_format=lambda v: f"{v:.3f}"))
    stem = Path(args.out)
    stem = stem.with_suffix("") if stem.suffix in (".csv", ".png", ".pdf") else stem
    csv = write_csv(frame, stem.with_name(stem.name + ".csv"), index=False)
    png, _ = save_figure(plot_lags(ds), stem)
    print(f"wrote {csv} and {png}")
    return 0


def _models(args) -> int:
    from ..data.datasets import TABLES
    from . import MODELS, make_model

    for name in MODELS:
        m = make_model(name)
        print(f"{name:18s} [{m.kind}] {m.description}")
    print("\ndatasets (see `neurometarl datasets`): " + ", ".join(TABLES))
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Declare the behavioural-model commands:

    ``fit MODEL DATA`` (``--out``), ``compare MODEL ... DATA`` (``--cv FOLDS``, ``--out``), ``stay DATA``,
    ``lags DATA`` (``--out``, ``--n-lags``, ``--start-fraction``, ``--analysis``) and ``models``. fit and compare
    share the fitting options (``--method``, ``--n-starts``, ``--seed``, ``--episodes-as``, ``--stages``, ``--q0``);
    fit, compare, stay and lags read tables with ``--choice-coding``, ``--missed`` and ``--practice``.
    """
    from ..cli import count

    def common(p, stages=True):
        p.add_argument("--method", choices=FIT_METHODS, default="ml", help="ml, map (default priors) or eb (hierarchical empirical Bayes)")
        p.add_argument("--n-starts", type=count(1), default=5, help="optimisation starts per subject (default 5)")
        p.add_argument("--seed", type=count(0), default=0, help="random starts and CV folds")
        p.add_argument("--episodes-as", choices=("subjects", "sessions"), default=None,
                       help="for a recording: episodes are subjects, or sessions of one subject (default: by its subject coordinate)")
        if stages:
            p.add_argument("--stages", choices=("auto", "first", "both"), default=None, help="two-step: model second-stage choices?")
        p.add_argument("--q0", type=float, default=None,
                       help="initial values at session starts, and the value rw-forgetting decays toward (default 0.5)")
        imports(p)

    def imports(p):
        from ..data.table import CHOICE_CODINGS

        p.add_argument("--choice-coding", choices=list(CHOICE_CODINGS), default=None,
                       help="how choice (and choice2) are coded in a table: 0-1 (default), 1-2 or left-right")
        p.add_argument("--missed", nargs="+", default=None, metavar="CODE",
                       help="choice codes of missed trials, e.g. --missed nan -1: those trials become violations")
        p.add_argument("--practice", default=None, metavar="COLUMN", help="drop the rows marked 1/true in this column")

    p = subparsers.add_parser("fit")
    p.add_argument("model", help="model name (see 'neurometarl models'), e.g. rw, hybrid, mb, mf")
    p.add_argument("data", help="trial table (.csv/.tsv/.txt), recording (.nc) or registered dataset name (`neurometarl datasets`)")
    p.add_argument("--out", help="write one row per subject (parameters, nll, bic...) to FIT.csv or FIT.nc")
    common(p)
    p.set_defaults(func=_fit)

    p = subparsers.add_parser("compare")
    p.add_argument("items", nargs="+", metavar="MODEL... DATA", help="model names, then the data")
    p.add_argument("--cv-folds", "--cv", dest="cv_folds", type=count(2), default=None, metavar="FOLDS",
                   help="also cross-validate, holding out whole sessions (compare_models' cv_folds; --cv is the same option)")
    p.add_argument("--out", help="write the comparison table to a CSV (and *_per_subject_bic.csv beside it)")
    common(p)
    p.set_defaults(func=_compare)

    p = subparsers.add_parser("stay")
    p.add_argument("data", help="two-step trial table (.csv) with a 'transition' column, recording or registered dataset")
    p.add_argument("--episodes-as", choices=("subjects", "sessions"), default=None)
    imports(p)
    p.set_defaults(func=_stay)

    p = subparsers.add_parser("lags")
    p.add_argument("data", help="trial table (.csv/.tsv/.txt), recording (.nc) or registered dataset name")
    p.add_argument("--out", default="lags", metavar="STEM", help="write STEM.csv (coefficients, s.e.) and STEM.png (default 'lags')")
    p.add_argument("--n-lags", type=count(1), default=10, help="trials back (default 10)")
    p.add_argument("--start-fraction", type=float, default=1 / 3,
                   help="bandit: model trials from this fraction of each session on (default 1/3, as Sim 1)")
    p.add_argument("--analysis", choices=("auto", "bandit", "twostep"), default="auto",
                   help="bandit: Lau-Glimcher kernels; twostep: Miller et al. trial types (auto: twostep when the table has 'transition')")
    p.add_argument("--episodes-as", choices=("subjects", "sessions"), default=None)
    imports(p)
    p.set_defaults(func=_lags)

    p = subparsers.add_parser("models")
    p.set_defaults(func=_models)
