"""Hangup status codes: Class 2 ``+FHNG:`` (decimal) and Class 2.0 ``+FHS:`` (hex).

Spec fax-modem-at.md §5.  The two numberings collide (Class 2 ``94`` and
Class 2.0 ``92`` are both "bad CRC or frame"), so every lookup names the
class.  Pure data plus two small functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["CLASS2", "CLASS20", "Hangup", "Numbering", "describe", "parse_hangup"]


class Numbering(Enum):
    """How the hangup code is written on the wire."""

    CLASS2 = "2"  # +FHNG:<decimal>
    CLASS20 = "2.0"  # +FHS:<hex>


# (meaning, Class 2 decimal code or None, Class 2.0 hex code or None)
_ROWS: tuple[tuple[str, int | None, str | None], ...] = (
    ("normal and proper end of connection", 0, "00"),
    ("ring detected without successful handshake", 1, "01"),
    ("call aborted from +FK/+FKS or <CAN>", 2, "02"),
    ("no loop current", 3, "03"),
    ("ringback detected, no answer (timeout)", 4, "04"),
    ("ringback detected, answer without CED", 5, "05"),
    ("unspecified phase A error", 10, "10"),
    ("no answer (T.30 T1 timeout)", 11, "11"),
    ("unspecified transmit phase B error", 20, "20"),
    ("remote cannot receive or send", 21, "21"),
    ("COMREC error in transmit phase B", 22, "22"),
    ("COMREC invalid command received", 23, "23"),
    ("RSPREC error", 24, "24"),
    ("DCS sent 3 times without response", 25, "25"),
    ("DIS/DTC received 3 times; DCS not recognised", 26, "26"),
    ("failure to train at 2400 bps or at the minimum speed", 27, "27"),
    ("RSPREC invalid response received", 28, "28"),
    ("unspecified transmit phase C error", 40, "40"),
    ("unspecified image format error", None, "41"),
    ("image conversion error", None, "42"),
    ("DTE to DCE data underflow", 43, "43"),
    ("unrecognised transparent data command", None, "44"),
    ("image error, line length wrong", None, "45"),
    ("image error, page length wrong", None, "46"),
    ("image error, wrong compression code", None, "47"),
    ("unspecified transmit phase D error", 50, "50"),
    ("RSPREC error (DCN received) in transmit phase D", 51, "51"),
    ("no response to MPS repeated 3 times", 52, "52"),
    ("invalid response to MPS", 53, "53"),
    ("no response to EOP repeated 3 times", 54, "54"),
    ("invalid response to EOP", 55, "55"),
    ("no response to EOM repeated 3 times", 56, "56"),
    ("invalid response to EOM", 57, "57"),
    ("unable to continue after PIN or PIP", 58, "58"),
    ("unspecified receive phase B error", 70, "70"),
    ("RSPREC error (DCN received) in receive phase B", 71, "71"),
    ("COMREC error in receive phase B", 72, "72"),
    ("T.30 T2 timeout, expected page not received", 73, "73"),
    ("T.30 T1 timeout after EOM received", 74, "74"),
    ("unspecified receive phase C error", 90, "90"),
    ("missing EOL after 5 seconds", 91, "91"),
    ("DCE to DTE buffer overflow", 93, "93"),
    ("bad CRC or frame (ECM or BFT)", 94, "92"),
    ("unspecified receive phase D error", 100, "A0"),
    ("RSPREC invalid response received in receive phase D", 101, "A1"),
    ("COMREC invalid response received in receive phase D", 102, "A2"),
    ("unable to continue after PIN or PIP (no PRI-Q)", 103, "A3"),
    ("command or signal 10 s timeout (Agere/Lucent proprietary)", None, "E0"),
)

#: Class 2 decimal code -> meaning.
CLASS2: dict[int, str] = {c2: meaning for meaning, c2, _ in _ROWS if c2 is not None}
CLASS2[92] = "unused (Class 2)"
#: Class 2.0 code (the hex number's value) -> meaning.
CLASS20: dict[int, str] = {int(c20, 16): meaning for meaning, _, c20 in _ROWS if c20 is not None}

# Everex proprietary Class 2 codes.
_EVEREX: dict[int, str] = {
    128: "+FMINSP higher than the remote's rate (Everex)",
    129: "remote V.29 only, local 2400-4800 (Everex)",
    130: "remote cannot receive (Everex)",
    131: "+FK/CAN abort (Everex)",
    132: "format conversion error (Everex)",
    133: "remote cannot receive (Everex)",
    134: "waited more than 30 s for XON after XOFF (Everex)",
    135: "remote cannot be polled (Everex)",
}

_CLASS2_RANGES = (
    (0, 9, "call placement"),
    (10, 19, "transmit phase A"),
    (20, 39, "transmit phase B"),
    (40, 49, "transmit phase C"),
    (50, 69, "transmit phase D"),
    (70, 89, "receive phase B"),
    (90, 99, "receive phase C"),
    (100, 119, "receive phase D"),
)
_CLASS20_RANGES = (
    (0x00, 0x0F, "call placement"),
    (0x10, 0x1F, "transmit phase A"),
    (0x20, 0x3F, "transmit phase B"),
    (0x40, 0x4F, "transmit phase C"),
    (0x50, 0x6F, "transmit phase D"),
    (0x70, 0x8F, "receive phase B"),
    (0x90, 0x9F, "receive phase C"),
    (0xA0, 0xBF, "receive phase D"),
)


@dataclass(frozen=True, slots=True)
class Hangup:
    """A hangup report: the code as a number, how it was written, and its meaning."""

    code: int
    numbering: Numbering
    meaning: str

    @property
    def wire(self) -> str:
        """The code as the modem writes it (``00``/``A0`` for 2.0, ``0``/``100`` for 2)."""
        if self.numbering is Numbering.CLASS20:
            return f"{self.code:02X}"
        return str(self.code)

    @property
    def normal(self) -> bool:
        return self.code == 0

    def __str__(self) -> str:
        prefix = "+FHS" if self.numbering is Numbering.CLASS20 else "+FHNG"
        return f"{prefix}:{self.wire} ({self.meaning})"


def describe(code: int, numbering: Numbering) -> str:
    """The meaning of ``code``; unknown codes are described by their range."""
    if numbering is Numbering.CLASS20:
        table, ranges = CLASS20, _CLASS20_RANGES
    else:
        table, ranges = {**CLASS2, **_EVEREX}, _CLASS2_RANGES
    if code in table:
        return table[code]
    for low, high, phase in ranges:
        if low <= code <= high:
            return f"unknown code in the {phase} range"
    return "reserved or proprietary code"


def parse_hangup(value: str, numbering: Numbering) -> Hangup:
    """Parse the payload of ``+FHS:``/``+FHNG:`` (``"00"``, ``"A0"``, ``"0"``, ``" 94"``).

    Raises ValueError naming the bad text.
    """
    text = value.strip()
    base = 16 if numbering is Numbering.CLASS20 else 10
    try:
        code = int(text, base)
    except ValueError:
        kind = "hex" if base == 16 else "decimal"
        raise ValueError(f"hangup code {value!r} is not a {kind} number") from None
    if not 0 <= code <= 255:
        raise ValueError(f"hangup code {value!r} is out of range 0-255")
    return Hangup(code, numbering, describe(code, numbering))
