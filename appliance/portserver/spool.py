"""The durable spool of accounting Stops the RADIUS servers have not yet acknowledged.

A directory holding one JSON file per Stop.  A file is written atomically
(temporary file, fsync, rename, fsync of the directory), so after a crash a
Stop is either wholly there or not there at all; it is removed only after the
Accounting-Response arrived.  Files are small, so the blocking writes are
acceptable on the reactor thread.

The file name is derived from the session id and the billed account, so a Stop
spooled twice for the same session is one file (and the server dedupes the
Stop on the same pair).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from appliance.durable import remove_durably, write_atomically
from appliance.portserver.model import Attr

__all__ = ["SpoolError", "SpooledStop", "StopSpool", "spool_key"]

_SUFFIX = ".stop.json"


class SpoolError(Exception):
    """The spool directory or one of its files cannot be used."""


@dataclass(frozen=True)
class SpooledStop:
    key: str
    attributes: tuple[Attr, ...]
    stopped_at: float


def spool_key(session_id: str, account: str) -> str:
    return hashlib.sha256(f"{session_id}\x00{account.casefold()}".encode()).hexdigest()[:40]


class StopSpool:
    """One JSON file per undelivered Stop under ``directory``."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SpoolError(f"cannot create the Stop spool {self.directory}: {exc.strerror}") from None

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}{_SUFFIX}"

    def put(self, key: str, attributes: Sequence[Attr], stopped_at: float) -> None:
        """Write one Stop durably (atomic replace)."""
        for name, value in attributes:
            if isinstance(value, bytes):
                raise SpoolError(f"attribute {name} has a binary value; the spool keeps text and numbers")
        body = json.dumps({"stopped_at": stopped_at, "attributes": [list(a) for a in attributes]})
        final = self._path(key)
        try:
            write_atomically(final, body.encode("utf-8"))
        except OSError as exc:
            raise SpoolError(f"cannot write {final}: {exc.strerror}") from None

    def remove(self, key: str) -> None:
        try:
            remove_durably(self._path(key))
        except OSError as exc:
            raise SpoolError(f"cannot remove {self._path(key)}: {exc.strerror}") from None

    def pending(self) -> list[SpooledStop]:
        """Every spooled Stop, oldest first.  Unreadable files are reported, not skipped."""
        out: list[SpooledStop] = []
        for path in sorted(self.directory.glob(f"*{_SUFFIX}")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                attrs = tuple((str(k), v) for k, v in data["attributes"])
                out.append(SpooledStop(path.name[: -len(_SUFFIX)], attrs, float(data["stopped_at"])))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise SpoolError(f"spooled Stop {path} is unreadable: {exc}") from None
        out.sort(key=lambda s: s.stopped_at)
        return out

    def __len__(self) -> int:
        return sum(1 for _ in self.directory.glob(f"*{_SUFFIX}"))
