"""Task protocols, by name. ``make_task(name, batch_size)`` builds one; ``TASKS`` lists them all.

Each entry is a (task class, default config, one-line description). Later protocol families add
their entries here with :func:`register`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .bandits import BanditConfig, BanditTask
from .base import ConfigError, Task, TaskConfig, Variable


@dataclass(frozen=True)
class TaskEntry:
    cls: type[Task]
    config: TaskConfig
    description: str


TASKS: dict[str, TaskEntry] = {}


def register(name: str, cls: type[Task], config: TaskConfig, description: str) -> None:
    """Add a named protocol to :data:`TASKS`."""
    TASKS[name] = TaskEntry(cls, config, description)


def _bandit(name, description, **kw):
    register(name, BanditTask, BanditConfig(**kw), description + f" [{BanditTask.citation}]")


_bandit("bandit-independent", "two-armed Bernoulli bandit, p1, p2 ~ U[0,1] per episode, 100 trials", distribution="independent")
_bandit("bandit-correlated", "two-armed Bernoulli bandit, p1 ~ U[0,1], p2 = 1 - p1, 100 trials", distribution="correlated")
_bandit("bandit-correlated-easy", "correlated bandit with {p1, p2} = {0.1, 0.9}", distribution="correlated", levels=(0.1,))
_bandit("bandit-correlated-medium", "correlated bandit with {p1, p2} = {0.25, 0.75}", distribution="correlated", levels=(0.25,))
_bandit("bandit-correlated-hard", "correlated bandit with {p1, p2} = {0.4, 0.6}", distribution="correlated", levels=(0.4,))
_bandit("bandit-restless", "two-armed bandit whose probabilities drift (reflected random walk, s.d. 0.05/trial)", distribution="restless")
_bandit("bandit-fixed", "the fixed test problem p = (0.25, 0.75) of Fig. 1d", distribution="fixed")


def task_config(name: str, **overrides) -> TaskConfig:
    """The default config of task ``name`` with ``overrides`` applied (validated)."""
    if name not in TASKS:
        raise ConfigError(f"unknown task {name!r}; valid tasks: {', '.join(TASKS)}")
    try:
        return dataclasses.replace(TASKS[name].config, **overrides)
    except TypeError as err:
        fields = [f.name for f in dataclasses.fields(TASKS[name].config)]
        raise ConfigError(f"bad option for task {name!r} ({err}); options are: {', '.join(fields)}") from None


def make_task(name: str, batch_size: int, device: str = "cpu", config: TaskConfig | None = None, **overrides) -> Task:
    """Build task ``name`` stepping ``batch_size`` episodes in lockstep on ``device``."""
    config = config if config is not None else task_config(name, **overrides)
    task = TASKS[name].cls(config, batch_size, device)
    task.name = name
    return task


__all__ = ["TASKS", "Task", "TaskConfig", "Variable", "ConfigError", "make_task", "task_config", "register"]
