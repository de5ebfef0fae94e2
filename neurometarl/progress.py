"""Progress bars: one convention for every loop that can run longer than a few seconds.

Bars (tqdm, with rate and ETA) go to stderr and show only when stderr is a terminal, so logs, CI and
captured output stay clean; :func:`quiet` turns them off for a block (the CLI's ``--quiet``).
"""

from __future__ import annotations

import contextlib
import contextvars

_QUIET = contextvars.ContextVar("neurometarl_quiet", default=False)


def progress_bar(iterable=None, *, desc: str, total: int | None = None, unit: str = "it", show: bool | None = None,
                 **options):
    """A tqdm bar over ``iterable`` (or one updated by hand with ``total``); ``options`` go to tqdm.

    ``show``: ``None`` (default) on a terminal only, and not inside :func:`quiet`; ``True`` always (the
    bar stays when done); ``False`` never.
    """
    from tqdm.auto import tqdm

    if show is None:
        disable = True if _QUIET.get() else None  # tqdm's None: only when stderr is a terminal
    else:
        disable = not show
    return tqdm(iterable, desc=desc, total=total, unit=unit, disable=disable, leave=show is True, dynamic_ncols=True,
                **options)


@contextlib.contextmanager
def quiet(on: bool = True):
    """No terminal progress bars inside this block (bars asked for with ``show=True`` still show)."""
    token = _QUIET.set(on)
    try:
        yield
    finally:
        _QUIET.reset(token)
