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


@contextlib.contextmanager
def use_style():
    """Apply the house style (seaborn 'ticks', colourblind palette, paper-sized fonts) inside the block."""
    with sns.axes_style("ticks"), plt.rc_context(RC), sns.color_palette(PALETTE):
        yield


def save_figure(fig, path_stem: str | os.PathLike) -> list[Path]:
    """Write ``fig`` as ``<path_stem>.png`` and ``<path_stem>.pdf`` (folders created); returns both paths."""
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_name(stem.name + ".png"), stem.with_name(stem.name + ".pdf")]
    for path in paths:
        with atomic_path(path) as tmp:
            fig.savefig(tmp)
    return paths
