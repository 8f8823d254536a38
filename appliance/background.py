"""Work started and not waited for (an accounting Start, an incoming call),
kept track of: a failure is logged, and stopping waits for what is still
running (up to a limit)."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

__all__ = ["Background"]


class Background:
    """Pending Deferreds of one component; see the module docstring."""

    log = Logger()

    def __init__(self, clock: IReactorTime, name: str) -> None:
        self.clock = clock
        self.name = name
        self._pending: set[Deferred[Any]] = set()
        self._waiters: list[Deferred[None]] = []

    @property
    def pending(self) -> int:
        """How many tracked Deferreds have not fired yet."""
        return len(self._pending)

    def track(self, d: Deferred[Any], failed: str, **fields: Any) -> None:
        """Keep ``d`` until it fires; a failure is logged with the message ``failed``
        (a format string over ``fields``) and goes no further."""
        self._pending.add(d)

        def done(result: Any) -> None:
            self._pending.discard(d)
            if isinstance(result, Failure):
                self.log.failure(failed, result, **fields)
            if not self._pending:
                waiters, self._waiters = self._waiters, []
                for waiter in waiters:
                    _fire(waiter)

        d.addBoth(done)

    async def wait_idle(self, timeout: float | None = None) -> int:
        """Wait until every tracked Deferred has fired (also those tracked meanwhile), or
        ``timeout`` seconds; returns how many are still pending (they are logged)."""
        if self._pending:
            waiter: Deferred[None] = Deferred()
            self._waiters.append(waiter)
            timer = None
            if timeout is not None:
                timer = self.clock.callLater(timeout, _fire, waiter)
            await waiter
            if timer is not None and timer.active():
                timer.cancel()
        if self._pending:
            self.log.warn(
                "{name}: {count} background task(s) still running at stop", name=self.name, count=len(self._pending)
            )
        return len(self._pending)


def _fire(waiter: Deferred[None]) -> None:
    if not waiter.called:
        waiter.callback(None)
