"""In-memory harness: simulated modems on a task.Clock, DTEs as byte buffers."""

from __future__ import annotations

from twisted.internet.task import Clock

from hwsim.faults import FaultPlan
from hwsim.modem import ModemConfig, SimModem
from hwsim.pstn import Network
from hwsim.pty import Exchange

A, B, C = "5550001", "5550002", "5550003"


class Dte:
    """One DTE: what it received from its modem, and a way to write."""

    def __init__(self, exchange: Exchange, number: str) -> None:
        self.exchange = exchange
        self.number = number
        self.received = bytearray()

    def write(self, data: bytes) -> None:
        """Modem output arrives here."""
        self.received += data

    def send(self, data: bytes) -> None:
        """The DTE writes to its modem."""
        self.exchange.dte_input(self.number, data)

    def take(self) -> bytes:
        """Everything received since the last take."""
        data = bytes(self.received)
        self.received.clear()
        return data

    def at(self, command: str) -> list[str]:
        """Send ``AT<command>\\r``; the response lines (echo off assumed)."""
        self.take()
        self.send(f"AT{command}\r".encode())
        return lines(self.take())


def lines(data: bytes) -> list[str]:
    """Non-empty CRLF-separated text lines."""
    return [x for x in data.decode("latin-1").replace("\r", "\n").split("\n") if x]


def make_net(
    count: int = 2, fax_class: str = "2.0", faults: FaultPlan | None = None, **config: object
) -> tuple[Clock, Exchange, list[Dte]]:
    """A clock, an exchange with ``count`` modems, and their DTEs."""
    clock = Clock()
    exchange = Exchange(clock, Network(faults))
    dtes = []
    for number in (A, B, C)[:count]:
        dte = Dte(exchange, number)
        exchange.add_modem(SimModem(ModemConfig(fax_class=fax_class, **config), number), dte.write)  # type: ignore[arg-type]
        dtes.append(dte)
    return clock, exchange, dtes


def setup(dte: Dte, fax_class: str, *extra: str) -> None:
    """Echo off, select the class and enable reports/receive."""
    assert dte.at("E0")[-1] == "OK"
    cmds = [f"+FCLASS={fax_class}", "+FCR=1"] + (["+FNR=1,1,1,0"] if fax_class == "2.0" else [])
    ident = "+FLI" if fax_class == "2.0" else "+FLID"
    cmds.append(f'{ident}="{dte.number}"')
    assert dte.at(";".join(cmds + list(extra))) == ["OK"]


def connect(clock: Clock, tx: Dte, rx: Dte, fax_class: str = "2.0") -> tuple[list[str], list[str]]:
    """Set both up, dial from ``tx`` to ``rx`` (auto-answer); both result lists."""
    setup(tx, fax_class)
    setup(rx, fax_class)
    assert rx.at("S0=1") == ["OK"]
    tx_lines = tx.at(f"D{rx.number}")
    return tx_lines, lines(rx.take())
