"""The dataset registry: other people's data found in the data directory or the cache, verified by
SHA-256, never shipped and never downloaded in tests; the package runs without its source tree."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neurometarl.cli import main
from neurometarl.data import registry
from neurometarl.data.datasets import convert_rat_twostep, load_rat_twostep, read_rat_twostep_mat
from neurometarl.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
DATA_AT_START = os.environ.get("NEUROMETARL_DATA")  # set by the Makefile or conftest before any fixture runs


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    """No data directory, an empty cache, downloads allowed but the network unreachable."""
    monkeypatch.setenv("NEUROMETARL_DATA", "")
    monkeypatch.setenv("NEUROMETARL_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("NEUROMETARL_OFFLINE")

    def unreachable(url, **kwargs):
        raise ConnectionError(f"Failed to resolve host for {url}")

    monkeypatch.setattr("pooch.retrieve", unreachable)
    return tmp_path


def test_every_entry_is_pinned_hashed_cited_and_documented():
    page = (ROOT / "docs" / "datasets.md").read_text()
    for d in registry.DATASETS.values():
        assert re.fullmatch(r"[0-9a-f]{40}", d.commit) and d.files and d.citation and d.licence
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in d.files.values())
        assert d.url(next(iter(d.files))).startswith(f"https://raw.githubusercontent.com/{d.repository}/{d.commit}/")
        assert f"`{d.name}`" in page and d.licence.split(" (")[0] in page and d.citation.split(" (")[0] in page
    assert len(registry.DATASETS["monkey-twostep"].files) == 1390


def test_no_third_party_data_in_the_repository():
    listed = subprocess.run(["git", "ls-files", "datasets"], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode:
        pytest.skip("not a git checkout")
    files = listed.stdout.split()
    assert files and all(f.startswith("datasets/checkpoints/") or f == "datasets/README.md" for f in files)
    names = {Path(f).name for d in registry.DATASETS.values() for f in d.files}
    assert not names & {Path(f).name for f in subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True,
                                                              text=True).stdout.split()}


@pytest.mark.dataset("rat-twostep")
def test_rat_reader_equals_the_table_derived_before_from_the_same_file():
    # the shared folder also holds the CSV derived earlier from this .mat: the reader must give the same trials
    csv = registry.fetch("rat-twostep", "ofc_physdata.mat").with_name("rat_twostep_trials.csv")
    if not csv.is_file():
        pytest.skip("the earlier derived CSV is not beside the .mat")
    ours, before = read_rat_twostep_mat(csv.with_name("ofc_physdata.mat")), pd.read_csv(csv)
    assert list(ours.columns) == list(before.columns) and len(ours) == len(before) == 36413
    exact = [c for c in before.columns if c != "p_congruent_rat"]
    pd.testing.assert_frame_equal(ours[exact], before[exact], check_dtype=False)
    assert np.allclose(ours["p_congruent_rat"], before["p_congruent_rat"], atol=5e-5)  # the CSV kept 4 decimals
    pd.testing.assert_frame_equal(convert_rat_twostep(ours)[["choice", "state2", "violation"]],
                                  convert_rat_twostep(before)[["choice", "state2", "violation"]])


@pytest.mark.dataset("rat-twostep")
def test_stay_command_prints_the_card_table(capsys):
    assert main(["stay", "rat-twostep"]) == 0
    out = capsys.readouterr().out
    stay = {k: float(v) for k, v in re.findall(r'"(\w+_\w+)": ([0-9.]+)', out)}
    for key, card in {"common_rewarded": 0.861, "rare_rewarded": 0.465, "common_unrewarded": 0.458,
                      "rare_unrewarded": 0.863}.items():
        assert stay[key] == pytest.approx(card, abs=0.005)


def test_absent_dataset_without_network_is_one_line_naming_source_and_fix(no_data, capsys):
    with pytest.raises(DataError) as err:
        load_rat_twostep()
    message = str(err.value)
    assert "\n" not in message and "rat-twostep" in message and "ConnectionError" in message
    assert "Brody-Lab/MixtureAgentsModels" in message and "NEUROMETARL_DATA" in message
    assert main(["stay", "rat-twostep"]) == 2
    line = capsys.readouterr().err.strip()
    assert line.startswith("neurometarl stay: error: dataset 'rat-twostep'") and "\n" not in line


def test_offline_setting_forbids_downloads(no_data, monkeypatch):
    monkeypatch.setenv("NEUROMETARL_OFFLINE", "1")
    with pytest.raises(DataError, match=r"hbayesdm.*NEUROMETARL_OFFLINE forbids downloads.*ts_exampleData\.txt"):
        registry.fetch("hbayesdm", "ts_exampleData.txt")


@pytest.mark.dataset("hbayesdm")
def test_corrupted_file_is_caught_by_its_hash(tmp_path, monkeypatch):
    source = registry.fetch("hbayesdm", "ts_exampleData.txt")
    target = tmp_path / "hbayesdm_examples" / source.name
    target.parent.mkdir()
    data = bytearray(source.read_bytes())
    data[100] ^= 1  # one flipped bit
    target.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"fails its SHA-256 check for dataset 'hbayesdm'.*replace it"):
        registry.fetch("hbayesdm", "ts_exampleData.txt", data_dir=tmp_path)


@pytest.mark.dataset("hbayesdm")
def test_download_goes_to_the_cache_and_is_found_there_next_time(no_data, monkeypatch):
    original = Path(DATA_AT_START or ".") / "hbayesdm_examples" / "prl_exampleData.txt"
    calls = []

    def fake_retrieve(url, known_hash, fname, path, progressbar):  # pooch's role: write the file, hash checked
        calls.append(url)
        Path(path).mkdir(parents=True, exist_ok=True)
        shutil.copy(original, Path(path) / fname)
        return str(Path(path) / fname)

    if not original.is_file():
        pytest.skip("no shared copy to serve as the download")
    monkeypatch.setattr("pooch.retrieve", fake_retrieve)
    first = registry.fetch("hbayesdm", "prl_exampleData.txt")
    assert first == no_data / "cache" / "hbayesdm_examples" / "prl_exampleData.txt"
    assert calls == [registry.DATASETS["hbayesdm"].url("prl_exampleData.txt")]
    assert registry.fetch("hbayesdm", "prl_exampleData.txt") == first and len(calls) == 1


@pytest.mark.dataset("hbayesdm")
def test_data_dir_may_be_the_dataset_folder_itself():
    folder = registry.fetch("hbayesdm", "ts_exampleData.txt").parent
    assert registry.fetch("hbayesdm", "bandit2arm_exampleData.txt", data_dir=folder).parent == folder


@pytest.mark.dataset("rat-twostep", "hbayesdm")
def test_datasets_command_lists_terms_and_presence(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for d in registry.DATASETS.values():
        assert d.name in out and d.licence in out and d.citation in out
    assert out.count("present:  yes") >= 2
    assert main(["datasets", "verify", "hbayesdm"]) == 0
    assert "4 file(s) present and matching their SHA-256" in capsys.readouterr().out
    assert main(["datasets", "verify", "rat-twostep", "--data-dir", "/nonexistent"]) == 2
    assert main(["datasets", "verify"]) == 2


@pytest.mark.dataset("rat-twostep")
def test_experiment_without_its_data_is_not_run_with_the_line_a_user_needs(no_data, tmp_path, capsys):
    assert main(["reproduce", "--only", "sim4", "--out", str(tmp_path / "results"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "[NOT RUN] dataset 'rat-twostep' is not on this machine" in out and "Brody-Lab/MixtureAgentsModels" in out
    assert "NOT RUN" in (tmp_path / "results" / "report.html").read_text()


def test_installed_without_the_source_tree(tmp_path):
    """A non-editable install (the package built and copied into a folder of its own) answers from another
    directory: commands run, the report template and registries are package data, checkpoints resolve."""
    site = tmp_path / "site"
    build = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                            "--no-compile", "--target", str(site), str(ROOT)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-2000:]
    env = {**os.environ, "PYTHONPATH": str(site), "NEUROMETARL_DATA": "", "NEUROMETARL_CACHE": str(tmp_path / "cache")}
    probe = ("import neurometarl, neurometarl.report as r, importlib.resources as ir; "
             "from neurometarl.settings import checkpoints_dir; "
             "print(neurometarl.__file__); print(ir.files('neurometarl').joinpath('templates', r.TEMPLATE).is_file()); "
             "print(checkpoints_dir())")
    out = {}
    for name, args in {"probe": ["-c", probe], "tasks": ["-m", "neurometarl.cli", "tasks"],
                       "datasets": ["-m", "neurometarl.cli", "datasets"]}.items():
        run = subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr[-2000:]
        out[name] = run.stdout
    where, template, checkpoints = out["probe"].split("\n")[:3]
    assert where.startswith(str(site)) and template == "True"
    assert Path(checkpoints) == ROOT / "datasets" / "checkpoints"  # the checkout pip installed from
    assert "bandit-correlated" in out["tasks"]
    assert "monkey-twostep" in out["datasets"] and "present:  no" in out["datasets"]
    missing = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                             env={**env, "NEUROMETARL_CHECKPOINTS": str(tmp_path / "none")})
    assert missing.returncode == 1 and "NEUROMETARL_CHECKPOINTS" in missing.stderr.splitlines()[-1]
