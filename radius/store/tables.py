"""Tables of another component in the database of a store.

The job queue and the web directory keep their own tables beside the account
store's and reuse its connection handling (per-thread SQLite connections with
one writer lock, PostgreSQL connections per thread, ``?`` placeholders
rewritten per dialect).  This base class gives them that handling: readers,
writers, placeholder translation (:meth:`AttachedTables._sql`), statements and
schema set-up, so a subclass need not reach into the store itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

__all__ = ["AttachedTables"]


class AttachedTables:
    """Base for a component's tables in the database of ``db`` (a store from
    :mod:`radius.store.sqlite` or :mod:`radius.store.postgresql`)."""

    def __init__(self, db: Any) -> None:
        self._db = db

    def _reader(self) -> AbstractContextManager[Any]:
        return self._db._reader()

    def _writer(self) -> AbstractContextManager[Any]:
        """A connection inside one write transaction (committed on exit)."""
        return self._db._writer()

    def _sql(self, sql: str) -> str:
        """``sql`` (with ``?`` placeholders) in the store's dialect, e.g. for ``executemany``."""
        return str(self._db._sql(sql))

    def _run(self, conn: Any, sql: str, params: Sequence[Any] = ()) -> Any:
        return conn.execute(self._sql(sql), params)

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._reader() as conn:
            return list(self._run(conn, sql, params).fetchall())

    def _create_tables(self, schema: str) -> None:
        """Run ``schema`` (statements separated by lines holding only ``;``)."""
        with self._writer() as conn:
            self._db._schema_prologue(conn)
            for statement in schema.split("\n;\n"):
                if statement.strip():
                    conn.execute(statement)

    def close(self) -> None:
        self._db.close()
