"""Checkpoints: weights + config + metrics + provenance in one ``checkpoint.pt``, with readable
``config.json``, ``metrics.csv`` and ``provenance.json`` beside it."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import os
import platform
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from .. import __version__
from ..errors import CheckpointError
from ..io import atomic_path, write_csv, write_json
from .config import TrainConfig, build_agent, config_from_dict
from .network import Agent


@dataclass
class Checkpoint:
    """A checkpoint read by :func:`load_checkpoint`: the network rebuilt from its config (eval mode, on the
    requested device), training metrics, provenance, the iteration reached, the optimizer and generator
    states ``--resume`` continues from (empty in a snapshot), and the ``checkpoint.pt`` path read."""

    agent: Agent
    config: TrainConfig
    metrics: list[dict]
    provenance: dict
    iteration: int
    optimizer_state: dict
    generator_state: torch.Tensor
    path: Path

    @property
    def sha256(self) -> str:
        """SHA-256 (hex) of the checkpoint file as it is on disk now (written into the provenance of
        sessions recorded from it)."""
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def save_checkpoint(out_dir: Path, agent, cfg, optimizer, generator, iteration: int, metrics: list[dict]) -> Path:
    """Write the checkpoint atomically (temporary name, then rename) with its side files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    provenance = {
        "neurometarl_version": __version__,
        "torch_version": str(torch.__version__),
        "python": platform.python_version(),
        "seed": cfg.seed,
        "iteration": iteration,
        "episodes": metrics[-1]["episodes"] if metrics else 0,
        "elapsed_s": metrics[-1]["elapsed_s"] if metrics else 0.0,
        "saved": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    payload = {
        "format": "neurometarl-checkpoint-1",
        "model_state": {k: v.detach().cpu() for k, v in agent.state_dict().items()},
        "optimizer_state": optimizer.state_dict(),
        "generator_state": generator.get_state().cpu(),
        "config": dataclasses.asdict(cfg),
        "iteration": iteration,
        "metrics": metrics,
        "provenance": provenance,
    }
    path = out_dir / "checkpoint.pt"
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    write_json(out_dir / "config.json", dataclasses.asdict(cfg))
    write_json(out_dir / "provenance.json", provenance)
    write_csv(pd.DataFrame(metrics), out_dir / "metrics.csv", index=False)
    return path


def save_snapshot(path: Path, agent, cfg, iteration: int, metrics: list[dict]) -> Path:
    """Write the weights alone (no optimizer state) at ``iteration``, loadable by :func:`load_checkpoint`;
    used for learning curves across training (``TrainConfig.snapshots``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": "neurometarl-checkpoint-1",
        "model_state": {k: v.detach().cpu() for k, v in agent.state_dict().items()},
        "optimizer_state": {}, "generator_state": torch.zeros(0, dtype=torch.uint8),
        "config": dataclasses.asdict(cfg), "iteration": iteration, "metrics": metrics[-1:],
        "provenance": {"neurometarl_version": __version__, "seed": cfg.seed, "iteration": iteration, "snapshot": True,
                       "episodes": metrics[-1]["episodes"] if metrics else 0},
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def load_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu") -> Checkpoint:
    """Load a checkpoint written by :func:`save_checkpoint` (a file, or a directory holding ``checkpoint.pt``)."""
    path = Path(path)
    if path.is_dir():
        path = path / "checkpoint.pt"
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path} (train one with `neurometarl train TASK --out DIR`)")
    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # torch raises many types for damaged files
        raise CheckpointError(f"{path} is not a readable neurometarl checkpoint ({type(err).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != "neurometarl-checkpoint-1":
        raise CheckpointError(f"{path} is not a neurometarl checkpoint (no 'format' marker)")
    missing = [k for k in ("model_state", "config", "iteration", "metrics", "provenance") if k not in payload]
    if missing:
        raise CheckpointError(f"{path} is an incomplete checkpoint (no {', '.join(missing)}); retrain it with "
                              "`neurometarl train TASK --out DIR`")
    config = config_from_dict(payload["config"])
    agent = build_agent(config)
    try:
        agent.load_state_dict(payload["model_state"])
    except RuntimeError as err:
        raise CheckpointError(f"{path}: weights do not fit the saved config ({err})") from None
    return Checkpoint(agent.to(device).eval(), config, payload["metrics"], payload["provenance"],
                      payload["iteration"], payload["optimizer_state"], payload["generator_state"], path)
