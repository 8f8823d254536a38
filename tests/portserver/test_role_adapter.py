"""The port-server role adapter on a Clock: replies that arrive later,
servers that do not answer (through a fake requester, and through the real
RADIUS client over a fake UDP transport, failing over to the next server),
and the requests and accounting packets it sends for the planner."""

from __future__ import annotations

import random

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.logger import capturedLogs

from appliance.portserver.model import Cdr, Session
from appliance.portserver.role import PortServer
from appliance.portserver.spool import SpoolError, StopSpool
from radius.client import NoServerAnswered, RadiusClient, Reply, ServerSpec
from radius.model import A, Code, FbCommand, FbContext
from tests.portserver.helpers import DICT, FakeUDP, reply_to

ACCEPT, REJECT = Code.ACCESS_ACCEPT, Code.ACCESS_REJECT
GA, GA_DID = FbCommand.GET_ACCOUNT, FbCommand.GET_ACCOUNT_FROM_DID
SEND, RECEIVE = FbContext.PRE_SEND_SESSION, FbContext.PRE_RECEIVE_SESSION
SILENT = object()


class ClockedRadius:
    """A RADIUS requester whose answers arrive on the Clock after ``latency``;
    a request scripted SILENT (or not scripted) fails with NoServerAnswered
    after ``timeout``, as the client does once every server was tried."""

    def __init__(self, clock: Clock, table: dict, latency: float = 0.5, timeout: float = 8.0) -> None:
        self.clock, self.table, self.latency, self.timeout = clock, table, latency, timeout
        self.access_sent: list[list[tuple]] = []
        self.acct_sent: list[list[tuple]] = []
        self.accounting_up = True

    def _later(self, answer) -> Deferred[Reply]:
        d: Deferred[Reply] = Deferred()
        if answer is SILENT:
            self.clock.callLater(self.timeout, d.errback, NoServerAnswered(["one", "two"]))
        else:
            self.clock.callLater(self.latency, d.callback, answer)
        return d

    def access(self, attributes, password=None) -> Deferred[Reply]:
        self.access_sent.append(list(attributes))
        a = dict(attributes)
        key = (a[A.FB_COMMAND.value], a[A.FB_CONTEXT.value], a[A.USER_NAME.value])
        return self._later(self.table.get(key, SILENT))

    def accounting(self, attributes) -> Deferred[Reply]:
        self.acct_sent.append(list(attributes))
        return self._later(Reply(Code.ACCOUNTING_RESPONSE, (), "one") if self.accounting_up else SILENT)

    def asked(self) -> list[tuple[int, int, str]]:
        return [(a[0][1], a[1][1], a[2][1]) for a in self.access_sent]


def reply(code: Code, *attrs) -> Reply:
    return Reply(code, tuple((name.value, value) for name, value in attrs), "one")


def role(tmp_path, table, **kw) -> tuple[PortServer, ClockedRadius, Clock]:
    clock = Clock()
    radius = ClockedRadius(clock, table)
    ps = PortServer(radius, clock, StopSpool(tmp_path / "spool"), random.Random(1), DICT, nas_identifier="nas-1", **kw)
    return ps, radius, clock


def fired(d: Deferred):
    out: list = []
    d.addBoth(out.append)
    return out


def test_send_authorised_when_the_reply_arrives(tmp_path):
    """authorize_send waits for the reply on the clock, then fires with the planner's decision."""
    ps, radius, clock = role(tmp_path, {(GA, SEND, "alice"): reply(ACCEPT, (A.FB_SND_TSID, "ALICE"))})
    out = fired(ps.authorize_send("alice", "5551234", "s1"))
    assert out == []
    clock.advance(0.5)
    ((auth,),) = [out]
    assert auth.allowed and auth.tsid == "ALICE" and auth.account == "alice"
    assert radius.access_sent == [
        [
            ("FB-Command", 1),
            ("FB-Context", 3),
            ("User-Name", "alice"),
            ("Acct-Session-Id", "s1"),
            ("FB-Dial-Number", "5551234"),
            ("FB-Transfer-Type", 1),
            ("NAS-Identifier", "nas-1"),
        ]
    ]


def test_send_refused(tmp_path):
    """A reject and a disabled sender are refused with the reason; nothing is accounted."""
    table = {
        (GA, SEND, "mallory"): reply(REJECT, (A.REPLY_MESSAGE, "unknown account")),
        (GA, SEND, "bob"): reply(ACCEPT, (A.FB_SND_FROM_ACCOUNT, 0)),
    }
    ps, radius, clock = role(tmp_path, table)
    rejected, disabled = fired(ps.authorize_send("mallory", "1", "s1")), fired(ps.authorize_send("bob", "1", "s2"))
    clock.advance(0.5)
    assert not rejected[0].allowed and rejected[0].reason == "send refused: unknown account"
    assert not disabled[0].allowed and disabled[0].reason == "sending is disabled for account bob"
    assert radius.acct_sent == []


def test_no_server_answers(tmp_path):
    """When no server answers: the send and the receive fail with the client's error; call-ahead defaults to on."""
    ps, _, clock = role(tmp_path, {})
    send, receive = fired(ps.authorize_send("alice", "1", "s1")), fired(ps.route_receive("555", "r1"))
    call_ahead = fired(ps.call_ahead_mode("5551234", "s2"))
    clock.advance(7.9)
    assert send == receive == call_ahead == []
    clock.advance(0.1)
    assert send[0].check(NoServerAnswered) and receive[0].check(NoServerAnswered)
    assert call_ahead == [True]
    assert not clock.getDelayedCalls()


def test_receive_refused_for_a_disabled_did(tmp_path):
    """A disabled DID is refused after one request; no account is asked, nothing is accounted."""
    table = {(GA_DID, RECEIVE, "5550001"): reply(ACCEPT, (A.USER_NAME, "alice"), (A.FB_DID_ENABLED, 0))}
    ps, radius, clock = role(tmp_path, table)
    out = fired(ps.route_receive("5550001", "r1"))
    clock.pump([0.5] * 20)
    assert not out[0].accepted and out[0].reason == "DID 5550001 is disabled"
    assert radius.asked() == [(2, 4, "5550001")] and radius.acct_sent == []


def test_failover_when_the_account_cannot_receive(tmp_path):
    """A busy account's call goes to its failover account, logged with both names; the primary is billed."""
    table = {
        (GA_DID, RECEIVE, "5550002"): reply(ACCEPT, (A.USER_NAME, "bob")),
        (GA, RECEIVE, "bob"): reply(ACCEPT, (A.FB_RCV_FAILOVER_ACCOUNT_ID, "carol")),
        (GA, RECEIVE, "carol"): reply(ACCEPT, (A.FB_RCV_CSID, "CAROL")),
    }
    ps, radius, clock = role(tmp_path, table, is_available=lambda account: account != "bob")
    with capturedLogs() as events:
        out = fired(ps.route_receive("5550002", "r1"))
        for _ in range(3):
            clock.advance(0.5)
    (route,) = out
    assert route.accepted and (route.billed_account, route.receive_account, route.csid) == ("bob", "carol", "CAROL")
    assert radius.asked() == [(2, 4, "5550002"), (1, 4, "bob"), (1, 4, "carol")]
    (event,) = [e for e in events if e.get("failover")]
    assert (event["did"], event["account"], event["failover"]) == ("5550002", "bob", "carol")
    assert event["why"] == "account bob is busy or unavailable"
    session = route.session("r1", clock.seconds())
    assert session.account == "bob" and session.client_account == "carol"


def test_group_member_picked_with_replies_arriving_later(tmp_path):
    """Most-free delivery through the adapter: the member with the most free sessions that can receive."""
    table = {
        (GA_DID, RECEIVE, "555"): reply(ACCEPT, (A.USER_NAME, "grp")),
        (GA, RECEIVE, "grp"): reply(ACCEPT, (A.FB_ACCOUNT_TYPE, 9), (A.FB_LAST_MODIFIED_TIME, 7)),
        (4, RECEIVE, "grp"): reply(ACCEPT, (A.USER_NAME, "m1"), (A.USER_NAME, "m2"), (A.USER_NAME, "m3")),
        (GA, RECEIVE, "m1"): reply(ACCEPT),
        (GA, RECEIVE, "m2"): reply(ACCEPT, (A.FB_RCV_TIME_EXPIRED, 1)),
        (GA, RECEIVE, "m3"): reply(ACCEPT, (A.FB_RCV_CSID, "M3")),
    }
    free = {"m1": 1, "m2": 9, "m3": 4}
    ps, radius, clock = role(tmp_path, table, free_receive_sessions=free.__getitem__)
    out = fired(ps.route_receive("555", "r1"))
    clock.pump([0.5] * 4)
    assert out == []  # five requests, one after the other
    clock.advance(0.5)
    assert out[0].receive_account == "m3" and out[0].csid == "M3"
    assert radius.asked()[2:] == [(4, 4, "grp"), (1, 4, "m2"), (1, 4, "m3")]
    assert ps.group_member_requests == 1


def test_start_and_stop_carry_the_cdr(tmp_path):
    """Start and Stop are sent with the planner's attributes; the Stop is spooled until acknowledged."""
    ps, radius, clock = role(tmp_path, {})
    clock.advance(1000)
    session = Session("s1", "alice", True, "5551234", started_at=1000.0, customer="acme")
    start = fired(ps.start(session))
    clock.advance(0.5)
    assert start == [True]
    assert radius.acct_sent[0] == [
        ("Acct-Status-Type", 1),
        ("Acct-Session-Id", "s1"),
        ("User-Name", "alice"),
        ("NAS-Identifier", "nas-1"),
        ("FB-Is-Send", 1),
        ("FB-Dial-Number", "5551234"),
    ]
    clock.advance(40)
    stop = fired(ps.stop(session, Cdr(page_count=3, total_seconds=40, connect_bps=9600, called_number_result=0)))
    assert stop == [] and len(ps.spool) == 1
    clock.advance(0.5)
    assert stop == [True] and len(ps.spool) == 0
    sent = dict(radius.acct_sent[1])
    assert sent["Acct-Status-Type"] == 2 and sent["FB-Page-Count"] == 3 and sent["FB-Total-Seconds"] == 40
    assert sent["FB-Start-Time"] == 1000 and sent["FB-Connect-BPS"] == 9600 and sent["FB-Customer"] == "acme"
    assert sent["FB-Called-Number-Result"] == 0 and "Acct-Delay-Time" not in sent
    assert not clock.getDelayedCalls()


def test_stop_waits_in_the_spool_while_no_server_answers(tmp_path):
    """An unanswered Stop stays spooled and is resent after the backoff, with its delay time."""
    ps, radius, clock = role(tmp_path, {}, resend_initial=5.0)
    radius.accounting_up = False
    stop = fired(ps.stop(Session("r1", "bob", False, "5550002"), Cdr(caller_id="5035550111")))
    clock.advance(8.0)
    assert stop == [False] and len(ps.spool) == 1
    radius.accounting_up = True
    clock.advance(5.0)  # the resend leaves at 13 s
    clock.advance(0.5)
    assert len(ps.spool) == 0
    resent = dict(radius.acct_sent[-1])
    assert resent["Acct-Delay-Time"] == 13 and resent["FB-Caller-ID"] == "5035550111"


def test_stop_service_waits_for_an_interim_update_in_flight(tmp_path):
    """stop_service cancels the Interim-Update timer and fires once the update already sent has ended."""
    ps, radius, clock = role(tmp_path, {}, interim_interval=60.0)
    fired(ps.start(Session("s1", "alice", True, "1", started_at=1.0)))
    clock.pump([0.5, 59.5])  # Start acknowledged; the first Interim-Update leaves at 60 s
    assert [dict(a)["Acct-Status-Type"] for a in radius.acct_sent] == [1, 3]
    stopped = fired(ps.stop_service())
    assert stopped == []
    clock.advance(0.5)
    assert stopped == [None] and not clock.getDelayedCalls()


def test_no_resend_armed_after_stop_service(tmp_path):
    """A Stop that fails after stop_service stays spooled for the next start; no timer is left behind."""
    ps, radius, clock = role(tmp_path, {})
    radius.accounting_up = False
    stop = fired(ps.stop(Session("s1", "alice", True, "1"), Cdr()))
    assert fired(ps.stop_service()) == [None]
    clock.advance(8.0)
    assert stop == [False] and len(ps.spool) == 1 and not clock.getDelayedCalls()
    radius.accounting_up = True
    ps.start_service()
    clock.pump([0.0, 0.5])
    assert len(ps.spool) == 0


def test_failed_resend_pass_is_logged(tmp_path):
    """A resend pass that fails (the spool cannot be written) is logged, not left unhandled."""

    class ReadOnlySpool(StopSpool):
        def remove(self, key: str) -> None:
            raise SpoolError("cannot remove: read-only file system")

    clock = Clock()
    radius = ClockedRadius(clock, {})
    ps = PortServer(radius, clock, ReadOnlySpool(tmp_path / "spool"), random.Random(1), DICT)
    radius.accounting_up = False
    fired(ps.stop(Session("s1", "alice", True, "1"), Cdr()))
    clock.advance(8.0)  # unanswered: a resend is armed for 5 s later
    radius.accounting_up = True
    with capturedLogs() as events:
        clock.pump([5.0, 0.5])
    (event,) = [e for e in events if e.get("log_failure") is not None]
    assert event["what"] == "resend of spooled Stops" and event["log_failure"].check(SpoolError)


# ------------------------------------------- real client, fake UDP transport

ONE = ServerSpec("10.0.0.1", 1812, 1813, b"secret-one", name="one")
TWO = ServerSpec("10.0.0.2", 1812, 1813, b"secret-two", name="two")


def test_send_fails_over_to_the_next_server_on_timeout(tmp_path):
    """The first server does not answer: after its retransmissions the request moves on and the second answers."""
    clock = Clock()
    client = RadiusClient(clock, [ONE, TWO], DICT, random.Random(3).randbytes, timeout=2.0, retries=1)
    udp = FakeUDP()
    client.makeConnection(udp)
    ps = PortServer(client, clock, StopSpool(tmp_path / "spool"), random.Random(1), DICT, nas_identifier="nas-1")
    out = fired(ps.authorize_send("alice", "5551234", "s1"))
    clock.advance(2.0)
    clock.advance(2.0)
    assert [addr[0] for _, addr in udp.written] == ["10.0.0.1", "10.0.0.1", "10.0.0.2"] and out == []
    data, addr = udp.written[-1]
    client.datagramReceived(reply_to(data, TWO.secret, ACCEPT, [(A.FB_SND_ANI.value, "5035550100")]), addr)
    assert out[0].allowed and out[0].ani == "5035550100"
    route = fired(ps.route_receive("5550001", "r1"))  # the first server is now down: the second is asked first
    data, addr = udp.written[-1]
    assert addr == ("10.0.0.2", 1812)
    client.datagramReceived(reply_to(data, TWO.secret, REJECT, [(A.REPLY_MESSAGE.value, "no such DID")]), addr)
    assert not route[0].accepted and route[0].reason == "no such DID"
    assert not clock.getDelayedCalls()
