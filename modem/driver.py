"""Twisted adapter for the fax session machines: one modem on one serial port.

:class:`ModemProtocol` is an ordinary ``Protocol`` for
``twisted.internet.serialport.SerialPort`` (real devices and ptys).  It moves
bytes between the port and a :mod:`modem.class2` session, turns timer
commands into ``clock.callLater`` calls, honours XOFF/XON from the modem
while it writes page data, and logs.  :class:`modem.supervisor.LineSupervisor`
keeps a line usable (open, probe, re-probe with backoff).

What the line does is reported as events (:mod:`modem.events`) to the
listeners registered with :meth:`ModemProtocol.listen`: ``RING`` and caller
ID while no session runs, a call's progress while a send or receive runs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import replace

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure

from modem import at
from modem import class2 as c2
from modem.events import IdleParser, LineEvent
from modem.pagedata import CodedPage
from modem.params import PageFormat
from modem.progress import CallEvent, CallEventKind

__all__ = [
    "ModemBusyError",
    "ModemError",
    "ModemGoneError",
    "ModemProtocol",
    "ModemUnusableError",
    "SendRefused",
]


# Page data go out at most ``SessionConfig.pace_margin`` times faster than the
# line carries them, after a first burst of this many bytes: a modem buffer
# (+FBS, typically 1-2 KiB) then fills slowly, and its XOFF arrives before the
# buffer overflows.
PACE_BURST = 1024


class ModemError(Exception):
    """Base of the driver's errors; ``device`` names the port."""

    def __init__(self, device: str, message: str) -> None:
        self.device = device
        super().__init__(f"modem {device}: {message}")


class ModemBusyError(ModemError):
    """A probe, send or receive is already running on this modem."""


class ModemGoneError(ModemError):
    """The device is not connected (closed, unplugged, EIO)."""


class SendRefused(ModemError):
    """The send itself cannot be done on any modem (a dial string that is not dial characters,
    no pages); nothing was written to the modem."""


class ModemUnusableError(ModemError):
    """The modem did not behave like a fax modem; carries the last exchange."""

    def __init__(self, device: str, result: c2.SessionResult) -> None:
        self.result = result
        exchange = " | ".join(result.exchange) or "nothing"
        super().__init__(device, f"{result.outcome.value}: {result.detail}; last exchange: {exchange}")


def _describe_failure(reason: Failure) -> str:
    value = reason.value
    return f"{type(value).__name__}: {value}" if value is not None else "connection lost"


class ModemProtocol(Protocol):
    """Drives one session at a time on a connected modem."""

    log = Logger()

    def __init__(
        self,
        clock: IReactorTime,
        device: str,
        config: c2.SessionConfig,
        *,
        chunk_size: int = 256,
    ) -> None:
        self.clock = clock
        self.device = device
        self.config = config
        self.chunk_size = chunk_size
        self.connected_ = False
        self.probe_result: c2.ProbeResult | None = None
        self.on_lost: list[Callable[[str], None]] = []
        self._session: c2.Session | None = None
        self._done: Deferred[c2.SessionResult] | None = None
        self._started = 0.0
        self._timers: dict[c2.TimerName, IDelayedCall] = {}
        self._outq: deque[bytes] = deque()
        self._pace_bps = 0  # page data paced for a line of this rate (0: not paced)
        self._tokens = 0.0  # bytes that may be written now (a bucket of PACE_BURST bytes)
        self._tokens_at = 0.0
        self._pace_call: IDelayedCall | None = None
        self._xoff = False
        self._producer_paused = False
        self._on_page: Callable[[int], None] | None = None
        self._on_event: Callable[[CallEvent], None] | None = None
        self._watching = False  # the running session's progress is reported
        self._listeners: list[Callable[[LineEvent], None]] = []
        self._idle = IdleParser()

    def listen(self, callback: Callable[[LineEvent], None]) -> None:
        """Report every event of this line to ``callback``: RING and caller ID
        while idle, the progress of every send and receive."""
        self._listeners.append(callback)

    # -- Twisted hooks ----------------------------------------------------
    def connectionMade(self) -> None:
        self.connected_ = True
        register = getattr(self.transport, "registerProducer", None)
        if register is not None:
            register(self, True)
        self.log.info("modem {device} connected", device=self.device)

    def dataReceived(self, data: bytes) -> None:
        session = self._session
        if session is None:
            events = self._idle.feed(data)
            if not events:
                self.log.debug("modem {device} idle, ignored {data!r}", device=self.device, data=data[:80])
            for event in events:
                self._notify(event)
            return
        before = session.pages_confirmed if self._on_page is not None else 0
        outputs = session.receive_bytes(data)
        if self._on_page is not None and session.pages_confirmed > before:
            self._page_confirmed(session.pages_confirmed)
        self._progress(session)
        self._execute(outputs)

    def _progress(self, session: c2.Session) -> None:
        """Report the call events ``session`` went through since the last look."""
        if not self._watching:
            return
        for event in session.take_events():
            self._emit(event)

    def _emit(self, event: CallEvent) -> None:
        callback = self._on_event
        if callback is not None:
            try:
                callback(event)
            except Exception:  # a progress observer must not break the call
                self.log.failure("modem {device} event callback failed", device=self.device)
        self._notify(event)

    def _notify(self, event: LineEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a listener must not break the call
                self.log.failure("modem {device} event listener failed", device=self.device)

    def _page_confirmed(self, count: int) -> None:
        callback = self._on_page
        if callback is None:
            return
        try:
            callback(count)
        except Exception:  # a progress observer must not break the call
            self.log.failure("modem {device} page callback failed", device=self.device)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.connected_ = False
        why = _describe_failure(reason)
        self.log.warn("modem {device} lost: {why}", device=self.device, why=why)
        self._outq.clear()
        if self._session is not None:
            self._execute(self._session.device_lost(f"the device went away ({why})"))
        for callback in list(self.on_lost):
            callback(why)

    # IPushProducer, so page data respects the transport's buffer
    def pauseProducing(self) -> None:
        self._producer_paused = True

    def resumeProducing(self) -> None:
        self._producer_paused = False
        self._pump()

    def stopProducing(self) -> None:
        self._outq.clear()

    # -- operations -------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._session is not None

    def probe(self, force_class: c2.FaxClass | None = None) -> Deferred[c2.ProbeResult]:
        """Identify the modem; fails with ModemUnusableError naming the last exchange."""
        d = self._run(c2.ProbeSession(self.config, force_class=force_class))

        def checked(result: c2.SessionResult) -> c2.ProbeResult:
            if not result.ok or result.probe is None:
                if result.outcome is c2.Outcome.DEVICE_GONE:
                    raise ModemGoneError(self.device, result.detail)
                raise ModemUnusableError(self.device, result)
            self.probe_result = result.probe
            self._idle = IdleParser(c2.DIALECTS[result.probe.fax_class])
            return result.probe

        return d.addCallback(checked)

    def send(
        self,
        number: str,
        pages: list[bytes] | list[CodedPage],
        page_format: PageFormat,
        on_page: Callable[[int], None] | None = None,
        *,
        on_event: Callable[[CallEvent], None] | None = None,
        config: c2.SessionConfig | None = None,
    ) -> Deferred[c2.SessionResult]:
        """Send pages to ``number``: T.4 MH data (MSB-first) or :class:`modem.coding.CodedPage`
        (MH, MR and MMR; the coding is chosen with the remote).  Fires with the structured result.

        ``on_page(n)`` is called as soon as the receiver confirmed (MCF) the
        n-th page of this call, before the call goes on; ``on_event`` gets the
        call's progress (:mod:`modem.progress`): dialing, connected, page
        started/confirmed, hangup.  ``config``: this call's settings
        (default: the protocol's)."""
        probe = self._require_probe()
        try:
            session = c2.SendSession(
                c2.DIALECTS[probe.fax_class], config or self.config, number, pages, page_format, caps=probe.caps
            )
        except c2.LocalProtocolError as exc:
            raise SendRefused(self.device, str(exc)) from None
        self._watch(on_event, session)
        d = self._run(session)
        self._on_page = on_page
        if self._session is session:
            self._emit(CallEvent(CallEventKind.DIALING, number=number))
        return d

    def _watch(self, on_event: Callable[[CallEvent], None] | None, session: c2.Session) -> None:
        self._on_event = on_event
        self._watching = on_event is not None or bool(self._listeners)

    def receive(
        self,
        rings: int = 1,
        on_page: Callable[[int], None] | None = None,
        *,
        on_event: Callable[[CallEvent], None] | None = None,
        config: c2.SessionConfig | None = None,
    ) -> Deferred[c2.SessionResult]:
        """Wait for a call, answer after ``rings`` rings, receive; fires with the result.

        ``on_page(n)`` is called when the n-th page was received good, before
        the modem is told to confirm it (MCF) to the sender.  ``config``: this
        call's settings (default: the protocol's)."""
        probe = self._require_probe()
        session = c2.ReceiveSession(c2.DIALECTS[probe.fax_class], config or self.config, rings=rings, caps=probe.caps)
        self._watch(on_event, session)
        d = self._run(session)
        self._on_page = on_page
        return d

    @property
    def session(self) -> c2.Session | None:
        """The session running now (read-only use: its remote id, post-page message …)."""
        return self._session

    def cancel(self, detail: str = "cancelled") -> None:
        """Abort the running session (it still reports its result)."""
        if self._session is not None:
            self._execute(self._session.cancel(detail))

    def _require_probe(self) -> c2.ProbeResult:
        if self.probe_result is None:
            raise ModemError(self.device, "probe the modem before sending or receiving")
        return self.probe_result

    def _run(self, session: c2.Session) -> Deferred[c2.SessionResult]:
        if not self.connected_:
            raise ModemGoneError(self.device, "the device is not connected")
        if self._session is not None:
            raise ModemBusyError(self.device, f"busy with a {type(self._session).__name__}")
        self._session = session
        self._done = Deferred()
        self._started = self.clock.seconds()
        self._xoff = False
        self._idle.reset()
        done = self._done
        self._execute(session.start())
        return done

    # -- executing the core's outputs -------------------------------------
    def _execute(self, outputs: list[c2.Output]) -> None:
        for out in outputs:
            if isinstance(out, c2.WriteAT):
                self.log.debug("modem {device} > {command}", device=self.device, command=out.command)
                self._write(out.command.encode("latin-1") + b"\r")
            elif isinstance(out, c2.WriteData):
                self._write_data(out.data, out.pace_bps)
            elif isinstance(out, c2.StartTimer):
                self._cancel_timer(out.name)
                self._timers[out.name] = self.clock.callLater(out.seconds, self._timer_fired, out.name)
            elif isinstance(out, c2.CancelTimer):
                self._cancel_timer(out.name)
            elif isinstance(out, c2.Flow):
                self._xoff = out.paused
                if not out.paused:
                    self._pump()
            elif isinstance(out, c2.SessionDone):
                self._finish(out.result)

    def _write(self, data: bytes) -> None:
        if self.connected_ and self.transport is not None:
            self.transport.write(data)

    def _write_data(self, data: bytes, pace_bps: int = 0) -> None:
        if data == bytes([at.CAN]):
            self._outq.clear()  # abort: drop queued page data, CAN goes first
            self._stop_pacing()
            self._write(data)
            return
        if pace_bps and self.config.pace_margin > 0:
            self._pace_bps = pace_bps
            self._tokens, self._tokens_at = PACE_BURST, self.clock.seconds()
        for i in range(0, len(data), self.chunk_size):
            self._outq.append(data[i : i + self.chunk_size])
        self._pump()

    def _pump(self) -> None:
        """Write queued page data unless the modem said XOFF, the transport is full,
        or (paced) the data would run too far ahead of the line."""
        self._pace_call = None
        while self._outq and not self._xoff and not self._producer_paused and self.connected_:
            if self._pace_bps:
                now = self.clock.seconds()
                rate = self._pace_bps / 8 * self.config.pace_margin
                self._tokens = min(PACE_BURST, self._tokens + (now - self._tokens_at) * rate)
                self._tokens_at = now
                if self._tokens < len(self._outq[0]) - 1e-6:  # (a rounding short is no wait: the
                    # wait would not move a simulated clock and the pump would spin)
                    wait = (len(self._outq[0]) - self._tokens) / rate
                    self._pace_call = self.clock.callLater(wait, self._pump)
                    return
                self._tokens -= len(self._outq[0])
            self._write(self._outq.popleft())
        if not self._outq:
            self._pace_bps = 0

    def _stop_pacing(self) -> None:
        self._pace_bps = 0
        call, self._pace_call = self._pace_call, None
        if call is not None and call.active():
            call.cancel()

    def _timer_fired(self, name: c2.TimerName) -> None:
        self._timers.pop(name, None)
        session = self._session
        if session is not None:
            self.log.info("modem {device} timer {timer} expired", device=self.device, timer=name)
            outputs = session.timer_expired(name)
            self._progress(session)
            self._execute(outputs)

    def _cancel_timer(self, name: c2.TimerName) -> None:
        call = self._timers.pop(name, None)
        if call is not None and call.active():
            call.cancel()

    def _finish(self, result: c2.SessionResult) -> None:
        for name in list(self._timers):
            self._cancel_timer(name)
        self._stop_pacing()
        self._outq.clear()
        result = replace(result, duration_s=self.clock.seconds() - self._started)
        session, done, self._done, self._session = self._session, self._done, None, None
        if session is not None and self._watching:
            self._progress(session)
            if not session.hangup_reported:  # ended without a hangup report (cancelled, device gone, …)
                hangup = result.hangup
                self._emit(
                    CallEvent(
                        CallEventKind.HANGUP,
                        hangup_code=hangup.wire if hangup else "",
                        hangup_text=hangup.meaning if hangup else result.detail,
                    )
                )
        self._on_page = None
        self._on_event, self._watching = None, False
        self._idle.reset()
        self.log.info(
            "modem {device} session done: {outcome} ({detail!r}), {pages} page(s), hangup {hangup}",
            device=self.device,
            outcome=result.outcome.value,
            detail=result.detail,
            pages=result.pages_confirmed,
            hangup=str(result.hangup) if result.hangup else None,
        )
        if done is not None:
            done.callback(result)
