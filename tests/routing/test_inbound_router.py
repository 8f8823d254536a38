"""The inbound router on a Clock with fake lines and a fake port-server role
(no subprocesses): a RING on a DID is answered and the fax filed in the
DID's account's inbox, a disabled DID is not answered, a fax for an account
that cannot receive goes to its failover account, and each reception is
accounted once."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.logger import LogLevel, capturedLogs

from appliance.config import LineConfig
from appliance.inbound.inbox import UNROUTED_ACCOUNT, Inbox, InboxItem
from appliance.inbound.router import InboundRouter
from appliance.portserver import ReceiveRoute
from modem import class2 as c2
from modem.document import FaxPage, Resolution
from modem.hangup import Numbering, parse_hangup
from modem.params import SessionParams
from modem.t4 import encode_page
from radius.client import ClientError
from tests.routing.fakes import FakeLines, FakePortServer

T0 = 1_700_000_000.0
DID, DISABLED = "5550001", "5550002"
PAGE = encode_page(FaxPage(Image.new("1", (1728, 8), 1), Resolution.FINE))


def run_now(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    return defer.maybeDeferred(fn, *args, **kwargs)


class Node:
    def __init__(self, tmp_path: Path, portserver: FakePortServer | None) -> None:
        self.clock = Clock()
        self.clock.advance(T0)
        self.lines = FakeLines(
            self.clock,
            [LineConfig("L1", "/dev/L1", did=DID, tsid="ACME"), LineConfig("L2", "/dev/L2", did=DISABLED)],
        )
        self.portserver = portserver
        self.inbox = Inbox(tmp_path / "inbox")
        self.router = InboundRouter(
            self.clock,
            self.lines,
            self.inbox,
            portserver,
            run_now,
            node_id="n1",
            token_hex=lambda: "00ab",
        )
        self.stored: list[tuple[InboxItem, str, float]] = []
        self.router.on_stored = lambda item, line, seconds: self.stored.append((item, line, seconds))


@pytest.fixture
def node(tmp_path: Path) -> Node:
    portserver = FakePortServer()
    portserver.routes[DID] = ReceiveRoute(True, DID, billed_account="demo", receive_account="demo")
    portserver.routes[DISABLED] = ReceiveRoute(False, DISABLED, f"DID {DISABLED} is disabled")
    return Node(tmp_path, portserver)


def received(pages: int = 2, ok: bool = True) -> c2.SessionResult:
    page = c2.ReceivedPage(PAGE, 1, 8, True)
    return c2.SessionResult(
        c2.Outcome.OK if ok else c2.Outcome.HANGUP,
        "ok" if ok else "carrier lost",
        received=(page,) * pages,
        remote_id=" REMOTE ",
        caller_id="5550102",
        params=SessionParams(vr=1, br=3),
        hangup=parse_hangup("00" if ok else "40", Numbering.CLASS20),
    )


def test_a_ring_on_a_did_is_received_into_its_accounts_inbox(node: Node) -> None:
    """RING on L1: answered for demo, both pages in demo's inbox, one Start and one Stop with the CDR."""
    node.router.on_ring("L1")
    (call,) = node.lines.open_calls()
    assert (call.line, call.direction, call.number) == ("L1", "receive", "demo")
    node.clock.advance(45)
    call.end(received())
    (item,) = node.inbox.list("demo")
    assert (item.pages, item.did, item.caller_id, item.remote_csid, item.source) == (
        2,
        DID,
        "5550102",
        "REMOTE",
        "line:L1",
    )
    assert item.session_id == "n1-in-00ab" and node.stored == [(item, "L1", 45.0)]
    assert node.router.calls == [("L1", DID, "received")]
    assert [s.session_id for s in node.portserver.starts] == ["n1-in-00ab"]
    ((session, cdr, _),) = node.portserver.stops
    assert (session.account, session.is_send, session.dial_number) == ("demo", False, DID)
    assert (cdr.page_count, cdr.total_seconds, cdr.remote_csid, cdr.local_csid) == (2, 45, "REMOTE", "ACME")
    assert (cdr.connect_bps, cdr.fax_error_code, cdr.caller_id, cdr.rcv_account_id) == (9600, 0, "5550102", "")
    assert len(node.router.pending) == 0


def test_a_disabled_did_is_not_answered(node: Node) -> None:
    """RING on the disabled DID's line: the call is left unanswered and nothing is accounted."""
    node.router.on_ring("L2")
    assert node.lines.calls == [] and node.lines.ignored == ["L2"]
    assert node.router.calls == [("L2", DISABLED, f"refused: DID {DISABLED} is disabled")]
    assert node.portserver.starts == [] and node.portserver.stops == [] and node.inbox.list() == []


def test_no_radius_server_leaves_the_call_unanswered(node: Node) -> None:
    def unreachable(did: str, session_id: str) -> defer.Deferred[ReceiveRoute]:
        return defer.fail(ClientError("no server answered"))

    node.portserver.route_receive = unreachable  # type: ignore[method-assign]
    node.router.on_ring("L1")
    assert node.lines.calls == [] and node.lines.ignored == ["L1"]
    assert node.router.calls == [("L1", DID, "refused: no RADIUS server")]


def test_an_account_that_cannot_receive_fails_over(node: Node) -> None:
    """The DID's account cannot receive; the role names its failover account: the fax is in the
    failover account's inbox, billed to the DID's account, the CDR names the receiver."""
    node.portserver.routes[DID] = ReceiveRoute(True, DID, billed_account="demo", receive_account="backup")
    node.router.on_ring("L1")
    (call,) = node.lines.open_calls()
    assert call.number == "backup"
    call.end(received(pages=1))
    assert node.inbox.list("demo") == [] and [i.pages for i in node.inbox.list("backup")] == [1]
    ((session, cdr, _),) = node.portserver.stops
    assert (session.account, session.client_account, cdr.rcv_account_id) == ("demo", "backup", "backup")


def test_a_broken_reception_is_accounted_once_with_the_pages_kept(node: Node) -> None:
    """Carrier lost after one page: that page is filed, and the one Stop counts it with the hangup code."""
    node.router.on_ring("L1")
    node.lines.open_calls()[0].end(received(pages=1, ok=False))
    assert [i.pages for i in node.inbox.list("demo")] == [1]
    ((_, cdr, _),) = node.portserver.stops
    assert (cdr.page_count, cdr.fax_error_code) == (1, 0x40)


def test_a_call_without_pages_files_nothing(node: Node) -> None:
    node.router.on_ring("L1")
    node.lines.open_calls()[0].end(c2.SessionResult(c2.Outcome.NO_FAX, "no fax connection"))
    assert node.inbox.list() == [] and node.router.calls == [("L1", DID, "no fax connection")]
    assert [cdr.page_count for _, cdr, _ in node.portserver.stops] == [0]


def test_without_a_role_faxes_go_to_the_unrouted_inbox(tmp_path: Path) -> None:
    """No port-server role: calls are answered, unaccounted, into the inbox of unrouted faxes."""
    node = Node(tmp_path, None)
    node.router.on_ring("L1")
    node.lines.open_calls()[0].end(received(pages=1))
    assert [i.account for i in node.inbox.list()] == [UNROUTED_ACCOUNT]


def test_stop_waits_for_a_call_under_way(node: Node) -> None:
    """``stop()`` fires once the call in progress has ended and been filed and accounted."""
    node.router.on_ring("L1")
    stopped = defer.Deferred.fromCoroutine(node.router.stop())
    assert not stopped.called and len(node.router.pending) == 1
    node.lines.open_calls()[0].end(received(pages=1))
    assert stopped.called and len(node.portserver.stops) == 1


def test_a_failing_call_is_logged_not_lost(node: Node) -> None:
    """An unexpected error in a call is logged by the tracker, which is then idle."""

    def broken(did: str, session_id: str) -> defer.Deferred[ReceiveRoute]:
        raise RuntimeError("role broken")

    node.portserver.route_receive = broken  # type: ignore[method-assign]
    with capturedLogs() as events:
        node.router.on_ring("L1")
    failures = [e for e in events if e.get("log_level") == LogLevel.critical]
    assert [e["line"] for e in failures] == ["L1"] and len(node.router.pending) == 0
    assert "role broken" in str(failures[0]["log_failure"].value)
