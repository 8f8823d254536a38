"""PostgreSQL specifics: reconnecting after the server drops a connection, errors."""

from __future__ import annotations

import psycopg
import pytest

from radius.store import Account, StoreError, open_store
from radius.store.postgresql import redact_dsn
from tests.pg import PostgresCluster


def test_reconnects_after_connection_loss(pg_cluster: PostgresCluster) -> None:
    """When the server ends the store's connection, one call fails with StoreError and the next reconnects."""
    url = pg_cluster.create_database("reconnect")
    store = open_store(url)
    try:
        store.add_account(Account("alice"))
        with psycopg.connect(pg_cluster.url("reconnect"), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = 'reconnect' AND pid <> pg_backend_pid()"
            )
        with pytest.raises(StoreError, match="PostgreSQL"):
            store.get_account("alice")
        found = store.get_account("ALICE")
        assert found is not None and found.name == "alice"
    finally:
        store.close()


def test_unreachable_server_is_a_store_error(pg_cluster: PostgresCluster) -> None:
    """A DSN naming a missing database fails with a StoreError that hides the password."""
    url = pg_cluster.url("nosuchdb").replace("postgresql://postgres@", "postgresql://postgres:hunter2@")
    with pytest.raises(StoreError, match="cannot connect to PostgreSQL") as info:
        open_store(url)
    assert "hunter2" not in str(info.value)


def test_redact_dsn() -> None:
    """Passwords in URIs and keyword DSNs are replaced by ***."""
    assert redact_dsn("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert redact_dsn("host=h password=pw dbname=d") == "host=h password=*** dbname=d"
    assert redact_dsn("postgresql://u@h/db?password=pw&port=5") == "postgresql://u@h/db?password=***&port=5"
    assert redact_dsn("postgresql://u@h/db") == "postgresql://u@h/db"
