"""What both store dialects share below the queries: per-thread connections,
the dialect hooks, small query helpers and the schema set-up.

A dialect subclass supplies connections and transactions (``_reader``,
``_writer``), the schema placeholders, how to recognise constraint errors and
how to bulk-insert.  SQL is written with ``?`` parameters; a dialect with
another parameter style translates it once (``_sql``).
"""

from __future__ import annotations

import enum
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from importlib import resources
from typing import Any, ClassVar

from radius.store import changes
from radius.store._sql import BUMP_GROUP, SCHEMA_VERSION
from radius.store.api import Dialect, NotFoundError, StoreError

__all__ = ["Constraint", "SqlBase", "account_key", "no_account"]


class Constraint(enum.Enum):
    """Which kind of integrity constraint a database error reports."""

    UNIQUE = "unique"
    FOREIGN = "foreign"
    OTHER = "other"


def account_key(name: str) -> str:
    return name.casefold()


def no_account(name: str) -> NotFoundError:
    return NotFoundError(f"no account named {name!r}", kind="account", key=name)


class SqlBase:
    """Connections, dialect hooks and helpers of a SQL store; subclassed per dialect."""

    #: schema placeholders, filled by the dialect
    schema_types: ClassVar[Mapping[str, str]] = {}
    #: the dialect, set by the subclass
    dialect: ClassVar[Dialect]

    def __init__(
        self,
        *,
        token_bytes: Callable[[int], bytes] = secrets.token_bytes,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._token_bytes = token_bytes
        self._clock = clock
        self._sql_cache: dict[str, str] = {}
        self._local = threading.local()
        self._connections: list[Any] = []  # every thread's, to close them all
        self._connections_lock = threading.Lock()
        self._closed = False

    # ------------------------------------------------------- connections

    #: how the store names itself in messages (no secrets)
    label = "store"

    def _open(self) -> Any:
        """A new connection (dialect); raises StoreError when that fails."""
        raise NotImplementedError

    def _usable(self, conn: Any) -> bool:
        return True

    def _thread_connection(self) -> Any:
        """This thread's connection, opened on first use (or after it broke)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._usable(conn):
            return conn
        if self._closed:
            raise StoreError(f"{self.label} is closed")
        conn = self._open()
        with self._connections_lock:
            self._connections.append(conn)
        self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close every thread's connection; later calls raise StoreError."""
        with self._connections_lock:
            self._closed = True
            connections, self._connections = self._connections, []
        self._local = threading.local()
        for conn in connections:
            conn.close()

    # ------------------------------------------------------- dialect hooks

    def _reader(self) -> AbstractContextManager[Any]:
        """A connection for one or more reads (autocommit)."""
        raise NotImplementedError

    def _writer(self) -> AbstractContextManager[Any]:
        """A connection inside a write transaction: commit on success, roll back on error."""
        raise NotImplementedError

    def _constraint(self, exc: BaseException) -> Constraint | None:
        """The kind of constraint an integrity error reports; None for any other error."""
        raise NotImplementedError

    def _bulk_insert(
        self, conn: Any, sql: str, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> None:
        conn.cursor().executemany(self._sql(sql), rows)

    def _translate(self, sql: str) -> str:
        return sql

    def _schema_prologue(self, conn: Any) -> None:
        """Run first inside the schema transaction (e.g. take a lock)."""

    # ------------------------------------------------------------ helpers

    def _sql(self, sql: str) -> str:
        text = self._sql_cache.get(sql)
        if text is None:
            text = self._sql_cache[sql] = self._translate(sql)
        return text

    def _run(self, conn: Any, sql: str, params: Sequence[Any] = ()) -> Any:
        return conn.execute(self._sql(sql), params)

    def _one(self, sql: str, params: Sequence[Any]) -> Any:
        with self._reader() as conn:
            return self._run(conn, sql, params).fetchone()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._reader() as conn:
            return list(self._run(conn, sql, params).fetchall())

    def _exists(self, conn: Any, sql: str, params: Sequence[Any]) -> bool:
        return self._run(conn, sql, params).fetchone() is not None

    def _require_account(self, conn: Any, name: str) -> str:
        key = account_key(name)
        if not self._exists(conn, "SELECT 1 FROM accounts WHERE name_key = ?", (key,)):
            raise no_account(name)
        return key

    def _bump_groups(self, conn: Any, keys: Iterable[str]) -> None:
        now = int(self._clock())
        for key in keys:
            self._run(conn, BUMP_GROUP, (now, now, key))

    # ------------------------------------------------------------ lifetime

    def init_schema(self) -> None:
        text = resources.files("radius.store").joinpath("schema.sql").read_text(encoding="utf-8")
        statements = [s.strip() for s in text.format(**self.schema_types).split("\n;\n")]
        with self._writer() as conn:
            self._schema_prologue(conn)
            for statement in statements:
                if statement:
                    conn.execute(statement)
            row = self._run(conn, "SELECT value FROM store_meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                self._run(
                    conn, "INSERT INTO store_meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
            elif int(row[0]) > SCHEMA_VERSION:
                raise StoreError(
                    f"the database has schema version {row[0]}, newer than this program's {SCHEMA_VERSION}"
                )
            changes.install(self, conn)
