"""The modem side of a fax call: a pure Class 2.0 / Class 2 fax modem machine.

This is the mirror of the appliance's driver (``modem/class2.py``): it plays
the DCE the way real Rockwell/Multi-Tech-style modems and the spec
(``fax-modem-at.md`` §1-§9, §13.4) describe, so that efax, mgetty's sendfax
and our own driver cannot tell it from hardware.  No I/O, no clock: the
adapter (:mod:`hwsim.pty`) moves bytes and time.

Interface::

    modem = SimModem(ModemConfig(fax_class="2.0"), number="5550001")
    outputs = modem.feed_dte(b"AT+FCLASS=2.0\\r")      # bytes from the DTE
    outputs = modem.line_event(Answered(remote))        # hwsim.line events
    outputs = modem.timer_expired("tx")                 # a StartTimer ran out

Each call returns a list of outputs, to be carried out in order:

* :class:`ToDTE` ``(data)`` - bytes for the DTE (echo, results, page data);
* :class:`StartTimer` ``(name, seconds)`` / :class:`CancelTimer` ``(name)`` -
  starting a timer replaces a running one of the same name; when it runs out
  call ``timer_expired(name)``.  Names: ``ring``, ``dial`` (S7), ``tx``
  and ``tx_end`` (line pacing of page data), ``phcto`` (Class 2 wait for ``+FET=``),
  ``response`` (wait for the remote's page response), ``page_wait``;
* line actions for the network (:mod:`hwsim.line`): ``Dial``, ``Answer``,
  ``Hangup``, ``ToLine(signal)``.

Behaviour in brief: command echo (``ATE``), ``;``-chained commands, ``ATI``/
``ATI3``, ``+FCLASS=?`` (``0,2,2.0,2.1``, ``0,2,2.0`` or ``0,2``), both parameter dialects,
S-registers, ``RING`` with ``NMBR = <caller>`` after the first ring (caller ID,
``AT+VCID=0`` turns it off), auto-answer with ``S0``.  Dial results
``BUSY``/``NO DIALTONE``/``NO CARRIER``/``NO ANSWER`` (S7 runs out while the
remote rings).  Sending: ``+FDT`` -> ``[+FDCS:/+FCS:] CONNECT`` (+ XON in
Class 2); page data with DLE transparency ends with ``<DLE><ETX>`` (Class 2,
then ``AT+FET=n``) or ``<DLE>,;.`` (2.0; a bare ``<DLE><ETX>`` counts as MPS);
the page is paced over the line at the negotiated rate, never under
``min_page_seconds`` (efax divides by the whole seconds a page took) unless
``pacing`` is off.  Receiving: ``+FDR`` -> ``[+FCFR] [+FDCS:] CONNECT``, the
DTE sends DC2 (or DC1), page data follows with RTC (appended if the sender
left it out), ``<DLE><ETX>``, ``+FPTS:ppr,lc`` / ``+FPS:ppr,lc,0,0,0`` (hex
counts), ``+FET:ppm``, ``OK``; the page response (``+FPS=``/``+FPTS=`` can
change it) goes to the sender at the next ``+FDR``.  Bit order: the sender's
``+FBO`` bit 0 is honoured; the receiver honours ``+FBO`` in 2.0 and, like
Rockwell parts, delivers MSB-first data at ``+FBOR=0`` in Class 2.

Page coding and line quality: ``+FCC``/``+FIS`` carry df (0 MH, 1 MR, 3 MMR)
and ec (ECM, 64- or 256-byte frames); the DCS is the lower of both ends, with
MMR and V.34 rates (``br`` above 5, Class 2.1 only) only under ECM.  A call's
``bit_error_rate`` (fault plan) damages a page without ECM (RTN) and costs
resent frames with ECM (:mod:`hwsim._ecm`).  Page data go through a transmit
buffer of ``+FBS`` bytes with XOFF/XON towards the DTE (:mod:`hwsim._txpage`);
with ``t30`` set the T.30 phases take their real time (:mod:`hwsim._t30`).

Hangup codes (``+FHNG:`` decimal / ``+FHS:`` hex, always followed by ``OK``):
0 normal end, 2 ``+FK``/``+FKS``/CAN, 21 remote cannot receive (``+FCR=0``),
20/22 call lost/DCN in transmit phase B, 40 carrier lost while a page is
sent, 50 no ``+FET=`` within ``+FPHCTO`` (the modem sends EOP itself),
51 DCN instead of a page response, 52/56/54 no response to MPS/EOM/EOP,
70/71 call lost/DCN before a page, 73 no page within ``page_wait_seconds``,
90 carrier lost while a page is received, 100 (``A0``) lost before the
post-page message.  A hangup while no command is running is reported by the
next fax command (``+FDT``, ``+FDR``, ``+FET``, ``+FK``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import cast

from . import _at, _page
from ._t30 import T30Timing
from .line import (
    Answer,
    Caps,
    Dial,
    Hangup,
    LineEvent,
    PageStart,
    StationInfo,
    ToLine,
)


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
PPM_BY_DLE = {_page.ETX: None, ord(","): 0, ord(";"): 1, ord("."): 2}
NO_RESPONSE_CODE = {0: 52, 1: 56, 2: 54}
_DIAL_CHARS = frozenset("0123456789*#+")


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


@dataclass
class _RxPage:
    start: PageStart
    data: bytearray = field(default_factory=bytearray)
    ended: bool = False
    damaged: bool = False
    ppm: int | None = None


class SimModem:
    """One simulated fax modem; see the module docstring."""

    def __init__(self, config: ModemConfig, number: str) -> None:
        self.config = config
        self.number = number
        self._out: list[Output] = []
        self._cmdbuf = bytearray()
        self.flow_stats = FlowStats()
        self._last_hangup = 0  # for +FHS? / +FHNG? / +FAXERR?
        self._last_hangup_text = ""
        self._reset()

    # -- public interface ------------------------------------------------

    @property
    def state(self) -> State:
        """The current state (for tests and logs)."""
        return self._state

    @property
    def fax_class(self) -> str:
        """The selected service class: "0", "2" or "2.0"."""
        return self._fclass

    def feed_dte(self, data: bytes) -> list[Output]:
        """Bytes from the DTE."""
        rest = data
        while rest:
            rest = self._feed_once(rest)
        return self._flush()

    def line_event(self, event: LineEvent) -> list[Output]:
        """An event from the network."""
        _session.on_line_event(self, event)
        return self._flush()

    def timer_expired(self, name: str) -> list[Output]:
        """The named timer ran out."""
        _session.on_timer(self, name)
        return self._flush()

    # -- state -------------------------------------------------------------

    def _reset(self) -> None:
        """ATZ / power-on: defaults, on-hook."""
        self._state = State.IDLE
        self._pending_hangup: int | None = None
        self._fclass = "0"
        self._echo = True
        self._verbose = True
        self._quiet = False
        self._caller_id_on = True
        self._sregs = dict(DEFAULT_SREGS)
        self._values: dict[str, tuple[int, ...] | str] = {p.key: p.default for p in _at.PARAMS}
        self._end_call()

    def _end_call(self) -> None:
        self._role: str | None = None
        self._call_class = self._fclass
        self._remote: StationInfo | None = None
        self._dcs: Caps | None = None
        self._page_no = 0
        self._rings = 0
        self._caller: str | None = None
        self._first_page = True
        self._tx_reader = _page.DleReader()
        self._tx_queue = bytearray()  # page data in the transmit buffer (wire order)
        self._tx_total = 0
        self._tx_xoff = False
        self._tx_elapsed = 0.0
        self._tx_ended = False
        self._tx_extra = 0.0
        self._tx_carry = 0.0  # bit errors owed by the line (fraction), without ECM
        self._t30_action: Callable[[], None] | None = None
        self._tx_ppm: int | None = None
        self._tx_lost: int | None = None
        self._tx_damaged = False
        self._ber = 0.0  # the line's bit-error rate for this call
        self._rx: _RxPage | None = None
        self._held_ppm: int | None = None
        self._last_rx_ppm: int | None = None

    def _flush(self) -> list[Output]:
        """The outputs so far, with neighbouring ToDTE joined."""
        out: list[Output] = []
        for item in self._out:
            if isinstance(item, ToDTE) and out and isinstance(out[-1], ToDTE):
                out[-1] = ToDTE(out[-1].data + item.data)
            else:
                out.append(item)
        self._out = []
        return out

    def _emit(self, output: Output) -> None:
        self._out.append(output)

    def _send(self, data: bytes) -> None:
        if data:
            self._out.append(ToDTE(data))

    def _info(self, text: str) -> None:
        """An information text or report line."""
        self._send((f"\r\n{text}\r\n" if self._verbose else f"{text}\r\n").encode("latin-1"))

    def _result(self, text: str) -> None:
        """A final or unsolicited result code."""
        if self._quiet:
            return
        if self._verbose:
            self._send(f"\r\n{text}\r\n".encode("ascii"))
        else:
            self._send(f"{RESULT_CODES[text]}\r".encode("ascii"))

    def _hangup_result(self, code: int) -> None:
        report = hangup_report(code, self._call_class)
        self._last_hangup, self._last_hangup_text = code, report.split(":", 1)[1]
        self._info(report)
        self._result("OK")

    def _local_info(self) -> StationInfo:
        caps = cast(Caps, tuple(self._values["FIS"])[:8])
        return StationInfo(str(self._values["FLI"]), caps, self._values["FCR"] == (1,))

    def _report_enabled(self, index: int) -> bool:
        """Class 2 always reports; 2.0 only what +FNR enables (rpr,tpr,idr,nsr)."""
        if self._call_class == "2":
            return True
        fnr = self._values["FNR"]
        return isinstance(fnr, tuple) and fnr[index] == 1

    def _caps_text(self, caps: Caps) -> str:
        return _at.format_value(caps, hex_values=self._call_class != "2")

    def _go_idle(self) -> None:
        for name in ("ring", "dial", "tx", "tx_end", "phcto", "response", "page_wait", "t30"):
            self._emit(CancelTimer(name))
        if self._tx_xoff:
            self._send(b"\x11")  # back in command mode: a DTE held by XOFF may write again
        self._state = State.IDLE
        self._end_call()

    # -- DTE input -----------------------------------------------------------

    def _feed_once(self, data: bytes) -> bytes:
        """Consume some of ``data``; return what is left for the next state."""
        state = self._state
        if state in COMMAND_STATES:
            return self._command_bytes(data)
        if state is State.DIALING:
            self._emit(Hangup())
            self._go_idle()
            self._result("NO CARRIER")
            return b""
        return _session.on_dte_data(self, data)

    def _command_bytes(self, data: bytes) -> bytes:
        for i, byte in enumerate(data):
            if self._echo:
                self._send(bytes([byte]))
            if byte == self._sregs[3]:
                line = self._cmdbuf.decode("latin-1")
                self._cmdbuf.clear()
                self._command_line(line)
                if self._state not in COMMAND_STATES:
                    return data[i + 1 :]
            elif byte == self._sregs[5]:
                del self._cmdbuf[-1:]
            elif byte != self._sregs[4] and len(self._cmdbuf) < 1024:
                self._cmdbuf.append(byte)
        return b""

    def _command_line(self, line: str) -> None:
        start = line.upper().find("AT")
        if start < 0:
            return  # no AT prefix: modems ignore the line
        try:
            commands = _at.parse_line(line[start + 2 :])
        except _at.CommandError:
            self._result("ERROR")
            return
        _commands.execute(self, commands)

    # -- helpers shared by the session module --------------------------------

    def page_duration(self, size: int, *, bits: int | None = None, extra: float = 0.0) -> float:
        """Line time of a page of ``size`` bytes (or ``bits`` on the line, ECM framing and
        resent frames included) at the negotiated rate, plus ``extra`` seconds."""
        if not self.config.pacing:
            return 0.0
        rate = 2400 * ((self._dcs[1] if self._dcs else 5) + 1)
        line_bits = size * 8 if bits is None else bits
        return max(self.config.min_page_seconds, line_bits / rate + extra)


from . import _commands, _session  # noqa: E402  (they use the names above)
