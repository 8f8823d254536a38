"""Durable files: the one way the appliance writes a file that must survive a
crash (spools, indexes, cursors) — temporary file, fsync, atomic rename, fsync
of the directory — and removes one so that the removal survives too.

Errors are ``OSError``; callers turn them into their own, specific errors."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["fsync_dir", "remove_durably", "write_atomically"]


def fsync_dir(directory: Path) -> None:
    """Make the directory's entries (a rename, a new or removed file) durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data``: a reader sees the old or the new file, never half of one,
    and after a crash the new one is there once this returns."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def remove_durably(path: Path) -> None:
    """Remove ``path`` (nothing to do when it is gone) so that it stays removed after a crash."""
    path.unlink(missing_ok=True)
    fsync_dir(path.parent)
