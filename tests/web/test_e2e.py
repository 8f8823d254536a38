"""Client-style end to end: schedule with FFWS XML, watch outbound_status
while the (double) line sends, poll ofax until sent; a reception shows in
inbound_status and then in the inbox."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import reactor, task
from twisted.internet.defer import Deferred

from appliance.jobs import open_job_store
from appliance.jobs.model import Claim, Result
from appliance.jobs.scheduler import JobScheduler, thread_runner
from appliance.web.deps import LineUse
from tests.radius.server_process import RunningServer
from tests.web.harness import ALICE, ReceivedFax, WebHarness, schedule_xml

SEND_SECONDS = 1.0


class LineDouble:
    """Dispatcher double: marks line1 busy, 'sends' for SEND_SECONDS, then succeeds."""

    def __init__(self, harness_ref: list[WebHarness]) -> None:
        self.ref = harness_ref
        self.claims: list[Claim] = []

    def dispatch(self, claim: Claim) -> Deferred[Result]:
        self.claims.append(claim)
        line = self.ref[0].lines.lines[0]
        line.direction, line.state, line.fax_number = LineUse.SEND, "Sending Page", claim.entry.recipient.fax_number

        def done() -> Result:
            line.direction, line.state, line.fax_number = LineUse.IDLE, "Waiting for Ring", ""
            return Result.ok(claim.fax.pages, SEND_SECONDS, "FAR END", baud_rate=14400)

        return task.deferLater(reactor, SEND_SECONDS, done)


@pytest.fixture
def e2e(tmp_path: Path, radius_server: RunningServer) -> Iterator[tuple[WebHarness, JobScheduler]]:
    """A web service whose scheduler dispatches to the line double."""
    jobs = open_job_store(f"sqlite:///{tmp_path}/jobs.db")
    ref: list[WebHarness] = []
    double = LineDouble(ref)
    scheduler = JobScheduler(
        jobs,
        clock=reactor,
        run_blocking=thread_runner(reactor, reactor.getThreadPool()),
        node_id="node1",
        dispatch=double.dispatch,
        lines=lambda: ["line1"],
        route_filter="line",
        interval=0.2,
    )
    harness = WebHarness(tmp_path, radius_server, scheduler=scheduler, jobs=jobs)
    ref.append(harness)
    scheduler.startService()
    yield harness, scheduler
    pytest_twisted.blockon(Deferred.fromCoroutine(_stop(harness, scheduler)).addTimeout(30, reactor))


async def _stop(harness: WebHarness, scheduler: JobScheduler) -> None:
    await scheduler.stopService()
    await harness.close()


def sleep(seconds: float) -> Deferred[None]:
    return task.deferLater(reactor, seconds, lambda: None)


@pytest_twisted.ensureDeferred
async def test_schedule_watch_and_poll_until_sent(e2e: tuple[WebHarness, JobScheduler]) -> None:
    """A fax scheduled over FFWS shows in outbound_status while sending and ends sent in ofax."""
    h, _ = e2e
    response = await h.xml("POST", "/ffws/v1/ofax", schedule_xml(1), auth=ALICE)
    assert response.status_code == 201
    url = ET.fromstring(response.content).findtext("fax_entry/fax_entry_url") or ""
    path = url[len(h.base) :]
    seen_sending, state, deadline = False, "", time.monotonic() + 20
    while time.monotonic() < deadline:
        outbound = await h.request("GET", "/ffws/v1/outbound_status", auth=ALICE)
        if outbound.status_code == 200:
            states = [e.findtext("state") for e in ET.fromstring(outbound.content).findall("fax_entry")]
            seen_sending = seen_sending or "sending" in states
        entry = ET.fromstring((await h.request("GET", path, auth=ALICE)).content).find("fax_entry")
        assert entry is not None
        state = entry.findtext("state") or ""
        if state in ("sent", "failed", "dead", "aborted"):
            break
        await sleep(0.1)
    assert state == "sent" and seen_sending
    assert entry.findtext("schedule_message") and entry.findtext("pages") == "1"
    modem = await h.request("GET", path + "?include_modem_info=true", auth=ALICE)
    assert ET.fromstring(modem.content).findtext("fax_entry/remote_id") == "FAR END"
    assert (await h.request("GET", "/ffws/v1/outbound_status", auth=ALICE)).status_code == 404


@pytest_twisted.ensureDeferred
async def test_receive_shows_in_inbound_status(e2e: tuple[WebHarness, JobScheduler], tmp_path: Path) -> None:
    """A reception in progress is an inbound_entry; once stored it is in the inbox and inbound_status is empty."""
    h, _ = e2e
    line = h.lines.lines[1]
    line.direction, line.state, line.remote_id, line.page = LineUse.RECEIVE, "Receiving Page", "SENDER TSI", 1
    line.extension, line.recipient, line.started_at = "5551000", "alice", time.time()
    response = await h.request("GET", "/ffws/v1/inbound_status", auth=ALICE)
    (entry,) = ET.fromstring(response.content).findall("inbound_entry")
    assert (entry.findtext("state"), entry.findtext("remote_id"), entry.findtext("extension")) == (
        "Receiving",
        "SENDER TSI",
        "5551000",
    )
    line.direction, line.state, line.remote_id, line.page = LineUse.IDLE, "Waiting for Ring", "", 0
    h.inbox.records.append(
        ReceivedFax(id="r1", account="alice", received_at=time.time(), pages=1, remote_id="SENDER TSI", did="5551000")
    )
    response = await h.request("GET", "/ffws/v1/inbound_status", auth=ALICE)
    assert ET.fromstring(response.content).findall("inbound_entry") == []
    assert [r.id for r in h.inbox.list(account="alice")] == ["r1"]
