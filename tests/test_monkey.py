"""The monkey two-step neurons (Miranda et al. 2025) read as neural recordings, checked against the
authors' files read directly, statsmodels, and an NWB round trip. The data are read in place through
NEUROMETARL_DATA (never copied); a few cells of one session keep this file fast."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.io import loadmat

from neurometarl.analysis.units import unit_regression
from neurometarl.data.monkey import EVENTS, PERIODS, monkey_sessions, read_monkey_session
from neurometarl.data.neurons import read_nwb_units
from neurometarl.data.registry import dataset_folder
from neurometarl.errors import DataError

pytestmark = pytest.mark.dataset("monkey-twostep")
SUBJECT, SESSION, CELLS = "Charlie", 1, [0, 1, 2]  # ACC cells of Charlie's first session


@pytest.fixture(scope="module")
def folder():
    return dataset_folder("monkey-twostep", marker="PreparedData.mat")


@pytest.fixture(scope="module")
def ds(folder):
    return read_monkey_session(folder, SUBJECT, SESSION, areas="ACC", cells=CELLS, bin_ms=100)


def test_trials_are_the_sessions_good_trials(ds, folder):
    record = loadmat(folder / "PreparedData.mat")["PreparedData"][0][0][SESSION - 1][0]
    assert ds.sizes["trial"] == len(record[1]) == 626 and ds.sizes["step"] == 626 * len(PERIODS)
    assert np.array_equal(ds["reward"].values[0], 3 - record[13].ravel())
    assert np.array_equal(ds["transition"].values[0], (record[6].ravel() == 1).astype(int))
    assert ds["forced"].values.mean() == pytest.approx((record[2].ravel() == 2).mean())
    assert ds["QhybPicA"].attrs["long_name"].startswith("hybrid first-stage value of picture A")
    assert list(ds["unit"].values) == ["ACC/0", "ACC/1", "ACC/2"] and set(ds["area"].values) == {"ACC"}
    sessions = monkey_sessions(folder)
    assert sessions["n_cells"].sum() == 661 and len(sessions) == 54  # 3 of the 57 sessions hold only unlabelled units
    assert sessions.iloc[0].to_dict() == {"subject": "Charlie", "session": 1, "areas": "ACC,DLPFC", "n_cells": 10,
                                          "n_trials": 626}


def test_windows_match_counts_taken_by_hand(ds, folder):
    spikes = np.load(folder / "ACC/spikes/cell_1.npy")  # int ms
    log = pd.read_parquet(folder / "ACC/trial_timings/cell_1.parquet")
    trial, periods = 17, list(PERIODS)
    code = {name: c for c, name in EVENTS.items()}
    for period, (event, start, end) in PERIODS.items():
        onset = log[(log.trial_number == trial) & (log.codes == code[event])].times.item()
        lo, hi = onset + round(start * 1000), onset + round(end * 1000)
        rate = ((spikes >= lo) & (spikes < hi)).sum() / (end - start)
        assert ds["cell"].sel(unit="ACC/1").values[0, trial * len(periods) + periods.index(period)] == rate
    onset = log[(log.trial_number == trial) & (log.codes == 37)].times.item()  # outcome, bin 0-100 ms
    step = trial * len(periods) + periods.index("outcome")
    by_hand = ((spikes >= onset) & (spikes < onset + 100)).sum()
    assert ds["spike_count"].sel(unit="ACC/1").sel(time=0.0, method="nearest").values[0, step] == by_hand


def test_unit_regression_equals_statsmodels_per_unit(ds):
    res = unit_regression(ds, ["reward", "action"], var="cell", period="outcome")
    X = sm.add_constant(np.column_stack([ds["reward"].values[0], 2.0 * ds["choice"].values[0] - 1]))
    for unit in ds["unit"].values:
        y = ds["cell"].sel(unit=unit).values[0, list(PERIODS).index("outcome")::len(PERIODS)]
        fit = sm.OLS(y, X).fit()
        np.testing.assert_allclose(res["coef"].sel(unit=unit).values, fit.params, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(res["p_value"].sel(unit=unit).values, fit.pvalues, rtol=1e-7, atol=1e-12)


def test_nwb_round_trip_gives_the_same_rates(ds, folder, tmp_path):
    from pynwb import NWBHDF5IO, NWBFile

    nwb = NWBFile(session_description="monkey two-step, 3 ACC cells (test)", identifier="test-monkey",
                  session_start_time=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))
    nwb.add_unit_column("area", "brain area")
    nwb.add_unit_column("channel", "recording channel")
    for cell, channel in zip(CELLS, ds["channel"].values):
        nwb.add_unit(spike_times=np.load(folder / f"ACC/spikes/cell_{cell}.npy") / 1000.0, area="ACC", channel=int(channel))
    events = [name for name in EVENTS.values() if name not in ("trial_start", "trial_end")]
    for name in events + ["choice", "reward"]:
        nwb.add_trial_column(name, f"{name} (test)")
    for t in range(ds.sizes["trial"]):
        row = {name: float(ds[name].values[0, t]) for name in events}
        nwb.add_trial(start_time=float(ds["trial_start"].values[0, t]), stop_time=float(ds["trial_end"].values[0, t]),
                      choice=int(ds["choice"].values[0, t]), reward=int(ds["reward"].values[0, t]), **row)
    path = tmp_path / "monkey.nwb"
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    back = read_nwb_units(path, periods=PERIODS, bin_ms=100)
    np.testing.assert_allclose(back["cell"].values, ds["cell"].values)
    np.testing.assert_array_equal(back["spike_count"].values, ds["spike_count"].values)
    np.testing.assert_array_equal(back["reward"].values, ds["reward"].values)
    assert list(back["area"].values) == ["ACC"] * 3 and back["step_period"].attrs["flag_meanings"] == ds["step_period"].attrs["flag_meanings"]
    assert unit_regression(back, ["reward"], var="cell", period="outcome")["t"].shape == (2, 3)


def test_missing_folder_or_cell_is_one_line_naming_the_dataset(tmp_path, folder):
    with pytest.raises(DataError, match=r"^dataset 'monkey-twostep': .*`neurometarl datasets`") as err:
        read_monkey_session(tmp_path, SUBJECT, SESSION)
    assert "\n" not in str(err.value)
    with pytest.raises(DataError, match=r"not in Charlie session 1"):
        read_monkey_session(folder, SUBJECT, SESSION, areas="ACC", cells=[200])
