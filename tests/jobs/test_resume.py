"""An ordinary failed try resumes from the first unconfirmed page; a shutdown
of the appliance during a call is not a try (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from appliance.jobs import EntryState, FaxSpec, JobStore, Recipient, Result
from appliance.jobs.model import Cause

S = EntryState
T0 = 1_700_000_000.0


def test_a_failed_try_resumes_after_the_confirmed_pages(make_jobs: Callable[..., JobStore]) -> None:
    jobs = make_jobs()
    jobs.submit(FaxSpec(owner="u", pages=5, max_tries=3), [Recipient(fax_number="555")], T0)
    (claim,) = jobs.claim("n", T0, "line", ["L1"], 1)
    assert claim.first_page == 0
    assert jobs.record_pages(claim.entry.id, "n", claim.entry.claimed_at, 2, 5)
    entry = jobs.complete(claim.entry.id, Result.failure(Cause.PROTOCOL, pages=2), T0 + 30)
    assert entry.state is S.PENDING and entry.pages_sent == 2 and entry.tries == 1
    (again,) = jobs.claim("n", entry.due_at, "line", ["L1"], 1)
    assert again.first_page == 2  # pages 3-5 only
    # the second try confirms one more page and fails again: pages_sent only grows
    jobs.record_pages(again.entry.id, "n", again.entry.claimed_at, 3, 5)
    entry = jobs.complete(again.entry.id, Result.failure(Cause.NO_ANSWER, pages=1), entry.due_at + 30)
    assert entry.pages_sent == 3
    (third,) = jobs.claim("n", entry.due_at, "line", ["L1"], 1)
    assert third.first_page == 3
    done = jobs.complete(third.entry.id, Result.ok(5, 20.0), entry.due_at + 60)
    assert done.state is S.SENT and done.pages_sent == 5
    assert [a.pages for a in jobs.attempts(done.id)] == [2, 1, 5]


def test_a_failure_before_any_page_starts_from_the_beginning(make_jobs: Callable[..., JobStore]) -> None:
    jobs = make_jobs()
    jobs.submit(FaxSpec(owner="u", pages=3), [Recipient(fax_number="555")], T0)
    (claim,) = jobs.claim("n", T0, "line", ["L1"], 1)
    entry = jobs.complete(claim.entry.id, Result.failure(Cause.BUSY), T0 + 5)
    (again,) = jobs.claim("n", entry.due_at, "line", ["L1"], 1)
    assert again.first_page == 0 and entry.pages_sent == 0


def test_a_shutdown_is_not_a_try_and_the_job_is_due_at_once(make_jobs: Callable[..., JobStore]) -> None:
    jobs = make_jobs()
    jobs.submit(FaxSpec(owner="u", pages=4, max_tries=1), [Recipient(fax_number="555")], T0)
    (claim,) = jobs.claim("n", T0, "line", ["L1"], 1)
    jobs.record_pages(claim.entry.id, "n", claim.entry.claimed_at, 1, 4)
    stopped = dataclasses.replace(Result.failure(Cause.INTERRUPTED, pages=1), counts=False)
    entry = jobs.complete(claim.entry.id, stopped, T0 + 10)
    assert entry.state is S.PENDING and entry.tries == 0 and entry.due_at == T0 + 10
    (again,) = jobs.claim("n", T0 + 10, "line", ["L1"], 1)  # max_tries=1 and still one try left
    assert again.first_page == 1


def test_live_pages_of_an_entry_being_sent(make_jobs: Callable[..., JobStore]) -> None:
    jobs = make_jobs()
    jobs.submit(FaxSpec(owner="u", pages=4), [Recipient(fax_number="555"), Recipient(fax_number="556")], T0)
    first, second = jobs.claim("n", T0, "line", ["L1", "L2"], 2)
    jobs.record_pages(first.entry.id, "n", first.entry.claimed_at, 3, 4)
    live = {e.id: e.pages_sent for e in jobs.with_live_pages(jobs.list_entries())}
    assert live == {first.entry.id: 3, second.entry.id: 0}
    assert [e.pages_sent for e in jobs.list_entries()] == [0, 0]  # the stored value moves at completion


def test_a_retried_failed_job_resumes_a_resent_one_starts_over(make_jobs: Callable[..., JobStore]) -> None:
    jobs = make_jobs()
    fax, _ = jobs.submit(FaxSpec(owner="u", pages=5, max_tries=1), [Recipient(fax_number="555")], T0)
    (claim,) = jobs.claim("n", T0, "line", ["L1"], 1)
    jobs.record_pages(claim.entry.id, "n", claim.entry.claimed_at, 2, 5)
    assert jobs.complete(claim.entry.id, Result.failure(Cause.PROTOCOL, pages=2), T0 + 1).state is S.FAILED
    jobs.reschedule(fax.id, 0, now=T0 + 2)
    (again,) = jobs.claim("n", T0 + 2, "line", ["L1"], 1)
    assert again.first_page == 2
    assert jobs.complete(again.entry.id, Result.ok(5, 9.0), T0 + 3).pages_sent == 5
    (entry,) = jobs.reschedule(fax.id, 0, now=T0 + 4)  # send the whole fax once more
    assert entry.pages_sent == 0
    (third,) = jobs.claim("n", T0 + 4, "line", ["L1"], 1)
    assert third.first_page == 0
