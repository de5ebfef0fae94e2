"""Memory cores beside the recurrent cells: slot-based attention memory and a memoryless feed-forward core.

Both keep :class:`neurometarl.agents.network.RecurrentCore`'s interface — ``initial_state(batch)``,
``forward(x, state) -> (h, state)``, ``n_units``, ``kind`` — with ``h`` (batch, n_units) the units the
heads and the lab read, and ``state[0]`` = h (what the lab's ``hidden`` hook replaces).

- :class:`AttentionCore` (``core="attention"``): every step writes one key/value slot; the step's query
  attends (causally, over the episode so far plus a learned "empty" slot) and a tanh readout of the
  step's embedding ‖ the retrieved content gives the units. State = ``(h, keys, values)`` with keys
  and values (batch, heads, slots, d / heads): a per-episode cache that grows by one slot a step, so batched lockstep
  episodes cost one small batched matmul a step.
- :class:`FeedForwardCore` (``core="feedforward"``): the "no memory" ablation; h = tanh(W·x + b) from
  the current step's input alone (observation, previous action, previous reward). State = ``(h,)``,
  never read.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import ConfigError


class AttentionCore(nn.Module):
    """Causal multi-head attention over key/value slots written each step of the episode.

    Parameters
    ----------
    n_inputs : size of the step input x.
    n_units : readout units (the recorded units) and slot width d.
    n_heads : attention heads (``n_units`` must be divisible by it).
    """

    kind = "attention"
    frequencies: torch.Tensor  # a buffer (registered in __init__)

    def __init__(self, n_inputs: int, n_units: int, n_heads: int = 4):
        super().__init__()
        if n_units % n_heads:
            raise ConfigError(f"n_units ({n_units}) must be divisible by n_heads ({n_heads}) for the attention core")
        self.n_units, self.n_heads = n_units, n_heads
        self.embed = nn.Linear(n_inputs, n_units)
        self.qkv = nn.Linear(n_units, 3 * n_units)
        self.readout = nn.Linear(2 * n_units, n_units)
        self.empty_key = nn.Parameter(torch.zeros(n_units))  # a slot to attend to before (or instead of) memories
        self.empty_value = nn.Parameter(torch.zeros(n_units))
        freq = torch.exp(-math.log(1000.0) * torch.arange(0, n_units, 2).float() / n_units)
        self.register_buffer("frequencies", freq, persistent=False)

    def position(self, t: int, device) -> torch.Tensor:
        """Sinusoidal code of step ``t`` (n_units,): lets the slots tell how long the episode has run."""
        angle = t * self.frequencies.to(device)
        return torch.stack([angle.sin(), angle.cos()], 1).flatten()[: self.n_units]

    def initial_state(self, batch_size: int) -> tuple[torch.Tensor, ...]:
        """State at an episode start: h = 0 (batch, n_units) and a memory holding only the learned
        empty slot, keys and values each (batch, heads, 1, n_units / heads)."""
        h = self.empty_value.new_zeros(batch_size, self.n_units)
        shape = (batch_size, self.n_heads, 1, self.n_units // self.n_heads)  # (batch, head, slot, d / heads)
        return h, self.empty_key.view(shape[1:]).expand(shape), self.empty_value.view(shape[1:]).expand(shape)

    def forward(self, x: torch.Tensor, state) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """One step: write the step's key/value slot, attend over every slot so far; returns ``h``
        (batch, n_units) and the state grown by one slot."""
        _, keys, values = state
        b, heads, n_slots, dh = keys.shape
        e = self.embed(x) + self.position(n_slots - 1, x.device)
        q, k, v = self.qkv(e).view(b, 3, heads, 1, dh).unbind(1)
        keys, values = torch.cat([keys, k], 2), torch.cat([values, v], 2)
        retrieved = F.scaled_dot_product_attention(q, keys, values).reshape(b, heads * dh)
        h = torch.tanh(self.readout(torch.cat([e, retrieved], 1)))
        return h, (h, keys, values)

    def sequence(self, xs: torch.Tensor, state) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """Many steps at once: ``xs`` (steps, batch, n_inputs) → ``h`` (steps, batch, n_units), final state.

        Every step's slot is written first, and a causal mask lets step t attend to the slots held
        before the sequence and those of steps ≤ t: the numbers of :meth:`forward` step by step."""
        _, keys, values = state
        b, heads, n_held, dh = keys.shape
        n_steps = xs.shape[0]
        positions = torch.stack([self.position(n_held - 1 + t, xs.device) for t in range(n_steps)])
        e = self.embed(xs) + positions[:, None]  # (steps, batch, n_units)
        q, k, v = self.qkv(e).view(n_steps, b, 3, heads, dh).permute(2, 1, 3, 0, 4).unbind(0)  # (batch, head, steps, dh)
        keys, values = torch.cat([keys, k], 2), torch.cat([values, v], 2)
        slot = torch.arange(n_held + n_steps, device=xs.device)
        visible = slot[None, :] < n_held + 1 + torch.arange(n_steps, device=xs.device)[:, None]  # (steps, slots)
        retrieved = F.scaled_dot_product_attention(q, keys, values, attn_mask=visible)  # (batch, head, steps, dh)
        h = torch.tanh(self.readout(torch.cat([e, retrieved.permute(2, 0, 1, 3).reshape(n_steps, b, heads * dh)], -1)))
        return h, (h[-1], keys, values)


class FeedForwardCore(nn.Module):
    """No memory: h = tanh(W·x + b) from the current step's input only; ``state`` is ignored."""

    kind = "feedforward"

    def __init__(self, n_inputs: int, n_units: int):
        super().__init__()
        self.n_units = n_units
        self.layer = nn.Linear(n_inputs, n_units)

    def initial_state(self, batch_size: int) -> tuple[torch.Tensor]:
        """``(h,)`` with h = 0 (batch, n_units); never read, kept for the shared interface."""
        return (self.layer.bias.new_zeros(batch_size, self.n_units),)

    def forward(self, x: torch.Tensor, state) -> tuple[torch.Tensor, tuple[torch.Tensor]]:
        """One step: h = tanh(W·x + b) (batch, n_units) from ``x`` (batch, n_inputs) alone; the state is ``(h,)``."""
        h = torch.tanh(self.layer(x))
        return h, (h,)

    def sequence(self, xs: torch.Tensor, state) -> tuple[torch.Tensor, tuple[torch.Tensor]]:
        """Many steps at once: (steps, batch, n_inputs) → (steps, batch, n_units), state after the last step."""
        h = torch.tanh(self.layer(xs))
        return h, (h[-1],)
