"""The persistent outbound job queue: ``open_job_store(url)`` and the model.

URLs are those of ``[storage] url`` (``sqlite:///PATH``, ``postgresql://…``);
the job tables are prefixed ``job_`` and can share the account store's
database.  The Twisted side is ``appliance.jobs.scheduler.JobScheduler``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from appliance.jobs.model import (
    CAUSES,
    CLOUD,
    TERMINAL,
    TRANSITIONS,
    Attempt,
    Cause,
    Claim,
    CloudStatus,
    Decision,
    Entry,
    EntryState,
    Fax,
    FaxSpec,
    IllegalTransition,
    JobError,
    NotFound,
    Recipient,
    RecoveryReport,
    Result,
    RetryPolicy,
    check_transition,
    number_key,
)
from appliance.jobs.store import JobStore

__all__ = [
    "CAUSES", "CLOUD", "TERMINAL", "TRANSITIONS", "Attempt", "Cause", "Claim", "CloudStatus", "Decision", "Entry",
    "EntryState", "Fax", "FaxSpec", "IllegalTransition", "JobError", "JobStore", "NotFound", "Recipient",
    "RecoveryReport", "Result", "RetryPolicy", "check_transition", "number_key", "open_job_store",
]

_SQLITE = "sqlite:///"


def open_job_store(url: str, *, policy: RetryPolicy | None = None, init: bool = True, **options: Any) -> JobStore:
    """Open the job queue in the database named by ``url`` and (unless
    ``init=False``) create its tables if needed.  SQLite options:
    ``synchronous``, ``busy_timeout`` (also ``?synchronous=`` in the URL)."""
    store: JobStore
    if url.startswith(_SQLITE):
        from appliance.jobs.sqlite import SqliteJobStore

        path, _, query = url[len(_SQLITE):].partition("?")
        if not path:
            raise JobError(f"{url!r}: the SQLite URL names no file (sqlite:///PATH)")
        for key, values in parse_qs(query, keep_blank_values=True).items():
            if key != "synchronous":
                raise JobError(f"{url!r}: unknown SQLite URL option {key!r} (known: synchronous)")
            options.setdefault("synchronous", values[-1])
        store = SqliteJobStore(path, policy=policy, **options)
    elif url.startswith(("postgresql://", "postgres://")):
        from appliance.jobs.postgresql import PostgresJobStore

        store = PostgresJobStore(url, policy=policy, **options)
    else:
        raise JobError(f"unsupported job store URL {url.split(':', 1)[0]!r}: use sqlite:///PATH or postgresql://…")
    if init:
        try:
            store.init_schema()
        except BaseException:
            store.close()
            raise
    return store
