"""Recurrent meta-RL agents, the A2C trainer and checkpoints."""

from .a2c import TrainConfig, TrainResult, build_agent, train
from .checkpoint import Checkpoint, load_checkpoint
from .evaluate import evaluate
from .network import RecurrentAgent
from .subject import AgentSubject

__all__ = ["TrainConfig", "TrainResult", "train", "build_agent", "Checkpoint", "load_checkpoint",
           "evaluate", "RecurrentAgent", "AgentSubject"]
