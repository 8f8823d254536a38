"""The server's accounting spool: while the account store is unreachable an
Accounting-Request is written to a durable local spool and acknowledged;
once the store answers again the spool is written to it, each record once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from radius.acct_spool import AccountingSpool
from radius.codec import decode_reply, encode_request
from radius.model import Code
from radius.server import ACCT
from radius.store.api import StoreError
from tests.radius.helpers import SECRET
from tests.radius.test_server_edges import DICT, Wire, make_server, receive


class Outage:
    """The store, with its accounting writes failing as an unreachable database's do while ``down``."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.down = False
        self.writes = 0

    def record_accounting_many(self, items: Any) -> list[bool]:
        self.writes += 1
        if self.down:
            raise StoreError("cannot connect to PostgreSQL at db:5432: connection refused")
        return self.store.record_accounting_many(items)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def stop(session: str, ident: int, delay: int = 0) -> bytes:
    attrs = [
        ("Acct-Status-Type", 2),
        ("Acct-Session-Id", session),
        ("User-Name", "alice"),
        ("FB-Page-Count", 3),
        ("Acct-Delay-Time", delay),
    ]
    return encode_request(
        Code.ACCOUNTING_REQUEST, ident, attrs, SECRET, DICT, authenticator=bytes(16), message_authenticator=False
    )


def stops_stored(store: Any) -> list[str]:
    return sorted(r.session_id for r in store.list_cdrs(stops_only=True))


def test_stops_during_an_outage_are_spooled_acknowledged_and_written_once_later(tmp_path: Path) -> None:
    server, reactor, _pool, real = make_server()
    store = Outage(real)
    server.store = store
    server.acct_spool = AccountingSpool(tmp_path / "spool")
    wire = Wire()
    store.down = True
    receive(server, reactor, stop("s-1", 1), wire, kind=ACCT)
    receive(server, reactor, stop("s-1", 2, delay=4), wire, kind=ACCT)  # the NAS resends it, new delay time
    receive(server, reactor, stop("s-2", 3), wire, kind=ACCT)
    assert [decode_reply(data, DICT)[0] for data, _ in wire.sent] == [Code.ACCOUNTING_RESPONSE] * 3
    assert server.counters["acct_spooled"] == 3 and stops_stored(real) == []
    spooled = server.acct_spool.files()
    assert len(spooled) == 3 and all(p.stat().st_mode & 0o077 == 0 for p in spooled)

    done: list[int] = []
    server.replay_accounting().addCallback(done.append)  # still down: nothing written, nothing lost
    assert done == [0] and len(server.acct_spool.files()) == 3

    store.down = False
    server.replay_accounting().addCallback(done.append)
    assert done == [0, 3] and server.acct_spool.files() == []
    assert stops_stored(real) == ["s-1", "s-2"], "the resent Stop is stored once"
    (cdr,) = [r for r in real.list_cdrs(stops_only=True) if r.session_id == "s-2"]
    assert cdr.attributes["FB-Page-Count"] == [3]


def test_without_a_spool_an_outage_gets_no_reply(tmp_path: Path) -> None:
    """No spool (or one that cannot be written): the request is not acknowledged, so the NAS keeps it."""
    server, reactor, _pool, real = make_server()
    store = Outage(real)
    store.down = True
    server.store = store
    wire = Wire()
    receive(server, reactor, stop("s-3", 1), wire, kind=ACCT)
    assert wire.sent == []
    unwritable = tmp_path / "file"
    unwritable.write_text("not a directory")
    server.acct_spool = AccountingSpool(unwritable / "spool")
    receive(server, reactor, stop("s-3", 2, delay=2), wire, kind=ACCT)
    assert wire.sent == [] and server.counters["acct_spooled"] == 0


def test_spool_round_trip_keeps_raw_attributes(tmp_path: Path) -> None:
    """What is read back from the spool is the record that was put (raw attributes and all)."""
    from radius.codec import decode_request
    from radius.handlers import accounting_record
    from tests.radius.test_fit import bad_page_count_stop

    item = accounting_record(decode_request(bad_page_count_stop(), SECRET, DICT), "10.0.0.5", 1000.0)
    spool = AccountingSpool(tmp_path)
    spool.put([item], 1000.0)
    (path,) = spool.files()
    assert spool.read(path) == [item]


class _Port:
    def __init__(self, port: int) -> None:
        self.port = port

    def getHost(self) -> Any:
        return self

    def stopListening(self) -> None:
        return None


def test_running_service_writes_the_spool_every_few_seconds(tmp_path: Path) -> None:
    """The service retries the spool on its clock: written within REPLAY_SECONDS of the store's return."""
    from radius.server import REPLAY_SECONDS, RadiusService

    server, reactor, _pool, real = make_server()
    store = Outage(real)
    server.store = store
    server.acct_spool = AccountingSpool(tmp_path / "spool")
    reactor.listenUDP = lambda port, proto, interface="": _Port(port)  # type: ignore[attr-defined]
    service = RadiusService(server, reactor, "127.0.0.1", 1812, 1813)
    service.startService()
    try:
        store.down = True
        wire = Wire()
        receive(server, reactor, stop("s-9", 1), wire, kind=ACCT)
        assert len(wire.sent) == 1 and len(server.acct_spool.files()) == 1
        reactor.advance(REPLAY_SECONDS)
        assert stops_stored(real) == []
        store.down = False
        reactor.advance(REPLAY_SECONDS)
        assert stops_stored(real) == ["s-9"] and server.acct_spool.files() == []
    finally:
        service.stopService()
