"""The outbound router under the job scheduler, on a Clock, with fake lines,
a fake port-server role and a fake FAXAGE client (no subprocesses): a busy
line is waited for, all lines busy overflow to the cloud, a resting line is
not used until its rest is over, a line failing mid-fax fails over to the
other line and resumes, a refused send is never dialled, and every attempt
is accounted once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.logger import capturedLogs

from appliance.cloud.notify import NotifyTracker
from appliance.cloud.records import ShortStatus
from appliance.config import LineConfig
from appliance.jobs import EntryState, FaxSpec, JobStore, Recipient, open_job_store
from appliance.jobs.model import CLOUD, Cause, Entry
from appliance.jobs.scheduler import JobScheduler
from appliance.outbound import ACK_WAIT, CloudRoute, Router
from appliance.outcomes import RouteFilter
from appliance.portserver import SendAuthorization
from modem import class2 as c2
from modem.document import FaxPage, Resolution
from modem.hangup import Numbering, parse_hangup
from modem.params import SessionParams
from modem.t4 import encode_page
from tests.routing.fakes import FakeFaxage, FakeLines, FakePortServer, final_status

T0 = 1_700_000_000.0
NUMBER = "5550101"


def run_now(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """run_blocking for the tests: the store is a local file, the pages are tiny."""
    return defer.maybeDeferred(fn, *args, **kwargs)


@pytest.fixture
def jobs(tmp_path: Path) -> Iterator[JobStore]:
    store = open_job_store(f"sqlite:///{tmp_path}/jobs.db")
    yield store
    store.close()


@pytest.fixture
def pages(tmp_path: Path) -> tuple[str, ...]:
    """Two one-strip pages as raw T.4 files."""
    names = []
    for n in range(2):
        path = tmp_path / f"p{n}.g3"
        path.write_bytes(encode_page(FaxPage(Image.new("1", (1728, 8), 1), Resolution.FINE)))
        names.append(str(path))
    return tuple(names)


class Node:
    """One node: scheduler → router → fake lines / fake cloud, accounting to a fake role."""

    def __init__(
        self,
        jobs: JobStore,
        documents: tuple[str, ...],
        *,
        lines: int = 2,
        route_filter: RouteFilter = RouteFilter.ANY,
        cloud: bool = True,
    ) -> None:
        self.clock = Clock()
        self.clock.advance(T0)
        self.jobs = jobs
        self.documents = documents
        configs = [LineConfig(f"L{n}", f"/dev/L{n}", tsid="ACME") for n in range(1, lines + 1)]
        self.lines = FakeLines(self.clock, configs)
        self.portserver = FakePortServer()
        self.faxage = FakeFaxage()
        self.cloud = CloudRoute(self.faxage, NotifyTracker("http://n/notify", lambda n: b"t" * n), notify=False)
        self.router = Router(
            self.clock,
            jobs,
            run_now,
            node_id="n1",
            pool=self.lines,
            portserver=self.portserver,
            cloud=self.cloud if cloud else None,
        )
        self.scheduler = JobScheduler(
            jobs,
            clock=self.clock,
            run_blocking=run_now,
            node_id="n1",
            dispatch=self.router.dispatch,
            lines=self.lines.free_lines,
            route_filter=route_filter,
            cloud_slots=2 if cloud else 0,
            interval=1.0,
        )
        self.scheduler.startService()

    def submit(self, count: int = 1, max_tries: int | None = None) -> list[Entry]:
        """``count`` recipients (distinct numbers: one call per destination at a time)."""
        spec = FaxSpec(
            owner="alice", account="acme", documents=self.documents, pages=len(self.documents), max_tries=max_tries
        )
        numbers = [str(int(NUMBER) + n) for n in range(count)]
        _, entries = self.jobs.submit(spec, [Recipient(fax_number=n) for n in numbers], self.clock.seconds())
        self.clock.advance(1)
        return entries

    def entry(self, entry: Entry) -> Entry:
        return self.jobs.get_entry(entry.id)

    def stop(self) -> None:
        self.scheduler.stopService()


def sent(pages: int = 2) -> c2.SessionResult:
    return c2.SessionResult(
        c2.Outcome.OK,
        "ok",
        pages_confirmed=pages,
        remote_id=" REMOTE ",
        params=SessionParams(vr=1, br=5),
        hangup=parse_hangup("00", Numbering.CLASS20),
    )


def test_a_busy_line_is_waited_for_then_used(jobs: JobStore, pages: tuple[str, ...]) -> None:
    """One line, no cloud: the second fax waits while the line is in a call and goes out on it after."""
    node = Node(jobs, pages, lines=1, route_filter=RouteFilter.LINE, cloud=False)
    first, second = node.submit(2)
    assert [c.line for c in node.lines.open_calls()] == ["L1"]
    node.clock.advance(5)
    assert len(node.lines.calls) == 1 and node.entry(second).state is EntryState.PENDING
    node.lines.open_calls()[0].end(sent())
    node.clock.advance(1)
    assert node.entry(first).state is EntryState.SENT
    call = node.lines.open_calls()[0]
    assert (call.line, call.number, len(call.pages), call.local_id) == ("L1", "5550102", 2, "ACME")
    call.end(sent())
    node.clock.advance(1)
    done = node.entry(second)
    assert (done.state, done.pages_sent, done.remote_csid) == (EntryState.SENT, 2, "REMOTE")
    node.stop()


def test_all_lines_busy_overflow_to_the_cloud(jobs: JobStore, pages: tuple[str, ...]) -> None:
    """Both lines in calls: the third fax is submitted to FAXAGE and completes on its final status."""
    node = Node(jobs, pages)
    entries = node.submit(3)
    assert sorted(c.line for c in node.lines.open_calls()) == ["L1", "L2"]
    assert len(node.faxage.sent) == 1
    overflow = next(e for e in entries if node.entry(e).route == CLOUD)
    assert node.entry(overflow).cloud_job_id == "1001"
    node.cloud.on_final(final_status(1001, pages=2))
    node.clock.advance(1)
    done = node.entry(overflow)
    assert (done.state, done.pages_sent, done.remote_csid) == (EntryState.SENT, 2, "REMOTE")
    cloud_stops = [(s, cdr) for s, cdr, _ in node.portserver.stops if s.session_id.endswith("-1")]
    assert [(cdr.page_count, cdr.fax_error_code, cdr.called_number_result) for _, cdr in cloud_stops] == [(2, 0, 0)]
    node.stop()


def test_a_failed_cloud_job_is_a_failed_attempt(jobs: JobStore, pages: tuple[str, ...]) -> None:
    node = Node(jobs, pages, lines=0, route_filter=RouteFilter.CLOUD)
    (entry,) = node.submit()
    node.cloud.on_final(final_status(1001, ShortStatus.FAILURE))
    node.clock.advance(1)
    failed = node.entry(entry)
    assert (failed.state, failed.last_cause, failed.hangup_text) == (EntryState.PENDING, "other", "No answer")
    assert [(c.page_count, c.fax_error_code) for _, c, _ in node.portserver.stops] == [(0, 1)]
    node.stop()


def test_a_resting_line_is_not_used_until_its_rest_is_over(jobs: JobStore, pages: tuple[str, ...]) -> None:
    """Our line's own failures (no dial tone) count against it, the remote's (busy) do not; after
    two in a row it rests: sends wait for it, and it is used again once the rest is over."""
    node = Node(jobs, pages, lines=1, route_filter=RouteFilter.LINE, cloud=False)
    (entry,) = node.submit(max_tries=5)
    node.lines.open_calls()[0].end(c2.SessionResult(c2.Outcome.BUSY, "busy"))
    assert node.lines.faults == [("L1", False)]
    node.clock.advance(180)  # the busy retry interval
    node.lines.open_calls()[0].end(c2.SessionResult(c2.Outcome.NO_DIALTONE, "no dial tone"))
    node.clock.advance(300)  # the retry interval for other causes
    node.lines.open_calls()[0].end(c2.SessionResult(c2.Outcome.NO_DIALTONE, "no dial tone"))
    assert node.lines.faults == [("L1", False), ("L1", True), ("L1", True)]
    assert node.entry(entry).last_cause == Cause.OTHER.value
    node.clock.advance(299)  # due again, but the line rests 300 s
    assert node.lines.open_calls() == [] and node.lines.free_lines() == []
    node.clock.advance(2)
    (call,) = node.lines.open_calls()
    call.end(sent())
    node.clock.advance(1)
    assert (node.entry(entry).state, node.entry(entry).tries) == (EntryState.SENT, 4)
    node.stop()


def test_a_line_failing_mid_fax_fails_over_to_the_other_line(jobs: JobStore, pages: tuple[str, ...]) -> None:
    """L1 drops after page 1: the next try goes out on L2 (L1 failed last, so it is offered last)
    and sends only page 2; the entry counts both pages."""
    node = Node(jobs, pages, route_filter=RouteFilter.LINE, cloud=False)
    (entry,) = node.submit()
    (first,) = node.lines.open_calls()
    assert first.line == "L1"
    first.end(c2.SessionResult(c2.Outcome.HANGUP, "carrier lost", pages_confirmed=1))
    node.clock.advance(1)
    assert node.entry(entry).pages_sent == 1 and node.lines.faults == [("L1", True)]
    node.clock.advance(60)  # the protocol retry interval
    (second,) = node.lines.open_calls()
    assert (second.line, second.first_page, len(second.pages)) == ("L2", 1, 1)
    second.end(sent(pages=1))
    node.clock.advance(1)
    done = node.entry(entry)
    assert (done.state, done.pages_sent, done.tries) == (EntryState.SENT, 2, 2)
    details = [a.details for a in jobs.attempts(entry.id)]
    assert [d.get("line") for d in details] == ["L1", "L2"] and details[1].get("first_page") == 2
    node.stop()


def test_a_refused_send_is_never_dialled(jobs: JobStore, pages: tuple[str, ...]) -> None:
    """The account may not send (e.g. disabled): the entry ends after one try, with the reason, unaccounted."""
    node = Node(jobs, pages)
    node.portserver.send_reply = SendAuthorization(False, "acme", NUMBER, reason="account acme is disabled")
    (entry,) = node.submit()
    node.clock.advance(1)
    done = node.entry(entry)
    assert (done.state, done.tries, done.hangup_text) == (EntryState.DEAD, 1, "account acme is disabled")
    assert node.lines.calls == [] and node.faxage.sent == []
    assert node.portserver.starts == [] and node.portserver.stops == []
    node.stop()


def test_each_attempt_is_accounted_once_with_its_cdr(jobs: JobStore, pages: tuple[str, ...]) -> None:
    """Start then one Stop per attempt: the CDR of a delivered line send; an unacknowledged Start is resent."""
    node = Node(jobs, pages, lines=1, route_filter=RouteFilter.LINE, cloud=False)
    node.portserver.start_ack = False
    (entry,) = node.submit()
    node.clock.advance(30)
    node.lines.open_calls()[0].end(sent())
    node.clock.advance(1)
    assert [s.session_id for s in node.portserver.starts] == [f"n1-{entry.fax_id:08X}0000-1"]
    ((session, cdr, resend_start),) = node.portserver.stops
    assert session.session_id == node.portserver.starts[0].session_id and resend_start
    assert (cdr.page_count, cdr.remote_csid, cdr.local_csid, cdr.connect_bps) == (2, "REMOTE", "ACME", 14400)
    assert (cdr.fax_error_code, cdr.called_number_result, cdr.total_seconds) == (0, 0, 30)
    assert len(node.router.pending) == 0
    node.stop()


def test_stop_waits_for_accounting_on_its_way(jobs: JobStore, pages: tuple[str, ...]) -> None:
    """An unanswered Stop is waited for by ``stop()``, at most its timeout; then it is cancelled and logged."""
    node = Node(jobs, pages, lines=1, route_filter=RouteFilter.LINE, cloud=False)
    answer: defer.Deferred[bool] = defer.Deferred()
    node.portserver.stop = lambda session, cdr, resend_start=False: answer  # type: ignore[method-assign]
    node.submit()
    node.lines.open_calls()[0].end(sent())
    stopped = defer.Deferred.fromCoroutine(node.router.stop(timeout=10))
    assert not stopped.called and len(node.router.pending) == 1
    answer.callback(True)
    assert stopped.called and len(node.router.pending) == 0
    late: defer.Deferred[bool] = defer.Deferred()
    node.router.pending.track(late, "accounting", session_id="x")
    stopped = defer.Deferred.fromCoroutine(node.router.stop(timeout=10))
    node.clock.advance(9)
    assert not stopped.called and not late.called
    with capturedLogs() as events:
        node.clock.advance(1)
    # after the bound the Stop's wait is cancelled (the port-server spool keeps the Stop) and logged
    assert stopped.called and late.called and len(node.router.pending) == 0
    assert [e.get("session_id") for e in events if e.get("log_failure") is not None] == ["x"]
    node.stop()


def test_the_result_is_recorded_once_the_stop_is_acknowledged(jobs: JobStore, pages: tuple[str, ...]) -> None:
    """A send's result waits for its Stop's acknowledgement (at most ACK_WAIT): a node that dies
    meanwhile leaves the claim to recovery, which writes the Stop from the shared store."""
    node = Node(jobs, pages, lines=1, route_filter=RouteFilter.LINE, cloud=False)
    answers: list[defer.Deferred[bool]] = []

    def stop(session, cdr, resend_start=False):  # type: ignore[no-untyped-def]
        answers.append(defer.Deferred())
        return answers[-1]

    node.portserver.stop = stop  # type: ignore[method-assign]
    (first, second) = node.submit(2)
    node.lines.open_calls()[0].end(sent())
    assert node.entry(first).state is not EntryState.SENT  # the Stop is not acknowledged yet
    answers[0].callback(True)
    assert node.entry(first).state is EntryState.SENT
    node.clock.advance(30)
    node.lines.open_calls()[0].end(sent())
    node.clock.advance(ACK_WAIT - 0.1)
    assert node.entry(second).state is not EntryState.SENT
    node.clock.advance(0.1)  # no answer: after ACK_WAIT the result is recorded; the Stop stays spooled
    assert node.entry(second).state is EntryState.SENT
    node.stop()
