"""Sending a page: DTE data through the modem's buffer onto the line (spec §8, T.32 §8.5.1.3).

The modem has a transmit buffer of ``+FBS`` bytes.  Page data from the DTE
go into it and leave it at the line rate, a piece every ``chunk_seconds``
(the ``tx`` timer).  With flow control on (``+FLO=1``, always in Class 2)
the modem sends XOFF when the buffer is three quarters full and XON when it
has drained to a quarter, so a DTE that honours XOFF never gets more than a
buffer ahead of the line.  After the page end (``<DLE><ETX>``/``<DLE>.``)
the rest of the buffer drains; a page takes at least ``min_page_seconds``.
What the line carries besides the page data takes its time too, as T.30/T.4
require it and no more:

* without ECM, the fill a Class 2 modem adds so that each coded line lasts
  the minimum scan-line time of the DCS (``st``, :mod:`hwsim._scanline`),
  paid as the lines go out (so the buffer drains more slowly);
* with ECM, the HDLC framing of the page (frame fields, zero-bit insertion,
  RCP), the resent frames and PPS/PPR exchanges, and one PPS-NULL/MCF
  exchange for each partial page but the last (:mod:`hwsim._ecm`).

Without pacing (``--fast``) data go to the line as they come and nothing is
held back.

The handlers of the sending side's transitions (``+FDT``, page data,
``+FET=``, the page response) live here too; each returns the state it ends in
(:mod:`hwsim._table` declares which it may).
"""

from __future__ import annotations

from . import _ecm, _page, _scanline
from ._context import NO_RESPONSE_CODE, HangupCode, ModemContext, State, Step, Timer, negotiate
from .line import Caps, Hangup, PageData, PageEnd, PageResponse, PageStart, PostPage, ToLine

XON, XOFF = bytes([_page.DC1]), b"\x13"
PPM_BY_DLE = {_page.ETX: None, ord(","): 0, ord(";"): 1, ord("."): 2}


def buffer_size(ctx: ModemContext) -> int:
    """The transmit buffer size the modem advertises in ``+FBS``."""
    return ctx.number_value("FBS")


def flow_control(ctx: ModemContext) -> bool:
    """Flow control towards the DTE: Class 2 always, Class 2.0 unless ``+FLO=0``.

    ``+FLO=2`` asks for RTS/CTS, which a pty cannot carry: the simulator
    signals it with XOFF/XON too (DTEs that ask for hardware flow control,
    like mgetty's sendfax, also honour XOFF).
    """
    return ctx.call.fax_class == "2" or ctx.number_value("FLO") != 0


def rate(ctx: ModemContext) -> float:
    """Page bytes the line carries a second, times 8 (the DCS rate; with T.30 timing the
    rate seen on a real line, ~98.6 % of it; divided by the time scale)."""
    dcs = ctx.call.dcs
    nominal = 2400.0 * ((dcs[1] if dcs else 5) + 1)
    if ctx.config.t30 is not None:
        nominal *= 14193 / 14400
    return nominal / ctx.config.time_scale


def page_duration(ctx: ModemContext, size: int, *, bits: int | None = None, extra: float = 0.0) -> float:
    """Line time of a page of ``size`` bytes (or ``bits`` on the line, ECM framing and
    resent frames included) at the negotiated rate, plus ``extra`` seconds."""
    if not ctx.config.pacing:
        return 0.0
    dcs = ctx.call.dcs
    line_rate = 2400 * ((dcs[1] if dcs else 5) + 1)
    line_bits = size * 8 if bits is None else bits
    return max(ctx.config.min_page_seconds, line_bits / line_rate + extra)


# -- transitions -----------------------------------------------------------------


def start_page(ctx: ModemContext, _arg: object) -> State:
    """Phase B is over (or the short train): ``CONNECT``, the DTE sends the page."""
    call = ctx.call
    remote = call.remote
    if remote is None or not remote.can_receive:
        ctx.hang_up(HangupCode.TX_REMOTE_CANNOT_RECEIVE)
        return State.IDLE
    dcs = negotiate(ctx.local_info().caps, remote.caps)
    report = dcs != call.dcs
    call.dcs = dcs
    ctx.emit(ToLine(PageStart(call.page_no, dcs)))
    c2 = call.fax_class == "2"
    if report and ctx.report_enabled(1):
        ctx.info(f"{'+FDCS' if c2 else '+FCS'}:{ctx.caps_text(dcs)}")
    ctx.result("CONNECT")
    if c2:
        ctx.send(XON)  # SP-2388-A: XON, ready for data
    call.tx = type(call.tx)()
    _line_costs(ctx, dcs)
    if ctx.config.pacing:
        ctx.start_timer(Timer.TX, ctx.config.chunk_seconds)
    return State.TX_DATA


def page_data(ctx: ModemContext, data: bytes) -> State:
    """Page data from the DTE, up to ``<DLE><ETX>``/``<DLE>,;.``."""
    chunk, end, rest = ctx.call.tx.reader.feed(data)
    _from_dte(ctx, chunk)
    if end is None:
        return State.TX_DATA
    ctx.unread = rest
    ppm = PPM_BY_DLE[end]
    if ppm is None and ctx.call.fax_class != "2":
        ppm = 0  # bare <DLE><ETX> in 2.0: taken as MPS
    lost = ctx.call.tx.lost
    if lost is not None:
        ctx.hang_up(lost, line=False)
        return State.IDLE
    ctx.call.tx_ppm = ppm
    _page_end(ctx)
    return State.TX_LINE


def tick(ctx: ModemContext, _arg: object) -> None:
    """The ``tx`` timer: a piece of the buffer goes out on the line.

    The line carries ``rate * chunk_seconds`` bits a piece: fill still owed
    first, then data (fractions of a byte carried to the next piece).  When
    what is left of an ended page fits in the next piece, the page ends after
    exactly its time rather than at the next whole piece.
    """
    tx = ctx.call.tx
    step = ctx.config.chunk_seconds
    budget = rate(ctx) * step
    fill = min(tx.fill_owed, int(budget))
    tx.fill_owed -= fill
    tx.credit += budget - fill
    count = min(int(tx.credit // 8), len(tx.queue))
    tx.credit -= count * 8
    _to_line(ctx, count)  # (finds the fill the lines in it need)
    if not tx.queue:  # the rest of the piece carries fill still owed, or the line waits
        tx.fill_owed -= min(tx.fill_owed, int(tx.credit))
        tx.credit = 0.0
    tx.elapsed += step
    # A real modem drains its buffer continuously and sends XON the moment it is down to
    # a quarter; this one drains a piece per ``step``, so it sends XON at the piece in which
    # the buffer will reach a quarter (at high rates a piece is half the buffer: waiting for
    # the next one would leave the line without data, a time a real modem does not lose).
    if tx.xoff and len(tx.queue) - budget / 8 <= buffer_size(ctx) // 4:
        release(ctx)
    if tx.ended and len(tx.queue) * 8 + tx.fill_owed <= budget:
        # the rest fits in the next piece: it goes now, the page ends after exactly its time
        left = len(tx.queue) * 8
        _to_line(ctx, len(tx.queue))
        left += tx.fill_owed  # the fill of its lines included
        ctx.start_timer(Timer.TX_END, max(left / rate(ctx), ctx.config.min_page_seconds - tx.elapsed) + tx.extra)
    else:
        ctx.start_timer(Timer.TX, step)


def page_sent(ctx: ModemContext, _arg: object) -> State:
    """``tx_end``: the rest of the page, the page end, then the post-page message
    (Class 2: after ``+FET=``)."""
    tx = ctx.call.tx
    ctx.cancel_timer(Timer.TX)
    _to_line(ctx, len(tx.queue))
    release(ctx)
    ctx.emit(ToLine(PageEnd(ctx.call.page_no, damaged=tx.damaged)))
    if ctx.call.tx_ppm is None:  # Class 2: wait for AT+FET=
        ctx.result("OK")
        ctx.start_timer(Timer.PHCTO, ctx.number_value("FCT") / 10)
        return State.TX_WAIT_FET
    return _post_page(ctx, ctx.call.tx_ppm)


def post_page_command(ctx: ModemContext, value: str) -> State:
    """Class 2 ``AT+FET=<ppm>`` after ``<DLE><ETX>``."""
    if value.strip() not in ("0", "1", "2"):
        ctx.result("ERROR")
        return State.TX_WAIT_FET
    ctx.cancel_timer(Timer.PHCTO)
    return _post_page(ctx, int(value))


def _post_page(ctx: ModemContext, ppm: int) -> State:
    ctx.call.tx_ppm = ppm
    ctx.start_timer(Timer.RESPONSE, ctx.config.response_seconds)
    ctx.later(Step.POST_PAGE, ppm)
    return State.TX_WAIT_PPR


def send_post_page(ctx: ModemContext, ppm: object) -> None:
    """The post-page message goes to the line."""
    assert isinstance(ppm, int)
    ctx.emit(ToLine(PostPage(ppm)))


def no_fet(ctx: ModemContext, _arg: object) -> State:
    """``+FPHCTO`` ran out: the modem ends the document itself; reported at the next command."""
    ctx.emit(ToLine(PostPage(2)))
    ctx.emit(Hangup())
    ctx.end_call(keep_class=True)
    ctx.pending_hangup = HangupCode.TX_D_NO_FET
    return State.IDLE


def no_response(ctx: ModemContext, _arg: object) -> State:
    """The remote did not answer the post-page message."""
    ctx.hang_up(NO_RESPONSE_CODE.get(ctx.call.tx_ppm or 0, HangupCode.TX_D_NO_MPS_RESPONSE))
    return State.IDLE


def response_arrives(ctx: ModemContext, signal: PageResponse) -> None:
    """The remote's page response is on its way (its frame takes a T.30 step)."""
    ctx.cancel_timer(Timer.RESPONSE)
    ctx.later(Step.PAGE_RESPONSE, signal.ppr)


def page_response(ctx: ModemContext, ppr: object) -> None:
    """MCF/RTN/...: the next page, a retrain, or (EOP answered) the end of the call."""
    assert isinstance(ppr, int)
    call = ctx.call
    ctx.cancel_timer(Timer.RESPONSE)
    ppm = call.tx_ppm
    good = ppr % 2 == 1
    ctx.values["FPS"] = (ppr,)
    if good:
        call.page_no += 1
    if ppm == 1 or ppr in (2, 3):
        call.dcs = None  # retrain or new document: phase B again, DCS reported
    c2 = call.fax_class == "2"
    if c2:
        ctx.info(f"+FPTS:{ppr}")
    if ppm == 2 and good:
        ctx.later(Step.DCN)
        return
    ctx.result("OK" if good or c2 else "ERROR")


def call_done(ctx: ModemContext, _arg: object) -> State:
    """DCN: the call ended normally."""
    ctx.hang_up(HangupCode.NORMAL_END)
    return State.IDLE


# -- the transmit buffer ------------------------------------------------------------


def _from_dte(ctx: ModemContext, chunk: bytes) -> None:
    """Unstuffed page data from the DTE (DTE bit order)."""
    if not chunk:
        return
    tx = ctx.call.tx
    if ctx.number_value("FBO") & 1:
        chunk = _page.reverse_bits(chunk)
    tx.queue += chunk
    tx.total += len(chunk)
    if tx.framer is not None:
        tx.framer.feed(chunk)
    size = buffer_size(ctx)
    ctx.flow_stats.peak = max(ctx.flow_stats.peak, len(tx.queue))
    if len(tx.queue) > size:
        ctx.flow_stats.overrun += 1
    if not ctx.config.pacing:
        _to_line(ctx, len(tx.queue))
    elif flow_control(ctx) and not tx.xoff and len(tx.queue) >= size * 3 // 4:
        tx.xoff = True
        ctx.flow_stats.xoffs += 1
        ctx.send(XOFF)


def _to_line(ctx: ModemContext, count: int) -> None:
    tx = ctx.call.tx
    piece = bytes(tx.queue[:count])
    del tx.queue[:count]
    if not piece:
        return
    if tx.scan is not None:
        tx.fill_owed += tx.scan.feed(piece)
    dcs = ctx.call.dcs
    ecm = bool(dcs and dcs[5])
    if not ecm and ctx.call.ber > 0:
        line, tx.carry = _ecm.without_ecm(piece, ctx.call.ber, tx.carry)
        piece, tx.damaged = line.data, tx.damaged or line.damaged
    ctx.emit(ToLine(PageData(piece)))


def release(ctx: ModemContext) -> None:
    """Let a DTE held by XOFF go on (the call broke off: it must finish the page)."""
    if ctx.call.tx.xoff:
        ctx.call.tx.xoff = False
        ctx.send(XON)


def _line_costs(ctx: ModemContext, dcs: Caps) -> None:
    """What the line carries for this page besides its data: ECM frames, or
    (without ECM, paced) fill for the minimum scan-line time of DCS ``st``."""
    tx = ctx.call.tx
    if dcs[5]:
        tx.framer = _ecm.Framer(_ecm.frame_bytes(dcs[5]))
    elif ctx.config.pacing:
        bps = 2400 * (dcs[1] + 1)
        min_bits = _scanline.min_line_bits(dcs[7], bool(dcs[0]), bps)
        if min_bits:
            tx.scan = _scanline.ScanLines(min_bits)


def _page_end(ctx: ModemContext) -> None:
    """The DTE ended the page: drain the buffer, then ``tx_end``."""
    tx = ctx.call.tx
    tx.ended = True
    tx.extra = 0.0
    if tx.framer is not None:
        tx.framer.close()
        line = _ecm.ecm_cost(tx.framer, tx.total, ctx.call.ber)
        tx.damaged = line.damaged
        exchanges = line.ppr_rounds + line.blocks - 1  # PPS/PPR rounds, PPS-NULL/MCF between blocks
        tx.extra = (line.line_bits - tx.total * 8) / rate(ctx) + exchanges * ctx.config.ppr_seconds
        ctx.flow_stats.frames_resent += line.frames_resent
    if not ctx.config.pacing:
        ctx.start_timer(Timer.TX_END, 0.0)
    # paced: the running ``tx`` timer drains the rest and starts ``tx_end``
