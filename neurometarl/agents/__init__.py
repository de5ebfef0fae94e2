"""Recurrent meta-RL agents, the A2C trainer and checkpoints."""

from .a2c import TrainResult, train
from .checkpoint import Checkpoint, load_checkpoint
from .config import TrainConfig, build_agent
from .evaluate import evaluate
from .network import RecurrentAgent
from .subject import AgentSubject

__all__ = ["TrainConfig", "TrainResult", "train", "build_agent", "Checkpoint", "load_checkpoint",
           "evaluate", "RecurrentAgent", "AgentSubject"]
