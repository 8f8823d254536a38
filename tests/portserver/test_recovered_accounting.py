"""Accounting that pairs after faults (Clock, scripted RADIUS): a Start that
was never acknowledged is spooled and resent before its Stop; recovery of an
interrupted call writes its Start again and its Stop, saying it was recovered."""

from __future__ import annotations

from twisted.internet import defer

from appliance.jobs.model import RecoveredSession, RecoveryReport
from appliance.outbound import Router
from appliance.outcomes import TERMINATE_RECOVERED
from appliance.portserver import Cdr, Session
from tests.portserver.test_role import result, role


def test_unacknowledged_start_is_resent_before_the_stop(tmp_path):
    ps, radius, clock = role(tmp_path, resend_initial=5.0)
    radius.accounting_up = False
    session = Session("n1-0000000A0000-1", "alice", True, "5550101", started_at=100.0)
    clock.advance(130)
    assert result(ps.stop(session, Cdr(page_count=1), resend_start=True)) is False
    assert len(ps.spool) == 2
    radius.acct.clear()
    radius.accounting_up = True
    clock.advance(5)
    assert [(a["Acct-Status-Type"], a["Acct-Session-Id"]) for a in radius.acct] == [
        (1, session.session_id),
        (2, session.session_id),
    ]
    assert len(ps.spool) == 0 and radius.acct[1]["FB-Page-Count"] == 1


def test_recovered_session_gets_start_and_stop(tmp_path):
    ps, radius, clock = role(tmp_path)
    clock.advance(1000)
    router = Router(
        clock,
        None,
        lambda fn, *a, **k: defer.maybeDeferred(fn, *a, **k),
        node_id="n2",
        pool=None,
        portserver=ps,
        cloud=None,
    )
    session = {
        "session_id": "n1-0000000B0000-2",
        "account": "alice",
        "is_send": True,
        "dial_number": "5550101",
        "started_at": 940.0,
        "save_cdr": True,
        "cdr_info": "dept 7",
        "unknown_later_field": 1,
    }
    report = RecoveryReport(finished=(11,), stops=(RecoveredSession(11, "n1", session, 1, True, 1000.0),))
    router.recovered_stops(report)
    start, stop = radius.acct
    assert (start["Acct-Status-Type"], stop["Acct-Status-Type"]) == (1, 2)
    assert start["Acct-Session-Id"] == stop["Acct-Session-Id"] == "n1-0000000B0000-2"
    assert stop["Acct-Terminate-Cause"] == TERMINATE_RECOVERED
    assert (stop["FB-Page-Count"], stop["FB-Fax-Error-Code"], stop["FB-Total-Seconds"]) == (1, 0, 60)
    assert stop["FB-CDR-Info"] == "dept 7" and len(ps.spool) == 0
    radius.acct.clear()
    failed = RecoveredSession(12, "n1", {**session, "session_id": "n1-0000000C0000-1"}, 0, False, 1000.0)
    router.recovered_stops(RecoveryReport(requeued=(12,), stops=(failed,)))
    assert radius.acct[1]["FB-Fax-Error-Code"] == 1 and radius.acct[1]["FB-Page-Count"] == 0
