"""Server edge cases with a Clock and an inline pool: the reject delay (held
on the reactor, not in a thread; retransmissions during it are in progress),
replies that must be trimmed still answered, rate-limited error logging under
a flood, and a Stop with a wrongly sized attribute stored and acknowledged."""

from __future__ import annotations

import ipaddress

import pytest
from twisted.logger import capturedLogs

from appliance.config import RadiusClientConfig, Secret
from radius.codec import decode_reply, encode_request, verify_reply
from radius.model import Code
from radius.server import ACCT, AUTH, RadiusServer
from tests.fakes import ClockReactor, InlineThreadPool
from tests.radius.helpers import SECRET, dictionary, memory_store
from tests.radius.test_fit import bad_page_count_stop

DICT = dictionary()
PEER = ("10.0.0.5", 40000)
LONG_EMAIL = "ß" * 120  # 240 bytes of UTF-8: a Reply-Message echoing it is 262 bytes


class Wire:
    def __init__(self):
        self.sent = []

    def __call__(self, data, addr):
        self.sent.append((data, addr))


def make_server(store=None, **kw):
    store = store or memory_store(
        {
            "accounts": [{"name": "alice", "snd_ani": "5035550100"}],
            "dids": [{"did": f"{5550000000 + i}", "account": "alice"} for i in range(300)],
        }
    )
    clients = [RadiusClientConfig(ipaddress.ip_network("10.0.0.0/24"), Secret(SECRET), True, "lan")]
    reactor, pool = ClockReactor(), InlineThreadPool()
    server = RadiusServer(reactor=reactor, store=store, dictionary=DICT, clients=clients, threadpool=pool, **kw)
    return server, reactor, pool, store


def request(ident=1, auth=b"A" * 16, command=1, context=3, name="alice", extra=()):
    attrs = [("FB-Command", command), ("FB-Context", context), *([("User-Name", name)] if name else []), *extra]
    return encode_request(Code.ACCESS_REQUEST, ident, attrs, SECRET, DICT, authenticator=auth)


def receive(server, reactor, data, wire, addr=PEER, kind=AUTH):
    server.datagram_received(kind, data, addr, wire)
    reactor.advance(0)  # the batch goes to the pool on the next reactor turn


# ----------------------------------------------------------- reject delay


def test_reject_delayed_on_the_reactor_not_in_a_thread():
    """With the default 1 s delay a reject is not sent before 1 s and is sent at 1 s, from a reactor
    timer (the pool is held meanwhile); a retransmission during the delay is in progress (ignored,
    not processed again) and one after it gets the same cached reject."""
    server, reactor, pool, store = make_server()
    assert server.reject_delay == 1.0
    wire = Wire()
    receive(server, reactor, request(name="nobody"), wire)
    assert wire.sent == [] and server.counters["reject_delayed"] == 1
    assert len(reactor.getDelayedCalls()) == 1 and pool.held == []
    pool.hold = True  # from here on any store work would be held, not done
    store.add_account(store.get_account("alice").__class__(name="nobody"))  # reprocessing would accept
    receive(server, reactor, request(name="nobody"), wire)  # retransmission during the delay
    assert wire.sent == [] and server.counters["duplicate"] == 1 and pool.held == []
    reactor.advance(0.999)
    assert wire.sent == []
    reactor.advance(0.001)
    ((reply, addr),) = wire.sent
    assert addr == PEER and decode_reply(reply, DICT)[0] == Code.ACCESS_REJECT
    receive(server, reactor, request(name="nobody"), wire)  # retransmission after: the cached reject, at once
    assert len(wire.sent) == 2 and wire.sent[1][0] == reply and pool.held == []
    reactor.advance(4.5)  # 5.5 s after receipt: kept, the lifetime counts from the send
    receive(server, reactor, request(name="nobody"), wire)
    assert len(wire.sent) == 3 and wire.sent[2][0] == reply
    reactor.advance(5.5)  # 5.5 s after the last (re)send: expired, processed afresh
    receive(server, reactor, request(name="nobody"), wire)
    assert len(wire.sent) == 3 and len(pool.held) == 1


def test_accepts_not_delayed_and_cached_rejects_delayed():
    """Accepts go out at once; a reject answered from the decision cache is delayed too."""
    server, reactor, _pool, _store = make_server(reject_delay=0.5)
    wire = Wire()
    receive(server, reactor, request(ident=1), wire)
    assert len(wire.sent) == 1
    receive(server, reactor, request(ident=2, auth=b"2" * 16, name="nobody"), wire)
    receive(server, reactor, request(ident=3, auth=b"3" * 16, name="nobody"), wire)
    assert server.counters["decision_cache_hit"] == 1 and len(wire.sent) == 1
    reactor.advance(0.5)
    assert [decode_reply(r, DICT)[1] for r, _ in wire.sent] == [1, 2, 3]


def test_reject_delay_zero_is_off_and_shutdown_cancels_pending():
    server, reactor, _pool, _store = make_server(reject_delay=0)
    wire = Wire()
    receive(server, reactor, request(name="nobody"), wire)
    assert len(wire.sent) == 1 and reactor.getDelayedCalls() == []
    server, reactor, _pool, _store = make_server(reject_delay=2)
    receive(server, reactor, request(name="nobody"), wire)
    server.cancel_delayed()
    assert reactor.getDelayedCalls() == []


def test_pending_rejects_are_bounded():
    """More delayed rejects than max_pending: the excess is answered at once, never held."""
    server, reactor, _pool, _store = make_server(max_pending=3)
    wire = Wire()
    for i in range(5):
        receive(server, reactor, request(ident=i, auth=bytes([i]) * 16, name=f"nobody{i}"), wire)
    assert len(wire.sent) == 2 and server.counters["reject_not_delayed"] == 2
    reactor.advance(1)
    assert len(wire.sent) == 5


# ------------------------------------------------- replies that must be cut


def email_lookup(ident, port_auth):
    return request(
        ident=ident % 256, auth=port_auth, command=3, context=5, name="", extra=[("FB-Snd-Email", LONG_EMAIL)]
    )


def test_flood_of_long_non_ascii_rejects_all_answered_log_small():
    """3,000 rejects whose Reply-Message would be 278 bytes: every one is answered (the text cut on a
    character boundary) and the log holds a handful of short events, no tracebacks."""
    server, reactor, _pool, _store = make_server(reject_delay=0, decision_cache_seconds=0)
    wire = Wire()
    with capturedLogs() as events:
        for i in range(3000):
            receive(server, reactor, email_lookup(i, i.to_bytes(16, "big")), wire, addr=("10.0.0.5", 20000 + i))
    assert len(wire.sent) == 3000
    code, _, attrs = decode_reply(wire.sent[-1][0], DICT)
    (message,) = [v for n, v in attrs if n == "Reply-Message"]
    assert code == Code.ACCESS_REJECT and message.startswith("no account for sender ßß")
    assert len(message.encode()) <= 253 and "\ufffd" not in message
    assert server.counters["reply_text_truncated"] == 3000
    assert len(events) <= 13 and not any(e.get("log_failure") for e in events)


def test_reply_over_4096_trimmed_and_answered():
    """An account with 300 DIDs (5,400 bytes of FB-DID) gets a reply of at most 4096 bytes."""
    server, reactor, _pool, _store = make_server(reject_delay=0)
    wire = Wire()
    receive(server, reactor, request(command=9, context=5), wire)
    ((reply, _),) = wire.sent
    code, _, attrs = decode_reply(reply, DICT)
    assert code == Code.ACCESS_ACCEPT and len(reply) <= 4096 and 200 < len(attrs) < 300
    assert server.counters["reply_attribute_dropped"] == 301 - len(attrs)  # 300 DIDs + MA - kept


def test_failure_flood_logs_few_tracebacks():
    """3,000 requests that each fail in the store: counted, no reply, and at most 13 tracebacks."""

    class Broken:
        def __getattr__(self, name):
            def fail(*a, **kw):
                raise RuntimeError("store unavailable")

            return fail

    server, reactor, _pool, _ = make_server(store=Broken(), reject_delay=0, decision_cache_seconds=0)
    wire = Wire()
    with capturedLogs() as events:
        for i in range(3000):
            receive(
                server, reactor, request(ident=i % 256, auth=i.to_bytes(16, "big")), wire, addr=("10.0.0.5", 20000 + i)
            )
    assert wire.sent == [] and server.counters["handler_error"] == 3000
    tracebacks = [e for e in events if e.get("log_failure")]
    assert 1 <= len(tracebacks) <= 13 and len(events) <= 13
    assert tracebacks[-1]["errors_so_far"] == 3000


# ------------------------------------------------------------- accounting


def test_stop_with_wrongly_sized_attribute_stored_and_acknowledged():
    """A signed Stop with a 5-byte FB-Page-Count is stored with the raw attribute and acknowledged."""
    server, reactor, _pool, store = make_server()
    wire = Wire()
    data = bad_page_count_stop()
    receive(server, reactor, data, wire, kind=ACCT)
    ((reply, _),) = wire.sent
    assert decode_reply(reply, DICT)[0] == Code.ACCOUNTING_RESPONSE and verify_reply(reply, data[4:20], SECRET)
    (cdr,) = store.list_cdrs()
    assert cdr.session_id == "s-bad" and cdr.status_type == 2
    assert (30694, 240, "0000000005") in cdr.raw_attributes and "FB-Page-Count" not in cdr.attributes
    assert server.counters["dropped"] == 0 and server.counters["acct_value_kept_raw"] == 1


def test_access_request_with_wrongly_sized_attribute_dropped():
    """An Access-Request with a wrongly sized attribute is still dropped as malformed (and counted)."""
    server, reactor, _pool, _store = make_server()
    wire = Wire()
    receive(server, reactor, bad_page_count_stop(Code.ACCESS_REQUEST), wire)
    assert wire.sent == [] and server.counters["malformed"] == 1


@pytest.mark.parametrize("kind", [AUTH])
def test_truncated_text_never_splits_characters(kind):
    """Rejects for 2-, 3- and 4-byte texts keep whole characters."""
    server, reactor, _pool, _store = make_server(reject_delay=0)
    for i, ch in enumerate(("é", "€", "😀")):
        wire = Wire()
        receive(
            server,
            reactor,
            request(ident=i, auth=bytes([i]) * 16, command=3, context=5, name="", extra=[("FB-Snd-Email", ch * 60)]),
            wire,
        )
        (_, _, attrs) = decode_reply(wire.sent[0][0], DICT)
        (message,) = [v for n, v in attrs if n == "Reply-Message"]
        assert message.endswith(ch) and "\ufffd" not in message


def test_failed_batch_logged_rate_limited_and_retried(monkeypatch):
    """When a whole batch fails, its requests are forgotten (a retransmission is processed) and
    the failure is logged with few tracebacks however often it happens."""
    server, reactor, _pool, _store = make_server(decision_cache_seconds=0)
    real = server._run_batch
    monkeypatch.setattr(server, "_run_batch", lambda batch: (_ for _ in ()).throw(RuntimeError("pool broke")))
    wire = Wire()
    with capturedLogs() as events:
        for i in range(1500):
            receive(
                server, reactor, request(ident=i % 256, auth=i.to_bytes(16, "big")), wire, addr=("10.0.0.5", 20000 + i)
            )
    assert wire.sent == [] and server.counters["internal_error"] == 1500 and len(events) <= 11
    assert server.core.in_flight == 0 and server.core.remembered() == 0
    monkeypatch.setattr(server, "_run_batch", real)
    receive(server, reactor, request(ident=0, auth=(0).to_bytes(16, "big")), wire, addr=("10.0.0.5", 20000))
    assert len(wire.sent) == 1


def test_send_errors_logged_rate_limited():
    """A socket that refuses every reply is counted, and logged only now and then."""
    from radius.server import _Listener

    class Refusing:
        def write(self, data, addr):
            raise OSError(105, "No buffer space available")

    server, reactor, _pool, _store = make_server()
    listener = _Listener(server, AUTH)
    listener.transport = Refusing()
    with capturedLogs() as events:
        for i in range(2000):
            listener.datagramReceived(request(ident=i % 256, auth=i.to_bytes(16, "big")), ("10.0.0.5", 20000 + i))
            reactor.advance(0)
    assert server.counters["send_error"] == 2000 and len(events) == 12
