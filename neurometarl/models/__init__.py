"""Baselines and fittable behavioural models. Every baseline is a lab subject."""

from .bandit_baselines import BASELINES

__all__ = ["BASELINES", "make_baseline"]


def make_baseline(name: str, **params):
    """Build baseline subject ``name`` (``bayes-optimal``, ``thompson``, ``ucb``, ``rw``, ``random``)."""
    from ..tasks import ConfigError

    if name not in BASELINES:
        raise ConfigError(f"unknown baseline {name!r}; valid baselines: {', '.join(BASELINES)}")
    return BASELINES[name](**params)
