"""The recurrent meta-RL agent: a memory core with a learned initial state and linear policy/value heads.

Input at each step = task observation ‖ one-hot previous action ‖ previous reward (‖ trial index / n_trials
when ``trial_index_input``). Output = action logits and a scalar value, both linear in the core's state.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError

State = tuple[torch.Tensor, ...]


class RecurrentCore(nn.Module):
    """A single recurrent cell (LSTM, GRU or tanh RNN) with a learned initial state.

    ``state`` is a tuple: ``(h, c)`` for the LSTM, ``(h,)`` otherwise; ``h`` is what heads and the lab read.
    """

    CELLS = {"lstm": nn.LSTMCell, "gru": nn.GRUCell, "rnn": nn.RNNCell}

    def __init__(self, n_inputs: int, n_units: int, kind: str = "lstm"):
        super().__init__()
        if kind not in self.CELLS:
            raise ConfigError(f"core must be one of {sorted(self.CELLS)}, got {kind!r}")
        self.kind, self.n_units = kind, n_units
        self.cell = self.CELLS[kind](n_inputs, n_units)
        self.initial = nn.ParameterList([nn.Parameter(torch.zeros(n_units)) for _ in range(2 if kind == "lstm" else 1)])

    def initial_state(self, batch_size: int) -> State:
        return tuple(p.expand(batch_size, -1) for p in self.initial)

    def forward(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        if self.kind == "lstm":
            h, c = self.cell(x, state)
            return h, (h, c)
        h = self.cell(x, state[0])
        return h, (h,)


class RecurrentAgent(nn.Module):
    """Meta-RL network (Wang et al. 2018): recurrent core + softmax policy + value, per step.

    Parameters
    ----------
    n_obs, n_actions : task observation size and number of actions.
    n_units : units in the core (48 in the paper).
    core : 'lstm' (paper), 'gru' or 'rnn'.
    trial_index_input : also feed the trial index scaled by ``n_trials`` (Wang 2016 bandits).
    """

    def __init__(self, n_obs: int, n_actions: int, n_units: int = 48, core: str = "lstm",
                 trial_index_input: bool = False, n_trials: int = 1):
        super().__init__()
        if n_units < 1:
            raise ConfigError(f"n_units must be >= 1, got {n_units}")
        self.n_obs, self.n_actions, self.n_trials = n_obs, n_actions, max(int(n_trials), 1)
        self.trial_index_input = trial_index_input
        self.core = RecurrentCore(n_obs + n_actions + 1 + int(trial_index_input), n_units, core)
        self.policy_head = nn.Linear(n_units, n_actions)
        self.value_head = nn.Linear(n_units, 1)

    @property
    def n_units(self) -> int:
        return self.core.n_units

    def initial_state(self, batch_size: int) -> State:
        return self.core.initial_state(batch_size)

    def make_input(self, obs: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor,
                   trial: torch.Tensor | None = None) -> torch.Tensor:
        """Concatenate the step's input; ``prev_action`` is (batch, n_actions) one-hot (zeros at start)."""
        parts = [obs, prev_action, prev_reward[:, None]]
        if self.trial_index_input:
            parts.append(trial[:, None].float() / self.n_trials)
        return torch.cat(parts, 1)

    def forward(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, State]:
        """One step: returns ``logits`` (batch, n_actions), ``value`` (batch,), ``h`` (batch, n_units), state."""
        h, state = self.core(x, state)
        return self.policy_head(h), self.value_head(h)[:, 0], h, state
