"""NWB export/import: a real recording survives the round trip exactly, the file passes pynwb's
validator and reads as ordinary NWB (trials table, processing time series), bad inputs fail clearly."""

import numpy as np
import pytest
import xarray as xr
from pynwb import NWBHDF5IO

from neurometarl.analysis.synthetic import synthetic_recording
from neurometarl.cli import main
from neurometarl.errors import DataError
from neurometarl.lab import RecordingSchemaError, load_recording, record_session, save_recording
from neurometarl.lab.nwb import from_nwb, to_nwb, validate_nwb
from neurometarl.models import make_baseline


@pytest.fixture(scope="module")
def real():
    return record_session(make_baseline("rw"), "bandit-correlated", 40, seed=0)


def test_round_trip_of_a_real_recording_preserves_everything(real, tmp_path):
    path = to_nwb(real, tmp_path / "rw.nwb")
    assert validate_nwb(path) == []
    back = from_nwb(path)
    xr.testing.assert_identical(back, real)  # every variable, coordinate, dtype and attribute
    assert back["choice"].dtype == np.int8 and back["hidden"].dtype == np.float32
    assert np.isnan(back.attrs["gamma"])


def test_round_trip_of_an_agent_recording(tmp_path):
    """A recurrent agent's recording (48 LSTM units, hidden and cell, three periods per trial)."""
    from neurometarl.agents import AgentSubject, TrainConfig, build_agent

    cfg = TrainConfig(task="twostep", train_episodes=1, seed=3)
    ds = record_session(AgentSubject(build_agent(cfg), cfg.gamma), "twostep", 6, seed=0)
    assert ds.sizes["unit"] == 48 and "cell" in ds
    path = to_nwb(ds, tmp_path / "agent.nwb")
    assert validate_nwb(path) == []
    xr.testing.assert_identical(from_nwb(path), ds)
    with NWBHDF5IO(str(path), "r") as io:
        assert set(io.read().processing["network"].data_interfaces) == {"hidden", "cell"}


def test_the_file_is_ordinary_nwb(real, tmp_path):
    path = to_nwb(real, tmp_path / "rw.nwb", step_duration=0.5)
    n_ep, n_tr = real.sizes["episode"], real.sizes["trial"]
    with NWBHDF5IO(str(path), "r") as io:
        f = io.read()
        hidden = f.processing["network"]["hidden"]
        assert hidden.data.shape == (n_ep * real.sizes["step"], real.sizes["unit"])
        assert hidden.rate == 2.0 and hidden.unit == "a.u."
        np.testing.assert_array_equal(hidden.data[100:200], real["hidden"].values[1])
        assert set(f.processing["behavior"].data_interfaces) == {"step_action", "step_reward", "policy", "value", "rpe"}
        trials = f.trials.to_dataframe()
        assert len(trials) == n_ep * n_tr
        assert {"start_time", "stop_time", "episode", "trial", "choice", "reward", "reward_prob_left", "reward_prob_right"} <= set(trials.columns)
        row = trials.iloc[n_tr + 3]  # episode 1, trial 3
        assert (row.episode, row.trial) == (1, 3)
        assert row.start_time == pytest.approx((1 * real.sizes["step"] + 3) * 0.5)
        assert row.choice == real["choice"].values[1, 3]
        assert row.reward_prob_left == pytest.approx(real["reward_prob"].values[1, 3, 0])
        assert len(f.epochs) == n_ep


def test_round_trip_of_a_multi_period_recording_with_extra_variables(tmp_path):
    ds = synthetic_recording(6, 5, n_units=7, seed=2)
    ds["cell"] = ds["hidden"] * 2
    ds["cell"].attrs = {"long_name": "recorded cell state", "units": "a.u."}
    ds["p_left"] = ds["reward_prob"].isel(trial=0, arm=0, drop=True).assign_attrs(long_name="episode's left probability", units="1")
    ds["weights"] = xr.DataArray(np.arange(6.0).reshape(2, 3), dims=("row", "col"), attrs={"long_name": "odd variable", "units": "1"})
    ds.attrs["checkpoint_step"] = np.int64(5000)
    path = to_nwb(ds, tmp_path / "multi.nwb")
    assert validate_nwb(path) == []
    xr.testing.assert_identical(from_nwb(path), ds)


def test_invalid_inputs(real, tmp_path):
    with pytest.raises(RecordingSchemaError, match="missing variable 'choice'"):
        to_nwb(real.drop_vars("choice"), tmp_path / "bad.nwb")
    with pytest.raises(DataError, match="step_duration"):
        to_nwb(real, tmp_path / "bad.nwb", step_duration=0)
    with pytest.raises(FileNotFoundError):
        from_nwb(tmp_path / "missing.nwb")
    junk = tmp_path / "junk.nwb"
    junk.write_text("not hdf5")
    with pytest.raises(DataError, match="not a readable NWB file"):
        from_nwb(junk)
    # an NWB file that neurometarl did not write
    from datetime import datetime, timezone

    from pynwb import NWBFile

    foreign = tmp_path / "foreign.nwb"
    with NWBHDF5IO(str(foreign), "w") as io:
        io.write(NWBFile(session_description="x", identifier="x", session_start_time=datetime.now(timezone.utc)))
    with pytest.raises(DataError, match="not written by neurometarl"):
        from_nwb(foreign)


def test_cli_export_import_validate(real, tmp_path, capsys):
    rec = save_recording(real, tmp_path / "rec.nc")
    assert main(["nwb", "export", str(rec), str(tmp_path / "rec.nwb")]) == 0
    assert "valid" in capsys.readouterr().out
    assert main(["nwb", "validate", str(tmp_path / "rec.nwb")]) == 0
    assert main(["nwb", "import", str(tmp_path / "rec.nwb"), str(tmp_path / "back.nc")]) == 0
    xr.testing.assert_identical(load_recording(tmp_path / "back.nc"), load_recording(rec))
    assert main(["nwb", "export", str(rec)]) == 2  # missing output: a clear error, exit status 2
    assert "needs an output path" in capsys.readouterr().err
