"""Doubles for the routers' seams: the line pool (calls the test ends with a
chosen session result), the port-server role (answers chosen per test, every
Start and Stop recorded) and the FAXAGE client behind :class:`CloudRoute`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.interfaces import IReactorTime

from appliance.cloud.records import JobSubmitted, ShortStatus, StatusRecord
from appliance.config import LineConfig
from appliance.lines import LineUnavailable
from appliance.portserver import Cdr, ReceiveRoute, SendAuthorization, Session
from appliance.progress import LiveCall
from modem import class2 as c2
from modem.params import PageFormat


@dataclass
class LineCall:
    """One call on a fake line, ended by the test (``end``)."""

    line: str
    direction: str
    number: str
    pages: list[Any]
    local_id: str = ""
    first_page: int = 0
    on_page: Callable[[int], None] | None = None
    deferred: Deferred[c2.SessionResult] = field(default_factory=Deferred)

    def end(self, result: c2.SessionResult) -> None:
        for n in range(1, result.pages_confirmed + 1):
            if self.on_page is not None:
                self.on_page(n)
        self.deferred.callback(result)


class FakeLines:
    """Lines by name, each idle or in one call.  A line whose calls failed
    ``rest_after`` times in a row by its own fault rests ``rest_seconds``, as
    ``[routing] overflow_after_failures`` / ``line_rest_seconds`` say."""

    def __init__(
        self, clock: IReactorTime, lines: Sequence[LineConfig], *, rest_after: int = 2, rest_seconds: float = 300.0
    ) -> None:
        self.clock = clock
        self.configs = {line.name: line for line in lines}
        self.rest_after = rest_after
        self.rest_seconds = rest_seconds
        self.running = True
        self.calls: list[LineCall] = []
        self.faults: list[tuple[str, bool]] = []  # (line, line_fault) as the router reported them
        self.ignored: list[str] = []
        self._in_a_row = dict.fromkeys(self.configs, 0)
        self._resting_until: dict[str, float] = {}

    def busy(self, name: str) -> bool:
        return any(c.line == name and not c.deferred.called for c in self.calls)

    def free_lines(self) -> list[str]:
        now = self.clock.seconds()
        free = [
            n
            for n, cfg in self.configs.items()
            if cfg.sends and not self.busy(n) and self._resting_until.get(n, 0.0) <= now
        ]
        return sorted(free, key=lambda n: self._in_a_row[n])

    def config(self, name: str) -> LineConfig:
        return self.configs[name]

    def send(
        self,
        name: str,
        number: str,
        pages: list[Any],
        page_format: PageFormat,
        local_id: str = "",
        on_page: Callable[[int], None] | None = None,
        *,
        job: str = "",
        first_page: int = 0,
        pages_total: int = 0,
    ) -> Deferred[c2.SessionResult]:
        if self.busy(name):
            return fail(LineUnavailable(f"line {name} cannot send now"))
        call = LineCall(name, "send", number, pages, local_id, first_page, on_page)
        self.calls.append(call)
        return call.deferred

    def record_failure(self, name: str, line_fault: bool, why: str = "") -> None:
        self.faults.append((name, line_fault))
        self._in_a_row[name] = self._in_a_row[name] + 1 if line_fault else 0
        if self._in_a_row[name] >= self.rest_after:
            self._resting_until[name] = self.clock.seconds() + self.rest_seconds

    def call(self, name: str) -> LiveCall | None:
        calls = [c for c in self.calls if c.line == name]
        return LiveCall(calls[-1].direction, calls[-1].number) if calls else None

    def receive(self, name: str, recipient: str = "") -> Deferred[c2.SessionResult]:
        if self.busy(name):
            return fail(LineUnavailable(f"line {name} cannot answer now"))
        call = LineCall(name, "receive", recipient, [])
        self.calls.append(call)
        return call.deferred

    def ignore_call(self, name: str) -> None:
        self.ignored.append(name)

    def open_calls(self) -> list[LineCall]:
        return [c for c in self.calls if not c.deferred.called]


class FakePortServer:
    """The port-server role's answers, chosen per test; every Start and Stop recorded."""

    def __init__(self) -> None:
        self.send_reply = SendAuthorization(True, "acme", "")
        self.routes: dict[str, ReceiveRoute] = {}
        self.starts: list[Session] = []
        self.stops: list[tuple[Session, Cdr, bool]] = []
        self.start_ack = True

    def authorize_send(self, account: str, number: str, session_id: str) -> Deferred[SendAuthorization]:
        return succeed(self.send_reply)

    def route_receive(self, did: str, session_id: str) -> Deferred[ReceiveRoute]:
        return succeed(self.routes.get(did, ReceiveRoute(False, did, f"DID {did} is not known")))

    def start(self, session: Session) -> Deferred[bool]:
        self.starts.append(session)
        return succeed(self.start_ack)

    def stop(self, session: Session, cdr: Cdr, *, resend_start: bool = False) -> Deferred[bool]:
        self.stops.append((session, cdr, resend_start))
        return succeed(True)


class FakeFaxage:
    """``sendfax`` of :class:`appliance.cloud.client.TwistedFaxage`: each fax gets the next job id."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def sendfax(self, number: str, name: str, files: list[tuple[str, bytes]], **options: Any) -> Deferred[Any]:
        self.sent.append((number, options))
        return succeed(JobSubmitted(jobid=1000 + len(self.sent)))


def final_status(jobid: int, short: ShortStatus = ShortStatus.SUCCESS, pages: int = 1) -> StatusRecord:
    return StatusRecord(
        jobid=jobid,
        commid="1",
        destname="",
        destnum="5550101",
        shortstatus=short,
        longstatus="Success" if short is ShortStatus.SUCCESS else "No answer",
        sendtime="",
        completetime="",
        xmittime="",
        xmitpages=pages,
        csid="REMOTE",
    )
