"""SQLite specifics: open_store URLs, WAL + durability pragmas, thread safety."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from radius.store import Account, AccountingRecord, Did, StoreError, open_store
from radius.store._group_commit import Pending
from radius.store._records import cdr_row
from radius.store.sqlite import SqliteStore


def _cdr(key: str) -> AccountingRecord:
    return AccountingRecord(key, 1.0, "192.0.2.1", 2, "s", "u", {"FB-Dial-Number": "1"})


def _pragma(store: object, name: str) -> object:
    assert isinstance(store, SqliteStore)
    with store._reader() as conn:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]


def _run_threads(target: object, count: int) -> list[BaseException]:
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            target(n)  # type: ignore[operator]
        except BaseException as exc:  # reported to the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


def test_wal_and_full_sync_by_default(tmp_path: Path) -> None:
    """A file store is in WAL mode with synchronous=FULL (2) and foreign keys on."""
    store = open_store(f"sqlite:///{tmp_path}/a.db")
    assert isinstance(store, SqliteStore)
    try:
        assert _pragma(store, "journal_mode") == "wal"
        assert _pragma(store, "synchronous") == 2
        assert _pragma(store, "foreign_keys") == 1
    finally:
        store.close()


def test_synchronous_option_in_url(tmp_path: Path) -> None:
    """?synchronous=normal selects NORMAL (1); an unknown option is an error."""
    store = open_store(f"sqlite:///{tmp_path}/a.db?synchronous=normal")
    try:
        assert _pragma(store, "synchronous") == 1
    finally:
        store.close()
    with pytest.raises(StoreError, match="unknown SQLite URL option 'fsync'"):
        open_store(f"sqlite:///{tmp_path}/a.db?fsync=0")
    with pytest.raises(StoreError, match="synchronous must be one of"):
        open_store(f"sqlite:///{tmp_path}/a.db?synchronous=sometimes")


def test_parent_directory_created(tmp_path: Path) -> None:
    """The directory of a new database file is created."""
    store = open_store(f"sqlite:///{tmp_path}/deep/er/store.db")
    store.close()
    assert (tmp_path / "deep" / "er" / "store.db").exists()


@pytest.mark.parametrize(
    "url, message",
    [("mysql://x/y", "unsupported store URL 'mysql'"), ("sqlite:///", "names no file")],
)
def test_bad_urls(url: str, message: str) -> None:
    """Unknown schemes and empty paths are clear errors."""
    with pytest.raises(StoreError, match=message):
        open_store(url)


def test_unopenable_file(tmp_path: Path) -> None:
    """A path that cannot be a database file gives a StoreError naming it."""
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError, match=r"dir\.db"):
        open_store(f"sqlite:///{tmp_path}/dir.db")


def test_closed_store_refuses_work(tmp_path: Path) -> None:
    """After close(), calls fail with a StoreError instead of reopening."""
    store = open_store(f"sqlite:///{tmp_path}/a.db")
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.get_account("x")


def test_memory_store_shared_between_threads() -> None:
    """sqlite:///:memory: is one database for every thread, safely shared."""
    store = open_store("sqlite:///:memory:")
    try:
        store.add_account(Account("a"))

        def work(n: int) -> None:
            for i in range(50):
                assert store.get_account("A") is not None
                assert store.record_accounting(_cdr(f"{n}-{i}"), ("1", 0))
                store.add_did(Did(f"{n}{i:03d}", account="a"))

        assert _run_threads(work, 6) == []
        assert len(store.list_cdrs()) == 300
        assert len(store.list_dids()) == 300
    finally:
        store.close()


def test_file_store_threads_read_while_writing(tmp_path: Path) -> None:
    """Readers and writers in eight threads: no 'database is locked', no lost write."""
    store = open_store(f"sqlite:///{tmp_path}/a.db")
    try:
        store.add_accounts(Account(f"u{i}") for i in range(100))
        seen = threading.local()

        def work(n: int) -> None:
            seen.connections = set()
            for i in range(100):
                assert store.get_account(f"U{i}") is not None
                if n % 2:
                    store.record_accounting(_cdr(f"{n}-{i}"), ("2", i % 3))
                else:
                    store.update_account(f"u{i}", snd_ani=f"{n}-{i}")

        assert _run_threads(work, 8) == []
        assert len(store.list_cdrs()) == 400
        assert isinstance(store, SqliteStore)
        assert len(store._connections) >= 8  # one connection per thread
    finally:
        store.close()


def test_other_process_sees_committed_cdr(tmp_path: Path) -> None:
    """Once record_accounting returns, a separate connection sees the record."""
    path = tmp_path / "a.db"
    store = open_store(f"sqlite:///{path}")
    try:
        store.record_accounting(_cdr("durable"))
        with sqlite3.connect(path) as other:
            assert other.execute("SELECT dedupe_key FROM accounting").fetchall() == [("durable",)]
    finally:
        store.close()


def test_group_commit_isolates_a_bad_record(tmp_path: Path) -> None:
    """A record that fails inside a shared commit fails alone; the others are stored."""
    store = open_store(f"sqlite:///{tmp_path}/a.db")
    try:
        assert isinstance(store, SqliteStore)
        good: list[Pending[bool]] = [Pending((cdr_row(_cdr(f"g{i}")), None)) for i in range(3)]
        bad: Pending[bool] = Pending((("bad", None, "c", 2, "s", "u", "{}", "[]"), None))  # NULL received_at
        store._accounting.run_batch([good[0], bad, *good[1:]])
        assert [g.result for g in good] == [True, True, True]
        assert bad.done and isinstance(bad.error, sqlite3.IntegrityError)
        assert len(store.list_cdrs()) == 3
    finally:
        store.close()
