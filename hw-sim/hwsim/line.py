"""What travels between a simulated modem and the simulated telephone network.

Pure data, shared by :mod:`hwsim.modem` (the modem side) and :mod:`hwsim.pstn`
(the network).  Three families:

* **actions** a modem asks of the network: :class:`Dial`, :class:`Answer`,
  :class:`Hangup`, :class:`ToLine` (a fax signal for the remote modem);
* **events** the network delivers to a modem: :class:`IncomingCall`,
  :class:`CallGone`, :class:`Answered`, :class:`Connected`, :class:`Busy`,
  :class:`NoDialTone`, :class:`NoCarrier`, :class:`RemoteHangup`,
  :class:`CarrierLost`, :class:`FromLine`;
* **signals** one modem sends the other through the call (the T.30 / phase C
  exchange, abstracted): :class:`PageStart`, :class:`PageData`,
  :class:`PageEnd`, :class:`PostPage`, :class:`PageResponse`.

Page data travels in *wire order*: the least significant bit of each byte is
the first bit on the telephone line (what a modem in direct bit order,
``+FBO=0``, exchanges with its DTE).
"""

from __future__ import annotations

from dataclasses import dataclass

Caps = tuple[int, int, int, int, int, int, int, int]
"""Session parameters ``vr,br,wd,ln,df,ec,bf,st`` (spec §3)."""


@dataclass(frozen=True)
class StationInfo:
    """What one fax station tells the other in phase B."""

    ident: str  # CSI / TSI text (``+FLI``)
    caps: Caps  # DIS (callee) or proposed session (caller): the ``+FIS`` value
    can_receive: bool = True  # ``+FCR=1``


# --- signals (modem -> modem) ---------------------------------------------


@dataclass(frozen=True)
class PageStart:
    """The sender starts page ``page_no`` with these session parameters (DCS)."""

    page_no: int
    dcs: Caps


@dataclass(frozen=True)
class PageData:
    """A piece of page data in wire order."""

    data: bytes


@dataclass(frozen=True)
class PageEnd:
    """End of the page data; ``damaged`` means the line corrupted it."""

    page_no: int
    damaged: bool = False


@dataclass(frozen=True)
class PostPage:
    """Post-page message: 0 MPS, 1 EOM, 2 EOP (spec §4.1)."""

    ppm: int


@dataclass(frozen=True)
class PageResponse:
    """Post-page response: ppr code of spec §4.3 (1 MCF, 2 RTN, 3 RTP, ...)."""

    ppr: int


Signal = PageStart | PageData | PageEnd | PostPage | PageResponse

# --- actions (modem -> network) -------------------------------------------


@dataclass(frozen=True)
class Dial:
    """Go off-hook and call ``number``."""

    number: str
    local: StationInfo


@dataclass(frozen=True)
class Answer:
    """Answer the ringing call."""

    local: StationInfo


@dataclass(frozen=True)
class Hangup:
    """Go on-hook, ending or refusing any call."""


@dataclass(frozen=True)
class ToLine:
    """Send a signal to the remote modem of the current call."""

    signal: Signal


LineAction = Dial | Answer | Hangup | ToLine

# --- events (network -> modem) --------------------------------------------


@dataclass(frozen=True)
class IncomingCall:
    """The line is being rung; ``caller_id`` is the calling number if known."""

    caller_id: str | None


@dataclass(frozen=True)
class CallGone:
    """The caller gave up before the call was answered."""


@dataclass(frozen=True)
class Answered:
    """The called station answered as a fax (caller side); ``bit_error_rate``: the line's quality."""

    remote: StationInfo
    bit_error_rate: float = 0.0


@dataclass(frozen=True)
class Connected:
    """Our answer connected to a calling fax (callee side); ``bit_error_rate``: the line's quality."""

    remote: StationInfo
    bit_error_rate: float = 0.0


@dataclass(frozen=True)
class Busy:
    """The called number is busy."""


@dataclass(frozen=True)
class NoDialTone:
    """No dial tone on our line."""


@dataclass(frozen=True)
class NoCarrier:
    """The call could not be set up as a fax call (unknown number, voice answer)."""


@dataclass(frozen=True)
class RemoteHangup:
    """The remote station ended the call in an orderly way (DCN, on-hook)."""


@dataclass(frozen=True)
class CarrierLost:
    """The connection broke down (line fault)."""


@dataclass(frozen=True)
class FromLine:
    """A signal from the remote modem."""

    signal: Signal


LineEvent = (
    IncomingCall
    | CallGone
    | Answered
    | Connected
    | Busy
    | NoDialTone
    | NoCarrier
    | RemoteHangup
    | CarrierLost
    | FromLine
)

__all__ = [
    "Answer",
    "Answered",
    "Busy",
    "CallGone",
    "Caps",
    "CarrierLost",
    "Connected",
    "Dial",
    "FromLine",
    "Hangup",
    "IncomingCall",
    "LineAction",
    "LineEvent",
    "NoCarrier",
    "NoDialTone",
    "PageData",
    "PageEnd",
    "PageResponse",
    "PageStart",
    "PostPage",
    "RemoteHangup",
    "Signal",
    "StationInfo",
    "ToLine",
]
