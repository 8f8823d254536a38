"""The Twisted side of the render pool: conversions as Deferreds.

At most ``limits.workers`` conversions wait in threads of the reactor's
pool at a time (a :class:`DeferredSemaphore` queues the rest in the
reactor), so a burst of uploads cannot take every thread the stores need.
"""

from __future__ import annotations

import atexit
import threading
from typing import Any, Callable

from twisted.internet.defer import Deferred, DeferredSemaphore

from appliance.render.limits import Limits
from appliance.render.pool import RenderPool

__all__ = ["Renderer", "shared_pool"]


class Renderer:
    """``renderer(fn, *args, **kwargs)`` runs ``fn`` in the pool and fires with its result."""

    def __init__(self, pool: RenderPool, run_blocking: Callable[..., "Deferred[Any]"]) -> None:
        self.pool = pool
        self._run = run_blocking
        self._slots = DeferredSemaphore(pool.limits.workers)

    @property
    def limits(self) -> Limits:
        return self.pool.limits

    def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> "Deferred[Any]":
        return self._slots.run(self._run, self.pool.call, fn, *args, **kwargs)


_shared: RenderPool | None = None
_shared_lock = threading.Lock()


def shared_pool() -> RenderPool:
    """One pool with the default limits for callers given none (stopped at exit)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = RenderPool(Limits())
            atexit.register(_shared.close)
        return _shared
