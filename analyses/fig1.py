"""Fig. 1 from saved recordings: regret curves recomputed from the `.nc` files of a results folder.

    python analyses/fig1.py [results/fig1]

Reads ``recordings/*.nc`` written by ``neurometarl experiment fig1`` (or ``neurometarl reproduce``),
recomputes the cumulative-regret curves with the library's analysis functions, prints regret at trial
100 per subject and redraws the whole figure into the same folder.
"""

import json
import sys
from pathlib import Path

from neurometarl.analysis.bandits import regret_curve
from neurometarl.experiments import get_experiment
from neurometarl.lab import load_recording

results = Path(sys.argv[1] if len(sys.argv) > 1 else "results/fig1")
if not (results / "numbers.json").is_file():
    sys.exit(f"no numbers.json in {results}/; run `neurometarl experiment fig1 --out {results}` first")
numbers = json.loads((results / "numbers.json").read_text())
by_file = {path.stem: load_recording(path) for path in sorted((results / "recordings").glob("*.nc"))
           if path.stem != "state_space"}
for label in numbers["regret_curves"]:
    slug = "".join(c if c.isalnum() else "_" for c in label.lower()).strip("_")
    curve = regret_curve(by_file[slug])
    numbers["regret_curves"][label] = {k: curve[k].values.tolist() for k in ("mean", "lower", "upper")}
    print(f"{label:32s} regret at trial 100: {curve['mean'].values[-1]:.2f} "
          f"[{curve['lower'].values[-1]:.2f}, {curve['upper'].values[-1]:.2f}]")
for path in get_experiment("fig1").plot(numbers, results):
    print(path)
