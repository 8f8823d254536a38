"""Receive: wait for RING, answer, receive pages (sans-I/O; spec §7).

Re-exported by :mod:`modem.class2`.  Which page transmissions make up the
received fax is decided by :mod:`modem.rxpages`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from modem._session import Cmd, Session
from modem._session_types import (
    CancelTimer,
    LocalProtocolError,
    Outcome,
    Output,
    ReceivedPage,
    RemoteProtocolError,
    SessionConfig,
    SessionResult,
    StartTimer,
    State,
    TimerName,
    WriteAT,
    WriteData,
    parse_params,
)
from modem.dialect import Dialect, Kind, ModemEvent, reverse_bits
from modem.params import DF_MH, DF_MMR, DF_MR, Caps, PageFormat, local_params
from modem.rxpages import Final, PageLedger, judge_page

__all__ = ["ReceiveSession"]

_FINAL = {Kind.OK: Final.OK, Kind.ERROR: Final.ERROR, Kind.NO_CARRIER: Final.NO_CARRIER}


class ReceiveSession(Session):
    """Wait for RING, answer after ``rings`` rings and receive pages (spec §7)."""

    TABLE: ClassVar[dict[tuple[State, Kind], str]] = {
        **Session.COMMAND_TABLE,
        (State.WAIT_RING, Kind.RING): "_on_ring",
        (State.WAIT_RING, Kind.CALLER_ID): "_on_caller_id",
        (State.WAIT_RING, Kind.TIMEOUT): "_on_timeout",
        (State.ANSWERING, Kind.FAX_CONNECT): "_on_fax_connect",
        (State.ANSWERING, Kind.REMOTE_ID): "_on_remote_id",
        (State.ANSWERING, Kind.DCS): "_on_dcs",
        (State.ANSWERING, Kind.CALLER_ID): "_on_caller_id",
        (State.ANSWERING, Kind.RING): "_ignore",
        (State.ANSWERING, Kind.OK): "_on_answer_ok",
        (State.ANSWERING, Kind.CONNECT): "_on_data_call",
        (State.ANSWERING, Kind.HANGUP): "_on_hangup",
        (State.ANSWERING, Kind.NO_CARRIER): "_on_call_failed",
        (State.ANSWERING, Kind.ERROR): "_on_call_failed",
        (State.ANSWERING, Kind.TIMEOUT): "_on_timeout",
        (State.RECEIVE_REQUEST, Kind.DCS): "_on_dcs",
        (State.RECEIVE_REQUEST, Kind.REMOTE_ID): "_on_remote_id",
        (State.RECEIVE_REQUEST, Kind.CFR): "_ignore",
        (State.RECEIVE_REQUEST, Kind.CONNECT): "_on_data_connect",
        (State.RECEIVE_REQUEST, Kind.HANGUP): "_on_hangup",
        (State.RECEIVE_REQUEST, Kind.OK): "_on_fdr_ok",
        (State.RECEIVE_REQUEST, Kind.ERROR): "_on_call_failed",
        (State.RECEIVE_REQUEST, Kind.NO_CARRIER): "_on_call_failed",
        (State.RECEIVE_REQUEST, Kind.TIMEOUT): "_on_timeout",
        (State.RECEIVING, Kind.DATA): "_on_data",
        (State.RECEIVING, Kind.DATA_END): "_on_data_end",
        (State.RECEIVING, Kind.TIMEOUT): "_on_timeout",
        (State.PAGE_STATUS, Kind.PPR): "_on_ppr",
        (State.PAGE_STATUS, Kind.PPM): "_on_ppm",
        (State.PAGE_STATUS, Kind.HANGUP): "_on_hangup",
        (State.PAGE_STATUS, Kind.OK): "_on_page_final",
        (State.PAGE_STATUS, Kind.ERROR): "_on_page_final",
        (State.PAGE_STATUS, Kind.NO_CARRIER): "_on_page_final",
        (State.PAGE_STATUS, Kind.TIMEOUT): "_on_timeout",
    }

    def __init__(self, dialect: Dialect, config: SessionConfig, *, rings: int = 1, caps: Caps | None = None) -> None:
        super().__init__(dialect, config)
        self.caps = caps
        if rings < 1:
            raise LocalProtocolError(f"ring count must be at least 1, not {rings}")
        self.rings = rings
        self.rings_seen = 0
        self.caller_id: dict[str, str] = {}
        self.page_data: list[bytes] = []
        self.page_bytes = self.call_bytes = 0
        self.page_ppr: int | None = None
        self.page_lines: int | None = None
        self.ppm: int | None = None
        self.pages = PageLedger()

    def start(self) -> list[Output]:
        self._begin()
        script = self._setup_script()
        d = self.dialect
        # we take every coding (MH, MR, MMR) and ECM, as far as the modem has them
        offer = local_params(
            PageFormat(fine=True),
            max_br=self._max_br(),
            caps=self.caps,
            codings=frozenset({DF_MH, DF_MR, DF_MMR}),
            ecm=self.config.ecm,
        )
        script.insert(len(self.config.init_strings) + 1, Cmd(f"AT{d.receive_enable}"))
        script.append(Cmd(f"AT{d.caps}={offer.format(hex_values=d.hex_values)}", optional=True))
        script.append(Cmd("ATS0=0", optional=True))
        return self._run_script(script, self._wait_ring)

    def _on_command_ring(self, ev: ModemEvent) -> list[Output]:
        if ev.kind is Kind.CALLER_ID:
            return self._on_caller_id(ev)
        self.rings_seen += 1  # counted now, answered once the setup is done
        return []

    def _wait_ring(self) -> list[Output]:
        self.state = State.WAIT_RING
        if self.rings_seen >= self.rings:
            return self._answer()
        if self.config.timers.wait_call > 0:
            return [StartTimer(TimerName.CALL, self.config.timers.wait_call)]
        return []

    def _on_caller_id(self, ev: ModemEvent) -> list[Output]:
        key, _, value = ev.text.partition("=")
        self.caller_id[key.strip().upper()] = value.strip()
        return []

    def _on_ring(self, ev: ModemEvent) -> list[Output]:
        self.rings_seen += 1
        if self.rings_seen < self.rings:
            return []
        return self._answer()

    def _answer(self) -> list[Output]:
        self.state = State.ANSWERING
        self.last_command = "ATA"
        self.exchange.append("> ATA")
        return [CancelTimer(TimerName.CALL), WriteAT("ATA"), StartTimer(TimerName.ANSWER, self.config.timers.answer)]

    def _on_dcs(self, ev: ModemEvent) -> list[Output]:
        self.params = parse_params(ev)
        return []

    def _on_answer_ok(self, ev: ModemEvent) -> list[Output]:
        out: list[Output] = [CancelTimer(TimerName.ANSWER)]
        if self.hangup is not None:
            return out + self._finish_hangup("the call ended while answering")
        if not self.fax_connected:
            return out + self._finish(Outcome.NO_FAX, "answer ended with OK but no fax connection was reported")
        return out + self._request_page()

    def _on_data_call(self, ev: ModemEvent) -> list[Output]:
        return [CancelTimer(TimerName.ANSWER)] + self._abort(Outcome.DATA_MODEM, f"a data call arrived ({ev.text})")

    def _request_page(self) -> list[Output]:
        self.state = State.RECEIVE_REQUEST
        self.last_command = "AT+FDR"
        self.exchange.append("> AT+FDR")
        return [WriteAT("AT+FDR"), StartTimer(TimerName.PAGE, self.config.timers.page_start)]

    def _on_fdr_ok(self, ev: ModemEvent) -> list[Output]:
        out: list[Output] = [CancelTimer(TimerName.PAGE)]
        if self.hangup is not None:
            return out + self._finish_hangup(f"the call ended ({self._pages_detail()})")
        # OK without +FHS: no more pages (efax's reading)
        return out + self._finish(self._outcome_for_pages(), self._pages_detail(), hang_up=True)

    def _on_data_connect(self, ev: ModemEvent) -> list[Output]:
        self.state = State.RECEIVING
        self.page_data = []
        self.page_bytes = 0
        self.page_ppr = None
        self.page_lines = None
        self.ppm = None
        self._parser.start_data()
        self.exchange.append("> <DC2>")
        return [
            CancelTimer(TimerName.PAGE),
            WriteData(self.dialect.receive_trigger),
            StartTimer(TimerName.PAGE, self.config.timers.data_idle),
        ]

    def _on_data(self, ev: ModemEvent) -> list[Output]:
        self.page_bytes += len(ev.data)
        self.call_bytes += len(ev.data)
        c = self.config
        if self.page_bytes > c.max_page_bytes or self.call_bytes > c.max_call_bytes:
            which = (
                f"page {self.pages.transmissions + 1} is longer than {c.max_page_bytes} bytes"
                if self.page_bytes > c.max_page_bytes
                else f"the call's pages exceed {c.max_call_bytes} bytes"
            )
            return [CancelTimer(TimerName.PAGE)] + self._abort(
                Outcome.PROTOCOL_ERROR, f"{which}; {self._pages_detail()}"
            )
        self.page_data.append(ev.data)
        return [StartTimer(TimerName.PAGE, self.config.timers.data_idle)]

    def _on_data_end(self, ev: ModemEvent) -> list[Output]:
        self.state = State.PAGE_STATUS
        size = sum(len(d) for d in self.page_data)
        self.exchange.append(f"< <page {self.pages.transmissions + 1}: {size} bytes><DLE><ETX>")
        return [StartTimer(TimerName.PAGE, self.config.timers.post_page)]

    def _on_ppr(self, ev: ModemEvent) -> list[Output]:
        fields = [f.strip() for f in ev.value.split(",")]
        base = 16 if self.dialect.hex_values and not self.config.fps_decimal else 10
        try:
            self.page_ppr = int(fields[0], 16)
            if len(fields) > 1 and fields[1]:
                self.page_lines = int(fields[1], base)
        except ValueError:
            raise RemoteProtocolError(f"page status {ev.value!r} is not a number", ev.text) from None
        return []

    def _on_ppm(self, ev: ModemEvent) -> list[Output]:
        try:
            self.ppm = int(ev.value.strip())
        except ValueError:
            raise RemoteProtocolError(f"post-page message {ev.value!r} is not a number", ev.text) from None
        return []

    def _on_page_final(self, ev: ModemEvent) -> list[Output]:
        out: list[Output] = [CancelTimer(TimerName.PAGE)]
        data = b"".join(self.page_data)
        if self.dialect.receive_lsb_first(self.config.receive_msb_first):
            data = reverse_bits(data)
        verdict = judge_page(
            ppr=self.page_ppr,
            ppm=self.ppm,
            final=_FINAL[ev.kind],
            hangup_normal=None if self.hangup is None else self.hangup.normal,
            data=data,
            check=self.config.page_check,
        )
        page = ReceivedPage(
            data=data,
            ppr=self.page_ppr,
            lines=self.page_lines,
            good=verdict.keep,
            ppm=self.ppm,
            note=verdict.reason,
            coding=self.params.df if self.params else 0,
        )
        self.pages.add(page)
        if verdict.keep:
            self.pages_confirmed += 1
        else:
            self.exchange.append(f"  (page transmission {self.pages.transmissions} not kept: {verdict.reason})")
        if ev.kind is Kind.NO_CARRIER or self.hangup is not None:
            if self.hangup is None:
                return out + self._finish(Outcome.NO_CARRIER, f"carrier lost ({self._pages_detail()})")
            return out + self._finish_hangup(f"the call ended ({self._pages_detail()})")
        if verdict.ask_rtn:  # the modem would confirm a page not kept: the next +FDR releases RTN
            return out + self._run_script([Cmd(f"AT{self.dialect.ppr_command}=2")], self._request_page)
        return out + self._request_page()

    def _on_command_error(self, ev: ModemEvent) -> list[Output]:
        cmd = self._current
        if self._ending is None and cmd is not None and cmd.text == f"AT{self.dialect.ppr_command}=2":
            # the modem would confirm a page we do not keep: end the call instead
            detail = f"the modem refused {cmd.text}; call cancelled so the page is not confirmed"
            return [CancelTimer(TimerName.COMMAND)] + self._abort(Outcome.ERROR, f"{detail} ({self._pages_detail()})")
        return super()._on_command_error(ev)

    def _complete(self) -> bool:
        return bool(self.pages.kept)

    def _pages_total(self) -> int:
        return len(self.pages.kept)

    def _outcome_for_pages(self) -> Outcome:
        return Outcome.OK if self.pages.kept else Outcome.NO_PAGES

    def _pages_detail(self) -> str:
        dropped = len(self.pages.dropped)
        return f"{len(self.pages.kept)} page(s) received" + (f", {dropped} transmission(s) not kept" if dropped else "")

    def result(self, outcome: Outcome, detail: str) -> SessionResult:
        base = super().result(outcome, detail)
        number = self.caller_id.get("NMBR") or None
        return replace(base, caller_id=number, received=tuple(self.pages.kept), discarded=tuple(self.pages.dropped))
