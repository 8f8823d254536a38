"""The running controller: the :class:`Appliance` record of its parts and the
:class:`ApplianceService` that starts them in order and stops them cleanly.

Work the service starts in the background (resumed cloud jobs, job recovery,
line-state writes after a call event) is tracked in a
:class:`~appliance.pending.PendingWork`; ``stopService`` waits for it, and for
the ``stop_hooks`` of the parts (e.g. the routers' calls still being
recorded), before it closes the thread pool and the job store.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from twisted.application import service
from twisted.internet import task
from twisted.internet.defer import Deferred, maybeDeferred, succeed
from twisted.internet.interfaces import IDelayedCall
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from appliance.config import Config
from appliance.housekeeping import purge
from appliance.inbound.inbox import Inbox
from appliance.inbound.router import InboundRouter
from appliance.inbound.sinks import CloudInboxSink
from appliance.jobs import JobStore
from appliance.jobs.model import RecoveryReport
from appliance.jobs.scheduler import JobScheduler, RunBlocking
from appliance.lines import LinePool
from appliance.outbound import CloudRoute, Router
from appliance.pending import PendingWork
from appliance.portserver.role import PortServer
from appliance.retention import Plan, Retention
from appliance.wiring.reactor import Reactor
from radius.client import Attr
from radius.model import A, Code, FbCommand, FbContext
from radius.store import Store

__all__ = ["Appliance", "ApplianceService", "Poller", "StopHook", "write_json_atomic"]

LINES_FILE_INTERVAL = 2.0
LINES_FILE_SOON = 0.2  # seconds after a call event (page started, confirmed, …) the line states are written
PURGE_INTERVAL = 86400.0  # the daily [retention] purge
PURGE_FIRST = 60.0  # … first run this long after the start
LINES_READY_WAIT = 15.0  # at most this long the scheduler waits for the sending lines to come online
STOP_TIMEOUT = 20.0  # stopService waits at most this long for calls, stop hooks and background work


class Poller(Protocol):
    """A cloud poller (FAXAGE status, FAXAGE inbound)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


@runtime_checkable
class _Closable(Protocol):
    """A RADIUS client that can be closed (``radius.client.RadiusClient``)."""

    def close(self) -> Deferred[None]: ...


StopHook = Callable[[], "Deferred[Any] | None"]
"""Called once the scheduler has stopped claiming and the lines are stopping; the
service waits for the Deferred it returns (if any) before it closes the stores."""


@dataclass
class Appliance:
    """The running controller's parts (the web service, mail and tests use them)."""

    config: Config
    store: Store  # accounts, DIDs, CDRs
    jobs: JobStore
    inbox: Inbox
    pool: LinePool | None
    portserver: PortServer | None
    router: Router
    scheduler: JobScheduler
    cloud: CloudRoute | None
    inbound: InboundRouter | None
    threadpool: ThreadPool
    run_blocking: RunBlocking
    node_id: str
    pollers: list[Poller] = field(default_factory=list)
    cloud_sink: CloudInboxSink | None = None  # the FAXAGE inbound poller's sink
    stop_hooks: list[StopHook] = field(default_factory=list)  # awaited by ApplianceService.stopService

    def authenticate(self, username: str, password: str) -> Deferred[bool]:
        """RADIUS Account-Login (Get-Account) of a user (the e-mail gateway's SMTP AUTH)."""
        if self.portserver is None:
            return succeed(False)
        attrs: list[Attr] = [
            (A.FB_COMMAND.value, int(FbCommand.GET_ACCOUNT)),
            (A.FB_CONTEXT.value, int(FbContext.ACCOUNT_LOGIN)),
            (A.USER_NAME.value, username),
        ]
        d = self.portserver.client.access(attrs, password=password)
        return d.addCallback(lambda reply: reply.code == Code.ACCESS_ACCEPT)


def write_json_atomic(path: Path, data: object) -> None:
    """Write ``data`` as JSON to ``path`` atomically (temp file + rename)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


class ApplianceService(service.Service):
    """Starts the parts in order: recovery, then the scheduler; stops them cleanly."""

    log = Logger()

    def __init__(self, appliance: Appliance, reactor: Reactor) -> None:
        self.appliance = appliance
        self.reactor = reactor
        self.pending = PendingWork(reactor, "appliance")
        self._publisher: task.LoopingCall | None = None
        self._soon: IDelayedCall | None = None
        self._purger: task.LoopingCall | None = None
        self._purge_start: IDelayedCall | None = None
        self._lines_ready: IDelayedCall | None = None

    # ------------------------------------------------------------ housekeeping
    def _purge(self) -> Deferred[None]:
        """The daily housekeeping (see :mod:`appliance.housekeeping`), in the pool thread."""
        a = self.appliance
        retention = a.config.retention or Retention()
        web_spool = getattr(a.config.web, "spool_dir", "") or ""
        now = self.reactor.seconds()
        d = deferToThreadPool(
            self.reactor,
            a.threadpool,
            lambda: purge(
                retention,
                now,
                jobs=a.jobs,
                inbox=a.inbox,
                cdrs=a.store,
                data_dir=a.config.data_dir,
                web_spool=web_spool,
            ),
        )

        def done(plan: Plan) -> None:
            if plan.faxes or plan.inbox or plan.files or plan.cdrs:
                self.log.info(
                    "purge: {faxes} fax(es), {inbox} received fax(es), {files} spool file(s), {cdrs} CDR(s) removed",
                    faxes=len(plan.faxes),
                    inbox=len(plan.inbox),
                    files=len(plan.files),
                    cdrs=plan.cdrs,
                )

        def failed(f: Failure) -> None:
            self.log.failure("purge failed", f)

        return d.addCallbacks(done, failed)

    def _start_purger(self) -> None:
        self._purger = task.LoopingCall(self._purge)
        self._purger.clock = self.reactor
        self._purger.start(PURGE_INTERVAL, now=True).addErrback(lambda f: self.log.failure("purge loop stopped", f))

    # ------------------------------------------------------------ line states
    def _publish_soon(self) -> None:
        """A call event: write the line states within a moment (at most one write pending)."""
        if self._soon is None or not self._soon.active():
            self._soon = self.reactor.callLater(LINES_FILE_SOON, self._publish_lines_soon)

    def _publish_lines_soon(self) -> None:
        self.pending.track(self._publish_lines(), "writing the line states")

    def _publish_lines(self) -> Deferred[None]:
        """Write the pool's live line states to ``<data_dir>/lines.json`` for
        ``faxappliance status`` (in the pool thread: file I/O)."""
        a = self.appliance
        snapshot = {
            "updated_at": self.reactor.seconds(),
            "node": a.node_id,
            "lines": [s.to_json() for s in a.pool.status()] if a.pool is not None else [],
        }
        path = Path(a.config.data_dir) / "lines.json"
        d = deferToThreadPool(self.reactor, a.threadpool, write_json_atomic, path, snapshot)

        def failed(f: Failure) -> None:
            self.log.failure("cannot write {path}", f, path=str(path))

        return d.addErrback(failed)

    # ------------------------------------------------------------ start
    def startService(self) -> None:
        super().startService()
        a = self.appliance
        a.threadpool.start()
        if a.portserver is not None:
            a.portserver.start_service()
        if a.pool is not None:
            a.pool.startService()
            a.pool.on_call_event = self._publish_soon
            self._publisher = task.LoopingCall(self._publish_lines)
            self._publisher.clock = self.reactor
            self._publisher.start(LINES_FILE_INTERVAL, now=True).addErrback(
                lambda f: self.log.failure("publishing line states failed", f)
            )
        for poller in a.pollers:
            poller.start()
        self._purge_start = self.reactor.callLater(PURGE_FIRST, self._start_purger)
        lookup = a.cloud.lookup if a.cloud is not None else None
        self.log.info("appliance node {node_id} starting", node_id=a.node_id)
        a.scheduler.on_recovered = self._settle
        self.pending.track(a.scheduler.settle(lookup).addCallback(self._recovered), "job recovery")

    def _recovered(self, report: RecoveryReport) -> None:
        if report.requeued or report.finished or report.resumed or report.unresolved:
            self.log.info(
                "recovered jobs: {requeued} requeued, {finished} finished, {resumed} still in the cloud, "
                "{unresolved} unresolved",
                requeued=len(report.requeued),
                finished=len(report.finished),
                resumed=len(report.resumed),
                unresolved=len(report.unresolved),
            )
        self._settle(report)
        self._start_when_lines_ready(self.reactor.seconds() + LINES_READY_WAIT)

    def _settle(self, report: RecoveryReport) -> None:
        """Stops of interrupted sessions; watch cloud jobs still running (their leases renewed meanwhile)."""
        a = self.appliance
        a.router.recovered_stops(report)
        for claim in report.resumed:
            entry_id = claim.entry.id
            a.scheduler.hold(entry_id)
            d = Deferred.fromCoroutine(a.router.resume(claim))

            def unhold(result: object, entry_id: int = entry_id) -> object:
                a.scheduler.unhold(entry_id)
                return result

            # a watch, not work to finish: stopping cancels it and the next start recovers the entry
            self.pending.track(d.addBoth(unhold), "resumed cloud job", cancel_on_stop=True)

    def _start_when_lines_ready(self, deadline: float) -> None:
        """Start claiming once every sending line is online (or after a deadline), so that work
        does not overflow to the cloud only because the lines are still being probed."""
        a = self.appliance
        self._lines_ready = None
        if not self.running:
            return
        if a.pool is not None and self.reactor.seconds() < deadline:
            wanted = [n for n in a.pool.names if a.pool.config(n).sends]
            if len(a.pool.free_lines()) < len(wanted):
                self._lines_ready = self.reactor.callLater(0.2, self._start_when_lines_ready, deadline)
                return
        a.scheduler.startService()

    # ------------------------------------------------------------ stop
    def stopService(self) -> Deferred[None]:
        """Stop claiming and the lines (calls in flight are cancelled and their results
        recorded); wait, at most ``STOP_TIMEOUT`` seconds, for the scheduler, the stop
        hooks and the background work; then close the port-server role, the thread
        pool and the job store.  Fires when all is closed; never fails."""
        super().stopService()
        a = self.appliance
        for call in (self._soon, self._purge_start, self._lines_ready):
            if call is not None and call.active():
                call.cancel()
        for loop in (self._publisher, self._purger):
            if loop is not None and loop.running:
                loop.stop()
        if a.scheduler.running:
            self.pending.track(a.scheduler.stopService(), "stopping the job scheduler")
        for poller in a.pollers:
            poller.stop()
        if a.pool is not None:
            a.pool.stopService()  # cancels calls in flight: their results are recorded
        for hook in a.stop_hooks:
            self.pending.track(maybeDeferred(hook), f"stop hook {getattr(hook, '__qualname__', hook)!r}")
        return Deferred.fromCoroutine(self._close())

    async def _close(self) -> None:
        a = self.appliance
        await self.pending.drain(timeout=STOP_TIMEOUT)
        if a.portserver is not None:
            a.portserver.stop_service()
            client = a.portserver.client
            if isinstance(client, _Closable):
                try:
                    await client.close()
                except Exception:
                    self.log.failure("closing the port-server RADIUS client failed")
        a.threadpool.stop()
        a.jobs.close()
