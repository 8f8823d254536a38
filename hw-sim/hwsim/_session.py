"""Call and page flows of :class:`hwsim.modem.SimModem` (spec §6-§8).

Dialing and answering, ``+FDT`` / page data / line pacing / ``+FET=`` on the
sending side, ``+FDR`` / DC2 / page delivery / post-page report on the
receiving side, and what every line event or timer does in each state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _page, _t30, _txpage
from .line import (
    Answer,
    Answered,
    Busy,
    CallGone,
    CarrierLost,
    Connected,
    Dial,
    FromLine,
    Hangup,
    IncomingCall,
    LineEvent,
    NoCarrier,
    NoDialTone,
    PageData,
    PageEnd,
    PageResponse,
    PageStart,
    PostPage,
    RemoteHangup,
    ToLine,
)
from .modem import (
    NO_RESPONSE_CODE,
    PPM_BY_DLE,
    CancelTimer,
    StartTimer,
    State,
    _RxPage,
    negotiate,
)

if TYPE_CHECKING:
    from .modem import SimModem

_FAX_CLASSES = ("2", "2.0", "2.1")

# -- call set-up -----------------------------------------------------------


def dial(modem: SimModem, dial_string: str) -> None:
    """``ATD``: call a number."""
    from .modem import _DIAL_CHARS

    number = "".join(c for c in dial_string if c in _DIAL_CHARS)
    if modem._state is not State.IDLE or not number:
        modem._result("ERROR")
        return
    modem._call_class = modem._fclass
    modem._state = State.DIALING
    modem._emit(Dial(number, modem._local_info()))
    modem._emit(StartTimer("dial", float(modem._sregs[7] or 60)))


def answer(modem: SimModem) -> None:
    """``ATA`` or auto-answer."""
    if modem._state is not State.RINGING or modem._fclass not in _FAX_CLASSES:
        if modem._state is State.RINGING:
            modem._emit(Hangup())
            modem._go_idle()
        modem._result("NO CARRIER")
        return
    modem._emit(CancelTimer("ring"))
    modem._call_class = modem._fclass
    modem._state = State.ANSWERING
    modem._emit(Answer(modem._local_info()))


def _ring(modem: SimModem) -> None:
    modem._rings += 1
    modem._result("RING")
    if modem._rings == 1 and modem._caller_id_on and modem._caller:
        modem._info(f"NMBR = {modem._caller}")
    auto = modem._sregs[0]
    if auto and modem._rings >= auto:
        answer(modem)
    else:
        modem._emit(StartTimer("ring", modem.config.ring_seconds))


def _connected(modem: SimModem, event: Answered | Connected) -> None:
    """The fax call is up: phase B reports, then ``OK``."""
    c2 = modem._call_class == "2"
    remote = event.remote
    modem._remote = remote
    modem._ber = event.bit_error_rate
    modem._info("+FCON" if c2 else "+FCO")
    if isinstance(event, Answered):
        modem._role = "tx"
        modem._page_no = 1
        if remote.ident and modem._report_enabled(2):
            modem._info(f'{"+FCSI" if c2 else "+FCI"}:"{remote.ident}"')
        if modem._report_enabled(0):
            modem._info(f"{'+FDIS' if c2 else '+FIS'}:{modem._caps_text(remote.caps)}")
    else:
        modem._role = "rx"
        modem._dcs = negotiate(remote.caps, modem._local_info().caps)
        if remote.ident and modem._report_enabled(2):
            modem._info(f'{"+FTSI" if c2 else "+FTI"}:"{remote.ident}"')
        if modem._report_enabled(1):
            modem._info(f"{'+FDCS' if c2 else '+FCS'}:{modem._caps_text(modem._dcs)}")
    modem._state = State.CALL
    modem._result("OK")


# -- fax action commands -----------------------------------------------------


def fax_action(modem: SimModem, name: str) -> None:
    """``+FDT``, ``+FDR``, ``+FK`` / ``+FKS``."""
    if modem._pending_hangup is not None:
        code, modem._pending_hangup = modem._pending_hangup, None
        modem._hangup_result(code)
        return
    if name in ("FK", "FKS"):
        if modem._state is not State.IDLE:
            modem._emit(Hangup())
            code_class = modem._call_class
            modem._go_idle()
            modem._call_class = code_class
            modem._hangup_result(2)
        else:
            modem._result("OK")
        return
    if modem._state is not State.CALL:
        modem._result("ERROR")
    elif name == "FDT" and modem._role == "tx":
        first = modem._dcs is None
        _t30.later(modem, "dcs" if first else "page_gap", lambda: _start_page(modem))
    elif name == "FDR" and modem._role == "rx":
        _receive_next(modem)
    else:
        modem._result("ERROR")


def _hang_up_with(modem: SimModem, code: int, *, line: bool = True) -> None:
    """End the call and report ``code`` to the running command."""
    if line:
        modem._emit(Hangup())
    fax_class = modem._call_class
    modem._go_idle()
    modem._call_class = fax_class
    modem._hangup_result(code)


def _start_page(modem: SimModem) -> None:
    remote = modem._remote
    if remote is None or not remote.can_receive:
        _hang_up_with(modem, 21)
        return
    dcs = negotiate(modem._local_info().caps, remote.caps)
    report = dcs != modem._dcs
    modem._dcs = dcs
    modem._emit(ToLine(PageStart(modem._page_no, dcs)))
    c2 = modem._call_class == "2"
    if report and modem._report_enabled(1):
        modem._info(f"{'+FDCS' if c2 else '+FCS'}:{modem._caps_text(dcs)}")
    modem._result("CONNECT")
    if c2:
        modem._send(bytes([_page.DC1]))  # SP-2388-A: XON, ready for data
    modem._state = State.TX_DATA
    modem._tx_reader = _page.DleReader()
    modem._tx_lost = None
    _txpage.begin(modem)


def post_page_command(modem: SimModem, value: str) -> None:
    """Class 2 ``AT+FET=<ppm>`` after ``<DLE><ETX>``."""
    if modem._pending_hangup is not None:
        fax_action(modem, "FET")
        return
    if modem._state is not State.TX_WAIT_FET or value.strip() not in ("0", "1", "2"):
        modem._result("ERROR")
        return
    modem._emit(CancelTimer("phcto"))
    _post_page(modem, int(value))


def _post_page(modem: SimModem, ppm: int) -> None:
    modem._tx_ppm = ppm
    modem._emit(StartTimer("response", modem.config.response_seconds))
    modem._state = State.TX_WAIT_PPR
    _t30.later(modem, "ppm", lambda: modem._emit(ToLine(PostPage(ppm))))


def _page_response(modem: SimModem, ppr: int) -> None:
    modem._emit(CancelTimer("response"))
    ppm = modem._tx_ppm
    good = ppr % 2 == 1
    modem._values["FPS"] = (ppr,)
    if good:
        modem._page_no += 1
    if ppm == 1 or ppr in (2, 3):
        modem._dcs = None  # retrain or new document: phase B again, DCS reported
    c2 = modem._call_class == "2"
    if c2:
        modem._info(f"+FPTS:{ppr}")
    if ppm == 2 and good:
        modem._state = State.CALL
        _t30.later(modem, "dcn", lambda: _hang_up_with(modem, 0))
        return
    modem._state = State.CALL
    modem._result("OK" if good or c2 else "ERROR")


def _receive_next(modem: SimModem) -> None:
    if modem._held_ppm is not None:
        ppm, modem._held_ppm = modem._held_ppm, None
        ppr = next(iter(modem._values["FPS"]))
        modem._emit(ToLine(PageResponse(int(ppr))))
        if ppm == 2 and ppr % 2 == 1:
            # the sender's DCN ends the call (reported as a normal end); wait for it, or a little longer
            modem._state = State.RX_WAIT_PAGE
            _t30.later(modem, "rx_dcn", lambda: _hang_up_with(modem, 0))
            return
        if ppm == 1:
            modem._first_page = True
    rx = modem._rx
    if rx is not None and rx.start is not None:
        _rx_connect(modem)
    else:
        modem._state = State.RX_WAIT_PAGE
        modem._emit(StartTimer("page_wait", modem.config.page_wait_seconds))


def _rx_connect(modem: SimModem) -> None:
    rx = modem._rx
    if rx is None:
        return
    modem._emit(CancelTimer("page_wait"))
    c2 = modem._call_class == "2"
    if c2 and modem._first_page:
        modem._info("+FCFR")
    if rx.start.dcs != modem._dcs and modem._report_enabled(1):
        modem._info(f"{'+FDCS' if c2 else '+FCS'}:{modem._caps_text(rx.start.dcs)}")
    modem._dcs = rx.start.dcs
    modem._first_page = False
    modem._result("CONNECT")
    modem._state = State.RX_WAIT_TRIGGER


def _to_dte(modem: SimModem, wire: bytes) -> bytes:
    """Received wire-order data as the DTE gets it (bit order, DLE doubled)."""
    reversed_order = modem._values["FBO"][0] & 1 == 1  # type: ignore[index]
    if modem._call_class == "2" and modem.config.class2_rx_reversed:
        reversed_order = not reversed_order
    return _page.dle_stuff(_page.reverse_bits(wire) if reversed_order else wire)


def _rx_finish(modem: SimModem) -> None:
    rx = modem._rx
    if rx is None:
        return
    dcs = modem._dcs or rx.start.dcs
    # MMR (df 3) ends with EOFB, which is page data: no RTC
    tail = (b"" if dcs[4] == 3 else _page.rtc_tail(bytes(rx.data), two_d=dcs[4] != 0)) + _page.TRAILING_FILL
    rx.data += tail
    modem._send(_to_dte(modem, tail) + b"\x10\x03")
    modem._state = State.RX_WAIT_PPM
    if rx.ppm is not None:
        _rx_report(modem)


def _rx_report(modem: SimModem) -> None:
    rx = modem._rx
    if rx is None or rx.ppm is None:
        return
    ppr = 2 if rx.damaged else 1
    dcs = modem._dcs or rx.start.dcs
    lines = 0 if dcs[4] == 3 else _page.count_lines(bytes(rx.data), dcs[4] == 1)  # MMR has no line marks
    if modem._call_class == "2":
        modem._info(f"+FPTS:{ppr},{lines},0,0")
    elif modem.config.fps_decimal:
        modem._info(f"+FPS:{ppr},{lines},0,0,0")
    else:
        modem._info(f"+FPS:{ppr},{lines:04X},0000,0000,0000")
    modem._info(f"+FET:{rx.ppm}")
    modem._values["FPS"] = (ppr,)
    modem._held_ppm = modem._last_rx_ppm = rx.ppm
    modem._rx = None
    modem._state = State.CALL
    modem._result("OK")


# -- DTE data outside command mode ----------------------------------------------


def on_dte_data(modem: SimModem, data: bytes) -> bytes:
    """Page data (sending) or the DC2 trigger / CAN (receiving)."""
    state = modem._state
    if state is State.TX_DATA:
        chunk, end, rest = modem._tx_reader.feed(data)
        _txpage.from_dte(modem, chunk)
        if end is not None:
            _page_from_dte(modem, PPM_BY_DLE[end])
            return rest
        return b""
    if state in (State.RX_WAIT_TRIGGER, State.RX_DATA) and _page.CAN in data:
        modem._send(b"\x10\x03")
        _hang_up_with(modem, 2)
        return b""
    if state is State.RX_WAIT_TRIGGER:
        for i, byte in enumerate(data):
            if byte in (_page.DC1, _page.DC2):
                modem._state = State.RX_DATA
                rx = modem._rx
                if rx is not None:
                    modem._send(_to_dte(modem, bytes(rx.data)))
                    if rx.ended:
                        _rx_finish(modem)
                return data[i + 1 :]
    return b""  # ignored while the modem is busy (flow control, noise)


def _page_from_dte(modem: SimModem, ppm: int | None) -> None:
    if ppm is None and modem._call_class != "2":
        ppm = 0  # bare <DLE><ETX> in 2.0: taken as MPS
    if modem._tx_lost is not None:
        _hang_up_with(modem, modem._tx_lost, line=False)
        return
    modem._tx_ppm = ppm
    modem._state = State.TX_LINE
    _txpage.page_end(modem)


def _page_sent(modem: SimModem) -> None:
    """The line time is over: the rest of the page, then the page end."""
    _txpage.finish(modem)
    if modem._tx_ppm is None:  # Class 2: wait for AT+FET=
        modem._state = State.TX_WAIT_FET
        modem._result("OK")
        modem._emit(StartTimer("phcto", next(iter(modem._values["FCT"])) / 10))
    else:
        _post_page(modem, modem._tx_ppm)


# -- timers and line events ------------------------------------------------------


def on_timer(modem: SimModem, name: str) -> None:
    """A timer ran out."""
    state = modem._state
    if name == "ring" and state is State.RINGING:
        _ring(modem)
    elif name == "dial" and state is State.DIALING:
        modem._emit(Hangup())
        modem._go_idle()
        modem._result("NO ANSWER")
    elif name == "tx" and state in (State.TX_DATA, State.TX_LINE):
        _txpage.tick(modem)
    elif name == "t30":
        _t30.fire(modem)
    elif name == "tx_end" and state is State.TX_LINE:
        _page_sent(modem)
    elif name == "phcto" and state is State.TX_WAIT_FET:
        modem._emit(ToLine(PostPage(2)))
        modem._emit(Hangup())
        fax_class = modem._call_class
        modem._go_idle()
        modem._call_class = fax_class
        modem._pending_hangup = 50
    elif name == "response" and state is State.TX_WAIT_PPR:
        _hang_up_with(modem, NO_RESPONSE_CODE.get(modem._tx_ppm or 0, 52))
    elif name == "page_wait" and state is State.RX_WAIT_PAGE:
        _hang_up_with(modem, 73)


def on_line_event(modem: SimModem, event: LineEvent) -> None:
    """An event from the network."""
    state = modem._state
    if isinstance(event, IncomingCall):
        if state is State.IDLE:
            modem._state = State.RINGING
            modem._caller = event.caller_id
            _ring(modem)
    elif isinstance(event, CallGone):
        if state in (State.RINGING, State.ANSWERING):
            ring_state = state
            modem._go_idle()
            if ring_state is State.ANSWERING:
                modem._result("NO CARRIER")
    elif isinstance(event, (Busy, NoDialTone, NoCarrier)) and state is State.DIALING:
        modem._go_idle()
        text = {Busy: "BUSY", NoDialTone: "NO DIALTONE", NoCarrier: "NO CARRIER"}[type(event)]
        modem._result(text)
    elif isinstance(event, NoCarrier) and state is State.ANSWERING:
        modem._go_idle()
        modem._result("NO CARRIER")
    elif isinstance(event, Answered) and state is State.DIALING:
        modem._emit(CancelTimer("dial"))
        if modem._call_class in _FAX_CLASSES:
            _t30.later(modem, "connect", lambda: _connected(modem, event))
        else:
            modem._emit(Hangup())
            modem._go_idle()
            modem._result("NO CARRIER")
    elif isinstance(event, Connected) and state is State.ANSWERING:
        _t30.later(modem, "connect", lambda: _connected(modem, event))
    elif isinstance(event, (RemoteHangup, CarrierLost)):
        _call_lost(modem, dcn=isinstance(event, RemoteHangup))
    elif isinstance(event, FromLine):
        _signal(modem, event)


def _signal(modem: SimModem, event: FromLine) -> None:
    signal, state = event.signal, modem._state
    if modem._role == "tx":
        if isinstance(signal, PageResponse) and state is State.TX_WAIT_PPR:
            modem._emit(CancelTimer("response"))
            _t30.later(modem, "ppr", lambda: _page_response(modem, signal.ppr))
        return
    if modem._role != "rx":
        return
    if isinstance(signal, PageStart):
        modem._rx = _RxPage(signal)
        if state is State.RX_WAIT_PAGE:
            _rx_connect(modem)
        return
    rx = modem._rx
    if rx is None:
        return
    if isinstance(signal, PageData):
        rx.data += signal.data
        if state is State.RX_DATA:
            modem._send(_to_dte(modem, signal.data))
    elif isinstance(signal, PageEnd):
        rx.ended = True
        rx.damaged = signal.damaged
        if state is State.RX_DATA:
            _rx_finish(modem)
    elif isinstance(signal, PostPage):
        rx.ppm = signal.ppm
        if state is State.RX_WAIT_PPM:
            _rx_report(modem)


def _lost_code(modem: SimModem, dcn: bool) -> int:
    state = modem._state
    if state in (State.TX_DATA, State.TX_LINE):
        return 40
    if state is State.TX_WAIT_FET:
        return 50
    if state is State.TX_WAIT_PPR:
        return 51 if dcn else NO_RESPONSE_CODE.get(modem._tx_ppm or 0, 52)
    if modem._role == "tx":
        return 22 if dcn else 20
    if state in (State.RX_WAIT_TRIGGER, State.RX_DATA):
        return 90
    if state is State.RX_WAIT_PPM:
        return 100
    if dcn and 2 in (modem._last_rx_ppm, modem._held_ppm):
        return 0
    return 71 if dcn else 70


def _call_lost(modem: SimModem, dcn: bool) -> None:
    """The remote hung up or the line broke."""
    state = modem._state
    if state in (State.IDLE, State.DIALING, State.RINGING):
        return
    if state is State.ANSWERING:
        modem._go_idle()
        modem._result("NO CARRIER")
        return
    code = _lost_code(modem, dcn)
    if state is State.TX_DATA:
        modem._tx_lost = code  # reported when the DTE ends the page
        modem._emit(CancelTimer("tx"))
        _txpage.release(modem)
        return
    if state in (State.CALL, State.TX_WAIT_FET):
        fax_class = modem._call_class
        modem._go_idle()
        modem._call_class = fax_class
        modem._pending_hangup = code
        return
    if state in (State.RX_WAIT_TRIGGER, State.RX_DATA):
        modem._send(b"\x10\x03")
    _hang_up_with(modem, code, line=False)
