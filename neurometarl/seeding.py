"""One seed reproduces everything: explicit generators, never global random state."""

from __future__ import annotations

import numpy as np
import torch

from .errors import ConfigError


def make_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded with ``seed`` (an integer in [0, 2**63))."""
    return torch.Generator(device=device).manual_seed(check_seed(seed))


def check_seed(seed) -> int:
    """``seed`` as an int, or :class:`ConfigError` when it is not one in [0, 2**63)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**63:
        raise ConfigError(f"a seed must be an integer in [0, 2**63), got {seed!r}")
    return int(seed)


def make_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A numpy ``Generator`` from a seed (or pass one through), sklearn's ``random_state`` style."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
