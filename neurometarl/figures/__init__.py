"""Figures: axes-level plotting functions ``plot_x(ds, *, ax=None) -> Axes`` and the house style."""
