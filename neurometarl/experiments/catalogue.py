"""Imports every experiment module so each registers itself (one line per experiment)."""

from . import bandits  # noqa: F401  Fig. 1
from . import sim1  # noqa: F401  Fig. 2
from . import sim2  # noqa: F401  Fig. 3
from . import sim3  # noqa: F401  Fig. 4
from . import sim4  # noqa: F401  Fig. 5
from . import sim6  # noqa: F401  Fig. 7
from . import sim5  # noqa: F401  Fig. 6
from . import emergence  # noqa: F401  emergence conditions (beyond the paper)
from . import monkey  # noqa: F401  monkey two-step neurons (beyond the paper)
