"""Fig. 5 from saved results: Sim 4, the two-step task (Daw et al. 2011, Miller et al. 2017).

    python analyses/fig5.py [results/sim4]

Reads ``numbers.json`` and ``scorecard.json`` written by ``neurometarl experiment sim4 --out results/sim4``
(or ``neurometarl reproduce``), prints each claim (the paper's value beside ours) and redraws the figure
from the saved numbers alone into the same folder, as ``neurometarl figure sim4`` does. Nothing is
recorded or trained; this experiment keeps no recordings, every number plotted is in ``numbers.json``.
"""

import json
import sys
from pathlib import Path

from neurometarl.experiments import get_experiment
from neurometarl.report import claim_line

results = Path(sys.argv[1] if len(sys.argv) > 1 else "results/sim4")
if not (results / "numbers.json").is_file():
    sys.exit(f"no numbers.json in {results}/; run `neurometarl experiment sim4 --out {results}` first")
numbers = json.loads((results / "numbers.json").read_text())
for claim in json.loads((results / "scorecard.json").read_text())["claims"]:
    print(claim_line(claim, paper=True))
for path in get_experiment("sim4").plot(numbers, results):
    print(path)
