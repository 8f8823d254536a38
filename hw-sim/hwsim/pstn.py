"""A simulated telephone network joining fax lines by number (pure, no I/O).

``Network.handle(number, action)`` takes a line action from the modem on line
``number`` (:mod:`hwsim.line`: ``Dial``, ``Answer``, ``Hangup``, ``ToLine``)
and returns the events to deliver, as :class:`Delivery` ``(number, event)``
in order.  The network has no clock: ringing cadence and timeouts belong to
the modems.

Calls: dialing a number that does not exist gives ``NoCarrier``; a line that
is not idle gives ``Busy``; otherwise the callee gets ``IncomingCall`` with
the caller's number (caller ID).  ``Answer`` connects: the caller gets
``Answered`` (callee's ID and DIS), the callee ``Connected`` (caller's ID and
proposed parameters).  ``Hangup`` ends the call: the other side gets
``RemoteHangup`` (or ``CallGone`` while it still rings).  ``ToLine`` signals
are carried to the other side unchanged, except where a fault says otherwise.

Faults (:mod:`hwsim.faults`) per line or per call: ``no_dial_tone``,
``busy_first``, ``never_answer`` (the callee is never alerted; the caller's
S7 timer gives ``NO ANSWER``), ``no_carrier`` (the answer is not a fax),
``carrier_lost_page`` (the call breaks after the first piece of that page:
both sides get ``CarrierLost``), ``carrier_lost_after_page`` (the call breaks
right after that page's post-page message reached the receiver, so the
receiver judges a complete page but the sender never hears the answer) and
``rtn_pages`` (the page arrives marked damaged, so the receiver answers RTN);
``bit_error_rate`` is handed to both modems with the connection: the sending
modem applies it (:mod:`hwsim._ecm`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .faults import FaultPlan, Faults
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
    LineAction,
    LineEvent,
    NoCarrier,
    NoDialTone,
    PageData,
    PageEnd,
    PageStart,
    PostPage,
    RemoteHangup,
    StationInfo,
    ToLine,
)


class UnknownLine(KeyError):
    """An action came from a number the network does not have."""


@dataclass(frozen=True)
class Delivery:
    """Deliver ``event`` to the modem on line ``number``."""

    number: str
    event: LineEvent


@dataclass
class _Call:
    caller: str
    callee: str
    caller_info: StationInfo
    faults: Faults
    connected: bool = False
    page_no: int = 0
    pieces_this_page: int = 0
    sent_pages: set[int] = field(default_factory=set)  # pages transmitted once already
    drop_after_post_page: bool = False  # carrier_lost_after_page: this page's post-page message ends the call


class Network:
    """The telephone network; see the module docstring."""

    def __init__(self, faults: FaultPlan | None = None) -> None:
        self.faults = faults or FaultPlan()
        self._lines: set[str] = set()
        self._calls: dict[str, _Call] = {}  # both parties -> call
        self._attempts: Counter[str] = Counter()  # calls made to each number

    def add_line(self, number: str) -> None:
        """Connect a line with this number."""
        if not number or not all(c in "0123456789*#+" for c in number):
            raise ValueError(f"not a phone number: {number!r}")
        if number in self._lines:
            raise ValueError(f"number {number} is already connected")
        self._lines.add(number)

    @property
    def numbers(self) -> frozenset[str]:
        """Numbers of all lines."""
        return frozenset(self._lines)

    def handle(self, number: str, action: LineAction) -> list[Delivery]:
        """Carry out ``action`` from line ``number``; the events it causes."""
        if number not in self._lines:
            raise UnknownLine(number)
        if isinstance(action, Dial):
            return self._dial(number, action)
        if isinstance(action, Answer):
            return self._answer(number, action)
        if isinstance(action, Hangup):
            return self._hangup(number)
        if isinstance(action, ToLine):
            return self._signal(number, action)
        raise TypeError(f"not a line action: {action!r}")

    def _dial(self, caller: str, action: Dial) -> list[Delivery]:
        callee = action.number
        if self.faults.for_line(caller).no_dial_tone:
            return [Delivery(caller, NoDialTone())]
        if caller in self._calls:
            return [Delivery(caller, Busy())]
        if callee not in self._lines or callee == caller:
            return [Delivery(caller, NoCarrier())]
        self._attempts[callee] += 1
        faults = self.faults.for_call(caller, callee, self._attempts[callee])
        if self._attempts[callee] <= faults.busy_first or callee in self._calls:
            return [Delivery(caller, Busy())]
        call = _Call(caller, callee, action.local, faults)
        self._calls[caller] = call
        if faults.never_answer:
            return []
        self._calls[callee] = call
        return [Delivery(callee, IncomingCall(caller))]

    def _answer(self, callee: str, action: Answer) -> list[Delivery]:
        call = self._calls.get(callee)
        if call is None or call.callee != callee or call.connected:
            return [Delivery(callee, NoCarrier())]
        if call.faults.no_carrier:
            self._end(call)
            return [Delivery(call.caller, NoCarrier()), Delivery(callee, NoCarrier())]
        call.connected = True
        return [
            Delivery(call.caller, Answered(action.local, call.faults.bit_error_rate)),
            Delivery(callee, Connected(call.caller_info, call.faults.bit_error_rate)),
        ]

    def _hangup(self, number: str) -> list[Delivery]:
        call = self._calls.get(number)
        if call is None:
            return []
        self._end(call)
        other = call.callee if number == call.caller else call.caller
        if call.connected:
            return [Delivery(other, RemoteHangup())]
        if number == call.caller:
            return [] if call.faults.never_answer else [Delivery(other, CallGone())]
        return [Delivery(other, NoCarrier())]  # the callee refused the call

    def _end(self, call: _Call) -> None:
        for party in (call.caller, call.callee):
            if self._calls.get(party) is call:
                del self._calls[party]

    def _signal(self, number: str, action: ToLine) -> list[Delivery]:
        call = self._calls.get(number)
        if call is None or not call.connected:
            return []
        other = call.callee if number == call.caller else call.caller
        signal = action.signal
        if isinstance(signal, PageStart):
            call.page_no, call.pieces_this_page = signal.page_no, 0
        first_try = call.page_no not in call.sent_pages
        if call.faults.carrier_lost_page == call.page_no and first_try:
            if isinstance(signal, PageData):
                call.pieces_this_page += 1
            if isinstance(signal, PageEnd) or call.pieces_this_page > 1:
                call.sent_pages.add(call.page_no)
                self._end(call)
                return [Delivery(number, CarrierLost()), Delivery(other, CarrierLost())]
        if isinstance(signal, PageEnd):
            call.sent_pages.add(signal.page_no)
            if signal.page_no in call.faults.rtn_pages and first_try:
                signal = PageEnd(signal.page_no, damaged=True)
            if call.faults.carrier_lost_after_page == signal.page_no and first_try:
                call.drop_after_post_page = True
        elif isinstance(signal, PostPage) and call.drop_after_post_page:
            self._end(call)
            return [Delivery(other, FromLine(signal)), Delivery(number, CarrierLost()), Delivery(other, CarrierLost())]
        return [Delivery(other, FromLine(signal))]
