"""One seed reproduces everything: explicit generators, never global random state."""

from __future__ import annotations

import numpy as np
import torch


def make_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded with ``seed``."""
    return torch.Generator(device=device).manual_seed(int(seed))


def make_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A numpy ``Generator`` from a seed (or pass one through), sklearn's ``random_state`` style."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
