"""Population geometry: PCA equals scikit-learn's and projects held-out sets, condition averages equal
hand averages, cluster distances find a planted latent-state split."""

import numpy as np
import pytest
import xarray as xr
from sklearn.decomposition import PCA

from neurometarl.analysis import PopulationPCA, cluster_distances, condition_average, pca_trajectories
from neurometarl.analysis.synthetic import plant_units, synthetic_recording
from neurometarl.errors import DataError


@pytest.fixture(scope="module")
def pair():
    """Two recordings (fit set, test set) whose units carry the episode's reward probability."""
    out = []
    for seed in (0, 1):
        ds = synthetic_recording(30, 10, n_units=0, seed=seed)
        planted, _ = plant_units(ds, "reward_prob[left]", n_units=16, fraction=0.5, effect=2.0, seed=seed + 10)
        out.append(planted)
    return out


def test_pca_equals_sklearn_and_projects_another_set(pair):
    fit_ds, test_ds = pair
    pca = PopulationPCA(3).fit(fit_ds)
    X_fit = fit_ds["hidden"].values.reshape(-1, 16).astype(np.float64)  # PopulationPCA works in float64
    ref = PCA(3, svd_solver="full").fit(X_fit)
    np.testing.assert_allclose(pca.components_.values, ref.components_, atol=1e-8)
    np.testing.assert_allclose(pca.explained_variance_ratio_.values, ref.explained_variance_ratio_, atol=1e-10)
    proj = pca.transform(test_ds)
    assert proj.dims == ("episode", "step", "component")
    expected = ref.transform(test_ds["hidden"].values.reshape(-1, 16).astype(np.float64)).reshape(30, -1, 3)
    np.testing.assert_allclose(proj.values, expected, atol=1e-6)
    traj = pca_trajectories(test_ds, fit=fit_ds, n_components=3)
    xr.testing.assert_allclose(traj["pc"], proj)
    assert traj["explained_variance_ratio"].attrs["long_name"]
    # the planted reward probability is the first axis: PC1 orders episodes by p_left
    pc1 = traj["pc"].isel(component=0).mean("step").values
    r = np.corrcoef(pc1, test_ds["reward_prob"].values[:, 0, 0])[0, 1]
    assert abs(r) > 0.95


def test_pca_on_one_period(pair):
    fit_ds, _ = pair
    proj = PopulationPCA(2).fit_transform(fit_ds, period="cue")
    assert proj.dims == ("episode", "trial", "component")
    with pytest.raises(DataError, match="not fitted"):
        PopulationPCA(2).transform(fit_ds)
    with pytest.raises(DataError, match="n_components"):
        PopulationPCA(40).fit(fit_ds)


def test_condition_average_equals_hand_average(pair):
    ds = pair[0]
    per_episode = condition_average(ds, "reward_prob[left]", bins=2)
    p = ds["reward_prob"].values[:, 0, 0]
    high = p >= np.median(p)
    np.testing.assert_allclose(per_episode["activity"].sel(condition=1).values, ds["hidden"].values[high].mean(0), atol=1e-6)
    assert per_episode["n"].values.tolist() == [(~high).sum(), high.sum()]
    per_trial = condition_average(ds, "action", per="trial")
    assert per_trial["activity"].dims == ("condition", "period", "unit")
    right = ds["choice"].values == 2
    cue = ds["hidden"].values[:, 1::4]  # (episode, trial, unit) at the cue
    np.testing.assert_allclose(per_trial["activity"].sel(condition=1, period="cue").values, cue[right].mean(0), atol=1e-6)
    with pytest.raises(DataError, match="varies within episodes"):
        condition_average(ds, "action")


def test_cluster_distances_separate_latent_states(pair):
    ds = pair[0]
    state = (ds["reward_prob"].values[:, 0, 0] > 0.5).astype(float)  # the latent "left is better" state
    res = cluster_distances(ds, state, period=["fixation", "cue"])
    assert res["centroid_distance"].dims == ("period", "cluster", "cluster_other")
    assert np.all(res["separation"].values > 1.0)
    # by hand at the cue
    X = ds["hidden"].values[:, 1::4].reshape(-1, 16)
    lab = np.repeat(state, 10)
    d = np.linalg.norm(X[lab == 1].mean(0) - X[lab == 0].mean(0))
    np.testing.assert_allclose(res["centroid_distance"].sel(period="cue", cluster=0, cluster_other=1), d, rtol=1e-6)
    noise = cluster_distances(ds, "action", period="cue")
    assert float(noise["separation"]) < 0.2  # choices were not planted
    with pytest.raises(DataError, match="two label values"):
        cluster_distances(ds, np.zeros(30))


def test_padding_states_are_left_out(pair):
    ds = pair[0].copy()
    active = np.ones((30, 10), np.float32)
    active[:15, 5:] = 0
    ds["active"] = (("episode", "trial"), active, {"long_name": "episode running", "units": "1"})
    ds["hidden"][:15, 20:] = 1e3  # padding states far away: they must not pull the axes
    pca = PopulationPCA(2).fit(ds)
    states = ds["hidden"].values[np.repeat(active, 4, 1) > 0].astype(np.float64)
    np.testing.assert_allclose(np.abs(pca.components_.values), np.abs(PCA(2, svd_solver="full").fit(states).components_), atol=1e-8)
    avg = condition_average(ds, "reward_prob[left]", bins=2)
    assert np.all(np.abs(avg["activity"].values[np.isfinite(avg["activity"].values)]) < 100)
