"""Fig. 7 panels: % risky choice under dopamine manipulations, agent beside rats."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from .style import PALETTE


def plot_risky_choice(ds: xr.Dataset, *, manipulation: str, ax=None, title: str = ""):
    """Grouped bars of % risky choice at each risky probability, control vs ``manipulation``: the agent's
    replicas (mean ± s.e.m., dots per replica) beside the rats' published means, from the Sim 6 numbers
    (``percent_risky`` on (condition, p, replica), ``rats`` on (manipulation, phase, p)); axis labels from
    the variables' attrs."""
    ax = ax or plt.gca()
    agent = ds["percent_risky"]
    x = np.arange(ds.sizes["p"])
    rats = ds["rats"].sel(manipulation=manipulation)
    groups = [("agent control", agent.sel(condition="control"), PALETTE[7], None),
              (f"agent {manipulation}", agent.sel(condition=manipulation), PALETTE[0], None),
              ("rats control", rats.sel(phase="control"), "white", PALETTE[7]),
              (f"rats {manipulation}", rats.sel(phase="manipulated"), "white", PALETTE[0])]
    width = 0.8 / len(groups)
    for i, (label, values, face, edge) in enumerate(groups):
        pos = x - 0.4 + width * (i + 0.5)
        replicas = "replica" in values.dims
        mean = values.mean("replica") if replicas else values
        sem = values.std("replica", ddof=1) / np.sqrt(values.sizes["replica"]) if replicas and values.sizes["replica"] > 1 else None
        ax.bar(pos, mean, width * 0.92, color=face, edgecolor=edge or face, linewidth=1.2,
               hatch="//" if edge else None, label=label, yerr=sem, capsize=2)
        if replicas:
            for replica in values.transpose("replica", "p").values:
                ax.scatter(pos, replica, s=6, color="black", alpha=0.5, zorder=3, linewidths=0)
    ax.axhline(50, color="0.6", lw=0.8, ls=":")
    ax.set_xticks(x, [f"p = {p:g}" for p in ds["p"].values])
    ax.set_xlabel(ds["p"].attrs["long_name"])
    ax.set_ylim(0, 128)
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel(f"risky choice ({agent.attrs['units']})")
    ax.set_title(title or manipulation)
    ax.legend(frameon=False, loc="upper center", fontsize=7, ncol=2)
    return ax
