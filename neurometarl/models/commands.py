"""Command-line sub-commands for behavioural models and choice analyses.

    neurometarl models                                  list the models
    neurometarl fit MODEL DATA [--out FIT.csv|.nc]      fit, print the parameter table, save per-subject rows
    neurometarl compare MODEL [MODEL ...] DATA          fit several models, compare by AIC/BIC (and CV)
    neurometarl stay DATA                               two-step stay probabilities as JSON (mean over subjects)

DATA is a trial table (.csv, or tab-separated .tsv/.txt, including the hBayesDM example formats), a
recording (.nc; ``--episodes-as`` chooses whether episodes are subjects or sessions) or a shipped
dataset name (see ``neurometarl models``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
import xarray as xr

from ..errors import ConfigError, DataError
from ..io import atomic_path, write_csv
from .base import FIT_METHODS


def _load(arg: str, kind: str | None = None):
    """A validated trial table (CSV/TSV, registered dataset), or a recording (.nc) as it is, so that models
    see its protocol (e.g. the known ``common_prob``); ``--episodes-as`` is applied where it is read."""
    from ..data import as_table
    from ..data.datasets import TABLES
    from ..lab import load_recording

    if arg in TABLES:
        return TABLES[arg]()
    path = Path(arg)
    if not path.exists():
        raise DataError(f"{arg!r} is neither a file nor a registered dataset ({', '.join(TABLES)}; see `neurometarl datasets`)")
    return load_recording(path) if path.suffix == ".nc" else as_table(path, kind)


def _episodes(args) -> dict:
    return {"episodes_as": args.episodes_as} if args.episodes_as else {}


def _build(name: str, args) -> object:
    from . import make_model

    options = {"method": args.method, "n_starts": args.n_starts, "random_state": args.seed}
    model = make_model(name)
    if getattr(args, "stages", None) is not None:
        if "stages" not in model.get_params():
            raise ConfigError(f"--stages applies to two-step models only, not {name!r}")
        options["stages"] = args.stages
    return model.set_params(**options)


OUT_SUFFIXES = (".csv", ".nc")


def _fit(args) -> int:
    if args.out and Path(args.out).suffix not in OUT_SUFFIXES:  # before a fit that may take minutes
        raise ConfigError(f"--out must end in .csv or .nc, got {args.out!r}")
    model = _build(args.model, args)
    model.fit(_load(args.data, model.kind), **_episodes(args))
    fits = model.subject_fits_
    with pd.option_context("display.max_rows", 60, "display.width", 160, "display.float_format", "{:.4g}".format):
        print(f"{model.name}: {len(fits)} subject(s), {model.n_choices_} choices, method={args.method}")
        print(fits.to_string(max_rows=60))
        if len(fits) > 1:
            print("\nmean (sd) over subjects:")
            print(pd.DataFrame({"mean": model.params_.mean(), "sd": model.params_.std()}).to_string())
        print(f"\ntotal nll {model.nll_:.2f}  aic {model.aic_:.2f}  bic {model.bic_:.2f}"
              + (f"  ibic {model.ibic_:.2f}" if hasattr(model, "ibic_") and args.method == "eb" else ""))
    if args.out:
        _save_fit(model, args.out)
        print(f"wrote {args.out}")
    return 0


def _save_fit(model, out: str) -> None:
    path = Path(out)
    fits = model.subject_fits_.reset_index()
    if path.suffix == ".csv":
        write_csv(fits, path, index=False)
    elif path.suffix == ".nc":
        ds = xr.Dataset.from_dataframe(model.subject_fits_.assign(converged=model.subject_fits_["converged"].astype(int)))
        for name in model.params_se_.columns:
            ds[f"{name}_se"] = ("subject", model.params_se_[name].to_numpy())
            ds[name].attrs.update(long_name=next(s.long_name for s in model.specs() if s.name == name), units="1")
            ds[f"{name}_se"].attrs.update(long_name=f"standard error of {name}", units="1")
        ds["subject"] = ds["subject"].astype(str)
        ds.attrs.update(model=model.name, hyperparameters=json.dumps({k: repr(v) for k, v in model.get_params().items()}))
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
    table = _load(data, next(iter(models.values())).kind)
    summary, per_subject = compare_models(models, table, cv_folds=args.cv, random_state=args.seed, **_episodes(args))
    with pd.option_context("display.width", 160, "display.float_format", "{:.2f}".format):
        print(summary.to_string())
    print(f"\nbest by BIC: {summary.index[0]}")
    if args.out:
        path = Path(args.out)
        write_csv(summary, path)
        write_csv(per_subject, path.with_name(path.stem + "_per_subject_bic.csv"))
        print(f"wrote {path}")
    return 0


def _stay(args) -> int:
    from ..analysis.behaviour import stay_probabilities, stay_summary

    table = _load(args.data, "twostep")
    if isinstance(table, xr.Dataset):
        from ..data import recording_to_table

        table = recording_to_table(table, **_episodes(args))
    print(json.dumps(stay_summary(stay_probabilities(table)), indent=2))
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
    from ..cli import count

    def common(p, stages=True):
        p.add_argument("--method", choices=FIT_METHODS, default="ml", help="ml, map (default priors) or eb (hierarchical empirical Bayes)")
        p.add_argument("--n-starts", type=count(1), default=5, help="optimisation starts per subject (default 5)")
        p.add_argument("--seed", type=count(0), default=0, help="random starts and CV folds")
        p.add_argument("--episodes-as", choices=("subjects", "sessions"), default=None,
                       help="for a recording: episodes are subjects, or sessions of one subject (default: by its subject coordinate)")
        if stages:
            p.add_argument("--stages", choices=("auto", "first", "both"), default=None, help="two-step: model second-stage choices?")

    p = subparsers.add_parser("fit")
    p.add_argument("model", help="model name (see 'neurometarl models'), e.g. rw, hybrid, mb, mf")
    p.add_argument("data", help="trial table (.csv/.tsv/.txt), recording (.nc) or registered dataset name (`neurometarl datasets`)")
    p.add_argument("--out", help="write one row per subject (parameters, nll, bic...) to FIT.csv or FIT.nc")
    common(p)
    p.set_defaults(func=_fit)

    p = subparsers.add_parser("compare")
    p.add_argument("items", nargs="+", metavar="MODEL... DATA", help="model names, then the data")
    p.add_argument("--cv", type=count(2), default=None, metavar="FOLDS", help="also cross-validate, holding out whole sessions")
    p.add_argument("--out", help="write the comparison table to a CSV (and *_per_subject_bic.csv beside it)")
    common(p)
    p.set_defaults(func=_compare)

    p = subparsers.add_parser("stay")
    p.add_argument("data", help="two-step trial table (.csv) with a 'transition' column, recording or registered dataset")
    p.add_argument("--episodes-as", choices=("subjects", "sessions"), default=None)
    p.set_defaults(func=_stay)

    p = subparsers.add_parser("models")
    p.set_defaults(func=_models)
