"""Fig. 1 from saved recordings: regret curves recomputed from the `.nc` files of a results folder.

    python analyses/fig1.py [results/fig1]

Reads ``numbers.nc`` and ``recordings/*.nc`` written by ``neurometarl experiment fig1`` (or ``neurometarl
reproduce``), recomputes the cumulative-regret curves with the library's analysis functions, checks them
against ``numbers.nc``, prints regret at trial 100 per player and redraws the whole figure into the same folder.
"""

import sys
from pathlib import Path

import numpy as np

from neurometarl.analysis.bandits import regret_curve
from neurometarl.experiments import get_experiment
from neurometarl.experiments.base import load_numbers
from neurometarl.lab import load_recording

results = Path(sys.argv[1] if len(sys.argv) > 1 else "results/fig1")
if not (results / "numbers.nc").is_file():
    sys.exit(f"no numbers.nc in {results}/; run `neurometarl experiment fig1 --out {results}` first")
ds = load_numbers(results)
for label in ds["player"].values:
    slug = "".join(c if c.isalnum() else "_" for c in label.lower()).strip("_")
    curve = regret_curve(load_recording(results / "recordings" / f"{slug}.nc")).to_dataarray("estimate")
    saved = ds["regret"].sel(player=label)
    assert np.allclose(curve, saved), f"{label}: recomputed regret differs from numbers.nc"
    ds["regret"].loc[{"player": label}] = curve.values
    last = curve.isel(trial=-1)
    print(f"{label:32s} regret at trial 100: {float(last.sel(estimate='mean')):.2f} "
          f"[{float(last.sel(estimate='lower')):.2f}, {float(last.sel(estimate='upper')):.2f}]")
for path in get_experiment("fig1").plot(ds, results):
    print(path)
