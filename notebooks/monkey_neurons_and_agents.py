# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Monkey neurons and agent units through the same regression
#
# One recording session of the monkey two-step neurons (Miranda et al. 2025, eLife 14:RP106032: ACC and
# DLPFC cells of monkey Charlie) and one meta-RL agent trained on the monkeys' protocol (`twostep-monkey`)
# go through the same steps: a trial table, the Daw hybrid fitted to the subject's own choices, trial
# regressors built from both, and one OLS per unit and task period with a circular-shift null.
# The data are read in place from the folder `NEUROMETARL_DATA` names (see `neurometarl datasets`).

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

import neurometarl
from neurometarl.agents import AgentSubject
from neurometarl.data import monkey_table, read_monkey_session, recording_to_table, validate_table
from neurometarl.experiments import monkey
from neurometarl.lab import record_session

torch.set_num_threads(1)
N_SHUFFLES = 20  # a quicker null than the experiment's 50
ROOT = Path(neurometarl.__file__).resolve().parents[1]
agent = AgentSubject.from_checkpoint(ROOT / "datasets/checkpoints/monkey-twostep/agent/seed0")

# %% [markdown]
# ## The monkey: trial table, hybrid fit, one session's cells

# %%
table = validate_table(monkey_table(None))
charlie = table[table["subject"] == "Charlie"]
_, latents = monkey.hybrid_fit(charlie)
session = read_monkey_session(None, "Charlie", 10, areas=["ACC", "DLPFC"])
rows = charlie["session"] == 10
regs = monkey.session_regressors(charlie[rows], latents[rows], 1)
monkey_coding = monkey.code_units(session, regs, seed=0, n_shuffles=N_SHUFFLES)
print(session.sizes, "cells:", list(session["unit"].values))

# %% [markdown]
# ## The agent: a frozen session of 5 episodes (500 trials, a session's worth), read at the monkeys' periods

# %%
ds = record_session(agent, "twostep-monkey", n_episodes=5, seed=0, progress=False)
agent_table = validate_table(recording_to_table(ds, episodes_as="sessions", subject="agent"))
_, agent_latents = monkey.hybrid_fit(agent_table)
agent_regs = monkey.session_regressors(agent_table, agent_latents, 5)
agent_coding = monkey.code_units(monkey.agent_neurons(ds, "agent/seed0"), agent_regs, seed=0, n_shuffles=N_SHUFFLES)

# %% [markdown]
# ## Fraction of units coding each regressor at outcome, against the circular-shift null

# %%
fig, ax = plt.subplots(figsize=(8, 3.2))
x = np.arange(len(monkey.REGRESSORS))
groups = {"ACC": monkey_coding.isel(unit=monkey_coding["area"].values == "ACC"),
          "DLPFC": monkey_coding.isel(unit=monkey_coding["area"].values == "DLPFC"), "agent": agent_coding}
for j, (name, coding) in enumerate(groups.items()):
    at = coding.sel(period="outcome")
    ax.bar(x + 0.27 * j, at["sig"].mean("unit"), 0.27, label=f"{name} ({coding.sizes['unit']} units)")
    ax.scatter(x + 0.27 * j, at["null_sig"].mean("unit").quantile(0.95, "shuffle"), marker="_", color="k", s=40)
ax.set_xticks(x + 0.27, monkey.REGRESSORS, rotation=45, ha="right")
ax.set_ylabel("fraction with p < 0.05")
ax.set_title("outcome period ('–': 95th percentile of the shift null)")
ax.legend(fontsize=7)
plt.show()
