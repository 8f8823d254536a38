"""The scheduler on a Clock with a fake dispatcher: claims due work per free
route, completes it with the dispatcher's result, bounds concurrency."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.logger import globalLogPublisher

from appliance.jobs import CLOUD, Claim, EntryState, FaxSpec, JobStore, Recipient, Result, open_job_store
from appliance.jobs.scheduler import JobScheduler

S = EntryState
T0 = 1_700_000_000.0


def sync_runner(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
    """Runs the store call at once (the store is a local SQLite file)."""
    return defer.maybeDeferred(fn, *args, **kwargs)


class FakeDispatcher:
    """Records claims; each returns a Deferred the test fires."""

    def __init__(self) -> None:
        self.calls: dict[int, tuple[Claim, defer.Deferred[Result]]] = {}

    def __call__(self, claim: Claim) -> defer.Deferred[Result]:
        d: defer.Deferred[Result] = defer.Deferred()
        self.calls[claim.entry.id] = (claim, d)
        return d

    def routes(self) -> dict[int, str]:
        return {i: c.route for i, (c, _) in self.calls.items()}


@pytest.fixture
def jobs(tmp_path: Path) -> Iterator[JobStore]:
    store = open_job_store(f"sqlite:///{tmp_path}/jobs.db")
    yield store
    store.close()


@pytest.fixture
def logged_errors() -> Iterator[list[dict[str, Any]]]:
    """Error events logged during the test."""
    events: list[dict[str, Any]] = []

    def observe(event: dict[str, Any]) -> None:
        if event.get("log_failure") is not None:
            events.append(event)

    globalLogPublisher.addObserver(observe)
    yield events
    globalLogPublisher.removeObserver(observe)


def make(jobs: JobStore, clock: Clock, dispatch: Any, **kw: Any) -> JobScheduler:
    return JobScheduler(jobs, clock=clock, run_blocking=sync_runner, node_id="n1", dispatch=dispatch, **kw)


def _submit(jobs: JobStore, *numbers: str, **kw: Any) -> list[int]:
    _, entries = jobs.submit(FaxSpec(owner="u", pages=1, **kw), [Recipient(fax_number=n) for n in numbers], T0)
    return [e.id for e in entries]


def test_dispatches_and_completes(jobs: JobStore) -> None:
    """Two lines and one cloud slot take three entries; a result completes its entry and frees its route."""
    clock = Clock()
    clock.advance(T0)
    ids = _submit(jobs, "1", "2", "3", "4")
    fake = FakeDispatcher()
    sched = make(jobs, clock, fake, lines=lambda: ["L1", "L2"], cloud_slots=1)
    sched.startService()
    assert fake.routes() == {ids[0]: "L1", ids[1]: "L2", ids[2]: CLOUD}
    assert sched.in_flight == fake.routes()
    fake.calls[ids[0]][1].callback(Result.ok(1, 30.0, "CSID"))
    assert jobs.get_entry(ids[0]).state is S.SENT
    clock.advance(0)  # the freed line is used at once, without waiting for the interval
    assert fake.routes()[ids[3]] == "L1"
    for entry_id in ids[1:]:
        fake.calls[entry_id][1].callback(Result.failure("busy"))
    assert [jobs.get_entry(i).state for i in ids] == [S.SENT, S.PENDING, S.PENDING, S.PENDING]
    assert sched.in_flight == {}
    clock.advance(179)
    assert sched.in_flight == {}  # nothing due before the busy interval
    clock.advance(2)
    assert sorted(sched.in_flight.values()) == ["L1", "L2", CLOUD]
    assert all(jobs.get_entry(i).state is S.SENDING for i in ids[1:])


def test_retry_after_interval(jobs: JobStore) -> None:
    """A busy entry is dispatched again once 180 s have passed on the clock."""
    clock = Clock()
    clock.advance(T0)
    (entry_id,) = _submit(jobs, "1")
    attempts: list[Claim] = []

    def dispatch(claim: Claim) -> defer.Deferred[Result]:
        attempts.append(claim)
        return defer.succeed(Result.failure("busy") if len(attempts) == 1 else Result.ok(1, 30.0))

    sched = make(jobs, clock, dispatch, lines=lambda: ["L1"], route_filter="line", interval=10)
    sched.startService()
    clock.advance(0)
    assert len(attempts) == 1 and jobs.get_entry(entry_id).state is S.PENDING
    clock.pump([10] * 17)
    assert len(attempts) == 1
    clock.pump([10] * 2)
    assert len(attempts) == 2 and jobs.get_entry(entry_id).state is S.SENT
    assert [a.outcome for a in jobs.attempts(entry_id)] == ["pending", "sent"]
    sched.stopService()


def test_dispatcher_error_is_a_failed_attempt(jobs: JobStore, logged_errors: list[dict[str, Any]]) -> None:
    """A dispatcher that raises counts as an attempt failed with cause other, and is logged."""
    clock = Clock()
    clock.advance(T0)
    (entry_id,) = _submit(jobs, "1")

    def dispatch(claim: Claim) -> defer.Deferred[Result]:
        raise RuntimeError("line exploded")

    sched = make(jobs, clock, dispatch, route_filter="cloud")
    sched.startService()
    entry = jobs.get_entry(entry_id)
    assert entry.state is S.PENDING and entry.last_cause == "other" and "line exploded" in entry.hangup_text
    assert len(logged_errors) == 1
    sched.stopService()


def test_busy_routes_are_not_offered(jobs: JobStore) -> None:
    """Lines and cloud slots in use are not offered; a line-only scheduler never uses the cloud."""
    clock = Clock()
    clock.advance(T0)
    ids = _submit(jobs, "1", "2", "3")
    fake = FakeDispatcher()
    sched = make(jobs, clock, fake, lines=lambda: ["L1"], route_filter="line")
    sched.startService()
    clock.pump([1] * 5)
    assert fake.routes() == {ids[0]: "L1"}
    sched.stopService()
    fake.calls[ids[0]][1].callback(Result.ok(1, 1.0))
    assert jobs.get_entry(ids[0]).state is S.SENT and len(fake.calls) == 1  # stopped: no new claims


def test_stop_waits_for_calls_in_flight(jobs: JobStore) -> None:
    """stopService fires only after the running calls have been completed."""
    clock = Clock()
    clock.advance(T0)
    (entry_id,) = _submit(jobs, "1")
    fake = FakeDispatcher()
    sched = make(jobs, clock, fake, route_filter="cloud")
    sched.startService()
    stopped = sched.stopService()
    assert not stopped.called
    fake.calls[entry_id][1].callback(Result.ok(1, 1.0))
    assert stopped.called


def test_recover_and_cloud_write_ahead(jobs: JobStore) -> None:
    """The scheduler settles its node's cloud leftovers (written ahead in the store) through the store."""
    clock = Clock()
    clock.advance(T0)
    (entry_id,) = _submit(jobs, "1")
    fake = FakeDispatcher()
    sched = make(jobs, clock, fake, route_filter="cloud")
    sched.startService()
    sched.stopService()
    assert jobs.cloud_submitting(entry_id, now=clock.seconds()).cloud_state == "submitting"
    assert jobs.cloud_submitted(entry_id, "J9", now=clock.seconds()).cloud_job_id == "J9"
    report = sched.recover(lambda e: "sent").result
    assert report.finished == (entry_id,) and jobs.get_entry(entry_id).state is S.SENT
