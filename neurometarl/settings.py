"""Where the package finds the files it did not install itself: the shipped checkpoints.

Other people's data has its own setting, ``NEUROMETARL_DATA`` (:mod:`neurometarl.data.registry`).
"""

from __future__ import annotations

import json
import os
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

from .errors import CheckpointError

CHECKPOINTS_ENV = "NEUROMETARL_CHECKPOINTS"
CHECKPOINTS_IN_CHECKOUT = Path("datasets") / "checkpoints"


def _checkouts() -> list[Path]:
    """Source checkouts this package may come from: the tree it is imported from (a clone, editable or
    on ``PYTHONPATH``), then the folder pip installed it from (PEP 610 ``direct_url.json``)."""
    found = []
    package = Path(__file__).resolve().parent
    if (package.parent / "pyproject.toml").is_file():
        found.append(package.parent)
    try:
        direct = json.loads(metadata.distribution("neurometarl").read_text("direct_url.json") or "{}")
    except (metadata.PackageNotFoundError, json.JSONDecodeError):
        direct = {}
    url = urlparse(direct.get("url", ""))
    if url.scheme == "file":
        found.append(Path(unquote(url.path)))
    return found


def checkpoints_dir() -> Path:
    """The shipped checkpoints: ``$NEUROMETARL_CHECKPOINTS``, else ``datasets/checkpoints`` of the checkout
    the package comes from. Raises :class:`CheckpointError` saying how to get them when neither exists."""
    if os.environ.get(CHECKPOINTS_ENV):
        root = Path(os.environ[CHECKPOINTS_ENV]).expanduser()
        if not root.is_dir():
            raise CheckpointError(f"{CHECKPOINTS_ENV}={root} is not a folder; point it at a copy of the "
                                  "repository's datasets/checkpoints")
        return root
    for checkout in _checkouts():
        if (checkout / CHECKPOINTS_IN_CHECKOUT).is_dir():
            return checkout / CHECKPOINTS_IN_CHECKOUT
    raise CheckpointError(f"no shipped checkpoints found: clone the neurometarl repository and set "
                          f"{CHECKPOINTS_ENV} to its datasets/checkpoints folder (or train with --retrain)")
