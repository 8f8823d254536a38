"""PendingWork: background Deferreds are kept until they fire, their failures
logged once and consumed, and ``drain`` waits for them (cancelling watches at
once and the rest after its timeout), on a ``task.Clock``."""

from __future__ import annotations

from typing import Any

from twisted.internet import task
from twisted.internet.defer import CancelledError, Deferred, fail
from twisted.logger import Logger

from appliance.pending import PendingWork


def tracker() -> tuple[PendingWork, task.Clock, list[dict[str, Any]]]:
    clock = task.Clock()
    events: list[dict[str, Any]] = []
    pending = PendingWork(clock, "test")
    pending.log = Logger(namespace="test", observer=events.append)
    return pending, clock, events


def fired(d: Deferred[Any]) -> list[object]:
    out: list[object] = []
    d.addBoth(out.append)
    return out


def test_drain_with_nothing_pending_fires_at_once() -> None:
    pending, _, _ = tracker()
    assert fired(pending.drain()) == [None]


def test_work_is_kept_until_it_fires() -> None:
    pending, _, events = tracker()
    a: Deferred[int] = Deferred()
    b: Deferred[int] = Deferred()
    pending.track(a, "first")
    pending.track(b, "second")
    assert len(pending) == 2 and pending.what() == ["first", "second"]
    a.callback(1)
    assert pending.what() == ["second"]
    b.callback(2)
    assert len(pending) == 0 and events == [] and pending.failures == 0


def test_a_failure_is_logged_once_and_consumed() -> None:
    pending, _, events = tracker()
    d: Deferred[None] = Deferred()
    pending.track(d, "writing the line states")
    d.errback(OSError("disk full"))
    assert len(pending) == 0 and pending.failures == 1
    [event] = events
    assert event["what"] == "writing the line states" and event["log_failure"].check(OSError)
    assert fired(d) == [None]  # consumed: no "Unhandled error in Deferred"


def test_an_already_failed_deferred_is_logged_and_not_kept() -> None:
    pending, _, events = tracker()
    pending.track(fail(ValueError("bad")), "recovery")
    assert len(pending) == 0 and pending.failures == 1 and len(events) == 1


def test_run_starts_a_coroutine_and_tracks_it() -> None:
    pending, _, _ = tracker()
    gate: Deferred[None] = Deferred()
    done: list[str] = []

    async def work() -> None:
        await gate
        done.append("done")

    pending.run(work(), "work")
    assert pending.what() == ["work"]
    gate.callback(None)
    assert done == ["done"] and len(pending) == 0


def test_drain_waits_for_work_including_work_tracked_while_draining() -> None:
    pending, _, _ = tracker()
    first: Deferred[None] = Deferred()
    later: Deferred[None] = Deferred()
    first.addCallback(lambda _: pending.track(later, "started by first"))  # its follow-up work
    pending.track(first, "first")
    drained = fired(pending.drain())
    assert drained == []
    first.callback(None)
    assert drained == [] and pending.what() == ["started by first"]
    later.callback(None)
    assert drained == [None]


def test_drain_never_fails_when_work_fails() -> None:
    pending, _, events = tracker()
    d: Deferred[None] = Deferred()
    pending.track(d, "job")
    drained = fired(pending.drain())
    d.errback(RuntimeError("boom"))
    assert drained == [None] and pending.failures == 1 and len(events) == 1


def test_drain_cancels_what_still_runs_after_its_timeout() -> None:
    pending, clock, events = tracker()
    stuck: Deferred[None] = Deferred()
    pending.track(stuck, "stuck call")
    drained = fired(pending.drain(timeout=20.0))
    clock.advance(19.9)
    assert drained == [] and len(pending) == 1
    clock.advance(0.1)
    assert drained == [None] and len(pending) == 0
    assert any("stuck call" in str(e.get("what", "")) for e in events if e["log_level"].name == "warn")
    assert any(e.get("log_failure") is not None and e["log_failure"].check(CancelledError) for e in events)


def test_drain_in_time_leaves_no_timer_behind() -> None:
    pending, clock, _ = tracker()
    d: Deferred[None] = Deferred()
    pending.track(d, "quick")
    pending.drain(timeout=20.0)
    d.callback(None)
    assert clock.getDelayedCalls() == []


def test_watches_are_cancelled_at_once_and_are_not_failures() -> None:
    pending, clock, events = tracker()
    watch: Deferred[None] = Deferred()
    work: Deferred[None] = Deferred()
    pending.track(watch, "cloud watch", cancel_on_stop=True)
    pending.track(work, "recording a result")
    drained = fired(pending.drain(timeout=20.0))
    assert watch.called and pending.what() == ["recording a result"] and drained == []
    assert pending.failures == 0 and all(e.get("log_failure") is None for e in events)
    work.callback(None)
    assert drained == [None] and clock.getDelayedCalls() == []


def test_a_watch_that_fails_for_another_reason_is_a_failure() -> None:
    pending, _, events = tracker()
    watch: Deferred[None] = Deferred()
    pending.track(watch, "cloud watch", cancel_on_stop=True)
    watch.errback(RuntimeError("lost"))
    assert pending.failures == 1 and events[0]["log_failure"].check(RuntimeError)


def test_a_watch_tracked_while_draining_is_cancelled_at_once() -> None:
    pending, _, events = tracker()
    work: Deferred[None] = Deferred()
    pending.track(work, "recovery")
    drained = fired(pending.drain(timeout=20.0))
    watch: Deferred[None] = Deferred()
    pending.track(watch, "cloud watch", cancel_on_stop=True)
    assert watch.called and pending.what() == ["recovery"] and pending.failures == 0
    work.callback(None)
    assert drained == [None] and all(e.get("log_failure") is None for e in events)


def test_drain_fires_even_when_work_ignores_its_cancellation() -> None:
    """Work that swallows its cancellation and waits on does not hold the stop past the bound."""
    clock = task.Clock()
    pending = PendingWork(clock, "test")
    first: Deferred[None] = Deferred()
    second: Deferred[None] = Deferred()

    async def stubborn() -> None:
        try:
            await first
        except CancelledError:
            pass  # e.g. a broad except around a step
        await second

    pending.run(stubborn(), "stubborn work")
    drained = pending.drain(timeout=5.0)
    clock.advance(4.9)
    assert not drained.called
    clock.advance(0.1)
    assert first.called and drained.called and len(pending) == 1
