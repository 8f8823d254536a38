"""The RADIUS server's accounting spool: records that arrive while the account
store is unreachable are written here durably (temp file, fsync, rename,
directory fsync) and acknowledged, then written to the store once it answers
again.  A record spooled twice (a retransmission during the outage), or
written by two worker processes replaying the same file, is stored once: the
store deduplicates on the record's ``dedupe_key``.

Blocking file I/O: call from a pool thread."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from radius.store.api import AccountingRecord

__all__ = ["AccountingSpool", "AccountingSpoolError", "Spooled"]

_SUFFIX = ".acct.json"
Spooled = tuple[AccountingRecord, "tuple[str, int] | None"]


class AccountingSpoolError(Exception):
    """The spool cannot be written or read (a message naming the path)."""


class AccountingSpool:
    """One file per spooled batch in ``directory`` (shared by worker processes)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._names = itertools.count()

    def put(self, items: Sequence[Spooled], now: float) -> None:
        """Keep ``items`` durably; raises AccountingSpoolError when it cannot."""
        body = json.dumps([_record_json(record, called) for record, called in items]).encode("utf-8")
        name = f"{now:017.6f}-{os.getpid()}-{next(self._names)}{_SUFFIX}"
        final = self.directory / name
        tmp = self.directory / f".{name}.tmp"
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                view = memoryview(body)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, final)
            self._sync_directory()
        except OSError as exc:
            raise AccountingSpoolError(f"cannot write the accounting spool {final}: {exc.strerror}") from None

    def files(self) -> list[Path]:
        """The spooled batches, oldest first."""
        try:
            return sorted(self.directory.glob(f"*{_SUFFIX}"))
        except OSError:
            return []

    def read(self, path: Path) -> list[Spooled]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return [_record_from(item) for item in data]
        except FileNotFoundError:
            return []  # another worker replayed it meanwhile
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise AccountingSpoolError(f"spooled accounting {path} is unreadable: {exc}") from None

    def remove(self, path: Path) -> None:
        try:
            path.unlink(missing_ok=True)
            self._sync_directory()
        except OSError as exc:
            raise AccountingSpoolError(f"cannot remove {path}: {exc.strerror}") from None

    def replay(self, store: Any) -> int:
        """Write every spooled batch to ``store`` (oldest first) and remove it; the number of
        records written.  The store's errors (still unreachable) propagate: the rest waits."""
        written = 0
        for path in self.files():
            items = self.read(path)
            if items:
                store.record_accounting_many(items)
                written += len(items)
            self.remove(path)
        return written

    def _sync_directory(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _record_json(record: AccountingRecord, called: tuple[str, int] | None) -> dict[str, Any]:
    return {
        "dedupe_key": record.dedupe_key,
        "received_at": record.received_at,
        "client": record.client,
        "status_type": record.status_type,
        "session_id": record.session_id,
        "user_name": record.user_name,
        "attributes": record.attributes,
        "raw_attributes": [list(r) for r in record.raw_attributes],
        "called": list(called) if called is not None else None,
    }


def _record_from(item: dict[str, Any]) -> Spooled:
    record = AccountingRecord(
        dedupe_key=str(item["dedupe_key"]),
        received_at=float(item["received_at"]),
        client=str(item["client"]),
        status_type=int(item["status_type"]),
        session_id=str(item["session_id"]),
        user_name=str(item["user_name"]),
        attributes=dict(item["attributes"]),
        raw_attributes=tuple((int(v), int(t), str(h)) for v, t, h in item["raw_attributes"]),
    )
    called = item["called"]
    return record, (str(called[0]), int(called[1])) if called is not None else None
