"""Fig. 7 from saved results: Sim 6, dopamine's two roles on the risk task (Stopper et al. 2014).

    python analyses/fig7.py [results/sim6]

Reads what ``neurometarl experiment sim6 --out results/sim6`` (or ``neurometarl reproduce``) wrote: the
recordings of replica 0 under each δ manipulation (``recordings/<condition>_p<p>.nc``), from which the
% risky choice is recomputed and checked against ``numbers.json``; then prints each claim (the paper's
value beside ours) and redraws the figure from the saved numbers into the same folder.
"""

import json
import sys
from pathlib import Path

from neurometarl.experiments import get_experiment
from neurometarl.experiments.sim6 import percent_risky
from neurometarl.lab import load_recording
from neurometarl.report import claim_line

results = Path(sys.argv[1] if len(sys.argv) > 1 else "results/sim6")
if not (results / "numbers.json").is_file():
    sys.exit(f"no numbers.json in {results}/; run `neurometarl experiment sim6 --out {results}` first")
numbers = json.loads((results / "numbers.json").read_text())
for condition, summary in numbers["percent_risky"].items():
    for p, saved in zip(numbers["p"], summary["per_replica"][0]):
        risky = percent_risky(load_recording(results / "recordings" / f"{condition.replace(' ', '_')}_p{p:g}.nc"))
        assert abs(risky - saved) < 1e-9, f"{condition}, p = {p}: recomputed {risky} but numbers.json has {saved}"
        mean = summary["mean"][numbers["p"].index(p)]
        print(f"{condition:24s} p = {p:<5g} replica 0: {risky:5.1f}% risky (mean over replicas {mean:.1f}%)")
for claim in json.loads((results / "scorecard.json").read_text())["claims"]:
    print(claim_line(claim, paper=True))
for path in get_experiment("sim6").plot(numbers, results):
    print(path)
