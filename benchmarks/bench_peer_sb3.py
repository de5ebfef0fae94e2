"""neurometarl's batched A2C vs stable-baselines3-contrib RecurrentPPO on the correlated bandit, in one run.

    pip install -e ".[peers]"          # stable-baselines3, sb3-contrib, gymnasium (keep the CPU torch)
    python benchmarks/bench_peer_sb3.py [--sb3-budget 600] [--out results.json]

The protocol is ``bandit-correlated`` (p1 ~ U[0, 1], p2 = 1 − p1, 100 trials an episode). SB3 gets it as
a gymnasium env whose observation is what neurometarl's agent sees each step: the constant go cue, the
previous action one-hot and the previous reward. Both networks are one 48-unit LSTM shared by a linear
policy head and a linear value head, trained with γ = 0.9 on one torch thread.

Measured for each: environment steps per second of training (evaluation excluded), and the training
wall time until the policy first reaches 0.70 mean reward per trial on the same 300 frozen test episodes
(``record_session``, seed 10000: the same episodes and reward draws for both; Bayes-optimal ≈ 0.74).
neurometarl trains its default config once (128,000 episodes; ``--episodes`` shortens the run, its
schedules annealing over the shorter run) and its weight snapshots are tested afterwards; SB3 is
tested every ``--eval-every`` env steps, the clock paused, until it reaches 0.70 or its
``--sb3-budget`` of training seconds is spent. If it never reaches 0.70, the time ratio printed is
a lower bound (budget / neurometarl's time), said so on the line.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from sb3_contrib import RecurrentPPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env

from neurometarl.agents import AgentSubject, TrainConfig, load_checkpoint, train
from neurometarl.lab import record_session

TARGET, TEST_EPISODES, TEST_SEED, N_TRIALS = 0.70, 300, 10_000, 100


class CorrelatedBanditEnv(gym.Env):
    """``bandit-correlated`` for gymnasium: obs = (go cue 1, previous action one-hot, previous reward)."""

    observation_space = gym.spaces.Box(0.0, 1.0, (4,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        p1 = self.np_random.uniform()
        self.probs, self.t = (p1, 1.0 - p1), 0
        return np.array([1, 0, 0, 0], np.float32), {}

    def step(self, action):
        reward = float(self.np_random.uniform() < self.probs[int(action)])
        self.t += 1
        obs = np.array([1, action == 0, action == 1, reward], np.float32)
        return obs, reward, self.t >= N_TRIALS, False, {}


class SB3Subject:
    """A RecurrentPPO policy as a lab subject, so it plays the frozen test episodes through ``record_session``."""

    name, gamma, unit_names = "sb3-recurrent-ppo", None, None

    def __init__(self, model):
        self.policy = model.policy

    def reset(self, task, generator):
        b = task.batch_size
        n_layers, _, n_units = self.policy.lstm_hidden_state_shape
        self.state = (torch.zeros(n_layers, b, n_units), torch.zeros(n_layers, b, n_units))
        self.start = torch.ones(b)
        self.prev_action, self.prev_reward = torch.zeros(b, 2), torch.zeros(b)

    @torch.no_grad()
    def act(self, obs, info):
        x = torch.cat([obs, self.prev_action, self.prev_reward[:, None]], 1)
        distribution, self.state = self.policy.get_distribution(x, self.state, self.start)
        self.start = torch.zeros_like(self.start)
        return {"policy": distribution.distribution.probs}

    def observe(self, action, reward, info):
        self.prev_action, self.prev_reward = torch.nn.functional.one_hot(action, 2).float(), reward

    def describe(self):
        return {"name": self.name}


def frozen_test(subject) -> float:
    """Mean reward per trial on the shared frozen test episodes."""
    return float(record_session(subject, "bandit-correlated", TEST_EPISODES, TEST_SEED).reward.mean())


class EvaluateEvery(BaseCallback):
    """Test the policy every ``every`` env steps with the clock paused; stop at the target or the budget."""

    def __init__(self, every: int, budget_s: float):
        super().__init__()
        self.every, self.budget_s, self.history = every, budget_s, []

    def _on_training_start(self):
        self.started, self.paused, self.next_at = time.perf_counter(), 0.0, self.every

    def train_s(self) -> float:
        return time.perf_counter() - self.started - self.paused

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next_at:
            self.next_at += self.every
            elapsed, t0 = self.train_s(), time.perf_counter()
            score = frozen_test(SB3Subject(self.model))
            self.paused += time.perf_counter() - t0
            self.history.append({"env_steps": self.num_timesteps, "train_s": round(elapsed, 2), "test_reward": round(score, 4)})
            print(f"  sb3 {self.num_timesteps:>9,} steps {elapsed:7.1f} s: test reward/trial {score:.4f}", flush=True)
            if score >= TARGET:
                return False
        return self.train_s() < self.budget_s


def run_neurometarl(seed: int, n_snapshots: int, episodes: int) -> dict:
    cfg = TrainConfig(task="bandit-correlated", seed=seed, train_episodes=episodes, eval_episodes=0,
                      snapshots=n_snapshots, n_threads=1)
    with tempfile.TemporaryDirectory() as tmp:
        result = train(cfg, tmp, progress=False)
        history = []
        for path in sorted(Path(tmp, "snapshots").glob("*.pt")):
            ckpt = load_checkpoint(path)
            score = frozen_test(AgentSubject(ckpt.agent, cfg.gamma))
            row = ckpt.metrics[-1]
            history.append({"env_steps": int(row["env_steps"]), "train_s": float(row["elapsed_s"]), "test_reward": round(score, 4)})
    last = result.metrics.iloc[-1]
    hit = next((h for h in history if h["test_reward"] >= TARGET), None)
    return {"env_steps": int(last.env_steps), "train_s": float(last.elapsed_s),
            "env_steps_per_s": float(last.env_steps / last.elapsed_s),
            "time_to_target_s": hit["train_s"] if hit else math.inf,
            "best_test_reward": max(h["test_reward"] for h in history), "history": history}


def run_sb3(seed: int, budget_s: float, every: int, n_envs: int) -> dict:
    env = make_vec_env(CorrelatedBanditEnv, n_envs=n_envs, seed=seed)
    model = RecurrentPPO("MlpLstmPolicy", env, n_steps=N_TRIALS, batch_size=n_envs * N_TRIALS // 4, n_epochs=4,
                         learning_rate=1e-3, gamma=0.9, gae_lambda=0.95, ent_coef=0.01, seed=seed, device="cpu",
                         policy_kwargs={"lstm_hidden_size": 48, "n_lstm_layers": 1, "shared_lstm": True,
                                        "enable_critic_lstm": False, "net_arch": []})
    callback = EvaluateEvery(every, budget_s)
    model.learn(total_timesteps=10**10, callback=callback)
    steps, train_s = model.num_timesteps, callback.train_s()
    hit = next((h for h in callback.history if h["test_reward"] >= TARGET), None)
    return {"env_steps": int(steps), "train_s": round(train_s, 1), "env_steps_per_s": steps / train_s,
            "time_to_target_s": hit["train_s"] if hit else math.inf,
            "best_test_reward": max((h["test_reward"] for h in callback.history), default=float("nan")),
            "history": callback.history, "budget_s": budget_s, "n_envs": n_envs}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sb3-budget", type=float, default=600.0, help="training seconds SB3 may use")
    parser.add_argument("--eval-every", type=int, default=25_600, help="SB3 env steps between frozen tests")
    parser.add_argument("--n-envs", type=int, default=16, help="SB3 environments stepped per rollout")
    parser.add_argument("--snapshots", type=int, default=40, help="neurometarl weight snapshots tested after training")
    parser.add_argument("--episodes", type=int, default=TrainConfig.train_episodes, help="neurometarl training episodes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    print(f"neurometarl A2C ({args.episodes:,} training episodes, otherwise the default config) ...", flush=True)
    ours = run_neurometarl(args.seed, args.snapshots, args.episodes)
    print(f"RecurrentPPO (budget {args.sb3_budget:.0f} s) ...", flush=True)
    peer = run_sb3(args.seed, args.sb3_budget, args.eval_every, args.n_envs)

    throughput = ours["env_steps_per_s"] / peer["env_steps_per_s"]
    if math.isinf(ours["time_to_target_s"]):
        speed = "neurometarl did not reach 0.70"
    elif math.isinf(peer["time_to_target_s"]):
        speed = (f">= {peer['train_s'] / ours['time_to_target_s']:.1f}x (lower bound: RecurrentPPO did not reach "
                 f"{TARGET} in {peer['train_s']:.0f} s of training; best {peer['best_test_reward']:.4f})")
    else:
        speed = f"{peer['time_to_target_s'] / ours['time_to_target_s']:.1f}x"
    fmt = lambda t: "not reached" if math.isinf(t) else f"{t:.1f} s"
    print(f"\n{'':22}{'env steps/s':>12}{'time to 0.70':>15}{'trained':>10}{'env steps':>14}{'best test':>11}")
    for label, r in (("neurometarl A2C", ours), ("SB3 RecurrentPPO", peer)):
        print(f"{label:22}{r['env_steps_per_s']:>12,.0f}{fmt(r['time_to_target_s']):>15}{r['train_s']:>9.1f}s"
              f"{r['env_steps']:>14,}{r['best_test_reward']:>11.4f}")
    print(f"throughput ratio (neurometarl / SB3): {throughput:.1f}x (target >= 100x)")
    print(f"time-to-0.70 ratio (SB3 / neurometarl): {speed} (target >= 20x)")
    if args.out:
        clean = lambda r: {k: (None if isinstance(v, float) and math.isinf(v) else v) for k, v in r.items()}
        with open(args.out, "w") as f:
            json.dump({"neurometarl": clean(ours), "sb3_recurrent_ppo": clean(peer),
                       "throughput_ratio": throughput, "time_to_0.70_ratio": speed}, f, indent=2)


if __name__ == "__main__":
    main()
