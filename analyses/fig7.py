"""Fig. 7 from saved results: Sim 6, dopamine's two roles on the risk task (Stopper et al. 2014).

    python analyses/fig7.py [results/sim6]

Reads what ``neurometarl experiment sim6 --out results/sim6`` (or ``neurometarl reproduce``) wrote: the
recordings of replica 0 under each δ manipulation (``recordings/<condition>_p<p>.nc``), from which the
% risky choice is recomputed and checked against ``numbers.nc``; then prints each claim (the paper's
value beside ours) and redraws the figure from the saved numbers into the same folder.
"""

import json
import sys
from pathlib import Path

from neurometarl.experiments import get_experiment
from neurometarl.experiments.base import load_numbers
from neurometarl.experiments.sim6 import percent_risky
from neurometarl.lab import load_recording
from neurometarl.report import claim_line

results = Path(sys.argv[1] if len(sys.argv) > 1 else "results/sim6")
if not (results / "numbers.nc").is_file():
    sys.exit(f"no numbers.nc in {results}/; run `neurometarl experiment sim6 --out {results}` first")
ds = load_numbers(results)
for condition in ds["condition"].values:
    for p in ds["p"].values:
        saved = float(ds["percent_risky"].sel(condition=condition, p=p, replica=0))
        risky = percent_risky(load_recording(results / "recordings" / f"{condition.replace(' ', '_')}_p{p:g}.nc"))
        assert abs(risky - saved) < 1e-9, f"{condition}, p = {p}: recomputed {risky} but numbers.nc has {saved}"
        mean = float(ds["percent_risky"].sel(condition=condition, p=p).mean("replica"))
        print(f"{condition:24s} p = {p:<5g} replica 0: {risky:5.1f}% risky (mean over replicas {mean:.1f}%)")
for claim in json.loads((results / "scorecard.json").read_text())["claims"]:
    print(claim_line(claim, paper=True))
for path in get_experiment("sim6").plot(ds, results):
    print(path)
