"""The Harlow learning-set task (Harlow 1949; Wang et al. 2018 Sim 5), batched over episodes.

Each episode shows two objects new to the episode, one of them rewarded for the whole episode, for
``n_trials`` (6) trials. Each trial has two steps, actions (centre, left, right):

1. ``fixation``: a fixation cue; centre earns ``fixation_reward`` (+0.2, the paper's PsychLab version).
2. ``choice``: the two objects in the left and right slots, placed at random each trial; choosing the
   rewarded object's side earns ``correct_reward`` (+1), the other side ``wrong_reward`` (−1).

Any other response (a side at fixation, centre at the choice) earns ``invalid_penalty`` (−1).

Objects come from a fixed pool built once from ``pool_seed`` (independent of the episode seed):
``n_objects`` training objects and ``n_objects`` held-out objects, disjoint by construction;
``pool`` chooses which half the episodes draw from. Two observation modes (``mode``):

- ``abstract``: each object a random standard-normal feature vector of ``n_features`` dims;
  observation = fixation flag ‖ left features ‖ right features.
- ``pixel``: a 1 × 16 × 32 screen, two 16 × 16 slots; each object a procedurally generated
  "identicon" (a random 7 × 7 grid, mirrored left–right, scaled ×2 into the slot; lit cells at +level,
  unlit at −level, level per object in [0.5, 1]). The fixation step shows a cross between the slots. Observation = the screen flattened
  (``obs_shape`` gives (channels, height, width) for a conv encoder).

``info`` carries the timing and the latents ``object_left`` / ``object_right`` (pool indices, per
step), ``correct_action`` (the side holding the rewarded object) and ``held_out`` (1 when the pool is
the held-out half).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from .base import ConfigError, Task, TaskConfig, Variable

CENTRE, LEFT, RIGHT = 0, 1, 2
MODES = ("abstract", "pixel")
POOLS = ("train", "held-out")
SLOT = 16  # pixel mode: each slot is SLOT × SLOT
GRID = 7  # identicon grid (mirrored), scaled ×2 into the slot with a 1-pixel border


@dataclass(frozen=True)
class HarlowConfig(TaskConfig):
    """Harlow learning-set task.

    mode: 'abstract' (feature vectors) or 'pixel' (a rendered 1 × 16 × 32 screen).
    pool: 'train' or 'held-out': which half of the object pool episodes draw from.
    n_trials: trials per episode (2 steps each).
    n_objects: objects in each half of the pool (the paper used 1,000 images in each).
    n_features: abstract mode: feature dims per object.
    pool_seed: seed of the object pool (fixed; not the episode seed).
    fixation_reward: reward for answering the fixation cue with centre.
    correct_reward, wrong_reward: reward for choosing the rewarded / unrewarded object.
    invalid_penalty: reward for an invalid response.
    """

    mode: str = "abstract"
    pool: str = "train"
    n_trials: int = 6
    n_objects: int = 1000
    n_features: int = 8
    pool_seed: int = 2018
    fixation_reward: float = 0.2
    correct_reward: float = 1.0
    wrong_reward: float = -1.0
    invalid_penalty: float = -1.0

    def __post_init__(self):
        if self.mode not in MODES:
            raise ConfigError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.pool not in POOLS:
            raise ConfigError(f"pool must be one of {POOLS}, got {self.pool!r}")
        if self.n_trials < 1 or self.n_objects < 2 or self.n_features < 1:
            raise ConfigError(f"need n_trials >= 1, n_objects >= 2, n_features >= 1; got "
                              f"{self.n_trials}, {self.n_objects}, {self.n_features}")


@lru_cache(maxsize=8)
def object_pool(mode: str, n_objects: int, n_features: int, pool_seed: int) -> np.ndarray:
    """The fixed object pool: (2 · n_objects, ...) — training objects first, then held-out ones.

    Abstract mode: (2n, n_features) standard normal features. Pixel mode: (2n, 16, 16) images in [−1, 1], all
    distinct (duplicates are redrawn, so no held-out image equals a training image).
    """
    rng = np.random.default_rng(pool_seed)
    n = 2 * n_objects
    if mode == "abstract":
        return rng.standard_normal((n, n_features)).astype(np.float32)
    half = (GRID + 1) // 2
    seen: set[bytes] = set()
    images: list[np.ndarray] = []
    while len(images) < n:
        cells = rng.random((GRID, half)) < 0.5
        key = cells.tobytes()
        if key in seen or cells.sum() < 6:
            continue
        seen.add(key)
        grid = np.concatenate([cells, cells[:, : GRID - half][:, ::-1]], axis=1).astype(np.float32)
        image = np.zeros((SLOT, SLOT), np.float32)
        # cells lit at +level, unlit at −level (a zero-mean pattern on a 0 border: less shared structure across objects)
        image[1:1 + 2 * GRID, 1:1 + 2 * GRID] = np.kron(2 * grid - 1, np.ones((2, 2), np.float32)) * rng.uniform(0.5, 1.0)
        images.append(image)
    return np.stack(images)


class HarlowTask(Task):
    """The Harlow task (:class:`HarlowConfig`, see the module docstring): each trial a fixation
    step, then a choice between the episode's two objects, placed left or right at random each
    trial; ``obs_shape`` gives the screen's shape in pixel mode."""

    config: HarlowConfig
    name = "harlow"
    description = "Harlow learning-set task: two new objects per episode, one rewarded, 6 trials"
    citation = "Harlow 1949 Psychol Rev; Wang et al. 2018 Nat Neurosci Fig. 6 (Sim 5)"
    action_names = ("centre", "left", "right")
    period_names = ("fixation", "choice")
    choice_period = "choice"
    latents = {
        "object_left": Variable((), "pool index of the object in the left slot", "1"),
        "object_right": Variable((), "pool index of the object in the right slot", "1"),
        "correct_action": Variable((), "action choosing the rewarded object (1 left, 2 right)", "1"),
        "held_out": Variable((), "episode uses held-out objects (1) or training objects (0)", "1"),
    }

    def __init__(self, config: HarlowConfig, batch_size: int, device="cpu"):
        super().__init__(config, batch_size, device)
        pool = object_pool(config.mode, config.n_objects, config.n_features, config.pool_seed)
        offset = config.n_objects if config.pool == "held-out" else 0
        self.objects = torch.as_tensor(pool[offset:offset + config.n_objects], device=self.device)
        self.offset = offset

    @property
    def obs_shape(self) -> tuple[int, ...]:
        """Shape of one observation before flattening: (channels, height, width) in pixel mode."""
        if self.config.mode == "pixel":
            return (1, SLOT, 2 * SLOT)
        return (1 + 2 * self.config.n_features,)

    @property
    def n_slots(self) -> int:
        """Side-by-side slots of the pixel screen (a conv encoder codes each with shared weights)."""
        return 2 if self.config.mode == "pixel" else 1

    @property
    def n_obs(self) -> int:
        """Length of the flattened observation: 1 + 2 · ``n_features`` (abstract) or the screen's 1 × 16 × 32 pixels."""
        return int(np.prod(self.obs_shape))

    def _reset(self):
        b, n = self.batch_size, self.config.n_objects
        first = (self.uniform(b) * n).long().clamp(max=n - 1)
        second = (first + 1 + (self.uniform(b) * (n - 1)).long().clamp(max=n - 2)) % n  # a different object
        self.pair = torch.stack([first, second], 1)  # object 0 of the pair is the rewarded one
        self._place()

    def _place(self):
        """Random left/right placement for the current trial: ``swap`` puts the rewarded object right."""
        self.swap = self.uniform(self.batch_size) < 0.5

    def _sides(self):
        left = torch.where(self.swap, self.pair[:, 1], self.pair[:, 0])
        right = torch.where(self.swap, self.pair[:, 0], self.pair[:, 1])
        return left, right

    def _observe(self):
        b, timing = self.batch_size, self._timing()
        at_fixation = bool(timing["period"][0] == 0)
        left, right = self._sides()
        if self.config.mode == "abstract":
            flag = torch.full((b, 1), float(at_fixation), device=self.device)
            if at_fixation:
                feats = torch.zeros(b, 2 * self.config.n_features, device=self.device)
            else:
                feats = torch.cat([self.objects[left], self.objects[right]], 1)
            obs = torch.cat([flag, feats], 1)
        else:
            screen = torch.zeros(b, SLOT, 2 * SLOT, device=self.device)
            if at_fixation:
                row, col = SLOT // 2, SLOT  # a cross between the two slots
                screen[:, row - 3:row + 3, col - 1:col + 1] = 1.0
                screen[:, row - 1:row + 1, col - 3:col + 3] = 1.0
            else:
                screen[:, :, :SLOT] = self.objects[left]
                screen[:, :, SLOT:] = self.objects[right]
            obs = screen.reshape(b, -1)
        info = {**timing,
                "object_left": left + self.offset, "object_right": right + self.offset,
                "correct_action": torch.where(self.swap, RIGHT, LEFT).to(self.device),
                "held_out": torch.full((b,), int(self.config.pool == "held-out"), device=self.device)}
        return obs, info

    def _step(self, action):
        cfg = self.config
        period = self.t % self.steps_per_trial
        if period == 0:  # fixation
            return torch.where(action == CENTRE, cfg.fixation_reward, cfg.invalid_penalty).float()
        correct = torch.where(self.swap, RIGHT, LEFT).to(self.device)
        reward = torch.where(action == correct, cfg.correct_reward, cfg.wrong_reward)
        reward = torch.where(action == CENTRE, cfg.invalid_penalty, reward).float()
        self._place()  # next trial's placement
        return reward
