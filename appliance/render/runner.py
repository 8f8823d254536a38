"""The Twisted side of the render pool: conversions as Deferreds.

At most ``limits.workers`` conversions wait in threads of the reactor's
pool at a time (a :class:`DeferredSemaphore` queues the rest in the
reactor), so a burst of uploads cannot take every thread the stores need.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred, DeferredSemaphore

from appliance.render.limits import Limits
from appliance.render.pool import RenderPool

__all__ = ["Renderer", "shared_pool"]


class Renderer:
    """``renderer(fn, *args, **kwargs)`` runs ``fn`` in the pool and fires with its result."""

    def __init__(self, pool: RenderPool, run_blocking: Callable[..., Deferred[Any]]) -> None:
        self.pool = pool
        self._run = run_blocking
        self._slots = DeferredSemaphore(pool.limits.workers)

    @property
    def limits(self) -> Limits:
        return self.pool.limits

    def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Deferred[Any]:
        return self._slots.run(self._run, self.pool.call, fn, *args, **kwargs)


_shared: RenderPool | None = None
_shared_lock = threading.Lock()


def shared_pool(limits: Limits | None = None) -> RenderPool:
    """The process's one render pool (the web service, the inbox and the send
    routes share it), stopped at exit.

    ``limits`` (the configuration's, when the appliance starts) replaces a
    pool made with other limits; without, the pool keeps the limits it has
    (the defaults at first)."""
    global _shared
    with _shared_lock:
        if _shared is not None and limits is not None and _shared.limits != limits:
            _shared.close()
            _shared = None
        if _shared is None:
            _shared = RenderPool(limits or Limits())
            atexit.register(_shared.close)
        return _shared
