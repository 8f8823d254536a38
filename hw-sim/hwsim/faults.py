"""Fault plans for the simulated telephone network, and their TOML file format.

A fault file::

    # faults for every call to or from this number
    [line.5550002]
    busy_first = 2          # the first 2 calls to this number get BUSY
    never_answer = false    # calls ring here but nobody ever answers
    no_carrier = false      # answered, but no fax handshake (NO CARRIER)
    no_dial_tone = false    # dialing out from this line gets NO DIALTONE
    carrier_lost_page = 2   # the call breaks down while page 2 is sent (mid-page)
    carrier_lost_after_page = 2  # ... right after page 2's post-page message,
                            # before the receiver's answer reaches the sender
    rtn_pages = [1]         # page 1 arrives damaged (receiver answers RTN)
    bit_error_rate = 1e-5   # bit errors on the line: without ECM they damage the
                            # page (RTN); with ECM the damaged frames are resent

    # faults for one call: matched on caller, callee and attempt number
    [[call]]
    from = "5550001"        # optional
    to = "5550002"          # optional
    attempt = 1             # optional: n-th call to ``to`` (1-based)
    carrier_lost_page = 1

``carrier_lost_page``, ``carrier_lost_after_page`` and ``rtn_pages`` apply to
the first transmission of that page only, so a retransmission after RTN goes
through.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


class FaultFileError(ValueError):
    """The fault file is not valid; the message names the file and the key."""


@dataclass(frozen=True)
class Faults:
    """Faults of a line or of a call."""

    busy_first: int = 0
    never_answer: bool = False
    no_carrier: bool = False
    no_dial_tone: bool = False
    carrier_lost_page: int | None = None
    carrier_lost_after_page: int | None = None
    rtn_pages: frozenset[int] = frozenset()
    bit_error_rate: float = 0.0

    def merged(self, other: Faults) -> Faults:
        """These faults with ``other``'s non-default values added."""
        return Faults(
            busy_first=max(self.busy_first, other.busy_first),
            never_answer=self.never_answer or other.never_answer,
            no_carrier=self.no_carrier or other.no_carrier,
            no_dial_tone=self.no_dial_tone or other.no_dial_tone,
            carrier_lost_page=other.carrier_lost_page or self.carrier_lost_page,
            carrier_lost_after_page=other.carrier_lost_after_page or self.carrier_lost_after_page,
            rtn_pages=self.rtn_pages | other.rtn_pages,
            bit_error_rate=max(self.bit_error_rate, other.bit_error_rate),
        )


@dataclass(frozen=True)
class CallFault:
    """Faults for the calls that match ``caller``/``callee``/``attempt``."""

    faults: Faults
    caller: str | None = None
    callee: str | None = None
    attempt: int | None = None

    def matches(self, caller: str, callee: str, attempt: int) -> bool:
        """Whether this entry applies to the call."""
        return (
            (self.caller is None or self.caller == caller)
            and (self.callee is None or self.callee == callee)
            and (self.attempt is None or self.attempt == attempt)
        )


@dataclass(frozen=True)
class FaultPlan:
    """All faults of a network."""

    lines: dict[str, Faults] = field(default_factory=dict)
    calls: tuple[CallFault, ...] = ()

    def for_line(self, number: str) -> Faults:
        """Faults of one line (none if not listed)."""
        return self.lines.get(number, Faults())

    def for_call(self, caller: str, callee: str, attempt: int) -> Faults:
        """Faults of one call: both lines' faults plus matching call entries."""
        result = self.for_line(caller).merged(self.for_line(callee))
        for entry in self.calls:
            if entry.matches(caller, callee, attempt):
                result = result.merged(entry.faults)
        return result


_FAULT_KEYS = {f.name for f in fields(Faults)}


def _faults(where: str, table: dict[str, Any], extra: frozenset[str] = frozenset()) -> Faults:
    unknown = set(table) - _FAULT_KEYS - extra
    if unknown:
        raise FaultFileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for key in _FAULT_KEYS & set(table):
        value = table[key]
        if key in ("never_answer", "no_carrier", "no_dial_tone"):
            if not isinstance(value, bool):
                raise FaultFileError(f"{where}.{key}: expected true or false, got {value!r}")
        elif key == "rtn_pages":
            if not isinstance(value, list) or not all(isinstance(v, int) and v >= 1 for v in value):
                raise FaultFileError(f"{where}.{key}: expected a list of page numbers >= 1")
            value = frozenset(value)
        elif key == "bit_error_rate":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 0.01:
                raise FaultFileError(f"{where}.{key}: expected a rate from 0 to below 0.01, got {value!r}")
            value = float(value)
        elif isinstance(value, bool) or not isinstance(value, int) or value < (1 if key != "busy_first" else 0):
            raise FaultFileError(f"{where}.{key}: expected a positive whole number, got {value!r}")
        values[key] = value
    return Faults(**values)


def parse_faults(text: str, source: str = "<faults>") -> FaultPlan:
    """A :class:`FaultPlan` from TOML text; errors name ``source`` and the key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FaultFileError(f"{source}: not valid TOML: {exc}") from None
    unknown = set(data) - {"line", "call"}
    if unknown:
        raise FaultFileError(f"{source}: unknown section(s) {', '.join(sorted(unknown))}")
    lines_table = data.get("line", {})
    if not isinstance(lines_table, dict):
        raise FaultFileError(f"{source}: [line.NUMBER] tables expected")
    lines: dict[str, Faults] = {}
    for number, table in lines_table.items():
        if not isinstance(table, dict):
            raise FaultFileError(f"{source}: line.{number} must be a table")
        lines[str(number)] = _faults(f"{source}: line.{number}", table)
    calls: list[CallFault] = []
    call_list = data.get("call", [])
    if not isinstance(call_list, list):
        raise FaultFileError(f"{source}: [[call]] entries expected")
    for n, table in enumerate(call_list, 1):
        where = f"{source}: call #{n}"
        faults = _faults(where, table, frozenset({"from", "to", "attempt"}))
        attempt = table.get("attempt")
        if attempt is not None and (isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1):
            raise FaultFileError(f"{where}.attempt: expected a whole number >= 1")
        caller, callee = table.get("from"), table.get("to")
        for key, value in (("from", caller), ("to", callee)):
            if value is not None and not isinstance(value, str):
                raise FaultFileError(f"{where}.{key}: expected a quoted phone number")
        calls.append(CallFault(faults, caller, callee, attempt))
    return FaultPlan(lines, tuple(calls))


def load_faults(path: str | Path) -> FaultPlan:
    """A :class:`FaultPlan` from a TOML file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise FaultFileError(f"{p}: cannot read fault file: {exc.strerror}") from None
    return parse_faults(text, str(p))
