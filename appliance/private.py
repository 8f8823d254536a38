"""Private files: the appliance's data (account and token hashes, CDRs,
fax images, inbox, outbox, spool) is readable by its own user only.

:func:`set_private_umask` makes every file and directory the process creates
0600 / 0700; :func:`tighten` fixes an existing tree (installs made before
this, or files copied in) by removing all group and other permission bits.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PRIVATE_UMASK", "Tightened", "private_file", "set_private_umask", "sqlite_files", "tighten"]

PRIVATE_UMASK = 0o077


def set_private_umask() -> int:
    """Set the process umask to 077; returns the previous one."""
    return os.umask(PRIVATE_UMASK)


@dataclass
class Tightened:
    """What :func:`tighten` changed."""

    count: int = 0  # paths whose mode was changed
    failed: list[str] = field(default_factory=list)  # "path: problem", paths that could not be changed


def _tighten_one(path: str, report: Tightened) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        report.failed.append(f"{path}: {exc.strerror or exc}")
        return
    if stat.S_ISLNK(st.st_mode) or not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
        return  # symbolic links are not followed; sockets and devices are not ours to change
    mode = stat.S_IMODE(st.st_mode)
    if not mode & 0o077:
        return
    try:
        os.chmod(path, mode & ~0o077)
    except OSError as exc:
        report.failed.append(f"{path}: {exc.strerror or exc}")
        return
    report.count += 1


def tighten(roots: Iterable[str | Path]) -> Tightened:
    """Remove group/other permissions from every directory and regular file
    under each existing root (the root included), without following symbolic
    links."""
    report = Tightened()
    seen: set[str] = set()
    for root in roots:
        top = os.path.abspath(root)
        if top in seen or not os.path.lexists(top):
            continue
        seen.add(top)
        _tighten_one(top, report)
        if not os.path.isdir(top) or os.path.islink(top):
            continue
        for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
            for name in dirnames + filenames:
                full = os.path.join(dirpath, name)
                if full not in seen:
                    _tighten_one(full, report)
    return report


def sqlite_files(url: str) -> list[Path]:
    """The database file of a ``sqlite:///`` URL and its journal files ([] for other URLs)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return []
    name = url[len(prefix) :].split("?", 1)[0]
    if not name or name == ":memory:":
        return []
    db = Path(name)
    return [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"), db.with_name(db.name + "-journal")]


def private_file(path: Path, make: Callable[[], str]) -> tuple[str, bool]:
    """Read a generated secret from ``path``, creating it (mode 0600) if absent;
    returns (value, created)."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip(), False
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(value + "\n")
    return value, True
