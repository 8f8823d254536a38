"""The UDP adapter with a Clock and an inline thread pool: client table,
duplicate cache, Message-Authenticator policy, Status-Server, accounting
durability and dedupe, and drops that never disturb other requests."""

from __future__ import annotations

import ipaddress

import pytest

from appliance.config import RadiusClientConfig, Secret
from radius.codec import decode_reply, encode_request
from radius.model import Code
from radius.server import ACCT, AUTH, RadiusServer
from tests.fakes import ClockReactor, InlineThreadPool
from tests.radius.helpers import SECRET, dictionary, memory_store

DICT = dictionary()
PEER = ("10.0.0.5", 40000)


class Wire:
    def __init__(self):
        self.sent = []

    def __call__(self, data, addr):
        self.sent.append((data, addr))


@pytest.fixture
def env(tmp_path):
    store = memory_store({"accounts": [{"name": "alice", "snd_ani": "5035550100"}]})
    clients = [
        RadiusClientConfig(ipaddress.ip_network("10.0.0.0/24"), Secret(SECRET), True, "lan"),
        RadiusClientConfig(ipaddress.ip_network("10.0.1.7/32"), Secret(b"legacy"), False, "old-ata"),
    ]
    reactor = ClockReactor()
    pool = InlineThreadPool()
    server = RadiusServer(
        reactor=reactor, store=store, dictionary=DICT, clients=clients, threadpool=pool, reject_delay=0
    )  # tests/radius/test_server_edges.py covers the delay
    receive = server.datagram_received

    def received_and_flushed(*args):
        receive(*args)
        reactor.advance(0)  # the batch goes to the pool on the next reactor turn

    server.datagram_received = received_and_flushed
    yield server, reactor, pool, store
    store.close()


def pre_send(ident=1, auth=b"A" * 16, secret=SECRET, ma=True, extra=()):
    return encode_request(
        Code.ACCESS_REQUEST,
        ident,
        [("FB-Command", 1), ("FB-Context", 3), ("User-Name", "alice"), *extra],
        secret,
        DICT,
        authenticator=auth,
        message_authenticator=ma,
    )


def stop(session="s1", delay=0, ident=5):
    attrs = [("Acct-Status-Type", 2), ("Acct-Session-Id", session), ("User-Name", "alice"), ("FB-Page-Count", 2)]
    if delay:
        attrs.append(("Acct-Delay-Time", delay))
    return encode_request(
        Code.ACCOUNTING_REQUEST, ident, attrs, SECRET, DICT, authenticator=bytes(16), message_authenticator=False
    )


def test_access_request_answered(env):
    """A valid Pre-Send request is answered with the account's attributes."""
    server, *_ = env
    wire = Wire()
    server.datagram_received(AUTH, pre_send(), PEER, wire)
    ((reply, addr),) = wire.sent
    code, ident, attrs = decode_reply(reply, DICT)
    assert addr == PEER and code == Code.ACCESS_ACCEPT and ident == 1
    assert attrs[0][0] == "Message-Authenticator" and ("FB-Snd-ANI", "5035550100") in attrs


def test_unknown_client_dropped(env):
    """Packets from addresses outside the client table are dropped unanswered."""
    server, *_ = env
    wire = Wire()
    server.datagram_received(AUTH, pre_send(), ("192.0.2.1", 1), wire)
    assert wire.sent == [] and server.counters["unknown_client"] == 1


def test_duplicate_gets_cached_reply(env):
    """A retransmission (same peer, id, authenticator) gets the cached reply without reprocessing."""
    server, reactor, _pool, store = env
    wire = Wire()
    server.datagram_received(AUTH, pre_send(), PEER, wire)
    store.update_account("alice", snd_ani="0000000000")  # reprocessing would show this
    server.datagram_received(AUTH, pre_send(), PEER, wire)
    assert len(wire.sent) == 2 and wire.sent[0] == wire.sent[1]
    assert server.counters["duplicate"] == 1
    reactor.advance(6)  # past the cache lifetime: processed afresh
    server.datagram_received(AUTH, pre_send(), PEER, wire)
    assert ("FB-Snd-ANI", "0000000000") in decode_reply(wire.sent[2][0], DICT)[2]


def test_duplicate_while_processing_ignored(env):
    """A retransmission that arrives while the first is processed is ignored; one reply goes out."""
    server, _reactor, pool, _store = env
    pool.hold = True
    wire = Wire()
    server.datagram_received(AUTH, pre_send(), PEER, wire)
    server.datagram_received(AUTH, pre_send(), PEER, wire)
    assert len(pool.held) == 1 and wire.sent == []
    pool.release()
    assert len(wire.sent) == 1


def test_conflicting_packet_processed(env):
    """Same id with a different authenticator is a new request, processed on its own."""
    server, *_ = env
    wire = Wire()
    server.datagram_received(AUTH, pre_send(auth=b"A" * 16), PEER, wire)
    server.datagram_received(AUTH, pre_send(auth=b"B" * 16), PEER, wire)
    assert len(wire.sent) == 2 and wire.sent[0][0] != wire.sent[1][0]


def test_message_authenticator_required(env):
    """A client requiring Message-Authenticator has requests without it dropped; a legacy client is answered."""
    server, *_ = env
    wire = Wire()
    server.datagram_received(AUTH, pre_send(ma=False), PEER, wire)
    assert wire.sent == [] and server.counters["no_message_authenticator"] == 1
    server.datagram_received(AUTH, pre_send(ma=False, secret=b"legacy"), ("10.0.1.7", 5), wire)
    assert len(wire.sent) == 1


def test_status_server(env):
    """Status-Server with Message-Authenticator is answered on both ports; without it, dropped."""
    server, *_ = env
    wire = Wire()
    status = encode_request(Code.STATUS_SERVER, 9, [], SECRET, DICT, authenticator=b"S" * 16)
    server.datagram_received(AUTH, status, PEER, wire)
    server.datagram_received(ACCT, status, PEER, wire)
    assert [decode_reply(r, DICT)[0] for r, _ in wire.sent] == [Code.ACCESS_ACCEPT, Code.ACCOUNTING_RESPONSE]
    bare = encode_request(Code.STATUS_SERVER, 9, [], SECRET, DICT, authenticator=b"T" * 16, message_authenticator=False)
    server.datagram_received(AUTH, bare, PEER, wire)
    assert len(wire.sent) == 2


def test_wrong_port_dropped(env):
    """Accounting on the auth port and Access on the accounting port are dropped."""
    server, *_ = env
    wire = Wire()
    server.datagram_received(AUTH, stop(), PEER, wire)
    server.datagram_received(ACCT, pre_send(), PEER, wire)
    assert wire.sent == [] and server.counters["wrong_code"] == 2


def test_accounting_stored_before_reply_and_deduplicated(env):
    """A Stop is committed before its Accounting-Response; a retransmitted Stop creates no second CDR."""
    server, _reactor, pool, store = env
    wire = Wire()
    pool.hold = True
    server.datagram_received(ACCT, stop(), PEER, wire)
    assert store.list_cdrs() == [] and wire.sent == []
    pool.hold = False
    pool.release()
    assert len(store.list_cdrs()) == 1 and decode_reply(wire.sent[0][0], DICT)[0] == Code.ACCOUNTING_RESPONSE
    server.datagram_received(ACCT, stop(delay=3, ident=6), PEER, wire)  # retransmission with a new delay
    assert len(wire.sent) == 2 and len(store.list_cdrs()) == 1
    assert server.counters["duplicate_cdr"] == 1


def test_store_failure_sends_no_reply_and_retry_works(env, monkeypatch):
    """When the store fails, no Accounting-Response is sent, and the retransmission is processed."""
    server, _reactor, _pool, store = env
    wire = Wire()
    real = store.record_accounting_many
    monkeypatch.setattr(store, "record_accounting_many", lambda *a: (_ for _ in ()).throw(RuntimeError("disk full")))
    server.datagram_received(ACCT, stop(), PEER, wire)
    assert wire.sent == [] and server.counters["handler_error"] == 1
    monkeypatch.setattr(store, "record_accounting_many", real)
    server.datagram_received(ACCT, stop(), PEER, wire)
    assert len(wire.sent) == 1 and len(store.list_cdrs()) == 1


def test_malformed_dropped_others_unaffected(env):
    """Malformed and badly signed packets are dropped and counted; the next valid request is answered."""
    server, *_ = env
    wire = Wire()
    for junk in (
        b"",
        b"\x01",
        b"\x01\x02\x00\x10" + bytes(16),
        b"\x04\x02\x00\x14" + bytes(16),
        pre_send(secret=b"wrong secret"),
    ):
        server.datagram_received(AUTH, junk, PEER, wire)
    assert wire.sent == [] and server.counters["dropped"] == 5
    server.datagram_received(AUTH, pre_send(ident=77), PEER, wire)
    assert decode_reply(wire.sent[0][0], DICT)[1] == 77


def test_decision_cache_answers_repeats_without_the_store(env, monkeypatch):
    """A repeated lookup within the cache lifetime is answered on the reactor thread; after it, from the store."""
    server, reactor, pool, store = env
    wire = Wire()
    server.datagram_received(AUTH, pre_send(ident=1, auth=b"1" * 16), PEER, wire)
    store.update_account("alice", snd_ani="1111111111")
    pool.hold = True  # any store work would now be held, not answered
    server.datagram_received(AUTH, pre_send(ident=2, auth=b"2" * 16), PEER, wire)
    assert len(wire.sent) == 2 and server.counters["decision_cache_hit"] == 1
    assert decode_reply(wire.sent[1][0], DICT)[1] == 2  # a reply to the new request, not a copy
    assert ("FB-Snd-ANI", "5035550100") in decode_reply(wire.sent[1][0], DICT)[2]
    pool.hold = False
    reactor.advance(1.5)
    server.datagram_received(AUTH, pre_send(ident=3, auth=b"3" * 16), PEER, wire)
    assert ("FB-Snd-ANI", "1111111111") in decode_reply(wire.sent[2][0], DICT)[2]


def test_password_checks_never_cached(env):
    """Account-Login decisions are never served from the cache."""
    server, _reactor, _pool, _store = env
    wire = Wire()
    for ident in (1, 2):
        login = encode_request(
            Code.ACCESS_REQUEST,
            ident,
            [("FB-Command", 1), ("FB-Context", 1), ("User-Name", "alice")],
            SECRET,
            DICT,
            authenticator=bytes([ident]) * 16,
            password="guess",
        )
        server.datagram_received(AUTH, login, PEER, wire)
    assert server.counters["decision_cache_hit"] == 0 and len(wire.sent) == 2


def test_accounting_batch_one_commit_and_failures_isolated(env, monkeypatch):
    """Stops read in one reactor turn are committed together; a record that fails does not fail the others."""
    server, reactor, _pool, store = env
    calls = []
    real = store.record_accounting_many

    def recording(items):
        calls.append(len(items))
        if any(r.session_id == "bad" for r, _ in items):
            raise RuntimeError("constraint")
        return real(items)

    monkeypatch.setattr(store, "record_accounting_many", recording)
    wire = Wire()
    receive = RadiusServer.datagram_received.__get__(server)  # without the per-packet flush
    for i, session in enumerate(["a", "b", "bad", "c"]):
        receive(ACCT, stop(session=session, ident=10 + i), PEER, wire)
    reactor.advance(0)
    assert calls[0] == 4  # one transaction for the whole batch first
    assert sorted(c.session_id for c in store.list_cdrs()) == ["a", "b", "c"]
    assert len(wire.sent) == 3 and server.counters["handler_error"] == 1
