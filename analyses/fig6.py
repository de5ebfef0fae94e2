"""Fig. 6 from saved results: Sim 5, Harlow learning sets (Harlow 1949).

    python analyses/fig6.py [results/sim5]

Reads what ``neurometarl experiment sim5 --out results/sim5`` (or ``neurometarl reproduce``) wrote: the
recordings of replica 0's final weights (``recordings/<variant>_<pool>_final.nc``), from which % correct
by trial is recomputed and checked against ``numbers.nc``; then prints each claim (the paper's value
beside ours) and redraws the figure from the saved numbers into the same folder.
"""

import json
import sys
from pathlib import Path

import numpy as np

from neurometarl.experiments import get_experiment
from neurometarl.experiments.base import load_numbers
from neurometarl.experiments.sim5 import percent_correct_by_trial
from neurometarl.lab import load_recording
from neurometarl.report import claim_line

results = Path(sys.argv[1] if len(sys.argv) > 1 else "results/sim5")
if not (results / "numbers.nc").is_file():
    sys.exit(f"no numbers.nc in {results}/; run `neurometarl experiment sim5 --out {results}` first")
ds = load_numbers(results)
for path in sorted((results / "recordings").glob("*_final.nc")):
    variant, pool = path.stem.removesuffix("_final").split("_")
    correct = percent_correct_by_trial(load_recording(path))
    saved = ds["percent_correct"].sel(variant=variant, pool=pool, replica=0).dropna("progress", how="all").isel(progress=-1)
    assert np.allclose(correct, saved), f"{path.name}: recomputed {correct} but numbers.nc has {saved.values}"
    print(f"{variant:8s} {pool:8s} replica 0, % correct by trial: {np.round(correct, 1)}")
for claim in json.loads((results / "scorecard.json").read_text())["claims"]:
    print(claim_line(claim, paper=True))
for path in get_experiment("sim5").plot(ds, results):
    print(path)
