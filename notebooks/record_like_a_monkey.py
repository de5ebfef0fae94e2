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
# # Record an agent like a monkey
#
# A meta-RL agent trained on the monkey matching task of Wang et al. 2018 Sim 1 (Lau & Glimcher 2005;
# Tsutsui et al. 2016) is put in the rig with its weights frozen. We record its 48 LSTM units on every
# step of every trial, exactly as an electrophysiologist records dlPFC neurons, then ask the same
# questions: how does behaviour follow reward, and what do single units encode?

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import torch
import xarray as xr

import neurometarl
from neurometarl.agents import AgentSubject
from neurometarl.analysis import fraction_significant, unit_regression
from neurometarl.analysis.behaviour import matching_law
from neurometarl.figures.units import plot_fraction_significant
from neurometarl.lab import load_recording, record_session, save_recording

torch.set_num_threads(1)
ROOT = Path(neurometarl.__file__).resolve().parents[1]  # the repository: datasets/ ships the checkpoints
agent = AgentSubject.from_checkpoint(ROOT / "datasets/checkpoints/sim1/agent/seed0")

# %% [markdown]
# ## The session
# 100 test episodes of the matching task (baited arms; reward probabilities new in each episode).
# The recording is an `xarray.Dataset`: behaviour on `(episode, trial)`, units on `(episode, step, unit)`,
# the task's latent variables, and provenance in the attributes.

# %%
ds = record_session(agent, "matching-test", n_episodes=100, seed=0, progress=False)
print(ds)
print("checkpoint:", ds.attrs["checkpoint"] if "checkpoint" in ds.attrs else ds.attrs.get("subject"))

# %% [markdown]
# ## A raster of units on one episode
# Each row is a unit, each column a step (fixation and choice periods alternate).

# %%
fig, ax = plt.subplots(figsize=(8, 3))
ax.imshow(ds.hidden.isel(episode=0).T, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
ax.set_xlabel("step"); ax.set_ylabel("unit"); ax.set_title("LSTM units, episode 0")
plt.show()

# %% [markdown]
# ## Behaviour: matching
# Like monkeys, the agent under-matches: log choice ratio against log reward ratio has a slope below 1.

# %%
matching = matching_law(ds, pool=True)
slope = float(matching.sensitivity.squeeze())
print(f"matching slope (sensitivity) {slope:.2f}; monkeys and the paper's model ≈ 0.5")
fig, ax = plt.subplots(figsize=(3.5, 3.5))
ax.scatter(matching.log_reward_ratio, matching.log_choice_ratio, s=6, alpha=0.5)
ax.axline((0, 0), slope=1, color="grey", lw=0.8, ls="--", label="perfect matching")
ax.set_xlabel("log reward ratio (R/L)"); ax.set_ylabel("log choice ratio (R/L)"); ax.legend(frameon=False)
plt.show()
assert 0 < slope < 1, "the agent under-matches"

# %% [markdown]
# ## What single units encode
# Regress every unit's activity at the choice period on last action, last reward and their
# interaction, and count units significant at P < 0.05 (Bonferroni over units), as for recorded neurons.

# %%
result = unit_regression(ds, ["prev_action", "prev_reward", "prev_action_x_reward"], period="choice")
frac = fraction_significant(result, correction="bonferroni")
print(frac)
ax = plot_fraction_significant(frac)
plt.show()

# %% [markdown]
# ## Save the session like any recording
# netCDF, with `long_name`/`units` on every variable; loading gives back the same dataset.

# %%
path = save_recording(ds, Path("monkey_style_session.nc"))
xr.testing.assert_identical(load_recording(path), ds)
print("saved and reloaded identically:", path)
path.unlink()
