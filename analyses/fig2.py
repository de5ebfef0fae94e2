"""Fig. 2 from saved results: Sim 1, the monkey matching task (Lau & Glimcher 2005, Tsutsui et al. 2016).

    python analyses/fig2.py [results/sim1]

Reads ``numbers.json`` and ``scorecard.json`` written by ``neurometarl experiment sim1 --out results/sim1``
(or ``neurometarl reproduce``), prints each claim (the paper's value beside ours) and redraws the figure
from the saved numbers alone into the same folder, as ``neurometarl figure sim1`` does. Nothing is
recorded or trained; this experiment keeps no recordings, every number plotted is in ``numbers.json``.
"""

import json
import sys
from pathlib import Path

from neurometarl.experiments import get_experiment
from neurometarl.report import claim_line

results = Path(sys.argv[1] if len(sys.argv) > 1 else "results/sim1")
if not (results / "numbers.json").is_file():
    sys.exit(f"no numbers.json in {results}/; run `neurometarl experiment sim1 --out {results}` first")
numbers = json.loads((results / "numbers.json").read_text())
for claim in json.loads((results / "scorecard.json").read_text())["claims"]:
    print(claim_line(claim, paper=True))
for path in get_experiment("sim1").plot(numbers, results):
    print(path)
