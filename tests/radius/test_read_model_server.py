"""The server with an in-memory read model: lookups answered on the reactor
thread (no pool), password checks in the pool against the model's hashes, a
stored Stop's Called Numbers update visible at once, admin changes through
the change feed."""

from __future__ import annotations

import ipaddress

import pytest

from appliance.config import RadiusClientConfig, Secret
from radius.codec import decode_reply, encode_request
from radius.feed import ReadModelFeed
from radius.model import Code
from radius.server import ACCT, AUTH, RadiusServer
from radius.store import StoreError, open_store
from tests.fakes import ClockReactor, InlineThreadPool
from tests.radius.helpers import SECRET, dictionary, populate

DICT = dictionary()
PEER = ("10.0.0.5", 40000)


class Wire(list):
    def __call__(self, data, addr):
        self.append((data, addr))


@pytest.fixture
def env(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/radius.db")
    populate(store, {"accounts": [{"name": "alice", "snd_ani": "5035550100", "password": "s3cret-pw"}]})
    reactor = ClockReactor()
    pool = InlineThreadPool()
    feed = ReadModelFeed(reactor, store, pool, interval=0.5)
    feed.load()
    clients = [RadiusClientConfig(ipaddress.ip_network("10.0.0.0/24"), Secret(SECRET), True, "lan")]
    server = RadiusServer(
        reactor=reactor,
        store=store,
        dictionary=DICT,
        clients=clients,
        threadpool=pool,
        reject_delay=0,
        decision_cache_seconds=0,
        read_model=feed.model,
    )
    yield server, reactor, pool, store, feed
    store.close()


def access(ident, attrs, password=None):
    return encode_request(
        Code.ACCESS_REQUEST, ident, attrs, SECRET, DICT, authenticator=bytes([ident]) * 16, password=password
    )


def attrs_of(reply):
    return decode_reply(reply, DICT)[2]


def test_lookup_answered_on_the_reactor_thread_without_the_pool(env):
    server, _reactor, pool, _store, _feed = env
    pool.hold = True  # nothing handed to the pool would be answered
    wire = Wire()
    server.datagram_received(
        AUTH, access(1, [("FB-Command", 1), ("FB-Context", 3), ("User-Name", "ALICE")]), PEER, wire
    )
    assert len(wire) == 1 and ("FB-Snd-ANI", "5035550100") in attrs_of(wire[0][0])
    server.datagram_received(AUTH, access(2, [("FB-Command", 1), ("FB-Context", 3), ("User-Name", "bob")]), PEER, wire)
    assert decode_reply(wire[1][0], DICT)[0] == Code.ACCESS_REJECT
    assert pool.held == []


def test_password_check_runs_in_the_pool_and_a_new_password_counts_at_once(env, tmp_path):
    server, reactor, pool, _store, _feed = env
    admin = open_store(f"sqlite:///{tmp_path}/radius.db")
    try:
        from radius.passwords import hash_password

        admin.update_account("alice", password_hash=hash_password("new-pw-1234", b"0123456789abcdef"))
    finally:
        admin.close()
    pool.hold = True
    wire = Wire()
    login = [("FB-Command", 1), ("FB-Context", 1), ("User-Name", "alice")]
    server.datagram_received(AUTH, access(1, login, password="new-pw-1234"), PEER, wire)
    server.datagram_received(AUTH, access(2, login, password="s3cret-pw"), PEER, wire)
    reactor.advance(0)
    assert wire == [] and len(pool.held) == 1  # one batch, off the reactor thread
    pool.hold = False
    pool.release()
    codes = [decode_reply(data, DICT)[0] for data, _ in wire]
    assert codes == [Code.ACCESS_ACCEPT, Code.ACCESS_REJECT]  # the store's hash, before any poll


def test_password_check_falls_back_to_the_model_when_the_store_fails(env, monkeypatch):
    server, reactor, _pool, store, _feed = env

    def down(name):
        raise StoreError("database unreachable")

    monkeypatch.setattr(store, "get_account", down)
    wire = Wire()
    login = [("FB-Command", 1), ("FB-Context", 1), ("User-Name", "alice")]
    server.datagram_received(AUTH, access(1, login, password="s3cret-pw"), PEER, wire)
    reactor.advance(0)
    assert [decode_reply(data, DICT)[0] for data, _ in wire] == [Code.ACCESS_ACCEPT]


def test_stored_stop_updates_call_ahead_at_once(env):
    server, reactor, _pool, store, feed = env
    wire = Wire()
    ask = [("FB-Command", 5), ("FB-Context", 3), ("User-Name", "15035550199")]
    server.datagram_received(AUTH, access(1, ask), PEER, wire)
    assert ("FB-Call-Ahead-Mode", 1) in attrs_of(wire[0][0])  # unknown number: call ahead
    stop = encode_request(
        Code.ACCOUNTING_REQUEST,
        9,
        [
            ("Acct-Status-Type", 2),
            ("Acct-Session-Id", "s1"),
            ("User-Name", "alice"),
            ("FB-Dial-Number", "1 503 555 0199"),
            ("FB-Called-Number-Result", 0),
        ],
        SECRET,
        DICT,
        authenticator=bytes(16),
        message_authenticator=False,
    )
    server.datagram_received(ACCT, stop, PEER, wire)
    reactor.advance(0)
    assert decode_reply(wire[1][0], DICT)[0] == Code.ACCOUNTING_RESPONSE
    server.datagram_received(AUTH, access(2, ask), PEER, wire)
    assert ("FB-Call-Ahead-Mode", 0) in attrs_of(wire[2][0])
    assert feed.model.get_called_number("15035550199") == store.get_called_number("15035550199")


def test_admin_change_arrives_through_the_feed(env, tmp_path):
    server, reactor, _pool, _store, feed = env
    admin = open_store(f"sqlite:///{tmp_path}/radius.db")
    try:
        admin.update_account("alice", snd_ani="1111111111")
    finally:
        admin.close()
    feed.startService()
    wire = Wire()
    pre_send = [("FB-Command", 1), ("FB-Context", 3), ("User-Name", "alice")]
    server.datagram_received(AUTH, access(1, pre_send), PEER, wire)
    assert ("FB-Snd-ANI", "5035550100") in attrs_of(wire[0][0])  # not polled yet
    reactor.advance(0.5)  # one poll (the inline pool answers at once)
    server.datagram_received(AUTH, access(2, pre_send), PEER, wire)
    assert ("FB-Snd-ANI", "1111111111") in attrs_of(wire[1][0])
    feed.stopService()
