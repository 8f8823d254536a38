"""ServerCore, the RADIUS server's policy without sockets or a reactor: each test
drives it with datagrams and explicit times and checks the decision it returns."""

from __future__ import annotations

import ipaddress

import pytest

from radius.clients import RadiusClientConfig, Secret
from radius.codec import decode_reply, encode_request, verify_reply
from radius.model import Code, Decision
from radius.server_core import (
    ACCT,
    AUTH,
    Answer,
    Drop,
    DropReason,
    Handle,
    Ignore,
    SendNow,
    ServerCore,
    Where,
    encode_decision,
)
from tests.radius.helpers import SECRET, dictionary

DICT = dictionary()
PEER = ("10.0.0.5", 40000)
STRANGER = ("192.0.2.9", 40000)
LOOKUP = [("FB-Command", 1), ("FB-Context", 3), ("User-Name", "alice")]


def make_core(require_ma: bool = True, **kw: object) -> ServerCore:
    clients = [
        RadiusClientConfig(ipaddress.ip_network("10.0.0.0/24"), Secret(SECRET), require_ma, "lan"),
    ]
    return ServerCore(dictionary=DICT, clients=clients, **kw)


def access(ident: int = 1, auth: bytes = b"A" * 16, attrs=LOOKUP, ma: bool = True, password=None) -> bytes:
    return encode_request(
        Code.ACCESS_REQUEST, ident, attrs, SECRET, DICT, authenticator=auth, message_authenticator=ma, password=password
    )


def status(ident: int = 9, attrs=(), ma: bool = True) -> bytes:
    return encode_request(
        Code.STATUS_SERVER, ident, list(attrs), SECRET, DICT, authenticator=b"S" * 16, message_authenticator=ma
    )


def stop(ident: int = 3) -> bytes:
    attrs = [("Acct-Status-Type", 2), ("Acct-Session-Id", "s-1"), ("User-Name", "alice")]
    return encode_request(Code.ACCOUNTING_REQUEST, ident, attrs, SECRET, DICT, authenticator=bytes(16))


def handled(decision: object) -> Handle:
    assert isinstance(decision, Handle), decision
    return decision


# ------------------------------------------------------------ client table


def test_unknown_client_dropped_before_decoding():
    """A datagram from an address outside the client table is dropped without being decoded."""
    core = make_core()
    decision = core.datagram(AUTH, b"\x01", STRANGER, 0.0)  # not even a RADIUS header
    assert decision == Drop(DropReason.UNKNOWN_CLIENT)
    assert core.counters["unknown_client"] == 1 and core.counters["malformed"] == 0
    assert core.counters["dropped"] == 1 and core.counters["auth_received"] == 1


# ------------------------------------------------------------ malformed


@pytest.mark.parametrize(
    "data",
    [
        b"\x01\x01\x00",  # shorter than a header
        b"\x01\x01\x00\x10" + bytes(16),  # header length below 20
        b"\x01\x01\x00\x20" + bytes(16) + b"\x01\x01",  # attribute length below 2
    ],
)
def test_malformed_packets_counted_and_dropped(data):
    """Packets that are not valid RADIUS are dropped and counted as malformed."""
    core = make_core()
    decision = core.datagram(AUTH, data, PEER, 0.0)
    assert isinstance(decision, Drop) and decision.reason is DropReason.MALFORMED
    assert decision.fields["reason"]
    assert core.counters["malformed"] == 1 and core.counters["dropped"] == 1 and core.remembered() == 0


def test_wrong_secret_counted_as_bad_authenticator():
    """A Message-Authenticator made with another secret does not verify: dropped, counted."""
    core = make_core()
    data = encode_request(Code.ACCESS_REQUEST, 1, LOOKUP, b"other", DICT, authenticator=b"A" * 16)
    decision = core.datagram(AUTH, data, PEER, 0.0)
    assert isinstance(decision, Drop) and decision.reason is DropReason.BAD_AUTHENTICATOR
    assert core.counters["bad_authenticator"] == 1


def test_request_on_the_wrong_port_dropped():
    """An Accounting-Request on the auth port (and an Access-Request on the acct port) is dropped."""
    core = make_core()
    assert core.datagram(AUTH, stop(), PEER, 0.0) == Drop(
        DropReason.WRONG_CODE, {"code": "ACCOUNTING_REQUEST", "kind": "auth"}
    )
    assert core.datagram(ACCT, access(), PEER, 0.0) == Drop(
        DropReason.WRONG_CODE, {"code": "ACCESS_REQUEST", "kind": "acct"}
    )
    assert core.counters["wrong_code"] == 2


# ------------------------------------------------------- duplicate cache


def test_duplicate_in_progress_ignored_then_answered_from_cache():
    """A retransmission while the request is worked on is ignored; once the reply went out,
    a retransmission within the window gets the same bytes and is not handled again."""
    core = make_core(cache_seconds=5.0)
    ticket = handled(core.datagram(AUTH, access(), PEER, 10.0)).ticket
    assert core.datagram(AUTH, access(), PEER, 10.5) == Ignore()
    core.finished(ticket, Decision.accept())
    core.sent(ticket, b"the reply", 11.0)
    assert core.datagram(AUTH, access(), PEER, 15.9) == SendNow(b"the reply")
    assert core.counters["duplicate"] == 2 and core.counters["replied"] == 1 and core.in_flight == 0


def test_duplicate_cache_expires_after_the_window():
    """After cache_seconds without a retransmission the entry is gone: the same packet is new work."""
    core = make_core(cache_seconds=5.0, decision_cache_seconds=0)
    ticket = handled(core.datagram(AUTH, access(), PEER, 10.0)).ticket
    core.finished(ticket, None)
    core.sent(ticket, b"the reply", 10.0)
    assert core.datagram(AUTH, access(), PEER, 14.9) == SendNow(b"the reply")  # also renews the entry
    assert core.datagram(AUTH, access(), PEER, 19.8) == SendNow(b"the reply")
    handled(core.datagram(AUTH, access(), PEER, 25.0))
    assert core.counters["duplicate"] == 2


def test_same_id_new_authenticator_is_a_new_request():
    """Same peer and id but another Request Authenticator: a new request, handled."""
    core = make_core()
    first = handled(core.datagram(AUTH, access(auth=b"A" * 16), PEER, 0.0)).ticket
    core.sent(first, b"r1", 0.0)
    second = handled(core.datagram(AUTH, access(auth=b"B" * 16), PEER, 1.0)).ticket
    assert second is not first and core.counters["duplicate"] == 0


def test_failed_request_forgotten_so_a_retransmission_is_handled():
    """When the work fails (no reply), the retransmission is handled afresh, not ignored."""
    core = make_core()
    ticket = handled(core.datagram(AUTH, access(), PEER, 0.0)).ticket
    core.failed(ticket)
    assert core.in_flight == 0 and core.remembered() == 0
    handled(core.datagram(AUTH, access(), PEER, 1.0))


# --------------------------------------------- Message-Authenticator rules


def test_access_request_without_message_authenticator_dropped_when_required():
    """BlastRADIUS: a client that must sign gets its unsigned Access-Request dropped."""
    core = make_core(require_ma=True)
    decision = core.datagram(AUTH, access(ma=False), PEER, 0.0)
    assert isinstance(decision, Drop) and decision.reason is DropReason.NO_MESSAGE_AUTHENTICATOR
    assert "lan" in decision.fields["rule"] and core.counters["no_message_authenticator"] == 1


def test_access_request_without_message_authenticator_accepted_when_not_required():
    """A legacy client (not required to sign) is answered without Message-Authenticator."""
    core = make_core(require_ma=False)
    handled(core.datagram(AUTH, access(ma=False), PEER, 0.0))


def test_unsigned_access_request_with_proxy_state_dropped_even_for_legacy_clients():
    """Proxy-State without Message-Authenticator is the BlastRADIUS attack shape: dropped."""
    core = make_core(require_ma=False)
    decision = core.datagram(AUTH, access(attrs=[*LOOKUP, ("Proxy-State", b"px")], ma=False), PEER, 0.0)
    assert isinstance(decision, Drop) and decision.reason is DropReason.NO_MESSAGE_AUTHENTICATOR


def test_bad_message_authenticator_dropped_whatever_the_setting():
    """A Message-Authenticator that does not verify is dropped for strict and legacy clients."""
    for require in (True, False):
        core = make_core(require_ma=require)
        data = bytearray(access())
        data[22] ^= 0xFF  # inside the Message-Authenticator value (the first attribute)
        decision = core.datagram(AUTH, bytes(data), PEER, 0.0)
        assert isinstance(decision, Drop) and decision.reason is DropReason.BAD_AUTHENTICATOR


# ---------------------------------------------------------- Status-Server


@pytest.mark.parametrize(("kind", "code"), [(AUTH, Code.ACCESS_ACCEPT), (ACCT, Code.ACCOUNTING_RESPONSE)])
def test_status_server_answered_on_both_ports(kind, code):
    """Status-Server gets Access-Accept on the auth port, Accounting-Response on the acct port."""
    core = make_core()
    data = status()
    decision = core.datagram(kind, data, PEER, 0.0)
    assert isinstance(decision, SendNow)
    reply_code, ident, attrs = decode_reply(decision.data, DICT)
    assert reply_code == code and ident == 9 and verify_reply(decision.data, data[4:20], SECRET)
    assert ("Reply-Message", "faxappliance RADIUS server is alive") in attrs
    assert core.counters["status_server"] == 1 and core.remembered() == 0 and core.in_flight == 0


def test_status_server_without_message_authenticator_dropped():
    """RFC 5997: Status-Server must be signed, whatever the client's setting."""
    core = make_core(require_ma=False)
    decision = core.datagram(AUTH, status(ma=False), PEER, 0.0)
    assert isinstance(decision, Drop) and decision.reason is DropReason.NO_MESSAGE_AUTHENTICATOR


def test_proxy_state_echoed_in_order():
    """Proxy-State attributes of a request come back last, in order (Status-Server and decisions)."""
    core = make_core()
    decision = core.datagram(AUTH, status(attrs=[("Proxy-State", b"one"), ("Proxy-State", b"two")]), PEER, 0.0)
    assert isinstance(decision, SendNow)
    attrs = decode_reply(decision.data, DICT)[2]
    assert [v for n, v in attrs if n == "Proxy-State"] == [b"one", b"two"] and attrs[-1] == ("Proxy-State", b"two")
    ticket = handled(core.datagram(AUTH, access(attrs=[*LOOKUP, ("Proxy-State", b"px")]), PEER, 0.0)).ticket
    reply = encode_decision(Decision.reject("no"), ticket.request, ticket.secret, DICT)
    assert reply.reject and decode_reply(reply.data, DICT)[2][-1] == ("Proxy-State", b"px")


# -------------------------------------------------------------- overload


def test_overload_sheds_new_requests_until_work_finishes():
    """Beyond max_pending requests in the pool new ones are dropped; a finished one makes room."""
    core = make_core(max_pending=2, decision_cache_seconds=0)
    first = handled(core.datagram(AUTH, access(ident=1), PEER, 0.0)).ticket
    handled(core.datagram(ACCT, stop(ident=2), PEER, 0.0))
    assert core.in_flight == 2
    assert core.datagram(AUTH, access(ident=3), PEER, 0.0) == Drop(DropReason.OVERLOAD)
    assert core.counters["overload"] == 1 and core.remembered() == 2  # the shed one is not remembered
    core.finished(first, None)
    core.sent(first, b"r", 0.1)
    handled(core.datagram(AUTH, access(ident=3), PEER, 0.2))
    assert core.datagram(AUTH, status(), PEER, 0.3) != Drop(DropReason.OVERLOAD), "Status-Server is still answered"


def test_work_answered_here_is_not_pool_load():
    """With a read model, password-less Access-Requests are answered here and do not count as pool load;
    password checks and accounting go to the pool."""
    core = make_core(answers_here=True, max_pending=1)
    assert handled(core.datagram(AUTH, access(ident=1), PEER, 0.0)).ticket.where is Where.HERE
    assert core.in_flight == 0
    login = [("FB-Command", 1), ("FB-Context", 1), ("User-Name", "alice")]
    assert handled(core.datagram(AUTH, access(ident=2, attrs=login, password="pw"), PEER, 0.0)).ticket.where is (
        Where.POOL
    )
    assert core.datagram(ACCT, stop(), PEER, 0.0) == Drop(DropReason.OVERLOAD)


# -------------------------------------------------------- decision cache


def test_decision_cache_hit_then_expiry():
    """The same lookup (another id) within decision_cache_seconds is answered from the cache,
    without handler work; after it, it is handled again."""
    core = make_core(decision_cache_seconds=1.0)
    ticket = handled(core.datagram(AUTH, access(ident=1), PEER, 10.0)).ticket
    core.finished(ticket, Decision.accept(("FB-Snd-ANI", "5035550100")))
    core.sent(ticket, b"r1", 10.0)
    hit = core.datagram(AUTH, access(ident=2, auth=b"B" * 16), PEER, 10.5)
    assert isinstance(hit, Answer) and core.counters["decision_cache_hit"] == 1 and core.in_flight == 0
    code, ident, attrs = decode_reply(hit.reply.data, DICT)
    assert code == Code.ACCESS_ACCEPT and ident == 2 and ("FB-Snd-ANI", "5035550100") in attrs
    core.sent(hit.ticket, hit.reply.data, 10.5)
    handled(core.datagram(AUTH, access(ident=3, auth=b"C" * 16), PEER, 11.0))  # ttl is over
    assert core.counters["decision_cache_hit"] == 1


def test_password_checks_never_come_from_the_decision_cache():
    """Account-Login carries a password: it is always handled, never cached."""
    core = make_core(decision_cache_seconds=60.0)
    login = [("FB-Command", 1), ("FB-Context", 1), ("User-Name", "alice")]
    for i in range(2):
        ticket = handled(
            core.datagram(AUTH, access(ident=i, auth=bytes([i]) * 16, attrs=login, password="pw"), PEER, 0.0)
        ).ticket
        assert ticket.cache_key is None
        core.finished(ticket, Decision.accept())
    assert core.counters["decision_cache_hit"] == 0
