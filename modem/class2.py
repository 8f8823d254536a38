"""Class 2.0 / Class 2 fax session machines (sans-I/O).

Bytes from the modem go in through :meth:`Session.receive_bytes`, timer
expiry through :meth:`Session.timer_expired`; both return output commands
(:class:`WriteAT`, :class:`WriteData`, :class:`StartTimer`,
:class:`CancelTimer`, :class:`Flow`, :class:`SessionDone`).  Nothing here
reads a clock or touches a device.

Every machine dispatches through an explicit table ``(State, Kind) ->
handler``; a modem line that is not allowed in the current state raises
:class:`RemoteProtocolError` and leaves the state unchanged.  What differs
between Class 2 and Class 2.0 (command names, report prefixes, number base,
page punctuation, XON, DLE SUB) is data in :data:`DIALECTS` (spec §9).
The shared command-script and call-ending machinery is in
:mod:`modem._session` (its data in :mod:`modem._session_types`); the send machine lives here, the probe and receive
machines in :mod:`modem.probe` and :mod:`modem.receive` (re-exported).
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from modem import at
from modem._session import Cmd, Session
from modem._session_types import (
    CancelTimer,
    Flow,
    FlowControl,
    LocalProtocolError,
    Outcome,
    Output,
    ProbeResult,
    ReceivedPage,
    RemoteProtocolError,
    RtnPolicy,
    SessionConfig,
    SessionDone,
    SessionResult,
    StartTimer,
    State,
    TimerName,
    Timers,
    WriteAT,
    WriteData,
    parse_params,
)
from modem.dialect import DIALECTS, Dialect, FaxClass, Kind, ModemEvent, classify, dial_string_problem, reverse_bits
from modem.pagedata import CodedPage
from modem.params import (
    MAX_BR_CLASS20,
    Caps,
    NegotiationError,
    PageFormat,
    SessionParams,
    bps_of,
    local_params,
    negotiate,
)
from modem.probe import ProbeSession
from modem.receive import ReceiveSession

__all__ = [
    "DIALECTS",
    "CancelTimer",
    "Dialect",
    "FaxClass",
    "Flow",
    "FlowControl",
    "Kind",
    "LocalProtocolError",
    "ModemEvent",
    "Outcome",
    "Output",
    "ProbeResult",
    "ProbeSession",
    "ReceiveSession",
    "ReceivedPage",
    "RemoteProtocolError",
    "RtnPolicy",
    "SendSession",
    "Session",
    "SessionConfig",
    "SessionDone",
    "SessionResult",
    "StartTimer",
    "State",
    "TimerName",
    "Timers",
    "WriteAT",
    "WriteData",
    "classify",
]

# Class 2.0 in-band page punctuation (spec §4.2) and Class 2 +FET= codes.
PAGE_END_20 = {0: b"\x10,", 1: b"\x10;", 2: b"\x10."}
PPM_MPS, PPM_EOM, PPM_EOP = 0, 1, 2


def _codings(page: bytes | CodedPage) -> frozenset[int]:
    return frozenset(int(c) for c in page.codings) if isinstance(page, CodedPage) else frozenset({0})


# ---------------------------------------------------------------------------
# send
# ---------------------------------------------------------------------------
class SendSession(Session):
    """Dial, negotiate and send T.4 pages (spec §6.1 Class 2, §6.2 Class 2.0).

    ``pages`` are T.4 MH page data in MSB-first bit order (as pbm2g3 and
    g3topbm use), or :class:`modem.coding.CodedPage` objects that also hold
    MR and MMR data.  The session offers the modem (``+FCC``/``+FDCC``) the
    codings every page has, as far as the modem's ranges allow, and ECM when
    the modem has it (MMR only with ECM; T.30 §5.3.6.1.1); the modem picks
    the session parameters with the remote and reports them (``+FCS``/
    ``+FDCS``); each page goes out in the reported coding, reversed for the
    direct ``+FBO=0`` order.
    """

    TABLE: ClassVar[dict[tuple[State, Kind], str]] = {
        **Session.COMMAND_TABLE,
        (State.DIALING, Kind.FAX_CONNECT): "_on_fax_connect",
        (State.DIALING, Kind.REMOTE_ID): "_on_remote_id",
        (State.DIALING, Kind.DIS): "_on_dis",
        (State.DIALING, Kind.OK): "_on_dial_ok",
        (State.DIALING, Kind.CONNECT): "_on_data_modem",
        (State.DIALING, Kind.BUSY): "_on_call_failed",
        (State.DIALING, Kind.NO_DIALTONE): "_on_call_failed",
        (State.DIALING, Kind.NO_ANSWER): "_on_call_failed",
        (State.DIALING, Kind.NO_CARRIER): "_on_call_failed",
        (State.DIALING, Kind.ERROR): "_on_call_failed",
        (State.DIALING, Kind.HANGUP): "_on_hangup",
        (State.DIALING, Kind.TIMEOUT): "_on_timeout",
        (State.PAGE_REQUEST, Kind.DCS): "_on_dcs",
        (State.PAGE_REQUEST, Kind.DIS): "_on_dis",
        (State.PAGE_REQUEST, Kind.REMOTE_ID): "_on_remote_id",
        (State.PAGE_REQUEST, Kind.CONNECT): "_on_page_connect",
        (State.PAGE_REQUEST, Kind.OK): "_on_fdt_ok",
        (State.PAGE_REQUEST, Kind.HANGUP): "_on_hangup",
        (State.PAGE_REQUEST, Kind.ERROR): "_on_call_failed",
        (State.PAGE_REQUEST, Kind.NO_CARRIER): "_on_call_failed",
        (State.PAGE_REQUEST, Kind.TIMEOUT): "_on_timeout",
        (State.WAIT_XON, Kind.XON): "_on_xon",
        (State.WAIT_XON, Kind.DC2): "_on_xon",
        (State.WAIT_XON, Kind.TIMEOUT): "_on_xon",
        (State.WAIT_XON, Kind.HANGUP): "_on_hangup",
        (State.WAIT_XON, Kind.NO_CARRIER): "_on_call_failed",
        (State.WAIT_XON, Kind.ERROR): "_on_call_failed",
        (State.SENDING, Kind.OK): "_on_page_sent_ok",
        (State.SENDING, Kind.ERROR): "_on_page_sent_error",
        (State.SENDING, Kind.HANGUP): "_on_hangup",
        (State.SENDING, Kind.PPR): "_on_ppr",
        (State.SENDING, Kind.NO_CARRIER): "_on_call_failed",
        (State.SENDING, Kind.TIMEOUT): "_on_timeout",
        (State.POST_PAGE, Kind.PPR): "_on_ppr",
        (State.POST_PAGE, Kind.HANGUP): "_on_hangup",
        (State.POST_PAGE, Kind.OK): "_on_post_page_final",
        (State.POST_PAGE, Kind.ERROR): "_on_post_page_final",
        (State.POST_PAGE, Kind.NO_CARRIER): "_on_call_failed",
        (State.POST_PAGE, Kind.TIMEOUT): "_on_timeout",
    }

    def __init__(
        self,
        dialect: Dialect,
        config: SessionConfig,
        number: str,
        pages: list[bytes] | list[CodedPage] | list[bytes | CodedPage],
        page_format: PageFormat,
        *,
        caps: Caps | None = None,
    ) -> None:
        super().__init__(dialect, config)
        if not pages:
            raise LocalProtocolError("a fax needs at least one page")
        if dial_string_problem(number) is not None:
            raise LocalProtocolError(str(dial_string_problem(number)))
        self.number = number
        self.pages = list(pages)
        self.codings = frozenset.intersection(*(_codings(p) for p in self.pages))
        self.page_format = page_format
        self.caps = caps
        self.page_index = 0
        self.tries = 0
        self.fdt_repeats = 0
        self.remote_dis: SessionParams | None = None
        self.ppr: int | None = None
        self.pages_sent = 0
        self.offer: SessionParams | None = None

    def start(self) -> list[Output]:
        self._begin()
        d = self.dialect
        offer = local_params(
            self.page_format, max_br=self._max_br(), caps=self.caps, codings=self.codings, ecm=self.config.ecm
        )
        self.offer = offer
        script = self._setup_script()
        script.append(Cmd(f"AT{d.caps}={offer.format(hex_values=d.hex_values)}"))
        return self._run_script(script, self._dial)

    def _dial(self) -> list[Output]:
        self.state = State.DIALING
        self.last_command = f"ATD{self.config.dial_prefix}{self.number}"
        self.exchange.append(f"> {self.last_command}")
        return [
            WriteAT(self.last_command),
            StartTimer(TimerName.DIAL, self.config.timers.dial),
        ]

    # -- dialing --------------------------------------------------------
    def _on_dis(self, ev: ModemEvent) -> list[Output]:
        self.remote_dis = parse_params(ev)
        return []

    def _on_dial_ok(self, ev: ModemEvent) -> list[Output]:
        out: list[Output] = [CancelTimer(TimerName.DIAL)]
        if not self.fax_connected:
            return out + self._finish(Outcome.NO_FAX, "dial ended with OK but no fax connection was reported")
        if self.hangup is not None:
            return out + self._finish_hangup("the call ended while dialing")
        if self.remote_dis is not None:
            try:
                self.params = negotiate(self.page_format, self.remote_dis, max_br=self._max_br(), offer=self.offer)
            except NegotiationError as exc:
                return out + self._abort(Outcome.INCOMPATIBLE, str(exc))
        return out + self._request_page()

    def _on_data_modem(self, ev: ModemEvent) -> list[Output]:
        return [CancelTimer(TimerName.DIAL)] + self._abort(Outcome.DATA_MODEM, f"a data modem answered ({ev.text})")

    # -- pages ----------------------------------------------------------
    def _request_page(self) -> list[Output]:
        self.state = State.PAGE_REQUEST
        self.ppr = None
        self.last_command = "AT+FDT"
        self.exchange.append(f"> {self.last_command}")
        return [WriteAT(self.last_command), StartTimer(TimerName.PAGE, self.config.timers.page_start)]

    def _on_dcs(self, ev: ModemEvent) -> list[Output]:
        self.params = parse_params(ev)
        return []

    def _on_fdt_ok(self, ev: ModemEvent) -> list[Output]:
        if self.hangup is not None:
            return [CancelTimer(TimerName.PAGE)] + self._finish_hangup("the call ended before the page")
        self.fdt_repeats += 1
        if self.fdt_repeats >= 3:
            return [CancelTimer(TimerName.PAGE)] + self._abort(
                Outcome.ERROR, "AT+FDT answered OK three times, never CONNECT"
            )
        return [CancelTimer(TimerName.PAGE)] + self._request_page()

    def _on_page_connect(self, ev: ModemEvent) -> list[Output]:
        out: list[Output] = [CancelTimer(TimerName.PAGE)]
        if self.dialect.xon_after_connect:
            self.state = State.WAIT_XON
            return out + [StartTimer(TimerName.XON, self.config.timers.xon)]
        return out + self._write_page()

    def _on_xon(self, ev: ModemEvent) -> list[Output]:
        out: list[Output] = [] if ev.kind is Kind.TIMEOUT else [CancelTimer(TimerName.XON)]
        return out + self._write_page()

    def _ppm(self) -> int:
        return PPM_EOP if self.page_index == len(self.pages) - 1 else PPM_MPS

    def _write_page(self) -> list[Output]:
        df = self.params.df if self.params else 0
        page = self.pages[self.page_index]
        if df not in _codings(page):
            return self._abort(
                Outcome.INCOMPATIBLE,
                f"the modem chose page coding df={df}, which was not offered (pages coded as {sorted(self.codings)})",
            )
        data = reverse_bits(page.data(df) if isinstance(page, CodedPage) else page)
        end = PAGE_END_20[self._ppm()] if self.dialect.inband_page_end else b"\x10\x03"
        self.state = State.SENDING
        self.fdt_repeats = 0
        name = {0: "MH", 1: "MR", 3: "MMR"}.get(df, str(df)) + ("+ECM" if self.params and self.params.ec else "")
        self.exchange.append(f"> <page {self.page_index + 1}: {len(data)} bytes {name}>")
        bps = bps_of(self.params.br if self.params else MAX_BR_CLASS20)
        # ECM may resend frames (and the modem buffers whole blocks): allow twice the time
        factor = 3.0 if self.params and self.params.ec else 1.5
        wait = len(data) * 8 / bps * factor + self.config.timers.page_done_margin
        return [WriteData(at.stuff(data) + end, pace_bps=bps), StartTimer(TimerName.PAGE, wait)]

    def _on_ppr(self, ev: ModemEvent) -> list[Output]:
        try:
            self.ppr = int(ev.value.split(",")[0].strip() or "0", 16)
        except ValueError:
            raise RemoteProtocolError(f"page status {ev.value!r} is not a number", ev.text) from None
        return []

    def _on_page_sent_ok(self, ev: ModemEvent) -> list[Output]:
        out: list[Output] = [CancelTimer(TimerName.PAGE)]
        if self.dialect.inband_page_end:
            # Class 2.0: OK = MCF/RTP/PIP (spec §4.3)
            return out + self._page_judged(good=self.hangup is None or self.hangup.normal)
        if self.hangup is not None:
            return out + self._finish_hangup(f"the call ended during page {self.page_index + 1}")
        # Class 2: data accepted; now the post-page message
        self.state = State.POST_PAGE
        self.last_command = f"AT+FET={self._ppm()}"
        self.exchange.append(f"> {self.last_command}")
        return out + [WriteAT(self.last_command), StartTimer(TimerName.PAGE, self.config.timers.post_page)]

    def _on_page_sent_error(self, ev: ModemEvent) -> list[Output]:
        out: list[Output] = [CancelTimer(TimerName.PAGE)]
        if not self.dialect.inband_page_end and self.hangup is None:
            return out + self._abort(Outcome.ERROR, "the modem refused the page data")
        return out + self._page_judged(good=False)

    def _on_post_page_final(self, ev: ModemEvent) -> list[Output]:
        out: list[Output] = [CancelTimer(TimerName.PAGE)]
        if ev.kind is Kind.ERROR and self.ppr is None:
            return out + self._page_judged(good=False)
        # without +FPS, some modems answer the last +FET=2 with +FHNG:0 only: MCF (spec §6.1)
        good = bool(self.ppr & 1) if self.ppr is not None else self.hangup is not None and self.hangup.normal
        return out + self._page_judged(good=good)

    def _page_judged(self, *, good: bool) -> list[Output]:
        last = self.page_index == len(self.pages) - 1
        if good:
            self.pages_confirmed += 1
            self.tries = 0
            if last:
                if self.hangup is None or self.hangup.normal:
                    return self._finish(Outcome.OK, f"{self.pages_confirmed} page(s) sent", hang_up=self.hangup is None)
                return self._finish_hangup("the call ended after the last page")
            if self.hangup is not None:
                return self._finish_hangup(f"the call ended after page {self.page_index + 1}")
            self.page_index += 1
            return self._request_page()
        # page rejected (RTN/PIN)
        if self.hangup is not None:
            return self._finish_hangup(f"page {self.page_index + 1} was rejected and the call ended")
        policy = self.config.rtn_policy
        if self.tries < policy.retries:
            self.tries += 1
            self.rtn_resends += 1
            if policy.step_down and self.params is not None and self.params.br > 0:
                lower = replace(self.params, br=self.params.br - 1)
                command = f"AT{self.dialect.dis}={lower.format(hex_values=self.dialect.hex_values)}"
                return self._run_script([Cmd(command, optional=True)], self._request_page)
            return self._request_page()
        if policy.continue_after and not last:
            self.tries = 0
            self.pages_skipped += 1
            self.page_index += 1
            return self._request_page()
        return self._abort(Outcome.PAGE_REJECTED, f"page {self.page_index + 1} rejected {self.tries + 1} time(s)")

    def _complete(self) -> bool:
        return self.pages_confirmed == len(self.pages)

    def _pages_total(self) -> int:
        return len(self.pages)
