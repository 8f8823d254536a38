"""The live state of a call on a line, folded from modem call events (pure).

:func:`apply` takes the state, one :class:`modem.progress.CallEvent` and the
time, and returns the new state; the line pool keeps one :class:`LiveCall`
per busy line (and the last one when the call ended), ``faxappliance
status``, FFWS status and ``include_modem_info`` read it.  :func:`page_line`
is the log line of a page.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from enum import StrEnum

from modem.progress import CallEvent, CallEventKind, PagePost

__all__ = ["CallDirection", "CallPhase", "LiveCall", "apply", "eta", "page_line"]


class CallDirection(StrEnum):
    SEND = "send"
    RECEIVE = "receive"


class CallPhase(StrEnum):
    DIALING = "dialing"
    CONNECTED = "connected"
    PAGE = "page"  # a page under way
    DONE = "done"


@dataclass(frozen=True)
class LiveCall:
    direction: CallDirection
    number: str = ""  # dialled (send) or called DID (receive)
    started_at: float = 0.0
    connect_time: float | None = None
    remote_id: str = ""
    baud_rate: int = 0
    resolution: str = ""
    width: int = 0
    height: int = 0
    compression: str = ""
    ecm: bool = False
    page: int = 0  # page under way (1-based, of the whole fax); 0 before the first
    pages_sent: int = 0  # pages confirmed (MCF) in this call, counting from first_page
    pages_total: int = 0  # pages of the fax (send), 0 when unknown
    first_page: int = 0  # pages before this call (a resumed send starts after them)
    rtn: int = 0
    phase: CallPhase = CallPhase.DIALING
    hangup_code: str = ""
    hangup_text: str = ""
    ended_at: float | None = None
    job: str = ""  # FAXKEY/ENTRYKEY of the send
    recipient: str = ""  # the account a reception is for

    @property
    def confirmed(self) -> int:
        """Pages of the whole fax confirmed so far."""
        return self.first_page + self.pages_sent

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def apply(call: LiveCall, event: CallEvent, now: float) -> LiveCall:
    """``call`` after ``event`` at ``now``."""
    if event.kind is CallEventKind.DIALING:
        return replace(call, number=event.number or call.number, phase=CallPhase.DIALING)
    if event.kind is CallEventKind.CONNECTED:
        return replace(
            call,
            connect_time=call.connect_time if call.connect_time is not None else now,
            remote_id=event.remote_id or call.remote_id,
            baud_rate=event.bps or call.baud_rate,
            resolution=event.resolution or call.resolution,
            width=event.width or call.width,
            height=event.height or call.height,
            compression=event.compression or call.compression,
            ecm=event.ecm,
            phase=CallPhase.CONNECTED if call.phase == CallPhase.DIALING else call.phase,
        )
    if event.kind is CallEventKind.PAGE_STARTED:
        return replace(
            call,
            page=call.first_page + event.page,
            phase=CallPhase.PAGE,
            connect_time=call.connect_time if call.connect_time is not None else now,
        )
    if event.kind is CallEventKind.PAGE_DONE:
        if event.post is PagePost.MCF:
            return replace(
                call, pages_sent=max(call.pages_sent, event.page), page=max(call.page, call.first_page + event.page)
            )
        return replace(call, rtn=call.rtn + 1)
    if event.kind is CallEventKind.HANGUP:
        return replace(
            call, hangup_code=event.hangup_code, hangup_text=event.hangup_text, phase=CallPhase.DONE, ended_at=now
        )
    return call


def eta(confirmed: int, total: int, elapsed: float) -> float | None:
    """Seconds left at the pace so far; None before the first confirmed page."""
    if confirmed <= 0 or total <= 0 or elapsed <= 0:
        return None
    return max(0.0, elapsed / confirmed * (total - confirmed))


def page_line(line: str, call: LiveCall, event: CallEvent) -> str | None:
    """The log line of a page event, None for other events."""
    if event.kind is not CallEventKind.PAGE_DONE:
        return None
    total = f"/{call.pages_total}" if call.pages_total else ""
    who = f" to {call.number}" if call.direction == CallDirection.SEND else f" from {call.remote_id or 'unknown'}"
    verb = "confirmed (MCF)" if event.post is PagePost.MCF else "rejected (RTN)"
    return (
        f"line {line}: page {call.first_page + event.page}{total}{who} {verb}, "
        f"{call.baud_rate} bit/s {call.resolution}".rstrip()
    )
