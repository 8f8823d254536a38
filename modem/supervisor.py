"""Keeping a modem line usable: open, probe, watch, re-probe with backoff.

:class:`LineSupervisor` opens and probes the device through a
:class:`modem.driver.ModemProtocol`, marks the line offline when the device
disappears (EIO, unplugged → ``connectionLost``) and re-probes with
exponential backoff.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from functools import partial
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from modem import class2 as c2
from modem.driver import ModemProtocol
from modem.events import LineEvent

__all__ = ["LineState", "LineSupervisor", "OpenPort", "open_serial"]


class LineState(Enum):
    OFFLINE = "offline"
    PROBING = "probing"
    ONLINE = "online"
    STOPPED = "stopped"


OpenPort = Callable[[ModemProtocol], Any]


def open_serial(reactor: Any, *, baudrate: int = 19200) -> OpenPort:
    """An ``OpenPort`` that opens the device with ``twisted.internet.serialport.SerialPort``.

    Kernel XON/XOFF stays off (received page data may hold 0x11/0x13); the
    driver honours the modem's XOFF itself.  RTS/CTS is handed to the port.
    """
    from twisted.internet.serialport import SerialPort

    def open_port(protocol: ModemProtocol) -> Any:
        rtscts = protocol.config.flow is c2.FlowControl.RTSCTS
        return SerialPort(protocol, protocol.device, reactor, baudrate=baudrate, rtscts=rtscts, xonxoff=False)

    return open_port


class LineSupervisor:
    """Open, probe and watch one modem; re-probe with backoff after it vanishes."""

    log = Logger()

    def __init__(
        self,
        clock: IReactorTime,
        device: str,
        config: c2.SessionConfig,
        open_port: OpenPort,
        *,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        force_class: c2.FaxClass | None = None,
    ) -> None:
        self.clock = clock
        self.device = device
        self.config = config
        self.open_port = open_port
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.force_class = force_class
        self.state = LineState.OFFLINE
        self.protocol: ModemProtocol | None = None
        self.last_error = ""
        self.attempts = 0
        self._delay = backoff_initial
        self._retry: IDelayedCall | None = None
        self._transport: Any = None
        self._watchers: list[Callable[[LineState], None]] = []
        self._listeners: list[Callable[[LineEvent], None]] = []
        self._online_waiters: list[Deferred[ModemProtocol]] = []

    def watch(self, callback: Callable[[LineState], None]) -> None:
        """Tell ``callback`` every state change of the line."""
        self._watchers.append(callback)

    def listen(self, callback: Callable[[LineEvent], None]) -> None:
        """Report the line's events (:mod:`modem.events`) to ``callback``, whichever
        protocol instance currently drives the device."""
        self._listeners.append(callback)
        if self.protocol is not None:
            self.protocol.listen(callback)

    def when_online(self) -> Deferred[ModemProtocol]:
        if self.state is LineState.ONLINE and self.protocol is not None:
            return succeed(self.protocol)
        d: Deferred[ModemProtocol] = Deferred()
        self._online_waiters.append(d)
        return d

    def start(self) -> None:
        if self.state is LineState.STOPPED:
            self.state = LineState.OFFLINE
        self._attempt()

    def stop(self) -> None:
        self._set(LineState.STOPPED)
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        self._retry = None
        self._close()

    # -- internals ----------------------------------------------------------
    def _set(self, state: LineState) -> None:
        if state is self.state:
            return
        self.state = state
        self.log.info("line {device} is {state}", device=self.device, state=state.value)
        for callback in list(self._watchers):
            callback(state)
        if state is LineState.ONLINE and self.protocol is not None:
            waiters, self._online_waiters = self._online_waiters, []
            for d in waiters:
                d.callback(self.protocol)

    def _attempt(self) -> None:
        self._retry = None
        if self.state is LineState.STOPPED:
            return
        self.attempts += 1
        protocol = ModemProtocol(self.clock, self.device, self.config)
        protocol.on_lost.append(partial(self._lost, protocol))
        for listener in self._listeners:
            protocol.listen(listener)
        self.protocol = protocol
        self._set(LineState.PROBING)
        try:
            self._transport = self.open_port(protocol)
        except Exception as exc:  # serial.SerialException, OSError: the device is not there
            self.protocol = None
            self._offline(f"cannot open: {exc}")
            return
        protocol.probe(self.force_class).addCallbacks(self._probed, self._probe_failed, errbackArgs=(protocol,))

    def _probed(self, result: c2.ProbeResult) -> None:
        self._delay = self.backoff_initial
        self.last_error = ""
        self._set(LineState.ONLINE)

    def _probe_failed(self, failure: Failure, protocol: ModemProtocol) -> None:
        if self.protocol is not protocol:
            return
        self._close()
        self._offline(str(failure.value))

    def _lost(self, protocol: ModemProtocol, why: str) -> None:
        if self.protocol is not protocol or self.state is LineState.STOPPED:
            return
        self._transport = None
        self._offline(f"device lost: {why}")

    def _offline(self, why: str) -> None:
        self.last_error = why
        self.protocol = None
        if self.state is LineState.STOPPED:
            return
        self._set(LineState.OFFLINE)
        self.log.warn(
            "line {device} offline ({why}); probing again in {delay_s} s",
            device=self.device,
            why=why,
            delay_s=self._delay,
        )
        if self._retry is None:
            self._retry = self.clock.callLater(self._delay, self._attempt)
        self._delay = min(self._delay * 2, self.backoff_max)

    def _close(self) -> None:
        transport, self._transport = self._transport, None
        protocol = self.protocol
        if protocol is not None:
            protocol.on_lost.clear()
        if transport is not None:
            transport.loseConnection()
