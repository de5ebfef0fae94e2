"""The paper's simulations (and experiments beyond it) as declarative specs with machine-checked claims.

Layers: :mod:`.base` (the spec: :class:`Experiment`, :class:`Claim`, :class:`Context`, ``register``),
one module per experiment, :mod:`.catalogue` (imports them all; ``get_experiment``), :mod:`.runner`
(``run_experiment``). The catalogue and runner are imported on first use (they import every experiment).
"""

from .base import EXPERIMENTS, Claim, Context, Experiment, mean_sem, register

__all__ = ["EXPERIMENTS", "Claim", "Context", "Experiment", "get_experiment", "mean_sem", "register", "run_experiment"]


def __getattr__(name: str):
    if name == "get_experiment":
        from .catalogue import get_experiment

        return get_experiment
    if name == "run_experiment":
        from .runner import run_experiment

        return run_experiment
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
