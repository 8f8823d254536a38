"""Sending a page: DTE data through the modem's buffer onto the line (spec §8, T.32 §8.5.1.3).

The modem has a transmit buffer of ``+FBS`` bytes.  Page data from the DTE
go into it and leave it at the line rate, a piece every ``chunk_seconds``
(the ``tx`` timer).  With flow control on (``+FLO=1``, always in Class 2)
the modem sends XOFF when the buffer is three quarters full and XON when it
has drained to a quarter, so a DTE that honours XOFF never gets more than a
buffer ahead of the line.  After the page end (``<DLE><ETX>``/``<DLE>.``)
the rest of the buffer drains; a page takes at least ``min_page_seconds``,
and with ECM the resent frames and PPS/PPR exchanges add their time
(:mod:`hwsim._ecm`).  Without pacing (``--fast``) data go to the line as
they come and nothing is held back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _ecm, _page
from .line import PageData, PageEnd, ToLine

if TYPE_CHECKING:
    from .modem import SimModem

XON, XOFF = bytes([_page.DC1]), b"\x13"


def buffer_size(modem: SimModem) -> int:
    """The transmit buffer size the modem advertises in ``+FBS``."""
    fbs = modem._values["FBS"]
    return int(fbs[0]) if isinstance(fbs, tuple) else 2048


def flow_control(modem: SimModem) -> bool:
    """Flow control towards the DTE: Class 2 always, Class 2.0 unless ``+FLO=0``.

    ``+FLO=2`` asks for RTS/CTS, which a pty cannot carry: the simulator
    signals it with XOFF/XON too (DTEs that ask for hardware flow control,
    like mgetty's sendfax, also honour XOFF).
    """
    flo = modem._values["FLO"]
    return modem._call_class == "2" or (isinstance(flo, tuple) and flo[0] != 0)


def rate(modem: SimModem) -> float:
    """Page bytes the line carries a second, times 8 (the DCS rate; with T.30 timing the
    rate seen on a real line, ~98.6 % of it; divided by the time scale)."""
    nominal = 2400 * ((modem._dcs[1] if modem._dcs else 5) + 1)
    if modem.config.t30 is not None:
        nominal *= 14193 / 14400
    return nominal / modem.config.time_scale


def begin(modem: SimModem) -> None:
    """CONNECT has been sent: the page starts."""
    modem._tx_queue = bytearray()
    modem._tx_total = 0
    modem._tx_xoff = False
    modem._tx_elapsed = 0.0
    modem._tx_damaged = False
    modem._tx_ended = False
    modem._tx_carry = 0.0
    if modem.config.pacing:
        modem._emit(_start("tx", modem.config.chunk_seconds))


def _start(name: str, seconds: float) -> object:
    from .modem import StartTimer

    return StartTimer(name, seconds)


def from_dte(modem: SimModem, chunk: bytes) -> None:
    """Unstuffed page data from the DTE (DTE bit order)."""
    if not chunk:
        return
    if modem._values["FBO"][0] & 1:  # type: ignore[index]
        chunk = _page.reverse_bits(chunk)
    modem._tx_queue += chunk
    modem._tx_total += len(chunk)
    size = buffer_size(modem)
    modem.flow_stats.peak = max(modem.flow_stats.peak, len(modem._tx_queue))
    if len(modem._tx_queue) > size:
        modem.flow_stats.overrun += 1
    if not modem.config.pacing:
        _to_line(modem, len(modem._tx_queue))
    elif flow_control(modem) and not modem._tx_xoff and len(modem._tx_queue) >= size * 3 // 4:
        modem._tx_xoff = True
        modem.flow_stats.xoffs += 1
        modem._send(XOFF)


def _to_line(modem: SimModem, count: int) -> None:
    piece = bytes(modem._tx_queue[:count])
    del modem._tx_queue[:count]
    if not piece:
        return
    ecm = bool(modem._dcs and modem._dcs[5])
    if not ecm and modem._ber > 0:
        line, modem._tx_carry = _ecm.without_ecm(piece, modem._ber, modem._tx_carry)
        piece, modem._tx_damaged = line.data, modem._tx_damaged or line.damaged
    modem._emit(ToLine(PageData(piece)))


def release(modem: SimModem) -> None:
    """Let a DTE held by XOFF go on (the call broke off: it must finish the page)."""
    if modem._tx_xoff:
        modem._tx_xoff = False
        modem._send(XON)


def tick(modem: SimModem) -> None:
    """The ``tx`` timer: a piece of the buffer goes out on the line."""
    step = modem.config.chunk_seconds
    _to_line(modem, int(rate(modem) * step / 8))
    modem._tx_elapsed += step
    if modem._tx_xoff and len(modem._tx_queue) <= buffer_size(modem) // 4:
        release(modem)
    if modem._tx_ended and not modem._tx_queue:
        remaining = max(0.0, modem.config.min_page_seconds - modem._tx_elapsed) + modem._tx_extra
        modem._emit(_start("tx_end", remaining))
    else:
        modem._emit(_start("tx", step))


def page_end(modem: SimModem) -> None:
    """The DTE ended the page: drain the buffer, then ``tx_end``."""
    modem._tx_ended = True
    ec = modem._dcs[5] if modem._dcs else 0
    modem._tx_extra = 0.0
    if ec:
        data_bits = modem._tx_total * 8
        line = _ecm.ecm_cost(modem._tx_total, modem._ber, ec)
        modem._tx_damaged = line.damaged
        modem._tx_extra = (line.line_bits - data_bits) / rate(modem) + line.ppr_rounds * modem.config.ppr_seconds
        modem.flow_stats.frames_resent += line.frames_resent
    if not modem.config.pacing:
        modem._emit(_start("tx_end", 0.0))
    # paced: the running ``tx`` timer drains the rest and starts ``tx_end``


def finish(modem: SimModem) -> None:
    """``tx_end``: whatever is left goes out, then the page end."""
    from .modem import CancelTimer

    modem._emit(CancelTimer("tx"))
    _to_line(modem, len(modem._tx_queue))
    release(modem)
    modem._emit(ToLine(PageEnd(modem._page_no, damaged=modem._tx_damaged)))
