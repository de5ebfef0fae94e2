"""Fig. 3 from saved results: Sim 2, the learning rate adapts to volatility (Behrens et al. 2007).

    python analyses/fig3.py [results/sim2]

Reads ``numbers.nc`` and ``scorecard.json`` written by ``neurometarl experiment sim2 --out results/sim2``
(or ``neurometarl reproduce``), prints the learning rate per phase and each claim (the paper's value
beside ours) and redraws the figure from the saved numbers alone into the same folder, as ``neurometarl
figure sim2`` does. Nothing is recorded or trained; this experiment keeps no recordings, every number
plotted is in ``numbers.nc``.
"""

import json
import sys
from pathlib import Path

from neurometarl.experiments import get_experiment
from neurometarl.experiments.base import load_numbers
from neurometarl.report import claim_line

results = Path(sys.argv[1] if len(sys.argv) > 1 else "results/sim2")
if not (results / "numbers.nc").is_file():
    sys.exit(f"no numbers.nc in {results}/; run `neurometarl experiment sim2 --out {results}` first")
ds = load_numbers(results)
rates = ds["phase_rate"].mean("replica")
for learner in ds["learner"].values:
    print(f"{learner:9s} α per phase " + " / ".join(f"{p} {float(rates.sel(learner=learner, phase=p)):.3f}" for p in ds["phase"].values))
for claim in json.loads((results / "scorecard.json").read_text())["claims"]:
    print(claim_line(claim, paper=True))
for path in get_experiment("sim2").plot(ds, results):
    print(path)
