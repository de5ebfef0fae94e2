"""CLI sub-commands for the recording analyses: ``units``, ``decode`` and ``nwb``.

    neurometarl units rec.nc --regressors prev_action prev_reward value --period choice
    neurometarl decode rec.nc --target value --shuffles 20
    neurometarl nwb export rec.nc rec.nwb      # then: neurometarl nwb import rec.nwb back.nc
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from tyro.conf import Positional, arg

from ..cli import at_least, described
from ..errors import DataError
from ..io import atomic_path

Recording = Annotated[Positional[str], arg(metavar="RECORDING")]


def _load(path: str):
    from ..lab.schema import load_recording

    return load_recording(path)


def _save(ds, out: str | None) -> None:
    if out:
        with atomic_path(out) as tmp:
            ds.to_netcdf(tmp)
        print(f"wrote {out}")


def _period(periods: tuple[str, ...]) -> str | list[str] | None:
    """``--period`` as the analyses take it: one name, several, or ``None`` for every period."""
    return periods[0] if len(periods) == 1 else list(periods) or None


@dataclass(frozen=True)
class Units:
    """``units RECORDING --regressors ...``: per-unit regression or partial correlation, and the fraction of
    units significant."""

    recording: Recording  # recording (.nc) written by the lab
    regressors: tuple[str, ...]  # regressor names: prev_action, prev_reward, prev_action_x_reward, action, reward, value@fixation, reward_prob[left]...
    period: Annotated[tuple[str, ...], described("every period", "PERIOD")] = ()  # period(s) at which activity is read
    by: Literal["period", "step"] = "period"  # one fit per period (trials pooled) or per step
    var: str = "hidden"  # unit variable (hidden or cell)
    method: Literal["ols", "spearman", "pearson"] = "ols"  # OLS coefficients or partial correlations
    correction: Literal["bonferroni", "fdr", "none"] = "bonferroni"  # multiple-comparison correction over units
    alpha: float = 0.05  # significance level
    n_shuffles: Annotated[int, arg(aliases=("--shuffles",))] = 0  # episode-shift shuffles for a null (adds p_shuffle; --shuffles is the same option)
    seed: int = 0  # seed for the shuffles
    out: Annotated[str | None, described("none", "FILE.nc")] = None  # write the full result (netCDF)

    def check(self) -> None:
        """Reject option values out of range (the CLI calls this after parsing)."""
        at_least(self, n_shuffles=0, seed=0)

    def run(self) -> int:
        """Fit every unit, print the fraction significant per regressor, save the full result."""
        from .units import fraction_significant, partial_correlation, unit_regression

        ds = _load(self.recording)
        common: dict[str, Any] = dict(var=self.var, period=_period(self.period), by=self.by, n_shuffles=self.n_shuffles, random_state=self.seed)
        if self.method == "ols":
            result = unit_regression(ds, list(self.regressors), **common)
        else:
            result = partial_correlation(ds, list(self.regressors), method=self.method, **common)
        frac = fraction_significant(result, alpha=self.alpha, correction=self.correction)
        table = frac["fraction"].to_pandas()
        print(f"fraction of {result.sizes['unit']} units significant ({self.correction}, alpha={self.alpha}):")
        print(table.to_string(float_format=lambda v: f"{v:.3f}") if hasattr(table, "to_string") else table)
        _save(result, self.out)
        return 0


@dataclass(frozen=True)
class Decode:
    """``decode RECORDING --target VAR``: cross-validated linear decoding with a shuffled chance level."""

    recording: Recording  # recording (.nc) written by the lab
    target: str  # variable decoded (value, action, prev_reward, reward_prob[left]...)
    period: Annotated[tuple[str, ...], described("every period", "PERIOD")] = ()  # period(s) at which activity is read
    by: Literal["period", "step"] = "period"  # one decoder per period or per step
    var: str = "hidden"  # unit variable (hidden or cell)
    kind: Literal["auto", "regression", "classification"] = "auto"  # ridge (R²) or logistic (accuracy)
    n_splits: Annotated[int, arg(aliases=("--folds",))] = 5  # cross-validation folds, grouped by episode (--folds is the same option)
    n_shuffles: Annotated[int, arg(aliases=("--shuffles",))] = 20  # label shuffles for the chance level (--shuffles is the same option)
    seed: int = 0  # seed for folds and shuffles
    out: Annotated[str | None, described("none", "FILE.nc")] = None  # write the result (netCDF)

    def check(self) -> None:
        """Reject option values out of range (the CLI calls this after parsing)."""
        at_least(self, n_splits=2, n_shuffles=0, seed=0)

    def run(self) -> int:
        """Decode and print the score, chance and p-value (per period or step)."""
        from .decoding import decode

        ds = _load(self.recording)
        result = decode(ds, self.target, var=self.var, period=_period(self.period), by=self.by, kind=self.kind,
                        n_splits=self.n_splits, n_shuffles=self.n_shuffles, random_state=self.seed)
        metric = result.attrs["metric"]
        frame = result[["score_mean", "chance", "p_value"]].to_dataframe() if result["score_mean"].ndim else None
        print(f"decoding {self.target!r} from {result.attrs.get('source_subject') or 'the recording'} ({metric}, "
              f"{self.n_splits}-fold grouped by episode, {self.n_shuffles} shuffles):")
        if frame is not None:
            print(frame.to_string(float_format=lambda v: f"{v:.3f}"))
        else:
            print(f"score {float(result['score_mean']):.3f}  chance {float(result['chance']):.3f}  p {float(result['p_value']):.3g}")
        if "caveat" in result.attrs:
            print(f"note: {result.attrs['caveat']}")
        _save(result, self.out)
        return 0


@dataclass(frozen=True)
class Nwb:
    """``nwb export IN.nc OUT.nwb`` | ``nwb import IN.nwb OUT.nc`` | ``nwb validate FILE.nwb``."""

    action: Annotated[Positional[Literal["export", "import", "validate"]], arg(metavar="ACTION")]  # export a recording, import an NWB file, or validate one
    source: Annotated[Positional[str], arg(metavar="SOURCE")]  # recording (.nc) to export, or NWB file to import/validate
    target: Annotated[Positional[str | None], arg(metavar="TARGET")] = None  # output path (.nwb for export, .nc for import)
    step_duration: float = 1.0  # seconds per task step in the NWB time base

    def run(self) -> int:
        """Export (and validate), import, or validate: 0 when valid, 1 when the validator finds errors."""
        from ..lab.nwb import from_nwb, to_nwb, validate_nwb
        from ..lab.schema import save_recording

        if self.action == "export":
            if not self.target:
                raise DataError("nwb export needs an output path: neurometarl nwb export IN.nc OUT.nwb")
            path = to_nwb(_load(self.source), self.target, step_duration=self.step_duration)
            errors = validate_nwb(path)
            print(f"wrote {path} (pynwb validator: {'valid' if not errors else f'{len(errors)} errors'})")
            for err in errors:
                print(f"  {err}")
            return 0 if not errors else 1
        if self.action == "import":
            if not self.target:
                raise DataError("nwb import needs an output recording path: neurometarl nwb import IN.nwb OUT.nc")
            print(f"wrote {save_recording(from_nwb(self.source), self.target)}")
            return 0
        errors = validate_nwb(self.source)
        print("valid" if not errors else "\n".join(errors))
        return 0 if not errors else 1
