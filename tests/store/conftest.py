"""Store fixtures: every store test runs against SQLite and a real PostgreSQL.

The PostgreSQL cluster is started once per session (tests/pg.py); each test
gets a fresh database in it.  Locally a missing PostgreSQL skips the
PostgreSQL half with a message naming the Debian package; in CI it fails.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from radius.store import Store, open_store
from tests.pg import PostgresCluster  # the pg_cluster session fixture is in tests/conftest.py


class FakeClock:
    """A settable clock: store timestamps in tests never read wall time."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class CountingTokens:
    """Deterministic ``token_bytes``: 0x00…01, 0x00…02, …"""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, n: int) -> bytes:
        self.count += 1
        return self.count.to_bytes(n, "big")


_db_numbers = itertools.count(1)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.interop)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL for an empty store of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.db"
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database(f"t{next(_db_numbers)}")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def tokens() -> CountingTokens:
    return CountingTokens()


@pytest.fixture
def make_store(store_url: str, clock: FakeClock, tokens: CountingTokens) -> Iterator[Callable[[], Store]]:
    """Opens (more) stores on the same database; all are closed at the end."""
    opened: list[Store] = []

    def make() -> Store:
        store = open_store(store_url, clock=clock, token_bytes=tokens)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Store:
    return make_store()
