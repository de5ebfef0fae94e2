"""Figure panels for the recording analyses draw what the analyses returned, and refuse wrong inputs."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from neurometarl.analysis import decode, fraction_significant, partial_correlation, pca_trajectories, unit_regression  # noqa: E402
from neurometarl.analysis.synthetic import plant_units, synthetic_recording  # noqa: E402
from neurometarl.errors import DataError  # noqa: E402
from neurometarl.figures.style import save_figure, use_style  # noqa: E402
from neurometarl.figures.units import (  # noqa: E402
    plot_coding_histogram, plot_cpd_timecourse, plot_decoding, plot_fraction_significant, plot_pca,
)


@pytest.fixture(scope="module")
def planted():
    ds = synthetic_recording(30, 10, n_units=0, seed=1)
    return plant_units(ds, "value@cue", n_units=24, fraction=0.5, effect=0.6, seed=2)[0]


def test_panels_draw_the_numbers(planted, tmp_path):
    res = unit_regression(planted, ["value@cue", "prev_reward"])
    frac = fraction_significant(res)
    with use_style():
        fig, axes = plt.subplots(1, 5, figsize=(15, 3))
        ax = plot_fraction_significant(frac, ax=axes[0])
        heights = sorted(p.get_height() for p in ax.patches if p.get_height() > 0)
        assert heights == sorted(v for v in frac["fraction"].values.ravel() if v > 0)
        pc = partial_correlation(planted, ["value@cue", "prev_reward"], period="cue")
        ax = plot_coding_histogram(pc, "value@cue", ax=axes[1])
        n_sig = int((pc["p_value"].sel(regressor="value@cue") * 24 < 0.05).sum())
        assert ax.get_title() == f"{n_sig / 24:.0%} of 24 units significant"
        assert sum(p.get_height() for p in ax.patches) == 24
        ax = plot_cpd_timecourse(res, ax=axes[2])
        assert ax.get_xlabel() == "trial period" and "%" in ax.get_ylabel()
        dec = decode(planted, "value@cue", n_shuffles=5)
        ax = plot_decoding(dec, ax=axes[3])
        line = [ln for ln in ax.lines if ln.get_marker() == "o"][0]
        np.testing.assert_allclose(line.get_ydata(), dec["score"].mean("fold").values)
        ax = plot_pca(pca_trajectories(planted, n_components=2), ax=axes[4], episodes=[0, 1])
        assert ax.get_xlabel().startswith("PC1")
        paths = save_figure(fig, tmp_path / "panels")
    assert [p.suffix for p in paths] == [".png", ".pdf"] and all(p.stat().st_size > 1000 for p in paths)
    plt.close("all")


def test_panels_refuse_wrong_inputs(planted):
    res = unit_regression(planted, ["value@cue"], period="cue")
    with pytest.raises(DataError, match="fraction_significant"):
        plot_fraction_significant(res)
    with pytest.raises(DataError, match="period"):
        plot_cpd_timecourse(res)
    with pytest.raises(DataError, match="regressor 'x'"):
        plot_coding_histogram(res, "x")
    with pytest.raises(DataError, match="decode"):
        plot_decoding(res)
    plt.close("all")
