"""``neurometarl datasets``: the registered datasets, their terms, and whether they are on this machine.

    neurometarl datasets [--data-dir DIR]          one block per dataset: citation, licence, size, present, where
    neurometarl datasets fetch NAME [--data-dir]   download a dataset into pooch's cache (SHA-256 checked)
    neurometarl datasets verify NAME [--data-dir]  check every file of a dataset against its SHA-256
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from tyro.conf import Positional, arg

from ..cli import DataDir, Quiet
from ..errors import ConfigError
from ..progress import progress_bar


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


@dataclass(frozen=True)
class Datasets:
    """``datasets [list|fetch|verify] [NAME]``: list the registered datasets, fetch one or verify its files."""

    action: Annotated[Positional[Literal["list", "fetch", "verify"]], arg(metavar="ACTION")] = "list"  # list (default), fetch a dataset into the cache, or verify its files' SHA-256
    name: Annotated[Positional[str | None], arg(metavar="NAME")] = None  # dataset name, for fetch and verify
    quiet: Quiet = False
    data_dir: DataDir = None

    def run(self) -> int:
        """List, or fetch/verify ``name``: 0 when every file is present and matches, 2 when some are absent."""
        from .registry import DATASETS, fetch, find, get_dataset, status

        if self.action == "list":
            for d in DATASETS.values():
                s = status(d.name)
                present = "yes" if s["present"] == s["n_files"] else f"no ({s['present']} of {s['n_files']} files)"
                print(f"{d.name}  [{d.kind}]  {d.title}\n  citation: {d.citation}\n  licence:  {d.licence}\n"
                      f"  source:   {d.source}\n  size:     {_megabytes(d.size_bytes)} in {len(d.files)} file(s)\n"
                      f"  present:  {present}" + (f"  at {', '.join(s['where'])}" if s["where"] else "") + "\n")
            return 0
        if not self.name:
            raise ConfigError(f"`neurometarl datasets {self.action}` needs a dataset name: {', '.join(DATASETS)}")
        dataset = get_dataset(self.name)
        step = fetch if self.action == "fetch" else find
        missing = [f for f in progress_bar(dataset.files, desc=f"{self.action} {dataset.name}", unit="file",
                                           show=not (self.quiet or len(dataset.files) < 10)) if step(dataset.name, f) is None]
        if missing:
            print(f"{dataset.name}: {len(missing)} of {len(dataset.files)} files absent (e.g. {missing[0]}); "
                  f"`neurometarl datasets fetch {dataset.name}` downloads them")
            return 2
        print(f"{dataset.name}: {len(dataset.files)} file(s) present and matching their SHA-256")
        return 0
