"""Shared test settings: slow training-quality checks run only with --run-slow."""

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
torch.set_num_threads(1)  # tiny networks: one thread is fastest and leaves the other core free


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False, help="run slow training-quality checks")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
