"""CLI sub-commands for the recording analyses: ``units``, ``decode`` and ``nwb``.

    neurometarl units rec.nc --regressors prev_action prev_reward value --period choice
    neurometarl decode rec.nc --target value --shuffles 20
    neurometarl nwb export rec.nc rec.nwb      # then: neurometarl nwb import rec.nwb back.nc
"""

from __future__ import annotations

import argparse

from ..errors import DataError
from ..io import atomic_path


def _load(path: str):
    from ..lab.schema import load_recording

    return load_recording(path)


def _save(ds, out: str | None) -> None:
    if out:
        with atomic_path(out) as tmp:
            ds.to_netcdf(tmp)
        print(f"wrote {out}")


def _units(args) -> int:
    from .units import fraction_significant, partial_correlation, unit_regression

    ds = _load(args.recording)
    period = args.period[0] if args.period and len(args.period) == 1 else args.period
    common = dict(var=args.var, period=period, by=args.by, n_shuffles=args.n_shuffles, random_state=args.seed)
    if args.method == "ols":
        result = unit_regression(ds, args.regressors, **common)
    else:
        result = partial_correlation(ds, args.regressors, method=args.method, **common)
    frac = fraction_significant(result, alpha=args.alpha, correction=args.correction)
    table = frac["fraction"].to_pandas()
    print(f"fraction of {result.sizes['unit']} units significant ({args.correction}, alpha={args.alpha}):")
    print(table.to_string(float_format=lambda v: f"{v:.3f}") if hasattr(table, "to_string") else table)
    _save(result, args.out)
    return 0


def _decode(args) -> int:
    from .decoding import decode

    ds = _load(args.recording)
    period = args.period[0] if args.period and len(args.period) == 1 else args.period
    result = decode(ds, args.target, var=args.var, period=period, by=args.by, kind=args.kind,
                    n_splits=args.n_splits, n_shuffles=args.n_shuffles, random_state=args.seed)
    metric = result.attrs["metric"]
    frame = result[["score_mean", "chance", "p_value"]].to_dataframe() if result["score_mean"].ndim else None
    print(f"decoding {args.target!r} from {result.attrs.get('source_subject') or 'the recording'} ({metric}, "
          f"{args.n_splits}-fold grouped by episode, {args.n_shuffles} shuffles):")
    if frame is not None:
        print(frame.to_string(float_format=lambda v: f"{v:.3f}"))
    else:
        print(f"score {float(result['score_mean']):.3f}  chance {float(result['chance']):.3f}  p {float(result['p_value']):.3g}")
    if "caveat" in result.attrs:
        print(f"note: {result.attrs['caveat']}")
    _save(result, args.out)
    return 0


def _nwb(args) -> int:
    from ..lab.nwb import from_nwb, to_nwb, validate_nwb
    from ..lab.schema import save_recording

    if args.action == "export":
        path = to_nwb(_load(args.source), args.target, step_duration=args.step_duration)
        errors = validate_nwb(path)
        print(f"wrote {path} (pynwb validator: {'valid' if not errors else f'{len(errors)} errors'})")
        for err in errors:
            print(f"  {err}")
        return 0 if not errors else 1
    if args.action == "import":
        if not args.target:
            raise DataError("nwb import needs an output recording path: neurometarl nwb import IN.nwb OUT.nc")
        print(f"wrote {save_recording(from_nwb(args.source), args.target)}")
        return 0
    errors = validate_nwb(args.source)
    print("valid" if not errors else "\n".join(errors))
    return 0 if not errors else 1


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``units``, ``decode`` and ``nwb`` on the ``neurometarl`` command line."""
    from ..cli import count

    p = subparsers.add_parser("units")
    p.add_argument("recording", help="recording (.nc) written by the lab")
    p.add_argument("--regressors", nargs="+", required=True,
                   help="regressor names: prev_action, prev_reward, prev_action_x_reward, action, reward, value@fixation, reward_prob[left]...")
    p.add_argument("--period", nargs="+", help="period(s) at which activity is read (default: every period)")
    p.add_argument("--by", choices=("period", "step"), default="period", help="one fit per period (trials pooled) or per step")
    p.add_argument("--var", default="hidden", help="unit variable (hidden or cell)")
    p.add_argument("--method", choices=("ols", "spearman", "pearson"), default="ols", help="OLS coefficients or partial correlations")
    p.add_argument("--correction", choices=("bonferroni", "fdr", "none"), default="bonferroni", help="multiple-comparison correction over units")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level")
    p.add_argument("--n-shuffles", "--shuffles", dest="n_shuffles", type=count(0), default=0,
                   help="episode-shift shuffles for a null (adds p_shuffle; --shuffles is the same option)")
    p.add_argument("--seed", type=count(0), default=0, help="seed for the shuffles")
    p.add_argument("--out", help="write the full result (netCDF)")
    p.set_defaults(func=_units)

    p = subparsers.add_parser("decode")
    p.add_argument("recording", help="recording (.nc) written by the lab")
    p.add_argument("--target", required=True, help="variable decoded (value, action, prev_reward, reward_prob[left]...)")
    p.add_argument("--period", nargs="+", help="period(s) at which activity is read (default: every period)")
    p.add_argument("--by", choices=("period", "step"), default="period", help="one decoder per period or per step")
    p.add_argument("--var", default="hidden", help="unit variable (hidden or cell)")
    p.add_argument("--kind", choices=("auto", "regression", "classification"), default="auto", help="ridge (R²) or logistic (accuracy)")
    p.add_argument("--n-splits", "--folds", dest="n_splits", type=count(2), default=5,
                   help="cross-validation folds, grouped by episode (--folds is the same option)")
    p.add_argument("--n-shuffles", "--shuffles", dest="n_shuffles", type=count(0), default=20,
                   help="label shuffles for the chance level (--shuffles is the same option)")
    p.add_argument("--seed", type=count(0), default=0, help="seed for folds and shuffles")
    p.add_argument("--out", help="write the result (netCDF)")
    p.set_defaults(func=_decode)

    p = subparsers.add_parser("nwb")
    p.add_argument("action", choices=("export", "import", "validate"))
    p.add_argument("source", help="recording (.nc) to export, or NWB file to import/validate")
    p.add_argument("target", nargs="?", help="output path (.nwb for export, .nc for import)")
    p.add_argument("--step-duration", type=float, default=1.0, help="seconds per task step in the NWB time base")
    p.set_defaults(func=lambda args: _nwb_checked(args))


def _nwb_checked(args) -> int:
    if args.action == "export" and not args.target:
        raise DataError("nwb export needs an output path: neurometarl nwb export IN.nc OUT.nwb")
    return _nwb(args)
