"""docs/add-an-experiment.md is true: its module, written as a user would (outside the package, imported in
place of the catalogue line), runs through `neurometarl reproduce --only` to a scorecard, a figure and the
replication report, with the sizes it declares shrunk through the spec."""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path

import pytest

from neurometarl.cli import main
from neurometarl.experiments import EXPERIMENTS, get_experiment
from neurometarl.experiments.base import load_numbers

PAGE = Path(__file__).resolve().parents[1] / "docs" / "add-an-experiment.md"


def test_the_page_s_experiment_runs_through_reproduce(tmp_path, monkeypatch):
    code = re.search(r"```python\n(.*?)```", PAGE.read_text(), re.S).group(1)
    assert "register(Experiment(" in code and "ctx.sizes" in code
    code = code.replace("from ..", "from neurometarl.").replace("from .base", "from neurometarl.experiments.base")
    tiny = (code.replace("train_episodes=64_000", "train_episodes=256, batch_size=32").replace("n_seeds=8", "n_seeds=2")
            .replace('sizes={"n_test": 300}', 'sizes={"n_test": 20}'))
    assert tiny != code
    (tmp_path / "myexp_module.py").write_text(tiny)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        importlib.import_module("myexp_module")  # what the catalogue line does for an experiment in the package
        exp = get_experiment("myexp")
        assert exp.sizes == {"n_test": 20} and exp.n_seeds == 2
        out = tmp_path / "results"
        assert main(["reproduce", "--only", "myexp", "--retrain", "--out", str(out), "--quiet"]) == 0
        card = json.loads((out / "myexp" / "scorecard.json").read_text())
        assert [c["claim"] for c in card["claims"]] == ["above_chance"] and card["sizes"] == {"n_test": 20}
        numbers = load_numbers(out / "myexp")  # numbers.nc
        assert numbers["reward"].dims == ("replica",) and numbers.sizes["replica"] == 2
        assert ((0 <= numbers["reward"]) & (numbers["reward"] <= 1)).all() and numbers["reward"].attrs["units"] == "reward"
        assert card["claims"][0]["measured"] == pytest.approx(float(numbers["reward"].mean()))
        assert (out / "myexp" / "myexp.png").is_file() and "myexp" in (out / "report.html").read_text()
        assert main(["experiment", "myexp", "--size", "n_tests=3", "--out", str(tmp_path / "bad")]) == 2  # undeclared
    finally:
        EXPERIMENTS.pop("myexp", None)
        sys.modules.pop("myexp_module", None)


def test_numbers_need_long_names_and_units(tmp_path):
    import xarray as xr

    from neurometarl.errors import ConfigError
    from neurometarl.experiments.base import save_numbers

    with pytest.raises(ConfigError, match="'x'"):
        save_numbers(tmp_path, xr.Dataset({"x": ("replica", [0.5]), "y": ("replica", [1.0], {"long_name": "y", "units": "1"})}))
    assert not (tmp_path / "numbers.nc").exists()
    labelled = xr.Dataset({"y": ("replica", [1.0], {"long_name": "y", "units": "1"})})
    save_numbers(tmp_path, labelled)
    xr.testing.assert_identical(load_numbers(tmp_path), labelled)


def test_published_values_are_declared_in_the_specs_and_reach_the_numbers():
    """The paper's, animals' and humans' values are fields of the experiment specs (not module globals)."""
    import neurometarl.experiments.catalogue  # noqa: F401  (registers every experiment)

    declared = {name: set(exp.reference_values) for name, exp in EXPERIMENTS.items() if exp.reference_values}
    assert declared == {"sim1": {"paper_unit_r", "paper_best_unit_r", "monkey_fraction", "paper_matching_slope"},
                        "sim2": {"human_rates", "paper_model_rates", "paper_volatility_units"}, "sim3": {"paper_rpe"},
                        "sim4": {"paper_stay", "paper_lag1", "card_rat_stay"}, "sim5": {"harlow_monkeys_trial2"},
                        "sim6": {"rats", "paper_model"}}
