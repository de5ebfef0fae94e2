"""Fig. 2 from saved results: Sim 1, the monkey matching task (Lau & Glimcher 2005, Tsutsui et al. 2016).

    python analyses/fig2.py [results/sim1]

Reads ``numbers.nc`` and ``scorecard.json`` written by ``neurometarl experiment sim1 --out results/sim1``
(or ``neurometarl reproduce``), prints the matching slopes and each claim (the paper's value beside
ours) and redraws the figure from the saved numbers alone into the same folder, as ``neurometarl figure
sim1`` does. Nothing is recorded or trained; this experiment keeps no recordings, every number plotted
is in ``numbers.nc``.
"""

import json
import sys
from pathlib import Path

from neurometarl.experiments import get_experiment
from neurometarl.experiments.base import load_numbers
from neurometarl.report import claim_line

results = Path(sys.argv[1] if len(sys.argv) > 1 else "results/sim1")
if not (results / "numbers.nc").is_file():
    sys.exit(f"no numbers.nc in {results}/; run `neurometarl experiment sim1 --out {results}` first")
ds = load_numbers(results)
slope = ds["matching_slope"].mean("replica")
for learner in ds["learner"].values:
    print(f"{learner:6s} matching slope " + ", ".join(f"{p} p0 {float(slope.sel(learner=learner, p0_range=p)):.2f}"
                                                    for p in ds["p0_range"].values))
for claim in json.loads((results / "scorecard.json").read_text())["claims"]:
    print(claim_line(claim, paper=True))
for path in get_experiment("sim1").plot(ds, results):
    print(path)
