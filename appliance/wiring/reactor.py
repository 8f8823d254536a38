"""The reactor the wiring needs: time, threads, TCP and UDP listeners, child
processes (the printer's ``lp``) and the core's start/stop triggers.

Twisted types its global reactor as only part of what every real reactor
provides (no threads, no UDP), so this module hands it out as :class:`Reactor`:
``from appliance.wiring.reactor import reactor`` (installed on first use, like
``from twisted.internet import reactor``) or :func:`installed_reactor`.  Unit
tests pass a ``MemoryReactorClock`` or ``task.Clock`` where only part of it is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from twisted.internet.interfaces import (
    IReactorCore,
    IReactorProcess,
    IReactorTCP,
    IReactorThreads,
    IReactorTime,
    IReactorUDP,
)

__all__ = ["Reactor", "installed_reactor", "reactor"]


class Reactor(IReactorCore, IReactorTime, IReactorThreads, IReactorTCP, IReactorUDP, IReactorProcess):
    """Every interface of the reactor that the assembled process uses."""


def installed_reactor() -> Reactor:
    """The process's global reactor (installing the default one if none is yet)."""
    from twisted.internet import reactor  # importing it installs the default reactor: only when asked

    return cast(Reactor, reactor)


if TYPE_CHECKING:
    reactor: Reactor
else:

    def __getattr__(name: str) -> object:
        if name == "reactor":  # not at import time: importing this module installs no reactor
            return installed_reactor()
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
