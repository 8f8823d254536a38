"""Twisted adapter: simulated fax modems on real ptys, joined by the network.

:class:`Exchange` carries out what the pure cores ask for: it writes modem
output to the DTE side, runs timers on the injected reactor (a
``task.Clock`` in tests) and passes line actions through the
:class:`~hwsim.pstn.Network` to the other modems.  :class:`PtyPort` is one
pty master read and written through the reactor; its slave side is what
efax, sendfax, pyserial or our driver open, through a symlink
``PREFIX<i>``.  We keep the slave open ourselves so the master never sees
EIO between clients; the slave is put in raw mode.

:func:`start_lines` builds all of it: ``start_lines(reactor, count=2)``.
"""

from __future__ import annotations

import os
import tty
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from twisted.internet import abstract
from twisted.internet.interfaces import IDelayedCall, IReactorFDSet, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from ._t30 import DEFAULT_T30
from .faults import FaultPlan
from .line import LineEvent, PageData, ToLine
from .modem import CancelTimer, ModemConfig, Output, SimModem, StartTimer, ToDTE
from .pstn import Network

DEFAULT_FIRST_NUMBER = 5550001


class Exchange:
    """Runs modems and the network on a reactor; DTE I/O through callbacks."""

    log = Logger()

    def __init__(self, clock: IReactorTime, network: Network) -> None:
        self.clock = clock
        self.network = network
        self.modems: dict[str, SimModem] = {}
        self._writers: dict[str, Callable[[bytes], None]] = {}
        self._timers: dict[tuple[str, str], IDelayedCall] = {}
        self._queue: deque[tuple[str, LineEvent]] = deque()
        self._draining = False

    def add_modem(self, modem: SimModem, write: Callable[[bytes], None]) -> None:
        """Connect a modem to the network and to its DTE writer."""
        self.network.add_line(modem.number)
        self.modems[modem.number] = modem
        self._writers[modem.number] = write

    def dte_input(self, number: str, data: bytes) -> None:
        """Bytes the DTE wrote to the modem on line ``number``."""
        self._run(number, self.modems[number].feed_dte(data))

    def stop(self) -> None:
        """Cancel every timer."""
        for call in self._timers.values():
            if call.active():
                call.cancel()
        self._timers.clear()

    def _fire(self, number: str, name: str) -> None:
        self._timers.pop((number, name), None)
        self._run(number, self.modems[number].timer_expired(name))

    def _run(self, number: str, outputs: Sequence[Output]) -> None:
        self._carry_out(number, outputs)
        if self._draining:
            return
        self._draining = True
        try:
            while self._queue:
                target, event = self._queue.popleft()
                self._carry_out(target, self.modems[target].line_event(event))
        finally:
            self._draining = False

    def _carry_out(self, number: str, outputs: Sequence[Output]) -> None:
        for output in outputs:
            if isinstance(output, ToDTE):
                self._writers[number](output.data)
            elif isinstance(output, StartTimer):
                self._cancel(number, output.name)
                self._timers[(number, output.name)] = self.clock.callLater(
                    output.seconds, self._fire, number, output.name
                )
            elif isinstance(output, CancelTimer):
                self._cancel(number, output.name)
            else:
                if not (isinstance(output, ToLine) and isinstance(output.signal, PageData)):
                    self.log.debug("line {number}: {action}", number=number, action=type(output).__name__)
                for delivery in self.network.handle(number, output):
                    self._queue.append((delivery.number, delivery.event))

    def _cancel(self, number: str, name: str) -> None:
        call = self._timers.pop((number, name), None)
        if call is not None and call.active():
            call.cancel()


class PtyPort(abstract.FileDescriptor):
    """The master side of one pty, read and written through the reactor."""

    log = Logger()

    def __init__(self, reactor: IReactorFDSet, number: str, deliver: Callable[[str, bytes], None]) -> None:
        super().__init__(reactor)
        self.number = number
        self._deliver = deliver
        self.master_fd, self.slave_fd = os.openpty()
        tty.setraw(self.slave_fd)
        os.set_blocking(self.master_fd, False)
        self.device = os.ttyname(self.slave_fd)
        self.connected = 1

    def fileno(self) -> int:
        """The master fd (-1 once closed)."""
        return self.master_fd

    def start(self) -> None:
        """Begin reading from the DTE."""
        self.startReading()

    def doRead(self) -> None:
        """Bytes from the DTE."""
        try:
            data = os.read(self.master_fd, 65536)
        except BlockingIOError:
            return
        except OSError as exc:
            self.log.warn("pty {device} read failed: {error}", device=self.device, error=exc.strerror)
            return
        if data:
            self._deliver(self.number, data)

    def writeSomeData(self, data: bytes) -> int:
        """Write to the DTE; returns how much went out."""
        try:
            return os.write(self.master_fd, data)
        except BlockingIOError:
            return 0

    def close(self) -> None:
        """Stop and close both fds."""
        self.stopReading()
        self.stopWriting()
        for fd in (self.master_fd, self.slave_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        self.master_fd = self.slave_fd = -1
        self.connected = 0

    def connectionLost(self, reason: Failure) -> None:
        """Twisted calls this when the descriptor goes away."""
        self.close()


@dataclass(frozen=True)
class LineInfo:
    """One simulated line as people and tests see it."""

    number: str
    device: str  # /dev/pts/N
    link: str | None  # PREFIX<i> symlink, if made


@dataclass
class Lines:
    """Running simulated lines; ``stop()`` tears them down."""

    exchange: Exchange
    lines: list[LineInfo]
    ports: list[PtyPort] = field(default_factory=list)

    def stop(self) -> None:
        """Close the ptys, remove the links, cancel timers."""
        self.exchange.stop()
        for port in self.ports:
            port.close()
        for line in self.lines:
            if line.link and os.path.islink(line.link):
                os.unlink(line.link)


def default_numbers(count: int) -> list[str]:
    """5550001, 5550002, ... for ``count`` lines."""
    return [str(DEFAULT_FIRST_NUMBER + i) for i in range(count)]


def start_lines(
    reactor: IReactorTime,
    count: int,
    *,
    numbers: Sequence[str] | None = None,
    link_prefix: str | None = None,
    fax_class: str = "2.0",
    faults: FaultPlan | None = None,
    fast: bool = False,
    t30: bool = False,
    time_scale: float = 1.0,
    config: ModemConfig | None = None,
) -> Lines:
    """Create ``count`` simulated lines on ptys; line i gets ``numbers[i]``.

    ``link_prefix`` makes ``PREFIX<i>`` symlinks to the pty devices (an
    existing symlink there is replaced; any other file is an error).
    ``t30`` makes the T.30 phases take their real time; ``time_scale``
    multiplies line and phase times; ``fast`` turns pacing and T.30 timing off.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    numbers = list(numbers) if numbers else default_numbers(count)
    if len(numbers) != count:
        raise ValueError(f"{count} lines need {count} numbers, got {len(numbers)}")
    base = config or ModemConfig(fax_class=fax_class, t30=DEFAULT_T30 if t30 else None, time_scale=time_scale)
    if fast:
        base = ModemConfig(**{**base.__dict__, "pacing": False, "t30": None})
    exchange = Exchange(reactor, Network(faults))
    lines = Lines(exchange, [])
    try:
        for i, number in enumerate(numbers):
            port = PtyPort(reactor, number, exchange.dte_input)  # type: ignore[arg-type]
            lines.ports.append(port)
            exchange.add_modem(SimModem(base, number), port.write)
            link = None
            if link_prefix:
                link = f"{link_prefix}{i}"
                if os.path.lexists(link) and not os.path.islink(link):
                    raise FileExistsError(f"{link} exists and is not a symlink")
                if os.path.islink(link):
                    os.unlink(link)
                os.symlink(port.device, link)
            lines.lines.append(LineInfo(number, port.device, link))
            port.start()
    except BaseException:
        lines.stop()
        raise
    return lines
