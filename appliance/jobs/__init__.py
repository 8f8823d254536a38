"""The persistent outbound job queue: ``open_job_store(url)`` and the model.

URLs are those of ``[storage] url`` (``sqlite:///PATH``, ``postgresql://…``);
the job tables are prefixed ``job_`` and can share the account store's
database.  The Twisted side is ``appliance.jobs.scheduler.JobScheduler``.
"""

from __future__ import annotations

from typing import Any

from appliance.jobs.choices import CloudState, FaxResolution, RouteFilter
from appliance.jobs.model import (
    CAUSES,
    CLOUD,
    TERMINAL,
    TRANSITIONS,
    Attempt,
    Cause,
    Claim,
    ClaimLost,
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
    RecoveredSession,
    RecoveryReport,
    Result,
    RetryPolicy,
    check_transition,
    number_key,
)
from appliance.jobs.sqlite import SqliteJobStore
from appliance.jobs.store import JobStore
from radius.store.urls import open_by_url

__all__ = [
    "CAUSES",
    "CLOUD",
    "TERMINAL",
    "TRANSITIONS",
    "Attempt",
    "Cause",
    "Claim",
    "ClaimLost",
    "CloudState",
    "CloudStatus",
    "Decision",
    "Entry",
    "EntryState",
    "Fax",
    "FaxResolution",
    "FaxSpec",
    "IllegalTransition",
    "JobError",
    "JobStore",
    "NotFound",
    "Recipient",
    "RecoveredSession",
    "RecoveryReport",
    "Result",
    "RetryPolicy",
    "RouteFilter",
    "check_transition",
    "number_key",
    "open_job_store",
]


def open_job_store(
    url: str,
    *,
    policy: RetryPolicy | None = None,
    init: bool = True,
    lease_seconds: float | None = None,
    **options: Any,
) -> JobStore:
    """Open the job queue in the database named by ``url`` and (unless
    ``init=False``) create its tables if needed.  SQLite options:
    ``synchronous``, ``busy_timeout`` (also ``?synchronous=`` in the URL)."""

    def sqlite(path: str, **kw: Any) -> JobStore:
        return SqliteJobStore(path, policy=policy, **kw)

    def postgresql(dsn: str, **kw: Any) -> JobStore:
        from appliance.jobs.postgresql import PostgresJobStore  # psycopg loads only for a postgresql:// URL

        return PostgresJobStore(dsn, policy=policy, **kw)

    store: JobStore = open_by_url(
        url, sqlite=sqlite, postgresql=postgresql, error=JobError, what="job store", init=init, **options
    )
    if lease_seconds is not None:
        store.lease_seconds = float(lease_seconds)
    return store
