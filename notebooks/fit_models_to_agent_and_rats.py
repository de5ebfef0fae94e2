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
# # Fit behavioural models to agent and rat choices
#
# The two-step task separates model-free from model-based control (Daw et al. 2011). Rats
# (Miller et al. 2017; the registered `rat-twostep` dataset, see docs/datasets.md) and a meta-RL agent trained on the
# rat version of the task (Wang et al. 2018 Sim 4) go through **one trial table**, so the same
# stay analysis and the same model fits apply to both.

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import torch

import neurometarl
from neurometarl.agents import AgentSubject
from neurometarl.analysis.behaviour import plot_stay_probabilities, stay_probabilities, stay_summary
from neurometarl.data import load_rat_twostep, recording_to_table
from neurometarl.lab import record_session
from neurometarl.tasks import make_task, task_config
from neurometarl.models import make_model
from neurometarl.models.fitting import compare_models

torch.set_num_threads(1)
ROOT = Path(neurometarl.__file__).resolve().parents[1]  # the repository: datasets/ ships the checkpoints

# %% [markdown]
# ## The rats: a trial table
# One row per trial; `forced` and `violation` trials are flagged, not dropped (models learn from forced
# trials without scoring them and skip violations). Two rats, and the first 150 trials of each of their
# sessions, keep this tutorial fast: learning restarts at every session, so the likelihood runs over the
# longest session, with all sessions side by side. Drop the `head` to fit every trial (a few minutes).

# %%
rats = load_rat_twostep()
rats = rats[rats.subject.isin(["M070", "M071"])].groupby(["subject", "session"]).head(150)
print(rats.groupby("subject").agg(sessions=("session", "nunique"), trials=("trial", "size")))
rats.head()

# %% [markdown]
# ## The agent: record it on the rats' protocol, then convert to the same table
# The rats' reward schedule (0.8/0.2 blocks); the agent answers the second stage with the centre response it
# was trained on. Its 40 episodes become 40 sessions of one subject.

# %%
agent = AgentSubject.from_checkpoint(ROOT / "datasets/checkpoints/sim4/agent/seed0")
rat_protocol = make_task("twostep-rat", 40, config=task_config("twostep-rat", stage2_response="centre"))
ds = record_session(agent, rat_protocol, n_episodes=40, seed=0, progress=False)
agent_table = recording_to_table(ds, episodes_as="sessions", subject="agent seed0")
print(agent_table.columns.tolist(), len(agent_table))

# %% [markdown]
# ## Stay probabilities: reward × transition
# A model-free learner repeats a rewarded choice whatever the transition; a model-based one repeats it
# after a common transition and switches after a rare one (and the reverse when unrewarded).

# %%
fig, axes = plt.subplots(1, 2, figsize=(7, 3), sharey=True)
for ax, (label, table) in zip(axes, {"rats M070, M071": rats, "meta-RL agent": agent_table}.items()):
    stay = stay_probabilities(table)
    plot_stay_probabilities(stay, ax=ax)
    ax.set_title(label)
    print(label, {k: round(v, 3) for k, v in stay_summary(stay).items()})
plt.show()

# %% [markdown]
# ## Fit model-free, model-based and hybrid models and compare by BIC
# The same three models, fitted by maximum likelihood to the rats and to the agent (every subject and
# every start is a column of one batched likelihood). `delta_bic` is the distance to the best model;
# `n_best_subjects` counts the subjects whose own BIC picks that model.

# %%
fitted, summaries = {}, {}
for who, table in {"rats": rats, "agent": agent_table}.items():
    fitted[who] = {name: make_model(name, n_starts=2, random_state=0) for name in ("mf", "mb", "hybrid")}
    summaries[who], _ = compare_models(fitted[who], table)
summary = pd.concat(summaries, names=["data", "model"])
summary[["n_params", "nll", "bic", "delta_bic", "n_best_subjects"]].round(1)

# %% [markdown]
# ## The hybrid's parameters
# `w` is the share of model-based control in the first-stage choice (0: model-free, 1: model-based);
# `alpha1`, `alpha2` the learning rates, `lambda` the eligibility trace, `beta1` the inverse temperature.

# %%
fits = pd.concat({who: models["hybrid"].params_ for who, models in fitted.items()}, names=["data"])
fits[["alpha1", "alpha2", "lambda", "beta1", "perseveration", "w"]].round(3)

# %% [markdown]
# For the rats and for the agent alike, the purely model-free model is the worst by BIC: their choices
# depend on the transition structure, as in Miller et al. 2017 and Wang et al. 2018 Fig. 5. The agent
# learned to use that structure without ever being given it. How large `w` is varies between rats, and
# with how many trials are fitted; fit every trial (and every rat) before reading much into one value.

# %%
for who, table in summaries.items():
    assert table.index[-1] == "mf", f"{who}: model-free should fit worst, got order {list(table.index)}"
assert ((fits["w"] >= 0) & (fits["w"] <= 1)).all()
