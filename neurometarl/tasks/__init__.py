"""Task protocols, by name. ``make_task(name, batch_size)`` builds one; ``TASKS`` lists them all.

Each entry is a (task class, default config, one-line description). The built-in protocols are
declared here by module and class name and imported on first use, so listing them (``neurometarl
tasks``) does not import torch. Other packages add protocols with :func:`register`, or through the
``neurometarl.tasks`` entry-point group (see ``docs/add-a-task.md``), which every command sees.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
from dataclasses import dataclass, field
from importlib import metadata
from typing import TYPE_CHECKING

from ..errors import ConfigError

if TYPE_CHECKING:
    import torch

#: the entry-point group through which installed packages add protocols
ENTRY_POINT_GROUP = "neurometarl.tasks"


@dataclass(frozen=True)
class TaskEntry:
    """A protocol: its class and default config, given directly or as ``module:Class`` names imported on use."""

    description: str
    task_class: type | str  # the Task subclass, or "module:Class"
    config_class: type | str  # its config dataclass, or "module:Class"
    options: dict = field(default_factory=dict)  # config fields that differ from the class defaults

    @staticmethod
    def _resolve(target):
        if not isinstance(target, str):
            return target
        module, _, name = target.partition(":")
        return getattr(importlib.import_module(module), name)

    @property
    def cls(self):
        return self._resolve(self.task_class)

    @property
    def config(self):
        return self._resolve(self.config_class)(**self.options)


TASKS: dict[str, TaskEntry] = {}


def register(name: str, cls, config, description: str) -> None:
    """Add a named protocol to :data:`TASKS`: ``cls`` a Task subclass, ``config`` its default config."""
    TASKS[name] = TaskEntry(description, cls, type(config), dataclasses.asdict(config))


def _builtin(name: str, module: str, cls: str, config: str, description: str, **options) -> None:
    TASKS[name] = TaskEntry(description, f"neurometarl.tasks.{module}:{cls}", f"neurometarl.tasks.{module}:{config}", options)


#: each family's references, appended to the first protocol of the family (``Task.citation`` of its class)
CITATIONS = {
    "bandits": "Wang et al. 2018 Nat Neurosci Fig. 1; Wang et al. 2016 arXiv:1611.05763",
    "twostep": "Daw et al. 2011 Neuron; Miller et al. 2017 Nat Neurosci; Wang et al. 2018 Nat Neurosci Fig. 5",
    "matching": "Lau & Glimcher 2005 J Exp Anal Behav; Tsutsui et al. 2016 Nat Commun; Wang et al. 2018 Nat Neurosci Fig. 2",
    "volatility": "Behrens et al. 2007 Nat Neurosci; Wang et al. 2018 Nat Neurosci Fig. 3",
    "harlow": "Harlow 1949 Psychol Rev; Wang et al. 2018 Nat Neurosci Fig. 6 (Sim 5)",
    "risk": "Stopper et al. 2014 Neuron; Wang et al. 2018 Nat Neurosci Fig. 7 (Sim 6)",
    "reversal": "Bromberg-Martin et al. 2010 Neuron; Wang et al. 2018 Nat Neurosci Fig. 4",
}


def _bandit(name, description, **kw):
    _builtin(name, "bandits", "BanditTask", "BanditConfig", description + f" [{CITATIONS['bandits']}]", **kw)


_bandit("bandit-independent", "two-armed Bernoulli bandit, p1, p2 ~ U[0,1] per episode, 100 trials", distribution="independent")
_bandit("bandit-correlated", "two-armed Bernoulli bandit, p1 ~ U[0,1], p2 = 1 - p1, 100 trials", distribution="correlated")
_bandit("bandit-correlated-easy", "correlated bandit with {p1, p2} = {0.1, 0.9}", distribution="correlated", levels=(0.1,))
_bandit("bandit-correlated-medium", "correlated bandit with {p1, p2} = {0.25, 0.75}", distribution="correlated", levels=(0.25,))
_bandit("bandit-correlated-hard", "correlated bandit with {p1, p2} = {0.4, 0.6}", distribution="correlated", levels=(0.4,))
_bandit("bandit-restless", "two-armed bandit whose probabilities drift (reflected random walk, s.d. 0.05/trial)", distribution="restless")
_bandit("bandit-fixed", "the fixed test problem of Fig. 1d: arms 0.25 and 0.75, sides counterbalanced across episodes", distribution="fixed")

_builtin("twostep", "twostep", "TwoStepTask", "TwoStepConfig", "two-step task, Wang Sim 4: common 0.8, rewards 0.9/0.1 swapping with p=0.025 per trial [" + CITATIONS["twostep"] + "]")
_builtin("twostep-rat", "twostep", "TwoStepTask", "TwoStepConfig",
         "rat two-step (Miller 2017): common 0.8, rewards 0.8/0.2 reversing with p=0.02 after 10 trials in a block, poke the lit side",
         reward_schedule="blocks", reward_levels=(0.8, 0.2), switch_prob=0.02, min_block=10, stage2_response="side")
_builtin("twostep-daw", "twostep", "TwoStepTask", "TwoStepConfig",
         "Daw 2011 two-step: common 0.7, second-stage reward probabilities drift (s.d. 0.025, reflected in [0.25, 0.75])",
         n_trials=200, common_prob=0.7, reward_schedule="drift")
_builtin("twostep-daw-choice", "twostep", "TwoStepChoiceTask", "TwoStepConfig",
         "Daw 2011 two-step with its second-stage choice: two options per state, four arms drifting (s.d. 0.025, in [0.25, 0.75])",
         n_trials=200, common_prob=0.7, reward_schedule="drift")
_builtin("twostep-monkey", "twostep", "MonkeyTwoStepTask", "MonkeyTwoStepConfig",
         "monkey two-step (Miranda et al. 2025): common 0.7, second-stage choice among two options per state, each option "
         "paying 0, 0.5 or 1 (its level) and jumping level with p=0.094 per trial; 14% instructed first-stage trials")

_builtin("matching", "matching", "MatchingTask", "MatchingConfig", "baited matching task, Wang Sim 1 training: fixation + choice, p0_L + p0_R = 0.5, p0_R outside [0.1, 0.2] and [0.3, 0.4], 50-100 trials [" + CITATIONS["matching"] + "]")
_builtin("matching-test", "matching", "MatchingTask", "MatchingConfig", "baited matching task, Wang Sim 1 test: p0_R ~ U[0, 0.5], held-out ranges marked in the 'held_out' latent", exclude_held_out=False)
_builtin("volatility", "volatility", "VolatilityTask", "VolatilityConfig", "Behrens volatility task, Wang Sim 2 training: shown magnitudes, r/1-r, flips with v in {0, 0.2} toggling with ln k ~ U[-4.5, -3.5], 200 trials [" + CITATIONS["volatility"] + "]")
_builtin("volatility-stable-first", "volatility", "VolatilityTask", "VolatilityConfig", "Behrens volatility task, Wang Sim 2 test: 100 stable trials at 0.75/0.25, then 0.8/0.2 swapping every 25 trials", schedule="stable-first")
_builtin("volatility-volatile-first", "volatility", "VolatilityTask", "VolatilityConfig", "Behrens volatility task, Wang Sim 2 test: 100 trials at 0.8/0.2 swapping every 25 trials, then 100 stable at 0.75/0.25", schedule="volatile-first")

_builtin("harlow", "harlow", "HarlowTask", "HarlowConfig", "Harlow learning-set task, Wang Sim 5: two new objects (feature vectors) per episode, one rewarded, 6 trials of fixation (+0.2) + choice (+1/-1), training pool [" + CITATIONS["harlow"] + "]")
_builtin("harlow-held-out", "harlow", "HarlowTask", "HarlowConfig", "Harlow task on the held-out object pool (disjoint from the training pool)", pool="held-out")
_builtin("harlow-pixel", "harlow", "HarlowTask", "HarlowConfig", "Harlow task, pixel mode: a 1x16x32 screen with procedurally generated object images, training pool", mode="pixel")
_builtin("harlow-pixel-held-out", "harlow", "HarlowTask", "HarlowConfig", "Harlow task, pixel mode, held-out images", mode="pixel", pool="held-out")
_builtin("risk", "risk", "RiskTask", "RiskConfig", "Stopper risk task, Wang Sim 6: safe arm 1, risky arm 4 with p in {0.125, 0.5}, 5 forced pulls of each arm then 20 free choices [" + CITATIONS["risk"] + "]")

_builtin("reversal", "reversal", "ReversalTask", "ReversalConfig", "cue-reversal task, Wang Sim 3: 5 trials x (fixation, cue A/B, matching response, outcome), one cue pays, reversal with p=0.5 at each episode start, state reset per episode [" + CITATIONS["reversal"] + "]")
_builtin("reversal-stream", "reversal", "ReversalTask", "ReversalConfig", "cue-reversal task as a continuous stream: 10 episodes of 5 trials (200 steps), state carried across episodes", n_trials=50)


def load_plugins() -> list[str]:
    """Import the protocols that installed packages declare in the ``neurometarl.tasks`` entry-point group.

    An entry point names a callable that receives :func:`register` (or a module that registers on import).
    A plugin that fails to load is reported on stderr and skipped, so one broken package does not stop
    every command. Returns the names of the entry points loaded.
    """
    loaded = []
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            target = entry.load()
            if callable(target):
                target(register)
            loaded.append(entry.name)
        except Exception as err:  # noqa: BLE001 - a user's package: report and go on
            print(f"neurometarl: task plugin {entry.name!r} ({entry.value}) failed to load: "
                  f"{type(err).__name__}: {err}", file=sys.stderr)
    return loaded


def task_config(name: str, **overrides):
    """The default config of task ``name`` with ``overrides`` applied (validated)."""
    if name not in TASKS:
        raise ConfigError(f"unknown task {name!r}; valid tasks: {', '.join(TASKS)}")
    try:
        return dataclasses.replace(TASKS[name].config, **overrides)
    except TypeError as err:
        fields = [f.name for f in dataclasses.fields(TASKS[name].config)]
        raise ConfigError(f"bad option for task {name!r} ({err}); options are: {', '.join(fields)}") from None


def make_task(name: str, batch_size: int, device: str | torch.device = "cpu", config=None, **overrides):
    """Build task ``name`` stepping ``batch_size`` episodes in lockstep on ``device``."""
    config = config if config is not None else task_config(name, **overrides)
    task = TASKS[name].cls(config, batch_size, device)
    task.name = name
    return task


def __getattr__(name: str):
    """``Task``, ``TaskConfig`` and ``Variable`` from :mod:`neurometarl.tasks.base`, imported on first use (torch)."""
    if name in ("Task", "TaskConfig", "Variable"):
        from . import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


load_plugins()

__all__ = ["TASKS", "Task", "TaskConfig", "Variable", "ConfigError", "make_task", "task_config", "register",
           "load_plugins", "ENTRY_POINT_GROUP"]
