"""Run an experiment end to end: checkpoints (shipped or retrained) → ``analyse`` → figure → scorecard."""

from __future__ import annotations

import time
from pathlib import Path

from .. import __version__
from ..agents import AgentSubject
from ..errors import ConfigError, DataError
from ..progress import quiet
from .base import Context, get_checkpoints, missing_data, save_numbers, write_json
from .catalogue import get_experiment


def run_experiment(name: str, out_dir: str | Path, *, retrain: bool = False, n_seeds: int | None = None,
                   seed: int = 0, progress: bool = True, scale: float = 1.0, sizes: dict[str, int] | None = None,
                   n_workers: int = 1, trained_root: Path | None = None) -> dict:
    """Run experiment ``name`` end to end; returns the scorecard (also written to ``out_dir``).

    ``n_workers``: with ``retrain``, train that many seeds at once, one process each. ``trained_root``:
    with ``retrain``, a results folder whose other experiments' finished runs stand in for the variants
    this one reuses from them (see :func:`~neurometarl.experiments.base.get_checkpoints`).

    ``sizes`` overrides some of the experiment's declared sizes (``Experiment.sizes``), e.g.
    ``{"n_test": 20}`` for a quick check; ``scale`` shrinks the training budget with ``retrain``.
    """
    exp = get_experiment(name)
    unknown = sorted(set(sizes or {}) - set(exp.sizes))
    if unknown:
        raise ConfigError(f"experiment {name} has no size {', '.join(map(repr, unknown))}; its sizes: "
                          + (", ".join(f"{k}={v}" for k, v in exp.sizes.items()) or "none"))
    bad = {k: v for k, v in (sizes or {}).items() if not (isinstance(v, int) and v >= 1)}
    if bad:
        raise ConfigError(f"sizes must be whole numbers >= 1, got {bad}")
    sizes = {**exp.sizes, **(sizes or {})}
    if n_seeds is not None and n_seeds < 1:
        raise ConfigError(f"n_seeds must be >= 1 (or None for the experiment's {exp.n_seeds}), got {n_seeds}")
    if not 0 < scale <= 1:
        raise ConfigError(f"scale must be in (0, 1] (a fraction of the training budget), got {scale}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n_seeds = n_seeds or exp.n_seeds
    if (reason := missing_data(exp)) is not None:
        raise DataError(f"experiment {name}: {reason}")
    started = time.perf_counter()
    checkpoints = get_checkpoints(exp, retrain=retrain, out_dir=out_dir, n_seeds=n_seeds, progress=progress, scale=scale,
                                  n_workers=n_workers, trained_root=trained_root)
    subjects = {v: [AgentSubject.from_checkpoint(p) for p in ps] for v, ps in checkpoints.items()}
    with quiet(not progress):  # the analyses' sessions and fits show terminal bars unless told not to
        numbers = exp.analyse(Context(exp, subjects, checkpoints, seed, out_dir, sizes))
    save_numbers(out_dir, numbers)
    figures = exp.plot(numbers, out_dir)
    claims = []
    for claim in exp.claims:
        try:
            measured, passed = claim.check(numbers)
        except Exception as err:  # a claim whose inputs are missing fails visibly, never silently
            measured, passed = f"not computed ({type(err).__name__}: {err})", False
        claims.append({"claim": claim.name, "statement": claim.statement, "paper": claim.paper,
                       "threshold": claim.threshold, "measured": measured, "pass": bool(passed)})
    scorecard = {
        "experiment": exp.name, "title": exp.title, "n_seeds": n_seeds, "retrained": retrain,
        "sizes": sizes,
        "checkpoints": {v: [str(p) for p in ps] for v, ps in checkpoints.items()},
        "figures": [str(f) for f in figures], "claims": claims,
        "all_pass": all(c["pass"] for c in claims), "neurometarl_version": __version__,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    write_json(out_dir / "scorecard.json", scorecard)
    return scorecard
