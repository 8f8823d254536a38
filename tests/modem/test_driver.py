"""The Twisted adapter: bytes, timers and flow control on a StringTransport and a Clock;
line supervision (offline, backoff, re-probe)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from modem import class2 as c2
from modem.driver import (
    ModemBusyError,
    ModemGoneError,
    ModemProtocol,
    ModemUnusableError,
)
from modem.params import PageFormat
from modem.supervisor import LineState, LineSupervisor

from .transcript import r

PROBE_20 = {
    "ATI": r("HWSIM", "OK"),
    "ATI3": r("ERROR"),
    "AT+FCLASS=?": r("0,2,2.0", "OK"),
    "AT+FCC=?": r("(0,1),(0-5),(0-2),(0-2),(0,1),(0),(0),(0-7)", "OK"),
}


class FakeModem:
    """Answers each command line from a table (default OK) after ``delay`` seconds."""

    def __init__(self, clock: Clock, proto: ModemProtocol, table: dict[str, bytes], delay: float = 0.1) -> None:
        self.clock, self.proto, self.table, self.delay = clock, proto, dict(table), delay
        self.commands: list[str] = []
        self.data = bytearray()
        self.in_data = False
        self.buf = b""
        self.silent = False

    def dte_wrote(self, data: bytes) -> None:
        self.buf += data
        while True:
            if self.in_data:
                for end in (b"\x10,", b"\x10."):
                    idx = self.buf.find(end)
                    if idx >= 0 and not self.buf[:idx].endswith(b"\x10"):
                        self.data += self.buf[: idx + 2]
                        self.buf = self.buf[idx + 2 :]
                        self.in_data = False
                        self.reply(self.table.get("<page>", r("OK")))
                        break
                else:
                    return
                continue
            if b"\r" not in self.buf:
                return
            line, self.buf = self.buf.split(b"\r", 1)
            cmd = line.decode("latin-1")
            self.commands.append(cmd)
            reply = self.table.get(cmd, r("OK"))
            if cmd == "AT+FDT":
                self.in_data = True
            self.reply(reply)

    def reply(self, data: bytes) -> None:
        if not self.silent:
            self.clock.callLater(self.delay, self.proto.dataReceived, data)


class Wire(StringTransport):
    """A StringTransport that hands every write to a listener."""

    def __init__(self) -> None:
        super().__init__()
        self.listener: Callable[[bytes], None] | None = None

    def write(self, data: bytes) -> None:
        super().write(data)
        if self.listener is not None:
            self.listener(data)


def connect(
    table: dict[str, bytes], config: c2.SessionConfig | None = None
) -> tuple[Clock, ModemProtocol, FakeModem, Wire]:
    clock = Clock()
    proto = ModemProtocol(clock, "/dev/ttyTEST0", config or c2.SessionConfig())
    wire = Wire()
    modem = FakeModem(clock, proto, table)
    wire.listener = modem.dte_wrote
    proto.makeConnection(wire)
    return clock, proto, modem, wire


def settle(clock: Clock, seconds: float = 30.0) -> None:
    for _ in range(int(seconds * 10)):
        clock.advance(0.1)


def test_probe_then_send_measures_duration() -> None:
    """Probe picks 2.0, a 2-page send succeeds and its duration comes from the Clock."""
    table = {**PROBE_20, "ATDT5550002": r("+FCO", "+FIS:1,5,0,2,0,0,0,0", "OK"), "AT+FDT": r("CONNECT")}
    clock, proto, modem, _ = connect(table)
    probes: list[c2.ProbeResult] = []
    proto.probe().addCallback(probes.append)
    settle(clock, 5)
    assert probes and probes[0].fax_class is c2.FaxClass.CLASS20
    results: list[c2.SessionResult] = []
    proto.send("5550002", [b"\x00\x08\x01", b"\x00\x02"], PageFormat()).addCallback(results.append)
    modem.table["<page>"] = r("OK")
    settle(clock, 1)
    modem.table["<page>"] = r("+FHS:00", "OK")
    settle(clock, 5)
    (res,) = results
    assert res.outcome is c2.Outcome.OK and res.pages_confirmed == 2
    assert res.duration_s == pytest.approx(1.0, abs=0.5)
    assert b"\x10\x10" in modem.data  # 0x08 reversed is DLE: stuffed on the wire
    assert not proto.busy and not clock.getDelayedCalls()


def test_silent_modem_is_unusable_with_exchange() -> None:
    """A modem that never answers: the probe fails after the command timeout, naming device and exchange."""
    clock, proto, modem, _ = connect({})
    modem.silent = True
    failures: list[Failure] = []
    proto.probe().addErrback(failures.append)
    clock.advance(9.9)
    assert not failures
    clock.advance(0.2)
    (f,) = failures
    assert f.check(ModemUnusableError)
    text = str(f.value)
    assert "/dev/ttyTEST0" in text and "> ATQ0V1" in text and "no final result" in text


def test_garbage_answer_names_last_exchange() -> None:
    """Garbage in reply to +FCLASS=? ends the probe with the garbage quoted."""
    clock, proto, _modem, _ = connect({"AT+FCLASS=?": b"\r\n\x01\x02zz\r\nCONNECT 2400\r\n"})
    failures: list[Failure] = []
    proto.probe().addErrback(failures.append)
    settle(clock, 30)
    (f,) = failures
    assert f.check(ModemUnusableError)
    assert "zz" in str(f.value) and "CONNECT 2400" in str(f.value)


def test_one_operation_at_a_time() -> None:
    """A second operation while one runs is refused with ModemBusyError."""
    _clock, proto, _modem, _ = connect(PROBE_20)
    proto.probe()
    with pytest.raises(ModemBusyError):
        proto.probe()


def test_device_lost_during_receive() -> None:
    """connectionLost while waiting for a call ends the session with DEVICE_GONE."""
    clock, proto, _modem, _wire = connect(PROBE_20)
    proto.probe()
    settle(clock, 5)
    results: list[c2.SessionResult] = []
    proto.receive(rings=2).addCallback(results.append)
    settle(clock, 5)
    proto.connectionLost(Failure(OSError(5, "Input/output error")))
    (res,) = results
    assert res.outcome is c2.Outcome.DEVICE_GONE and "Input/output error" in res.detail
    with pytest.raises(ModemGoneError):
        proto.probe()


def test_xoff_pauses_page_data() -> None:
    """XOFF from the modem stops the page data; XON lets the rest go."""
    table = {**PROBE_20, "ATDT5550002": r("+FCO", "OK"), "AT+FDT": r("CONNECT")}
    clock, proto, modem, _wire = connect(table)
    proto.chunk_size = 4
    proto.probe()
    settle(clock, 5)
    proto.send("5550002", [bytes(64)], PageFormat())
    modem.table["AT+FDT"] = r("CONNECT")
    settle(clock, 2)
    sent_before = len(modem.data)
    assert sent_before > 0  # the whole page went (no XOFF yet)
    # now a second scenario on the same protocol: pause mid-queue
    proto._execute([c2.Flow(paused=True)])
    proto._write_data(bytes(40))
    assert len(proto._outq) == 10
    proto._execute([c2.Flow(paused=False)])
    assert len(proto._outq) == 0


class FakePorts:
    """open_port stand-in: fails while ``present`` is False, else connects a FakeModem."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.present = False
        self.opened: list[tuple[ModemProtocol, Wire]] = []

    def __call__(self, proto: ModemProtocol) -> Wire:
        if not self.present:
            raise OSError(2, f"could not open port {proto.device}: No such file or directory")
        wire = Wire()
        modem = FakeModem(self.clock, proto, PROBE_20)
        wire.listener = modem.dte_wrote
        proto.makeConnection(wire)
        self.opened.append((proto, wire))
        return wire


def test_supervisor_backoff_and_reprobe() -> None:
    """A missing device is retried at 1, 2, 4 s; once online a vanished device goes offline and comes back."""
    clock = Clock()
    ports = FakePorts(clock)
    states: list[LineState] = []
    sup = LineSupervisor(clock, "/dev/ttyTEST1", c2.SessionConfig(), ports, backoff_initial=1, backoff_max=4)
    sup.watch(states.append)
    sup.start()
    assert sup.state is LineState.OFFLINE and "No such file" in sup.last_error
    clock.advance(1)
    assert sup.attempts == 2
    clock.advance(2)
    assert sup.attempts == 3
    ports.present = True
    clock.advance(4)
    settle(clock, 5)
    assert sup.state is LineState.ONLINE and sup.attempts == 4
    proto, _wire = ports.opened[-1]
    proto.connectionLost(Failure(OSError(5, "Input/output error")))
    assert sup.state is LineState.OFFLINE and "Input/output error" in sup.last_error
    clock.advance(1)  # backoff was reset by the successful probe
    settle(clock, 5)
    assert sup.state is LineState.ONLINE and sup.protocol is ports.opened[-1][0]
    assert states[:2] == [LineState.PROBING, LineState.OFFLINE]
    assert states[-3:] == [LineState.OFFLINE, LineState.PROBING, LineState.ONLINE]
    sup.stop()
    assert sup.state is LineState.STOPPED and not clock.getDelayedCalls()
