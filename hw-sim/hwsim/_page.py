"""Page-data helpers for the simulated modem: bit order, DLE framing, RTC.

The simulator does not decode T.4; it only looks at EOL codes to count lines
and to make sure the page a receiving DTE gets ends with RTC (efax insists on
it, spec §7.1).  All functions here take and return *wire order* bytes (the
least significant bit of each byte goes first on the line) unless said
otherwise.
"""

from __future__ import annotations

import re

DLE = 0x10
ETX = 0x03
SUB = 0x1A
DC1 = 0x11
DC2 = 0x12
CAN = 0x18

_REVERSED = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))
# Bits of a wire-order byte written first-transmitted first.
_WIRE_BITS = tuple(f"{i:08b}"[::-1] for i in range(256))

RTC_MH = bytes.fromhex("000880" * 3)  # 6 byte-aligned EOLs, wire order
RTC_MR = bytes.fromhex("0018000360000c800130")  # 6 x (EOL + 1), wire order
# Fill after RTC: efax's decoder reads ahead and needs bits after the last EOL.
TRAILING_FILL = bytes(4)
_RTC_TAIL_MH = re.compile(r"(0{11,}1){6}0*$")
_RTC_TAIL_MR = re.compile(r"(0{11,}11){6}0*$")
_EOL = re.compile(r"0{11,}1")


def reverse_bits(data: bytes) -> bytes:
    """Each byte with its bit order reversed (LSB-first <-> MSB-first)."""
    return data.translate(_REVERSED)


def transmission_bits(data: bytes) -> str:
    """The bits of wire-order ``data`` as a '0'/'1' string in line order."""
    return "".join(_WIRE_BITS[b] for b in data)


def has_rtc(data: bytes, two_d: bool = False) -> bool:
    """Whether the page ends with RTC (trailing fill bits allowed)."""
    tail = transmission_bits(data[-40:])
    return bool((_RTC_TAIL_MR if two_d else _RTC_TAIL_MH).search(tail))


def rtc_tail(data: bytes, two_d: bool = False) -> bytes:
    """The bytes to append so that ``data`` ends with RTC (empty if it does)."""
    if has_rtc(data, two_d):
        return b""
    return RTC_MR if two_d else RTC_MH


def count_lines(data: bytes, two_d: bool = False) -> int:
    """Scan lines in an MH (or, ``two_d``, MR) page: EOL codes, less RTC (or the leading EOL)."""
    eols = len(_EOL.findall(transmission_bits(data)))
    return max(0, eols - 6) if has_rtc(data, two_d) else max(0, eols - 1)


def dle_stuff(data: bytes) -> bytes:
    """Page data for the DTE: every DLE doubled (spec §8.1)."""
    return data.replace(b"\x10", b"\x10\x10")


class DleReader:
    """Incremental DTE->DCE page-data reader (DLE transparency, spec §8.1).

    ``feed(chunk)`` returns ``(data, end, rest)``: the unstuffed data bytes,
    the page-end code (``ETX``, ``,``, ``;``, ``.`` as an int) or ``None``
    while the page goes on, and the bytes after the page end.  Other
    ``<DLE><x>`` pairs are dropped, as a modem does.
    """

    ENDS = frozenset({ETX, ord(","), ord(";"), ord(".")})

    def __init__(self) -> None:
        self._dle = False

    def feed(self, chunk: bytes) -> tuple[bytes, int | None, bytes]:
        """Consume ``chunk``; see the class docstring."""
        out = bytearray()
        i = 0
        n = len(chunk)
        while i < n:
            if self._dle:
                self._dle = False
                code = chunk[i]
                i += 1
                if code == DLE:
                    out.append(DLE)
                elif code in self.ENDS:
                    return bytes(out), code, chunk[i:]
                continue
            j = chunk.find(b"\x10", i)
            if j < 0:
                out += chunk[i:]
                break
            out += chunk[i:j]
            self._dle = True
            i = j + 1
        return bytes(out), None, b""
