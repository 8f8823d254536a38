"""T.30 session parameters ``vr,br,wd,ln,df,ec,bf,st`` and their negotiation (pure).

Spec fax-modem-at.md §3.  Class 2 writes the fields in decimal, Class 2.0
in hex (only values ≥ 10 differ); many 2.0 modems print decimal anyway, so
parsing accepts hex digits in both and only the *writing* base differs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

__all__ = [
    "BitRate",
    "Caps",
    "NegotiationError",
    "PageFormat",
    "SessionParams",
    "negotiate",
    "parse_caps",
]

FIELDS = ("vr", "br", "wd", "ln", "df", "ec", "bf", "st")


class BitRate(IntEnum):
    """The BR field: 0 = 2400 … 5 = 14400 bit/s (Class 2.1 goes on to 13 = 33600)."""

    BPS_2400 = 0
    BPS_4800 = 1
    BPS_7200 = 2
    BPS_9600 = 3
    BPS_12000 = 4
    BPS_14400 = 5

    @property
    def bps(self) -> int:
        return (self.value + 1) * 2400

    @classmethod
    def from_bps(cls, bps: int) -> BitRate:
        if bps % 2400 or not 2400 <= bps <= 14400:
            raise ValueError(f"fax bit rate {bps} is not one of 2400, 4800, …, 14400")
        return cls(bps // 2400 - 1)


def bps_of(br: int) -> int:
    """Line rate in bit/s of a BR field value (Class 2.1 values included)."""
    return (br + 1) * 2400


class NegotiationError(ValueError):
    """The document cannot be sent with what the remote station allows."""


@dataclass(frozen=True, slots=True)
class SessionParams:
    """One set of T.30 session parameters (a DIS, DCS or ``+FCC`` value)."""

    vr: int = 0
    br: int = 5
    wd: int = 0
    ln: int = 2
    df: int = 0
    ec: int = 0
    bf: int = 0
    st: int = 0

    @property
    def fine(self) -> bool:
        return bool(self.vr & 1)

    @property
    def bps(self) -> int:
        return bps_of(self.br)

    def format(self, *, hex_values: bool) -> str:
        """``1,5,0,2,0,0,0,0`` as written after ``+FCC=``/``+FDCC=``."""
        fmt = "{:X}" if hex_values else "{:d}"
        return ",".join(fmt.format(getattr(self, name)) for name in FIELDS)

    @classmethod
    def parse(cls, text: str) -> SessionParams:
        """Parse a report payload such as ``1,5,0,2,0,0,0,0`` (missing fields keep defaults).

        Fields are read as hex digits: identical to decimal below 10, right
        for Class 2.0 above.  Raises ValueError naming the text.
        """
        parts = [p.strip() for p in text.strip().split(",")]
        values: dict[str, int] = {}
        for name, part in zip(FIELDS, parts):
            if not part:
                continue
            try:
                values[name] = int(part, 16)
            except ValueError:
                raise ValueError(f"session parameter {name}={part!r} in {text!r} is not a number") from None
        if not values:
            raise ValueError(f"no session parameters in {text!r}")
        return cls(**values)


@dataclass(frozen=True, slots=True)
class PageFormat:
    """What the document needs: fine (196 lpi) or normal, width and length codes."""

    fine: bool = True
    wd: int = 0  # 1728 pels
    ln: int = 0  # A4 (Letter fits inside A4 length)


@dataclass(frozen=True, slots=True)
class Caps:
    """A ``+FCC=?`` reply: the set of allowed values of each field."""

    fields: tuple[frozenset[int], ...]

    def allows(self, name: str, value: int) -> bool:
        index = FIELDS.index(name)
        if index >= len(self.fields) or not self.fields[index]:
            return True
        return value in self.fields[index]

    def offers(self, name: str, value: int) -> bool:
        """Whether the range of ``name`` is given and holds ``value`` (no range: False)."""
        index = FIELDS.index(name)
        return index < len(self.fields) and value in self.fields[index]

    def highest(self, name: str) -> int | None:
        index = FIELDS.index(name)
        if index >= len(self.fields) or not self.fields[index]:
            return None
        return max(self.fields[index])


_GROUP = re.compile(r"\(([^)]*)\)|([0-9A-Fa-f]+)")


def parse_caps(text: str) -> Caps:
    """Parse ``(0,1),(0-5),(0-2),(0-2),(0,1),(0),(0),(0-7)`` into per-field sets."""
    fields: list[frozenset[int]] = []
    for match in _GROUP.finditer(text):
        body = match.group(1) if match.group(1) is not None else match.group(2)
        values: set[int] = set()
        for item in body.split(","):
            item = item.strip()
            if not item:
                continue
            low, sep, high = item.partition("-")
            try:
                start = int(low, 16)
                end = int(high, 16) if sep else start
            except ValueError:
                raise ValueError(f"capability range {item!r} in {text!r} is not a number") from None
            values.update(range(start, end + 1))
        fields.append(frozenset(values))
    if not fields:
        raise ValueError(f"no capability ranges in {text!r}")
    return Caps(tuple(fields))


MAX_BR_CLASS20 = 5  # 14,400 bit/s: V.17, the fastest rate of Class 2 / 2.0
MAX_BR_CLASS21 = 13  # 33,600 bit/s: V.34 (Class 2.1 only, and only with ECM)
DF_MH, DF_MR, DF_MMR = 0, 1, 3  # the df values used here (T.32: 2 is 2-D uncompressed mode)


def _best_df(codings: frozenset[int], remote_df: int, ecm: bool) -> int:
    """The most compact coding we have that the other end takes (MMR only with ECM)."""
    for df in (DF_MMR, DF_MR):
        if df in codings and remote_df >= df and (df != DF_MMR or ecm):
            return df
    return DF_MH


def _best_ec(caps: Caps | None, want: bool) -> int:
    """ECM frame size code to offer: 2 (256-byte frames) or 1 (64) if the modem allows it."""
    if not want or caps is None:
        return 0
    for ec in (2, 1):
        if caps.offers("ec", ec):
            return ec
    return 0


def local_params(
    doc: PageFormat,
    *,
    max_br: int = 5,
    caps: Caps | None = None,
    codings: frozenset[int] = frozenset({DF_MH}),
    ecm: bool = True,
) -> SessionParams:
    """What we offer the modem with ``+FCC``: the document's format, our speed
    limit, and the page codings we have (``codings``, df values) as far as the
    modem's ``+FCC=?`` ranges allow; ECM (``ec``) when the modem has it and
    ``ecm`` is on.  Without caps only MH, no ECM and at most 14,400 bit/s are
    offered.  Rates above 14,400 bit/s (V.34) are offered only with ECM.
    """
    ec = _best_ec(caps, ecm)
    br = max_br
    if caps is None:
        br = min(br, MAX_BR_CLASS20)
    else:
        top = caps.highest("br")
        if top is not None:
            br = min(br, top)
    if not ec:
        br = min(br, MAX_BR_CLASS20)
    vr = 1 if doc.fine and (caps is None or caps.allows("vr", 1)) else 0
    df = DF_MH
    if caps is not None and caps.highest("df") is not None:
        df = _best_df(codings, max(v for v in (0, 1, 3) if caps.offers("df", v) or v == 0), bool(ec))
    return SessionParams(vr=vr, br=br, wd=doc.wd, ln=2, df=df, ec=ec, bf=0, st=0)


def negotiate(
    doc: PageFormat,
    remote: SessionParams,
    *,
    max_br: int = 5,
    offer: SessionParams | None = None,
) -> SessionParams:
    """The parameters a page of ``doc`` is sent with, given the remote's DIS
    and what we offered (``offer``: df and ec; MH without ECM if None).

    Raises NegotiationError when the remote cannot take the page as it is
    (it would have to be rendered again at another resolution or width).
    """
    if doc.fine and not remote.fine:
        raise NegotiationError("the remote accepts normal resolution only; the pages are fine resolution")
    if doc.wd > remote.wd:
        raise NegotiationError(f"the remote accepts width code {remote.wd} only; the pages need {doc.wd}")
    if remote.ln != 2 and doc.ln > remote.ln:
        raise NegotiationError(f"the remote accepts length code {remote.ln} only; the pages need {doc.ln}")
    ec = min(offer.ec, remote.ec) if offer is not None else 0
    df = _best_df(frozenset(range(offer.df + 1)) if offer is not None else frozenset({DF_MH}), remote.df, bool(ec))
    br = min(max_br, remote.br)
    if not ec:
        br = min(br, MAX_BR_CLASS20)
    return SessionParams(
        vr=1 if doc.fine else 0,
        br=br,
        wd=doc.wd,
        ln=doc.ln,
        df=df,
        ec=ec,
        bf=0,
        st=remote.st,
    )
