"""``neurometarl datasets``: the registered datasets, their terms, and whether they are on this machine.

    neurometarl datasets [--data-dir DIR]          one block per dataset: citation, licence, size, present, where
    neurometarl datasets fetch NAME [--data-dir]   download a dataset into pooch's cache (SHA-256 checked)
    neurometarl datasets verify NAME [--data-dir]  check every file of a dataset against its SHA-256
"""

from __future__ import annotations

from ..errors import ConfigError
from ..progress import progress_bar


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _datasets(args) -> int:
    from .registry import DATASETS, fetch, find, get_dataset, status

    if args.action == "list":
        for d in DATASETS.values():
            s = status(d.name)
            present = "yes" if s["present"] == s["n_files"] else f"no ({s['present']} of {s['n_files']} files)"
            print(f"{d.name}  [{d.kind}]  {d.title}\n  citation: {d.citation}\n  licence:  {d.licence}\n"
                  f"  source:   {d.source}\n  size:     {_megabytes(d.size_bytes)} in {len(d.files)} file(s)\n"
                  f"  present:  {present}" + (f"  at {', '.join(s['where'])}" if s["where"] else "") + "\n")
        return 0
    if not args.name:
        raise ConfigError(f"`neurometarl datasets {args.action}` needs a dataset name: {', '.join(DATASETS)}")
    dataset = get_dataset(args.name)
    step = fetch if args.action == "fetch" else find
    missing = [f for f in progress_bar(dataset.files, desc=f"{args.action} {dataset.name}", unit="file",
                                       show=not (args.quiet or len(dataset.files) < 10)) if step(dataset.name, f) is None]
    if missing:
        print(f"{dataset.name}: {len(missing)} of {len(dataset.files)} files absent (e.g. {missing[0]}); "
              f"`neurometarl datasets fetch {dataset.name}` downloads them")
        return 2
    print(f"{dataset.name}: {len(dataset.files)} file(s) present and matching their SHA-256")
    return 0


def add_commands(subparsers) -> None:
    """Declare ``datasets [list|fetch|verify] [NAME]`` (``--quiet``; the CLI adds ``--data-dir``)."""
    p = subparsers.add_parser("datasets")
    p.add_argument("action", nargs="?", default="list", choices=("list", "fetch", "verify"),
                   help="list (default), fetch a dataset into the cache, or verify its files' SHA-256")
    p.add_argument("name", nargs="?", help="dataset name, for fetch and verify")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_datasets)
