"""Fig. 7 panels: % risky choice under dopamine manipulations, agent beside rats."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .style import PALETTE


def plot_risky_choice(agent: dict, rats: dict | None = None, *, manipulation: str, ax=None, title: str = ""):
    """Grouped bars of % risky choice at each risky probability: control vs ``manipulation``.

    Parameters
    ----------
    agent : ``{"p": [0.5, 0.125], "control": {"mean": [..], "sem": [..], "per_replica": [[..], ..]},
        manipulation: {...}}`` — percentages per risky probability (per_replica: (replica, p)).
    rats : the same shape without ``sem``/``per_replica`` (published means), or None.
    manipulation : key of the manipulated condition in ``agent`` (and ``rats``).
    """
    ax = ax or plt.gca()
    probs = agent["p"]
    x = np.arange(len(probs))
    groups = [("agent control", agent["control"], PALETTE[7], None),
              (f"agent {manipulation}", agent[manipulation], PALETTE[0], None)]
    if rats is not None:
        groups += [("rats control", rats["control"], "white", PALETTE[7]),
                   (f"rats {manipulation}", rats[manipulation], "white", PALETTE[0])]
    width = 0.8 / len(groups)
    for i, (label, values, face, edge) in enumerate(groups):
        pos = x - 0.4 + width * (i + 0.5)
        ax.bar(pos, values["mean"], width * 0.92, color=face, edgecolor=edge or face, linewidth=1.2,
               hatch="//" if edge else None, label=label, yerr=values.get("sem"), capsize=2)
        for replica in values.get("per_replica", []):
            ax.scatter(pos, replica, s=6, color="black", alpha=0.5, zorder=3, linewidths=0)
    ax.axhline(50, color="0.6", lw=0.8, ls=":")
    ax.set_xticks(x, [f"p = {p:g}" for p in probs])
    ax.set_ylim(0, 128)
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel("risky choice (% of free trials)")
    ax.set_title(title or manipulation)
    ax.legend(frameon=False, loc="upper center", fontsize=7, ncol=2)
    return ax
