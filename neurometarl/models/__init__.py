"""Baselines and fittable behavioural models. Every baseline is a lab subject, and so is every
behavioural model (``model.simulate(task)`` records it through :func:`neurometarl.lab.record_session`).

``BASELINES`` holds the policies without a likelihood (``bayes-optimal``, ``thompson``, ``ucb``,
``random``); every learner with a likelihood is a behavioural model and plays through the one adapter,
:class:`~neurometarl.models.subject.ModelSubject`. ``make_baseline(name, **params)`` builds either:
``make_baseline("rw", alpha=0.2)`` is the ``rw`` model (QLearning) with alpha 0.2 in every episode.

``MODELS`` maps a model name to a factory; ``make_model(name, **hyperparameters)`` builds one:

=================  ======================================================================
name               model
=================  ======================================================================
rw, qlearning      Rescorla-Wagner / Q-learning (alpha, beta)
rw-asymmetric      ... with alpha+ / alpha-
rw-forgetting      ... with decay of the unchosen value
rw-perseveration   ... with an exponential choice kernel (kappa, tau)
rw-lapse           ... with a lapse rate
behrens            RW over probability, softmax over probability x shown magnitude
beta-bernoulli     Beta-Bernoulli observer
hmm-reversal       Bayesian reversal observer with a hazard rate
volatility         two-level volatility observer (grid filter over r, v, k)
mf                 two-step model-free SARSA(lambda)
mb                 two-step model-based planner with known transitions
hybrid             Daw 2011 hybrid (alpha1, alpha2, lambda, beta1, beta2, perseveration, w)
latent-state       two-step planner inferring the rich state with a hazard rate
=================  ======================================================================
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from ..errors import ConfigError
from .bandit import BehrensLearner, QLearning
from .bandit_baselines import BASELINES
from .base import BehaviouralModel, Parameter
from .bayesian import BetaBernoulli, HMMReversal, VolatilityObserver
from .subject import ModelSubject
from .twostep import HybridTwoStep, LatentStateTwoStep, ModelBasedTwoStep, ModelFreeTwoStep

MODELS: dict[str, Callable[..., BehaviouralModel]] = {
    "rw": QLearning,
    "qlearning": QLearning,
    "rw-asymmetric": functools.partial(QLearning, asymmetric=True),
    "rw-forgetting": functools.partial(QLearning, forgetting=True),
    "rw-perseveration": functools.partial(QLearning, perseveration=True),
    "rw-lapse": functools.partial(QLearning, lapse=True),
    "behrens": BehrensLearner,
    "beta-bernoulli": BetaBernoulli,
    "hmm-reversal": HMMReversal,
    "volatility": VolatilityObserver,
    "mf": ModelFreeTwoStep,
    "mb": ModelBasedTwoStep,
    "hybrid": HybridTwoStep,
    "latent-state": LatentStateTwoStep,
}

__all__ = [
    "BASELINES", "make_baseline", "MODELS", "make_model", "BehaviouralModel", "Parameter",
    "QLearning", "BehrensLearner", "BetaBernoulli", "HMMReversal", "VolatilityObserver",
    "HybridTwoStep", "ModelFreeTwoStep", "ModelBasedTwoStep", "LatentStateTwoStep",
]


# free parameters a model plays with when make_baseline is not given them (the old RW baseline's)
DEFAULT_PARAMS = {"rw": {"alpha": 0.3, "beta": 5.0}}


def make_baseline(name: str, **params):
    """Build lab subject ``name``: a baseline policy (``bayes-optimal``, ``thompson``, ``ucb``, ``random``)
    with its options, or a behavioural model of :data:`MODELS` (``rw``, ...) played through
    :class:`~neurometarl.models.subject.ModelSubject` with the same natural free parameters in every
    episode; ``params`` are those free parameters (``rw``: alpha 0.3, beta 5.0 unless given) plus any
    model options (``rw``: ``q0``, default 0.5)."""
    if name in BASELINES:
        return BASELINES[name](**params)
    if name not in MODELS:
        raise ConfigError(f"unknown baseline {name!r}; valid baselines: {', '.join(BASELINES)}, "
                          f"or a behavioural model: {', '.join(MODELS)}")
    free = set(make_model(name).param_names)
    model = make_model(name, **{k: v for k, v in params.items() if k not in free})
    values = {**DEFAULT_PARAMS.get(model.name, {}), **{k: v for k, v in params.items() if k in free}}
    return ModelSubject(model, {k: v[0] for k, v in model._param_tensor(values).items()})


def make_model(name: str, **hyperparameters) -> BehaviouralModel:
    """Build behavioural model ``name`` (see :data:`MODELS`) with ``hyperparameters`` (fitting options
    such as ``method='map'``, ``n_starts``, ``random_state``, or model options)."""
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; valid models: {', '.join(MODELS)}")
    try:
        return MODELS[name](**hyperparameters)
    except TypeError as err:
        raise ConfigError(f"bad option for model {name!r}: {err}") from None
