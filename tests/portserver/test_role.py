"""The port-server role on a Clock with a scripted RADIUS requester: request
sequences, group selection modes and member cache, failover rules,
Interim-Updates on a timer, and the Stop spool's backoff and restart."""

from __future__ import annotations

import random

import pytest
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.task import Clock

from appliance.portserver import Cdr, Session
from appliance.portserver.role import PortServer
from appliance.portserver.spool import StopSpool
from radius.client import NoServerAnswered, RadiusClient, Reply
from radius.model import Code
from tests.portserver.helpers import DICT

ACCEPT, REJECT = Code.ACCESS_ACCEPT, Code.ACCESS_REJECT


class ScriptedRadius:
    """Answers Access-Requests from a table keyed by (command, context, User-Name)."""

    def __init__(self, table=None):
        self.table = table or {}
        self.calls = []
        self.accounting_up = True
        self.acct = []

    def access(self, attributes, password=None):
        a = dict(attributes)
        key = (a["FB-Command"], a["FB-Context"], a["User-Name"])
        self.calls.append(key)
        code, attrs = self.table.get(key, (REJECT, [("Reply-Message", "unknown")]))
        return succeed(Reply(code, tuple(attrs), "scripted"))

    def accounting(self, attributes):
        self.acct.append(dict(attributes))
        if self.accounting_up:
            return succeed(Reply(Code.ACCOUNTING_RESPONSE, (), "scripted"))
        return fail(NoServerAnswered(["scripted"]))


def role(tmp_path, table=None, clock=None, **kw):
    radius = ScriptedRadius(table)
    clock = clock or Clock()
    ps = PortServer(radius, clock, StopSpool(tmp_path / "spool"), random.Random(5), DICT, **kw)
    return ps, radius, clock


def result(d: Deferred):
    out: list = []
    d.addBoth(out.append)
    assert out, "the Deferred has not fired"
    return out[0]


GROUP = {
    (2, 4, "5550004"): (ACCEPT, [("User-Name", "grp")]),
    (4, 4, "grp"): (
        ACCEPT,
        [
            ("FB-Account-Type", 8),
            ("FB-Last-Modified-Time", 100),
            ("User-Name", "m1"),
            ("User-Name", "m2"),
            ("User-Name", "m3"),
        ],
    ),
    (1, 4, "m1"): (ACCEPT, []),
    (1, 4, "m2"): (ACCEPT, [("FB-Rcv-To-Account", 0)]),
    (1, 4, "m3"): (ACCEPT, [("FB-Rcv-CSID", "M3")]),
}


def group_table(mode, modified=100):
    table = dict(GROUP)
    table[(1, 4, "grp")] = (ACCEPT, [("FB-Account-Type", mode), ("FB-Last-Modified-Time", modified)])
    return table


def test_send_sequence_and_attributes(tmp_path):
    """authorize_send sends one Get-Account / Pre-Send-Session with session, number and transfer type."""
    ps, radius, _ = role(tmp_path, {(1, 3, "alice"): (ACCEPT, [("FB-Snd-TSID", "T")])}, transfer_type=2)
    auth = result(ps.authorize_send("alice", "5551234", "s1"))
    assert radius.calls == [(1, 3, "alice")] and auth.allowed and auth.tsid == "T"
    assert auth.call_ahead  # FB-Call-Ahead-Mode omitted on a queue transfer: call ahead


def test_receive_sequence(tmp_path):
    """route_receive asks Get-Account-From-DID then Get-Account, both Pre-Receive-Session."""
    ps, radius, _ = role(
        tmp_path,
        {(2, 4, "5550001"): (ACCEPT, [("User-Name", "alice")]), (1, 4, "alice"): (ACCEPT, [("FB-Rcv-CSID", "ALICE")])},
    )
    route = result(ps.route_receive("5550001", "r1"))
    assert radius.calls == [(2, 4, "5550001"), (1, 4, "alice")]
    assert route.accepted and route.receive_account == "alice" and route.csid == "ALICE"


def test_always_failover_and_busy_account(tmp_path):
    """Failover mode 1 always routes to the failover account; a busy account fails over too."""
    table = {
        (2, 4, "1"): (ACCEPT, [("User-Name", "mailer")]),
        (1, 4, "mailer"): (ACCEPT, [("FB-Rcv-Failover-Account-Id", "gateway"), ("FB-Rcv-Failover-Mode", 1)]),
        (1, 4, "gateway"): (ACCEPT, []),
        (2, 4, "2"): (ACCEPT, [("User-Name", "busy")]),
        (1, 4, "busy"): (ACCEPT, [("FB-Rcv-Failover-Account-Id", "gateway")]),
    }
    ps, _, _ = role(tmp_path, table, is_available=lambda account: account != "busy")
    always = result(ps.route_receive("1", "r1"))
    assert always.billed_account == "mailer" and always.receive_account == "gateway"
    busy = result(ps.route_receive("2", "r2"))
    assert busy.billed_account == "busy" and busy.receive_account == "gateway"


def test_failover_loop_and_missing_failover_refused(tmp_path):
    """A failover chain that loops, or a disabled account without failover, refuses the call."""
    table = {
        (2, 4, "1"): (ACCEPT, [("User-Name", "a")]),
        (1, 4, "a"): (ACCEPT, [("FB-Rcv-To-Account", 0), ("FB-Rcv-Failover-Account-Id", "b")]),
        (1, 4, "b"): (ACCEPT, [("FB-Rcv-Time-Expired", 1), ("FB-Rcv-Failover-Account-Id", "a")]),
        (2, 4, "2"): (ACCEPT, [("User-Name", "c")]),
        (1, 4, "c"): (ACCEPT, [("FB-Rcv-To-Account", 0)]),
    }
    ps, _, _ = role(tmp_path, table)
    loop = result(ps.route_receive("1", "r1"))
    assert not loop.accepted and "loops back" in loop.reason and "receive time has expired" in loop.reason
    alone = result(ps.route_receive("2", "r2"))
    assert not alone.accepted and alone.reason == "receiving is disabled for account c"


def test_alternating_group_skips_members_that_cannot_receive(tmp_path):
    """Alternating delivery rotates the start member and skips one that cannot receive."""
    ps, radius, _ = role(tmp_path, group_table(8))
    picks = [result(ps.route_receive("5550004", f"r{i}")).receive_account for i in range(4)]
    assert picks == ["m1", "m3", "m3", "m1"]
    assert radius.calls.count((4, 4, "grp")) == 1


def test_member_cache_refreshed_when_last_modified_changes(tmp_path):
    """A new FB-Last-Modified-Time makes the role fetch the members again."""
    ps, radius, _ = role(tmp_path, group_table(8, modified=100))
    result(ps.route_receive("5550004", "r1"))
    result(ps.route_receive("5550004", "r2"))
    radius.table.update(group_table(8, modified=200))
    result(ps.route_receive("5550004", "r3"))
    assert radius.calls.count((4, 4, "grp")) == 2


def test_most_free_group_uses_the_callback(tmp_path):
    """Most-free delivery picks the member with the most free receive sessions."""
    free = {"m1": 1, "m2": 9, "m3": 4}
    ps, _, _ = role(tmp_path, group_table(9), free_receive_sessions=free.__getitem__)
    assert result(ps.route_receive("5550004", "r1")).receive_account == "m3"  # m2 cannot receive
    free["m1"] = 5
    assert result(ps.route_receive("5550004", "r2")).receive_account == "m1"


def test_random_group_is_reproducible_with_a_seeded_rng(tmp_path):
    """Random delivery draws from the injected rng: same seed, same picks; never a disabled member."""
    runs = []
    for sub in ("a", "b"):
        ps, _, _ = role(tmp_path / sub, group_table(10))
        runs.append([result(ps.route_receive("5550004", f"r{i}")).receive_account for i in range(8)])
    assert runs[0] == runs[1] and set(runs[0]) == {"m1", "m3"}


def test_interim_updates_on_a_timer_until_stop(tmp_path):
    """Start arms Interim-Updates every interval; Stop cancels them."""
    ps, radius, clock = role(tmp_path, interim_interval=60.0)
    clock.advance(1000)
    session = Session("s1", "alice", True, "5551234", started_at=1000.0)
    assert result(ps.start(session)) is True
    clock.advance(60)
    clock.advance(60)
    assert result(ps.stop(session, Cdr(page_count=1))) is True
    clock.advance(600)
    kinds = [(a["Acct-Status-Type"], a.get("Acct-Session-Time")) for a in radius.acct]
    assert kinds == [(1, None), (3, 60), (3, 120), (2, None)]
    assert not clock.getDelayedCalls()


def test_start_given_up_when_no_server_answers(tmp_path):
    """A Start nobody acknowledges is given up (False) and not spooled."""
    ps, radius, _ = role(tmp_path)
    radius.accounting_up = False
    assert result(ps.start(Session("s1", "alice", True))) is False
    assert len(ps.spool) == 0


def test_stop_resent_with_backoff_until_acknowledged(tmp_path):
    """An unacknowledged Stop is retried at 5, 10, 20 s ... and removed once acknowledged."""
    ps, radius, clock = role(tmp_path, resend_initial=5.0, resend_max=20.0)
    radius.accounting_up = False
    session = Session("s1", "bob", False, "5550002", client_account="carol", started_at=100.0)
    cdr = Cdr(page_count=2, total_seconds=30, caller_id="5035550111", rcv_account_id="carol")
    clock.advance(130)
    assert result(ps.stop(session, cdr)) is False and len(ps.spool) == 1
    attempts = []
    for _ in range(60):
        before = len(radius.acct)
        clock.advance(1)
        if len(radius.acct) > before:
            attempts.append(clock.seconds() - 130)
    assert attempts == [5, 15, 35, 55]  # backoff 5, 10, 20, then capped at 20
    radius.accounting_up = True
    for _ in range(20):
        clock.advance(1)
    assert len(ps.spool) == 0
    last = radius.acct[-1]
    assert last["User-Name"] == "bob" and last["FB-Client-Account-ID"] == "carol"
    assert last["FB-Caller-ID"] == "5035550111" and last["FB-Rcv-Account-Id"] == "carol"
    assert last["FB-Is-Send"] == 0 and last["Acct-Delay-Time"] == 75
    assert not clock.getDelayedCalls()


def test_restart_resends_spooled_stops(tmp_path):
    """A new role on the same spool resends what an earlier run left behind."""
    ps, radius, _ = role(tmp_path)
    radius.accounting_up = False
    result(ps.stop(Session("s1", "alice", True, "1"), Cdr()))
    ps.stop_service()
    again, radius2, clock = role(tmp_path)
    again.start_service()
    clock.advance(0)
    assert [a["Acct-Session-Id"] for a in radius2.acct] == ["s1"] and len(again.spool) == 0


def test_spool_rejects_binary_values(tmp_path):
    """The spool keeps only text and numbers, and says so."""
    from appliance.portserver.spool import SpoolError

    with pytest.raises(SpoolError, match="binary"):
        StopSpool(tmp_path).put("k", [("FB-Account-UUID", b"\x00")], 1.0)


def test_make_portserver_from_config(tmp_path):
    """The [portserver] section wires a listening client and a role with its spool under data_dir."""
    from twisted.internet import reactor

    from appliance.portserver.config import parse_portserver
    from appliance.portserver.role import make_portserver

    cfg = parse_portserver(
        "f.toml",
        {
            "servers": [{"address": "127.0.0.1", "secret": "s", "auth_port": 9, "acct_port": 10}],
            "transfer_type": "queue",
        },
    )
    ps = make_portserver(cfg, reactor, DICT, str(tmp_path), random.Random(1).randbytes, random.Random(2))
    client = ps.client
    assert isinstance(client, RadiusClient)
    try:
        assert ps.transfer_type == 2 and ps.spool.directory == tmp_path / "acct-spool"
    finally:
        client.close()
    with pytest.raises(ValueError, match="no servers"):
        make_portserver(parse_portserver("f.toml", {}), reactor, DICT, str(tmp_path), bytes, random.Random())
