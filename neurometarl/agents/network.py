"""The recurrent meta-RL agent: a memory core with a learned initial state and linear policy/value heads.

Input at each step = task observation ‖ one-hot previous action ‖ previous reward (‖ trial index / n_trials
when ``trial_index_input``). Output = action logits and a scalar value, both linear in the core's state.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from ..errors import ConfigError
from .cores import AttentionCore, FeedForwardCore

State = tuple[torch.Tensor, ...]
SEQUENCE_CHUNK = 64  # episodes per fused call on the CPU


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
        """The learned initial state for ``batch_size`` episodes: ``(h, c)`` for the LSTM, ``(h,)``
        otherwise, each (batch, n_units)."""
        return tuple(p.expand(batch_size, -1) for p in self.initial)

    def forward(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """One step of the cell: ``x`` (batch, n_inputs) → ``h`` (batch, n_units) and the new state."""
        if self.kind == "lstm":
            h, c = self.cell(x, state)
            return h, (h, c)
        h = self.cell(x, state[0])
        return h, (h,)

    def sequence(self, xs: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """Many steps in one fused call (the ``nn.LSTM``/``nn.GRU``/``nn.RNN`` kernel) on the cell's own weights.

        ``xs`` (steps, batch, n_inputs) → ``h`` (steps, batch, n_units) and the state after the last step;
        the same numbers (to float rounding) and gradients as calling :meth:`forward` step by step.
        """
        cell = self.cell
        n_batch = xs.shape[1]
        if not xs.is_cuda and n_batch > SEQUENCE_CHUNK:  # oneDNN slows once its workspace outgrows the cache
            parts = [self.sequence(xs[:, i:i + SEQUENCE_CHUNK], tuple(s[i:i + SEQUENCE_CHUNK] for s in state))
                     for i in range(0, n_batch, SEQUENCE_CHUNK)]
            return torch.cat([h for h, _ in parts], 1), tuple(torch.cat(s) for s in zip(*(last for _, last in parts)))
        weights = [cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh]
        hx = [s.unsqueeze(0).contiguous() for s in state]  # (layers = 1, batch, n_units)
        with warnings.catch_warnings():  # on CUDA, cuDNN notes the cell's weights are not one flat buffer
            warnings.simplefilter("ignore", UserWarning)
            if self.kind == "lstm":
                h, h_last, c_last = torch._VF.lstm(xs, hx, weights, True, 1, 0.0, self.training, False, False)
                return h, (h_last[0], c_last[0])
            kernel = {"gru": torch._VF.gru, "rnn": getattr(torch._VF, f"rnn_{getattr(cell, 'nonlinearity', 'tanh')}")}
            h, h_last = kernel[self.kind](xs, hx[0], weights, True, 1, 0.0, self.training, False, False)
        return h, (h_last[0],)


CORES = ("lstm", "gru", "rnn", "attention", "feedforward")


def make_core(n_inputs: int, n_units: int, kind: str = "lstm") -> RecurrentCore | AttentionCore | FeedForwardCore:
    """The memory core ``kind``: a recurrent cell (lstm, gru, rnn), slot-based attention memory
    (attention) or no memory (feedforward); all share :class:`RecurrentCore`'s interface."""
    if kind == "attention":
        return AttentionCore(n_inputs, n_units)
    if kind == "feedforward":
        return FeedForwardCore(n_inputs, n_units)
    if kind not in RecurrentCore.CELLS:
        raise ConfigError(f"core must be one of {CORES}, got {kind!r}")
    return RecurrentCore(n_inputs, n_units, kind)


class RecurrentAgent(nn.Module):
    """Meta-RL network (Wang et al. 2018): recurrent core + softmax policy + value, per step.

    Parameters
    ----------
    n_obs, n_actions : task observation size and number of actions.
    n_units : units in the core (48 in the paper).
    core : 'lstm' (paper), 'gru', 'rnn', 'attention' (slot-based memory) or 'feedforward' (no memory).
    trial_index_input : also feed the trial index scaled by ``n_trials`` (Wang 2016 bandits).
    """

    def __init__(self, n_obs: int, n_actions: int, n_units: int = 48, core: str = "lstm",
                 trial_index_input: bool = False, n_trials: int = 1):
        super().__init__()
        if n_units < 1:
            raise ConfigError(f"n_units must be >= 1, got {n_units}")
        self.n_obs, self.n_actions, self.n_trials = n_obs, n_actions, max(int(n_trials), 1)
        self.trial_index_input = trial_index_input
        self.core = make_core(n_obs + n_actions + 1 + int(trial_index_input), n_units, core)
        self.policy_head = nn.Linear(n_units, n_actions)
        self.value_head = nn.Linear(n_units, 1)

    @property
    def n_units(self) -> int:
        """Units in the core: the width of ``h``, the recorded ``hidden`` activity."""
        return self.core.n_units

    def initial_state(self, batch_size: int) -> State:
        """The core's state at the start of ``batch_size`` episodes (learned for the recurrent cells)."""
        return self.core.initial_state(batch_size)

    def make_input(self, obs: torch.Tensor, prev_action: torch.Tensor, prev_reward: torch.Tensor,
                   trial: torch.Tensor | None = None) -> torch.Tensor:
        """Concatenate the step's input; ``prev_action`` is (batch, n_actions) one-hot (zeros at start)."""
        parts = [obs, prev_action, prev_reward[:, None]]
        if self.trial_index_input:
            assert trial is not None, "trial_index_input needs the step's trial"
            parts.append(trial[:, None].float() / self.n_trials)
        return torch.cat(parts, 1)

    def forward(self, x: torch.Tensor, state: State, hooks: dict | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, State]:
        """One step: returns ``logits`` (batch, n_actions), ``value`` (batch,), ``h`` (batch, n_units), state.

        ``hooks`` (optional, for the lab's perturbations): ``"input"`` maps x before the core,
        ``"hidden"`` maps the units after the step (the mapped units are also the carried state).
        """
        hooks = hooks or {}
        if "input" in hooks:
            x = hooks["input"](x)
        h, state = self.core(x, state)
        if "hidden" in hooks:
            h = hooks["hidden"](h)
            state = (h, *state[1:])
        return self.policy_head(h), self.value_head(h)[:, 0], h, state

    def forward_sequence(self, xs: torch.Tensor, state: State) -> tuple[torch.Tensor, torch.Tensor, State]:
        """Many steps at once, for the learner: ``xs`` (steps, batch, n_inputs) from ``state`` →
        ``logits`` (steps, batch, n_actions), ``value`` (steps, batch), state after the last step.
        Equal (to float rounding) to :meth:`forward` step by step; no hooks."""
        h, state = self.core.sequence(self.encode_sequence(xs), state)
        return self.policy_head(h), self.value_head(h)[..., 0], state

    def encode_sequence(self, xs: torch.Tensor) -> torch.Tensor:
        """The core's input for each step of ``xs`` (steps, batch, n_inputs); the identity here."""
        return xs


Hooks = dict  # optional interventions: {"input": f(x) -> x, "hidden": f(h) -> h, "rpe": f(δ) -> δ}


class ConvEncoder(nn.Module):
    """A small conv encoder for pixel observations, applied to each screen slot with shared weights.

    The screen is split along its width into ``n_slots`` equal slots (e.g. the left and right object of
    the Harlow task); each slot passes through the same two conv layers (ReLU) and a layer-normalised
    linear read-out, and the slot codes are concatenated. Shared weights make the code of an object the
    same in either slot, like the abstract mode's feature vectors; the layer norm gives them unit scale.
    (A whole-screen encoder with a ReLU read-out stayed at chance for 60k Harlow episodes.)

    Parameters
    ----------
    obs_shape : (channels, height, width) of one observation (it arrives flattened).
    n_features : size of each slot's code; the encoder outputs ``n_slots · n_features``.
    n_slots : side-by-side slots the width is split into.
    contrast : subtract the mean code over slots from each slot's code (removes what all objects share).
    """

    def __init__(self, obs_shape: tuple[int, int, int], n_features: int = 16, n_slots: int = 1, contrast: bool = False):
        super().__init__()
        self.contrast = contrast
        if len(obs_shape) != 3:
            raise ConfigError(f"a conv encoder needs (channels, height, width) observations, got shape {obs_shape}")
        c, h, w = self.obs_shape = tuple(int(s) for s in obs_shape)
        if n_slots < 1 or w % n_slots:
            raise ConfigError(f"screen width {w} does not split into n_slots={n_slots} equal slots")
        self.n_slots, self.slot_width = n_slots, w // n_slots
        self.conv = nn.Sequential(nn.Conv2d(c, 16, 4, stride=2, padding=1), nn.ReLU(),
                                  nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten())
        with torch.no_grad():
            n_conv = self.conv(torch.zeros(1, c, h, self.slot_width)).shape[1]
        self.linear = nn.Sequential(nn.Linear(n_conv, n_features), nn.LayerNorm(n_features))
        self.n_features = n_features * n_slots

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """(batch, c·h·w) flattened observations → (batch, n_slots · n_features)."""
        b = obs.shape[0]
        screen = obs.reshape(b, *self.obs_shape)
        slots = screen.reshape(b, *self.obs_shape[:2], self.n_slots, self.slot_width).permute(0, 3, 1, 2, 4)
        codes = self.linear(self.conv(slots.reshape(b * self.n_slots, *self.obs_shape[:2], self.slot_width)))
        codes = codes.reshape(b, self.n_slots, -1)
        if self.contrast:  # each slot's code relative to the mean over slots (lateral inhibition)
            codes = codes - codes.mean(1, keepdim=True)
        return codes.reshape(b, self.n_features)


class EncodedRecurrentAgent(RecurrentAgent):
    """:class:`RecurrentAgent` whose observation first passes through a :class:`ConvEncoder` (Sim 5 pixels).

    The step input is built exactly as for :class:`RecurrentAgent` (raw flattened observation ‖ previous
    action ‖ previous reward); ``forward`` encodes the observation part before the core.
    """

    def __init__(self, obs_shape: tuple[int, int, int], n_actions: int, n_units: int = 48, core: str = "lstm",
                 trial_index_input: bool = False, n_trials: int = 1, n_features: int = 16, n_slots: int = 1,
                 train_encoder: bool = True, contrast: bool = False):
        n_obs = int(torch.tensor(obs_shape).prod())
        super().__init__(n_obs, n_actions, n_units, core, trial_index_input, n_trials)
        self.encoder = ConvEncoder(obs_shape, n_features, n_slots, contrast)
        if not train_encoder:  # a fixed random "retina": A2C's gradient collapsed a trained encoder's object codes
            self.encoder.requires_grad_(False)
        self.core = make_core(self.encoder.n_features + n_actions + 1 + int(trial_index_input), n_units, core)

    def forward(self, x, state, hooks: Hooks | None = None):
        """One step as :meth:`RecurrentAgent.forward`, the observation part of ``x`` passed through the conv
        encoder before the core; the ``"input"`` hook maps the raw step input, ``"hidden"`` the core's units."""
        hooks = hooks or {}
        if "input" in hooks:
            x = hooks["input"](x)
        h, state = self.core(self.encode(x), state)
        if "hidden" in hooks:
            h = hooks["hidden"](h)
            state = (h, *state[1:])
        return self.policy_head(h), self.value_head(h)[:, 0], h, state

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, n_inputs) step inputs → the core's inputs: encoded observation ‖ the rest."""
        return torch.cat([self.encoder(x[:, :self.n_obs]), x[:, self.n_obs:]], 1)

    def encode_sequence(self, xs: torch.Tensor) -> torch.Tensor:
        """All steps through the encoder in one batch: (steps, batch, n_inputs) → (steps, batch, core inputs)."""
        return self.encode(xs.flatten(0, 1)).unflatten(0, xs.shape[:2])


class ActorCriticAgent(nn.Module):
    """Two recurrent networks (Wang et al. 2018 Sim 6): a critic and an actor fed the critic's RPE.

    Critic: (observation ‖ previous action ‖ previous reward) → LSTM → value V_t.
    Actor: (observation ‖ previous action ‖ δ_{t−1}) → LSTM → policy, where
    δ_{t−1} = r_{t−1} + γ·V_t − V_{t−1} is the critic's TD error for the outcome just observed ("dopamine"),
    taking the place of the reward input (0 on an episode's first step). δ enters the actor as a signal
    (detached): the critic learns only from the value loss, the actor from the policy loss, in one A2C loss.

    Same interface as :class:`RecurrentAgent`: ``initial_state``, ``make_input``, ``forward`` returning
    ``logits, value, h, state``; ``h`` is actor units ‖ critic units (``n_units`` = 2 × units per network).
    ``state`` = (h_actor, c_actor, h_critic, c_critic, previous value, has-previous flag).

    Parameters
    ----------
    n_obs, n_actions : task observation size and number of actions.
    n_units : units in each of the two LSTMs (48 in the paper).
    gamma : discount used for δ (the training γ).
    """

    #: the actor reads the critic's δ (the lab's RPE perturbations need this)
    feeds_rpe = True

    def __init__(self, n_obs: int, n_actions: int, n_units: int = 48, gamma: float = 0.9, core: str = "lstm",
                 trial_index_input: bool = False, n_trials: int = 1):
        super().__init__()
        if n_units < 1:
            raise ConfigError(f"n_units must be >= 1, got {n_units}")
        if core != "lstm":
            raise ConfigError(f"the actor-critic architecture uses LSTMs (core='lstm'), got core={core!r}")
        if trial_index_input:
            raise ConfigError("trial_index_input is not supported by the actor-critic architecture; set it to False")
        self.n_obs, self.n_actions, self.n_trials, self.gamma = n_obs, n_actions, max(int(n_trials), 1), float(gamma)
        self.trial_index_input = False
        self.units_per_network = n_units
        self.critic = RecurrentCore(n_obs + n_actions + 1, n_units, "lstm")
        self.actor = RecurrentCore(n_obs + n_actions + 1, n_units, "lstm")
        self.policy_head = nn.Linear(n_units, n_actions)
        self.value_head = nn.Linear(n_units, 1)

    @property
    def n_units(self) -> int:
        """Recorded units: actor and critic together, 2 × ``units_per_network``."""
        return 2 * self.units_per_network

    @property
    def unit_names(self) -> tuple[str, ...]:
        """Names of the recorded units in the order of ``h``: ``actor000``…, then ``critic000``…."""
        n = self.units_per_network
        return tuple(f"actor{i:03d}" for i in range(n)) + tuple(f"critic{i:03d}" for i in range(n))

    def initial_state(self, batch_size: int) -> State:
        """Both LSTMs' learned initial states for ``batch_size`` episodes, then the previous value
        and the has-previous flag, both 0 (so δ is 0 on an episode's first step)."""
        zeros = self.critic.initial[0].new_zeros(batch_size)
        return (*self.actor.initial_state(batch_size), *self.critic.initial_state(batch_size), zeros, zeros)

    def make_input(self, obs, prev_action, prev_reward, trial=None) -> torch.Tensor:
        """obs ‖ one-hot previous action ‖ previous reward (the actor's copy gets δ in the reward's place)."""
        return torch.cat([obs, prev_action, prev_reward[:, None]], 1)

    def forward(self, x, state, hooks: Hooks | None = None):
        """One step: ``logits`` (batch, n_actions), ``value`` (batch,), ``h`` (batch, 2·units), state.

        ``hooks`` (optional, for the lab's perturbations): ``"input"`` maps x before both networks,
        ``"rpe"`` maps the δ fed to the actor, ``"hidden"`` maps actor ‖ critic units after the step.
        """
        hooks = hooks or {}
        if "input" in hooks:
            x = hooks["input"](x)
        h_actor, c_actor, h_critic, c_critic, prev_value, has_prev = state
        hc, (hc, cc) = self.critic(x, (h_critic, c_critic))
        value = self.value_head(hc)[:, 0]
        reward = x[:, -1]
        rpe = has_prev * (reward + self.gamma * value - prev_value).detach()
        if "rpe" in hooks:
            rpe = hooks["rpe"](rpe)
        ha, (ha, ca) = self.actor(torch.cat([x[:, :-1], rpe[:, None]], 1), (h_actor, c_actor))
        h = torch.cat([ha, hc], 1)
        if "hidden" in hooks:
            h = hooks["hidden"](h)
            n = self.units_per_network
            ha, hc = h[:, :n], h[:, n:]
            value = self.value_head(hc)[:, 0]
        new_state = (ha, ca, hc, cc, value.detach(), torch.ones_like(has_prev))
        return self.policy_head(ha), value, h, new_state

    def forward_sequence(self, xs: torch.Tensor, state: State) -> tuple[torch.Tensor, torch.Tensor, State]:
        """Many steps at once (see :meth:`RecurrentAgent.forward_sequence`): the critic LSTM runs over the
        whole sequence first, its values give every step's δ, then the actor LSTM runs over the sequence."""
        h_actor, c_actor, h_critic, c_critic, prev_value, has_prev = state
        hc, (hc_last, cc_last) = self.critic.sequence(xs, (h_critic, c_critic))
        value = self.value_head(hc)[..., 0]  # (steps, batch)
        signal = value.detach()
        rpe = (torch.cat([has_prev[None], torch.ones_like(signal[1:])])
               * (xs[..., -1] + self.gamma * signal - torch.cat([prev_value[None], signal[:-1]])))
        ha, (ha_last, ca_last) = self.actor.sequence(torch.cat([xs[..., :-1], rpe[..., None]], -1), (h_actor, c_actor))
        new_state = (ha_last, ca_last, hc_last, cc_last, signal[-1], torch.ones_like(has_prev))
        return self.policy_head(ha), value, new_state


#: the networks an architecture builds (:func:`~neurometarl.agents.config.build_agent`): same interface, no common base
Agent = RecurrentAgent | ActorCriticAgent

ARCHITECTURES = ("single", "actor-critic")
ENCODERS = ("none", "conv", "conv-fixed", "conv-contrast")
