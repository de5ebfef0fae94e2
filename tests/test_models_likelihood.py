"""Oracle tests: every model's batched torch likelihood equals a slow pure-Python reference, trial by
trial, on tables with several subjects, sessions (values reset), forced trials (learned from, not
scored) and violations (skipped)."""

import math

import numpy as np
import pandas as pd
import pytest

from neurometarl.models import make_model


def random_table(kind="bandit", n_subjects=3, n_sessions=2, n_trials=25, seed=0, choice2=False, magnitudes=False):
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_subjects):
        for sess in range(n_sessions):
            for t in range(n_trials):
                row = {"subject": f"s{s}", "session": sess, "trial": t, "choice": int(rng.integers(2)),
                       "reward": float(rng.random() < 0.5), "forced": int(rng.random() < 0.1), "violation": 0}
                if kind == "twostep":
                    row["transition"] = int(rng.random() < 0.7)
                    if choice2:
                        row["choice2"] = int(rng.integers(2))
                if magnitudes:
                    row["magnitude_left"], row["magnitude_right"] = rng.uniform(0.1, 1.0, 2)
                    row["reward"] *= row["magnitude_left"] if row["choice"] == 0 else row["magnitude_right"]
                rows.append(row)
    df = pd.DataFrame(rows)
    df.loc[[7, 40], "violation"] = 1  # aborted trials: their choice/reward are not even valid
    df.loc[[7, 40], "choice"] = -1
    df.loc[[7, 40], "reward"] = np.nan
    return df


def softmax2(a, b):
    m = max(a, b)
    ea, eb = math.exp(a - m), math.exp(b - m)
    return ea / (ea + eb), eb / (ea + eb)


def sessions(df):
    for _, g in df.sort_values(["subject", "session", "trial"]).groupby(["subject", "session"], sort=False):
        yield g


def reference(df, init, policy, update, policy2=None):
    """Walk every session trial by trial. Returns P(choice=1) per row (NaN on violations) and the total
    log-likelihood of scored choices (first stage, plus second stage when ``policy2`` is given)."""
    p_right = pd.Series(np.nan, index=df.index)
    total = 0.0
    for g in sessions(df):
        state = init()
        for i, row in g.iterrows():
            if row["violation"] == 1:
                continue
            p0, p1 = policy(state, row)
            p_right[i] = p1
            c = int(row["choice"])
            if row["forced"] == 0:
                total += math.log(p1 if c == 1 else p0)
            if policy2 is not None:
                q0, q1 = policy2(state, row)
                total += math.log(q1 if int(row["choice2"]) == 1 else q0)
            state = update(state, row)
    return p_right, total


def check(model, df, params, p_right, total):
    ours = model.predict_proba(df, params=params)
    table = model._table(df)
    expected = p_right.loc[table.index].to_numpy()
    np.testing.assert_allclose(ours[:, 1], expected, rtol=1e-10, atol=1e-12, equal_nan=True)
    assert model.loglik_per_subject(df, params=params).sum() == pytest.approx(total, rel=1e-10)


@pytest.mark.parametrize("options", [{}, {"asymmetric": True}, {"forgetting": True}, {"perseveration": True}, {"lapse": True},
                                     {"asymmetric": True, "forgetting": True, "perseveration": True, "lapse": True}])
def test_q_learning_matches_reference(options):
    df = random_table()
    params = {"alpha": 0.3, "alpha_pos": 0.4, "alpha_neg": 0.15, "beta": 3.5, "forget": 0.2, "kappa": 0.7, "tau": 0.4, "lapse": 0.08}
    model = make_model("rw", **options)
    q0 = 0.5

    def init():
        return {"q": [q0, q0], "k": [0.0, 0.0]}

    def policy(st, row):
        logits = [params["beta"] * st["q"][a] + (params["kappa"] * st["k"][a] if options.get("perseveration") else 0) for a in (0, 1)]
        p = softmax2(*logits)
        if options.get("lapse"):
            p = tuple((1 - params["lapse"]) * x + params["lapse"] / 2 for x in p)
        return p

    def update(st, row):
        q, k = list(st["q"]), list(st["k"])
        c = int(row["choice"])
        delta = row["reward"] - q[c]
        alpha = (params["alpha_pos"] if delta >= 0 else params["alpha_neg"]) if options.get("asymmetric") else params["alpha"]
        q[c] += alpha * delta
        if options.get("forgetting"):
            q[1 - c] += params["forget"] * (q0 - q[1 - c])
        k = [k[a] + params["tau"] * ((a == c) - k[a]) for a in (0, 1)]
        return {"q": q, "k": k}

    p_right, total = reference(df, init, policy, update)
    used = {n: params[n] for n in model.param_names}
    check(model, df, used, p_right, total)


@pytest.mark.parametrize("anticorrelated", [True, False])
def test_behrens_learner_matches_reference(anticorrelated):
    df = random_table(magnitudes=True)
    params = {"alpha": 0.35, "beta": 4.0}

    def probs(st):
        return (st, 1 - st) if anticorrelated else st

    def policy(st, row):
        pl, pr = probs(st)
        return softmax2(params["beta"] * pl * row["magnitude_left"], params["beta"] * pr * row["magnitude_right"])

    def update(st, row):
        won = float(row["reward"] > 0)
        if anticorrelated:
            left_won = won if row["choice"] == 0 else 1 - won
            return st + params["alpha"] * (left_won - st)
        st = list(st)
        st[int(row["choice"])] += params["alpha"] * (won - st[int(row["choice"])])
        return tuple(st)

    p_right, total = reference(df, lambda: 0.5 if anticorrelated else (0.5, 0.5), policy, update)
    check(make_model("behrens", anticorrelated=anticorrelated), df, params, p_right, total)


def test_beta_bernoulli_matches_reference():
    df = random_table()
    beta = 5.0

    def policy(st, row):
        m = [(st[a][0] + 1) / (st[a][0] + st[a][1] + 2) for a in (0, 1)]
        return softmax2(beta * m[0], beta * m[1])

    def update(st, row):
        st = [list(x) for x in st]
        st[int(row["choice"])][0 if row["reward"] > 0 else 1] += 1
        return st

    p_right, total = reference(df, lambda: [[0, 0], [0, 0]], policy, update)
    check(make_model("beta-bernoulli"), df, {"beta": beta}, p_right, total)


def test_hmm_reversal_matches_reference():
    df = random_table()
    h, beta, hi, lo = 0.1, 3.0, 0.8, 0.2

    def policy(b, row):
        return softmax2(beta * (b * hi + (1 - b) * lo), beta * (b * lo + (1 - b) * hi))

    def update(b, row):
        won = row["reward"] > 0
        p_if_left_good = hi if row["choice"] == 0 else lo
        p_if_right_good = lo if row["choice"] == 0 else hi
        l1 = p_if_left_good if won else 1 - p_if_left_good
        l2 = p_if_right_good if won else 1 - p_if_right_good
        post = b * l1 / (b * l1 + (1 - b) * l2)
        return (1 - h) * post + h * (1 - post)

    p_right, total = reference(df, lambda: 0.5, policy, update)
    check(make_model("hmm-reversal"), df, {"hazard": h, "beta": beta}, p_right, total)


def test_volatility_observer_matches_reference():
    df = random_table(magnitudes=True, n_trials=15)
    model = make_model("volatility", n_k=3)
    beta = 6.0
    vols, levels = (0.0, 0.2), (0.75, 0.8)
    edges = np.linspace(-4.5, -3.5, 4)
    ks = [math.exp(0.5 * (edges[i] + edges[i + 1])) for i in range(3)]
    grid = [(s, j, k) for s in (0, 1) for j in (0, 1) for k in range(3)]

    def r_left(s, j):
        return levels[j] if s == 0 else 1 - levels[j]

    def policy(b, row):
        pl = sum(b[g] * r_left(g[0], g[1]) for g in grid)
        return softmax2(beta * pl * row["magnitude_left"], beta * (1 - pl) * row["magnitude_right"])

    def update(b, row):
        won = row["reward"] > 0
        post = {}
        for g in grid:
            p = r_left(g[0], g[1]) if row["choice"] == 0 else 1 - r_left(g[0], g[1])
            post[g] = b[g] * (p if won else 1 - p)
        z = sum(post.values())
        post = {g: v / z for g, v in post.items()}
        toggled = {(s, j, k): (1 - ks[k]) * post[(s, j, k)] + ks[k] * post[(s, 1 - j, k)] for (s, j, k) in grid}
        return {(s, j, k): (1 - vols[j]) * toggled[(s, j, k)] + vols[j] * toggled[(1 - s, j, k)] for (s, j, k) in grid}

    p_right, total = reference(df, lambda: {g: 1 / len(grid) for g in grid}, policy, update)
    check(model, df, {"beta": beta}, p_right, total)


@pytest.mark.parametrize("name", ["mf", "mb", "hybrid"])
@pytest.mark.parametrize("choice2", [False, True])
def test_twostep_models_match_reference(name, choice2):
    df = random_table("twostep", choice2=choice2)
    model = make_model(name)
    params = {"alpha1": 0.4, "alpha2": 0.6, "lambda": 0.7, "beta1": 3.0, "beta2": 2.0, "perseveration": 0.5, "w": 0.6}
    w = {"mf": 0.0, "mb": 1.0}.get(name, params["w"])
    used = {k: v for k, v in params.items() if k in ("alpha2", "beta1", "perseveration") or (k == "beta2" and choice2)
            or (k in ("alpha1", "lambda") and name != "mb") or (k == "w" and name == "hybrid")}
    c = df.loc[df["violation"] == 0, "transition"].mean()  # the known transition probability: from the data

    def init():
        return {"q1": [0.5, 0.5], "q2": [[0.5, 0.5], [0.5, 0.5]], "prev": None}

    def values(st):
        v = [max(st["q2"][s]) if choice2 else st["q2"][s][0] for s in (0, 1)]
        mb = [c * v[a] + (1 - c) * v[1 - a] for a in (0, 1)]
        return [w * mb[a] + (1 - w) * st["q1"][a] for a in (0, 1)]

    def policy(st, row):
        net = values(st)
        return softmax2(*[params["beta1"] * net[a] + params["perseveration"] * (st["prev"] == a) for a in (0, 1)])

    def policy2(st, row):
        s = int(row["choice"]) if row["transition"] == 1 else 1 - int(row["choice"])
        return softmax2(params["beta2"] * st["q2"][s][0], params["beta2"] * st["q2"][s][1])

    def update(st, row):
        a = int(row["choice"])
        s = a if row["transition"] == 1 else 1 - a
        a2 = int(row["choice2"]) if choice2 else 0
        q1, q2 = list(st["q1"]), [list(x) for x in st["q2"]]
        d1 = q2[s][a2] - q1[a]
        d2 = row["reward"] - q2[s][a2]
        q2[s][a2] += params["alpha2"] * d2
        if name != "mb":
            q1[a] += params["alpha1"] * (d1 + params["lambda"] * d2)
        return {"q1": q1, "q2": q2, "prev": a}

    p_right, total = reference(df, init, policy, update, policy2 if choice2 else None)
    check(model, df, used, p_right, total)
    assert model.stage2_ is choice2


def test_latent_state_matches_reference():
    df = random_table("twostep")
    h, beta, persev, rich, poor = 0.05, 4.0, 0.3, 0.8, 0.2
    c = df.loc[df["violation"] == 0, "transition"].mean()

    def v2(b):
        return [b * rich + (1 - b) * poor, b * poor + (1 - b) * rich]

    def policy(st, row):
        v = v2(st["b"])
        q = [c * v[a] + (1 - c) * v[1 - a] for a in (0, 1)]
        return softmax2(*[beta * q[a] + persev * (st["prev"] == a) for a in (0, 1)])

    def update(st, row):
        a = int(row["choice"])
        s = a if row["transition"] == 1 else 1 - a
        won = row["reward"] > 0
        p0 = rich if s == 0 else poor
        p1 = poor if s == 0 else rich
        l0, l1 = (p0, p1) if won else (1 - p0, 1 - p1)
        post = st["b"] * l0 / (st["b"] * l0 + (1 - st["b"]) * l1)
        return {"b": (1 - h) * post + h * (1 - post), "prev": a}

    p_right, total = reference(df, lambda: {"b": 0.5, "prev": None}, policy, update)
    check(make_model("latent-state"), df, {"hazard": h, "beta1": beta, "perseveration": persev}, p_right, total)


@pytest.mark.parametrize("options", [{}, {"forgetting": True, "perseveration": True}])
def test_vectorised_recurrence_matches_the_loop_with_gradients(options):
    import torch

    from neurometarl.models.fitting import make_objective
    from neurometarl.models.recurrence import affine_recurrence

    keep = torch.rand(7, 3, 2, dtype=torch.float64, requires_grad=True)
    gain = torch.rand(7, 3, 2, dtype=torch.float64, requires_grad=True)
    init = torch.rand(3, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(affine_recurrence, (keep, gain, init))

    model = make_model("rw", **options)
    td = model._trial_data(random_table())
    model._resolve(td)
    objective = make_objective(model, td, np.arange(td.n_subjects))
    x = torch.randn(td.n_subjects, len(model.specs()), dtype=torch.float64, requires_grad=True)
    fast = objective(x)
    (g_fast,) = torch.autograd.grad(fast.sum(), x)
    model._vectorised_inputs = lambda p, batch: None  # force the step-by-step loop
    slow = objective(x)
    (g_slow,) = torch.autograd.grad(slow.sum(), x)
    assert torch.allclose(fast, slow, rtol=1e-12) and torch.allclose(g_fast, g_slow, rtol=1e-9, atol=1e-12)
