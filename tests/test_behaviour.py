"""Descriptive behaviour analyses: the rat data's published numbers, statsmodels oracles for the lagged
regressions, the matching law and the sliding-window learning rate."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from neurometarl.analysis.behaviour import (
    STAY_KEYS, lau_glimcher_regression, matching_law, plot_lag_regression, plot_stay_probabilities,
    sliding_window_learning_rate, stay_probabilities, stay_regression, stay_summary, twostep_lag_regression,
)
from neurometarl.data import load_rat_twostep, recording_to_table, validate_table
from neurometarl.models import make_model


@pytest.fixture(scope="module")
def rats():
    return load_rat_twostep()


@pytest.mark.dataset('rat-twostep')
def test_rat_stay_probabilities_reproduce_the_card(rats):
    summary = stay_summary(stay_probabilities(rats))
    card = {"common_rewarded": 0.861, "rare_rewarded": 0.465, "common_unrewarded": 0.458, "rare_unrewarded": 0.863}
    for key, value in card.items():
        assert summary[key] == pytest.approx(value, abs=0.005), key
    assert list(summary)[:6] == [*STAY_KEYS, "mb_index", "mf_index"]
    assert summary["mb_index"] > 0.35 and abs(summary["mf_index"]) < 0.05  # almost purely model-based


@pytest.mark.dataset('rat-twostep')
def test_rat_lag_regression_matches_the_spec(rats):
    ds = twostep_lag_regression(rats, n_lags=5)
    lag1 = ds["coef"].sel(lag=1).mean("subject")
    spec = {"CR": 1.57, "CO": -0.63, "RR": -0.59, "RO": 1.85}
    for k, v in spec.items():
        assert float(lag1.sel(trial_type=k)) == pytest.approx(v, abs=0.05), k
    # later lags are dominated by perseveration: on average positive
    assert float(ds["coef"].sel(lag=slice(2, 5)).mean()) > 0.1
    reg = stay_regression(rats)
    assert (reg["coef"].sel(term="reward_x_transition") > 0.5).all() and (reg["se"] > 0).all()


def small_twostep(seed=0, n_subjects=3):
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_subjects):
        for sess in range(2):
            for t in range(120):
                rows.append({"subject": s, "session": sess, "trial": t, "choice": int(rng.random() < 0.45),
                             "reward": float(rng.random() < 0.5), "transition": int(rng.random() < 0.8),
                             "forced": int(rng.random() < 0.05), "violation": int(rng.random() < 0.02)})
    df = pd.DataFrame(rows)
    # make choices depend on the past so coefficients are not all zero: repeat after common-rewarded trials
    for i in range(1, len(df)):
        if df.loc[i - 1, "transition"] == 1 and df.loc[i - 1, "reward"] == 1 and rng.random() < 0.5:
            df.loc[i, "choice"] = df.loc[i - 1, "choice"]
    return df


def slow_design(df, n_lags, kind):
    """The lagged design built row by row from the definitions, for the oracle."""
    df = validate_table(df).reset_index(drop=True)
    X, y, subj = [], [], []
    for i, row in df.iterrows():
        if row["violation"] == 1 or row["forced"] == 1:
            continue
        feats = []
        groups = ("CR", "CO", "RR", "RO") if kind == "twostep" else ("reward", "choice")
        for g in groups:
            for lag in range(1, n_lags + 1):
                j = i - lag
                v = 0.0
                if j >= 0 and df.loc[j, "subject"] == row["subject"] and df.loc[j, "session"] == row["session"] and df.loc[j, "violation"] == 0:
                    p = df.loc[j]
                    if kind == "twostep":
                        t = ("C" if p["transition"] == 1 else "R") + ("R" if p["reward"] > 0 else "O")
                        v = (1.0 if p["choice"] == 0 else -1.0) if t == g else 0.0
                    elif g == "reward":
                        v = (1.0 if p["choice"] == 1 else -1.0) if p["reward"] > 0 else 0.0
                    else:
                        v = 1.0 if p["choice"] == 1 else -1.0
                feats.append(v)
        X.append([1.0] + feats)
        y.append(float(row["choice"] == 0) if kind == "twostep" else float(row["choice"] == 1))
        subj.append(row["subject"])
    return np.array(X), np.array(y), np.array(subj)


def test_twostep_lag_regression_matches_statsmodels_oracle():
    df = small_twostep()
    ds = twostep_lag_regression(df, n_lags=3)
    X, y, subj = slow_design(df, 3, "twostep")
    for s in ds["subject"].values:
        fit = sm.Logit(y[subj == s], X[subj == s]).fit(disp=0)
        np.testing.assert_allclose(ds["bias"].sel(subject=s), fit.params[0], rtol=1e-6)
        np.testing.assert_allclose(ds["coef"].sel(subject=s).values.ravel(), fit.params[1:], rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(ds["se"].sel(subject=s).values.ravel(), fit.bse[1:], rtol=1e-6)


def test_lau_glimcher_regression_matches_statsmodels_oracle():
    df = small_twostep(seed=1).drop(columns="transition")
    ds = lau_glimcher_regression(df, n_lags=4, start_fraction=0.0)
    X, y, subj = slow_design(df, 4, "bandit")
    for s in ds["subject"].values:
        fit = sm.Logit(y[subj == s], X[subj == s]).fit(disp=0)
        np.testing.assert_allclose(ds["coef"].sel(subject=s, regressor=["reward", "choice"]).values.ravel(), fit.params[1:], rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(ds["bias_se"].sel(subject=s), fit.bse[0], rtol=1e-6)


def test_rewarded_and_unrewarded_choice_kernels_match_statsmodels_oracle():
    """The rewarded-/unrewarded-choice kernels: a statsmodels Logit on a design built trial by trial,
    and the identity with the reward/choice parameterisation (rewarded = reward + choice kernel,
    unrewarded = choice kernel)."""
    df = small_twostep(seed=3).drop(columns="transition")
    n_lags = 3
    ds = lau_glimcher_regression(df, n_lags=n_lags, start_fraction=0.0)
    for s in ds["subject"].values:
        g = validate_table(df).reset_index(drop=True)
        g = g[g["subject"] == s].reset_index(drop=True)
        rows, y = [], []
        for t in range(len(g)):
            if g.loc[t, "violation"] == 1 or g.loc[t, "forced"] == 1:
                continue
            x = [1.0]
            for kind in ("rewarded", "unrewarded"):
                for lag in range(1, n_lags + 1):
                    k = t - lag
                    if k < 0 or g.loc[k, "session"] != g.loc[t, "session"] or g.loc[k, "violation"] == 1:
                        x.append(0.0)
                        continue
                    sign = 1.0 if g.loc[k, "choice"] == 1 else -1.0
                    won = g.loc[k, "reward"] > 0
                    x.append(sign if won == (kind == "rewarded") else 0.0)
            rows.append(x)
            y.append(float(g.loc[t, "choice"] == 1))
        fit = sm.Logit(np.array(y), np.array(rows)).fit(disp=0)
        got = ds.sel(subject=s, regressor=["rewarded_choice", "unrewarded_choice"])
        np.testing.assert_allclose(got["coef"].values.ravel(), fit.params[1:], rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(got["se"].values.ravel(), fit.bse[1:], rtol=1e-5)
        c = ds["coef"].sel(subject=s)
        np.testing.assert_allclose(c.sel(regressor="rewarded_choice"), c.sel(regressor="reward") + c.sel(regressor="choice"), atol=1e-6)
        np.testing.assert_allclose(c.sel(regressor="unrewarded_choice"), c.sel(regressor="choice"), atol=1e-6)


def test_lau_glimcher_on_a_learner_weights_recent_rewards_most():
    model = make_model("rw")
    ds = model.simulate("bandit-restless", params={"alpha": [0.5] * 4, "beta": [6.0] * 4}, n_episodes=10, seed=0, n_trials=150, drift_sd=0.1)
    res = lau_glimcher_regression(ds, n_lags=6)
    w = res["coef"].sel(regressor="reward").mean("subject").values
    assert w[0] > 1.0 and w[0] > w[1] > w[3] and abs(w[5]) < 0.5 * w[0]


def test_matching_law_matches_ols_on_its_points():
    rng = np.random.default_rng(2)
    rows = []
    for sess in range(12):
        p_right = rng.uniform(0.2, 0.8)
        for t in range(100):
            c = int(rng.random() < p_right)
            rows.append({"subject": "a", "session": sess, "trial": t, "choice": c, "reward": float(rng.random() < (0.6 if c else 0.3))})
    rows.append({"subject": "a", "session": 99, "trial": 0, "choice": 1, "reward": 1.0})  # no left choices: excluded
    res = matching_law(pd.DataFrame(rows))
    fit = sm.OLS(res["log_choice_ratio"].values, sm.add_constant(res["log_reward_ratio"].values)).fit()
    assert float(res["sensitivity"][0]) == pytest.approx(fit.params[1]) and float(res["bias_se"][0]) == pytest.approx(fit.bse[0])
    assert int(res["n_sessions"][0]) == 12 and int(res["n_excluded"][0]) == 1
    assert 0 < float(res["sensitivity"][0]) < 1.5


def test_sliding_window_recovers_a_fixed_rate_learner():
    """Spec Sim 2 (c): a fixed-rate RW agent must be recovered without bias in every window."""
    model = make_model("behrens")
    ds = model.simulate("twostep", params={"alpha": [0.3], "beta": [6.0]}, n_episodes=300, seed=0, n_trials=60,
                        common_prob=1.0, reward_levels=(0.8, 0.2), switch_prob=0.05, stage2_response="any")
    table = recording_to_table(ds).drop(columns=["transition", "state2"])
    res = sliding_window_learning_rate(table, window=10, step=10, model=make_model("behrens", n_starts=2))
    alpha = res["alpha"].sel(subject=0).values
    assert len(alpha) == 6
    assert np.all(np.abs(alpha - 0.3) < 0.08) and abs(alpha.mean() - 0.3) < 0.03


@pytest.mark.dataset('rat-twostep')
def test_plots_return_axes(rats):
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2)
    assert plot_stay_probabilities(stay_probabilities(rats), ax=a) is a
    assert plot_lag_regression(twostep_lag_regression(small_twostep(), n_lags=3), ax=b) is b
    assert a.get_ylabel() == "P(repeat first-stage choice)"
    plt.close(fig)


def test_a_separated_subject_is_flagged_said_once_and_left_out_of_group_means(recwarn):
    """A subject who always repeats a rewarded choice and switches after no reward is perfectly predicted
    by the lag-1 regressors: its logistic fit diverges, so it is flagged (converged False), warned about
    once, keeps its (diverging) coefficients, and group means come from the others (before, such a
    subject put ±20–40 log-odds into the hBayesDM bandit's group kernels)."""
    from neurometarl.analysis.behaviour import group_coef, lag_table

    df = small_twostep(seed=1).drop(columns="transition")
    g = df[df["subject"] == df["subject"].iloc[0]].reset_index(drop=True)
    choice, reward = [0], np.random.default_rng(0).integers(0, 2, len(g))
    for t in range(1, len(g)):
        same_session = g.loc[t, "session"] == g.loc[t - 1, "session"]
        choice.append(choice[-1] if (reward[t - 1] and same_session) else 1 - choice[-1])
    separated = g.assign(choice=choice, reward=reward, subject="win-stay-lose-shift")
    ds = lau_glimcher_regression(pd.concat([df, separated], ignore_index=True), n_lags=2, start_fraction=0.0)
    failed = [w for w in recwarn if "did not converge" in str(w.message)]
    assert len(failed) == 1 and "for 1 of" in str(failed[0].message)
    assert not ds["converged"].sel(subject="win-stay-lose-shift") and ds["converged"].sum() == ds.sizes["subject"] - 1
    assert ds["coef"].sel(subject="win-stay-lose-shift", regressor="reward", lag=1) > 5  # diverging, right sign
    others = lau_glimcher_regression(df, n_lags=2, start_fraction=0.0)
    np.testing.assert_allclose(group_coef(ds).mean("subject"), others["coef"].mean("subject"))
    mean = lag_table(ds).query("subject == 'mean'")["coef"].to_numpy()
    np.testing.assert_allclose(mean, lag_table(others).query("subject == 'mean'")["coef"].to_numpy())
