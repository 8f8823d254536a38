"""The FAXAGE client against the simulated service over real HTTP on
loopback: send → pending → success with the url_notify callback, the
fallback poller, faults (ERR01, 5xx, slow, dropped, lost callback) and
the never-send-twice rule."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred

from appliance.cloud.client import make_http_client
from appliance.cloud.errors import FaxageTransportError
from appliance.cloud.notify import StatusPoller
from appliance.cloud.records import ShortStatus
from hwsim.faxage import Fault, Step
from tests.cloud.simharness import Harness, reactor, until


@pytest_twisted.inlineCallbacks
def test_send_pending_success_with_callback(h: Harness) -> Iterator[Deferred[Any]]:
    """A fax goes pending then success, and the url_notify callback delivers the final status once."""
    token, url = h.tracker.new_token()
    job = yield h.faxage.sendfax("3035550123", "Bob", [("memo.txt", b"hello")], url_notify=url)
    h.tracker.bind(token, job.jobid)
    (first,) = yield h.faxage.status([job.jobid])
    assert first.shortstatus is ShortStatus.PENDING
    yield until(lambda: h.finals)
    assert [(r.jobid, r.shortstatus) for r in h.finals] == [(job.jobid, ShortStatus.SUCCESS)]
    (last,) = yield h.faxage.status([job.jobid], pagecount=1, xmitpages=1)
    assert last.shortstatus is ShortStatus.SUCCESS and last.xmitpages == last.pagecount == 1
    poller = StatusPoller(h.tracker, h.faxage, reactor, interval=1.0, on_final=h.finals.append)
    yield poller.poll_once()
    assert len(h.finals) == 1, "the poller does not deliver a second time"


@pytest_twisted.inlineCallbacks
def test_lost_callback_found_by_poller(h: Harness) -> Iterator[Deferred[Any]]:
    """When the callback is lost, the status poller (jobids[] batches) delivers the final status."""
    h.simulator.faults.add(Fault("lose_callback"))
    h.sim.script("2125550188", (Step(0.1, "failure", "Busy"),))
    jobs = []
    for faxno in ("3035550123", "2125550188"):
        token, url = h.tracker.new_token()
        job = yield h.faxage.sendfax(faxno, "Bob", [("a.txt", b"x")], url_notify=url)
        h.tracker.bind(token, job.jobid)
        jobs.append(job.jobid)
    yield until(lambda: len(h.simulator.callbacks_lost) + len(h.simulator.callbacks_sent) == 2)
    yield until(lambda: len(h.finals) == 1)
    poller = StatusPoller(h.tracker, h.faxage, reactor, interval=1.0, batch_size=2, on_final=h.finals.append)
    yield poller.poll_once()
    assert sorted(r.jobid for r in h.finals) == jobs
    assert {r.shortstatus for r in h.finals} == {ShortStatus.SUCCESS, ShortStatus.FAILURE}


@pytest_twisted.inlineCallbacks
def test_slow_sendfax_times_out_exactly_one_job(h: Harness) -> Iterator[Deferred[Any]]:
    """sendfax times out after the simulator accepted it: reconciliation finds it, exactly one job exists."""
    import httpx

    h.client._http = make_http_client(timeout=httpx.Timeout(0.3))
    h.simulator.faults.add(Fault("slow", "sendfax", seconds=2.0))
    job = yield h.faxage.sendfax("3035550123", "Carol", [("a.txt", b"x")])
    assert job.reconciled
    assert [j.jobid for j in h.sim.jobs.values()] == [job.jobid]


@pytest_twisted.inlineCallbacks
def test_dropped_before_acceptance_is_resent(h: Harness) -> Iterator[Deferred[Any]]:
    """A connection dropped before the job was made leads to one resend and one job."""
    h.simulator.faults.add(Fault("drop", "sendfax", apply=False))
    job = yield h.faxage.sendfax("3035550123", "Dave", [("a.txt", b"x")])
    assert not job.reconciled and list(h.sim.jobs) == [job.jobid]


@pytest_twisted.inlineCallbacks
def test_dropped_after_acceptance_is_reconciled(h: Harness) -> Iterator[Deferred[Any]]:
    """A connection dropped after the job was made is reconciled, not resent."""
    h.simulator.faults.add(Fault("drop", "sendfax", apply=True))
    job = yield h.faxage.sendfax("3035550123", "Erin", [("a.txt", b"x")])
    assert job.reconciled and list(h.sim.jobs) == [job.jobid]


@pytest_twisted.inlineCallbacks
def test_err01_and_5xx_retried(h: Harness) -> Iterator[Deferred[Any]]:
    """ERR01 and HTTP 503 from the simulator are retried for safe operations."""
    h.simulator.faults.add(Fault("err01", "listlines"))
    h.simulator.faults.add(Fault("http5xx", "listlines"))
    lines = yield h.faxage.request("listlines")
    assert lines == ("3035550100", "3035550101")
    assert h.simulator.requests == 3


@pytest_twisted.inlineCallbacks
def test_unsafe_op_after_5xx_not_repeated(h: Harness) -> Iterator[Deferred[Any]]:
    """A 503 on delfax is reported, not repeated."""
    recvid = h.sim.inject_fax(now=reactor.seconds(), dnis="3035550100", cid="2125550123")
    h.simulator.faults.add(Fault("http5xx", "delfax"))
    with pytest.raises(FaxageTransportError):
        yield h.faxage.request("delfax", {"faxid": recvid})
    assert h.simulator.requests == 1 and recvid in h.sim.faxes


@pytest_twisted.inlineCallbacks
def test_inbound_listfax_getfax_handled(h: Harness) -> Iterator[Deferred[Any]]:
    """Injected faxes are listed unhandled, downloaded, marked handled and then no longer listed."""
    recvid = h.sim.inject_fax(
        now=reactor.seconds(), dnis="3035550100", cid="2125550123", data=b"%PDF-1.4 x", pagecount=2, tsid="REMOTE"
    )
    (rec,) = yield h.faxage.request("listfax", {"unhandled": 1, "idgt": 0, "pagecount": 1, "showtsid": 1})
    assert (rec.recvid, rec.pagecount, rec.tsid, rec.dnis) == (recvid, 2, "REMOTE", "(303)555-0100")
    doc = yield h.faxage.request("getfax", {"faxid": recvid})
    assert doc.data == b"%PDF-1.4 x" and doc.filename == f"fax{recvid}.pdf"
    yield h.faxage.request("handled", {"recvid": recvid, "handled": 1})
    again = yield h.faxage.request("listfax", {"unhandled": 1})
    assert again == ()
