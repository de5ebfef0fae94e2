"""The monkey-twostep experiment end to end on tiny agents and two recording sessions (all four areas):
monkeys' trial table → behaviour of monkeys, agents and baselines → unit coding with the shift null →
populations (profiles, rsatoolbox RDMs) → figures and scorecard. Reads the monkey data in place."""

from __future__ import annotations


import numpy as np
import pytest
import xarray as xr
from scipy.io import loadmat

from neurometarl.agents import AgentSubject, TrainConfig, build_agent
from neurometarl.data import monkey_table, validate_table
from neurometarl.data.registry import dataset_folder
from neurometarl.experiments import monkey, run_experiment
from neurometarl.experiments.base import load_numbers
from neurometarl.lab import record_session
from neurometarl.tasks import make_task

pytestmark = pytest.mark.dataset("monkey-twostep")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("monkey")
    sizes = {"n_test": 6, "n_neural_episodes": 3, "n_shuffles": 4, "n_boot": 8, "n_sessions": 2}
    card = run_experiment("monkey-twostep", out, retrain=True, n_seeds=2, scale=0.01, progress=False, sizes=sizes)
    return card, out


def test_scorecard_measures_every_claim_and_draws_three_figures(run):
    card, out = run
    assert [c["claim"] for c in card["claims"]] == [c.name for c in monkey.CLAIMS]
    for c in card["claims"]:
        assert "not computed" not in str(c["measured"]), c
    for stem in ("monkey_twostep_behaviour", "monkey_twostep_neurons", "monkey_twostep_similarity"):
        assert (out / f"{stem}.png").stat().st_size > 30_000


def test_numbers_cover_areas_agents_and_nulls(run):
    _, out = run
    ds = load_numbers(out)  # numbers.nc, a labelled Dataset
    assert not (out / "numbers.json").exists()
    assert ds["fraction"].dims == ("population", "period", "regressor")
    assert list(ds["population"].values) == [*monkey.AREAS, "agents", "untrained"]
    assert ((0 <= ds["fraction"]) & (ds["fraction"] <= 1)).all()
    assert float(ds["fraction_p_null"].min()) >= 1 / (1 + 4)  # the p-value's floor with 4 shifts
    assert (ds["n_units"] > 0).all() and int(ds["n_units"].sel(population="agents")) == 2 * 48
    counts = ds["fraction"] * ds["n_units"]  # each population's fraction is a count of its own units
    assert np.allclose(counts, np.round(counts), atol=1e-9)
    assert ds["agent_fraction_per_seed"].sizes["replica"] == 2 and ds.attrs["n_neural_trials"] == 3 * 100
    w = ds["hybrid_param"].sel(parameter="w").groupby("group").mean()
    assert float(w.sel(group="model-free")) < 0.3 and float(w.sel(group="model-based")) > float(w.sel(group="model-free"))
    assert set(ds["subject"].values[ds["group"].values == "monkey"]) == {"Charlie", "Jacob"}
    lo, hi = ds["rsa_noise_ceiling"].sel(bound="lower"), ds["rsa_noise_ceiling"].sel(bound="upper")
    assert (np.isnan(lo) | (lo <= hi)).all()
    assert all({"long_name", "units"} <= set(ds[v].attrs) for v in ds.data_vars)
    # the stay distance the claim reports is the Euclidean distance of the four mean stay probabilities
    agents = ds["stay_prob"].isel(subject=np.flatnonzero(ds["group"].values == "agents")).mean("subject")
    pooled = ds["stay_prob"].isel(subject=np.flatnonzero(ds["group"].values == "monkeys")).squeeze("subject")
    assert monkey.stay_distance(ds, "agents") == pytest.approx(float(np.linalg.norm((agents - pooled).values.ravel())))


def test_monkey_table_is_the_authors_trials():
    """The trial table holds every good trial of all 57 sessions; its second stage follows the choice and
    transition, and its reward is the authors' level / 2."""
    folder = dataset_folder("monkey-twostep", marker="PreparedData.mat")
    table = validate_table(monkey_table(folder))
    prepared = loadmat(folder / "PreparedData.mat")["PreparedData"]
    sizes = [len(prepared[s][0][k][0][1]) for s in range(2) for k in range(len(prepared[s][0]))]
    assert len(table) == sum(sizes) == 30_249
    assert (table["state2"] == np.where(table["transition"] == 1, table["choice"], 1 - table["choice"])).all()
    record = prepared[1][0][4][0]  # Jacob, session 5
    rows = table[(table["subject"] == "Jacob") & (table["session"] == 5)]
    assert (rows["reward"].to_numpy() == (3 - np.asarray(record[13]).ravel()) / 2).all()
    assert (rows["forced"].to_numpy() == (np.asarray(record[2]).ravel() == 2)).all()


def test_agent_units_are_read_at_the_monkeys_periods():
    """Outcome activity of trial t is the fixation step of trial t + 1 (where the reward is an input);
    transition and choice2 are both the second-stage step."""
    cfg = TrainConfig(task="twostep-monkey", train_episodes=128, unroll=30, learning_pass="sequence")
    ds = record_session(AgentSubject(build_agent(cfg), cfg.gamma), make_task("twostep-monkey", 3), 3, seed=0)
    nds = monkey.agent_neurons(ds, "agent/seed0")
    h = ds["hidden"].values.reshape(3, 100, 3, -1)
    cell = nds["cell"].values.reshape(3, 100, 5, -1)
    assert np.array_equal(cell[:, :, 1], h[:, :, 1]) and np.array_equal(cell[:, :, 3], h[:, :, 2])
    assert np.array_equal(cell[:, :-1, 4], h[:, 1:, 0]) and np.isnan(cell[:, -1, 4]).all()
    assert list(nds["step_period"].attrs["flag_meanings"].split()) == list(monkey.PERIODS)
    assert isinstance(nds, xr.Dataset) and set(nds["area"].values) == {"agent"}
