"""The simulated modem's transition table (pure).

``TABLE`` maps ``(state, event)`` to a :class:`Rule`: the handler that does
the work (results, reports, line actions, timers) and the state the modem is
in afterwards.  ``next`` is the usual outcome; ``alt`` lists the others the
handler may choose by returning a state (``ATD`` with no digits stays
``IDLE``, a page that ends while the call is already lost hangs up...).
:func:`dispatch` is the only code that changes :attr:`ModemContext.state`,
and it refuses an outcome the row does not declare.

Events are :class:`~hwsim._context.Cmd` (a command that moves the modem,
with the parsed command), :data:`DTE_DATA` (bytes outside command mode),
:class:`~hwsim._context.Timer`, :class:`~hwsim._context.Step` (a T.30 step
is over), and the type of a line event or of a signal from the remote.
Pairs the table does not list: a command answers ``ERROR``; anything else is
ignored.  A fax command (``+FDT``, ``+FDR``, ``+FK``, ``+FET``) first reports a
hangup that happened while no command ran (:data:`REPORTS_PENDING`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from . import _at, _rxpage, _session, _txpage
from ._context import COMMAND_STATES, REPORTS_PENDING, Cmd, ModemContext, State, Step, Timer
from .line import (
    Answered,
    Busy,
    CallGone,
    CarrierLost,
    Connected,
    IncomingCall,
    NoCarrier,
    NoDialTone,
    PageData,
    PageEnd,
    PageResponse,
    PageStart,
    PostPage,
    RemoteHangup,
)


class Input(Enum):
    """Events that are neither commands, timers, T.30 steps nor line events."""

    DTE_DATA = "dte_data"  # bytes from the DTE outside command mode


DTE_DATA = Input.DTE_DATA

Event = Cmd | Input | Timer | Step | type
Handler = Callable[[ModemContext, Any], State | None]


@dataclass(frozen=True)
class Rule:
    """What an event does in a state: ``handler`` runs, the modem goes to ``next``
    (or to a state of ``alt`` the handler returns)."""

    handler: Handler
    next: State
    alt: frozenset[State] = frozenset()

    @property
    def outcomes(self) -> frozenset[State]:
        return self.alt | {self.next}


class UndeclaredTransition(RuntimeError):
    """A handler chose a state its table row does not declare (a bug in the simulator)."""


TABLE: dict[tuple[State, Event], Rule] = {}
S = State
RX_STATES = (S.RX_WAIT_PAGE, S.RX_WAIT_TRIGGER, S.RX_DATA, S.RX_WAIT_PPM)


def _row(
    states: State | Iterable[State], event: Event, handler: Handler, next_state: State | None, *alt: State
) -> None:
    """One row per state; ``next_state`` None: the modem stays where it is."""
    for state in (states,) if isinstance(states, State) else states:
        key = (state, event)
        assert key not in TABLE, key
        TABLE[key] = Rule(handler, state if next_state is None else next_state, frozenset(alt))


def _nothing(_ctx: ModemContext, _arg: object) -> None:
    return None


def _fet(ctx: ModemContext, command: _at.Extended) -> State:
    return _txpage.post_page_command(ctx, command.value)


# -- commands (command states only) ------------------------------------------------
_row(S.IDLE, Cmd.DIAL, _session.dial, S.DIALING, S.IDLE)
_row(S.RINGING, Cmd.ANSWER, _session.answer, S.ANSWERING, S.IDLE)
_row((S.IDLE, S.CALL, S.TX_WAIT_FET), Cmd.ANSWER, _session.no_carrier, None)
_row(S.IDLE, Cmd.HANGUP, _nothing, S.IDLE)
_row((S.RINGING, S.CALL, S.TX_WAIT_FET), Cmd.HANGUP, _session.hang_up, S.IDLE)
_row(COMMAND_STATES, Cmd.RESET, _session.reset, S.IDLE)
_row(S.IDLE, Cmd.FK, _session.ok, S.IDLE)
_row((S.RINGING, S.CALL, S.TX_WAIT_FET), Cmd.FK, _session.abort_call, S.IDLE)
_row(S.CALL, Cmd.FDT, _session.send_page, S.CALL)
_row(S.CALL, Cmd.FDR, _rxpage.receive_next, S.RX_WAIT_PAGE, S.RX_WAIT_TRIGGER, S.CALL)
_row(S.TX_WAIT_FET, Cmd.FET, _fet, S.TX_WAIT_PPR, S.TX_WAIT_FET)

# -- DTE data outside command mode ---------------------------------------------------
_row(S.DIALING, DTE_DATA, _session.dial_aborted, S.IDLE)
_row(S.TX_DATA, DTE_DATA, _txpage.page_data, S.TX_DATA, S.TX_LINE, S.IDLE)
_row(S.RX_WAIT_TRIGGER, DTE_DATA, _rxpage.trigger, S.RX_WAIT_TRIGGER, S.RX_DATA, S.RX_WAIT_PPM, S.CALL, S.IDLE)
_row(S.RX_DATA, DTE_DATA, _rxpage.while_data, S.RX_DATA, S.IDLE)

# -- timers -----------------------------------------------------------------------
_row(S.RINGING, Timer.RING, _session.ring, S.RINGING, S.ANSWERING, S.IDLE)
_row(S.DIALING, Timer.DIAL, _session.no_answer, S.IDLE)
_row((S.TX_DATA, S.TX_LINE), Timer.TX, _txpage.tick, None)
_row(S.TX_LINE, Timer.TX_END, _txpage.page_sent, S.TX_WAIT_PPR, S.TX_WAIT_FET)
_row(S.TX_WAIT_FET, Timer.PHCTO, _txpage.no_fet, S.IDLE)
_row(S.TX_WAIT_PPR, Timer.RESPONSE, _txpage.no_response, S.IDLE)
_row(S.RX_WAIT_PAGE, Timer.PAGE_WAIT, _rxpage.no_page, S.IDLE)

# -- T.30 steps over ------------------------------------------------------------------
_row((S.DIALING, S.ANSWERING), Step.CONNECT, _session.connected, S.CALL)
_row(S.CALL, Step.START_PAGE, _txpage.start_page, S.TX_DATA, S.IDLE)
_row(S.TX_WAIT_PPR, Step.POST_PAGE, _txpage.send_post_page, S.TX_WAIT_PPR)
_row(S.TX_WAIT_PPR, Step.PAGE_RESPONSE, _txpage.page_response, S.CALL)
_row(S.CALL, Step.DCN, _txpage.call_done, S.IDLE)
_row((S.CALL, *RX_STATES), Step.RX_DCN, _rxpage.call_done, S.IDLE)

# -- line events ------------------------------------------------------------------------
_row(S.IDLE, IncomingCall, _session.incoming, S.RINGING, S.ANSWERING, S.IDLE)
_row(S.RINGING, CallGone, _session.ringing_stopped, S.IDLE)
_row(S.ANSWERING, CallGone, _session.answer_failed, S.IDLE)
for _failure in (Busy, NoDialTone, NoCarrier):
    _row(S.DIALING, _failure, _session.dial_failed, S.IDLE)
_row(S.ANSWERING, NoCarrier, _session.answer_failed, S.IDLE)
_row(S.DIALING, Answered, _session.remote_answered, S.DIALING, S.IDLE)
_row(S.ANSWERING, Connected, _session.caller_connected, S.ANSWERING)
for _lost in (RemoteHangup, CarrierLost):
    _row(S.ANSWERING, _lost, _session.answer_failed, S.IDLE)
    _row(S.TX_DATA, _lost, _session.lost_while_sending, S.TX_DATA)
    _row((S.CALL, S.TX_WAIT_FET), _lost, _session.lost_between_commands, S.IDLE)
    _row((S.TX_LINE, S.TX_WAIT_PPR, *RX_STATES), _lost, _session.lost_during_command, S.IDLE)

# -- signals from the remote modem (FromLine) -------------------------------------------------
_row(S.TX_WAIT_PPR, PageResponse, _txpage.response_arrives, S.TX_WAIT_PPR)
_row(S.RX_WAIT_PAGE, PageStart, _rxpage.page_start_now, S.RX_WAIT_TRIGGER)
_row((S.CALL, S.RX_WAIT_TRIGGER, S.RX_DATA, S.RX_WAIT_PPM), PageStart, _rxpage.keep_page_start, None)
_row(S.RX_DATA, PageData, _rxpage.page_data_now, S.RX_DATA)
_row((S.CALL, S.RX_WAIT_PAGE, S.RX_WAIT_TRIGGER, S.RX_WAIT_PPM), PageData, _rxpage.keep_page_data, None)
_row(S.RX_DATA, PageEnd, _rxpage.page_end_now, S.RX_WAIT_PPM, S.CALL, S.RX_DATA)
_row((S.CALL, S.RX_WAIT_PAGE, S.RX_WAIT_TRIGGER, S.RX_WAIT_PPM), PageEnd, _rxpage.keep_page_end, None)
_row(S.RX_WAIT_PPM, PostPage, _rxpage.post_page_now, S.CALL, S.RX_WAIT_PPM)
_row((S.CALL, S.RX_WAIT_PAGE, S.RX_WAIT_TRIGGER, S.RX_DATA), PostPage, _rxpage.keep_post_page, None)


def dispatch(ctx: ModemContext, event: Event, arg: object = None) -> None:
    """Run ``event`` in the current state, then the T.30 steps it finished at once."""
    _step(ctx, event, arg)
    while ctx.posted:
        step, step_arg = ctx.posted.pop(0)
        _step(ctx, step, step_arg)


def _step(ctx: ModemContext, event: Event, arg: object) -> None:
    if isinstance(event, Cmd) and event in REPORTS_PENDING and ctx.pending_hangup is not None:
        _session.report_pending(ctx)
        return
    rule = TABLE.get((ctx.state, event))
    if rule is None:
        if isinstance(event, Cmd):
            ctx.result("ERROR")
        return
    outcome = rule.handler(ctx, arg)
    if outcome is None:
        outcome = rule.next
    elif outcome not in rule.outcomes:
        raise UndeclaredTransition(f"{ctx.state.name} + {event}: {outcome.name} is not declared")
    ctx.state = outcome
