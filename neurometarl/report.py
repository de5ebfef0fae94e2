"""The replication report: one self-contained HTML page built from experiments' output folders.

``neurometarl reproduce`` runs every experiment into ``RESULTS/<name>/`` (figures, ``numbers.json``,
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
    try:
        stage = json.loads((out_dir / "stage.json").read_text())
        card = json.loads((out_dir / "scorecard.json").read_text())
        json.loads((out_dir / "numbers.json").read_text())
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

def _mean(values) -> float:
    return float(np.nanmean(np.asarray(values, dtype=float)))


def _table(title: str, columns: list[str], rows: dict[str, list]) -> dict:
    return {"title": title, "columns": columns, "rows": [(label, values) for label, values in rows.items()]}


def _refs_sim1(n):
    keys = list(n["monkey_fraction"])
    return [
        _table("Fraction of units coding each variable (P < 0.05)", keys, {
            "monkeys' dlPFC neurons (Tsutsui et al. 2016)": [n["monkey_fraction"][k] for k in keys],
            "meta-RL agent, ours (mean over seeds)": [_mean([s[k] for s in n["agent"]["unit_fraction_p05"]]) for k in keys]}),
        _table("Matching slope (under-matching below 1)", ["slope"], {
            "monkeys and the paper's model (Lau & Glimcher 2005; Wang et al. 2018)": [n["paper_matching_slope"]],
            "meta-RL agent, ours (mean over seeds)": [_mean(n["agent"]["slope_train"])]}),
    ]


def _refs_sim2(n):
    keys = list(n["human_rates"])
    ours = n["phase_rates_mean_sem"]
    return [_table("Learning rate per phase", keys, {
        "humans (Behrens et al. 2007)": [n["human_rates"][k] for k in keys],
        "the paper's meta-RL model (Wang et al. 2018)": [n["paper_model_rates"][k] for k in keys],
        **{f"{label}, ours (mean over seeds)": [ours[who][k][0] for k in keys]
           for who, label in (("agent", "meta-RL agent"), ("bayes", "Bayesian learner"), ("fixed_rw", "fixed-rate RW"))
           if who in ours}})]


def _refs_sim4(n):
    keys = ["common_rewarded", "rare_rewarded", "common_unrewarded", "rare_unrewarded", "mb_index"]
    stay = n["stay"]
    rows = {"rats (Miller et al. 2022 data, shipped)": [stay["rats"]["summary"][k] for k in keys],
            "humans (hBayesDM example data, Daw-style task)": [stay["humans_hbayesdm"]["summary"][k] for k in keys],
            "the paper's meta-RL model (Wang et al. 2018)": [n["paper_stay"].get(k) for k in keys],
            "meta-RL agent, ours (mean over seeds)": [stay["agent"]["mean"][k] for k in keys]}
    for who, label in (("mf", "model-free baseline, ours"), ("mb", "model-based baseline, ours")):
        if who in stay:
            rows[label] = [stay[who]["summary"][k] for k in keys]
    return [_table("Two-step stay probabilities", keys, rows)]


def _refs_sim5(n):
    monkeys = n["harlow_monkeys_trial2"]
    ours = {f"meta-RL agent, {variant} objects, ours (held-out)": [v["held-out"]["mean"][0][1], v["held-out"]["mean"][-1][1]]
            for variant, v in n["variants"].items()}
    return [_table("Harlow's monkeys: % correct on trial 2, by block of problems", list(monkeys),
                   {"monkeys (Harlow 1949, 1950)": list(monkeys.values())}),
            _table("% correct on trial 2, start vs end of learning", ["start", "end"],
                   {"monkeys (Harlow 1949, 1950)": [list(monkeys.values())[0], list(monkeys.values())[-1]], **ours})]


def _refs_sim6(n):
    columns = ["control p=0.5", "control p=0.125", "perturbed p=0.5", "perturbed p=0.125"]
    rows = {}
    for manipulation, rat in n["rats"].items():
        rows[f"rats (Stopper et al. 2014): {manipulation}"] = [*rat["control"], *rat[manipulation]]
        paper = n["paper_model"][manipulation]
        rows[f"the paper's model: {manipulation}"] = [*paper["control"], *paper[manipulation]]
        rows[f"meta-RL agent, ours: {manipulation}"] = [*n["percent_risky"]["control"]["mean"],
                                                       *n["percent_risky"][manipulation]["mean"]]
    return [_table("% risky choices, control vs dopamine manipulation", columns, rows)]


def _refs_monkey(n):
    keys = ["common_rewarded", "rare_rewarded", "common_unrewarded", "rare_unrewarded"]
    b = n["behaviour"]
    stay = {f"monkey {s} (Miranda et al. 2025 data)": v for s, v in b["monkeys"]["stay"].items()}
    stay["meta-RL agent, ours (mean over seeds)"] = np.mean(list(b["agents"]["stay"].values()), 0).tolist()
    stay.update({f"{name} baseline, monkeys' parameters": np.mean(list(v["stay"].values()), 0).tolist()
                 for name, v in b["baselines"].items()})
    regs = ["reward", "transition", "reward_x_transition_x_choice", "mb_value"]
    at = n["periods"].index("outcome")
    frac = {f"{area} neurons": [n["fraction"][area][at][n["regressors"].index(r)] for r in regs] for area in n["areas"]}
    frac["meta-RL agent units, ours"] = [n["agent_fraction"][at][n["regressors"].index(r)] for r in regs]
    return [_table("Stay probabilities (outcome: high level vs the lower two)", keys, stay),
            _table("Fraction of units coding each regressor at outcome (p < 0.05)", regs, frac)]


REFERENCES = {"sim1": _refs_sim1, "sim2": _refs_sim2, "sim4": _refs_sim4, "sim5": _refs_sim5, "sim6": _refs_sim6,
              "monkey-twostep": _refs_monkey}


def reference_tables(name: str, numbers: dict) -> tuple[list[dict], str | None]:
    """Reference tables for experiment ``name``, and a note when its numbers lack what they need."""
    if name not in REFERENCES:
        return [], None
    try:
        return REFERENCES[name](numbers), None
    except (KeyError, IndexError, TypeError) as err:
        return [], f"reference rows not available: numbers.json lacks {err!r}"


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
        return "nan" if np.isnan(value) else f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
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
    numbers = json.loads((out_dir / "numbers.json").read_text())
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
