"""PostgreSQL specifics: reconnecting after the server drops a connection, errors."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import psycopg
import pytest

from appliance.cli import CliIO, main
from radius.store import Account, StoreError, open_store
from radius.store.postgresql import redact_dsn
from tests.pg import PostgresCluster


@pytest.mark.interop
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


@pytest.mark.interop
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


@pytest.mark.interop
def test_admin_cli_on_postgresql(pg_cluster: PostgresCluster, tmp_path: Path) -> None:
    """The admin commands work the same on a PostgreSQL store."""
    config = tmp_path / "c.toml"
    config.write_text(f'[storage]\nurl = "{pg_cluster.create_database("cli")}"\n')

    def run(*argv: str) -> tuple[int, str]:
        io = CliIO(stdout=StringIO(), stderr=StringIO())
        code = main(["--config", str(config), *argv], io=io)
        return code, io.stdout.getvalue() + io.stderr.getvalue()  # type: ignore[attr-defined]

    assert run("accounts", "add", "Alice", "--password", "pw")[0] == 0
    (tmp_path / "dids.csv").write_text("did,account\n5551,alice\n5552,\n")
    assert run("import", "dids", str(tmp_path / "dids.csv"))[0] == 0
    code, out = run("dids", "list", "--format", "json")
    assert code == 0 and [d["account"] for d in json.loads(out)] == ["Alice", ""]
    assert run("accounts", "show", "bob") == (1, "faxappliance: no account named 'bob'\n")
