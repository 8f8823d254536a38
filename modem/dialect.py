"""The Class 2 / Class 2.0 dialect table and modem-line classification (pure).

What differs between the classes (spec §9) is data here: command names,
report prefixes, number base, page punctuation, XON after CONNECT, DLE SUB,
receive bit order, hangup numbering.  :func:`classify` turns a parser event
into a class-independent :class:`ModemEvent`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum, auto

from modem import at
from modem.hangup import Numbering

__all__ = [
    "DIALECTS",
    "MAX_DIAL",
    "Dialect",
    "FaxClass",
    "Kind",
    "ModemEvent",
    "classify",
    "dial_string_problem",
    "reverse_bits",
]

#: what may follow ``ATD``: digits, * # +, pause (,), wait for dial tone (W), pulse/tone (P T), flash (!), quiet (@)
DIAL_CHARACTERS = frozenset("0123456789*#+,WwPpTt!@ ")
MAX_DIAL = 40  # characters: modems buffer command lines of about 40-60 characters


def dial_string_problem(number: str) -> str | None:
    """Why ``number`` must not follow ``ATD`` (None: it may), so no other AT text can reach a modem."""
    if not 0 < len(number) <= MAX_DIAL or any(c not in DIAL_CHARACTERS for c in number):
        return f"dial string {number[:MAX_DIAL]!r} is not 1-{MAX_DIAL} of: digits * # + , W P T ! @"
    return None


class FaxClass(Enum):
    CLASS2 = "2"
    CLASS20 = "2.0"
    CLASS21 = "2.1"  # T.32 amendment: Class 2.0 plus V.34 rates (br up to 13, 33,600 bit/s)


class Kind(Enum):
    """What a modem line or byte means, independent of the class's spelling."""

    OK = auto()
    ERROR = auto()
    CONNECT = auto()
    RING = auto()
    BUSY = auto()
    NO_CARRIER = auto()
    NO_DIALTONE = auto()
    NO_ANSWER = auto()
    FAX_CONNECT = auto()  # +FCO / +FCON
    REMOTE_ID = auto()  # +FCI/+FTI, +FCSI/+FTSI
    DIS = auto()  # +FIS / +FDIS
    DCS = auto()  # +FCS / +FDCS
    CFR = auto()  # +FCFR (Class 2)
    PPR = auto()  # +FPS / +FPTS
    PPM = auto()  # +FET:
    HANGUP = auto()  # +FHS / +FHNG
    CALLER_ID = auto()  # NMBR = …, NAME = …
    INFO = auto()  # any other line (echo, NSF, query replies)
    XON = auto()
    XOFF = auto()
    DC2 = auto()
    DATA = auto()
    DATA_END = auto()
    TIMEOUT = auto()


@dataclass(frozen=True, slots=True)
class ModemEvent:
    kind: Kind
    text: str = ""
    value: str = ""
    data: bytes = b""


@dataclass(frozen=True, slots=True)
class Dialect:
    fax_class: FaxClass
    local_id: str
    caps: str
    dis: str
    bit_order: str
    abort: str
    ppr_command: str
    receive_enable: str
    report_enable: bool
    flow_command: bool
    ident_queries: tuple[str, str, str]
    hex_values: bool
    inband_page_end: bool
    xon_after_connect: bool
    receive_trigger: bytes
    dle_sub_is_two_dle: bool
    receive_msb_first: bool
    numbering: Numbering
    reports: tuple[tuple[str, Kind], ...]

    def receive_lsb_first(self, msb_first_override: bool | None = None) -> bool:
        """True when received data arrives LSB-first and must be reversed."""
        msb = self.receive_msb_first if msb_first_override is None else msb_first_override
        return not msb


_COMMON_REPORTS: tuple[tuple[str, Kind], ...] = (("+FET:", Kind.PPM), ("+FDM", Kind.CONNECT))

DIALECTS: dict[FaxClass, Dialect] = {
    FaxClass.CLASS20: Dialect(
        fax_class=FaxClass.CLASS20,
        local_id="+FLI",
        caps="+FCC",
        dis="+FIS",
        bit_order="+FBO",
        abort="+FKS",
        ppr_command="+FPS",
        receive_enable="+FCR=1",
        report_enable=True,
        flow_command=True,
        ident_queries=("+FMI?", "+FMM?", "+FMR?"),
        hex_values=True,
        inband_page_end=True,
        xon_after_connect=False,
        receive_trigger=bytes([at.DC2]),
        dle_sub_is_two_dle=True,
        receive_msb_first=False,
        numbering=Numbering.CLASS20,
        reports=(
            ("+FHS:", Kind.HANGUP),
            ("+FCO", Kind.FAX_CONNECT),
            ("+FCI:", Kind.REMOTE_ID),
            ("+FTI:", Kind.REMOTE_ID),
            ("+FIS:", Kind.DIS),
            ("+FCS:", Kind.DCS),
            ("+FPS:", Kind.PPR),
        )
        + _COMMON_REPORTS,
    ),
    FaxClass.CLASS2: Dialect(
        fax_class=FaxClass.CLASS2,
        local_id="+FLID",
        caps="+FDCC",
        dis="+FDIS",
        bit_order="+FBOR",
        abort="+FK",
        ppr_command="+FPTS",
        receive_enable="+FCR=1",
        report_enable=False,
        flow_command=False,
        ident_queries=("+FMFR?", "+FMDL?", "+FREV?"),
        hex_values=False,
        inband_page_end=False,
        xon_after_connect=True,
        receive_trigger=bytes([at.DC2]),
        dle_sub_is_two_dle=False,
        receive_msb_first=True,
        numbering=Numbering.CLASS2,
        reports=(
            ("+FHNG:", Kind.HANGUP),
            ("+FCON", Kind.FAX_CONNECT),
            ("+FCSI:", Kind.REMOTE_ID),
            ("+FTSI:", Kind.REMOTE_ID),
            ("+FDIS:", Kind.DIS),
            ("+FDCS:", Kind.DCS),
            ("+FPTS:", Kind.PPR),
            ("+FCFR", Kind.CFR),
        )
        + _COMMON_REPORTS,
    ),
}

DIALECTS[FaxClass.CLASS21] = replace(DIALECTS[FaxClass.CLASS20], fax_class=FaxClass.CLASS21)

_FINAL: dict[str, Kind] = {
    "OK": Kind.OK,
    "ERROR": Kind.ERROR,
    "RING": Kind.RING,
    "BUSY": Kind.BUSY,
    "NO CARRIER": Kind.NO_CARRIER,
    "NO DIALTONE": Kind.NO_DIALTONE,
    "NO DIAL TONE": Kind.NO_DIALTONE,
    "NO ANSWER": Kind.NO_ANSWER,
}
_CALLER_ID_KEYS = ("NMBR", "NAME", "DATE", "TIME", "MESG")
_CONTROL_KINDS = {at.XON: Kind.XON, at.XOFF: Kind.XOFF, at.DC2: Kind.DC2}


def classify(dialect: Dialect, event: at.Event) -> ModemEvent:
    """Turn a parser event into a class-independent :class:`ModemEvent`."""
    if isinstance(event, at.Data):
        return ModemEvent(Kind.DATA, data=event.data)
    if isinstance(event, at.DataEnd):
        return ModemEvent(Kind.DATA_END)
    if isinstance(event, at.Control):
        return ModemEvent(_CONTROL_KINDS[event.byte], text=f"<0x{event.byte:02X}>")
    text = event.text
    upper = text.upper()
    if upper in _FINAL:
        return ModemEvent(_FINAL[upper], text=text)
    if upper.startswith("CONNECT"):
        return ModemEvent(Kind.CONNECT, text=text, value=text[7:].strip())
    for prefix, kind in dialect.reports:
        if upper.startswith(prefix):
            value = text[len(prefix) :].lstrip(":= ").strip()
            if kind is Kind.REMOTE_ID:
                value = value.strip('"').strip()
            return ModemEvent(kind, text=text, value=value)
    key = upper.split("=", 1)[0].strip()
    if "=" in upper and key in _CALLER_ID_KEYS:
        return ModemEvent(Kind.CALLER_ID, text=text)
    return ModemEvent(Kind.INFO, text=text)


_REVERSE = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def reverse_bits(data: bytes) -> bytes:
    """Reverse the bit order of every byte (MSB-first <-> LSB-first)."""
    return data.translate(_REVERSE)
