"""``neurometarl experiment NAME``: train or load, record, analyse, draw, score."""

from __future__ import annotations



def add_commands(subparsers) -> None:
    """Declare ``experiment NAME`` (``--out``, ``--retrain``, ``--seeds``, ``--seed``, ``--scale``,
    ``--size NAME=N``, ``--quiet``)."""
    from ..cli import count

    p = subparsers.add_parser("experiment")
    p.add_argument("name", help="experiment name, e.g. fig1, sim1, sim2")
    p.add_argument("--out", default=None, help="output folder (default results/NAME)")
    p.add_argument("--retrain", action="store_true", help="train every seed from scratch instead of loading shipped checkpoints")
    p.add_argument("--n-seeds", "--seeds", dest="n_seeds", type=count(1), default=None,
                   help="number of replicas (default: the experiment's, usually 8; --seeds is the same option)")
    p.add_argument("--seed", type=count(0), default=0, help="seed for the test sessions")
    p.add_argument("--scale", type=float, default=1.0, help="fraction of the training budget with --retrain (quick checks)")
    p.add_argument("--size", type=_size, action="append", default=[], metavar="NAME=N",
                   help="shrink one of the analysis's sizes for a quick check, e.g. --size n_test=20 (repeatable; "
                        "the scorecard lists each experiment's sizes)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_experiment)


def _size(text: str) -> tuple[str, int]:
    import argparse

    name, sep, value = text.partition("=")
    if not sep or not name or not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected NAME=N with N a whole number >= 1, got {text!r}")
    return name, int(value)


def _experiment(args) -> int:
    from ..report import claim_line
    from .runner import run_experiment

    card = run_experiment(args.name, args.out or f"results/{args.name}", retrain=args.retrain, n_seeds=args.n_seeds,
                          seed=args.seed, progress=not args.quiet, scale=args.scale, sizes=dict(args.size))
    for c in card["claims"]:
        print(claim_line(c))
    print(f"scorecard: {args.out or 'results/' + args.name}/scorecard.json ({card['elapsed_s']} s)")
    return 0 if card["all_pass"] else 1
