"""The RADIUS client: the pure core (retransmission timing, failover, down
servers, reply verification, id allocation) and the Twisted adapter on a
Clock with a fake UDP transport."""

from __future__ import annotations

import random

import pytest
from twisted.internet.task import Clock

from radius.client import (
    Answered,
    Arm,
    ClientCore,
    Dropped,
    Failed,
    NoServerAnswered,
    RadiusClient,
    Send,
    ServerSpec,
    TooManyInFlight,
)
from radius.model import Code
from tests.portserver.helpers import DICT, FakeUDP, reply_to, with_bad_ma

S1 = ServerSpec("10.0.0.1", 1812, 1813, b"secret-one", name="one")
S2 = ServerSpec("10.0.0.2", 1812, 1813, b"secret-two", name="two")
LEGACY = ServerSpec("10.0.0.3", 1812, 1813, b"secret-old", False, name="legacy")
ATTRS = [("FB-Command", 1), ("FB-Context", 3), ("User-Name", "alice")]


def core(*servers, timeout=3.0, retries=2, dead_time=30.0):
    return ClientCore(
        servers or (S1, S2), DICT, random.Random(1).randbytes, timeout=timeout, retries=retries, dead_time=dead_time
    )


def sends(actions):
    return [a for a in actions if isinstance(a, Send)]


def test_retransmits_same_bytes_then_fails_over():
    """Retransmissions repeat the packet every timeout; after the retries the next server is used."""
    c = core()
    handle, actions = c.request(Code.ACCESS_REQUEST, ATTRS, now=0.0)
    (first,) = sends(actions)
    assert first.addr == ("10.0.0.1", 1812) and Arm(handle, 3.0) in actions
    for t in (3.0, 6.0):
        (again,) = sends(c.timer(handle, t))
        assert again == first
    (moved,) = sends(c.timer(handle, 9.0))
    assert moved.addr == ("10.0.0.2", 1812) and moved.data[4:20] != first.data[4:20]
    assert c.is_down(0, 9.0) and not c.is_down(0, 39.0)


def test_every_request_carries_a_valid_message_authenticator():
    """Access and Accounting requests both carry Message-Authenticator, and the server verifies it."""
    from radius.codec import decode_request

    c = core()
    for code in (Code.ACCESS_REQUEST, Code.ACCOUNTING_REQUEST):
        _, actions = c.request(code, [("User-Name", "alice")], now=0.0)
        (send,) = sends(actions)
        assert decode_request(send.data, S1.secret, DICT).has_message_authenticator
    assert sends(c.request(Code.ACCOUNTING_REQUEST, [], 0.0)[1])[0].addr == ("10.0.0.1", 1813)


def test_all_servers_silent_fails_with_the_list_tried():
    """When no server answers, the request fails naming every server tried."""
    c = core(retries=0)
    handle, _ = c.request(Code.ACCESS_REQUEST, ATTRS, now=0.0)
    c.timer(handle, 3.0)
    (failed,) = c.timer(handle, 6.0)
    assert isinstance(failed, Failed) and isinstance(failed.error, NoServerAnswered)
    assert failed.error.tried == ("one", "two")
    assert c.in_flight() == 0


def test_down_server_skipped_then_retried_after_dead_time():
    """A server marked down is skipped by new requests until its dead time has passed."""
    c = core(retries=0, dead_time=30.0)
    h, _actions = c.request(Code.ACCESS_REQUEST, ATTRS, now=0.0)
    (to_two,) = sends(c.timer(h, 3.0))
    assert c.datagram(reply_to(to_two.data, S2.secret, Code.ACCESS_ACCEPT), to_two.addr, 3.1)[0].__class__ is Answered
    (direct,) = sends(c.request(Code.ACCESS_REQUEST, ATTRS, now=10.0)[1])
    assert direct.addr[0] == "10.0.0.2"
    (again,) = sends(c.request(Code.ACCESS_REQUEST, ATTRS, now=33.1)[1])
    assert again.addr[0] == "10.0.0.1"


def test_all_down_servers_are_still_tried():
    """When every server is down, they are tried anyway, in order."""
    c = core(retries=0)
    h, _ = c.request(Code.ACCESS_REQUEST, ATTRS, now=0.0)
    c.timer(h, 3.0)
    c.timer(h, 6.0)
    (send,) = sends(c.request(Code.ACCESS_REQUEST, ATTRS, now=7.0)[1])
    assert send.addr[0] == "10.0.0.1"


def test_valid_reply_answers_and_frees_the_id():
    """A verified reply completes the request with its attributes; the server is marked up."""
    c = core()
    h, actions = c.request(Code.ACCESS_REQUEST, ATTRS, now=0.0)
    (send,) = sends(actions)
    reply = reply_to(send.data, S1.secret, Code.ACCESS_ACCEPT, [("FB-Snd-TSID", "TSID 1")])
    (answered,) = c.datagram(reply, send.addr, 0.5)
    assert isinstance(answered, Answered) and answered.handle == h
    assert answered.reply.code == Code.ACCESS_ACCEPT and answered.reply.get_str("FB-Snd-TSID") == "TSID 1"
    assert answered.reply.server == "one" and c.in_flight() == 0
    assert isinstance(c.datagram(reply, send.addr, 0.6)[0], Dropped)  # a late duplicate


@pytest.mark.parametrize("tamper", ["secret", "ma", "no_ma", "address", "code", "short"])
def test_unverifiable_replies_are_dropped(tamper):
    """Bad authenticator, wrong or missing MA, wrong source, wrong code, runt: dropped, request kept."""
    c = core()
    _h, actions = c.request(Code.ACCESS_REQUEST, ATTRS, now=0.0)
    (send,) = sends(actions)
    good = reply_to(send.data, S1.secret, Code.ACCESS_ACCEPT)
    data, addr = {
        "secret": (bytes([2, send.data[1]]) + good[2:4] + bytes(16) + good[20:], send.addr),
        "ma": (with_bad_ma(good, send.data[4:20], S1.secret), send.addr),
        "no_ma": (reply_to(send.data, S1.secret, Code.ACCESS_ACCEPT, ma=False), send.addr),
        "address": (good, ("10.0.0.9", 1812)),
        "code": (reply_to(send.data, S1.secret, Code.ACCOUNTING_RESPONSE), send.addr),
        "short": (good[:10], send.addr),
    }[tamper]
    (dropped,) = c.datagram(data, addr, 0.5)
    assert isinstance(dropped, Dropped) and "secret-one" not in dropped.reason
    assert c.in_flight() == 1
    assert isinstance(c.datagram(good, send.addr, 0.6)[0], Answered)


def test_legacy_server_replies_without_ma_accepted():
    """A server configured as legacy may answer Access-Requests without Message-Authenticator."""
    c = core(LEGACY)
    _, actions = c.request(Code.ACCESS_REQUEST, ATTRS, now=0.0)
    (send,) = sends(actions)
    reply = reply_to(send.data, LEGACY.secret, Code.ACCESS_ACCEPT, ma=False)
    assert isinstance(c.datagram(reply, send.addr, 0.1)[0], Answered)


def test_accounting_response_without_ma_accepted():
    """Accounting-Responses need no Message-Authenticator (RFC 2866)."""
    c = core()
    _, actions = c.request(Code.ACCOUNTING_REQUEST, [("Acct-Status-Type", 1)], now=0.0)
    (send,) = sends(actions)
    reply = reply_to(send.data, S1.secret, Code.ACCOUNTING_RESPONSE, ma=False)
    assert isinstance(c.datagram(reply, send.addr, 0.1)[0], Answered)


def test_ids_unique_while_in_flight_then_exhausted():
    """256 requests in flight to one server get 256 distinct ids; the 257th moves to the next server."""
    c = core()
    ids = set()
    for _ in range(256):
        (send,) = sends(c.request(Code.ACCESS_REQUEST, ATTRS, now=0.0)[1])
        assert send.addr[0] == "10.0.0.1"
        ids.add(send.data[1])
    assert len(ids) == 256
    (overflow,) = sends(c.request(Code.ACCESS_REQUEST, ATTRS, now=0.0)[1])
    assert overflow.addr[0] == "10.0.0.2"


def test_single_server_id_exhaustion_fails_clearly():
    """With one server and 256 requests in flight, a new request fails with TooManyInFlight."""
    c = core(S1)
    for _ in range(256):
        c.request(Code.ACCESS_REQUEST, ATTRS, now=0.0)
    (failed,) = c.request(Code.ACCESS_REQUEST, ATTRS, now=0.0)[1]
    assert isinstance(failed, Failed) and isinstance(failed.error, TooManyInFlight)


def test_secret_not_in_repr():
    """A server spec's repr never shows the shared secret."""
    assert "secret-one" not in repr(S1)


# --------------------------------------------------------------- adapter


def adapter(clock, *servers, retries=1):
    client = RadiusClient(clock, servers or (S1, S2), DICT, random.Random(3).randbytes, timeout=2.0, retries=retries)
    transport = FakeUDP()
    client.makeConnection(transport)
    return client, transport


def test_adapter_fires_with_the_reply():
    """The adapter sends, and fires the Deferred when the verified reply arrives."""
    clock = Clock()
    client, udp = adapter(clock)
    d = client.access(ATTRS)
    ((data, addr),) = udp.written
    client.datagramReceived(reply_to(data, S1.secret, Code.ACCESS_REJECT, [("Reply-Message", "no")]), addr)
    reply = d.result
    assert reply.code == Code.ACCESS_REJECT and reply.get_str("Reply-Message") == "no"
    assert not clock.getDelayedCalls()


def test_adapter_timing_and_failure():
    """Retransmissions at 2 s, failover at 4 s, failure at 8 s, with no timers left over."""
    clock = Clock()
    client, udp = adapter(clock)
    d = client.access(ATTRS)
    failures: list = []
    d.addErrback(failures.append)
    times = []
    for _ in range(8):
        before = len(udp.written)
        clock.advance(1.0)
        if len(udp.written) > before:
            times.append((clock.seconds(), udp.written[-1][1][0]))
    assert times == [(2.0, "10.0.0.1"), (4.0, "10.0.0.2"), (6.0, "10.0.0.2")]
    assert failures and failures[0].check(NoServerAnswered)
    assert not clock.getDelayedCalls()
