"""Call progress as events, read off a running session (pure).

The session machines keep what a call has reached in plain attributes
(``fax_connected``, ``remote_id``, ``params``, ``page_index``,
``pages_confirmed``, ``rtn_resends``, ``hangup``).  :func:`observe` takes a
small snapshot of them; :func:`events_between` compares two snapshots and
says what happened in between, as :class:`CallEvent` values
(:class:`CallEventKind`):

* ``dialing`` — a send dialled ``number``;
* ``connected`` — the fax connection is up: remote id, negotiated rate and
  resolution (sent again when the remote id or parameters arrive later);
* ``page_started`` — page ``page`` (1-based, of this call) goes out;
* ``page_done`` — the receiver judged page ``page``: ``post`` is ``MCF``
  (confirmed) or ``RTN`` (rejected, it will be sent again or the call ends);
* ``hangup`` — the call ended with ``hangup_code`` / ``hangup_text``.

The driver reports them through its ``on_event`` callback and to its
listeners (:mod:`modem.events`); the line pool keeps the latest in its live
line state.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from modem._session_types import State

__all__ = [
    "CallEvent",
    "CallEventKind",
    "Compression",
    "PagePost",
    "ResolutionName",
    "Snapshot",
    "events_between",
    "observe",
    "resolution_name",
]


class CallEventKind(StrEnum):
    DIALING = "dialing"
    CONNECTED = "connected"
    PAGE_STARTED = "page_started"
    PAGE_DONE = "page_done"
    HANGUP = "hangup"


class ResolutionName(StrEnum):
    """A page's vertical resolution as the status shows it (empty: not known yet)."""

    UNKNOWN = ""
    NORMAL = "normal"
    FINE = "fine"
    SUPERFINE = "superfine"


class Compression(StrEnum):
    """The page coding in use (empty: not known yet)."""

    UNKNOWN = ""
    MH = "MH"
    MR = "MR"
    MMR = "MMR"


class PagePost(StrEnum):
    """The receiver's verdict on a page (``page_done``)."""

    MCF = "MCF"  # confirmed
    RTN = "RTN"  # rejected: sent again, or the call ends


@dataclass(frozen=True, slots=True)
class Snapshot:
    connected: bool = False
    remote_id: str = ""
    bps: int = 0
    vr: int = -1
    wd: int = 0
    ln: int = 0
    df: int = 0
    ec: int = 0
    sending_page: int = 0  # 1-based page of this call being transmitted (send); 0 before the first
    confirmed: int = 0
    rejected: int = 0
    hangup_code: str = ""
    hangup_text: str = ""


@dataclass(frozen=True, slots=True)
class CallEvent:
    kind: CallEventKind
    page: int = 0
    post: PagePost | None = None  # page_done
    number: str = ""  # dialing
    remote_id: str = ""
    bps: int = 0
    resolution: ResolutionName = ResolutionName.UNKNOWN
    width: int = 0  # pixels per line
    height: int = 0  # scan lines per mm x 100 (FaxFinder "height": 385 / 770)
    compression: Compression = Compression.UNKNOWN
    ecm: bool = False
    hangup_code: str = ""
    hangup_text: str = ""


_PAGE_STATES = (State.SENDING, State.POST_PAGE, State.WAIT_XON)
_WIDTHS = {0: 1728, 1: 2048, 2: 2432, 3: 1216, 4: 864}
_COMPRESSION = {0: Compression.MH, 1: Compression.MR, 2: Compression.MR, 3: Compression.MMR}


def resolution_name(vr: int) -> ResolutionName:
    """The resolution a VR parameter stands for (negative: not known)."""
    if vr < 0:
        return ResolutionName.UNKNOWN
    if vr & 2:
        return ResolutionName.SUPERFINE
    return ResolutionName.FINE if vr & 1 else ResolutionName.NORMAL


def observe(session: Any) -> Snapshot:
    """What ``session`` (a Class 2/2.0 session) has reached so far."""
    params = getattr(session, "params", None)
    hangup = getattr(session, "hangup", None)
    state = getattr(session, "state", None)
    page = 0
    if hasattr(session, "page_index") and state in _PAGE_STATES:
        page = int(session.page_index) + 1
    return Snapshot(
        connected=bool(getattr(session, "fax_connected", False)),
        remote_id=(getattr(session, "remote_id", None) or "").strip(),
        bps=int(params.bps) if params is not None else 0,
        vr=int(params.vr) if params is not None else -1,
        wd=int(params.wd) if params is not None else 0,
        ln=int(params.ln) if params is not None else 0,
        df=int(params.df) if params is not None else 0,
        ec=int(params.ec) if params is not None else 0,
        sending_page=page,
        confirmed=int(getattr(session, "pages_confirmed", 0)),
        rejected=int(getattr(session, "rtn_resends", 0)),
        hangup_code=hangup.wire if hangup is not None else "",
        hangup_text=hangup.meaning if hangup is not None else "",
    )


def _connected(s: Snapshot) -> CallEvent:
    return CallEvent(
        CallEventKind.CONNECTED,
        remote_id=s.remote_id,
        bps=s.bps,
        resolution=resolution_name(s.vr),
        width=_WIDTHS.get(s.wd, 1728) if s.vr >= 0 else 0,
        height=(770 if s.vr & 1 else 385) if s.vr >= 0 else 0,
        compression=_COMPRESSION.get(s.df, Compression.MH) if s.vr >= 0 else Compression.UNKNOWN,
        ecm=bool(s.ec),
    )


def events_between(before: Snapshot, after: Snapshot) -> list[CallEvent]:
    """The events that take a call from ``before`` to ``after``, in order."""
    out: list[CallEvent] = []
    if after.connected and (
        not before.connected or after.remote_id != before.remote_id or (after.bps, after.vr) != (before.bps, before.vr)
    ):
        out.append(_connected(after))
    for page in range(before.confirmed + 1, after.confirmed + 1):
        out.append(CallEvent(CallEventKind.PAGE_DONE, page=page, post=PagePost.MCF))
    if after.rejected > before.rejected:
        page = after.sending_page or before.sending_page or after.confirmed + 1
        out.append(CallEvent(CallEventKind.PAGE_DONE, page=page, post=PagePost.RTN))
    if after.sending_page and after.sending_page != before.sending_page:
        out.append(CallEvent(CallEventKind.PAGE_STARTED, page=after.sending_page))
    if after.hangup_code and not before.hangup_code:
        out.append(CallEvent(CallEventKind.HANGUP, hangup_code=after.hangup_code, hangup_text=after.hangup_text))
    return out
