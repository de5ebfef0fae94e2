"""The replication report: one self-contained HTML page built from experiments' output folders.

``neurometarl reproduce`` runs every experiment into ``RESULTS/<name>/`` (figures, ``numbers.nc``,
``scorecard.json``, and the ``stage.json`` written here: configuration fingerprint, checkpoint SHA-256
hashes, time taken) and then calls :func:`write_report`. The page embeds every figure as a base64 PNG,
so it opens from anywhere with nothing to download; each experiment's scorecard shows every claim with
the paper's value beside ours and PASS or FAIL in words, failing claims included.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import hashlib
import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np

from . import __version__
from .io import write_json, write_text

TEMPLATE = "report.html.j2"  # package data in neurometarl/templates, read through importlib.resources
#: packages whose versions the provenance table lists
PACKAGES = ("torch", "numpy", "scipy", "xarray", "pandas", "scikit-learn", "statsmodels", "matplotlib")


# --- stages: what reproduce writes next to each experiment's outputs ------------------------------

def sha256(path: str | Path) -> str:
    """SHA-256 (hex) of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checkpoint_hashes(checkpoints: dict[str, list]) -> dict[str, dict[str, str]]:
    """``{variant: {seed folder: sha256 of checkpoint.pt}}`` for checkpoint folders per variant."""
    return {variant: {Path(p).name: sha256(Path(p) / "checkpoint.pt") for p in paths}
            for variant, paths in checkpoints.items()}


def stage_config(experiment, *, retrain: bool, seed: int, n_seeds: int, hashes: dict | None) -> dict:
    """What makes two runs of an experiment the same run: reused only when this matches exactly."""
    return {"experiment": experiment.name, "retrain": retrain, "seed": seed, "n_seeds": n_seeds,
            "neurometarl_version": __version__,
            "train": {v: dataclasses.asdict(cfg) for v, cfg in experiment.train.items()},
            "checkpoint_sha256": None if retrain else hashes}


def finished_stage(out_dir: Path, config: dict) -> dict | None:
    """The saved stage record if ``out_dir`` holds a complete run made with ``config``, else None."""
    from .experiments.base import load_numbers

    try:
        stage = json.loads((out_dir / "stage.json").read_text())
        card = json.loads((out_dir / "scorecard.json").read_text())
        load_numbers(out_dir)
    except (OSError, ValueError):
        return None
    figures_exist = all(Path(f).is_file() for f in card.get("figures", []))
    return stage if stage.get("config") == config and figures_exist else None


def write_stage(out_dir: Path, config: dict, card: dict, elapsed_s: float) -> dict:
    """Write ``stage.json`` into ``out_dir``: the run's ``config`` (:func:`stage_config`), the time
    taken, when it finished and the SHA-256 of the checkpoints the scorecard lists; returns the record."""
    stage = {"config": config, "elapsed_s": round(elapsed_s, 1),
             "finished": datetime.datetime.now().isoformat(timespec="seconds"),
             "checkpoint_sha256": checkpoint_hashes(card["checkpoints"])}
    write_json(out_dir / "stage.json", stage)
    return stage


# --- reference rows: animals, humans and the paper's model beside ours ------------------------------

def reference_tables(name: str, numbers) -> tuple[list[dict], str | None]:
    """Reference tables of experiment ``name`` (its spec's ``references``), and a note when its numbers lack
    what they need."""
    from .experiments.catalogue import get_experiment

    references = get_experiment(name).references
    if references is None:
        return [], None
    try:
        return references(numbers), None
    except (KeyError, IndexError, TypeError) as err:
        return [], f"reference rows not available: the saved numbers lack {err!r}"


# --- the page ------------------------------------------------------------------------------------

def format_value(value) -> str:
    """A measured value as people read it: floats to 3 significant digits, also inside lists and dicts."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(value)
    if isinstance(value, (float, np.floating)):
        return "nan" if np.isnan(value) else f"{value:.3g}" if abs(float(value)) < 1000 else f"{value:.0f}"
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def claim_line(claim: dict, *, paper: bool = False) -> str:
    """One scorecard claim as a console line: ``[PASS] name: ours (threshold …)``, or with ``paper``
    ``[PASS] name: paper …, ours …``."""
    ours = format_value(claim["measured"])
    detail = f"paper {claim['paper']}, ours {ours}" if paper else f"{ours} (threshold {claim['threshold']})"
    return f"[{'PASS' if claim['pass'] else 'FAIL'}] {claim['claim']}: {detail}"


def _png_data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _git() -> str:
    try:
        root = Path(__file__).resolve().parents[1]
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "not a git checkout"
    if commit.returncode:
        return "not a git checkout"
    n_changed = len(dirty.stdout.splitlines())
    suffix = f" + {n_changed} uncommitted change{'s' * (n_changed > 1)}" if n_changed else ""
    return commit.stdout.strip() + suffix


def provenance() -> dict[str, str]:
    """The page's provenance table: package versions, platform, CPU cores, ``NEUROMETARL_THREADS``,
    git commit and the command line."""
    versions = {"neurometarl": __version__, "python": platform.python_version()}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {**versions, "platform": platform.platform(), "CPU cores": str(os.cpu_count()),
            "NEUROMETARL_THREADS": os.environ.get("NEUROMETARL_THREADS", "1 (default)"), "git commit": _git(),
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])}


def experiment_section(name: str, out_dir: Path, reused: bool = False) -> dict:
    """Everything the page shows for one experiment folder."""
    card = json.loads((out_dir / "scorecard.json").read_text())
    from .experiments.base import load_numbers

    numbers = load_numbers(out_dir)
    stage_path = out_dir / "stage.json"
    stage = json.loads(stage_path.read_text()) if stage_path.is_file() else {}
    figures = []
    for f in card["figures"]:
        path = Path(f) if Path(f).is_file() else out_dir / Path(f).name
        if path.suffix == ".png" and path.is_file():
            pdf = path.with_suffix(".pdf")
            figures.append({"name": path.name, "src": _png_data_uri(path),
                            "pdf": os.path.relpath(pdf, out_dir.parent) if pdf.is_file() else None})
    references, reference_note = reference_tables(name, numbers)
    return {"name": name, "title": card["title"], "claims": card["claims"], "n_seeds": card["n_seeds"],
            "retrained": card["retrained"], "figures": figures, "references": references,
            "reference_note": reference_note, "elapsed_s": stage.get("elapsed_s", card.get("elapsed_s")),
            "reused": reused, "seed": stage.get("config", {}).get("seed"),
            "hashes": stage.get("checkpoint_sha256", {}),
            "n_pass": sum(c["pass"] for c in card["claims"]), "folder": out_dir.name}


def write_report(results: str | Path, names: list[str], *, skipped: dict[str, str] | None = None,
                 reused=(), elapsed_s: float | None = None, path: str | Path | None = None) -> Path:
    """Write ``results/report.html`` (or ``path``) for the experiments ``names`` found under ``results``.

    ``skipped`` maps experiments that did not run to the reason, shown on the page; ``reused`` names the
    experiments whose results were reused from an earlier run with the same configuration.
    """
    import jinja2

    results = Path(results)
    path = Path(path) if path else results / "report.html"
    sections = [experiment_section(n, results / n, n in reused) for n in names if (results / n / "scorecard.json").is_file()]
    missing = {n: "no results" for n in names if n not in {s["name"] for s in sections}}
    skipped = {**missing, **(skipped or {})}
    env = jinja2.Environment(loader=jinja2.PackageLoader("neurometarl", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["fmt"] = format_value
    html = env.get_template(TEMPLATE).render(
        sections=sections, skipped=skipped, provenance=provenance(),
        n_claims=sum(len(s["claims"]) for s in sections), n_pass=sum(s["n_pass"] for s in sections),
        elapsed_s=elapsed_s, created=datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"), version=__version__)
    write_text(path, html)
    return path
