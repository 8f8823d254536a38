"""In-memory pump joining our driver (ModemProtocol) to the simulator core
(hwsim SimModem + Network) on a Clock: nothing sleeps, time is advanced."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from hwsim import modem as sim
from hwsim.faults import FaultPlan
from hwsim.pstn import Network
from modem import class2 as c2
from modem.driver import ModemProtocol


class SimWire(StringTransport):
    """The DTE side of a simulated serial line: writes go to the SimModem."""

    def __init__(self, bench: Bench, number: str) -> None:
        super().__init__()
        self.bench, self.number = bench, number

    def write(self, data: bytes) -> None:
        super().write(data)
        self.bench.clock.callLater(0, self.bench.to_modem, self.number, bytes(data))

    def loseConnection(self) -> None:
        super().loseConnection()


class Bench:
    """Lines by number: each a SimModem with our ModemProtocol on its DTE side."""

    def __init__(
        self,
        fax_class: str = "2.0",
        faults: FaultPlan | None = None,
        numbers: tuple[str, ...] = ("5550001", "5550002"),
        **modem_config: object,
    ) -> None:
        self.clock = Clock()
        self.network = Network(faults)
        self.modems: dict[str, sim.SimModem] = {}
        self.protos: dict[str, Any] = {}
        self.timers: dict[tuple[str, str], IDelayedCall] = {}
        for number in numbers:
            self.network.add_line(number)
            self.modems[number] = sim.SimModem(sim.ModemConfig(fax_class=fax_class, **modem_config), number)  # type: ignore[arg-type]

    def attach(self, number: str, config: c2.SessionConfig) -> ModemProtocol:
        proto = ModemProtocol(self.clock, f"/dev/sim{number}", config)
        self.protos[number] = proto
        proto.makeConnection(SimWire(self, number))
        return proto

    def plug(self, number: str, protocol: Any) -> SimWire:
        """Connect any protocol (e.g. the line pool's tap around a ModemProtocol) to a line."""
        wire = SimWire(self, number)
        self.protos[number] = protocol
        protocol.makeConnection(wire)
        return wire

    # -- pumping ------------------------------------------------------------
    def to_modem(self, number: str, data: bytes) -> None:
        self.apply(number, self.modems[number].feed_dte(data))

    def apply(self, number: str, outputs: list[Any]) -> None:
        for out in outputs:
            if isinstance(out, sim.ToDTE):
                proto = self.protos.get(number)
                if proto is not None and getattr(proto, "connected_", True):
                    self.clock.callLater(0, proto.dataReceived, out.data)
            elif isinstance(out, sim.StartTimer):
                self._cancel(number, out.name)
                self.timers[(number, out.name)] = self.clock.callLater(out.seconds, self._fire, number, out.name)
            elif isinstance(out, sim.CancelTimer):
                self._cancel(number, out.name)
            else:  # a line action for the network
                for delivery in self.network.handle(number, out):
                    self.clock.callLater(0, self._deliver, delivery.number, delivery.event)

    def _deliver(self, number: str, event: Any) -> None:
        self.apply(number, self.modems[number].line_event(event))

    def _fire(self, number: str, name: str) -> None:
        self.timers.pop((number, name), None)
        self.apply(number, self.modems[number].timer_expired(name))

    def _cancel(self, number: str, name: str) -> None:
        call = self.timers.pop((number, name), None)
        if call is not None and call.active():
            call.cancel()

    def run(self, *deferreds: Deferred[Any], limit: float = 900.0, step: float = 0.05) -> list[Any]:
        """Advance the clock until every Deferred fired (or ``limit`` seconds passed)."""
        results: list[Any] = [None] * len(deferreds)
        fired = [False] * len(deferreds)
        for i, d in enumerate(deferreds):

            def got(value: Any, i: int = i) -> None:
                results[i] = value
                fired[i] = True

            d.addBoth(got)
        elapsed = 0.0
        while not all(fired) and elapsed < limit:
            self.clock.advance(step)
            elapsed += step
        assert all(fired), f"not done after {limit} s of simulated time"
        for value in results:
            if isinstance(value, Failure):
                value.raiseException()
        return results

    def unplug(self, number: str) -> None:
        """The device vanishes: the driver sees connectionLost with EIO."""
        proto = self.protos.pop(number)
        proto.connectionLost(Failure(OSError(5, "Input/output error")))
