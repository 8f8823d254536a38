"""SQLite store: the embedded default (one file, WAL mode).

Thread safety: every thread gets its own connection (reads run in parallel
under WAL); writes are serialised by one in-process lock, so pool threads
never spin in SQLite's busy handler, and ``BEGIN IMMEDIATE`` with a busy
timeout covers other processes (e.g. the admin CLI) writing to the same file.
``:memory:`` databases use one shared connection behind one lock.

Durability: ``PRAGMA synchronous=FULL`` by default, so a committed CDR has
reached the disk before ``record_accounting`` returns; accounting records
arriving together share one commit (see _group_commit.py).
"""

from __future__ import annotations

import enum
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, ClassVar

from radius.store._base import Constraint
from radius.store._common import SqlStore
from radius.store.api import Dialect, StoreError

__all__ = ["SqliteStore", "Synchronous"]


class Synchronous(enum.StrEnum):
    """SQLite's ``PRAGMA synchronous`` levels this store accepts."""

    FULL = "FULL"
    NORMAL = "NORMAL"
    EXTRA = "EXTRA"
    OFF = "OFF"


class SqliteStore(SqlStore):
    schema_types: ClassVar[Mapping[str, str]] = {"ident": "INTEGER PRIMARY KEY", "bytes": "BLOB"}
    dialect = Dialect.SQLITE

    def __init__(self, path: str, *, synchronous: str = "FULL", busy_timeout: float = 30.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        try:
            sync = Synchronous(synchronous.upper())
        except ValueError:
            known = ", ".join(Synchronous)
            raise StoreError(f"synchronous must be one of {known}, not {synchronous!r}") from None
        self._path = path
        self._synchronous = sync
        self._busy_timeout = busy_timeout
        self._memory = path == ":memory:" or path.startswith("file::memory:")
        self._write_lock = threading.RLock() if self._memory else threading.Lock()
        self.label = f"SQLite database {path}"
        if not self._memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = self._connection()
        if not self._memory:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"{path}: cannot switch the database to WAL mode (got {mode})")

    @property
    def path(self) -> str:
        return self._path

    @property
    def synchronous(self) -> Synchronous:
        return self._synchronous

    def _connection(self) -> sqlite3.Connection:
        if self._memory and self._connections:
            conn: sqlite3.Connection = self._connections[0]
            return conn
        return self._thread_connection()

    def _open(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self._path,
                timeout=self._busy_timeout,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=256,
            )
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {self.label}: {exc}") from None
        return conn

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        try:
            with self._write_lock if self._memory else nullcontext():
                yield self._connection()
        except sqlite3.IntegrityError:
            raise
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.label}: {exc}") from exc

    @contextmanager
    def _writer(self) -> Iterator[sqlite3.Connection]:
        try:
            with self._write_lock:
                conn = self._connection()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
        except sqlite3.IntegrityError:
            raise
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.label}: {exc}") from exc

    def _constraint(self, exc: BaseException) -> Constraint | None:
        if not isinstance(exc, sqlite3.IntegrityError):
            return None
        name = getattr(exc, "sqlite_errorname", "")
        if name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"):
            return Constraint.UNIQUE
        if name == "SQLITE_CONSTRAINT_FOREIGNKEY":
            return Constraint.FOREIGN
        return Constraint.OTHER
