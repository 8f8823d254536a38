"""Claims as leases on SQLite and PostgreSQL, on a ``task.Clock`` standing in
for the database clock: renewal, takeover of an expired lease, late
results, and recovery from recorded page progress."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from twisted.internet.task import Clock

from appliance.jobs import ClaimLost, EntryState, FaxSpec, JobStore, Recipient, Result

S = EntryState
T0 = 1_700_000_000.0


def _clocked(store: JobStore, clock: Clock, lease: float = 10.0) -> JobStore:
    store.db_clock_override = clock.seconds
    store.lease_seconds = lease
    return store


def _two_nodes(make_jobs: Callable[..., JobStore]) -> tuple[Clock, JobStore, JobStore]:
    clock = Clock()
    clock.advance(T0)
    return clock, _clocked(make_jobs(), clock), _clocked(make_jobs(), clock)


def test_a_renewed_lease_is_never_taken_an_expired_one_is(make_jobs: Callable[..., JobStore]) -> None:
    """Node b takes over a's call only once a stopped renewing it; the number is free again with it."""
    clock, a, b = _two_nodes(make_jobs)
    _, (_entry, _twin) = a.submit(
        FaxSpec(owner="u", pages=1), [Recipient(fax_number="555"), Recipient(fax_number="555")], T0
    )
    (claim,) = a.claim("a", T0, "line", ["L1", "L2"], 2)  # one call per number
    assert a.get_claim(claim.entry.id).lease_until == T0 + 10
    clock.advance(8)
    assert b.recover_expired("b", clock.seconds()).requeued == ()
    assert a.heartbeat("a", [claim.entry.id]) == {claim.entry.id}
    clock.advance(8)  # 16 s after the claim, 8 s after the renewal
    assert not b.recover_expired("b", clock.seconds())
    assert b.claim("b", clock.seconds(), "line", ["L9"], 1) == []  # the number is still being called
    clock.advance(3)
    report = b.recover_expired("b", clock.seconds())
    assert report.requeued == (claim.entry.id,)
    recovered = b.get_entry(claim.entry.id)
    assert recovered.state is S.PENDING and recovered.last_cause == "interrupted"
    assert b.get_claim(claim.entry.id) is None
    assert a.heartbeat("a", [claim.entry.id]) == set()  # a learns its claim is gone
    assert [c.entry.recipient.fax_number for c in b.claim("b", clock.seconds(), "line", ["L9"], 1)] == ["555"]
    assert [n for n, _, _ in a.nodes()] == ["a"]


def test_late_results_after_a_takeover(make_jobs: Callable[..., JobStore]) -> None:
    """A late failure is refused (ClaimLost); a late success still lands if nobody claimed the entry again."""
    clock, a, b = _two_nodes(make_jobs)
    a.submit(FaxSpec(owner="u", pages=1), [Recipient(fax_number="1"), Recipient(fax_number="2")], T0)
    first, second = a.claim("a", T0, "line", ["L1", "L2"], 2)
    clock.advance(30)
    assert len(b.recover_expired("b", clock.seconds()).requeued) == 2
    with pytest.raises(ClaimLost, match="no longer claimed by node a"):
        a.complete(first.entry.id, Result.failure("busy"), clock.seconds(), node="a", claimed_at=T0)
    done = a.complete(second.entry.id, Result.ok(1, 20.0), clock.seconds(), node="a", claimed_at=T0)
    assert done.state is S.SENT and a.get_claim(second.entry.id) is None
    (again,) = b.claim("b", clock.seconds(), "line", ["L9"], 1)
    assert again.entry.id == first.entry.id
    with pytest.raises(ClaimLost):  # claimed again by b meanwhile: a's success is not recorded
        a.complete(first.entry.id, Result.ok(1, 20.0), clock.seconds(), node="a", claimed_at=T0)


def test_recovery_from_recorded_pages(make_jobs: Callable[..., JobStore]) -> None:
    """Last page confirmed: sent, no resend; some pages confirmed: the next try starts at the first unconfirmed one."""
    _clock, a, _ = _two_nodes(make_jobs)
    a.submit(FaxSpec(owner="u", pages=3), [Recipient(fax_number="1"), Recipient(fax_number="2")], T0)
    whole, part = a.claim("a", T0, "line", ["L1", "L2"], 2)
    assert a.record_session(whole.entry.id, "a", T0, {"session_id": "a-1", "account": "acct"})
    assert a.record_pages(whole.entry.id, "a", T0, 3, 3) and a.record_pages(part.entry.id, "a", T0, 1, 3)
    assert not a.record_pages(part.entry.id, "other", T0, 2, 3)  # not that node's claim
    report = a.recover("a", T0 + 5)
    assert report.finished == (whole.entry.id,) and report.requeued == (part.entry.id,)
    assert a.get_entry(whole.entry.id).state is S.SENT
    assert a.attempts(whole.entry.id)[0].details["recovered"] is True
    (stop,) = report.stops
    assert (stop.entry_id, stop.node, stop.pages, stop.delivered) == (whole.entry.id, "a", 3, True)
    assert stop.session == {"session_id": "a-1", "account": "acct"}
    (resumed,) = a.claim("a", T0 + 6, "line", ["L1"], 1)
    assert resumed.entry.id == part.entry.id and resumed.first_page == 1
    a.complete(part.entry.id, Result.failure("busy", pages=0), T0 + 7)
    a.reschedule(part.entry.fax_id, part.entry.index, now=T0 + 8)
    (again,) = a.claim("a", T0 + 500, "line", ["L1"], 1)
    assert again.first_page == 1  # a failed try keeps what earlier tries delivered
    assert a.get_entry(part.entry.id).pages_sent == 1


def test_database_clock_decides(make_jobs: Callable[..., JobStore]) -> None:
    """Without an override the database's own clock sets the lease."""
    store = make_jobs()
    store.lease_seconds = 30
    store.submit(FaxSpec(owner="u", pages=1), [Recipient(fax_number="1")], 100.0)
    before = store.db_time()
    (claim,) = store.claim("a", 123.0, "line", ["L1"], 1)  # the node's clock is far off
    lease = store.get_claim(claim.entry.id).lease_until
    assert before + 30 <= lease <= store.db_time() + 30
    assert store.recover_expired("b", 124.0).requeued == ()
