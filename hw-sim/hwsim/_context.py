"""What the simulated modem knows, and its vocabulary (pure).

:class:`ModemContext` is the one state object the modem's handler modules
(:mod:`hwsim._commands`, :mod:`hwsim._session`, :mod:`hwsim._txpage`,
:mod:`hwsim._rxpage`) share: settings, the call in progress and the outputs
collected for the adapter.  Its fields are public on purpose; the only field
no handler writes is :attr:`ModemContext.state`, which the transition table
(:mod:`hwsim._table`) owns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, IntEnum, StrEnum
from typing import cast

from . import _at, _page
from ._ecm import Framer
from ._scanline import ScanLines
from ._t30 import T30Timing
from .line import Answer, Caps, Dial, Hangup, PageStart, StationInfo, ToLine


@dataclass(frozen=True)
class ModemConfig:
    """How one simulated modem behaves."""

    fax_class: str = "2.0"  # highest class offered: "2.1" (V.34 rates), "2.0" or "2"
    pacing: bool = True  # pace page data at the line rate
    min_page_seconds: float = 1.05
    chunk_seconds: float = 0.25  # page data travels in pieces this long
    ring_seconds: float = 6.0  # ring cadence
    response_seconds: float = 60.0  # sender's wait for the page response
    page_wait_seconds: float = 60.0  # receiver's wait for the next page
    ppr_seconds: float = 2.0  # one ECM PPS/PPR exchange (V.21 frames and turnarounds)
    t30: T30Timing | None = None  # T.30 phase timing (None: phases take no time)
    time_scale: float = 1.0  # multiplies line time and T.30 phase times (0.1: ten times faster)
    class2_rx_reversed: bool = True  # Rockwell: MSB-first receive at +FBOR=0
    fps_decimal: bool = False  # +FPS: counts in decimal (USR, MT5634ZBA-V92)
    ati: str = "HWSIM FAX MODEM"
    ati3: str = "hwsim Class 2.0/2 simulated fax modem 1.0"
    manufacturer: str = "HWSIM"
    model: str = "SIMFAX"
    revision: str = "1.0"

    def __post_init__(self) -> None:
        if self.fax_class not in ("2", "2.0", "2.1"):
            raise ValueError(f"fax_class must be '2', '2.0' or '2.1', not {self.fax_class!r}")


@dataclass
class FlowStats:
    """Transmit flow control over the modem's life: XOFFs sent, the fullest the
    buffer got (bytes), page-data writes that overran it, ECM frames resent."""

    xoffs: int = 0
    peak: int = 0
    overrun: int = 0
    frames_resent: int = 0


@dataclass(frozen=True)
class ToDTE:
    """Bytes for the DTE."""

    data: bytes


class Timer(StrEnum):
    """The modem's timers (the value is the name the adapter passes back)."""

    RING = "ring"  # ring cadence
    DIAL = "dial"  # S7: wait for the remote to answer
    TX = "tx"  # the next piece of page data goes to the line
    TX_END = "tx_end"  # the page's line time is over
    PHCTO = "phcto"  # Class 2: wait for +FET=
    RESPONSE = "response"  # wait for the remote's page response
    PAGE_WAIT = "page_wait"  # receiver's wait for the next page
    T30 = "t30"  # a T.30 phase step is over


@dataclass(frozen=True)
class StartTimer:
    """Start (or restart) the named timer."""

    name: str
    seconds: float


@dataclass(frozen=True)
class CancelTimer:
    """Cancel the named timer if it runs."""

    name: str


Output = ToDTE | StartTimer | CancelTimer | Dial | Answer | Hangup | ToLine


class State(Enum):
    """Where the modem is."""

    IDLE = "idle"  # on-hook, command mode
    DIALING = "dialing"
    RINGING = "ringing"  # incoming call, command mode
    ANSWERING = "answering"
    CALL = "call"  # fax call up, command mode between pages
    TX_DATA = "tx_data"  # DTE sends page data
    TX_LINE = "tx_line"  # page travels over the line
    TX_WAIT_FET = "tx_wait_fet"  # Class 2: page sent, waiting for +FET=
    TX_WAIT_PPR = "tx_wait_ppr"  # waiting for the remote's page response
    RX_WAIT_PAGE = "rx_wait_page"  # +FDR issued, no page yet
    RX_WAIT_TRIGGER = "rx_wait_trigger"  # CONNECT sent, waiting for DC2
    RX_DATA = "rx_data"  # page data flows to the DTE
    RX_WAIT_PPM = "rx_wait_ppm"  # page over, waiting for the post-page message


COMMAND_STATES = frozenset({State.IDLE, State.RINGING, State.CALL, State.TX_WAIT_FET})


class HangupCode(IntEnum):
    """Hangup status codes in Class 2 (``+FHNG:``, decimal) numbering; ``+FHS:`` shows
    them in hex digits (T.32 Table 22; 100 and up as ``A0``...)."""

    NORMAL_END = 0  # normal end of the call
    CALL_ABORTED = 2  # +FK / +FKS / CAN from the DTE
    TX_B_UNSPECIFIED = 20  # transmit phase B: call lost
    TX_REMOTE_CANNOT_RECEIVE = 21  # the remote cannot receive (+FCR=0)
    TX_B_DCN = 22  # transmit phase B: DCN received
    TX_C_CARRIER_LOST = 40  # carrier lost while a page is sent
    TX_D_NO_FET = 50  # Class 2: no +FET= within +FPHCTO (the modem sends EOP)
    TX_D_DCN = 51  # DCN instead of a page response
    TX_D_NO_MPS_RESPONSE = 52  # no response to MPS
    TX_D_NO_EOP_RESPONSE = 54  # no response to EOP
    TX_D_NO_EOM_RESPONSE = 56  # no response to EOM
    RX_B_UNSPECIFIED = 70  # receive phase B: call lost before a page
    RX_B_DCN = 71  # receive phase B: DCN before a page
    RX_B_NO_PAGE = 73  # no page within page_wait_seconds
    RX_C_CARRIER_LOST = 90  # carrier lost while a page is received
    RX_D_UNSPECIFIED = 100  # call lost before the post-page message (+FHS:A0)


NO_RESPONSE_CODE = {
    0: HangupCode.TX_D_NO_MPS_RESPONSE,
    1: HangupCode.TX_D_NO_EOM_RESPONSE,
    2: HangupCode.TX_D_NO_EOP_RESPONSE,
}
RESULT_CODES = {
    "OK": 0,
    "CONNECT": 1,
    "RING": 2,
    "NO CARRIER": 3,
    "ERROR": 4,
    "NO DIALTONE": 6,
    "BUSY": 7,
    "NO ANSWER": 8,
}
DEFAULT_SREGS = {0: 0, 1: 0, 2: 43, 3: 13, 4: 10, 5: 8, 6: 2, 7: 60, 8: 2, 10: 14}
FAX_CLASSES = ("2", "2.0", "2.1")


def hangup_report(code: int, fax_class: str) -> str:
    """``+FHNG:<dec>`` (Class 2) or ``+FHS:<hex>`` (2.0) for a Class 2 code."""
    if fax_class == "2":
        return f"+FHNG:{code}"
    if code >= 100:
        return f"+FHS:{0xA0 + code - 100:02X}"
    return f"+FHS:{92 if code == 94 else code:02d}"


def negotiate(tx_caps: Caps, rx_caps: Caps) -> Caps:
    """Session parameters (DCS) from the sender's wishes and the receiver's DIS.

    Each field is the lower of the two; df 2 (uncompressed) counts as MR;
    MMR (df 3) and V.34 rates (br above 5) only with ECM (T.30 §5.3.6.1.1, V.34
    Annex): without ECM MMR falls back to MR and the rate to 14,400 bit/s.
    """
    vr, br, wd, ln, df, ec, bf = (min(a, b) for a, b in zip(tx_caps[:7], rx_caps[:7]))
    if df == 2:
        df = 1
    if not ec:
        df = min(df, 1)
        br = min(br, 5)
    return (vr, br, wd, ln, df, ec, bf, rx_caps[7])


class Role(Enum):
    """The modem's side of a fax call."""

    TX = "tx"  # we called: we send pages
    RX = "rx"  # we answered: we receive pages


class Cmd(Enum):
    """AT commands that move the modem (the others only read or set values)."""

    DIAL = "D"
    ANSWER = "A"
    HANGUP = "H"
    RESET = "Z"  # Z and &F
    FDT = "+FDT"
    FDR = "+FDR"
    FK = "+FK"  # +FK (Class 2) and +FKS (2.0)
    FET = "+FET="  # Class 2 post-page message

    @property
    def ends_line(self) -> bool:
        """The command gives its own final result; the rest of its line is dropped."""
        return self not in (Cmd.HANGUP, Cmd.RESET)


# Fax commands that report a hangup which happened while no command ran.
REPORTS_PENDING = frozenset({Cmd.FDT, Cmd.FDR, Cmd.FK, Cmd.FET})


class Step(Enum):
    """T.30 steps that take line time; each arrives as an event when it is over."""

    CONNECT = "connect"  # phase A/B up to the DIS report
    START_PAGE = "start_page"  # DCS/TCF/CFR (first page) or the short train (next pages)
    POST_PAGE = "post_page"  # the MPS/EOM/EOP frame
    PAGE_RESPONSE = "page_response"  # the MCF/RTN frame comes back
    DCN = "dcn"  # DCN after the last MCF: the call ends
    RX_DCN = "rx_dcn"  # the receiver waits for the sender's DCN


@dataclass
class RxPage:
    """A page arriving from the line (receiving side)."""

    start: PageStart
    data: bytearray = field(default_factory=bytearray)
    ended: bool = False
    damaged: bool = False
    ppm: int | None = None


@dataclass
class TxPage:
    """The page being sent: the transmit buffer and the line time it takes."""

    reader: _page.DleReader = field(default_factory=_page.DleReader)
    queue: bytearray = field(default_factory=bytearray)  # page data in the buffer (wire order)
    total: int = 0  # bytes the DTE sent
    xoff: bool = False  # the DTE is held by XOFF
    elapsed: float = 0.0  # line time so far
    ended: bool = False  # the DTE ended the page
    extra: float = 0.0  # ECM overhead and PPS/PPR rounds (seconds)
    framer: Framer | None = None  # ECM: the page's frames, counted as the data come
    scan: ScanLines | None = None  # no ECM, DCS st > 0: fill for the minimum scan-line time
    fill_owed: int = 0  # fill bits the line still has to carry for lines sent
    credit: float = 0.0  # line bits of the last piece not yet used (less than a byte)
    carry: float = 0.0  # bit errors owed by the line (fraction), without ECM
    damaged: bool = False
    lost: HangupCode | None = None  # the call broke off while the DTE was still sending


@dataclass
class Call:
    """What one call knows; a fresh one for every call."""

    fax_class: str  # the class the call runs in (reports and codes use it)
    role: Role | None = None
    remote: StationInfo | None = None
    dcs: Caps | None = None
    page_no: int = 0
    rings: int = 0
    caller: str | None = None
    first_page: bool = True
    tx: TxPage = field(default_factory=TxPage)
    tx_ppm: int | None = None
    ber: float = 0.0  # the line's bit-error rate
    rx: RxPage | None = None
    held_ppm: int | None = None  # post-page message answered at the next +FDR
    last_rx_ppm: int | None = None
    t30_step: tuple[Step, object] | None = None  # waiting for the ``t30`` timer


ALL_TIMERS = tuple(Timer)


class ModemContext:
    """Settings, the call and the collected outputs of one simulated modem."""

    def __init__(self, config: ModemConfig, number: str) -> None:
        self.config = config
        self.number = number
        self.state = State.IDLE  # written by the transition table only
        self.flow_stats = FlowStats()
        self.outputs: list[Output] = []
        self.posted: list[tuple[Step, object]] = []  # steps over at once, dispatched next
        self.unread = b""  # DTE bytes a data handler left for the next state
        self.last_hangup = 0  # for +FHS? / +FHNG? / +FAXERR?
        self.last_hangup_text = ""
        self.reset()

    def reset(self) -> None:
        """ATZ / power-on: defaults (the table puts the modem on-hook)."""
        self.pending_hangup: HangupCode | None = None
        self.fclass = "0"
        self.echo = True
        self.verbose = True
        self.quiet = False
        self.caller_id_on = True
        self.sregs = dict(DEFAULT_SREGS)
        self.values: dict[str, tuple[int, ...] | str] = {p.key: p.default for p in _at.PARAMS}
        self.call = Call(self.fclass)

    # -- values ----------------------------------------------------------------

    def number_value(self, key: str, index: int = 0) -> int:
        """Field ``index`` of a numeric parameter."""
        value = self.values[key]
        if isinstance(value, str):
            raise TypeError(f"+{key} holds text, not numbers")
        return value[index]

    def local_info(self) -> StationInfo:
        caps = cast(Caps, tuple(self.values["FIS"])[:8])
        return StationInfo(str(self.values["FLI"]), caps, self.values["FCR"] == (1,))

    def report_enabled(self, index: int) -> bool:
        """Class 2 always reports; 2.0 only what +FNR enables (rpr,tpr,idr,nsr)."""
        if self.call.fax_class == "2":
            return True
        return self.number_value("FNR", index) == 1

    def caps_text(self, caps: Caps) -> str:
        return _at.format_value(caps, hex_values=self.call.fax_class != "2")

    # -- outputs -----------------------------------------------------------------

    def emit(self, output: Output) -> None:
        self.outputs.append(output)

    def send(self, data: bytes) -> None:
        if data:
            self.outputs.append(ToDTE(data))

    def info(self, text: str) -> None:
        """An information text or report line."""
        self.send((f"\r\n{text}\r\n" if self.verbose else f"{text}\r\n").encode("latin-1"))

    def result(self, text: str) -> None:
        """A final or unsolicited result code."""
        if self.quiet:
            return
        if self.verbose:
            self.send(f"\r\n{text}\r\n".encode("ascii"))
        else:
            self.send(f"{RESULT_CODES[text]}\r".encode("ascii"))

    def hangup_result(self, code: HangupCode) -> None:
        """``+FHS:``/``+FHNG:`` and ``OK`` for the running command."""
        report = hangup_report(code, self.call.fax_class)
        self.last_hangup, self.last_hangup_text = int(code), report.split(":", 1)[1]
        self.info(report)
        self.result("OK")

    def start_timer(self, timer: Timer, seconds: float) -> None:
        self.emit(StartTimer(timer.value, seconds))

    def cancel_timer(self, timer: Timer) -> None:
        self.emit(CancelTimer(timer.value))

    def later(self, step: Step, arg: object = None) -> None:
        """``step`` of T.30 is under way: it arrives as an event once its time is over
        (after the running handler at once without T.30 timing)."""
        timing = self.config.t30
        seconds = getattr(timing, step_timing(self, step)) * self.config.time_scale if timing is not None else 0.0
        if seconds <= 0:
            self.posted.append((step, arg))
            return
        self.call.t30_step = (step, arg)
        self.start_timer(Timer.T30, seconds)

    def end_call(self, *, keep_class: bool = False) -> None:
        """Back on-hook: timers stop, a DTE held by XOFF may write again, the call is
        forgotten (``keep_class``: its class stays for the hangup report)."""
        for timer in ALL_TIMERS:
            self.cancel_timer(timer)
        if self.call.tx.xoff:
            self.send(bytes([_page.DC1]))
        self.call = Call(self.call.fax_class if keep_class else self.fclass)

    def hang_up(self, code: HangupCode, *, line: bool = True) -> None:
        """End the call and report ``code`` to the running command (the handler
        then goes to :attr:`State.IDLE`)."""
        if line:
            self.emit(Hangup())
        self.end_call(keep_class=True)
        self.hangup_result(code)


def step_timing(ctx: ModemContext, step: Step) -> str:
    """The :class:`T30Timing` field a step takes its time from."""
    if step is Step.START_PAGE:
        return "dcs" if ctx.call.dcs is None else "page_gap"
    return {
        Step.CONNECT: "connect",
        Step.POST_PAGE: "ppm",
        Step.PAGE_RESPONSE: "ppr",
        Step.DCN: "dcn",
        Step.RX_DCN: "rx_dcn",
    }[step]
