"""The job queue on SQLite (the embedded default).

Connections, WAL and pragmas are the account store's
(``radius.store.sqlite.SqliteStore``): one connection per thread, writes
serialised by one in-process lock and ``BEGIN IMMEDIATE`` (a single writer
transaction, so a claim is atomic across processes too), and
``synchronous=FULL`` so a change is on disk before the call returns.
"""

from __future__ import annotations

from typing import Any, ClassVar

from appliance.jobs.model import RetryPolicy
from appliance.jobs.store import JobStore
from radius.store.sqlite import SqliteStore

__all__ = ["SqliteJobStore"]


class SqliteJobStore(JobStore):
    schema_types: ClassVar[dict[str, str]] = {"ident": "INTEGER PRIMARY KEY", "real": "REAL"}

    def __init__(
        self,
        path: str,
        *,
        policy: RetryPolicy | None = None,
        synchronous: str = "FULL",
        busy_timeout: float = 30.0,
        **options: Any,
    ) -> None:
        super().__init__(SqliteStore(path, synchronous=synchronous, busy_timeout=busy_timeout, **options), policy)
