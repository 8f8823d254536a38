"""Receiving a page: ``+FDR``, the DC2 trigger, page data to the DTE, the post-page report (spec §7).

``+FDR`` answers the previous page's post-page message (the page response
goes to the sender), then ``[+FCFR] [+FDCS:] CONNECT`` once a page starts.
The DTE sends DC2 (or DC1); page data follow with RTC (appended if the sender
left it out), ``<DLE><ETX>``, ``+FPTS:``/``+FPS:``, ``+FET:`` and ``OK``.
Each handler returns the state it ends in (:mod:`hwsim._table` declares
which it may).
"""

from __future__ import annotations

from . import _page
from ._context import HangupCode, ModemContext, Role, RxPage, State, Step, Timer
from .line import PageData, PageEnd, PageResponse, PageStart, PostPage, ToLine

END_OF_DATA = bytes([_page.DLE, _page.ETX])


def receive_next(ctx: ModemContext, _arg: object) -> State:
    """``+FDR``: answer the last page, then wait for (or report) the next one."""
    call = ctx.call
    if call.role is not Role.RX:
        ctx.result("ERROR")
        return State.CALL
    if call.held_ppm is not None:
        ppm, call.held_ppm = call.held_ppm, None
        ppr = ctx.number_value("FPS")
        ctx.emit(ToLine(PageResponse(ppr)))
        if ppm == 2 and ppr % 2 == 1:
            # the sender's DCN ends the call (reported as a normal end); wait for it, or a little longer
            ctx.later(Step.RX_DCN)
            return State.RX_WAIT_PAGE
        if ppm == 1:
            call.first_page = True
    if call.rx is not None:
        return _connect(ctx)
    ctx.start_timer(Timer.PAGE_WAIT, ctx.config.page_wait_seconds)
    return State.RX_WAIT_PAGE


def _connect(ctx: ModemContext) -> State:
    call = ctx.call
    rx = call.rx
    assert rx is not None
    ctx.cancel_timer(Timer.PAGE_WAIT)
    c2 = call.fax_class == "2"
    if c2 and call.first_page:
        ctx.info("+FCFR")
    if rx.start.dcs != call.dcs and ctx.report_enabled(1):
        ctx.info(f"{'+FDCS' if c2 else '+FCS'}:{ctx.caps_text(rx.start.dcs)}")
    call.dcs = rx.start.dcs
    call.first_page = False
    ctx.result("CONNECT")
    return State.RX_WAIT_TRIGGER


def to_dte(ctx: ModemContext, wire: bytes) -> bytes:
    """Received wire-order data as the DTE gets it (bit order, DLE doubled)."""
    reversed_order = ctx.number_value("FBO") & 1 == 1
    if ctx.call.fax_class == "2" and ctx.config.class2_rx_reversed:
        reversed_order = not reversed_order
    return _page.dle_stuff(_page.reverse_bits(wire) if reversed_order else wire)


def _finish(ctx: ModemContext) -> State:
    """The page data are over: RTC and ``<DLE><ETX>``, then the report once the
    post-page message is known."""
    rx = ctx.call.rx
    assert rx is not None
    dcs = ctx.call.dcs or rx.start.dcs
    # MMR (df 3) ends with EOFB, which is page data: no RTC
    tail = (b"" if dcs[4] == 3 else _page.rtc_tail(bytes(rx.data), two_d=dcs[4] != 0)) + _page.TRAILING_FILL
    rx.data += tail
    ctx.send(to_dte(ctx, tail) + END_OF_DATA)
    if rx.ppm is not None:
        return _report(ctx)
    return State.RX_WAIT_PPM


def _report(ctx: ModemContext) -> State:
    call = ctx.call
    rx = call.rx
    assert rx is not None and rx.ppm is not None
    ppr = 2 if rx.damaged else 1
    dcs = call.dcs or rx.start.dcs
    lines = 0 if dcs[4] == 3 else _page.count_lines(bytes(rx.data), dcs[4] == 1)  # MMR has no line marks
    if call.fax_class == "2":
        ctx.info(f"+FPTS:{ppr},{lines},0,0")
    elif ctx.config.fps_decimal:
        ctx.info(f"+FPS:{ppr},{lines},0,0,0")
    else:
        ctx.info(f"+FPS:{ppr},{lines:04X},0000,0000,0000")
    ctx.info(f"+FET:{rx.ppm}")
    ctx.values["FPS"] = (ppr,)
    call.held_ppm = call.last_rx_ppm = rx.ppm
    call.rx = None
    ctx.result("OK")
    return State.CALL


# -- DTE data -------------------------------------------------------------------------


def trigger(ctx: ModemContext, data: bytes) -> State:
    """After ``CONNECT``: DC2 (or DC1) starts the page data, CAN ends the call."""
    if _page.CAN in data:
        return _abort(ctx)
    for i, byte in enumerate(data):
        if byte in (_page.DC1, _page.DC2):
            ctx.unread = data[i + 1 :]
            rx = ctx.call.rx
            if rx is not None:
                ctx.send(to_dte(ctx, bytes(rx.data)))
                if rx.ended:
                    return _finish(ctx)
            return State.RX_DATA
    return State.RX_WAIT_TRIGGER


def while_data(ctx: ModemContext, data: bytes) -> State:
    """While page data flow to the DTE: CAN ends the call, other bytes are ignored."""
    if _page.CAN in data:
        return _abort(ctx)
    return State.RX_DATA


def _abort(ctx: ModemContext) -> State:
    ctx.send(END_OF_DATA)
    ctx.hang_up(HangupCode.CALL_ABORTED)
    return State.IDLE


# -- the sender's signals -----------------------------------------------------------------
# ``*_now`` handlers act on a signal the state waits for; the others keep it for later.


def keep_page_start(ctx: ModemContext, signal: PageStart) -> None:
    """The sender starts a page before ``+FDR`` asked for it."""
    if ctx.call.role is Role.RX:
        ctx.call.rx = RxPage(signal)


def page_start_now(ctx: ModemContext, signal: PageStart) -> State:
    """``+FDR`` waits: the page is reported at once."""
    ctx.call.rx = RxPage(signal)
    return _connect(ctx)


def keep_page_data(ctx: ModemContext, signal: PageData) -> None:
    if ctx.call.rx is not None:
        ctx.call.rx.data += signal.data


def page_data_now(ctx: ModemContext, signal: PageData) -> None:
    keep_page_data(ctx, signal)
    if ctx.call.rx is not None:
        ctx.send(to_dte(ctx, signal.data))


def keep_page_end(ctx: ModemContext, signal: PageEnd) -> None:
    rx = ctx.call.rx
    if rx is not None:
        rx.ended = True
        rx.damaged = signal.damaged


def page_end_now(ctx: ModemContext, signal: PageEnd) -> State:
    keep_page_end(ctx, signal)
    return _finish(ctx) if ctx.call.rx is not None else State.RX_DATA


def keep_post_page(ctx: ModemContext, signal: PostPage) -> None:
    if ctx.call.rx is not None:
        ctx.call.rx.ppm = signal.ppm


def post_page_now(ctx: ModemContext, signal: PostPage) -> State:
    keep_post_page(ctx, signal)
    return _report(ctx) if ctx.call.rx is not None else State.RX_WAIT_PPM


def no_page(ctx: ModemContext, _arg: object) -> State:
    """No page within ``page_wait_seconds``."""
    ctx.hang_up(HangupCode.RX_B_NO_PAGE)
    return State.IDLE


def call_done(ctx: ModemContext, _arg: object) -> State:
    """The sender's DCN (or our wait for it) ends the call normally."""
    ctx.hang_up(HangupCode.NORMAL_END)
    return State.IDLE
