"""The line pool: the appliance's fax modems, their state and statistics.

Each ``[[lines]]`` entry is a modem kept usable by a
:class:`modem.supervisor.LineSupervisor` (open, probe, re-probe with backoff when
the device goes away).  The pool tracks what every line is doing (``idle``,
``dialing``, ``sending``, ``receiving``, ``offline``), counts calls and pages,
and rests a line that failed ``rest_after`` times in a row, so outbound work
overflows to other lines or the cloud.

The pool listens to every line's events (:mod:`modem.events`): a call's
progress (dialing, connected, pages, hangup) is kept in the line's live
state, and a ``RING`` while the line is idle on a line that receives is
handed to ``on_ring(line_name)`` (the inbound router), which decides
whether to answer (:meth:`LinePool.receive`) or to let it ring
(:meth:`LinePool.ignore_call`).  The modem layer parses the modem's output;
the pool never looks at bytes.

The web API reads :meth:`LinePool.status`: one :class:`LineSnapshot` per
line (the web service turns them into its FaxFinder-shaped
:class:`appliance.web.deps.LineStatus` records).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from twisted.application import service
from twisted.internet.defer import Deferred, fail
from twisted.internet.interfaces import IReactorCore, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from appliance.config import LineClass, LineConfig, LineDirection
from appliance.progress import CallDirection, CallPhase, LiveCall, apply, page_line
from modem import class2 as c2
from modem.coding import CodedPage
from modem.driver import ModemError, ModemProtocol, SendRefused
from modem.events import LineEvent, Ring
from modem.params import PageFormat
from modem.progress import CallEvent, CallEventKind
from modem.supervisor import LineState, LineSupervisor, OpenPort, open_serial

__all__ = ["LineActivity", "LinePool", "LineSnapshot", "LineStats", "LineUnavailable", "OpenPortFactory"]

#: a RING after this many seconds of silence starts a new call
RING_GAP_SECONDS = 15.0


class LineActivity(enum.StrEnum):
    IDLE = "idle"
    DIALING = "dialing"
    SENDING = "sending"
    RECEIVING = "receiving"
    OFFLINE = "offline"


class LineUnavailable(Exception):
    """The line cannot take a call now (offline, busy, or unknown)."""


@dataclass
class LineStats:
    sends: int = 0
    sends_ok: int = 0
    receives: int = 0
    receives_ok: int = 0
    pages_sent: int = 0
    pages_received: int = 0
    refused_calls: int = 0
    consecutive_failures: int = 0
    last_error: str = ""


@dataclass(frozen=True)
class LineSnapshot:
    """One line's state and statistics at a moment, as ``faxappliance status`` shows it
    (the web API's line records are made from it)."""

    name: str
    device: str
    did: str
    direction: LineDirection
    state: LineActivity
    since: float
    resting_until: float | None
    stats: LineStats = field(default_factory=LineStats)
    call: LiveCall | None = None  # the call under way (or the last one, ended)

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "device": self.device,
            "did": self.did,
            "direction": self.direction,
            "state": self.state,
            "since": self.since,
            "resting_until": self.resting_until,
            "stats": dict(self.stats.__dict__),
            "call": self.call.to_json() if self.call else None,
        }


class _Line:
    def __init__(self, config: LineConfig, device: str) -> None:
        self.config = config
        self.device = device
        self.supervisor: LineSupervisor | None = None
        self.activity = LineActivity.OFFLINE
        self.since = 0.0
        self.stats = LineStats()
        self.reserved = False  # an incoming call is being routed
        self.resting_until: float | None = None
        self.last_ring = -1e9
        self.ignoring = False
        self.call: LiveCall | None = None

    @property
    def protocol(self) -> ModemProtocol | None:
        sup = self.supervisor
        if sup is None or sup.state is not LineState.ONLINE:
            return None
        return sup.protocol


#: how the pool opens a line: ``(line config, device path) -> OpenPort``
OpenPortFactory = Callable[[LineConfig, str], OpenPort]


def serial_opener(reactor: IReactorCore) -> OpenPortFactory:
    """Opens each line's device with ``SerialPort`` at the line's speed."""

    def factory(config: LineConfig, device: str) -> OpenPort:
        return open_serial(reactor, baudrate=config.speed)

    return factory


class LinePool(service.Service):
    """The appliance's lines; see the module docstring."""

    log = Logger()

    def __init__(
        self,
        clock: IReactorTime,
        lines: Sequence[LineConfig],
        open_factory: OpenPortFactory,
        *,
        devices: dict[str, str] | None = None,
        rest_after: int = 3,
        rest_seconds: float = 300.0,
        on_ring: Callable[[str], None] | None = None,
        backoff_max: float = 30.0,
        timers: c2.Timers | None = None,
    ) -> None:
        self.clock = clock
        self.open_factory = open_factory
        self.rest_after = rest_after
        self.rest_seconds = rest_seconds
        self.on_ring = on_ring
        self.backoff_max = backoff_max
        self.timers = timers or c2.Timers()
        self.on_call_event: Callable[[], None] | None = None  # a call's live state changed
        devices = devices or {}
        self._lines: dict[str, _Line] = {}
        for cfg in lines:
            device = devices.get(cfg.name, cfg.device)
            if device == "sim":
                raise ValueError(f"line {cfg.name} is simulated but no simulated device was given")
            self._lines[cfg.name] = _Line(cfg, device)

    # ------------------------------------------------------------ lifetime
    def startService(self) -> None:
        super().startService()
        for line in self._lines.values():
            self._start_line(line)

    def stopService(self) -> None:
        super().stopService()
        for line in self._lines.values():
            if line.supervisor is not None:
                proto = line.supervisor.protocol
                if proto is not None and proto.busy:
                    proto.cancel("the appliance is stopping")
                line.supervisor.stop()

    def _start_line(self, line: _Line) -> None:
        cfg = line.config
        session = c2.SessionConfig(init_strings=cfg.init, local_id=cfg.tsid, timers=self.timers)
        force = None if cfg.fax_class is LineClass.AUTO else c2.FaxClass(cfg.fax_class.value)
        sup = LineSupervisor(
            self.clock,
            line.device,
            session,
            self.open_factory(cfg, line.device),
            backoff_initial=1.0,
            backoff_max=self.backoff_max,
            force_class=force,
        )
        sup.watch(lambda state: self._supervisor_state(line, state))
        sup.listen(lambda event: self._line_event(line, event))
        line.supervisor = sup
        line.since = self.clock.seconds()
        sup.start()

    def _supervisor_state(self, line: _Line, state: LineState) -> None:
        if state is LineState.ONLINE:
            self._set(line, LineActivity.IDLE)
        elif state in (LineState.OFFLINE, LineState.STOPPED):
            if line.supervisor is not None and line.supervisor.last_error:
                line.stats.last_error = line.supervisor.last_error
            self._set(line, LineActivity.OFFLINE)

    def _set(self, line: _Line, activity: LineActivity) -> None:
        if line.activity is not activity:
            line.activity = activity
            line.since = self.clock.seconds()

    # ------------------------------------------------------------- queries
    @property
    def names(self) -> list[str]:
        return list(self._lines)

    def config(self, name: str) -> LineConfig:
        return self._lines[name].config

    def free_lines(self) -> list[str]:
        """Lines that can send now; lines that failed recently last."""
        now = self.clock.seconds()
        free = []
        for name, line in self._lines.items():
            if not line.config.sends or line.reserved or line.activity is not LineActivity.IDLE:
                continue
            if line.resting_until is not None:
                if now < line.resting_until:
                    continue
                line.resting_until = None
            proto = line.protocol
            if proto is None or proto.busy:
                continue
            free.append(name)
        return sorted(free, key=lambda n: self._lines[n].stats.consecutive_failures)

    def status(self) -> list[LineSnapshot]:
        """Every line's state and statistics (a snapshot)."""
        return [
            LineSnapshot(
                name,
                line.device,
                line.config.did,
                line.config.direction,
                line.activity,
                line.since,
                line.resting_until,
                replace(line.stats),
                line.call,
            )
            for name, line in self._lines.items()
        ]

    def call(self, name: str) -> LiveCall | None:
        """The live state of the call on ``name`` (the last call once it ended)."""
        line = self._lines.get(name)
        return line.call if line is not None else None

    def _line_event(self, line: _Line, event: LineEvent) -> None:
        """What the modem layer reported for ``line``."""
        if isinstance(event, Ring):
            self._ring(line)
        elif isinstance(event, CallEvent):
            self._call_event(line, event)

    def _call_event(self, line: _Line, event: CallEvent) -> None:
        """A call event of ``line``: kept in its live state; one log line per page."""
        if line.call is None:
            return
        line.call = apply(line.call, event, self.clock.seconds())
        if event.kind is CallEventKind.CONNECTED and line.activity is LineActivity.DIALING:
            self._set(line, LineActivity.SENDING)
        text = page_line(line.config.name, line.call, event)
        if text is not None:
            self.log.info("{text}", text=text)
        if self.on_call_event is not None:
            self.on_call_event()

    # --------------------------------------------------------------- calls
    def send(
        self,
        name: str,
        number: str,
        pages: list[bytes] | list[CodedPage],
        page_format: PageFormat,
        local_id: str = "",
        on_page: Callable[[int], None] | None = None,
        *,
        job: str = "",
        first_page: int = 0,
        pages_total: int = 0,
    ) -> Deferred[c2.SessionResult]:
        """Send ``pages`` to ``number`` on line ``name``; fires with the session result.
        ``on_page(n)``: the receiver confirmed the n-th page of this call.  The
        call's progress is kept in the line's live state (``status()``);
        ``first_page`` pages of the fax were sent by earlier tries."""
        line = self._lines.get(name)
        proto = line.protocol if line is not None else None
        if line is None or proto is None or proto.busy or line.reserved:
            return fail(LineUnavailable(f"line {name} cannot send now"))
        config = replace(proto.config, local_id=local_id[:20]) if local_id else proto.config
        line.stats.sends += 1
        self._set(line, LineActivity.DIALING)
        line.call = LiveCall(
            CallDirection.SEND,
            number,
            self.clock.seconds(),
            first_page=first_page,
            pages_total=pages_total or first_page + len(pages),
            job=job,
        )
        try:
            d = proto.send(number, pages, page_format, on_page, config=config)
        except ModemError as exc:
            self._set(line, LineActivity.IDLE if line.protocol else LineActivity.OFFLINE)
            return fail(exc if isinstance(exc, SendRefused) else LineUnavailable(str(exc)))

        def done(result: c2.SessionResult) -> c2.SessionResult:
            line.stats.pages_sent += result.pages_confirmed
            if result.ok:
                line.stats.sends_ok += 1
            self._idle_again(line)
            return result

        return d.addCallback(done)

    def record_failure(self, name: str, line_fault: bool, why: str = "") -> None:
        """Count an attempt's outcome against the line (``line_fault``: the line's own failure)."""
        line = self._lines.get(name)
        if line is None:
            return
        if not line_fault:
            line.stats.consecutive_failures = 0
            return
        line.stats.consecutive_failures += 1
        line.stats.last_error = why
        if self.rest_after and line.stats.consecutive_failures >= self.rest_after:
            line.resting_until = self.clock.seconds() + self.rest_seconds
            self.log.warn(
                "line {line} failed {count} times in a row; resting it for {seconds} s",
                line=name,
                count=line.stats.consecutive_failures,
                seconds=self.rest_seconds,
            )

    def reserve(self, name: str) -> bool:
        """Hold an idle line for an incoming call being routed."""
        line = self._lines[name]
        if line.reserved or line.activity is not LineActivity.IDLE:
            return False
        line.reserved = True
        return True

    def ignore_call(self, name: str) -> None:
        """Do not answer the call ringing on ``name`` (its next RINGs are ignored)."""
        line = self._lines[name]
        line.reserved = False
        line.ignoring = True
        line.stats.refused_calls += 1

    def receive(self, name: str, recipient: str = "") -> Deferred[c2.SessionResult]:
        """Answer the call ringing on a reserved line and receive the fax (for the account ``recipient``)."""
        line = self._lines[name]
        proto = line.protocol
        if proto is None or proto.busy:
            line.reserved = False
            return fail(LineUnavailable(f"line {name} cannot answer now"))
        line.stats.receives += 1
        self._set(line, LineActivity.RECEIVING)
        # the call rang already; if it stops ringing, give up after the ring gap
        config = replace(proto.config, timers=replace(proto.config.timers, wait_call=RING_GAP_SECONDS))
        line.call = LiveCall(
            CallDirection.RECEIVE, line.config.did, self.clock.seconds(), phase=CallPhase.CONNECTED, recipient=recipient
        )
        try:
            d = proto.receive(1, config=config)
        except ModemError as exc:
            line.reserved = False
            self._idle_again(line)
            return fail(LineUnavailable(str(exc)))

        def done(result: c2.SessionResult) -> c2.SessionResult:
            line.reserved = False
            line.stats.pages_received += len(result.received)
            if result.ok:
                line.stats.receives_ok += 1
            self._idle_again(line)
            return result

        def failed(failure: Failure) -> Failure:
            line.reserved = False
            self._idle_again(line)
            return failure

        return d.addCallbacks(done, failed)

    def _idle_again(self, line: _Line) -> None:
        self._set(line, LineActivity.IDLE if line.protocol is not None else LineActivity.OFFLINE)

    # ------------------------------------------------------ incoming calls
    def _ring(self, line: _Line) -> None:
        """A RING while the modem is idle (the modem layer reports none while a session runs)."""
        if line.activity is not LineActivity.IDLE:
            return
        now = self.clock.seconds()
        gap = now - line.last_ring
        line.last_ring = now
        if line.ignoring and gap < RING_GAP_SECONDS:
            return
        line.ignoring = False
        if not line.config.receives:
            line.ignoring = True
            return
        if line.reserved or self.on_ring is None:
            return
        name = line.config.name
        if self.reserve(name):
            self.on_ring(name)
