"""The store contract (radius/store/api.py), run against SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import threading
import uuid as uuidlib
from collections.abc import Callable
from typing import Any

import pytest

from radius.store import (
    Account,
    AccountingRecord,
    Device,
    Did,
    DuplicateError,
    NotFoundError,
    SenderEmail,
    Store,
    StoreError,
)
from tests.store.conftest import CountingTokens, FakeClock


def cdr(key: str, at: float = 100.0, status: int = 2, **attributes: Any) -> AccountingRecord:
    return AccountingRecord(
        dedupe_key=key,
        received_at=at,
        client="192.0.2.1",
        status_type=status,
        session_id="sess-" + key,
        user_name="alice",
        attributes=attributes,
    )


def count_cdrs(store: Store) -> int:
    return len(store.list_cdrs())


# ----------------------------------------------------------------- accounts


def test_account_lookup_is_case_insensitive(store: Store) -> None:
    """An account added as 'Alice' is found as 'ALICE' and keeps its spelling."""
    store.add_account(Account("Alice", password_hash="scrypt$x"))
    found = store.get_account("aLICE")
    assert found is not None
    assert found.name == "Alice"
    assert found.password_hash == "scrypt$x"
    assert store.get_account("bob") is None


def test_account_round_trips_every_field(store: Store) -> None:
    """Every Account field is stored and read back unchanged."""
    account = Account(
        "full", "h", bytes(range(16)), 4, False, False, True, True, 2, False, True, 2,
        "5551000", "TSID", "CSID", "rcv@example.com", 3, "backup", 1, "*RG", "LG",
        "info", "cust", "src", "<QPXml Op=\"1\" />", 42,
    )  # fmt: skip
    assert store.add_account(account) == account
    assert store.get_account("FULL") == account


def test_account_uuid_generated_when_empty(store: Store, tokens: CountingTokens) -> None:
    """An empty UUID becomes a version-4 UUID made from the injected token_bytes."""
    account = store.add_account(Account("alice"))
    assert len(account.uuid) == 16
    assert uuidlib.UUID(bytes=account.uuid).version == 4
    assert tokens.count == 1
    assert store.get_account_by_uuid(account.uuid) == account
    assert store.get_account_by_uuid(b"\xff" * 16) is None


def test_duplicate_account_name_any_case(store: Store) -> None:
    """A second account whose name differs only in case is a DuplicateError naming it."""
    store.add_account(Account("Alice"))
    with pytest.raises(DuplicateError, match="'ALICE' exists already") as info:
        store.add_account(Account("ALICE"))
    assert info.value.key == "ALICE"


def test_duplicate_account_uuid(store: Store) -> None:
    """Two accounts cannot share a UUID."""
    store.add_account(Account("a", uuid=b"u" * 16))
    with pytest.raises(DuplicateError, match="UUID"):
        store.add_account(Account("b", uuid=b"u" * 16))


@pytest.mark.parametrize("name", ["", "  ", " lead", "x" * 65])
def test_bad_account_names(store: Store, name: str) -> None:
    """Empty, padded and over-long names are refused."""
    with pytest.raises(StoreError):
        store.add_account(Account(name))


def test_update_account(store: Store) -> None:
    """update_account changes the named fields only, whatever the name's case."""
    store.add_account(Account("alice", snd_ani="1"))
    updated = store.update_account("ALICE", send_enabled=False, snd_ani="2", call_ahead_mode=0)
    assert (updated.send_enabled, updated.snd_ani, updated.call_ahead_mode) == (False, "2", 0)
    assert updated.receive_enabled is True
    assert store.get_account("alice") == updated


def test_update_account_errors(store: Store) -> None:
    """Unknown accounts, unknown fields and taken UUIDs are refused."""
    with pytest.raises(NotFoundError, match="no account named 'ghost'"):
        store.update_account("ghost", snd_ani="1")
    store.add_account(Account("a", uuid=b"a" * 16))
    store.add_account(Account("b"))
    with pytest.raises(TypeError):
        store.update_account("a", name="z")  # type: ignore[misc]
    with pytest.raises(DuplicateError):
        store.update_account("b", uuid=b"a" * 16)


def test_delete_and_list_accounts(store: Store) -> None:
    """list_accounts is ordered by name regardless of case; delete removes one."""
    for name in ("carol", "Alice", "bob"):
        store.add_account(Account(name))
    assert [a.name for a in store.list_accounts()] == ["Alice", "bob", "carol"]
    store.delete_account("BOB")
    assert [a.name for a in store.list_accounts()] == ["Alice", "carol"]
    with pytest.raises(NotFoundError, match="no account named 'bob'"):
        store.delete_account("bob")


def test_add_accounts_bulk(store: Store) -> None:
    """10,000 accounts go in with one call, each with its own UUID."""
    count = store.add_accounts(Account(f"user{i:05d}", password_hash="h") for i in range(10_000))
    assert count == 10_000
    accounts = store.list_accounts()
    assert len(accounts) == 10_000
    assert len({a.uuid for a in accounts}) == 10_000
    assert store.get_account("USER09999") is not None


def test_add_accounts_is_all_or_nothing(store: Store) -> None:
    """A bulk add with a duplicate (in the batch or in the store) adds nothing."""
    store.add_account(Account("taken"))
    with pytest.raises(DuplicateError, match="'Taken' exists already"):
        store.add_accounts([Account("new1"), Account("Taken"), Account("new2")])
    with pytest.raises(DuplicateError, match="given twice"):
        store.add_accounts([Account("x"), Account("X")])
    assert [a.name for a in store.list_accounts()] == ["taken"]


# --------------------------------------------------------------------- DIDs


def test_did_normalised(store: Store) -> None:
    """DIDs are stored as digits and found from any punctuation."""
    store.add_account(Account("Alice"))
    added = store.add_did(Did("+1 (555) 010-2000", account="alice", line_id="L1", line_num=2))
    assert added == Did("15550102000", "Alice", True, "L1", 2, "", "")
    assert store.get_did("1-555-010-2000") == added
    assert store.get_did("999") is None


def test_did_catch_all_and_unassigned(store: Store) -> None:
    """The catch-all '*' is a DID like any other; an unassigned DID has account ''."""
    store.add_did(Did("*"))
    assert store.get_did(" * ") == Did("*")


def test_did_errors(store: Store) -> None:
    """Unknown accounts, duplicates and digit-less DIDs are refused."""
    with pytest.raises(NotFoundError, match="no account named 'ghost'"):
        store.add_did(Did("123", account="ghost"))
    store.add_did(Did("123"))
    with pytest.raises(DuplicateError, match="DID '123' exists already"):
        store.add_did(Did("1-2-3"))
    with pytest.raises(StoreError, match="no digits"):
        store.add_did(Did(" - "))


def test_update_and_delete_did(store: Store) -> None:
    """update_did reassigns and disables; delete_did removes; unknown DIDs are NotFound."""
    store.add_account(Account("a"))
    store.add_account(Account("B"))
    store.add_did(Did("100", account="a"))
    assert store.update_did("100", account="b", enabled=False) == Did("100", "B", False)
    assert store.update_did("100", account="") == Did("100", "", False)
    with pytest.raises(NotFoundError, match="no account named 'zz'"):
        store.update_did("100", account="zz")
    store.delete_did("100")
    assert store.get_did("100") is None
    with pytest.raises(NotFoundError, match="no DID '100'"):
        store.delete_did("100")
    with pytest.raises(NotFoundError):
        store.update_did("100", enabled=True)


def test_list_dids(store: Store) -> None:
    """DIDs list in order, optionally for one account (any case)."""
    store.add_account(Account("Alice"))
    store.add_dids([Did("300", account="alice"), Did("100"), Did("200", account="ALICE")])
    assert [d.did for d in store.list_dids()] == ["100", "200", "300"]
    assert [d.did for d in store.list_dids("alice")] == ["200", "300"]
    assert store.list_dids_for_account("ALICE") == store.list_dids("Alice")
    assert store.list_dids_for_account("nobody") == []


def test_add_dids_is_all_or_nothing(store: Store) -> None:
    """One bad DID in a batch leaves the store unchanged."""
    store.add_did(Did("1"))
    with pytest.raises(DuplicateError):
        store.add_dids([Did("2"), Did("1")])
    with pytest.raises(NotFoundError):
        store.add_dids([Did("3"), Did("4", account="ghost")])
    assert [d.did for d in store.list_dids()] == ["1"]


def test_deleting_account_unassigns_its_dids(store: Store) -> None:
    """A deleted account's DIDs stay, unassigned."""
    store.add_account(Account("a"))
    store.add_did(Did("5", account="a"))
    store.delete_account("a")
    assert store.get_did("5") == Did("5", "")


# ------------------------------------------------------------------ devices


def test_devices_by_mac_and_serial(store: Store) -> None:
    """MACs match without separators in any case; serials match in any case."""
    store.add_account(Account("Ata"))
    mac = store.add_device(Device("mac", "00:1a:2b:3c:4d:5e", "ata", 0, "arg", "<QPXml/>"))
    assert mac == Device("mac", "001A2B3C4D5E", "Ata", 0, "arg", "<QPXml/>")
    assert store.get_device("mac", "001a.2b3c.4d5e") == mac
    serial = store.add_device(Device("serial", " sn-01x ", "ATA"))
    assert serial == Device("serial", "SN-01X", "Ata", None)
    assert store.get_device("serial", "sn-01x") == serial
    assert store.get_device("serial", "001A2B3C4D5E") is None
    assert store.list_devices() == [mac, serial]


def test_device_errors_and_delete(store: Store) -> None:
    """Duplicates, unknown accounts and unknown kinds are refused; delete works once."""
    store.add_account(Account("a"))
    store.add_device(Device("mac", "aa-bb-cc-dd-ee-ff", "a"))
    with pytest.raises(DuplicateError, match="AABBCCDDEEFF"):
        store.add_device(Device("mac", "AABBCCDDEEFF", "a"))
    with pytest.raises(NotFoundError):
        store.add_device(Device("serial", "1", "ghost"))
    with pytest.raises(StoreError, match="'mac' or 'serial'"):
        store.add_device(Device("imei", "1", "a"))
    store.delete_device("mac", "aa:bb:cc:dd:ee:ff")
    with pytest.raises(NotFoundError):
        store.delete_device("mac", "aabbccddeeff")


def test_deleting_account_deletes_its_devices_and_emails(store: Store) -> None:
    """Devices and sender e-mails belong to their account."""
    store.add_account(Account("a"))
    store.add_device(Device("serial", "S1", "a"))
    store.add_sender_email(SenderEmail("a@example.com", "a"))
    store.delete_account("a")
    assert store.list_devices() == []
    assert store.list_sender_emails() == []


# ------------------------------------------------------------ sender e-mails


def test_sender_email_case_insensitive(store: Store) -> None:
    """Sender e-mails match in any case and lead to their account."""
    store.add_account(Account("Alice"))
    entry = store.add_sender_email(SenderEmail("Alice@Example.COM", "alice"))
    assert entry == SenderEmail("Alice@Example.COM", "Alice")
    found = store.get_account_by_email("alice@example.com")
    assert found is not None and found.name == "Alice"
    assert store.get_account_by_email("bob@example.com") is None
    assert store.list_sender_emails() == [entry]


def test_sender_email_errors(store: Store) -> None:
    """Duplicates (any case), unknown accounts and non-addresses are refused."""
    store.add_account(Account("a"))
    store.add_sender_email(SenderEmail("x@example.com", "a"))
    with pytest.raises(DuplicateError):
        store.add_sender_email(SenderEmail("X@EXAMPLE.com", "a"))
    with pytest.raises(NotFoundError):
        store.add_sender_email(SenderEmail("y@example.com", "ghost"))
    with pytest.raises(StoreError, match="not an e-mail address"):
        store.add_sender_email(SenderEmail("nobody", "a"))
    store.delete_sender_email("X@example.COM")
    with pytest.raises(NotFoundError):
        store.delete_sender_email("x@example.com")


# ------------------------------------------------------------------- groups


def _group_store(store: Store) -> None:
    store.add_account(Account("Group", account_type=8))
    for name in ("m1", "M2", "m3"):
        store.add_account(Account(name))


def _modified(store: Store, name: str = "group") -> int:
    account = store.get_account(name)
    assert account is not None
    return account.last_modified


def test_group_members_ordered(store: Store) -> None:
    """Members come back in the order given, with their own spelling."""
    _group_store(store)
    store.set_group_members("GROUP", ["m3", "m2", "M1"])
    assert store.list_group_members("group") == ["m3", "M2", "m1"]
    store.set_group_members("group", ["m1"])
    assert store.list_group_members("group") == ["m1"]
    assert store.list_group_members("nogroup") == []


def test_group_last_modified_changes_on_every_change(store: Store, clock: FakeClock) -> None:
    """last_modified strictly increases on each membership change, even within one second."""
    _group_store(store)
    before = _modified(store)
    store.set_group_members("group", ["m1"])
    first = _modified(store)
    assert first == int(clock.now) and first > before
    store.set_group_members("group", ["m1", "m2"])
    second = _modified(store)
    assert second > first
    store.set_group_members("group", ["m1", "m2"])  # no change
    assert _modified(store) == second
    store.delete_account("m2")  # a member leaves
    assert store.list_group_members("group") == ["m1"]
    assert _modified(store) > second
    clock.now += 1000
    store.set_group_members("group", [])
    assert _modified(store) == int(clock.now)


def test_group_member_errors(store: Store) -> None:
    """Non-groups, unknown members, repeats and self-membership are refused."""
    _group_store(store)
    with pytest.raises(StoreError, match="not a load-balance group"):
        store.set_group_members("m1", ["m2"])
    with pytest.raises(NotFoundError, match="no account named 'ghost'"):
        store.set_group_members("group", ["m1", "ghost"])
    with pytest.raises(NotFoundError):
        store.set_group_members("nogroup", ["m1"])
    with pytest.raises(DuplicateError, match="listed twice"):
        store.set_group_members("group", ["m1", "M1"])
    with pytest.raises(StoreError, match="itself"):
        store.set_group_members("group", ["group"])
    assert store.list_group_members("group") == []


# --------------------------------------------------------------- accounting


def test_accounting_round_trip(store: Store) -> None:
    """A record keeps every attribute (text, numbers, lists, bytes) and the raw ones."""
    attributes = {"FB-Dial-Number": "5551", "FB-Page-Count": 3, "Class": b"\x00\xff", "Multi": ["a", "b"]}
    record = dataclasses.replace(cdr("k1"), attributes=attributes, raw_attributes=((30694, 250, "0a0b"),))
    assert store.record_accounting(record) is True
    [stored] = store.list_cdrs()
    assert stored.id is not None
    assert dataclasses.replace(stored, id=None) == record


def test_accounting_dedupe(store: Store) -> None:
    """A second record with the same dedupe_key returns False and changes nothing."""
    assert store.record_accounting(cdr("stop-1", **{"n": 1}), ("555", 0)) is True
    assert store.record_accounting(cdr("stop-1", at=200.0, **{"n": 2}), ("555", 2)) is False
    [stored] = store.list_cdrs()
    assert stored.attributes == {"n": 1}
    called = store.get_called_number("555")
    assert called is not None and (called.results, called.voice_error_seen) == (1, False)


def test_called_number_rules(store: Store) -> None:
    """Results update the entry; a voice error stays remembered after later successes."""
    assert store.get_called_number("5550100") is None
    store.record_accounting(cdr("a", at=10.0), ("555-0100", 0))
    first = store.get_called_number("5550100")
    assert first is not None
    assert (first.last_result, first.voice_error_seen, first.results, first.updated_at) == (0, False, 1, 10.0)
    store.record_accounting(cdr("b", at=20.0), ("5550100", 2))
    store.record_accounting(cdr("c", at=30.0), ("(555) 0100", 0))
    store.record_accounting(cdr("d", at=40.0), ("5550100", 1))
    last = store.get_called_number("555 0100")
    assert last is not None
    assert (last.last_result, last.voice_error_seen, last.results, last.updated_at) == (1, True, 4, 40.0)
    store.record_accounting(cdr("e", at=50.0))  # no called number: no update
    assert store.get_called_number("5550100") == last


def test_accounting_needs_dedupe_key(store: Store) -> None:
    """A record without dedupe_key is refused."""
    with pytest.raises(StoreError, match="dedupe_key"):
        store.record_accounting(cdr(""))
    assert count_cdrs(store) == 0


def test_list_cdrs_filters(store: Store) -> None:
    """list_cdrs is oldest first; since is inclusive; limit and stops_only filter."""
    store.record_accounting(cdr("s3", at=30.0, status=2))
    store.record_accounting(cdr("a1", at=10.0, status=1))
    store.record_accounting(cdr("s2", at=20.0, status=2))
    store.record_accounting(cdr("i4", at=40.0, status=3))
    assert [c.dedupe_key for c in store.list_cdrs()] == ["a1", "s2", "s3", "i4"]
    assert [c.dedupe_key for c in store.list_cdrs(since=20.0)] == ["s2", "s3", "i4"]
    assert [c.dedupe_key for c in store.list_cdrs(limit=2)] == ["a1", "s2"]
    assert [c.dedupe_key for c in store.list_cdrs(stops_only=True)] == ["s2", "s3"]
    assert [c.dedupe_key for c in store.list_cdrs(since=25.0, limit=1, stops_only=True)] == ["s3"]
    assert store.list_cdrs(limit=0) == []


def _together(workers: list[Callable[[], Any]]) -> list[Any]:
    """Run the callables in threads released at the same moment; their results."""
    barrier = threading.Barrier(len(workers))
    results: list[Any] = [None] * len(workers)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait(timeout=10)
        try:
            results[i] = workers[i]()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


def test_two_threads_record_at_once(store: Store) -> None:
    """Two threads recording different records at once both succeed."""
    results = _together(
        [lambda: store.record_accounting(cdr("t1"), ("9", 0)), lambda: store.record_accounting(cdr("t2"), ("9", 2))]
    )
    assert results == [True, True]
    assert count_cdrs(store) == 2
    called = store.get_called_number("9")
    assert called is not None and called.results == 2 and called.voice_error_seen


def test_two_stores_race_on_one_key(make_store: Callable[[], Store]) -> None:
    """Two stores (as two server processes) recording the same Stop: exactly one records it."""
    one, two = make_store(), make_store()
    for round_ in range(5):
        key = f"dup-{round_}"
        results = _together(
            [
                lambda key=key: one.record_accounting(cdr(key), ("7", 0)),
                lambda key=key: two.record_accounting(cdr(key), ("7", 0)),
            ]
        )
        assert sorted(results) == [False, True]
    assert count_cdrs(one) == 5
    called = one.get_called_number("7")
    assert called is not None and called.results == 5


def test_many_threads_many_records(store: Store) -> None:
    """Eight threads recording 50 records each, half of them retransmissions, store each once."""

    def worker(n: int) -> int:
        return sum(store.record_accounting(cdr(f"k{(n % 4)}-{i}"), ("1", 0)) for i in range(50))

    results = _together([lambda n=n: worker(n) for n in range(8)])  # type: ignore[misc]
    assert sum(results) == 200
    assert count_cdrs(store) == 200
    called = store.get_called_number("1")
    assert called is not None and called.results == 200


def test_schema_init_is_idempotent(make_store: Callable[[], Store]) -> None:
    """Opening the same database again keeps its data."""
    first = make_store()
    first.add_account(Account("keep"))
    first.close()
    second = make_store()
    second.init_schema()
    assert [a.name for a in second.list_accounts()] == ["keep"]
