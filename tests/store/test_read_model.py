"""The in-memory read model against the store's SQL (SQLite and PostgreSQL).

Random store contents and random changes, made through a *second* store
object on the same database (as the admin CLI or another node would); after
each round the feed is polled once and every lookup the handlers make must
answer what SQL answers.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from radius.feed import ReadModelFeed
from radius.read_model import FeedCursor, ReadModel
from radius.store import Account, AccountingRecord, Device, Did, SenderEmail, Store, StoreError, changes

NAMES = ["alice", "Bob", "carol", "DAVE", "erin", "frank", "grp1", "grp2", "Heidi", "ivan"]
DIDS = ["*", "15550001", "15550002", "15550003", "15550004", "15550005"]
MACS = ["00:11:22:33:44:55", "66-77-88-99-AA-BB", "001122334466"]
SERIALS = ["sn-1", "SN-2", "sn-3"]
EMAILS = ["a@x.example", "B@x.example", "c@y.example"]
NUMBERS = ["15551230001", "15551230002", "15551230003"]


def _feed(store: Store) -> ReadModelFeed:
    feed = ReadModelFeed(None, store, None)  # type: ignore[arg-type]
    feed.load()
    return feed


def _poll(feed: ReadModelFeed, now: float = 1e9) -> None:
    feed._apply(feed._fetch(now))


def _mutate(rng: random.Random, admin: Store, uuids: list[bytes], step: int) -> None:
    op = rng.randrange(11)
    name = rng.choice(NAMES)
    spelled = name.upper() if rng.random() < 0.3 else name
    try:
        if op == 0:
            uuid = rng.randbytes(16)
            uuids.append(uuid)
            admin.add_account(
                Account(
                    spelled,
                    uuid=uuid,
                    account_type=rng.choice([0, 0, 8, 9]),
                    rcv_email=f"{name}@r.example",
                    snd_ani=str(rng.randrange(10**6)),
                )
            )
        elif op == 1:
            changes_: dict[str, Any] = rng.choice(
                [
                    {"send_enabled": rng.random() < 0.5},
                    {"call_ahead_mode": rng.randrange(3)},
                    {"rcv_csid": f"csid{step}"},
                    {"uuid": rng.randbytes(16)},
                    {"password_hash": f"h{step}"},
                ]
            )
            if "uuid" in changes_:
                uuids.append(changes_["uuid"])
            admin.update_account(name, **changes_)
        elif op == 2:
            admin.delete_account(name)
        elif op == 3:
            admin.add_did(Did(rng.choice(DIDS), account=rng.choice(NAMES + [""]), line_num=rng.randrange(3)))
        elif op == 4:
            admin.update_did(rng.choice(DIDS), account=rng.choice(NAMES + [""]), enabled=rng.random() < 0.5)
        elif op == 5:
            admin.delete_did(rng.choice(DIDS))
        elif op == 6:
            kind = rng.choice(["mac", "serial"])
            ident = rng.choice(MACS if kind == "mac" else SERIALS)
            if rng.random() < 0.6:
                admin.add_device(Device(kind, ident, name, fax_ata_type=rng.choice([None, 1, 2]), provisioning_arg="p"))
            else:
                admin.delete_device(kind, ident)
        elif op == 7:
            address = rng.choice(EMAILS)
            if rng.random() < 0.6:
                admin.add_sender_email(SenderEmail(address, name))
            else:
                admin.delete_sender_email(address)
        elif op == 8:
            group = rng.choice(["grp1", "grp2"])
            admin.set_group_members(group, rng.sample([n for n in NAMES if not n.startswith("grp")], rng.randrange(4)))
        else:
            number = rng.choice(NUMBERS)
            record = AccountingRecord(
                f"k{step}-{rng.random()}", 1_700_000_000.0 + step, "192.0.2.1", 2, f"s{step}", name
            )
            admin.record_accounting(record, (number, rng.randrange(4)))
    except StoreError:
        pass  # a random change may name a missing record or a duplicate: nothing changed


def _assert_same(model: ReadModel, sql: Store, uuids: list[bytes]) -> None:
    for name in NAMES + ["nobody"]:
        for spelled in (name, name.upper()):
            assert model.get_account(spelled) == sql.get_account(spelled), spelled
            assert model.list_dids_for_account(spelled) == sql.list_dids_for_account(spelled), spelled
            assert model.list_group_members(spelled) == sql.list_group_members(spelled), spelled
    for uuid in uuids + [b"\0" * 16]:
        assert model.get_account_by_uuid(uuid) == sql.get_account_by_uuid(uuid)
    for did in DIDS + ["(555) 0001", "9999"]:
        assert model.get_did(did) == sql.get_did(did), did
    for mac in MACS + ["00:00:00:00:00:01"]:
        assert model.get_device("mac", mac) == sql.get_device("mac", mac), mac
    for serial in SERIALS + ["SN-9"]:
        assert model.get_device("serial", serial.lower()) == sql.get_device("serial", serial.lower()), serial
    for address in EMAILS + [" A@X.EXAMPLE ", "none@x.example"]:
        assert model.get_account_by_email(address) == sql.get_account_by_email(address), address
    for number in NUMBERS + ["1 555 123 0001", "000"]:
        assert model.get_called_number(number) == sql.get_called_number(number), number


@pytest.mark.parametrize("seed", [1, 2])
def test_read_model_answers_what_sql_answers(make_store: Callable[[], Store], seed: int) -> None:
    sql = make_store()
    admin = make_store()  # another process's connection to the same database
    rng = random.Random(seed)
    uuids: list[bytes] = []
    for step in range(30):  # initial contents, loaded by the snapshot
        _mutate(rng, admin, uuids, step)
    feed = _feed(sql)
    _assert_same(feed.model, sql, uuids)
    for round_ in range(12):
        for step in range(rng.randrange(1, 12)):
            _mutate(rng, admin, uuids, 100 * (round_ + 1) + step)
        _poll(feed)
        _assert_same(feed.model, sql, uuids)


def test_local_called_number_update_matches_the_store(store: Store) -> None:
    model = _feed(store).model
    for step, result in enumerate([0, 2, 1, 3]):
        record = AccountingRecord(f"k{step}", 1_700_000_000.0 + step, "192.0.2.1", 2, f"s{step}", "a")
        store.record_accounting(record, ("1 555 000 1111", result))
        model.note_called_number("1 555 000 1111", result, 1_700_000_000.0 + step)
        assert model.get_called_number("15550001111") == store.get_called_number("15550001111")


@pytest_twisted.inlineCallbacks
def test_a_change_is_visible_within_the_bound(make_store: Callable[[], Store]) -> Any:
    """Real reactor, real thread pool, real database: a change made through
    another connection shows in the model within the 1 s bound (polls every 0.5 s)."""
    from twisted.internet import reactor

    sql, admin = make_store(), make_store()
    pool = ThreadPool(1, 2, name="feed-test")
    pool.start()
    feed = ReadModelFeed(reactor, sql, pool, interval=0.5)
    feed.load()
    feed.startService()
    try:
        for name in ("late1", "late2"):
            yield deferLater(reactor, 0.1, lambda: None)
            t0 = time.monotonic()
            yield deferToThreadPool(reactor, pool, admin.add_account, Account(name))
            while feed.model.get_account(name) is None and time.monotonic() - t0 < 5:
                yield deferLater(reactor, 0.02, lambda: None)
            assert feed.model.get_account(name) is not None
            assert time.monotonic() - t0 < 1.0
    finally:
        yield feed.stopService()
        pool.stop()


def test_pruned_feed_makes_the_reader_reload(make_store: Callable[[], Store]) -> None:
    sql, admin = make_store(), make_store()
    feed = _feed(sql)
    admin.add_account(Account("gone-by"))
    assert changes.prune(admin, before=time.time() + 10) >= 1  # everything logged so far
    admin.add_account(Account("after"))
    _poll(feed, now=1e9)
    assert feed.model.get_account("gone-by") is not None
    assert feed.model.get_account("after") is not None


def test_cursor_waits_for_a_late_commit_then_gives_up_on_a_hole() -> None:
    cursor = FeedCursor(grace=10)
    cursor.start(0, [])
    assert cursor.accept([1, 3], now=0) == [1, 3]
    assert cursor.low == 1  # 2 may still commit
    assert cursor.accept([2, 3], now=1) == [2]
    assert cursor.low == 3
    assert cursor.accept([5], now=2) == [5]
    assert cursor.low == 3
    assert cursor.accept([5], now=13) == []  # 4 rolled back: skipped after the grace
    assert cursor.low == 5


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
@pytest_twisted.inlineCallbacks
def test_postgresql_notify_brings_a_change_before_the_timer(make_store: Callable[[], Store]) -> Any:
    """PostgreSQL: the feed LISTENs; a change shows long before the (here 30 s) poll timer."""
    from twisted.internet import reactor

    sql, admin = make_store(), make_store()
    pool = ThreadPool(1, 2, name="feed-notify-test")
    pool.start()
    feed = ReadModelFeed(reactor, sql, pool, interval=30)
    feed.load()
    feed.startService()
    try:
        yield deferLater(reactor, 0.5, lambda: None)  # the listener connects
        t0 = time.monotonic()
        yield deferToThreadPool(reactor, pool, admin.add_account, Account("notified"))
        while feed.model.get_account("notified") is None and time.monotonic() - t0 < 5:
            yield deferLater(reactor, 0.02, lambda: None)
        assert feed.model.get_account("notified") is not None and feed.notifications >= 1
        assert time.monotonic() - t0 < 2.0
    finally:
        yield feed.stopService()
        pool.stop()
