"""The job store API, run against SQLite and PostgreSQL: submit, claim order,
same-number exclusion, results and history, abort, reschedule, preprocessing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from appliance.jobs import (
    CLOUD,
    Cause,
    EntryState,
    FaxSpec,
    IllegalTransition,
    JobError,
    JobStore,
    NotFound,
    Recipient,
    Result,
    RetryPolicy,
)

S = EntryState
T0 = 1_700_000_000.0


def spec(**kw: object) -> FaxSpec:
    base: dict[str, object] = dict(
        owner="alice",
        account="acme",
        documents=("p1.tif", "p2.tif"),
        pages=2,
        resolution="fine",
        tsid="+1 555 0100",
        cover_enabled=True,
        cover_url="default.pdf",
        cover_subject="Hi",
        cover_comments="c",
        sender_name="Alice",
        sender_organization="Acme",
        sender_phone_number="1",
        sender_fax_number="2",
        sender_email_address="a@example.com",
        receipt="always",
        receipt_attachment="pdf",
    )
    base.update(kw)
    return FaxSpec(**base)  # type: ignore[arg-type]


def to(*numbers: str) -> list[Recipient]:
    return [Recipient(fax_number=n, name=f"R{n}", organization="Org", phone_number="9") for n in numbers]


def test_submit_stores_every_field(jobs: JobStore) -> None:
    """A fax and its entries come back with every field FFWS shows."""
    fax, entries = jobs.submit(spec(priority=2, try_interval=30, schedule_at=T0 + 60), to("555-0101", "5550102"), T0)
    assert jobs.get_fax(fax.id) == fax
    assert fax.documents == ("p1.tif", "p2.tif") and fax.pages == 2 and fax.max_tries == 3 and fax.entry_count == 2
    assert fax.cover_subject == "Hi" and fax.sender_email_address == "a@example.com" and fax.try_interval == 30
    assert [e.index for e in entries] == [0, 1]
    first = jobs.get_entry_by_key(fax.id, 0)
    assert first == entries[0] == jobs.get_entry(first.id)
    assert first.state is S.PENDING and first.schedule_message == "New fax entry" and first.try_number == 1
    assert first.due_at == T0 + 60 and first.stime == T0 + 60 and first.priority == 2
    assert first.recipient == Recipient(fax_number="555-0101", name="R555-0101", organization="Org", phone_number="9")
    assert first.key == f"{fax.id:08X}/0000"


def test_submit_errors(jobs: JobStore) -> None:
    """No recipients, a number without digits, or a bad priority store nothing."""
    with pytest.raises(JobError, match="at least one recipient"):
        jobs.submit(spec(), [], T0)
    with pytest.raises(JobError, match="no digits"):
        jobs.submit(spec(), to("5550101", "abc"), T0)
    with pytest.raises(JobError, match="priority"):
        jobs.submit(spec(priority=11), to("1"), T0)
    assert jobs.list_entries() == []
    with pytest.raises(NotFound, match="no fax 00000063"):
        jobs.get_fax(99)


def test_claim_order_priority_then_time_then_id(jobs: JobStore) -> None:
    """Claims go by priority (0 first), then scheduled time, then id; future entries wait."""
    _, low = jobs.submit(spec(priority=5), to("1"), T0)
    _, late = jobs.submit(spec(priority=1, schedule_at=T0 + 10), to("2"), T0)
    _, high = jobs.submit(spec(priority=1), to("3", "4"), T0)
    _, future = jobs.submit(spec(priority=0, schedule_at=T0 + 1000), to("5"), T0)
    got = jobs.claim("n1", T0 + 20, "cloud", limit=10)
    assert [c.entry.id for c in got] == [high[0].id, high[1].id, late[0].id, low[0].id]
    assert all(c.route == CLOUD and c.entry.state is S.SENDING and c.entry.node == "n1" for c in got)
    assert got[0].entry.claimed_at == T0 + 20 and got[0].fax.id == high[0].fax_id
    assert jobs.claim("n1", T0 + 20, "cloud", limit=10) == []
    assert [c.entry.id for c in jobs.claim("n1", T0 + 1000, "cloud", limit=10)] == [future[0].id]


def test_claim_lines_and_route_filter(jobs: JobStore) -> None:
    """A line claim gives each owned line one entry, pinned entries only to their route, and nothing else."""
    _, entries = jobs.submit(spec(), to("1", "2", "3"), T0)
    _, pinned = jobs.submit(
        spec(), [Recipient(fax_number="4", route_pin="L9"), Recipient(fax_number="5", route_pin=CLOUD)], T0
    )
    got = jobs.claim("n1", T0, "line", ["L1", "L2"], limit=10)
    assert [(c.entry.id, c.route) for c in got] == [(entries[0].id, "L1"), (entries[1].id, "L2")]
    assert [(c.entry.id, c.route) for c in jobs.claim("n2", T0, "line", ["L9", "L3"], 10)] == [
        (entries[2].id, "L3"),
        (pinned[0].id, "L9"),
    ]
    assert [(c.entry.id, c.route) for c in jobs.claim("n1", T0, "any", [], 10)] == [(pinned[1].id, CLOUD)]
    with pytest.raises(JobError, match="route_filter"):
        jobs.claim("n1", T0, "modem")


def test_same_number_one_call_at_a_time(jobs: JobStore) -> None:
    """A number with an entry in sending is skipped until that call completes."""
    _, a = jobs.submit(spec(), to("555-0101"), T0)
    _, b = jobs.submit(spec(), to("(555) 0101", "5550202"), T0)
    first = jobs.claim("n1", T0, "any", ["L1", "L2"], 10)
    assert [c.entry.id for c in first] == [a[0].id, b[1].id]
    assert jobs.claim("n1", T0, "any", ["L3"], 10) == []
    jobs.complete(a[0].id, Result.ok(2, 30.0), T0 + 30)
    assert [c.entry.id for c in jobs.claim("n1", T0 + 30, "any", ["L1"], 10)] == [b[0].id]


def test_complete_sent_records_attempt(jobs: JobStore) -> None:
    """A sent result ends the entry sent with pages, duration, CSID and one history row."""
    _, (entry,) = jobs.submit(spec(), to("1"), T0)
    jobs.claim("n1", T0, "line", ["L1"], 1)
    done = jobs.complete(entry.id, Result.ok(2, 61.5, "REMOTE", speed=14400), T0 + 62)
    assert done.state is S.SENT and done.schedule_message == "Successfully sent fax" and done.tries == 1
    assert done.pages_sent == 2 and done.duration == 61.5 and done.remote_csid == "REMOTE"
    assert done.completed_at == T0 + 62 and done.stime == T0 + 62 and done.try_number == 1
    (attempt,) = jobs.attempts(entry.id)
    assert (attempt.number, attempt.started_at, attempt.ended_at, attempt.node, attempt.route, attempt.outcome) == (
        1,
        T0,
        T0 + 62,
        "n1",
        "L1",
        "sent",
    )
    assert attempt.details == {"speed": 14400}
    with pytest.raises(IllegalTransition, match="cannot complete"):
        jobs.complete(entry.id, Result.ok(2, 1.0), T0 + 63)
    assert jobs.get_entry(entry.id) == done


@pytest.mark.parametrize("cause,interval", [("busy", 180), ("no_answer", 300), ("protocol", 60), ("other", 300)])
def test_failures_requeue_then_fail(jobs: JobStore, cause: str, interval: int) -> None:
    """Each cause requeues after its interval; the third failure leaves the entry failed."""
    _, (entry,) = jobs.submit(spec(), to("1"), T0)
    now = T0
    for attempt in (1, 2, 3):
        (_claim,) = jobs.claim("n1", now, "line", ["L1"], 1)
        done = jobs.complete(entry.id, Result.failure(cause, "17", "busy signal"), now + 5)
        if attempt < 3:
            assert done.state is S.PENDING and done.due_at == now + 5 + interval and done.try_number == attempt + 1
            assert jobs.claim("n1", done.due_at - 1, "line", ["L1"], 1) == []
            now = done.due_at
    assert done.state is S.FAILED and done.last_cause == cause and done.hangup_code == "17"
    assert [a.outcome for a in jobs.attempts(entry.id)] == ["pending", "pending", "failed"]
    assert [a.cause for a in jobs.attempts(entry.id)] == [cause] * 3


def test_rejected_is_dead_and_policy_configurable(make_jobs: Callable[..., JobStore]) -> None:
    """A rejected attempt makes the entry dead; a configured policy and a fax's own max_tries apply."""
    jobs = make_jobs(RetryPolicy(max_tries=1))
    _, (a, b) = jobs.submit(spec(), to("1", "2"), T0)
    _, (c,) = jobs.submit(spec(max_tries=2, try_interval=7), to("3"), T0)
    jobs.claim("n1", T0, "cloud", limit=3)
    assert jobs.complete(a.id, Result.failure(Cause.REJECTED, hangup_text="account disabled"), T0).state is S.DEAD
    assert jobs.complete(b.id, Result.failure(Cause.BUSY), T0).state is S.FAILED
    again = jobs.complete(c.id, Result.failure(Cause.BUSY), T0)
    assert again.state is S.PENDING and again.due_at == T0 + 7


def test_abort(jobs: JobStore) -> None:
    """Abort ends waiting entries at once; a sending one ends aborted when its call fails; sent stays sent."""
    fax, (a, b, c) = jobs.submit(spec(), to("1", "2", "3"), T0)
    jobs.claim("n1", T0, "line", ["L1", "L2"], 2)
    changed = jobs.abort(fax.id, now=T0 + 1)
    assert [(e.id, e.state, e.abort_requested) for e in changed] == [
        (a.id, S.SENDING, True),
        (b.id, S.SENDING, True),
        (c.id, S.ABORTED, False),
    ]
    assert jobs.get_entry(c.id).schedule_message == "Fax aborted by user"
    assert jobs.complete(a.id, Result.failure("busy"), T0 + 2).state is S.ABORTED
    assert jobs.complete(b.id, Result.ok(2, 9.0), T0 + 2).state is S.SENT
    with pytest.raises(IllegalTransition, match="cannot abort"):
        jobs.abort(fax.id, 1, now=T0 + 3)
    assert jobs.abort(fax.id, now=T0 + 3) == []
    with pytest.raises(NotFound):
        jobs.abort(fax.id, 7, now=T0)


def test_reschedule(jobs: JobStore) -> None:
    """Reschedule moves a pending entry, revives a completed one with fresh tries, and skips one being sent."""
    fax, (a, b, c) = jobs.submit(spec(), to("1", "2", "3"), T0)
    assert jobs.reschedule(fax.id, 0, T0 + 500, now=T0)[0].due_at == T0 + 500
    jobs.claim("n1", T0, "line", ["L1", "L2"], 2)  # b and c
    jobs.complete(b.id, Result.failure(Cause.REJECTED), T0 + 1)
    with pytest.raises(IllegalTransition, match="cannot reschedule"):
        jobs.reschedule(fax.id, 2, now=T0 + 2)
    changed = jobs.reschedule(fax.id, now=T0 + 2)
    assert [(e.id, e.state, e.due_at) for e in changed] == [(a.id, S.PENDING, T0 + 2), (b.id, S.PENDING, T0 + 2)]
    assert jobs.get_entry(b.id).tries == 0 and jobs.get_entry(c.id).state is S.SENDING
    assert len(jobs.attempts(b.id)) == 1


def test_preprocessing_release_and_kill(jobs: JobStore) -> None:
    """Converting faxes are not claimed; release makes them pending; kill makes a fax dead."""
    fax, entries = jobs.submit(spec(preprocessing=True, pages=0), to("1", "2"), T0)
    assert {e.state for e in entries} == {S.PREPROCESSING}
    assert jobs.claim("n1", T0, "any", ["L1"], 5) == []
    assert {e.state for e in jobs.release(fax.id, ["x.tif"], 4, now=T0)} == {S.PENDING}
    assert jobs.get_fax(fax.id).pages == 4 and jobs.get_fax(fax.id).documents == ("x.tif",)
    other, _ = jobs.submit(spec(preprocessing=True), to("3"), T0)
    (dead,) = jobs.kill(other.id, "cannot render attachment1.txt", now=T0)
    assert dead.state is S.DEAD and dead.schedule_message == "cannot render attachment1.txt"


def test_listing_and_counts(jobs: JobStore) -> None:
    """Entries list by fax, owner and state; counts cover every state."""
    f1, _ = jobs.submit(spec(owner="alice"), to("1", "2"), T0)
    f2, _ = jobs.submit(spec(owner="bob"), to("3"), T0)
    jobs.claim("n1", T0, "line", ["L1"], 1)
    assert [e.recipient.fax_number for e in jobs.list_entries(owner="bob")] == ["3"]
    assert len(jobs.list_entries(fax_id=f1.id)) == 2
    assert [e.fax_id for e in jobs.list_entries(states=[S.PENDING])] == [f1.id, f2.id]
    assert len(jobs.list_entries(limit=1)) == 1 and jobs.list_entries(states=[]) == []
    counts = jobs.count_by_state()
    assert counts[S.PENDING] == 2 and counts[S.SENDING] == 1 and counts[S.DEAD] == 0


def test_cloud_write_ahead(jobs: JobStore) -> None:
    """The cloud intent and job id are stored on a claimed cloud entry only."""
    _, (a, b) = jobs.submit(spec(), to("1", "2"), T0)
    jobs.claim("n1", T0, "any", ["L1"], 2)
    assert jobs.cloud_submitting(b.id, now=T0).cloud_state == "submitting"
    stored = jobs.cloud_submitted(b.id, "4711", now=T0)
    assert (stored.cloud_state, stored.cloud_job_id) == ("submitted", "4711")
    with pytest.raises(JobError, match="not being sent through the cloud"):
        jobs.cloud_submitting(a.id, now=T0)


def test_state_survives_reopen(make_jobs: Callable[..., JobStore]) -> None:
    """A second store on the same database sees every committed change."""
    first = make_jobs()
    fax, (entry,) = first.submit(spec(), to("1"), T0)
    first.claim("n1", T0, "line", ["L1"], 1)
    first.close()
    second = make_jobs()
    assert second.get_entry(entry.id).state is S.SENDING and second.get_fax(fax.id) == fax
