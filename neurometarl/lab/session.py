"""Run a subject on a protocol with weights frozen and record the session as an ``xarray.Dataset``."""

from __future__ import annotations

import json
import os

import numpy as np
import torch
import xarray as xr

from ..errors import ConfigError
from ..progress import progress_bar
from ..seeding import make_generator
from ..tasks import Task, make_task, task_config
from .schema import SCHEMA_VERSION, flag_attrs, provenance, step_coords
from .subject import Subject


def sample_actions(policy: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One action per row of ``policy`` (batch, n_actions), drawn with ``generator``."""
    u = torch.rand(policy.shape[0], 1, generator=generator, device=generator.device).to(policy.device)
    return (policy.cumsum(1) < u).sum(1).clamp(max=policy.shape[1] - 1)


@torch.no_grad()
def _run_batch(subject: Subject, task: Task, generator: torch.Generator) -> dict[str, np.ndarray]:
    obs, info = task.reset(generator)
    subject.reset(task, generator)
    steps: dict[str, list] = {}
    for _ in range(task.n_steps):
        record = subject.act(obs, info)
        action = sample_actions(record["policy"], generator)
        next_obs, reward, _, next_info = task.step(action)
        extra = subject.observe(action, reward, info) or {}
        out = {**record, **extra, "action": action, "step_reward": reward}
        out.update({name: info[name] for name in task.latents})
        for key, value in out.items():
            steps.setdefault(key, []).append(value.detach().float().cpu())
        obs, info = next_obs, next_info
    return {key: torch.stack(values, 1).numpy() for key, values in steps.items()}  # (batch, step, ...)


def _check_size(n_episodes: int, task, n_units: int) -> None:
    """Refuse a recording that would not fit in half of this machine's memory, before it starts."""
    per_step = 4 * (2 * n_units + 2 * task.n_actions + 8)  # hidden + cell, policy, and the per-step scalars (bytes)
    need = n_episodes * task.n_steps * per_step
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if need > memory / 2:
        raise ConfigError(f"{n_episodes:,} episodes of {task.name} would need about {need / 1e9:,.1f} GB in memory "
                          f"(this machine has {memory / 1e9:.0f} GB); record at most {int(memory / 2 / need * n_episodes):,} "
                          "episodes at a time (several recordings with different seeds)")


def record_session(
    subject: Subject,
    task: str | Task,
    n_episodes: int,
    seed: int = 0,
    *,
    batch_size: int = 500,
    device: str = "cpu",
    progress: bool | None = None,
    **attrs,
) -> xr.Dataset:
    """Play ``n_episodes`` test episodes of ``task`` with ``subject`` (weights frozen) and record them.

    Parameters
    ----------
    subject : a trained agent (``neurometarl.agents.AgentSubject``) or a baseline model.
    task : a task name (see ``neurometarl tasks``) or a built task (its name and config are used).
    n_episodes : number of episodes to record; run in batches of ``batch_size``.
    seed : one seed for every random draw (task and choices): same seed, same recording.
    progress : a bar per session: ``None`` on a terminal only (see :mod:`neurometarl.progress`),
        ``True`` always, ``False`` never.

    Returns
    -------
    xarray.Dataset with dims ``episode``, ``trial``, ``step``, ``action``, and ``unit`` when the subject
    has units; see :mod:`neurometarl.lab.schema` for the variables.
    """
    if n_episodes < 1:
        raise ConfigError(f"n_episodes must be >= 1, got {n_episodes}")
    name, config = (task, task_config(task)) if isinstance(task, str) else (task.name, task.config)
    probe = make_task(name, 1, device, config=config)
    if hasattr(subject, "check_task"):  # a network trained on other observations fails here, not mid-session
        subject.check_task(probe)
    _check_size(n_episodes, probe, len(getattr(subject, "unit_names", None) or ()))
    attrs = {**getattr(subject, "recording_attrs", {}), **attrs}  # e.g. a perturbed subject's perturbations
    generator = make_generator(seed, device)
    chunks = []
    with progress_bar(total=n_episodes, desc=f"record {name}", unit="ep", show=progress) as bar:
        for start in range(0, n_episodes, batch_size):
            built = make_task(name, min(batch_size, n_episodes - start), device, config=config)
            chunks.append(_run_batch(subject, built, generator))
            bar.update(built.batch_size)
    arrays = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    return _to_dataset(arrays, subject, built, seed, attrs)


def compute_rpe(value: np.ndarray, reward: np.ndarray, gamma: float) -> np.ndarray:
    """δ_t = r_t + γ·V_{t+1} − V_t along the last axis (steps), with V = 0 after the final step."""
    next_value = np.concatenate([value[..., 1:], np.zeros_like(value[..., :1])], axis=-1)
    return reward + gamma * next_value - value


def _to_dataset(a: dict[str, np.ndarray], subject: Subject, task: Task, seed: int, attrs: dict) -> xr.Dataset:
    n_episodes, n_steps = a["action"].shape
    spt, n_trials = task.steps_per_trial, task.n_trials
    choice_step = task.period_names.index(task.choice_period)
    at_choice = slice(choice_step, None, spt)
    ES, ET = ("episode", "step"), ("episode", "trial")

    value = a.get("value", np.full((n_episodes, n_steps), np.nan, np.float32))
    if "rpe" in a:
        rpe = a["rpe"]
    elif subject.gamma is not None:
        rpe = compute_rpe(value, a["step_reward"], subject.gamma)
    else:
        rpe = np.full_like(value, np.nan)

    data = {
        "choice": (ET, a["action"][:, at_choice].astype(np.int8),
                   {"long_name": "choice", "units": "1", **flag_attrs(task.action_names)}),
        "reward": (ET, a["step_reward"].reshape(n_episodes, n_trials, spt).sum(-1),
                   {"long_name": "reward earned in the trial", "units": "reward"}),
        "step_action": (ES, a["action"].astype(np.int8), {"long_name": "action at each step", "units": "1", **flag_attrs(task.action_names)}),
        "step_reward": (ES, a["step_reward"], {"long_name": "reward after the step's action", "units": "reward"}),
        "policy": ((*ES, "action"), a["policy"], {"long_name": "action probabilities", "units": "1"}),
        "value": (ES, value, {"long_name": "state value V_t", "units": "reward"}),
        "rpe": (ES, rpe.astype(np.float32), {"long_name": "reward prediction error δ_t = r_t + γ·V_{t+1} − V_t", "units": "reward"}),
    }
    for name in ("hidden", "cell"):
        if name in a:
            data[name] = ((*ES, "unit"), a[name], {"long_name": f"recorded {name} state" if name == "cell" else "unit activity", "units": "a.u."})
    for name, var in task.latents.items():
        data[name] = ((*ET, *var.dims), a[name][:, at_choice], {"long_name": var.long_name, "units": var.units})

    coords = {
        "episode": np.arange(n_episodes),
        "trial": np.arange(n_trials),
        **step_coords(n_trials, task.period_names),
        "action": list(task.action_names),
        **{dim: list(labels) for dim, labels in task.latent_coords.items()},
    }
    if subject.unit_names:
        coords["unit"] = list(subject.unit_names)
    ds = xr.Dataset(data, coords=coords)
    ds.attrs = provenance(
        task=task.name,
        task_config=task.config.to_json(),
        subject=subject.name,
        subject_config=json.dumps(subject.describe(), sort_keys=True),
        seed=int(seed),
        gamma=float("nan") if subject.gamma is None else float(subject.gamma),
        schema_version=SCHEMA_VERSION,
        **attrs,
    )
    return ds
