"""neurometarl's batched A2C and PPO vs stable-baselines3-contrib RecurrentPPO on the correlated bandit, in one run.

    pip install -e ".[peers]"          # stable-baselines3, sb3-contrib, gymnasium (keep the CPU torch)
    python benchmarks/bench_peer_sb3.py [--sb3-budget 420] [--seeds 0 1 2] [--out results.json]
    python benchmarks/bench_peer_sb3.py --arms a2c-fast ppo      # neurometarl's arms only (no SB3 needed)

The protocol is ``bandit-correlated`` (p1 ~ U[0, 1], p2 = 1 − p1, 100 trials an episode). SB3 gets it as
a gymnasium env whose observation is what neurometarl's agent sees each step: the constant go cue, the
previous action one-hot and the previous reward. Every network is one 48-unit LSTM shared by a linear
policy head and a linear value head, trained with γ = 0.9 on one torch thread.

Arms (``--arms``; each runs once per seed in ``--seeds``):
* ``a2c``: neurometarl's default config (the paper's simulations; 128 episodes an update, whole-episode
  unrolls, RMSProp, 128,000 episodes, ``--episodes`` shortens it);
* ``a2c-fast``: A2C with more updates per sample (128 episodes a batch in 20-step truncated unrolls, so 5
  updates a batch, lr 3e-2, 64,000 episodes) and the sequence-level learning pass;
* ``ppo``: neurometarl's recurrent PPO (32 episodes a batch, 2 epochs × 2 minibatches of whole episodes,
  GAE λ 0.95, clip 0.2, otherwise A2C's defaults: RMSProp lr 1e-2 annealed, β_v 0.05, β_e 0.05 → 0;
  with RecurrentPPO's own settings, Adam lr 1e-3, β_v 0.5, β_e 0.01, it was slower: docs/training.md);
* ``custom``: the TrainConfig fields given as JSON by ``--custom`` (for tuning a fast config; tune on
  other seeds than those reported);
* ``sb3``: RecurrentPPO as tuned before (16 envs, 100-step rollouts, 4 epochs, lr 1e-3).

Measured for each: environment steps per second of training (evaluation excluded), and the training
wall time until the policy first reaches 0.70 mean reward per trial on the same 300 frozen test episodes
(``record_session``, seed 10000: the same episodes and reward draws for all; Bayes-optimal ≈ 0.74).
neurometarl's arms train once and their weight snapshots (``--snapshots``, evenly spaced) are tested
afterwards; SB3 is tested every ``--eval-every`` env steps, the clock paused, until it reaches 0.70 or its
``--sb3-budget`` of training seconds is spent (its time is then a lower bound, said so on the line).
For neurometarl's arms also: the final weights' frozen reward as a fraction of the Bayes-optimal player's
on the same episodes, and the expected regret at trial 100 on the (0.25, 0.75) problem (``bandit-fixed``,
300 episodes). Each figure is reported as the median and range over seeds; ratios use the medians.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from neurometarl.agents import AgentSubject, TrainConfig, evaluate, load_checkpoint, train
from neurometarl.analysis.bandits import expected_regret
from neurometarl.errors import ConfigError
from neurometarl.lab import record_session

TARGET, TEST_EPISODES, TEST_SEED, N_TRIALS = 0.70, 300, 10_000, 100

ARMS = {
    "a2c": {},
    "a2c-fast": {"batch_size": 128, "unroll": 20, "lr": 3e-2, "train_episodes": 64_000, "learning_pass": "sequence"},
    "ppo": {"algorithm": "ppo", "batch_size": 32, "train_episodes": 32_000, "lr": 1e-2, "n_epochs": 2, "n_minibatches": 2},
}


def correlated_bandit_env():
    """``bandit-correlated`` for gymnasium: obs = (go cue 1, previous action one-hot, previous reward)."""
    import gymnasium as gym

    class CorrelatedBanditEnv(gym.Env):
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

    return CorrelatedBanditEnv


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


def run_neurometarl(options: dict, seed: int, n_snapshots: int) -> dict:
    cfg = TrainConfig(task="bandit-correlated", seed=seed, eval_episodes=0, snapshots=n_snapshots, n_threads=1, **options)
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
    final = evaluate(result.agent, cfg, TEST_EPISODES, seed=TEST_SEED)
    fixed = record_session(AgentSubject(result.agent, cfg.gamma), "bandit-fixed", TEST_EPISODES, TEST_SEED)
    return {"env_steps": int(last.env_steps), "train_s": float(last.elapsed_s),
            "env_steps_per_s": float(last.env_steps / last.elapsed_s),
            "time_to_target_s": hit["train_s"] if hit else math.inf,
            "env_steps_to_target": hit["env_steps"] if hit else None,
            "best_test_reward": max(h["test_reward"] for h in history),
            "final_ratio_to_bayes_optimal": final["ratio_to_bayes_optimal"],
            "regret_at_trial_100": float(expected_regret(fixed).isel(trial=-1).mean()),
            "history": history}


def run_sb3(seed: int, budget_s: float, every: int, n_envs: int) -> dict:
    from sb3_contrib import RecurrentPPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

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

    env = make_vec_env(correlated_bandit_env(), n_envs=n_envs, seed=seed)
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


def summarise(runs: list[dict]) -> dict:
    """Median and range over seeds of every number the runs share (an unreached target counts as inf)."""
    number = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
    keys = [k for k in runs[0] if k != "seed" and all(number(r.get(k)) for r in runs)]
    return {k: {"median": statistics.median(r[k] for r in runs), "min": min(r[k] for r in runs),
                "max": max(r[k] for r in runs)} for k in keys}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arms", nargs="+", default=[*ARMS, "sb3"], choices=[*ARMS, "custom", "sb3"], help="arms to run")
    parser.add_argument("--custom", type=json.loads, default={}, metavar="JSON",
                        help='the custom arm\'s TrainConfig fields, e.g. \'{"batch_size": 64, "unroll": 20, "lr": 3e-2}\'')
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="one run of every arm per seed")
    parser.add_argument("--sb3-budget", type=float, default=600.0, help="training seconds SB3 may use")
    parser.add_argument("--eval-every", type=int, default=25_600, help="SB3 env steps between frozen tests")
    parser.add_argument("--n-envs", type=int, default=16, help="SB3 environments stepped per rollout")
    parser.add_argument("--snapshots", type=int, default=80, help="neurometarl weight snapshots tested after training")
    parser.add_argument("--episodes", type=int, default=TrainConfig.train_episodes, help="the a2c arm's training episodes")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)
    if "custom" in args.arms:
        try:
            TrainConfig(task="bandit-correlated", **args.custom)
        except (TypeError, ConfigError) as err:
            parser.error(f"--custom must be a JSON object of TrainConfig fields: {err}")
        if not args.custom:
            parser.error("the custom arm needs --custom '{...}' (TrainConfig fields as JSON)")
    torch.set_num_threads(1)

    runs: dict[str, list[dict]] = {}
    for arm in args.arms:
        for seed in args.seeds:
            print(f"{arm}, seed {seed} ...", flush=True)
            if arm == "sb3":
                run = run_sb3(seed, args.sb3_budget, args.eval_every, args.n_envs)
            else:
                arms = {**ARMS, "a2c": {"train_episodes": args.episodes, **ARMS["a2c"]}, "custom": args.custom}
                options = arms[arm]
                run = run_neurometarl(options, seed, args.snapshots)
            runs.setdefault(arm, []).append({"seed": seed, **run})
            print(f"  {run['env_steps_per_s']:,.0f} env steps/s; time to 0.70 {run['time_to_target_s']:.1f} s", flush=True)
    summary = {arm: summarise(r) for arm, r in runs.items()}

    print(f"\nmedian [range] over seeds {args.seeds}:")
    for arm, s in summary.items():
        line = (f"{arm:9} env steps/s {median_range(s['env_steps_per_s'], ',.0f')}; "
                f"time to 0.70 {median_range(s['time_to_target_s'], '.1f')} s")
        if "env_steps_to_target" in s:  # every seed reached 0.70; env steps do not depend on the machine's load
            line += f" ({median_range(s['env_steps_to_target'], ',.0f')} env steps)"
        if "final_ratio_to_bayes_optimal" in s:
            line += (f"; final / Bayes-optimal {median_range(s['final_ratio_to_bayes_optimal'], '.3f')}"
                     f"; regret at trial 100 on (0.25, 0.75) {median_range(s['regret_at_trial_100'], '.2f')}")
        print(line)
    ratios = {}
    if "sb3" in summary:
        peer = summary["sb3"]
        reached = not math.isinf(peer["time_to_target_s"]["median"])
        peer_time = peer["time_to_target_s" if reached else "train_s"]["median"]  # unreached: its budget, a lower bound
        for arm in summary.keys() - {"sb3"}:
            ours = summary[arm]
            ratios[arm] = {"throughput": ours["env_steps_per_s"]["median"] / peer["env_steps_per_s"]["median"],
                           "time_to_0.70": peer_time / ours["time_to_target_s"]["median"], "lower_bound": not reached}
            bound = "" if reached else " (lower bound: RecurrentPPO did not reach 0.70 in its budget)"
            print(f"{arm} / SB3: throughput {ratios[arm]['throughput']:.1f}x (target >= 150x), "
                  f"time to 0.70 {ratios[arm]['time_to_0.70']:.1f}x{bound} (target >= 30x)")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(finite({"runs": runs, "summary": summary, "ratios_to_sb3": ratios}), f, indent=2)


def median_range(stat: dict, spec: str) -> str:
    return f"{stat['median']:{spec}} [{stat['min']:{spec}}, {stat['max']:{spec}}]"


def finite(obj):
    """``obj`` with every infinite float (a target never reached) written as null, for JSON."""
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [finite(v) for v in obj]
    return None if isinstance(obj, float) and math.isinf(obj) else obj


if __name__ == "__main__":
    main()
