"""The scheduler when the job store is unreachable, on a ``task.Clock``:
results go to the durable spool and are written when the store answers
again, one log line per outage, leases renewed by the heartbeat, recovery
retried until the store answers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.logger import globalLogPublisher

from appliance.jobs import EntryState, FaxSpec, JobStore, Recipient, Result, open_job_store
from appliance.jobs.result_spool import ResultSpool, ResultSpoolError, SpooledResult
from appliance.jobs.scheduler import JobScheduler
from radius.store.api import StoreError

from .test_scheduler import FakeDispatcher

S = EntryState
T0 = 1_700_000_000.0


class Database:
    """The run_blocking seam: runs store calls at once, or fails them as an unreachable server would."""

    def __init__(self) -> None:
        self.down = False
        self.refused = 0

    def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
        if self.down:
            self.refused += 1
            return defer.fail(StoreError("cannot connect to PostgreSQL: connection refused"))
        return defer.maybeDeferred(fn, *args, **kwargs)


@pytest.fixture
def jobs(tmp_path: Path) -> Iterator[JobStore]:
    store = open_job_store(f"sqlite:///{tmp_path}/jobs.db", lease_seconds=3.0)
    yield store
    store.close()


@pytest.fixture
def logged() -> Iterator[list[str]]:
    lines: list[str] = []

    def observe(event: dict[str, Any]) -> None:
        from twisted.logger import formatEvent

        lines.append(formatEvent(event))

    globalLogPublisher.addObserver(observe)
    yield lines
    globalLogPublisher.removeObserver(observe)


def _start(jobs: JobStore, tmp_path: Path, db: Database, fake: Any) -> tuple[Clock, JobScheduler, list[int]]:
    clock = Clock()
    clock.advance(T0)
    jobs.db_clock_override = clock.seconds
    _, entries = jobs.submit(FaxSpec(owner="u", pages=1), [Recipient(fax_number=n) for n in ("1", "2")], T0)
    sched = JobScheduler(
        jobs,
        clock=clock,
        run_blocking=db,
        node_id="n1",
        dispatch=fake,
        lines=lambda: ["L1", "L2"],
        route_filter="line",
        spool=ResultSpool(tmp_path / "spool"),
        heartbeat=1.0,
    )
    sched.startService()
    return clock, sched, [e.id for e in entries]


def test_results_are_spooled_while_the_store_is_down(jobs: JobStore, tmp_path: Path, logged: list[str]) -> None:
    """Calls that end during an outage keep their results on disk; they are written once the store answers."""
    db, fake = Database(), FakeDispatcher()
    clock, sched, ids = _start(jobs, tmp_path, db, fake)
    assert sorted(fake.calls) == ids
    db.down = True
    fake.calls[ids[0]][1].callback(Result.ok(1, 20.0, "REMOTE"))
    fake.calls[ids[1]][1].callback(Result.failure("busy"))
    assert len(sched.spool) == 2 and sched.in_flight == {}  # the lines are free again
    assert {e.state for e in jobs.list_entries()} == {S.SENDING}
    clock.pump([1.0] * 20)  # polls and heartbeats fail quietly
    assert db.refused > 20
    assert sum("unreachable" in line for line in logged) == 1
    db.down = False
    clock.advance(1.0)  # the next heartbeat writes the spool
    assert len(sched.spool) == 0
    assert [jobs.get_entry(i).state for i in ids] == [S.SENT, S.PENDING]
    assert jobs.get_entry(ids[0]).remote_csid == "REMOTE" and jobs.get_entry(ids[0]).completed_at == T0
    assert [line for line in logged if "reachable again" in line] == ["the job store reachable again after 21.0 s"]
    assert jobs.get_claim(ids[0]) is None
    sched.stopService()


def test_spooled_leases_stay_renewed(jobs: JobStore, tmp_path: Path) -> None:
    """While a call runs, and while its result waits in the spool, the heartbeat keeps its lease."""
    db, fake = Database(), FakeDispatcher()
    clock, sched, ids = _start(jobs, tmp_path, db, fake)
    clock.pump([1.0] * 10)
    assert jobs.get_claim(ids[0]).lease_until >= clock.seconds() + 2
    assert jobs.recover_expired("n2", clock.seconds()).requeued == ()
    db.down = True
    fake.calls[ids[0]][1].callback(Result.ok(1, 20.0))
    db.down = False
    clock.pump([1.0] * 10)
    assert jobs.get_entry(ids[0]).state is S.SENT  # written by the heartbeat
    fake.calls[ids[1]][1].callback(Result.ok(1, 20.0))
    sched.stopService()


def test_a_spooled_result_survives_a_restart(jobs: JobStore, tmp_path: Path) -> None:
    """After a crash the spool is written before the node recovers its own claims (settle)."""
    db, fake = Database(), FakeDispatcher()
    _clock, sched, ids = _start(jobs, tmp_path, db, fake)
    db.down = True
    fake.calls[ids[0]][1].callback(Result.ok(1, 20.0))
    # the process dies here: a new scheduler on the same spool, the store still down
    clock2 = Clock()
    clock2.advance(T0 + 60)
    again = JobScheduler(
        jobs,
        clock=clock2,
        run_blocking=db,
        node_id="n1",
        dispatch=FakeDispatcher(),
        spool=ResultSpool(tmp_path / "spool"),
    )
    settled = again.settle(retry=1.0)
    clock2.pump([1.0, 2.0, 4.0])
    assert not settled.called
    db.down = False
    clock2.advance(8.0)
    report = settled.result
    assert jobs.get_entry(ids[0]).state is S.SENT  # from the spool: not resent
    assert report.requeued == (ids[1],)  # the other call was interrupted
    sched.stopService()


def test_spool_files(tmp_path: Path) -> None:
    spool = ResultSpool(tmp_path / "s")
    spool.put(SpooledResult(7, "n1", T0, T0 + 2, Result.failure("busy", "H", "busy line", pages=1, line="L1")))
    spool.put(SpooledResult(3, "n1", None, T0 + 1, Result.ok(2, 9.5, "CSID")))
    first, second = spool.pending()
    assert (first.entry_id, first.result.sent, first.result.remote_csid) == (3, True, "CSID")
    assert second.result.cause is not None and second.result.cause.value == "busy"
    assert dict(second.result.details) == {"line": "L1"} and second.claimed_at == T0
    spool.remove(3)
    assert len(spool) == 1
    (tmp_path / "s" / "000000000009.result.json").write_text("{broken")
    with pytest.raises(ResultSpoolError, match="unreadable"):
        spool.pending()
