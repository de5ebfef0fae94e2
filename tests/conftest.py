"""Shared test settings: slow training-quality checks run only with --run-slow; tests that read other
people's data (``@pytest.mark.dataset("rat-twostep")``) find it through ``NEUROMETARL_DATA`` (set by the
Makefile and .ci/run to ``../shared/data`` where that folder exists) and never download."""

import os
from pathlib import Path

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
torch.set_num_threads(1)  # tiny networks: one thread is fastest and leaves the other core free

os.environ["NEUROMETARL_OFFLINE"] = "1"  # nothing downloads in the test suite
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
if not os.environ.get("NEUROMETARL_DATA") and SHARED_DATA.is_dir():  # plain `pytest` in a development checkout
    os.environ["NEUROMETARL_DATA"] = str(SHARED_DATA)


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False, help="run slow training-quality checks")


def pytest_collection_modifyitems(config, items):
    from neurometarl.data.registry import status

    for item in items:
        for mark in item.iter_markers("dataset"):
            for name in mark.args:
                found = status(name)
                if found["present"] < found["n_files"]:
                    item.add_marker(pytest.mark.skip(reason=f"dataset {name!r} not on this machine: set NEUROMETARL_DATA"))
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
