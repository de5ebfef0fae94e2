"""The dataset registry: other people's data, fetched from its source and verified, never shipped.

Each :class:`Dataset` names its citation, licence, the repository and commit its files come from,
and the SHA-256 of every file. :func:`fetch` finds a file, in this order:

1. the data directory (``data_dir=`` argument, ``--data-dir`` on the command line, or the
   ``NEUROMETARL_DATA`` setting): ``DATA_DIR/<dataset folder>/<file>``, or ``DATA_DIR/<file>`` when
   the setting points at the dataset's own folder (e.g. a clone of the authors' ``data/``);
2. pooch's cache (``NEUROMETARL_CACHE``, default the user cache folder ``neurometarl``);
3. a download from the pinned source into that cache, unless ``NEUROMETARL_OFFLINE`` is set.

Every file is checked against its SHA-256 before it is read; a corrupted file is named with the fix.
A file that cannot be found or fetched raises :class:`~neurometarl.errors.DataError` with one line
naming the dataset, its source and where to place it by hand.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..errors import DataError

#: environment settings (the command line's ``--data-dir`` sets the first)
DATA_ENV, CACHE_ENV, OFFLINE_ENV = "NEUROMETARL_DATA", "NEUROMETARL_CACHE", "NEUROMETARL_OFFLINE"


@dataclass(frozen=True)
class Dataset:
    """One registered dataset: where it comes from, under which terms, and its files' hashes."""

    name: str  # short name used on the command line, e.g. "rat-twostep"
    folder: str  # its folder in the data directory and in the cache
    title: str  # one line: what it is
    citation: str  # the paper to cite
    licence: str  # the licence its authors give (or "none stated")
    repository: str  # GitHub "owner/name" the files come from
    commit: str  # the commit the hashes were taken at
    source_path: str  # folder of the files in that repository ("" for its root)
    kind: str  # "behaviour" (a trial table) or "neurons" (a neural recording)
    reader: str  # the function that reads it
    files: dict[str, str] = field(default_factory=dict)  # file (relative to the folder) → SHA-256
    size_bytes: int = 0  # all files together

    @property
    def source(self) -> str:
        """Browsable address of the dataset's folder in its repository at the pinned commit."""
        return f"https://github.com/{self.repository}/tree/{self.commit}/{self.source_path}".rstrip("/")

    def url(self, file: str) -> str:
        """The pinned download address of ``file``."""
        return f"https://raw.githubusercontent.com/{self.repository}/{self.commit}/{self.source_path}{file}"


def _registry_file(name: str) -> dict[str, str]:
    """A pooch-style registry shipped in the package: ``file sha256`` a line, ``#`` comments."""
    text = resources.files("neurometarl.data").joinpath("registry", f"{name}.txt").read_text()
    return dict(line.split() for line in text.splitlines() if line.strip() and not line.startswith("#"))


DATASETS: dict[str, Dataset] = {d.name: d for d in (
    Dataset(
        name="rat-twostep",
        folder="miller2022_rat_twostep",
        title="6 rats, 52 sessions, 36,413 trials of the rat two-step task (OFC recording sessions)",
        citation="Miller, Botvinick & Brody (2022) Value representations in the rodent orbitofrontal cortex "
                 "drive learning, not choice. eLife 11:e64575; task: Miller, Botvinick & Brody (2017) Nat Neurosci 20:1269",
        licence="MIT (© 2024 Sarah Jo C. Venditto, Brody-Lab/MixtureAgentsModels)",
        repository="Brody-Lab/MixtureAgentsModels",
        commit="748f21648eaf7b6bde0af1b0577cdd2023068a0b",
        source_path="data/",
        kind="behaviour",
        reader="neurometarl.data.load_rat_twostep",
        files={"ofc_physdata.mat": "8b7f5649f572391605ace2a3b237441ab2a8a8b2c2037da2e62e548a618c69ed"},
        size_bytes=2_018_871,
    ),
    Dataset(
        name="hbayesdm",
        folder="hbayesdm_examples",
        title="hBayesDM example files: two-step (11 subjects), two-armed bandit (20), reversal (20; 3 × 3 blocks)",
        citation="Ahn, Haines & Zhang (2017) Revealing neurocomputational mechanisms of reinforcement learning "
                 "and decision-making with the hBayesDM package. Computational Psychiatry 1:24-57",
        licence="GPL-3.0 (CCS-Lab/hBayesDM)",
        repository="CCS-Lab/hBayesDM",
        commit="9cbe245f3c812e2eb2d259821f80a65ff4007988",
        source_path="commons/extdata/",
        kind="behaviour",
        reader="neurometarl.data.load_hbayesdm",
        files={
            "ts_exampleData.txt": "d138b5e9546a396d5078f347c827014a30a855c276c8de167eeddf7a586d2c2c",
            "bandit2arm_exampleData.txt": "235fc021bb7e51e2ef9b1fda5b38de5dd922739459d899c31268d0c3f26b4b5a",
            "prl_exampleData.txt": "97233550eb1276890b600b02c29d3720bdbe50bf25d224f339172db03d259dbb",
            "prl_multipleB_exampleData.txt": "57fbed0c8bdad940111829ea43e968f26df7253795a954af77c59f44217f70b5",
        },
        size_bytes=216_803,
    ),
    Dataset(
        name="monkey-twostep",
        folder="miranda2025_monkey_twostep",
        title="661 single neurons (ACC, DLPFC, caudate, putamen) of 2 macaques on a two-step task; "
              "57 sessions, 30,249 trials",
        citation="Miranda, Butler, Malalasekera, Behrens, Dayan & Kennerley (2025) Neural signatures of "
                 "model-based and model-free reinforcement learning across prefrontal cortex and striatum. "
                 "eLife 14:RP106032",
        licence="none stated (the authors ask that the paper be cited)",
        repository="jamesbutler01/TwoStepTask",
        commit="e1a50e7bfd8739aafbd34cdcccac32b8fc2fd723",
        source_path="data/",
        kind="neurons",
        reader="neurometarl.data.read_monkey_session",
        files=_registry_file("miranda2025_monkey_twostep"),
        size_bytes=177_620_449,
    ),
)}


def get_dataset(name: str) -> Dataset:
    """The registered dataset ``name``; :class:`DataError` naming the registered ones otherwise."""
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; registered: {', '.join(DATASETS)} (see `neurometarl datasets`)")
    return DATASETS[name]


def data_dir(data_dir: str | Path | None = None) -> Path | None:
    """The data directory: the argument, else ``$NEUROMETARL_DATA`` (unset or empty: none)."""
    value = data_dir if data_dir is not None else os.environ.get(DATA_ENV) or None
    return Path(value).expanduser() if value is not None else None


def cache_dir() -> Path:
    """Where downloads go: ``$NEUROMETARL_CACHE``, else pooch's user cache folder for neurometarl."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    import pooch

    return Path(pooch.os_cache("neurometarl"))


def offline() -> bool:
    """Whether downloads are off: ``$NEUROMETARL_OFFLINE`` set to anything but empty, 0, false or no."""
    return os.environ.get(OFFLINE_ENV, "").lower() not in ("", "0", "false", "no")


def candidates(dataset: Dataset, file: str, data_dir_: str | Path | None = None) -> list[Path]:
    """Where ``file`` of ``dataset`` may already be, in search order."""
    root = data_dir(data_dir_)
    places = [root / dataset.folder / file, root / file] if root is not None else []
    return places + [cache_dir() / dataset.folder / file]


_VERIFIED: dict[tuple[str, int, int], str] = {}


def sha256(path: Path) -> str:
    """SHA-256 of a file, remembered per (path, size, modification time) within the process."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _VERIFIED:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _VERIFIED[key] = digest.hexdigest()
    return _VERIFIED[key]


def _how_to_place(dataset: Dataset, file: str) -> str:
    return (f"to place it by hand, download {dataset.url(file)} and set {DATA_ENV} (or --data-dir) to the folder "
            f"holding {dataset.folder}/{file}")


def verified(dataset: Dataset, file: str, path: Path) -> Path:
    """``path`` (a copy of ``file`` of ``dataset``) once its SHA-256 matches the registry; else a DataError
    naming the fix."""
    expected, found = dataset.files[file], sha256(path)
    if found != expected:
        raise DataError(f"{path} fails its SHA-256 check for dataset {dataset.name!r} (expected {expected[:12]}…, "
                        f"found {found[:12]}…): the file is damaged or another version; replace it — "
                        + _how_to_place(dataset, file))
    return path


def find(name: str, file: str, data_dir: str | Path | None = None) -> Path | None:
    """The verified local path of one file of a dataset, or ``None`` when it is nowhere on this machine."""
    dataset = get_dataset(name)
    if file not in dataset.files:
        raise DataError(f"dataset {name!r} has no file {file!r}")
    for path in candidates(dataset, file, data_dir):
        if path.is_file():
            return verified(dataset, file, path)
    return None


def fetch(name: str, file: str, data_dir: str | Path | None = None) -> Path:
    """The verified local path of one file of a dataset, downloading it into the cache when needed."""
    path = find(name, file, data_dir)
    if path is not None:
        return path
    dataset = get_dataset(name)
    if offline():
        raise DataError(f"dataset {name!r} ({dataset.source}): {file} is not on this machine and {OFFLINE_ENV} "
                        f"forbids downloads; {_how_to_place(dataset, file)}")
    import pooch

    target = cache_dir() / dataset.folder / file
    try:
        pooch.retrieve(dataset.url(file), known_hash=f"sha256:{dataset.files[file]}", fname=target.name,
                       path=target.parent, progressbar=True)
    except Exception as err:  # no network, HTTP error or hash mismatch: say what to do, in one line
        raise DataError(f"dataset {name!r} ({dataset.source}): could not download {file} ({type(err).__name__}: "
                        f"{str(err).splitlines()[0] if str(err) else 'no detail'}); {_how_to_place(dataset, file)}") from None
    return verified(dataset, file, target)


def dataset_folder(name: str, data_dir: str | Path | None = None, *, marker: str | None = None) -> Path:
    """The folder holding a dataset read in place (every file below it is checked when it is read).

    ``marker`` is a file of the dataset whose presence identifies the folder (default: its first file).
    """
    dataset = get_dataset(name)
    marker = marker or next(iter(dataset.files))
    return fetch(name, marker, data_dir).parents[len(Path(marker).parts) - 1]


def status(name: str, data_dir: str | Path | None = None) -> dict:
    """Whether every file of a dataset is on this machine, and where (no hashing, no download)."""
    dataset = get_dataset(name)
    found = {file: next((p for p in candidates(dataset, file, data_dir) if p.is_file()), None) for file in dataset.files}
    present = [p for p in found.values() if p is not None]
    where = sorted({str(p.parents[len(Path(f).parts) - 1]) for f, p in found.items() if p is not None})
    return {"present": len(present), "n_files": len(found), "where": where}
