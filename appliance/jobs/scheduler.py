"""The Twisted side of the job queue: claim due work on a clock, hand it to
a dispatcher, complete it with the result.

Store calls block, so they run through ``run_blocking`` (production:
:func:`thread_runner`, a reactor thread pool; tests: a synchronous runner).
The dispatcher (the line pool or the cloud router) is a callable
``dispatch(claim) -> Deferred[Result]``; a dispatcher error counts as a
failed attempt with cause ``other``.  Concurrency is bounded per route: one
call per line, ``cloud_slots`` calls to the cloud.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, Sequence, TypeVar

from twisted.application import service
from twisted.internet import defer
from twisted.internet.interfaces import IReactorFromThreads, IReactorTime
from twisted.internet.task import LoopingCall
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from appliance.jobs.model import CLOUD, Cause, Claim, Entry, RecoveryReport, Result
from appliance.jobs.store import ROUTE_FILTERS, CloudLookup, JobStore
from appliance.logsafe import safe_for_log

__all__ = ["Dispatch", "JobScheduler", "RunBlocking", "thread_runner"]

T = TypeVar("T")
RunBlocking = Callable[..., "defer.Deferred[Any]"]
Dispatch = Callable[[Claim], "defer.Deferred[Result]"]


def thread_runner(reactor: IReactorFromThreads, pool: ThreadPool) -> RunBlocking:
    """``run_blocking`` that runs each store call in ``pool``."""
    return partial(deferToThreadPool, reactor, pool)


class JobScheduler(service.Service):
    """Polls the queue every ``interval`` seconds (and at once when a call
    ends) and keeps every free route busy."""

    log = Logger()

    def __init__(self, store: JobStore, *, clock: IReactorTime, run_blocking: RunBlocking, node_id: str,
                 dispatch: Dispatch, lines: Callable[[], Sequence[str]] = lambda: (),
                 route_filter: str = "any", cloud_slots: int = 4, interval: float = 1.0) -> None:
        if route_filter not in ROUTE_FILTERS:
            raise ValueError(f"route_filter must be one of {', '.join(ROUTE_FILTERS)}, not {route_filter!r}")
        self._store = store
        self._clock = clock
        self._run = run_blocking
        self.node_id = node_id
        self._dispatch = dispatch
        self._lines = lines
        self.route_filter = route_filter
        self.cloud_slots = cloud_slots
        self.interval = interval
        self._loop: LoopingCall | None = None
        self._polling = False
        self._poke: Any = None
        self._busy_lines: set[str] = set()
        self._cloud_calls = 0
        self._inflight: dict[int, defer.Deferred[None]] = {}
        self._routes: dict[int, str] = {}

    # ------------------------------------------------------------ lifetime

    def startService(self) -> None:
        super().startService()
        self._loop = LoopingCall(self.poll)
        self._loop.clock = self._clock
        self._loop.start(self.interval, now=True).addErrback(self._loop_died)

    def stopService(self) -> defer.Deferred[Any]:
        """Stop claiming; fires once the calls in flight have been completed."""
        super().stopService()
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self._poke is not None and self._poke.active():
            self._poke.cancel()
        return defer.DeferredList(list(self._inflight.values()), consumeErrors=True)

    def _loop_died(self, failure: Failure) -> None:
        self.log.failure("job scheduler loop stopped", failure)

    @property
    def in_flight(self) -> dict[int, str]:
        """Entry id -> route of the calls running now."""
        return dict(self._routes)

    # --------------------------------------------------------------- poll

    def poll(self) -> defer.Deferred[list[Claim]]:
        """Claim as much due work as there are free routes, and start it."""
        if self._polling or not self.running:
            return defer.succeed([])
        lines = [] if self.route_filter == "cloud" else [l for l in self._lines() if l not in self._busy_lines]
        cloud = 0 if self.route_filter == "line" else max(0, self.cloud_slots - self._cloud_calls)
        if not lines and not cloud:
            return defer.succeed([])
        filter_ = self.route_filter if cloud else "line"
        self._polling = True
        d = self._run(self._store.claim, self.node_id, self._clock.seconds(), filter_, lines, len(lines) + cloud)
        d.addCallback(self._start_all)

        def done(result: Any) -> Any:
            self._polling = False
            if isinstance(result, Failure):
                self.log.failure("claiming jobs failed on node {node_id}", result, node_id=self.node_id)
                return []
            return result

        return d.addBoth(done)

    def poke(self) -> None:
        """Poll again as soon as the reactor is free (a route became free)."""
        if self.running and (self._poke is None or not self._poke.active()):
            self._poke = self._clock.callLater(0, self.poll)

    def _start_all(self, claims: list[Claim]) -> list[Claim]:
        for claim in claims:
            self._start(claim)
        return claims

    def _start(self, claim: Claim) -> None:
        entry_id = claim.entry.id
        if claim.route == CLOUD:
            self._cloud_calls += 1
        else:
            self._busy_lines.add(claim.route)
        self._routes[entry_id] = claim.route
        self.log.info("job {job_id} to {number} on route {route}", job_id=claim.entry.key,
                      number=safe_for_log(claim.entry.recipient.fax_number, 64), route=claim.route)
        d: defer.Deferred[Any] = defer.maybeDeferred(self._dispatch, claim)
        d.addErrback(self._dispatch_failed, claim)
        d.addCallback(lambda result: self._run(self._store.complete, entry_id, result, self._clock.seconds()))
        d.addCallbacks(self._completed, self._complete_failed, errbackArgs=(claim,))
        d.addBoth(self._release, claim)
        self._inflight[entry_id] = d

    def _dispatch_failed(self, failure: Failure, claim: Claim) -> Result:
        self.log.failure("dispatching job {job_id} failed", failure, job_id=claim.entry.key)
        return Result.failure(Cause.OTHER, hangup_text=f"dispatcher error: {failure.getErrorMessage()}")

    def _completed(self, entry: Entry) -> None:
        self.log.info("job {job_id} is {state}", job_id=entry.key, state=entry.state.value)

    def _complete_failed(self, failure: Failure, claim: Claim) -> None:
        # the entry stays sending; recovery settles it at the next start
        self.log.failure("recording the result of job {job_id} failed", failure, job_id=claim.entry.key)

    def _release(self, _: Any, claim: Claim) -> None:
        self._inflight.pop(claim.entry.id, None)
        self._routes.pop(claim.entry.id, None)
        if claim.route == CLOUD:
            self._cloud_calls -= 1
        else:
            self._busy_lines.discard(claim.route)
        self.poke()

    # ------------------------------------------------ helpers for routes

    def recover(self, cloud_lookup: CloudLookup | None = None) -> defer.Deferred[RecoveryReport]:
        """Settle what this node left in ``sending`` (call before starting);
        ``cloud_lookup`` runs in the thread pool too."""
        return self._run(self._store.recover, self.node_id, self._clock.seconds(), cloud_lookup)

    def cloud_submitting(self, entry_id: int) -> defer.Deferred[Entry]:
        """Write-ahead: record that a cloud submit is about to be sent."""
        return self._run(partial(self._store.cloud_submitting, entry_id, now=self._clock.seconds()))

    def cloud_submitted(self, entry_id: int, job_id: str) -> defer.Deferred[Entry]:
        """Record the cloud job id before the submit is acknowledged."""
        return self._run(partial(self._store.cloud_submitted, entry_id, job_id, now=self._clock.seconds()))
