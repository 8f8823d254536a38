"""What a modem line reports to its owner, as typed events (sans-I/O).

Two sources, one listener (:meth:`modem.driver.ModemProtocol.listen`):

* while no session runs, the modem speaks on its own: :class:`IdleParser`
  turns those bytes into :class:`Ring` and :class:`CallerId` events.  It
  reads complete lines from :class:`modem.at.Parser` and classifies them
  with :func:`modem.dialect.classify`, so how the serial port chunks the
  bytes never changes the events;
* while a send or receive runs, its progress is reported as
  :class:`modem.progress.CallEvent` values (dialing, connected — the fax
  ``CONNECT`` — page started/done, hangup), read off the session machine.
"""

from __future__ import annotations

from dataclasses import dataclass

from modem import at
from modem.dialect import DIALECTS, Dialect, FaxClass, Kind, classify
from modem.progress import CallEvent

__all__ = ["CallerId", "IdleParser", "LineEvent", "Ring"]


@dataclass(frozen=True, slots=True)
class Ring:
    """The modem reported ``RING``: a call is coming in."""


@dataclass(frozen=True, slots=True)
class CallerId:
    """One caller-ID line between the rings (``NMBR = 5550101``): ``name`` and ``value``."""

    name: str
    value: str


LineEvent = Ring | CallerId | CallEvent


class IdleParser:
    """Unsolicited modem output while no session runs → :class:`Ring` / :class:`CallerId`.

    Any other line (a late echo, a stray result code) is not an event.  A line
    longer than :data:`modem.at.MAX_LINE` is dropped with what was buffered.
    """

    def __init__(self, dialect: Dialect | None = None) -> None:
        self.dialect = dialect or DIALECTS[FaxClass.CLASS20]
        self._parser = at.Parser(dle_sub_is_two_dle=self.dialect.dle_sub_is_two_dle)

    def reset(self) -> None:
        """Forget a partial line (a session takes over the port, or gave it back)."""
        self._parser = at.Parser(dle_sub_is_two_dle=self.dialect.dle_sub_is_two_dle)

    def feed(self, data: bytes) -> list[Ring | CallerId]:
        """The events completed by ``data``."""
        self._parser.feed(data)
        out: list[Ring | CallerId] = []
        while True:
            try:
                event = self._parser.next_event()
            except at.LineTooLong:
                self.reset()
                return out
            if event is at.NEED_DATA:
                return out
            if not isinstance(event, at.Line):
                continue
            kind = classify(self.dialect, event).kind
            if kind is Kind.RING:
                out.append(Ring())
            elif kind is Kind.CALLER_ID:
                name, _, value = event.text.partition("=")
                out.append(CallerId(name.strip().upper(), value.strip()))
