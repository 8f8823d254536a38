"""Scripted Class 2.0 modems for the line pool's unit tests, on a ``task.Clock``.

:class:`FakeModem` is the transport of one line's ``ModemProtocol``: it reads
the command lines the driver writes, answers each from a table (default
``OK``), swallows page data up to the Class 2.0 page end and answers the
table's ``"<page>"`` (``<DLE>,``: more pages) or ``"<last page>"`` entry.
Everything the modem says goes through ``chunks``, which cuts it into the
pieces ``dataReceived`` gets, each on its own clock tick.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from appliance.config import LineConfig
from modem.driver import ModemProtocol
from modem.supervisor import OpenPort

Chunker = Callable[[bytes], list[bytes]]


def r(*lines: str) -> bytes:
    """Modem reply lines framed as with ATV1."""
    return b"".join(b"\r\n" + line.encode("latin-1") + b"\r\n" for line in lines)


def whole(data: bytes) -> list[bytes]:
    return [data]


def byte_by_byte(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def random_cuts(seed: int, largest: int = 7) -> Chunker:
    """Pieces of 1..``largest`` bytes, the same for the same seed."""
    rng = random.Random(seed)

    def cut(data: bytes) -> list[bytes]:
        out, i = [], 0
        while i < len(data):
            n = rng.randint(1, largest)
            out.append(data[i : i + n])
            i += n
        return out

    return cut


PROBE_20 = {
    "ATI": r("FAKE", "OK"),
    "ATI3": r("ERROR"),
    "AT+FCLASS=?": r("0,2,2.0", "OK"),
    "AT+FCC=?": r("(0,1),(0-5),(0-2),(0-2),(0,1),(0),(0),(0-7)", "OK"),
}
DIAL_OK = r("+FCO", '+FCI:"REMOTE FAX"', "+FIS:1,5,0,2,0,0,0,0", "OK")
PAGE_CONNECT = r("+FCS:1,5,0,2,0,0,0,0", "CONNECT")


class FakeModem(StringTransport):
    """One line's modem, answering from ``table``; see the module docstring."""

    def __init__(self, clock: Clock, protocol: ModemProtocol, table: dict[str, bytes], chunks: Chunker) -> None:
        super().__init__()
        self.clock, self.protocol, self.table, self.chunks = clock, protocol, table, chunks
        self.commands: list[str] = []
        self.pages = 0
        self._buf = b""
        self._in_data = False
        self._last = 0.0

    def write(self, data: bytes) -> None:
        super().write(data)
        self._buf += data
        while self._buf:
            if self._in_data:
                end = self._page_end()
                if end < 0:
                    return
                marker, self._buf, self._in_data = self._buf[end + 1 : end + 2], self._buf[end + 2 :], False
                self.pages += 1
                last = marker == b"."
                self.say(
                    self.table.get("<last page>", r("+FHS:00", "OK")) if last else self.table.get("<page>", r("OK"))
                )
                continue
            if b"\r" not in self._buf:
                return
            line, self._buf = self._buf.split(b"\r", 1)
            command = line.decode("latin-1")
            self.commands.append(command)
            self._in_data = command == "AT+FDT"
            self.say(self.table.get(command, r("OK")))

    def _page_end(self) -> int:
        """Where the Class 2.0 page end (``<DLE>,`` or ``<DLE>.``) starts; -1 while it has not come."""
        i = 0
        while (i := self._buf.find(b"\x10", i)) >= 0 and i + 1 < len(self._buf):
            if self._buf[i + 1] in b",.":
                return i
            i += 2  # <DLE><DLE>: a data DLE
        return -1

    def say(self, data: bytes) -> None:
        """The modem sends ``data``: its pieces arrive on successive ticks, in order."""
        for piece in self.chunks(data):
            self._last = max(self.clock.seconds(), self._last) + 0.001
            self.clock.callLater(self._last - self.clock.seconds(), self._deliver, piece)

    def _deliver(self, piece: bytes) -> None:
        if not self.disconnecting:
            self.protocol.dataReceived(piece)


class FakePorts:
    """The pool's ``OpenPortFactory``: each line opens a :class:`FakeModem` (unless ``absent``)."""

    def __init__(self, clock: Clock, chunks: Chunker = whole) -> None:
        self.clock, self.chunks = clock, chunks
        self.tables: dict[str, dict[str, bytes]] = {}
        self.modems: dict[str, FakeModem] = {}
        self.absent: set[str] = set()

    def __call__(self, config: LineConfig, device: str) -> OpenPort:
        def open_port(protocol: ModemProtocol) -> FakeModem:
            if config.name in self.absent:
                raise OSError(2, f"could not open port {device}: No such file or directory")
            table = {**PROBE_20, "AT+FDT": PAGE_CONNECT, **self.tables.get(config.name, {})}
            modem = FakeModem(self.clock, protocol, table, self.chunks)
            protocol.makeConnection(modem)
            self.modems[config.name] = modem
            return modem

        return open_port
