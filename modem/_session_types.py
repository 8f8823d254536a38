"""Errors, outputs, configuration and results of the Class 2 / 2.0 session machines (sans-I/O).

Plain data shared by :mod:`modem._session` (the :class:`~modem._session.Session`
base), the send, probe and receive machines and the driver; :mod:`modem.class2`
re-exports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum, StrEnum, auto

from modem.dialect import FaxClass, ModemEvent
from modem.hangup import Hangup
from modem.params import Caps, SessionParams

# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------


class FaxSessionError(Exception):
    """Base of the session machines' errors."""


class RemoteProtocolError(FaxSessionError):
    """The modem sent something the session cannot accept; ``excerpt`` is what it sent."""

    def __init__(self, message: str, excerpt: str = "") -> None:
        self.excerpt = excerpt
        super().__init__(message)


def parse_params(ev: ModemEvent) -> SessionParams:
    """The session parameters a +FDIS/+FDCS (+FIS/+FCS) report carries; RemoteProtocolError if malformed."""
    try:
        return SessionParams.parse(ev.value)
    except ValueError as exc:
        raise RemoteProtocolError(str(exc), ev.text) from None


class LocalProtocolError(FaxSessionError):
    """The session was asked to do something illegal (bad argument, session over)."""


# ---------------------------------------------------------------------------
# events, outputs
# ---------------------------------------------------------------------------


class TimerName(StrEnum):
    """The session machines' timers (one of each name runs at a time)."""

    COMMAND = "command"  # a command's final result
    DIAL = "dial"  # dialing up to the fax connection
    PAGE = "page"  # page request, page data and page status
    XON = "xon"  # Class 2: the XON after CONNECT
    ANSWER = "answer"  # answering up to the fax connection
    CALL = "call"  # waiting for the next RING


@dataclass(frozen=True, slots=True)
class WriteAT:
    """Write a command line (the adapter adds the CR)."""

    command: str


@dataclass(frozen=True, slots=True)
class WriteData:
    """Write raw bytes (page data already DLE-stuffed, or a trigger byte).

    ``pace_bps``: page data for a line of this rate; the adapter writes it no
    faster than a little above that rate (after a first burst), so the modem's
    buffer is not flooded and its XOFF reaches us in time.
    """

    data: bytes
    pace_bps: int = 0


@dataclass(frozen=True, slots=True)
class StartTimer:
    """(Re)start the named timer; a running timer of that name is replaced."""

    name: TimerName
    seconds: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    name: TimerName


@dataclass(frozen=True, slots=True)
class Flow:
    """The modem sent XOFF (``paused``) or XON: stop or resume writing page data."""

    paused: bool


@dataclass(frozen=True, slots=True)
class SessionDone:
    """The session is over; the adapter cancels every timer still running."""

    result: SessionResult


Output = WriteAT | WriteData | StartTimer | CancelTimer | Flow | SessionDone


class State(Enum):
    IDLE = auto()
    COMMAND = auto()
    DIALING = auto()
    PAGE_REQUEST = auto()
    WAIT_XON = auto()
    SENDING = auto()
    POST_PAGE = auto()
    WAIT_RING = auto()
    ANSWERING = auto()
    RECEIVE_REQUEST = auto()
    RECEIVING = auto()
    PAGE_STATUS = auto()
    DONE = auto()


class Outcome(Enum):
    OK = "ok"
    BUSY = "busy"
    NO_DIALTONE = "no dial tone"
    NO_ANSWER = "no answer"
    NO_CARRIER = "no carrier"
    NO_FAX = "no fax connection"
    DATA_MODEM = "data modem answered"
    HANGUP = "hangup"
    PAGE_REJECTED = "page rejected"
    INCOMPATIBLE = "incompatible remote"
    TIMEOUT = "timeout"
    NO_RESPONSE = "no response"
    ERROR = "modem error"
    NOT_FAX = "not a fax modem"
    NO_PAGES = "no pages"
    PROTOCOL_ERROR = "protocol error"
    ABORTED = "aborted"
    DEVICE_GONE = "device gone"


# ---------------------------------------------------------------------------
# configuration and results
# ---------------------------------------------------------------------------


class FlowControl(Enum):
    """DTE-DCE flow control while sending; the value is the ``+FLO=`` argument."""

    NONE = 0
    XONXOFF = 1
    RTSCTS = 2


@dataclass(frozen=True, slots=True)
class RtnPolicy:
    """What to do when the remote rejects a page (RTN): resend up to ``retries``
    times, each time one speed step lower if ``step_down`` (as HylaFAX does,
    via ``+FIS=``/``+FDIS=``), then go on with the next page
    (``continue_after``) or abort."""

    retries: int = 2
    continue_after: bool = True
    step_down: bool = False


@dataclass(frozen=True, slots=True)
class Timers:
    """Seconds to wait at each step (T.30 T0+T1 for dialing, etc.)."""

    command: float = 10.0
    dial: float = 120.0
    page_start: float = 60.0
    xon: float = 10.0
    page_done_margin: float = 60.0
    post_page: float = 30.0
    answer: float = 75.0
    data_idle: float = 30.0
    wait_call: float = 0.0  # 0 = wait for a call forever


@dataclass(frozen=True, slots=True)
class SessionConfig:
    init_strings: tuple[str, ...] = ("ATQ0V1", "ATE0")
    local_id: str = ""
    max_br: int = 13  # BR code: 5 = 14,400 bit/s (the Class 2/2.0 limit), 13 = 33,600 (Class 2.1, V.34 with ECM)
    ecm: bool = True  # offer error correction (T.30 ECM) when the modem has it; MMR needs it
    pace_margin: float = 1.25  # page data written at most this much faster than the line (0: unpaced)
    dial_prefix: str = "T"
    flow: FlowControl = FlowControl.XONXOFF
    bit_order: int = 0  # +FBO / +FBOR value
    report_enable: str = "1,1,1,0"  # +FNR (Class 2.0)
    rtn_policy: RtnPolicy = field(default_factory=RtnPolicy)
    timers: Timers = field(default_factory=Timers)
    fps_decimal: bool = False  # +FPS line counts printed in decimal (USR, MT5634ZBA-V92)
    receive_msb_first: bool | None = None  # None: the class's usual receive bit order
    # receive-side copy-quality check of each page (T.4 data, MSB first); False asks for RTN
    page_check: Callable[[bytes], bool] | None = None
    # receive limits: one page's data, and all page data of a call (every transmission)
    max_page_bytes: int = 8 << 20
    max_call_bytes: int = 64 << 20


@dataclass(frozen=True, slots=True)
class ProbeResult:
    fax_class: FaxClass
    classes: tuple[str, ...]
    identification: tuple[str, ...]
    manufacturer: str
    model: str
    revision: str
    caps: Caps | None


@dataclass(frozen=True, slots=True)
class ReceivedPage:
    """One received page transmission: T.4 data MSB-first, the modem's page
    status and line count, the remote's post-page message (``+FET:``), and
    whether the receiver confirmed and kept it (``good``; ``note`` says why
    not, see :mod:`modem.rxpages`)."""

    data: bytes
    ppr: int | None
    lines: int | None
    good: bool
    ppm: int | None = None
    note: str = ""
    coding: int = 0  # df of the DCS the page came with: 0 MH, 1 MR, 3 MMR (modem.coding.Coding)


@dataclass(frozen=True, slots=True)
class SessionResult:
    outcome: Outcome
    detail: str
    pages_confirmed: int = 0
    pages_total: int = 0
    remote_id: str | None = None
    params: SessionParams | None = None
    hangup: Hangup | None = None
    duration_s: float = 0.0
    caller_id: str | None = None
    # receive: the pages confirmed to the sender, in order (the fax as stored)
    received: tuple[ReceivedPage, ...] = ()
    rtn_resends: int = 0
    exchange: tuple[str, ...] = ()
    probe: ProbeResult | None = None
    # receive: page transmissions not kept (answered RTN, fragments cut off by a carrier loss)
    discarded: tuple[ReceivedPage, ...] = ()

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK
