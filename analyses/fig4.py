"""Fig. 4 from saved results: Sim 3, RPEs on the cue-reversal task (Bromberg-Martin et al. 2010).

    python analyses/fig4.py [results/sim3]

Reads ``numbers.nc`` and ``scorecard.json`` written by ``neurometarl experiment sim3 --out results/sim3``
(or ``neurometarl reproduce``), prints the agent's cue-onset RPEs per replica and each claim (the paper's
value beside ours) and redraws the figure from the saved numbers alone into the same folder, as
``neurometarl figure sim3`` does. Nothing is recorded or trained; this experiment keeps no recordings,
every number plotted is in ``numbers.nc``.
"""

import json
import sys
from pathlib import Path

import numpy as np

from neurometarl.experiments import get_experiment
from neurometarl.experiments.base import load_numbers
from neurometarl.report import claim_line

results = Path(sys.argv[1] if len(sys.argv) > 1 else "results/sim3")
if not (results / "numbers.nc").is_file():
    sys.exit(f"no numbers.nc in {results}/; run `neurometarl experiment sim3 --out {results}` first")
ds = load_numbers(results)
for condition in ds["condition"].values:
    rpe = ds["rpe"].sel(subject="agent", condition=condition)
    print(f"{condition:13s} " + "; ".join(f"{cue} {np.round(rpe.sel(cue=cue).values, 2)}" for cue in ds["cue"].values))
for claim in json.loads((results / "scorecard.json").read_text())["claims"]:
    print(claim_line(claim, paper=True))
for path in get_experiment("sim3").plot(ds, results):
    print(path)
