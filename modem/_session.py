"""The :class:`Session` base of the Class 2 / 2.0 session machines (sans-I/O).

Table dispatch, command scripts (probe and setup) and the ways a call ends
(normal finish, hangup report, abort).  The errors, outputs, configuration
and results the machines share are in :mod:`modem._session_types`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ClassVar

from modem import at
from modem._session_types import (
    CancelTimer,
    Flow,
    LocalProtocolError,
    Outcome,
    Output,
    ProbeResult,
    RemoteProtocolError,
    SessionConfig,
    SessionDone,
    SessionResult,
    StartTimer,
    State,
    TimerName,
    WriteAT,
    WriteData,
)
from modem.dialect import Dialect, FaxClass, Kind, ModemEvent, classify
from modem.hangup import Hangup, parse_hangup
from modem.params import MAX_BR_CLASS20, MAX_BR_CLASS21, SessionParams
from modem.progress import CallEvent, events_between, observe

# ---------------------------------------------------------------------------
# the session base
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cmd:
    """One command of a script: ``optional`` commands may answer ERROR."""

    text: str
    optional: bool = False
    capture: str = ""


_CALL_FAILED: dict[Kind, Outcome] = {
    Kind.BUSY: Outcome.BUSY,
    Kind.NO_DIALTONE: Outcome.NO_DIALTONE,
    Kind.NO_ANSWER: Outcome.NO_ANSWER,
    Kind.NO_CARRIER: Outcome.NO_CARRIER,
    Kind.ERROR: Outcome.ERROR,
}


class Session:
    """Table dispatch plus command scripts and call endings; see subclasses."""

    COMMAND_TABLE: ClassVar[dict[tuple[State, Kind], str]] = {
        (State.COMMAND, Kind.OK): "_on_command_ok",
        (State.COMMAND, Kind.ERROR): "_on_command_error",
        (State.COMMAND, Kind.NO_CARRIER): "_on_command_error",
        (State.COMMAND, Kind.INFO): "_on_command_info",
        (State.COMMAND, Kind.HANGUP): "_on_hangup",
        (State.COMMAND, Kind.RING): "_on_command_ring",
        (State.COMMAND, Kind.CALLER_ID): "_on_command_ring",
        (State.COMMAND, Kind.TIMEOUT): "_on_command_timeout",
    }
    TABLE: ClassVar[dict[tuple[State, Kind], str]] = COMMAND_TABLE

    def __init__(self, dialect: Dialect, config: SessionConfig) -> None:
        self.dialect = dialect
        self.config = config
        self.state = State.IDLE
        self._parser = at.Parser(dle_sub_is_two_dle=dialect.dle_sub_is_two_dle)
        self.exchange: deque[str] = deque(maxlen=16)
        self.captured: dict[str, list[str]] = {}
        self.last_command = ""
        self.fax_connected = False
        self.remote_id: str | None = None
        self.params: SessionParams | None = None
        self.hangup: Hangup | None = None
        self.pages_confirmed = 0
        self.pages_skipped = 0
        self.rtn_resends = 0
        self.probe: ProbeResult | None = None
        self._script: list[Cmd] = []
        self._current: Cmd | None = None
        self._after: Callable[[], list[Output]] | None = None
        self._ending: tuple[Outcome, str] | None = None
        self.result_value: SessionResult | None = None
        self._seen = observe(self)
        self._events: list[CallEvent] = []

    # -- driving --------------------------------------------------------
    def start(self) -> list[Output]:
        """The first outputs of the session (each machine defines it)."""
        raise NotImplementedError

    def _begin(self) -> None:
        if self.state is not State.IDLE:
            raise LocalProtocolError(f"session already started (state {self.state.name})")

    def handle(self, event: ModemEvent) -> list[Output]:
        """Apply one event; raises RemoteProtocolError (state unchanged) if it is not allowed."""
        if self.state is State.DONE:
            raise LocalProtocolError(f"the session is over; cannot handle {event.kind.name}")
        name = self.TABLE.get((self.state, event.kind))
        if name is None:
            if event.kind is Kind.INFO:
                return []
            if event.kind in (Kind.XON, Kind.XOFF):
                return [Flow(paused=event.kind is Kind.XOFF)]
            what = event.text or event.kind.name
            raise RemoteProtocolError(f"modem sent {what!r} while {self.state.name}", what)
        handler: Callable[[ModemEvent], list[Output]] = getattr(self, name)
        out = handler(event)
        self._note_progress()
        return out

    def _note_progress(self) -> None:
        now = observe(self)
        if self.state is not State.DONE:  # the hangup is reported last, after the verdict on the last page
            now = replace(now, hangup_code="", hangup_text="")
        self._events += events_between(self._seen, now)
        self._seen = now

    def take_events(self) -> list[CallEvent]:
        """The call's progress (:mod:`modem.progress`) since the last call: one step per
        modem line handled, so how the bytes were chunked does not change the events.
        The hangup comes once the session is over."""
        self._note_progress()
        events, self._events = self._events, []
        return events

    @property
    def hangup_reported(self) -> bool:
        """A hangup event was (or is about to be) reported by :meth:`take_events`."""
        return bool(self._seen.hangup_code)

    def receive_bytes(self, data: bytes) -> list[Output]:
        """Feed modem bytes; garbage aborts the call instead of raising."""
        self._parser.feed(data)
        out: list[Output] = []
        try:
            while self.state is not State.DONE:
                ev = self._parser.next_event()
                if ev is at.NEED_DATA:
                    break
                mev = classify(self.dialect, ev)
                if mev.kind not in (Kind.DATA, Kind.DATA_END, Kind.XON, Kind.XOFF):  # flow control: not logged
                    self.exchange.append(f"< {mev.text}")
                out += self.handle(mev)
        except (RemoteProtocolError, at.LineTooLong) as exc:
            out += self.protocol_failure(str(exc))
        return out

    def timer_expired(self, name: TimerName) -> list[Output]:
        if self.state is State.DONE:
            return []
        return self.handle(ModemEvent(Kind.TIMEOUT, text=f"<{name} timer expired>", value=name))

    def protocol_failure(self, detail: str) -> list[Output]:
        """The modem misbehaved: end the call and report ``detail``."""
        if self.state is State.DONE:
            return []
        if self._ending is not None:
            return self._done(*self._ending)
        return self._abort(Outcome.PROTOCOL_ERROR, detail)

    def cancel(self, detail: str = "cancelled") -> list[Output]:
        if self.state is State.DONE:
            return []
        if self.state in (State.IDLE, State.COMMAND, State.WAIT_RING) and not self.fax_connected:
            return self._done(Outcome.ABORTED, detail)
        return self._abort(Outcome.ABORTED, detail)

    def device_lost(self, detail: str) -> list[Output]:
        if self.state is State.DONE:
            return []
        return self._done(Outcome.DEVICE_GONE, detail)

    # -- command scripts ------------------------------------------------
    def _setup_script(self) -> list[Cmd]:
        d, c = self.dialect, self.config
        script = [Cmd(s) for s in c.init_strings]
        script.append(Cmd(f"AT+FCLASS={d.fax_class.value}"))
        if c.local_id:
            script.append(Cmd(f'AT{d.local_id}="{c.local_id[:20]:>20}"', optional=True))
        script.append(Cmd(f"AT{d.bit_order}={c.bit_order}"))
        if d.report_enable:
            script.append(Cmd(f"AT+FNR={c.report_enable}"))
        if d.flow_command:
            script.append(Cmd(f"AT+FLO={c.flow.value}", optional=True))
        return script

    def _run_script(self, script: list[Cmd], after: Callable[[], list[Output]]) -> list[Output]:
        self._script = list(script)
        self._after = after
        return self._next_command()

    def _next_command(self) -> list[Output]:
        if not self._script:
            self._current = None
            after, self._after = self._after, None
            assert after is not None  # set by _run_script
            return after()
        self._current = self._script.pop(0)
        self.state = State.COMMAND
        self.last_command = self._current.text
        self.exchange.append(f"> {self._current.text}")
        return [WriteAT(self._current.text), StartTimer(TimerName.COMMAND, self.config.timers.command)]

    def _on_command_ok(self, ev: ModemEvent) -> list[Output]:
        return [CancelTimer(TimerName.COMMAND)] + self._next_command()

    def _on_command_error(self, ev: ModemEvent) -> list[Output]:
        cmd = self._current
        if self._ending is not None or (cmd is not None and cmd.optional):
            return [CancelTimer(TimerName.COMMAND)] + self._next_command()
        return [CancelTimer(TimerName.COMMAND)] + self._done(
            Outcome.ERROR, f"the modem answered {ev.text} to {self.last_command}"
        )

    def _on_command_info(self, ev: ModemEvent) -> list[Output]:
        cmd = self._current
        if cmd is not None and cmd.capture and ev.text.upper() != cmd.text.upper():
            self.captured.setdefault(cmd.capture, []).append(ev.text)
        return []

    def _on_command_timeout(self, ev: ModemEvent) -> list[Output]:
        if self._ending is not None:
            return self._done(*self._ending)
        return self._done(
            Outcome.NO_RESPONSE, f"no final result to {self.last_command} within {self.config.timers.command:g} s"
        )

    # -- shared call handlers -------------------------------------------
    def _ignore(self, ev: ModemEvent) -> list[Output]:
        return []

    def _on_command_ring(self, ev: ModemEvent) -> list[Output]:
        """RING / caller ID while a command runs: ignored unless a receive session counts it."""
        return []

    def _on_fax_connect(self, ev: ModemEvent) -> list[Output]:
        self.fax_connected = True
        return []

    def _on_remote_id(self, ev: ModemEvent) -> list[Output]:
        self.remote_id = ev.value
        return []

    def _on_hangup(self, ev: ModemEvent) -> list[Output]:
        try:
            self.hangup = parse_hangup(ev.value, self.dialect.numbering)
        except ValueError as exc:
            raise RemoteProtocolError(str(exc), ev.text) from None
        return []

    def _on_call_failed(self, ev: ModemEvent) -> list[Output]:
        if self.hangup is not None:
            return self._finish_hangup(f"the modem reported {self.hangup} then {ev.text}")
        outcome = _CALL_FAILED[ev.kind]
        return self._finish(outcome, f"the modem answered {ev.text} to {self.last_command}", hang_up=True)

    def _on_timeout(self, ev: ModemEvent) -> list[Output]:
        return self._abort(Outcome.TIMEOUT, f"no answer to {self.last_command} before the {ev.value} timer expired")

    # -- endings --------------------------------------------------------
    def _complete(self) -> bool:
        return True

    def _finish_hangup(self, detail: str) -> list[Output]:
        assert self.hangup is not None  # callers check
        ok = self.hangup.normal and self._complete()
        return self._finish(Outcome.OK if ok else Outcome.HANGUP, f"{detail}: {self.hangup}")

    def _finish(self, outcome: Outcome, detail: str, *, hang_up: bool = False) -> list[Output]:
        if hang_up:
            self._ending = (outcome, detail)
            return self._run_script([Cmd("ATH0", optional=True)], lambda: self._done(outcome, detail))
        return self._done(outcome, detail)

    def _abort(self, outcome: Outcome, detail: str) -> list[Output]:
        """End a call in progress: ``+FKS``/``+FK`` (CAN first while page data flows), then ATH."""
        self._ending = (outcome, detail)
        out: list[Output] = []
        if self.state in (State.SENDING, State.WAIT_XON, State.RECEIVING):
            out.append(WriteData(bytes([at.CAN])))  # receiving: the DCE ends the data, implied +FK
        if self.state is State.RECEIVING:
            self._parser.stop_data()
        script = [Cmd(f"AT{self.dialect.abort}", optional=True), Cmd("ATH0", optional=True)]
        return out + self._run_script(script, lambda: self._done(outcome, detail))

    def _done(self, outcome: Outcome, detail: str) -> list[Output]:
        self.state = State.DONE
        self.result_value = self.result(outcome, detail)
        return [SessionDone(self.result_value)]

    def result(self, outcome: Outcome, detail: str) -> SessionResult:
        return SessionResult(
            outcome=outcome,
            detail=detail,
            pages_confirmed=self.pages_confirmed,
            pages_total=self._pages_total(),
            remote_id=self.remote_id,
            params=self.params,
            hangup=self.hangup,
            rtn_resends=self.rtn_resends,
            exchange=tuple(self.exchange),
            probe=self.probe,
        )

    def _pages_total(self) -> int:
        return 0

    def _max_br(self) -> int:
        """The configured rate limit, clamped to what the class allows (V.34 only in Class 2.1)."""
        top = MAX_BR_CLASS21 if self.dialect.fax_class is FaxClass.CLASS21 else MAX_BR_CLASS20
        return min(self.config.max_br, top)
