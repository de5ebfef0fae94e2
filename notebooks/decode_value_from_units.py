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
# # Decode value from units
#
# A meta-RL agent trained on two-armed bandits whose reward probabilities are correlated
# (p_right = 1 − p_left, p_left drawn anew every episode; Wang et al. 2018 Fig. 1) learns, with its weights
# frozen, which arm is better within each episode. Where does that knowledge live? We record its 48 LSTM
# units on frozen test episodes and ask, as one would of a population of recorded neurons, what a
# **cross-validated linear decoder** can read out of them: the agent's own value estimate, the Bayesian
# observer's belief about the arms, and the true reward probability that the agent never sees.

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

import neurometarl
from neurometarl.agents import AgentSubject
from neurometarl.analysis import decode
from neurometarl.analysis.observers import observer_values
from neurometarl.figures.units import plot_decoding
from neurometarl.lab import record_session

torch.set_num_threads(1)
ROOT = Path(neurometarl.__file__).resolve().parents[1]  # the repository: datasets/ ships the checkpoints
agent = AgentSubject.from_checkpoint(ROOT / "datasets/checkpoints/fig1/correlated/seed0")

# %% [markdown]
# ## The session
# 200 new test episodes of 100 trials (seed 1; p_left drawn afresh in each), weights frozen. On a
# bandit each trial is one step, so `hidden` is `(episode, step, unit)` with step = trial; the units at
# trial *t* have seen the choices and rewards of trials 0 … t−1, not yet trial *t*'s.

# %%
ds = record_session(agent, "bandit-correlated", n_episodes=200, seed=1, progress=False)
print(ds[["hidden", "value", "reward_prob"]])
print(f"reward per trial {float(ds.reward.mean()):.3f}")

# %% [markdown]
# ## Three targets
# - `value`: the agent's own critic estimate V(s) (step-level, read at the choice period);
# - `belief`: what an ideal observer of this task distribution expects the left arm to pay, given the
#   choices and rewards of the episode so far (`observer_values`, the posterior the Bayes-optimal player
#   uses); it is passed to `decode` as a caller latent;
# - `reward_prob[left]`: the true reward probability of the left arm, hidden from the agent.
#
# The belief is 0.5 for every episode on trial 0, so trial 0 is left out.

# %%
belief = observer_values(ds, "correlated").sel(arm="left")
latents = {"belief": belief}
targets = ["value", "belief", "reward_prob[left]"]

# %% [markdown]
# ## Cross-validated decoding, pooled over trials
# `decode` fits `StandardScaler → Ridge` (R²) on 4/5 of the episodes and scores it on the held-out
# fifth: folds are grouped by episode, so no episode is in both the training and the test set. Chance
# is measured, not assumed: the same decoder is fitted to labels shuffled across whole episodes
# (`shuffle="episode"`, which keeps each episode's time course of the label intact), 20 times.

# %%
pooled = {t: decode(ds, t, latents=latents, period="choice", trials=slice(1, None), n_shuffles=20, random_state=0)
          for t in targets}
for t, r in pooled.items():
    print(f"{t:18s} R² {float(r.score_mean):.3f} (folds {np.round(r.score.values, 3)}); "
          f"chance {float(r.chance):.3f}; shuffle p = {float(r.p_value):.3f}; {int(r.n_samples)} samples")

# %% [markdown]
# - `value` is decoded perfectly: the critic is itself a linear read-out of the units, so this is a
#   positive control. Its chance level is far above 0 because the value falls over the last ~30 trials
#   as the remaining trials run out, and an episode shuffle keeps that time course: units that track
#   time predict even shuffled values. This is why chance must be measured with the right shuffle.
# - The observer's `belief` is decoded almost perfectly, and better than the true probability: the
#   units hold what can be inferred from the evidence so far, not the hidden truth.
# - With 20 shuffles the smallest possible p-value is 1/21 ≈ 0.048.

# %%
assert pooled["value"].score_mean > 0.99
assert pooled["belief"].score_mean > pooled["reward_prob[left]"].score_mean > pooled["reward_prob[left]"].chance + 0.5
assert all(float(r.p_value) < 0.05 for r in pooled.values())

# %% [markdown]
# ## Decoding over trials
# With `by="step"` one decoder is fitted per trial, episodes as samples (same episode folds for every
# trial). The belief is readable from the first trials on; the true probability becomes readable as the
# evidence about it accumulates.

# %%
over_trials = {t: decode(ds, t, latents=latents, by="step", trials=slice(1, None), n_shuffles=20, random_state=0)
               for t in ("belief", "reward_prob[left]")}

fig, (ax_pooled, ax_trials) = plt.subplots(1, 2, figsize=(9, 3.2), gridspec_kw={"width_ratios": [1, 2]})
x = np.arange(len(targets))
ax_pooled.bar(x, [float(pooled[t].score_mean) for t in targets], color="C0", alpha=0.7, label="units")
for i, t in enumerate(targets):
    ax_pooled.scatter(np.full(pooled[t].sizes["fold"], i), pooled[t].score, color="k", s=8, zorder=3)
    null = pooled[t].null_score
    ax_pooled.plot([i - 0.4, i + 0.4], [float(null.max())] * 2, color="0.3", ls="--", lw=1.2)
ax_pooled.set_xticks(x, ["value", "belief", "true p_left"])
ax_pooled.set_ylabel("cross-validated R²")
ax_pooled.set_ylim(min(-0.2, ax_pooled.get_ylim()[0]), 1.05)
ax_pooled.axhline(0, color="k", lw=0.5)
ax_pooled.set_title("pooled over trials 1–99\n(dashes: best of 20 label shuffles)", fontsize=9)
for (t, r), color, label in zip(over_trials.items(), ("C0", "C1"), ("observer's belief", "true p_left")):
    plot_decoding(r, ax=ax_trials, color=color, label=label)
ax_trials.set_xlabel("trial")
ax_trials.set_ylim(-0.5, 1.05)  # a few shuffles on single trials dip far below 0
ax_trials.set_title("one decoder per trial", fontsize=9)
handles, labels = ax_trials.get_legend_handles_labels()
unique = dict(zip(labels, handles))
ax_trials.legend(unique.values(), unique.keys(), frameon=False, fontsize=7, loc="center right")
fig.tight_layout()
plt.show()

# %%
belief_r2, truth_r2 = (over_trials[t].score_mean.to_series() for t in ("belief", "reward_prob[left]"))
print(f"true p_left: R² {truth_r2.iloc[0]:.2f} on trial 1, {truth_r2.iloc[9]:.2f} on trial 10, "
      f"{truth_r2.iloc[-1]:.2f} on trial 99; belief: {belief_r2.min():.2f} at its lowest")
assert truth_r2.iloc[-10:].mean() > truth_r2.iloc[:3].mean() + 0.3, "the truth becomes readable with evidence"
