"""The Twisted side of the job queue: claim due work on a clock, hand it to
a dispatcher, complete it with the result.

Store calls block, so they run through ``run_blocking`` (production:
:func:`thread_runner`, a reactor thread pool; tests: a synchronous runner).
The dispatcher (the line pool or the cloud router) is a callable
``dispatch(claim) -> Deferred[Result]``; a dispatcher error counts as a
failed attempt with cause ``other``.  Concurrency is bounded per route: one
call per line, ``cloud_slots`` calls to the cloud.

Faults: every ``heartbeat`` seconds the scheduler renews the leases of the
calls it is making (and of the results it holds), and recovers the entries of
nodes whose leases expired.  A result the store cannot record (the database
is unreachable) goes to the durable ``spool`` and is written as soon as the
store answers again; its claim stays leased meanwhile.  One line is logged
when the store becomes unreachable and one when it is back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Protocol, TypeVar

from twisted.application import service
from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall, IReactorFromThreads, IReactorTime
from twisted.internet.task import LoopingCall
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from appliance.jobs.choices import RouteFilter, parse_route_filter
from appliance.jobs.model import (
    CLOUD,
    Cause,
    Claim,
    ClaimLost,
    Entry,
    JobError,
    RecoveryReport,
    Result,
)
from appliance.jobs.outage import Outage
from appliance.jobs.result_spool import ResultSpool, SpooledResult
from appliance.jobs.store import CloudLookup, JobStore
from appliance.logsafe import safe_for_log
from radius.store.api import StoreError

__all__ = ["Dispatch", "JobScheduler", "RunBlocking", "thread_runner"]

T = TypeVar("T")


class RunBlocking(Protocol):
    """Runs ``fn(*args, **kwargs)``, a blocking call, off the reactor thread (a thread pool; tests: at once)."""

    def __call__(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> defer.Deferred[T]: ...


Dispatch = Callable[[Claim], "defer.Deferred[Result]"]


def thread_runner(reactor: IReactorFromThreads, pool: ThreadPool) -> RunBlocking:
    """``run_blocking`` that runs each store call in ``pool``."""

    def run(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> defer.Deferred[T]:
        return deferToThreadPool(reactor, pool, fn, *args, **kwargs)

    return run


class JobScheduler(service.Service):
    """Polls the queue every ``interval`` seconds (and at once when a call
    ends) and keeps every free route busy."""

    log = Logger()

    def __init__(
        self,
        store: JobStore,
        *,
        clock: IReactorTime,
        run_blocking: RunBlocking,
        node_id: str,
        dispatch: Dispatch,
        lines: Callable[[], Sequence[str]] = lambda: (),
        route_filter: RouteFilter | str = RouteFilter.ANY,
        cloud_slots: int = 4,
        interval: float = 1.0,
        spool: ResultSpool | None = None,
        heartbeat: float | None = None,
        cloud_lookup: CloudLookup | None = None,
        on_recovered: Callable[[RecoveryReport], None] | None = None,
        backoff_max: float = 30.0,
    ) -> None:
        self.route_filter = parse_route_filter(route_filter, ValueError)
        self._store = store
        self._clock = clock
        self._run = run_blocking
        self.node_id = node_id
        self._dispatch = dispatch
        self._lines = lines
        self.cloud_slots = cloud_slots
        self.interval = interval
        self._loop: LoopingCall | None = None
        self._polling = False
        self._poke: IDelayedCall | None = None
        self._busy_lines: set[str] = set()
        self._cloud_calls = 0
        self._inflight: dict[int, defer.Deferred[None]] = {}
        self._routes: dict[int, str] = {}
        self.spool = spool
        self.heartbeat_interval = heartbeat if heartbeat is not None else max(0.5, store.lease_seconds / 3)
        self.cloud_lookup = cloud_lookup
        self.on_recovered = on_recovered
        self.backoff_max = backoff_max
        self.outage = Outage("the job store")
        self._spooled: set[int] = set()  # entries whose result is spooled
        self._held: set[int] = set()  # resumed cloud jobs
        self._beat: LoopingCall | None = None
        self._beating = False
        self._draining: defer.Deferred[int] | None = None
        self._drain_waiters: list[defer.Deferred[int]] = []

    # ------------------------------------------------------------ lifetime

    def startService(self) -> None:
        super().startService()
        self._loop = LoopingCall(self.poll)
        self._loop.clock = self._clock
        self._loop.start(self.interval, now=True).addErrback(self._loop_died)
        self._beat = LoopingCall(self.heartbeat)
        self._beat.clock = self._clock
        self._beat.start(self.heartbeat_interval, now=True).addErrback(self._loop_died)

    def stopService(self) -> defer.Deferred[object]:
        """Stop claiming; fires once the calls in flight have been completed."""
        super().stopService()
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self._poke is not None and self._poke.active():
            self._poke.cancel()
        done = defer.DeferredList(list(self._inflight.values()), consumeErrors=True)

        def quiet(result: object) -> object:  # leases stay renewed until the last call ended
            if self._beat is not None and self._beat.running:
                self._beat.stop()
            return result

        return done.addBoth(quiet)

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
        lines = (
            []
            if self.route_filter is RouteFilter.CLOUD
            else [line for line in self._lines() if line not in self._busy_lines]
        )
        cloud = 0 if self.route_filter is RouteFilter.LINE else max(0, self.cloud_slots - self._cloud_calls)
        if not lines and not cloud:
            return defer.succeed([])
        filter_ = self.route_filter if cloud else RouteFilter.LINE
        self._polling = True
        d = self._run(self._store.claim, self.node_id, self._clock.seconds(), filter_, lines, len(lines) + cloud)
        started = d.addCallback(self._start_all)

        def done(result: list[Claim] | Failure) -> list[Claim]:
            self._polling = False
            if isinstance(result, Failure):
                if not self._store_failed(result):
                    self.log.failure("claiming jobs failed on node {node_id}", result, node_id=self.node_id)
                return []
            self._store_answered()
            return result

        return started.addBoth(done)

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
        self.log.info(
            "job {job_id} to {number} on route {route}",
            job_id=claim.entry.key,
            number=safe_for_log(claim.entry.recipient.fax_number, 64),
            route=claim.route,
        )
        d: defer.Deferred[Any] = defer.maybeDeferred(self._dispatch, claim)
        d.addErrback(self._dispatch_failed, claim)
        d.addCallback(self._record, claim)
        d.addBoth(self._release, claim)
        self._inflight[entry_id] = d

    def _record(self, result: Result, claim: Claim) -> defer.Deferred[Any]:
        ended = self._clock.seconds()
        item = SpooledResult(claim.entry.id, self.node_id, claim.entry.claimed_at, ended, result)
        d = self._run(
            partial(
                self._store.complete,
                claim.entry.id,
                result,
                ended,
                node=self.node_id,
                claimed_at=claim.entry.claimed_at,
            )
        )
        d.addCallbacks(self._completed, self._complete_failed, errbackArgs=(item,))
        return d

    def _dispatch_failed(self, failure: Failure, claim: Claim) -> Result:
        self.log.failure("dispatching job {job_id} failed", failure, job_id=claim.entry.key)
        return Result.failure(Cause.OTHER, hangup_text=f"dispatcher error: {failure.getErrorMessage()}")

    def _completed(self, entry: Entry) -> None:
        self._store_answered()
        self.log.info("job {job_id} is {state}", job_id=entry.key, state=entry.state.value)

    def _complete_failed(self, failure: Failure, item: SpooledResult) -> None:
        if failure.check(ClaimLost):
            self.log.warn(
                "the result of entry {entry_id} came too late: {error}",
                entry_id=item.entry_id,
                error=failure.getErrorMessage(),
            )
            return
        if not failure.check(StoreError) or self.spool is None:
            # the entry stays sending; recovery settles it
            self.log.failure("recording the result of entry {entry_id} failed", failure, entry_id=item.entry_id)
            return
        self._store_failed(failure)
        try:
            self.spool.put(item)
        except Exception:
            self.log.failure("the result of entry {entry_id} cannot be spooled either", entry_id=item.entry_id)
            return
        self._spooled.add(item.entry_id)
        self.log.info("the result of entry {entry_id} is spooled until the job store answers", entry_id=item.entry_id)

    # ------------------------------------------------ the store's health
    def _store_failed(self, failure: Failure) -> bool:
        """Note a store failure; True when it is an outage (the database is unreachable; logged once)."""
        if not failure.check(StoreError):
            return False
        line = self.outage.failed(self._clock.seconds(), failure.getErrorMessage())
        if line is not None:
            self.log.warn("{line}; results are spooled, claims wait", line=line)
        return True

    def _store_answered(self) -> None:
        line = self.outage.succeeded(self._clock.seconds())
        if line is not None:
            self.log.info("{line}", line=line)

    # -------------------------------------------- heartbeat and spool
    def heartbeat(self) -> defer.Deferred[None]:
        """Renew this node's leases, write spooled results, recover expired claims of other nodes."""
        if self._beating:
            return defer.succeed(None)
        self._beating = True
        held = set(self._inflight) | self._spooled | self._held
        d = self._run(self._store.heartbeat, self.node_id, held)

        def renewed(ids: set[int]) -> defer.Deferred[int]:
            self._store_answered()
            for lost in sorted(set(self._inflight) & (held - ids)):
                self.log.warn("the claim on entry {entry_id} was taken over by another node", entry_id=lost)
            return self.drain()

        def recover(_: int) -> defer.Deferred[None]:
            r = self._run(self._store.recover_expired, self.node_id, self._clock.seconds(), self.cloud_lookup)
            return r.addCallback(self._recovered)

        def done(result: Failure | None) -> None:
            self._beating = False
            if isinstance(result, Failure) and not self._store_failed(result):
                self.log.failure("job heartbeat failed on node {node_id}", result, node_id=self.node_id)

        return d.addCallback(renewed).addCallback(recover).addBoth(done)

    def _recovered(self, report: RecoveryReport) -> None:
        if report:
            self.log.info(
                "recovered expired claims: {requeued} requeued, {finished} finished",
                requeued=len(report.requeued),
                finished=len(report.finished),
            )
        if self.on_recovered is not None:
            self.on_recovered(report)

    def drain(self) -> defer.Deferred[int]:
        """Write the spooled results to the store; fires with how many were written."""
        if self.spool is None or not len(self.spool):
            self._spooled.clear()
            return defer.succeed(0)
        if self._draining is not None:  # one pass at a time; later callers wait for it
            waiter: defer.Deferred[int] = defer.Deferred()
            self._drain_waiters.append(waiter)
            return waiter
        d = defer.Deferred.fromCoroutine(self._drain())
        self._draining = d

        def finished(result: int | Failure) -> int | Failure:
            self._draining = None
            waiters, self._drain_waiters = self._drain_waiters, []
            for waiter in waiters:
                waiter.errback(result) if isinstance(result, Failure) else waiter.callback(result)
            return result

        return d.addBoth(finished)

    async def _drain(self) -> int:
        assert self.spool is not None
        written = 0
        for item in self.spool.pending():
            try:
                entry = await self._run(
                    partial(
                        self._store.complete,
                        item.entry_id,
                        item.result,
                        item.ended_at,
                        node=item.node,
                        claimed_at=item.claimed_at,
                    )
                )
            except JobError as exc:  # taken over, or settled otherwise: nothing left to write
                self.log.warn(
                    "spooled result of entry {entry_id} dropped: {error}", entry_id=item.entry_id, error=str(exc)
                )
            else:
                written += 1
                self.log.info("job {job_id} is {state} (spooled result)", job_id=entry.key, state=entry.state.value)
            self.spool.remove(item.entry_id)
            self._spooled.discard(item.entry_id)
        return written

    def settle(self, cloud_lookup: CloudLookup | None = None, retry: float = 1.0) -> defer.Deferred[RecoveryReport]:
        """Before starting: write what the spool holds, then recover what this
        node left in ``sending``; retried with backoff while the store is unreachable."""
        result: defer.Deferred[RecoveryReport] = defer.Deferred()

        def attempt(delay: float) -> None:
            d = self.drain().addCallback(lambda _: self.recover(cloud_lookup))

            def failed(failure: Failure) -> None:
                if not self._store_failed(failure):
                    self.log.failure("job recovery failed on node {node_id}", failure, node_id=self.node_id)
                self._clock.callLater(delay, attempt, min(delay * 2, self.backoff_max))

            def ok(report: RecoveryReport) -> None:
                self._store_answered()
                result.callback(report)

            d.addCallbacks(ok, failed)

        attempt(retry)
        return result

    def hold(self, entry_id: int) -> None:
        """Keep renewing the lease of ``entry_id`` (a resumed cloud job) until :meth:`unhold`."""
        self._held.add(entry_id)

    def unhold(self, entry_id: int) -> None:
        self._held.discard(entry_id)

    def _release(self, _: object, claim: Claim) -> None:
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
