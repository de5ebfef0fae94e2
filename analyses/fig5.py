"""Fig. 5 from saved results: Sim 4, the two-step task (Daw et al. 2011, Miller et al. 2017).

    python analyses/fig5.py [results/sim4]

Reads ``numbers.nc`` and ``scorecard.json`` written by ``neurometarl experiment sim4 --out results/sim4``
(or ``neurometarl reproduce``), prints the stay probabilities by protocol and each claim (the paper's value
beside ours) and redraws the figure from the saved numbers alone into the same folder, as ``neurometarl
figure sim4`` does. Nothing is recorded or trained; this experiment keeps no recordings, every number
plotted is in ``numbers.nc``.
"""

import json
import sys
from pathlib import Path

from neurometarl.experiments import get_experiment
from neurometarl.experiments.base import load_numbers
from neurometarl.experiments.sim4 import stay_keys
from neurometarl.report import claim_line

results = Path(sys.argv[1] if len(sys.argv) > 1 else "results/sim4")
if not (results / "numbers.nc").is_file():
    sys.exit(f"no numbers.nc in {results}/; run `neurometarl experiment sim4 --out {results}` first")
ds = load_numbers(results)
for protocol in ds["protocol"].values:
    stay = stay_keys(ds["agent_stay"].sel(protocol=protocol).mean("replica"))
    print(f"agent, {protocol:12s} P(stay) " + " / ".join(f"{k} {v:.3f}" for k, v in stay.items()))
for claim in json.loads((results / "scorecard.json").read_text())["claims"]:
    print(claim_line(claim, paper=True))
for path in get_experiment("sim4").plot(ds, results):
    print(path)
