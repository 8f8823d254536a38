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

Structure: :mod:`hwsim._table` maps (state, event) to a handler and the
state it leads to; the handlers (:mod:`hwsim._commands`, :mod:`hwsim._session`,
:mod:`hwsim._txpage`, :mod:`hwsim._rxpage`) share one
:class:`~hwsim._context.ModemContext`.

Hangup codes (:class:`HangupCode`; ``+FHNG:`` decimal / ``+FHS:`` hex, always followed by ``OK``):
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

from . import _at, _table, _txpage
from ._commands import execute
from ._context import (
    COMMAND_STATES,
    CancelTimer,
    FlowStats,
    HangupCode,
    ModemConfig,
    ModemContext,
    Output,
    StartTimer,
    State,
    Timer,
    ToDTE,
    hangup_report,
    negotiate,
)
from ._table import DTE_DATA
from .line import FromLine, LineEvent

__all__ = [
    "CancelTimer",
    "FlowStats",
    "HangupCode",
    "ModemConfig",
    "Output",
    "SimModem",
    "StartTimer",
    "State",
    "ToDTE",
    "hangup_report",
    "negotiate",
]

MAX_COMMAND_LINE = 1024


class SimModem:
    """One simulated fax modem; see the module docstring."""

    def __init__(self, config: ModemConfig, number: str) -> None:
        self.config = config
        self.number = number
        self._ctx = ModemContext(config, number)
        self._cmdbuf = bytearray()

    @property
    def state(self) -> State:
        """The current state (for tests and logs)."""
        return self._ctx.state

    @property
    def fax_class(self) -> str:
        """The selected service class: "0", "2", "2.0" or "2.1"."""
        return self._ctx.fclass

    @property
    def flow_stats(self) -> FlowStats:
        """Transmit flow control over the modem's life."""
        return self._ctx.flow_stats

    def feed_dte(self, data: bytes) -> list[Output]:
        """Bytes from the DTE."""
        rest = data
        while rest:
            if self._ctx.state in COMMAND_STATES:
                rest = self._command_bytes(rest)
            else:
                self._ctx.unread = b""
                _table.dispatch(self._ctx, DTE_DATA, rest)
                rest, self._ctx.unread = self._ctx.unread, b""
        return self._flush()

    def line_event(self, event: LineEvent) -> list[Output]:
        """An event from the network."""
        if isinstance(event, FromLine):
            _table.dispatch(self._ctx, type(event.signal), event.signal)
        else:
            _table.dispatch(self._ctx, type(event), event)
        return self._flush()

    def timer_expired(self, name: str) -> list[Output]:
        """The named timer ran out."""
        try:
            timer = Timer(name)
        except ValueError:
            return []
        if timer is Timer.T30:
            step, self._ctx.call.t30_step = self._ctx.call.t30_step, None
            if step is not None:
                _table.dispatch(self._ctx, *step)
        else:
            _table.dispatch(self._ctx, timer)
        return self._flush()

    def page_duration(self, size: int, *, bits: int | None = None, extra: float = 0.0) -> float:
        """Line time of a page of ``size`` bytes (or ``bits`` on the line, ECM framing and
        resent frames included) at the negotiated rate, plus ``extra`` seconds."""
        return _txpage.page_duration(self._ctx, size, bits=bits, extra=extra)

    def _flush(self) -> list[Output]:
        """The outputs so far, with neighbouring ToDTE joined."""
        out: list[Output] = []
        for item in self._ctx.outputs:
            if isinstance(item, ToDTE) and out and isinstance(out[-1], ToDTE):
                out[-1] = ToDTE(out[-1].data + item.data)
            else:
                out.append(item)
        self._ctx.outputs = []
        return out

    def _command_bytes(self, data: bytes) -> bytes:
        """Command-mode input: echo, line editing, one command line per S3."""
        ctx = self._ctx
        for i, byte in enumerate(data):
            if ctx.echo:
                ctx.send(bytes([byte]))
            if byte == ctx.sregs[3]:
                line = self._cmdbuf.decode("latin-1")
                self._cmdbuf.clear()
                self._command_line(line)
                if ctx.state not in COMMAND_STATES:
                    return data[i + 1 :]
            elif byte == ctx.sregs[5]:
                del self._cmdbuf[-1:]
            elif byte != ctx.sregs[4] and len(self._cmdbuf) < MAX_COMMAND_LINE:
                self._cmdbuf.append(byte)
        return b""

    def _command_line(self, line: str) -> None:
        start = line.upper().find("AT")
        if start < 0:
            return  # no AT prefix: modems ignore the line
        try:
            commands = _at.parse_line(line[start + 2 :])
        except _at.CommandError:
            self._ctx.result("ERROR")
            return
        execute(self._ctx, commands, lambda cmd, command: _table.dispatch(self._ctx, cmd, command))
