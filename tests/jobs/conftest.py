"""Job store fixtures: every store test runs against SQLite and a real PostgreSQL.

The PostgreSQL cluster is started once per session (tests/pg.py); each test
gets a fresh database.  Locally a missing PostgreSQL skips the PostgreSQL
half; in CI it fails.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from appliance.jobs import JobStore, RetryPolicy, open_job_store
from tests.pg import PostgresCluster  # the pg_cluster session fixture is in tests/conftest.py

_db_numbers = itertools.count(1)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.interop)])
def job_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL for an empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/jobs.db"
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database(f"jobs{next(_db_numbers)}")


@pytest.fixture
def make_jobs(job_url: str) -> Iterator[Callable[..., JobStore]]:
    """Opens (more) job stores on the same database; all are closed at the end."""
    opened: list[JobStore] = []

    def make(policy: RetryPolicy | None = None) -> JobStore:
        store = open_job_store(job_url, policy=policy)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def jobs(make_jobs: Callable[..., JobStore]) -> JobStore:
    return make_jobs()
