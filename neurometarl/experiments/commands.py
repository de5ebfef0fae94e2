"""``neurometarl experiment NAME``: train or load, record, analyse, draw, score."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from tyro.conf import Positional, UseAppendAction, arg

from ..cli import DataDir, Quiet, at_least, described
from ..errors import ConfigError


@dataclass(frozen=True)
class Experiment:
    """``experiment NAME``: one paper simulation end to end; exit 0 when every claim passes, else 1."""

    name: Annotated[Positional[str], arg(metavar="NAME")]  # experiment name, e.g. fig1, sim1, sim2 (see `neurometarl reproduce --help`)
    out: Annotated[str | None, described("results/NAME", "DIR")] = None  # output folder
    retrain: bool = False  # train every seed from scratch instead of loading shipped checkpoints
    n_seeds: Annotated[int | None, described("the experiment's, usually 8", "N", "--seeds")] = None  # number of replicas (--seeds is the same option)
    seed: int = 0  # seed for the test sessions
    scale: float = 1.0  # fraction of the training budget with --retrain (quick checks)
    n_workers: int = 1  # with --retrain: seeds trained at once, one process each (the weights do not depend on it)
    size: Annotated[UseAppendAction[tuple[str, ...]], arg(metavar="NAME=N")] = ()  # shrink one of the analysis's sizes for a quick check, e.g. --size n_test=20 (repeatable; the scorecard lists each experiment's sizes)
    quiet: Quiet = False
    data_dir: DataDir = None

    def check(self) -> None:
        """Reject option values out of range (the CLI calls this after parsing)."""
        at_least(self, n_seeds=1, seed=0, n_workers=1)
        self.sizes()  # a malformed --size fails before any work

    def sizes(self) -> dict[str, int]:
        """``--size NAME=N`` options as ``{NAME: N}``."""
        sizes = {}
        for text in self.size:
            name, sep, value = text.partition("=")
            if not sep or not name or not value.isdigit() or int(value) < 1:
                raise ConfigError(f"--size expects NAME=N with N a whole number >= 1, got {text!r}")
            sizes[name] = int(value)
        return sizes

    def run(self) -> int:
        """Run the experiment and print its claims."""
        from ..report import claim_line
        from .runner import run_experiment

        out = self.out or f"results/{self.name}"
        card = run_experiment(self.name, out, retrain=self.retrain, n_seeds=self.n_seeds, seed=self.seed,
                              progress=not self.quiet, scale=self.scale, sizes=self.sizes(), n_workers=self.n_workers)
        for c in card["claims"]:
            print(claim_line(c))
        print(f"scorecard: {out}/scorecard.json ({card['elapsed_s']} s)")
        return 0 if card["all_pass"] else 1
