"""Call set-up and tear-down of the simulated modem (spec §5-§6).

Dialing and answering, rings and caller ID, phase B reports, the fax
action commands outside the page flows (``+FDT`` starts a page, ``+FK``),
and what a call lost or a remote hang-up does in each state.  Each handler
returns the state it ends in, or None for the one :mod:`hwsim._table`
declares.
"""

from __future__ import annotations

from . import _at, _txpage
from ._context import FAX_CLASSES, NO_RESPONSE_CODE, HangupCode, ModemContext, Role, State, Step, Timer, negotiate
from .line import (
    Answer,
    Answered,
    Busy,
    Connected,
    Dial,
    Hangup,
    IncomingCall,
    NoCarrier,
    NoDialTone,
    RemoteHangup,
)

_DIAL_CHARS = frozenset("0123456789*#+")
LINE_RESULTS: dict[type, str] = {Busy: "BUSY", NoDialTone: "NO DIALTONE", NoCarrier: "NO CARRIER"}

# -- commands --------------------------------------------------------------------


def dial(ctx: ModemContext, command: _at.DialCmd) -> State:
    """``ATD``: call a number."""
    number = "".join(c for c in command.dial_string if c in _DIAL_CHARS)
    if not number:
        ctx.result("ERROR")
        return State.IDLE
    ctx.call.fax_class = ctx.fclass
    ctx.emit(Dial(number, ctx.local_info()))
    ctx.start_timer(Timer.DIAL, float(ctx.sregs[7] or 60))
    return State.DIALING


def answer(ctx: ModemContext, _arg: object = None) -> State:
    """``ATA`` or auto-answer while it rings."""
    if ctx.fclass not in FAX_CLASSES:
        ctx.emit(Hangup())
        ctx.end_call()
        ctx.result("NO CARRIER")
        return State.IDLE
    ctx.cancel_timer(Timer.RING)
    ctx.call.fax_class = ctx.fclass
    ctx.emit(Answer(ctx.local_info()))
    return State.ANSWERING


def no_carrier(ctx: ModemContext, _arg: object) -> None:
    """``ATA`` with nothing ringing, ``ATO``: ``NO CARRIER``."""
    ctx.result("NO CARRIER")


def hang_up(ctx: ModemContext, _arg: object) -> None:
    """``ATH``: on-hook."""
    ctx.emit(Hangup())
    ctx.end_call()


def reset(ctx: ModemContext, _arg: object) -> None:
    """``ATZ``/``AT&F``: on-hook, defaults."""
    if ctx.state is not State.IDLE:
        hang_up(ctx, None)
    ctx.reset()


def abort_call(ctx: ModemContext, _arg: object) -> None:
    """``+FK``/``+FKS`` during a call: on-hook, hangup code 2."""
    ctx.hang_up(HangupCode.CALL_ABORTED)


def ok(ctx: ModemContext, _arg: object) -> None:
    """A command with nothing to do in this state (``+FK`` on-hook)."""
    ctx.result("OK")


def error(ctx: ModemContext, _arg: object) -> None:
    """A command that makes no sense in this state."""
    ctx.result("ERROR")


def send_page(ctx: ModemContext, _arg: object) -> None:
    """``+FDT`` between pages of the sending side: phase B (or the short train) first."""
    if ctx.call.role is not Role.TX:
        ctx.result("ERROR")
        return
    ctx.later(Step.START_PAGE)


def report_pending(ctx: ModemContext) -> None:
    """The hangup that happened while no command ran, reported to this fax command."""
    code, ctx.pending_hangup = ctx.pending_hangup, None
    if code is not None:
        ctx.hangup_result(code)


# -- timers ----------------------------------------------------------------------


def ring(ctx: ModemContext, _arg: object = None) -> State:
    """``RING`` (with ``NMBR =`` after the first) or, with ``S0`` rings, answer."""
    call = ctx.call
    call.rings += 1
    ctx.result("RING")
    if call.rings == 1 and ctx.caller_id_on and call.caller:
        ctx.info(f"NMBR = {call.caller}")
    auto = ctx.sregs[0]
    if auto and call.rings >= auto:
        return answer(ctx)
    ctx.start_timer(Timer.RING, ctx.config.ring_seconds)
    return State.RINGING


def no_answer(ctx: ModemContext, _arg: object) -> None:
    """S7 ran out while the remote rang."""
    ctx.emit(Hangup())
    ctx.end_call()
    ctx.result("NO ANSWER")


def dial_aborted(ctx: ModemContext, _data: object) -> None:
    """Any byte from the DTE while dialing hangs up."""
    hang_up(ctx, None)
    ctx.result("NO CARRIER")


# -- line events -------------------------------------------------------------------


def incoming(ctx: ModemContext, event: object) -> State:
    """A call comes in: it rings."""
    assert isinstance(event, IncomingCall)
    ctx.call.caller = event.caller_id
    return ring(ctx)


def ringing_stopped(ctx: ModemContext, _event: object) -> None:
    """The caller gave up before we answered."""
    ctx.end_call()


def answer_failed(ctx: ModemContext, _event: object) -> None:
    """The caller left (or no fax answered) while we answered."""
    ctx.end_call()
    ctx.result("NO CARRIER")


def dial_failed(ctx: ModemContext, event: object) -> None:
    """``BUSY``, ``NO DIALTONE``, ``NO CARRIER``."""
    ctx.end_call()
    ctx.result(LINE_RESULTS.get(type(event), "NO CARRIER"))


def remote_answered(ctx: ModemContext, event: object) -> State:
    """The called station answered; a fax call in a fax class (phase B takes its time)."""
    ctx.cancel_timer(Timer.DIAL)
    if ctx.call.fax_class in FAX_CLASSES:
        ctx.later(Step.CONNECT, event)
        return State.DIALING
    ctx.emit(Hangup())
    ctx.end_call()
    ctx.result("NO CARRIER")
    return State.IDLE


def caller_connected(ctx: ModemContext, event: object) -> None:
    """Our answer met a calling fax (phase B takes its time)."""
    ctx.later(Step.CONNECT, event)


def connected(ctx: ModemContext, event: object) -> None:
    """The fax call is up: phase B reports, then ``OK``."""
    assert isinstance(event, Answered | Connected)
    call = ctx.call
    c2 = call.fax_class == "2"
    remote = event.remote
    call.remote = remote
    call.ber = event.bit_error_rate
    ctx.info("+FCON" if c2 else "+FCO")
    if isinstance(event, Answered):
        call.role = Role.TX
        call.page_no = 1
        if remote.ident and ctx.report_enabled(2):
            ctx.info(f'{"+FCSI" if c2 else "+FCI"}:"{remote.ident}"')
        if ctx.report_enabled(0):
            ctx.info(f"{'+FDIS' if c2 else '+FIS'}:{ctx.caps_text(remote.caps)}")
    else:
        call.role = Role.RX
        call.dcs = negotiate(remote.caps, ctx.local_info().caps)
        if remote.ident and ctx.report_enabled(2):
            ctx.info(f'{"+FTSI" if c2 else "+FTI"}:"{remote.ident}"')
        if ctx.report_enabled(1):
            ctx.info(f"{'+FDCS' if c2 else '+FCS'}:{ctx.caps_text(call.dcs)}")
    ctx.result("OK")


def lost_code(ctx: ModemContext, dcn: bool) -> HangupCode:
    """The hangup code of a call lost (``dcn``: the remote hung up) in this state."""
    state, call = ctx.state, ctx.call
    if state in (State.TX_DATA, State.TX_LINE):
        return HangupCode.TX_C_CARRIER_LOST
    if state is State.TX_WAIT_FET:
        return HangupCode.TX_D_NO_FET
    if state is State.TX_WAIT_PPR:
        if dcn:
            return HangupCode.TX_D_DCN
        return NO_RESPONSE_CODE.get(call.tx_ppm or 0, HangupCode.TX_D_NO_MPS_RESPONSE)
    if call.role is Role.TX:
        return HangupCode.TX_B_DCN if dcn else HangupCode.TX_B_UNSPECIFIED
    if state in (State.RX_WAIT_TRIGGER, State.RX_DATA):
        return HangupCode.RX_C_CARRIER_LOST
    if state is State.RX_WAIT_PPM:
        return HangupCode.RX_D_UNSPECIFIED
    if dcn and 2 in (call.last_rx_ppm, call.held_ppm):
        return HangupCode.NORMAL_END
    return HangupCode.RX_B_DCN if dcn else HangupCode.RX_B_UNSPECIFIED


def _dcn(event: object) -> bool:
    return isinstance(event, RemoteHangup)


def lost_while_sending(ctx: ModemContext, event: object) -> None:
    """The call broke off while the DTE sends page data: reported when it ends the page."""
    ctx.call.tx.lost = lost_code(ctx, _dcn(event))
    ctx.cancel_timer(Timer.TX)
    _txpage.release(ctx)


def lost_between_commands(ctx: ModemContext, event: object) -> None:
    """The call broke off while no command runs: reported by the next fax command."""
    code = lost_code(ctx, _dcn(event))
    ctx.end_call(keep_class=True)
    ctx.pending_hangup = code


def lost_during_command(ctx: ModemContext, event: object) -> None:
    """The call broke off while a command runs: it reports the hangup."""
    code = lost_code(ctx, _dcn(event))
    if ctx.state in (State.RX_WAIT_TRIGGER, State.RX_DATA):
        ctx.send(b"\x10\x03")
    ctx.hang_up(code, line=False)
