"""Work started and not awaited by its starter, tracked so that nothing is lost.

A service that starts work in the background (a resumed cloud job, a file
written soon after an event) hands the Deferred to a :class:`PendingWork`:
its failure is logged (never "Unhandled error in Deferred"), and the
service's ``stopService`` waits for :meth:`PendingWork.drain` before it
closes what that work still uses (thread pool, job store)::

    pending = PendingWork(reactor, "appliance")
    pending.track(Deferred.fromCoroutine(router.resume(claim)), "resumed cloud job")
    pending.track(Deferred.fromCoroutine(cloud.wait(jobid)), "cloud watch", cancel_on_stop=True)
    ...
    await pending.drain(timeout=20.0)   # in stopService

``drain`` first cancels the work tracked with ``cancel_on_stop`` (waits that
a restart takes up again: their cancellation is not a failure; such work
tracked while draining is cancelled at once), then waits for the rest; what
still runs after ``timeout`` is cancelled and logged.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

from twisted.internet.defer import CancelledError, Deferred, DeferredList, succeed
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger, LogLevel
from twisted.python.failure import Failure

__all__ = ["PendingWork"]

T = TypeVar("T")


class PendingWork:
    """The set of background Deferreds of one owner (see the module docstring)."""

    log = Logger()

    def __init__(self, clock: IReactorTime, owner: str) -> None:
        self.clock = clock
        self.owner = owner  # named in the log lines
        self._pending: dict[Deferred[Any], str] = {}
        self._fields: dict[Deferred[Any], dict[str, object]] = {}
        self._cancel_on_stop: set[Deferred[Any]] = set()
        self._stopping: set[Deferred[Any]] = set()  # cancelled by drain: CancelledError expected
        self._draining = False
        self.failures = 0  # how many tracked pieces of work failed (each one logged)

    def __len__(self) -> int:
        return len(self._pending)

    def what(self) -> list[str]:
        """What is still running, in the order it was started."""
        return list(self._pending.values())

    def track(self, d: Deferred[T], what: str, *, cancel_on_stop: bool = False, **fields: object) -> None:
        """Keep ``d`` until it fires; a failure is logged as ``<what> failed`` (with
        ``fields`` as the log event's fields) and consumed (add callbacks to ``d``
        before tracking it, not after)."""
        self._pending[d] = what
        if fields:
            self._fields[d] = fields
        if cancel_on_stop:
            self._cancel_on_stop.add(d)
        d.addBoth(self._done, d, what)
        if cancel_on_stop and self._draining and d in self._pending:
            self._stopping.add(d)
            d.cancel()

    def run(self, work: Coroutine[Any, Any, T], what: str, *, cancel_on_stop: bool = False) -> None:
        """Start a coroutine (``async def``) and track it."""
        self.track(Deferred.fromCoroutine(work), what, cancel_on_stop=cancel_on_stop)

    def _done(self, result: object, d: Deferred[Any], what: str) -> None:
        self._pending.pop(d, None)
        fields = self._fields.pop(d, {})
        self._cancel_on_stop.discard(d)
        stopped = d in self._stopping
        self._stopping.discard(d)
        if stopped and isinstance(result, Failure) and result.check(CancelledError):
            self.log.info("{owner}: {what} cancelled (stopping)", owner=self.owner, what=what)
        elif isinstance(result, Failure):
            self.failures += 1
            self.log.failure("{owner}: {what} failed", result, LogLevel.critical, owner=self.owner, what=what, **fields)

    def drain(self, timeout: float | None = None) -> Deferred[None]:
        """Fires when no tracked work is left, including work tracked while
        draining.  After ``timeout`` seconds what still runs is cancelled
        (its cancellation logged like any failure), and the drain fires even if
        some work ignores its cancellation; the result never fails."""
        self._draining = True
        for d in list(self._cancel_on_stop):
            self._stopping.add(d)
            d.cancel()
        if not self._pending:
            self._draining = False
            return succeed(None)
        done: Deferred[None] = Deferred()
        timer: IDelayedCall | None = None
        if timeout is not None:

            def expire() -> None:
                self.log.warn(
                    "{owner}: cancelling {count} piece(s) of work still running after {timeout} s: {what}",
                    owner=self.owner,
                    count=len(self._pending),
                    timeout=timeout,
                    what=", ".join(self.what()),
                )
                for d in list(self._pending):
                    d.cancel()
                if self._pending:  # work that ignores its cancellation does not hold the stop
                    self.log.warn(
                        "{owner}: {count} piece(s) of work ignored their cancellation: {what}",
                        owner=self.owner,
                        count=len(self._pending),
                        what=", ".join(self.what()),
                    )
                    finish()

            timer = self.clock.callLater(timeout, expire)

        def finish() -> None:
            if timer is not None and timer.active():
                timer.cancel()
            self._draining = False
            if not done.called:
                done.callback(None)

        def again(_: object) -> None:
            if done.called:
                return
            if self._pending:
                DeferredList(list(self._pending), consumeErrors=True).addBoth(again)
                return
            finish()

        again(None)
        return done
