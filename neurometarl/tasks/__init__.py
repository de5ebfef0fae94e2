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
_bandit("bandit-fixed", "the fixed test problem of Fig. 1d: arms 0.25 and 0.75, sides counterbalanced across episodes", distribution="fixed")

from .twostep import TwoStepChoiceTask, TwoStepConfig, TwoStepTask  # noqa: E402

register("twostep", TwoStepTask, TwoStepConfig(), "two-step task, Wang Sim 4: common 0.8, rewards 0.9/0.1 swapping with p=0.025 per trial [" + TwoStepTask.citation + "]")
register("twostep-rat", TwoStepTask, TwoStepConfig(reward_schedule="blocks", reward_levels=(0.8, 0.2), switch_prob=0.02, min_block=10, stage2_response="side"),
         "rat two-step (Miller 2017): common 0.8, rewards 0.8/0.2 reversing with p=0.02 after 10 trials in a block, poke the lit side")
register("twostep-daw", TwoStepTask, TwoStepConfig(n_trials=200, common_prob=0.7, reward_schedule="drift"),
         "Daw 2011 two-step: common 0.7, second-stage reward probabilities drift (s.d. 0.025, reflected in [0.25, 0.75])")
register("twostep-daw-choice", TwoStepChoiceTask, TwoStepConfig(n_trials=200, common_prob=0.7, reward_schedule="drift"),
         "Daw 2011 two-step with its second-stage choice: two options per state, four arms drifting (s.d. 0.025, in [0.25, 0.75])")

from .matching import MatchingConfig, MatchingTask  # noqa: E402
from .volatility import VolatilityConfig, VolatilityTask  # noqa: E402

register("matching", MatchingTask, MatchingConfig(), "baited matching task, Wang Sim 1 training: fixation + choice, p0_L + p0_R = 0.5, p0_R outside [0.1, 0.2] and [0.3, 0.4], 50-100 trials [" + MatchingTask.citation + "]")
register("matching-test", MatchingTask, MatchingConfig(exclude_held_out=False), "baited matching task, Wang Sim 1 test: p0_R ~ U[0, 0.5], held-out ranges marked in the 'held_out' latent")
register("volatility", VolatilityTask, VolatilityConfig(), "Behrens volatility task, Wang Sim 2 training: shown magnitudes, r/1-r, flips with v in {0, 0.2} toggling with ln k ~ U[-4.5, -3.5], 200 trials [" + VolatilityTask.citation + "]")
register("volatility-stable-first", VolatilityTask, VolatilityConfig(schedule="stable-first"), "Behrens volatility task, Wang Sim 2 test: 100 stable trials at 0.75/0.25, then 0.8/0.2 swapping every 25 trials")
register("volatility-volatile-first", VolatilityTask, VolatilityConfig(schedule="volatile-first"), "Behrens volatility task, Wang Sim 2 test: 100 trials at 0.8/0.2 swapping every 25 trials, then 100 stable at 0.75/0.25")


from .harlow import HarlowConfig, HarlowTask  # noqa: E402
from .risk import RiskConfig, RiskTask  # noqa: E402

register("harlow", HarlowTask, HarlowConfig(), "Harlow learning-set task, Wang Sim 5: two new objects (feature vectors) per episode, one rewarded, 6 trials of fixation (+0.2) + choice (+1/-1), training pool [" + HarlowTask.citation + "]")
register("harlow-held-out", HarlowTask, HarlowConfig(pool="held-out"), "Harlow task on the held-out object pool (disjoint from the training pool)")
register("harlow-pixel", HarlowTask, HarlowConfig(mode="pixel"), "Harlow task, pixel mode: a 1x16x32 screen with procedurally generated object images, training pool")
register("harlow-pixel-held-out", HarlowTask, HarlowConfig(mode="pixel", pool="held-out"), "Harlow task, pixel mode, held-out images")
register("risk", RiskTask, RiskConfig(), "Stopper risk task, Wang Sim 6: safe arm 1, risky arm 4 with p in {0.125, 0.5}, 5 forced pulls of each arm then 20 free choices [" + RiskTask.citation + "]")

from .reversal import ReversalConfig, ReversalTask  # noqa: E402

register("reversal", ReversalTask, ReversalConfig(), "cue-reversal task, Wang Sim 3: 5 trials x (fixation, cue A/B, matching response, outcome), one cue pays, reversal with p=0.5 at each episode start, state reset per episode [" + ReversalTask.citation + "]")
register("reversal-stream", ReversalTask, ReversalConfig(n_trials=50), "cue-reversal task as a continuous stream: 10 episodes of 5 trials (200 steps), state carried across episodes")


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
