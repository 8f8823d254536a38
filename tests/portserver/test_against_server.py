"""The port-server role against our own RADIUS server, run as a real process
on loopback: send authorization, call-ahead, receive routing (disabled DID,
failover, load-balance group), accounting stored as CDRs, failover from a
silent first server, and the durable Stop spool across a restart of the role."""

from __future__ import annotations

import json
import shutil

import pytest
import pytest_twisted
from twisted.internet import reactor

from appliance.portserver import Cdr, Session
from radius.client import NoServerAnswered, ServerSpec
from radius.store import open_store
from tests.portserver.helpers import make_role
from tests.radius.server_process import free_udp_ports, running

DATASET = {
    "accounts": [
        {
            "name": "alice",
            "snd_tsid": "ALICE TSID",
            "snd_ani": "5035550100",
            "rule_group": "intl",
            "call_ahead_mode": 2,
            "customer": "Alice Ltd",
        },
        {"name": "quiet", "save_cdr": False},
        {"name": "blocked", "send_enabled": False},
        {"name": "spent", "send_time_expired": True},
        {"name": "bob", "receive_enabled": False, "rcv_failover_account": "carol"},
        {"name": "carol", "rcv_csid": "CAROL CSID"},
        {"name": "grp", "account_type": 8, "last_modified": 100},
        {"name": "m1", "rcv_csid": "M1"},
        {"name": "m2", "rcv_csid": "M2"},
    ],
    "dids": [
        {"did": "5550001", "account": "alice"},
        {"did": "5550002", "account": "bob"},
        {"did": "5550003", "account": "alice", "enabled": False},
        {"did": "5550004", "account": "grp"},
    ],
    "groups": {"grp": ["m1", "m2"]},
    "called_numbers": [("5551234", 0)],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from running(tmp_path_factory.mktemp("radius"), DATASET)


def spec(server, name="ours", port=None) -> ServerSpec:
    return ServerSpec(
        server.host, port or server.auth_port, port or server.acct_port, server.secret.encode(), name=name
    )


@pytest.fixture
def role(server, tmp_path):
    role, client = make_role(reactor, [spec(server)], tmp_path / "spool")
    yield role
    role.stop_service()
    pytest_twisted.blockon(client.close())


def stops(server, session_id):
    store = open_store(f"sqlite:///{server.db_path}")
    try:
        return [r for r in store.list_cdrs(stops_only=True) if r.session_id == session_id]
    finally:
        store.close()


@pytest_twisted.inlineCallbacks
def test_authorize_send_accept(role):
    """An accepted send returns the account's TSID, ANI, rule group, CDR flag and call-ahead flag."""
    auth = yield role.authorize_send("alice", "5559999", "send-1", transfer_type=2)
    assert auth.allowed and auth.tsid == "ALICE TSID" and auth.ani == "5035550100"
    assert auth.rule_group == "intl" and auth.save_cdr and auth.call_ahead and auth.customer == "Alice Ltd"
    quiet = yield role.authorize_send("quiet", "5559999", "send-2")
    assert quiet.allowed and not quiet.save_cdr and not quiet.call_ahead


@pytest_twisted.inlineCallbacks
def test_authorize_send_reject_and_soft_rejects(role):
    """Reject carries the server's reason; disabled and expired accounts are refused precisely."""
    unknown = yield role.authorize_send("nobody", "5559999", "send-3")
    assert not unknown.allowed and "nobody" in unknown.reason
    blocked = yield role.authorize_send("blocked", "5559999", "send-4")
    assert not blocked.allowed and blocked.reason == "sending is disabled for account blocked"
    spent = yield role.authorize_send("spent", "5559999", "send-5")
    assert not spent.allowed and spent.reason == "send time has expired for account spent"


@pytest_twisted.inlineCallbacks
def test_call_ahead_mode(role):
    """A number known to reach a fax machine needs no call-ahead; an unknown one does."""
    assert (yield role.call_ahead_mode("5551234", "send-6")) is False
    assert (yield role.call_ahead_mode("5550000", "send-7")) is True


@pytest_twisted.inlineCallbacks
def test_route_receive(role):
    """DID to account; a disabled DID is refused; an account that cannot receive fails over."""
    direct = yield role.route_receive("5550001", "rcv-1")
    assert direct.accepted and direct.billed_account == "alice" and direct.receive_account == "alice"
    disabled = yield role.route_receive("5550003", "rcv-2")
    assert not disabled.accepted and disabled.reason == "DID 5550003 is disabled"
    unknown = yield role.route_receive("5550099", "rcv-3")
    assert not unknown.accepted and "5550099" in unknown.reason
    failover = yield role.route_receive("5550002", "rcv-4")
    assert failover.accepted and failover.billed_account == "bob"
    assert failover.receive_account == "carol" and failover.csid == "CAROL CSID"
    assert failover.session("rcv-4", 0.0).client_account == "carol"


@pytest_twisted.inlineCallbacks
def test_route_receive_load_balance_group(role):
    """An alternating group hands calls to its members in turn; members are fetched once."""
    picks = []
    for i in range(3):
        route = yield role.route_receive("5550004", f"rcv-g{i}")
        assert route.accepted and route.billed_account == "grp"
        picks.append(route.receive_account)
    assert picks[0] != picks[1] and picks[0] == picks[2] and set(picks) == {"m1", "m2"}
    assert role.group_member_requests == 1


@pytest_twisted.inlineCallbacks
def test_accounting_start_stop_stored(role, server):
    """Start and Stop are acknowledged; the Stop's CDR lands in the store with its FB attributes."""
    auth = yield role.authorize_send("alice", "5559999", "acct-1")
    session = auth.session("acct-1", started_at=1_700_000_000.0)
    assert (yield role.start(session)) is True
    cdr = Cdr(
        page_count=3,
        total_seconds=95,
        remote_csid="REMOTE",
        local_csid="ALICE TSID",
        connect_bps=14400,
        fax_error_code=0,
        called_number_result=0,
    )
    assert (yield role.stop(session, cdr)) is True
    (record,) = stops(server, "acct-1")
    a = record.attributes
    assert record.user_name == "alice" and a["FB-Page-Count"] == [3] and a["FB-Total-Seconds"] == [95]
    assert a["FB-Is-Send"] == [1] and a["FB-Dial-Number"] == ["5559999"] and a["FB-Remote-CSID"] == ["REMOTE"]
    assert a["FB-Called-Number-Result"] == [0] and a["FB-Customer"] == ["Alice Ltd"]
    assert len(role.spool) == 0


@pytest_twisted.inlineCallbacks
def test_save_cdr_zero_sends_nothing(role, server):
    """FB-Save-CDR = 0 suppresses every accounting packet of the session."""
    auth = yield role.authorize_send("quiet", "5559999", "acct-2")
    session = auth.session("acct-2", 1.0)
    assert (yield role.start(session)) is False
    assert (yield role.stop(session, Cdr(page_count=1))) is False
    assert stops(server, "acct-2") == [] and len(role.spool) == 0


@pytest_twisted.inlineCallbacks
def test_first_server_silent_second_answers(server, tmp_path):
    """With a closed port first in the list, the second server answers, and the first is then skipped."""
    (closed,) = free_udp_ports(1)
    role, client = make_role(
        reactor, [spec(server, "silent", closed), spec(server, "ours")], tmp_path / "spool", timeout=0.2, retries=1
    )
    try:
        auth = yield role.authorize_send("alice", "5559999", "fo-1")
        assert auth.allowed and auth.tsid == "ALICE TSID"
        assert client.core.is_down(0, reactor.seconds())
        start = reactor.seconds()
        route = yield role.route_receive("5550001", "fo-2")
        assert route.accepted and reactor.seconds() - start < 0.2
    finally:
        yield client.close()


@pytest_twisted.inlineCallbacks
def test_stop_spooled_then_delivered_once_after_restart(server, tmp_path):
    """An undeliverable Stop survives a restart of the role and is stored exactly once."""
    spool = tmp_path / "spool"
    (closed,) = free_udp_ports(1)
    first, client = make_role(reactor, [spec(server, "down", closed)], spool, timeout=0.1, retries=1)
    session = Session("spool-1", "alice", True, "5559999", started_at=1_700_000_000.0)
    try:
        assert (yield first.stop(session, Cdr(page_count=2, total_seconds=40))) is False
        assert len(first.spool) == 1
    finally:
        first.stop_service()
        yield client.close()
    (path,) = spool.glob("*.stop.json")
    kept = tmp_path / "copy.json"
    shutil.copy(path, kept)
    assert json.loads(kept.read_text())["stopped_at"] > 0

    for _ in range(2):  # the second restart replays an already delivered Stop
        second, client = make_role(reactor, [spec(server)], spool)
        try:
            assert (yield second.resend_spooled()) == 1
            assert len(second.spool) == 0
        finally:
            second.stop_service()
            yield client.close()
        shutil.copy(kept, path)
    (record,) = stops(server, "spool-1")
    assert record.attributes["FB-Page-Count"] == [2]


@pytest_twisted.inlineCallbacks
def test_access_without_any_server_raises(server, tmp_path):
    """authorize_send reports that no server answered instead of deciding on its own."""
    (closed,) = free_udp_ports(1)
    role, client = make_role(reactor, [spec(server, "down", closed)], tmp_path / "spool", timeout=0.1, retries=0)
    try:
        with pytest.raises(NoServerAnswered):
            yield role.authorize_send("alice", "5559999", "none-1")
        assert (yield role.call_ahead_mode("5551234", "none-2")) is True
    finally:
        yield client.close()
