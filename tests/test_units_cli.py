"""Smoke tests: the `units` and `decode` commands run end to end on a saved recording."""

import xarray as xr

from neurometarl.analysis.synthetic import plant_units, synthetic_recording
from neurometarl.cli import main
from neurometarl.lab import save_recording


def test_units_and_decode_commands(tmp_path, capsys):
    ds, coding = plant_units(synthetic_recording(30, 10, n_units=0, seed=0), "value@cue", n_units=10, fraction=0.5, effect=1.0, seed=1)
    rec = save_recording(ds, tmp_path / "rec.nc")

    assert main(["units", str(rec), "--regressors", "value@cue", "prev_reward", "--period", "cue", "--out", str(tmp_path / "u.nc")]) == 0
    out = capsys.readouterr().out
    assert "fraction of 10 units significant" in out and "value@cue" in out
    p = xr.load_dataset(tmp_path / "u.nc")["p_value"].sel(regressor="value@cue").values
    assert (p * 10 < 0.05).tolist() == coding.tolist()  # exactly the planted units are found

    assert main(["units", str(rec), "--regressors", "action", "--method", "spearman", "--correction", "fdr"]) == 0
    assert main(["decode", str(rec), "--target", "value@cue", "--shuffles", "3", "--out", str(tmp_path / "d.nc")]) == 0
    assert "score_mean" in capsys.readouterr().out
    assert xr.load_dataset(tmp_path / "d.nc").attrs["metric"] == "r2"

    assert main(["units", str(rec), "--regressors", "volatility"]) == 2
    assert "not in the recording" in capsys.readouterr().err
    assert main(["decode", str(rec), "--target", "value", "--period", "delay"]) == 2
    assert "unknown period" in capsys.readouterr().err
