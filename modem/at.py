"""Incremental AT result-code parser with DLE transparency (sans-I/O).

The modem (DCE) talks to us in two modes:

* **line mode**: ``\\r\\n``-framed response lines (``OK``, ``+FCO``,
  ``+FHS:00`` …) plus lone flow-control bytes (XON 0x11 after a Class 2
  ``CONNECT``, XOFF 0x13 while we send page data);
* **data mode**: Phase C page data after a receive ``CONNECT``, where every
  data DLE (0x10) is doubled, ``<DLE><ETX>`` ends the page, Class 2.0
  ``<DLE><SUB>`` stands for two DLEs and any other ``<DLE><x>`` pair is
  discarded (spec fax-modem-at.md §8.1).

:class:`Parser` only buffers in :meth:`Parser.feed` and parses in
:meth:`Parser.next_event`, so how the serial port chunks the bytes never
changes the events.  The consumer switches to data mode between two
``next_event`` calls (right after it has seen ``CONNECT``); the bytes that
are still buffered are then parsed as data.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final

__all__ = [
    "CAN",
    "DC2",
    "DLE",
    "ETX",
    "NEED_DATA",
    "SUB",
    "XOFF",
    "XON",
    "Control",
    "Data",
    "DataEnd",
    "Event",
    "Line",
    "LineTooLong",
    "Parser",
    "stuff",
    "unstuff",
]

DLE: Final = 0x10
ETX: Final = 0x03
SUB: Final = 0x1A
XON: Final = 0x11
DC2: Final = 0x12
XOFF: Final = 0x13
CAN: Final = 0x18

#: Bytes that are reported as :class:`Control` events in line mode.
CONTROL_BYTES: Final = frozenset({XON, DC2, XOFF})
MAX_LINE: Final = 4096


class _NeedData(Enum):
    NEED_DATA = "NEED_DATA"


#: Returned by :meth:`Parser.next_event` when more bytes are needed.
NEED_DATA: Final = _NeedData.NEED_DATA


@dataclass(frozen=True, slots=True)
class Line:
    """One non-empty response line, without its CR/LF framing."""

    text: str


@dataclass(frozen=True, slots=True)
class Control:
    """A flow-control byte seen outside a line (XON, DC2 or XOFF)."""

    byte: int


@dataclass(frozen=True, slots=True)
class Data:
    """Page data with the DLE transparency removed."""

    data: bytes


@dataclass(frozen=True, slots=True)
class DataEnd:
    """``<DLE><ETX>``: the end of the page data; the parser is back in line mode."""


Event = Line | Control | Data | DataEnd


class LineTooLong(ValueError):
    """The modem sent more than :data:`MAX_LINE` bytes without a line end."""

    def __init__(self, excerpt: bytes) -> None:
        self.excerpt = excerpt
        super().__init__(f"modem sent {len(excerpt)} bytes without a line end: {excerpt[:60]!r}")


def stuff(data: bytes) -> bytes:
    """DTE→DCE transparency: every data DLE is sent twice."""
    return data.replace(b"\x10", b"\x10\x10")


def unstuff(data: bytes, *, dle_sub_is_two_dle: bool = True) -> tuple[bytes, bool]:
    """Remove DLE transparency from a complete buffer.

    Returns ``(data, ended)`` where ``ended`` says a ``<DLE><ETX>`` was found
    (anything after it is ignored).
    """
    parser = Parser(dle_sub_is_two_dle=dle_sub_is_two_dle)
    parser.start_data()
    parser.feed(data)
    out: list[bytes] = []
    while True:
        event = parser.next_event()
        if isinstance(event, Data):
            out.append(event.data)
        elif isinstance(event, DataEnd):
            return b"".join(out), True
        else:
            return b"".join(out), False


def _decode(raw: bytes) -> str:
    return raw.decode("latin-1")


class Parser:
    """Push bytes with :meth:`feed`, pull events with :meth:`next_event`."""

    def __init__(self, *, dle_sub_is_two_dle: bool = True) -> None:
        self._buf = bytearray()
        self._data_mode = False
        self._after_cr = False  # the last line ended with CR; its LF may follow
        self.dle_sub_is_two_dle = dle_sub_is_two_dle

    @property
    def in_data_mode(self) -> bool:
        return self._data_mode

    def feed(self, data: bytes) -> None:
        """Buffer bytes from the modem (no parsing happens here)."""
        self._buf += data

    def start_data(self) -> None:
        """Parse what follows as DLE-framed page data up to ``<DLE><ETX>``."""
        self._data_mode = True

    def stop_data(self) -> None:
        """Go back to line mode without waiting for ``<DLE><ETX>``."""
        self._data_mode = False

    def pending(self) -> bytes:
        """The bytes buffered but not yet parsed (for error reports)."""
        return bytes(self._buf)

    def next_event(self) -> Event | _NeedData:
        if self._data_mode:
            return self._next_data()
        return self._next_line()

    # -- line mode -------------------------------------------------------
    def _next_line(self) -> Event | _NeedData:
        buf = self._buf
        while buf:
            first = buf[0]
            if first in (0x0D, 0x0A):
                del buf[0]
                self._after_cr = False
                continue
            if first in CONTROL_BYTES:
                del buf[0]
                self._after_cr = False
                return Control(first)
            end = _find_eol(buf)
            if end < 0:
                if len(buf) > MAX_LINE:
                    raise LineTooLong(bytes(buf))
                return NEED_DATA
            raw = bytes(buf[:end])
            self._after_cr = buf[end] == 0x0D
            del buf[: end + 1]
            text = _decode(bytes(b for b in raw if b not in CONTROL_BYTES)).strip()
            if text:
                return Line(text)
        return NEED_DATA

    # -- data mode -------------------------------------------------------
    def _next_data(self) -> Event | _NeedData:
        buf = self._buf
        if self._after_cr and buf:
            # the LF of the CR LF that ended "CONNECT" is framing, not data
            if buf[0] == 0x0A:
                del buf[0]
            self._after_cr = False
        out = bytearray()
        i = 0
        n = len(buf)
        while i < n:
            j = buf.find(b"\x10", i)
            if j < 0:
                out += buf[i:]
                i = n
                break
            out += buf[i:j]
            if j + 1 >= n:
                i = j  # lone DLE at the end: wait for its partner
                break
            code = buf[j + 1]
            i = j + 2
            if code == DLE:
                out.append(DLE)
            elif code == SUB and self.dle_sub_is_two_dle:
                out += b"\x10\x10"
            elif code == ETX:
                if out:
                    # report the data first; the DLE ETX stays buffered
                    del buf[:j]
                    return Data(bytes(out))
                del buf[:i]
                self._data_mode = False
                return DataEnd()
            # any other <DLE><x> pair is discarded
        del buf[:i]
        if out:
            return Data(bytes(out))
        return NEED_DATA


def _find_eol(buf: bytearray) -> int:
    cr = buf.find(b"\r")
    lf = buf.find(b"\n")
    if cr < 0:
        return lf
    if lf < 0:
        return cr
    return min(cr, lf)
