"""twisted.web adapter for the simulated FAXAGE service.

Serves ``/httpsfax.php``, ``/httpsfax-debug.php``, ``/getcdr.php`` and
``/provision.php`` from a :class:`~hwsim.faxage.state.FaxageSim`, ticks job
schedules on the injected clock, POSTs url_notify callbacks, and injects
faults: ERR01, HTTP 5xx, slow replies, dropped connections, lost callbacks.
A small control API under ``/_sim/`` lets another process script it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from typing import Any
from urllib.parse import urlencode

from twisted.internet import task
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import Protocol
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.client import Agent, FileBodyProducer
from twisted.web.http_headers import Headers
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request, Site

from hwsim.faxage.state import Callback, FaxageSim, Reply

__all__ = ["FAULT_KINDS", "Fault", "Faults", "FaxageResource", "FaxageSimulator"]

FAULT_KINDS = ("err01", "http5xx", "slow", "drop", "lose_callback")
API_PATHS = {b"httpsfax.php", b"httpsfax-debug.php", b"getcdr.php", b"provision.php"}


@dataclass
class Fault:
    """``count`` times, for ``operation`` (None: any): reply ERR01, reply
    HTTP 503, delay the reply ``seconds``, drop the connection, or lose the
    url_notify callback.  For slow and drop, ``apply`` says whether the
    operation takes effect before the reply is delayed or dropped."""

    kind: str
    operation: str | None = None
    count: int = 1
    seconds: float = 0.0
    apply: bool = True

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(FAULT_KINDS)}")


class Faults:
    def __init__(self) -> None:
        self.pending: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self.pending.append(fault)

    def take(self, kinds: tuple[str, ...], operation: str) -> Fault | None:
        for fault in self.pending:
            if fault.kind in kinds and fault.operation in (None, operation):
                fault.count -= 1
                if fault.count <= 0:
                    self.pending.remove(fault)
                return fault
        return None


def _form(request: Request) -> dict[str, list[str]]:
    args: dict[bytes, list[bytes]] = request.args or {}
    return {k.decode("utf-8", "replace"): [v.decode("utf-8", "replace") for v in vs] for k, vs in args.items()}


class FaxageResource(Resource):
    isLeaf = True
    log = Logger()

    def __init__(self, simulator: FaxageSimulator) -> None:
        super().__init__()
        self.simulator = simulator

    def render_GET(self, request: Request) -> bytes:
        if request.postpath and request.postpath[0] == b"_sim":
            return self.simulator.control(request, {})
        # like PHP reading $_POST: a GET carries no POST variables
        return b"ERR08: Unknown operation specified or bad POST "

    def render_POST(self, request: Request) -> bytes | int:
        sim = self.simulator
        path = b"/".join(request.postpath or [])
        form = _form(request)
        if path.startswith(b"_sim/"):
            return sim.control(request, form)
        if path not in API_PATHS:
            request.setResponseCode(404)
            return b"Not Found"
        sim.requests += 1
        operation = "getcdr" if path == b"getcdr.php" else form.get("operation", [""])[0]
        fault = sim.faults.take(("err01", "http5xx", "slow", "drop"), operation)
        if fault is not None and fault.kind == "err01":
            return b"ERR01: Database connection failed"
        if fault is not None and fault.kind == "http5xx":
            request.setResponseCode(503)
            return b"<html><body>503 Service Unavailable</body></html>"
        if fault is not None and fault.kind == "drop" and not fault.apply:
            _drop(request)
            return NOT_DONE_YET
        reply = sim.sim.handle(path.decode(), form, sim.clock.seconds())
        sim.flush_callbacks()
        if fault is not None and fault.kind == "drop":
            _drop(request)
            return NOT_DONE_YET
        if fault is not None and fault.kind == "slow":
            call = sim.clock.callLater(fault.seconds, self._finish, request, reply)

            def gone(_: Failure) -> None:
                if call.active():
                    call.cancel()

            request.notifyFinish().addErrback(gone)
            return NOT_DONE_YET
        return self._headers(request, reply)

    def _headers(self, request: Request, reply: Reply) -> bytes:
        request.setHeader(b"content-type", reply.content_type.encode())
        if reply.filename:
            request.setHeader(b"content-disposition", f'attachment; filename="{reply.filename}"'.encode())
        return reply.body

    def _finish(self, request: Request, reply: Reply) -> None:
        if request.finished or request.channel is None:
            return
        request.write(self._headers(request, reply))
        request.finish()


def _drop(request: Request) -> None:
    """Close the connection without an answer (the ``drop`` fault)."""
    transport = request.channel.transport if request.channel is not None else None
    abort = getattr(transport, "abortConnection", None)  # a TCP transport
    if abort is not None:
        abort()


class FaxageSimulator:
    """The simulated service: state + faults + web resource + ticker."""

    log = Logger()

    def __init__(
        self,
        sim: FaxageSim,
        reactor: Any,
        *,
        tick: float = 0.1,
        post: Callable[[Callback], Deferred[Any]] | None = None,
    ) -> None:
        self.sim = sim
        self.clock: IReactorTime = reactor
        self.reactor = reactor
        self.faults = Faults()
        self.requests = 0
        self.callbacks_sent: list[Callback] = []
        self.callbacks_lost: list[Callback] = []
        self._post = post or self._agent_post
        self._ticker = task.LoopingCall(self.tick)
        self._ticker.clock = reactor
        self._tick = tick
        self.resource = FaxageResource(self)
        self._agent = Agent(reactor)
        self._cooperator = task.Cooperator(scheduler=lambda f: reactor.callLater(0, f))

    def site(self, access_log: bool = True) -> Site:
        """The twisted.web site; ``access_log=False`` keeps its per-request log lines out
        (the embedded appliance polls it every few seconds)."""
        site = Site(self.resource)
        site.displayTracebacks = False
        if not access_log:
            site.log = lambda request: None  # type: ignore[method-assign]
        return site

    def start(self) -> None:
        self._ticker.start(self._tick, now=False)

    def stop(self) -> None:
        if self._ticker.running:
            self._ticker.stop()

    def tick(self) -> None:
        self.sim.advance(self.clock.seconds())
        self.flush_callbacks()

    def flush_callbacks(self) -> None:
        for callback in self.sim.take_callbacks():
            jobid = dict(callback.fields).get("jobid", "")
            if self.faults.take(("lose_callback",), "sendfax") is not None:
                self.callbacks_lost.append(callback)
                self.log.info("callback for job {jobid} lost (fault)", jobid=jobid)
                continue
            self.callbacks_sent.append(callback)
            self._post(callback).addErrback(self._callback_failed, jobid)

    def _callback_failed(self, failure: Failure, jobid: str) -> None:
        self.log.warn("callback for job {jobid} failed: {why}", jobid=jobid, why=failure.getErrorMessage())

    def _agent_post(self, callback: Callback) -> Deferred[Any]:
        body = urlencode(callback.fields).encode("ascii")
        d = self._agent.request(
            b"POST",
            callback.url.encode("ascii"),
            Headers({b"content-type": [b"application/x-www-form-urlencoded"]}),
            FileBodyProducer(BytesIO(body), cooperator=self._cooperator),
        )
        d.addCallback(_drain)
        return d

    # ------------------------------------------------------------ control API

    def control(self, request: Request, form: dict[str, list[str]]) -> bytes:
        action = (request.postpath or [b"", b""])[-1].decode()
        one = {k: v[0] for k, v in form.items()}
        request.setHeader(b"content-type", b"application/json")
        try:
            if action == "fault":
                self.faults.add(
                    Fault(
                        one["kind"],
                        one.get("operation") or None,
                        int(one.get("count", 1)),
                        float(one.get("seconds", 0)),
                        one.get("apply", "1") == "1",
                    )
                )
                return b'{"ok": true}'
            if action == "inject":
                recvid = self.sim.inject_fax(
                    now=self.clock.seconds(),
                    dnis=one["dnis"],
                    cid=one.get("cid", ""),
                    pagecount=int(one.get("pagecount", 1)),
                    tsid=one.get("tsid", ""),
                )
                return json.dumps({"recvid": recvid}).encode()
            if action == "state":
                return json.dumps(
                    {
                        "jobs": {j.jobid: [j.destnum, j.shortstatus] for j in self.sim.jobs.values()},
                        "faxes": sorted(self.sim.faxes),
                        "requests": self.requests,
                        "callbacks_sent": len(self.callbacks_sent),
                        "callbacks_lost": len(self.callbacks_lost),
                    }
                ).encode()
        except (KeyError, ValueError) as exc:
            request.setResponseCode(400)
            return json.dumps({"error": str(exc)}).encode()
        request.setResponseCode(404)
        return b'{"error": "unknown control action"}'


class _Discard(Protocol):
    def __init__(self) -> None:
        self.done: Deferred[None] = Deferred()

    def connectionLost(self, reason: Any = None) -> None:
        self.done.callback(None)


def _drain(response: Any) -> Deferred[None]:
    sink = _Discard()
    response.deliverBody(sink)
    return sink.done
