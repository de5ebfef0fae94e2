"""The paper's simulations as declarative experiment specs with machine-checked claims."""

from .base import EXPERIMENTS, Claim, Context, Experiment, get_experiment, mean_sem, register, run_experiment

__all__ = ["EXPERIMENTS", "Claim", "Context", "Experiment", "get_experiment", "mean_sem", "register", "run_experiment"]
