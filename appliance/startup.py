"""Starting and stopping the process's services all-or-nothing.

Every listener binds while its service starts; when one cannot (port in
use, address not local, no permission), :func:`start_all` stops what had
already started and returns ONE line for the user naming the address, the
port, the transport, what it was for and the error, e.g.
``cannot listen on 127.0.0.1:1812/udp (RADIUS auth): Address already in use``.
:func:`stop_started` stops only services that did start (stopping a service
that never started is what raised ``AttributeError`` before).
"""

from __future__ import annotations

import weakref

from twisted.application import service
from twisted.application.internet import StreamServerEndpointService
from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.internet.error import CannotListenError
from twisted.logger import Logger

from radius.server import AUTH, RadiusService

__all__ = ["StartupError", "describe_listen_error", "start_all", "stop_started"]

log = Logger()


class StartupError(Exception):
    """The process cannot start; the message is one line for the user."""


def _reason(exc: CannotListenError) -> str:
    err = exc.socketError
    text = getattr(err, "strerror", None) or str(err)
    return str(text).rstrip(".")


def describe_listen_error(exc: CannotListenError, transport: str, purpose: str) -> str:
    """``cannot listen on ADDRESS:PORT/TRANSPORT (PURPOSE): REASON``."""
    address = exc.interface or "0.0.0.0"
    if ":" in address:
        address = f"[{address}]"
    where = f"{address}:{exc.port}" + (f"/{transport}" if transport else "")
    return f"cannot listen on {where} ({purpose}): {_reason(exc)}"


def _what(svc: service.IService, port: int) -> tuple[str, str]:
    """(transport, purpose) of the listener of ``svc`` on ``port``."""
    if isinstance(svc, RadiusService):
        for kind, number in svc.ports.items():
            if number == port:
                return "udp", "RADIUS auth" if kind == AUTH else "RADIUS accounting"
        return "udp", "RADIUS"
    if isinstance(svc, StreamServerEndpointService):
        module = type(svc).__module__
        return "tcp", "web" if module.startswith("appliance.web") else (svc.name or type(svc).__name__)
    return getattr(svc, "listen_transport", ""), getattr(svc, "name", None) or type(svc).__name__


def _stop_quietly(svc: service.IService) -> Deferred[None]:
    """Stop one service, logging (never raising) what goes wrong."""
    return defer.maybeDeferred(svc.stopService).addErrback(
        lambda f: log.failure("stopping {service} failed", f, service=type(svc).__name__)
    )


#: stops that a failed :func:`start_all` began, per top service, until stop_started collects them
_stopping: weakref.WeakKeyDictionary[service.MultiService, Deferred[None]] = weakref.WeakKeyDictionary()


def start_all(top: service.MultiService) -> str | None:
    """Start the children of ``top`` in order.  On a listener failure, stop
    the failed child and those already started, and return the user's line;
    None when everything started."""
    service.Service.startService(top)
    for child in list(top):
        if isinstance(child, StreamServerEndpointService):
            # bind errors raise here instead of being logged later by the endpoint service
            child._raiseSynchronously = True
        try:
            child.startService()
        except CannotListenError as exc:
            transport, purpose = _what(child, exc.port)
            failed = _stop_quietly(child)
            # the others after the failed one has stopped; the shutdown's stop_started(top) waits for them
            _stopping[top] = failed.addCallback(lambda _: stop_started(top))
            return describe_listen_error(exc, transport, purpose)
    return None


def stop_started(top: service.MultiService) -> Deferred[None]:
    """Stop the children of ``top`` that are running, the last started first, each once the
    one after it has finished stopping (a later service may still use an earlier one's
    thread pool or store while it stops); a Deferred that fires when all have stopped."""
    top.running = 0
    children = [child for child in reversed(list(top)) if child.running]
    earlier = _stopping.pop(top, None)  # stops begun by a failed start_all, maybe still running
    return Deferred.fromCoroutine(_stop_in_turn(children, earlier))


async def _stop_in_turn(children: list[service.IService], earlier: Deferred[None] | None) -> None:
    if earlier is not None:
        await earlier
    for child in children:
        if child.running:  # not stopped meanwhile by the earlier stops
            await _stop_quietly(child)
