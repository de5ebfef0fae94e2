"""The experiments, one import line each (importing a module registers its experiment), and the lookup.

Adding an experiment is one module plus one line here (``docs/add-an-experiment.md``).
"""

from . import bandits  # noqa: F401  Fig. 1
from . import sim1  # noqa: F401  Fig. 2
from . import sim2  # noqa: F401  Fig. 3
from . import sim3  # noqa: F401  Fig. 4
from . import sim4  # noqa: F401  Fig. 5
from . import sim6  # noqa: F401  Fig. 7
from . import sim5  # noqa: F401  Fig. 6
from . import emergence  # noqa: F401  emergence conditions (beyond the paper)
from . import monkey  # noqa: F401  monkey two-step neurons (beyond the paper)
from .base import EXPERIMENTS, Experiment
from ..errors import ConfigError


def get_experiment(name: str) -> Experiment:
    """The registered experiment ``name`` (every catalogued one, and any registered by the caller)."""
    if name not in EXPERIMENTS:
        raise ConfigError(f"unknown experiment {name!r}; valid experiments: {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]
