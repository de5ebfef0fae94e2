"""One atomic writer for every file the package writes.

:func:`atomic_path` yields a unique temporary path in the target's folder; the caller (or a library:
``to_netcdf``, ``torch.save``, ``savefig``, ``to_csv``) writes it; on success the file is flushed to disk
and renamed over the target with :func:`os.replace`, so a reader sees the old file or the new one,
never half of one. On any failure (an exception, a full disk, Ctrl-C) the temporary file is removed.
While one process writes a path, another that tries the same path is told so at once
(:class:`~neurometarl.errors.WriteError`) instead of silently replacing it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import WriteError

#: paths this process holds a claim on (a second claim from the same process is a no-op, not a conflict)
_HELD: set[Path] = set()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def claim(path: str | os.PathLike) -> Iterator[Path]:
    """Hold an exclusive claim on ``path`` (a lock file beside it) for the time of a write or a command.

    Raises :class:`WriteError` at once when another process holds it. The lock file is removed on release.
    """
    path = Path(path)
    key = path.resolve()
    if key in _HELD:
        yield path
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(f".{path.name}.lock")
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise WriteError(f"{path} is being written by another process (pid {holder}); wait for it to finish "
                             "or choose another output path") from None
        try:  # the holder before us may have removed the lock file after we opened it: lock the current one
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    _HELD.add(key)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield path
    finally:
        _HELD.discard(key)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; after the block, fsync it and rename it to ``path``
    (holding :func:`claim` on ``path`` meanwhile)."""
    path = Path(path)
    if path.is_dir():
        raise WriteError(f"{path} is a folder; give a file path to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    with claim(path):
        fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
        os.close(fd)
        tmp = Path(name)
        try:
            yield tmp
            _fsync(tmp)
            os.replace(tmp, path)
        except OSError as err:
            tmp.unlink(missing_ok=True)
            if err.errno in (errno.ENOSPC, errno.EDQUOT):
                raise WriteError(f"no space left on the device writing {path}; free some space or choose "
                                 "another output folder (nothing was written)") from None
            raise
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | os.PathLike, obj, **options) -> Path:
    """Write ``obj`` as indented JSON to ``path`` atomically (``options`` go to :func:`json.dumps`)."""
    return write_text(path, json.dumps(obj, indent=2, **options))


def write_csv(frame, path: str | os.PathLike, **options) -> Path:
    """Write a pandas DataFrame to CSV atomically (``options`` go to ``DataFrame.to_csv``)."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, **options)
    return Path(path)


def check_output(path: str | os.PathLike, *, folder: bool = False) -> Path:
    """Refuse an output path of the wrong kind before any work starts (a folder where a file is written,
    or a file where a folder is), naming the fix."""
    path = Path(path)
    if folder and path.exists() and not path.is_dir():
        raise WriteError(f"--out {path} is an existing file; give a folder path")
    if not folder and path.is_dir():
        raise WriteError(f"--out {path} is an existing folder; give a file path inside it or elsewhere")
    return path
