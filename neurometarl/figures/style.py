"""The house style for every neurometarl figure: one context manager and one saver.

    with use_style():
        fig, ax = plt.subplots()
        plot_something(ds, ax=ax)
    save_figure(fig, "figures/fig2c")   # writes fig2c.png and fig2c.pdf
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import matplotlib.pyplot as plt
import seaborn as sns

from ..io import atomic_path

#: colour per role, shared by every panel (seaborn 'colorblind' palette)
PALETTE = sns.color_palette("colorblind")
RC = {
    "figure.dpi": 150, "savefig.dpi": 300, "savefig.bbox": "tight",
    "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8,
    "xtick.labelsize": 8, "ytick.labelsize": 8, "axes.spines.top": False, "axes.spines.right": False,
    "pdf.fonttype": 42, "ps.fonttype": 42,
}


class use_style(contextlib.AbstractContextManager):
    """The house style (seaborn 'ticks', colourblind palette, paper-sized fonts).

    ``with use_style(): ...`` applies it inside the block and restores the previous settings after;
    a plain call ``use_style()`` applies it for the rest of the session.
    """

    def __init__(self):
        self._previous = plt.rcParams.copy()
        plt.rcParams.update({**sns.axes_style("ticks"), **RC})
        sns.set_palette(PALETTE)

    def __exit__(self, *exc):
        plt.rcParams.update(self._previous)
        return False


def note_band(ax, text: str) -> None:
    """Say what a shaded band is, in small grey type in the axes' lower right corner (e.g. 'band: ± s.e.m. over replicas')."""
    ax.text(0.99, 0.01, text, transform=ax.transAxes, ha="right", va="bottom", fontsize=6, color="0.4")


def save_figure(fig, path_stem: str | os.PathLike) -> list[Path]:
    """Write ``fig`` as ``<path_stem>.png`` and ``<path_stem>.pdf`` (folders created); returns both paths."""
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_name(stem.name + ".png"), stem.with_name(stem.name + ".pdf")]
    for path in paths:
        with atomic_path(path) as tmp:
            fig.savefig(tmp)
    return paths


def readable(name: str) -> str:
    """A regressor or variable name as a reader would write it: ``value@choice`` → ``value (choice)``,
    ``reward_prob[left]`` → ``reward prob (left)``, ``prev_action`` → ``prev action``."""
    base, _, period = str(name).partition("@")
    base, _, index = base.partition("[")
    words = base.replace("_x_", " × ").replace("_", " ")
    qualifiers = [q for q in (index.rstrip("]"), period) if q]
    return words + (f" ({', '.join(qualifiers)})" if qualifiers else "")
