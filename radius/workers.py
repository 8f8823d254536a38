"""Several RADIUS worker processes on the same ports, and their supervisor.

Each worker (``python -m appliance.radius_worker``) is a complete RADIUS server with
its own read model and store connections, listening with ``SO_REUSEPORT``.
The kernel spreads peers over the workers by a hash of the address 4-tuple,
so all packets of one client socket, and so a request and its
retransmissions, reach the same worker and its RFC 5080 duplicate cache.

:class:`RadiusWorkers` is the supervisor, a Twisted service in the main
process: at start it checks that both ports can be bound (so a port in use
fails start-up with the usual one-line message) and resolves port 0 to a
free port, then starts the workers and waits until each listens; a worker
that dies is started again (after 0.5 s, doubling up to 10 s while workers
keep dying young).  A worker gets its settings on stdin (never on its command
line: the client secrets are among them) and stops when stdin closes, so
workers never outlive the supervisor.
"""

from __future__ import annotations

import os
import pickle
import sys
from typing import Any

from twisted.application import service
from twisted.internet import defer, protocol
from twisted.internet.interfaces import IReactorProcess, IReactorTime
from twisted.logger import Logger

from radius.reuseport import probe_port
from radius.server import ACCT, AUTH, RadiusService

__all__ = ["RadiusWorkers", "WorkerSettings"]

READY = b"ready"
MIN_BACKOFF, MAX_BACKOFF = 0.5, 10.0
YOUNG = 5.0  # a worker that dies younger than this doubles the restart delay


class WorkerSettings(dict[str, Any]):
    """What a worker needs: ``config`` (appliance.config.Config, ports
    resolved), ``index``.  Pickled to the worker's stdin."""


class _Worker(protocol.ProcessProtocol):
    def __init__(self, supervisor: RadiusWorkers, index: int) -> None:
        self.supervisor = supervisor
        self.index = index
        self.ready: defer.Deferred[None] = defer.Deferred()
        self.started_at = supervisor.clock.seconds()
        self._status = b""

    def connectionMade(self) -> None:
        settings = WorkerSettings(config=self.supervisor.config, index=self.index)
        if self.transport is not None:
            self.transport.write(pickle.dumps(settings))  # stdin stays open: its EOF stops the worker

    def childDataReceived(self, fd: int, data: bytes) -> None:
        if fd != 3:
            return
        self._status += data
        if b"\n" in self._status and not self.ready.called:
            line = self._status.split(b"\n", 1)[0]
            if line == READY:
                self.ready.callback(None)
            else:
                self.ready.errback(RuntimeError(line.decode("utf-8", "replace")))

    def processEnded(self, reason: Any) -> None:
        if not self.ready.called:
            self.ready.errback(RuntimeError(f"RADIUS worker {self.index} exited before listening"))
        self.supervisor._ended(self, reason)


class RadiusWorkers(RadiusService):
    """The supervisor of ``count`` worker processes (a RadiusService for the
    start-up code: ``listen``, ``ports``, ``bound``)."""

    log = Logger()

    def __init__(self, config: Any, reactor: Any, count: int, *, python: str = sys.executable) -> None:
        radius = config.radius
        super().__init__(None, reactor, radius.listen, radius.auth_port, radius.acct_port)  # type: ignore[arg-type]
        self.clock: IReactorTime = reactor
        self.spawner: IReactorProcess = reactor
        self.config = config
        self.count = count
        self.python = python
        self.workers: dict[int, _Worker] = {}
        self.restarts = 0
        self._backoff = MIN_BACKOFF
        self._pending: dict[int, Any] = {}

    # ------------------------------------------------------------ start

    def startService(self) -> None:
        import dataclasses

        radius = self.config.radius
        auth = probe_port(radius.listen, radius.auth_port)
        acct = probe_port(radius.listen, radius.acct_port)
        self.bound = {AUTH: auth, ACCT: acct}
        self.ports = {AUTH: auth, ACCT: acct}
        # A worker must neither load workers of its own nor spawn.
        self.config = dataclasses.replace(
            self.config, radius=dataclasses.replace(radius, auth_port=auth, acct_port=acct, workers=1)
        )
        service.Service.startService(self)
        for index in range(self.count):
            self._spawn(index)

    def wait_ready(self) -> defer.Deferred[Any]:
        """Fires when every worker listens (errback: the first that failed)."""
        return defer.gatherResults([w.ready for w in self.workers.values()], consumeErrors=True)

    def _spawn(self, index: int) -> None:
        self._pending.pop(index, None)
        worker = _Worker(self, index)
        self.workers[index] = worker
        env = dict(os.environ)
        self.spawner.spawnProcess(
            worker,
            self.python,
            [self.python, "-m", "appliance.radius_worker"],
            env=env,
            childFDs={0: "w", 1: 1, 2: 2, 3: "r"},
        )
        worker.ready.addCallbacks(self._ready, self._not_ready, callbackArgs=(worker,), errbackArgs=(index,))

    def _ready(self, _: Any, worker: _Worker) -> None:
        pid = worker.transport.pid if worker.transport is not None else None
        self.log.info("RADIUS worker {index} (pid {pid}) listening", index=worker.index, pid=pid)

    def _not_ready(self, failure: Any, index: int) -> None:
        if self.running:
            self.log.warn("RADIUS worker {index}: {error}", index=index, error=failure.getErrorMessage())

    def pids(self) -> list[int]:
        return [w.transport.pid for w in self.workers.values() if w.transport is not None and w.transport.pid]

    # ------------------------------------------------------------ restart

    def _ended(self, worker: _Worker, reason: Any) -> None:
        if self.workers.get(worker.index) is not worker:
            return
        del self.workers[worker.index]
        if not self.running:
            return
        lived = self.clock.seconds() - worker.started_at
        self._backoff = min(MAX_BACKOFF, self._backoff * 2) if lived < YOUNG else MIN_BACKOFF
        delay = MIN_BACKOFF if lived >= YOUNG else self._backoff
        self.restarts += 1
        self.log.warn(
            "RADIUS worker {index} ended ({reason}); starting it again in {delay:.1f} s",
            index=worker.index,
            reason=reason.getErrorMessage(),
            delay=delay,
        )
        self._pending[worker.index] = self.clock.callLater(delay, self._spawn, worker.index)

    # ------------------------------------------------------------- stop

    def stopService(self) -> Any:
        service.Service.stopService(self)
        for call in self._pending.values():
            if call.active():
                call.cancel()
        self._pending.clear()
        ended = []
        for worker in list(self.workers.values()):
            d: defer.Deferred[None] = defer.Deferred()
            original = worker.processEnded

            def on_end(reason: Any, d: Any = d, original: Any = original) -> None:
                original(reason)
                d.callback(None)

            worker.processEnded = on_end  # type: ignore[method-assign]
            transport = worker.transport
            try:
                if transport is not None:
                    transport.closeStdin()  # the worker stops on EOF
                    transport.signalProcess("TERM")
            except Exception:
                pass
            ended.append(d)
        return defer.gatherResults(ended, consumeErrors=True).addCallback(lambda _: None)
