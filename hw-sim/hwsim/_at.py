"""AT command-line parsing and the fax parameter table of the simulated modem.

``parse_line(body)`` splits what follows ``AT`` into commands (basic letters,
S-registers, dial strings and ``+F`` extended commands chained with ``;``).
``PARAMS`` describes every settable/readable fax parameter once, keyed by its
Class 2.0 name, with its Class 2 spelling (spec §2.2, §9).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class CommandError(ValueError):
    """The DTE sent a command the modem rejects (answered with ERROR)."""


class Op(Enum):
    """What an extended command asks for."""

    EXEC = "exec"  # +FDT
    SET = "set"  # +FCR=1
    READ = "read"  # +FCR?
    TEST = "test"  # +FCR=?


@dataclass(frozen=True)
class Basic:
    """A basic command: ``E0``, ``&F``, ``Z``, ``H0``, ``I3`` ..."""

    name: str  # upper case, with its prefix: "E", "&F", "\\Q"
    arg: int | None


@dataclass(frozen=True)
class SReg:
    """``Sn=v`` (value) or ``Sn?`` (value None)."""

    reg: int
    value: int | None


@dataclass(frozen=True)
class DialCmd:
    """``D`` with its dial string (modifiers included)."""

    dial_string: str


@dataclass(frozen=True)
class Extended:
    """``+Fxxx`` (or any ``+``/``#`` command) with its operation and raw value."""

    name: str  # upper case without the leading '+', e.g. "FCLASS"
    op: Op
    value: str = ""


Command = Basic | SReg | DialCmd | Extended

_EXT_NAME = re.compile(r"[+#]([A-Z][A-Z0-9.]*)")
_SREG = re.compile(r"S(\d+)(=(\d*)|\?)")


def _upper_outside_quotes(text: str) -> str:
    parts = text.split('"')
    return '"'.join(p.upper() if i % 2 == 0 else p for i, p in enumerate(parts))


def _extended_value(body: str, i: int) -> tuple[str, int]:
    """The value after '=' up to an unquoted ';' (or the end)."""
    quoted = False
    j = i
    while j < len(body):
        c = body[j]
        if c == '"':
            quoted = not quoted
        elif c == ";" and not quoted:
            break
        j += 1
    if quoted:
        raise CommandError("unterminated quoted string")
    return body[i:j], j


def parse_line(body: str) -> list[Command]:
    """Commands of one command line (the text after ``AT``, without CR)."""
    body = _upper_outside_quotes(body)
    commands: list[Command] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c in " ;":
            i += 1
            continue
        ext = _EXT_NAME.match(body, i) if c in "+#" else None
        if ext is not None:
            name, i = ext.group(1).rstrip("."), ext.end()
            if body.startswith("=?", i):
                commands.append(Extended(name, Op.TEST))
                i += 2
            elif body.startswith("=", i):
                value, i = _extended_value(body, i + 1)
                commands.append(Extended(name, Op.SET, value.strip()))
            elif body.startswith("?", i):
                commands.append(Extended(name, Op.READ))
                i += 1
            else:
                commands.append(Extended(name, Op.EXEC))
            continue
        if c == "D":
            commands.append(DialCmd(body[i + 1 :].strip()))
            break
        if c == "S":
            m = _SREG.match(body, i)
            if m is None:
                raise CommandError(f"bad S-register command at {body[i:]!r}")
            reg_value = None if m.group(2) == "?" else int(m.group(3) or 0)
            commands.append(SReg(int(m.group(1)), reg_value))
            i = m.end()
            continue
        prefix = ""
        if c in "&\\%*":
            prefix, i = c, i + 1
            if i >= len(body) or not ("A" <= body[i] <= "Z"):
                raise CommandError(f"bad command after {prefix!r}")
            c = body[i]
        if not ("A" <= c <= "Z"):
            raise CommandError(f"unexpected character {c!r}")
        j = i + 1
        while j < len(body) and "0" <= body[j] <= "9":
            j += 1
        digits, i = body[i + 1 : j], j
        commands.append(Basic(prefix + c, int(digits) if digits else None))
    return commands


@dataclass(frozen=True)
class Param:
    """One fax parameter: names, shape, default and ``=?`` answer."""

    key: str  # Class 2.0 name (canonical)
    class2: str | None  # Class 2 name
    fields: tuple[tuple[int, int], ...]  # allowed (lo, hi) per field; () = string
    default: tuple[int, ...] | str
    test: str
    read_only: bool = False
    decimal: bool = False  # V.25 ter parameters (+IFC, +IPR) are decimal in every class


# vr, br (0-5: up to V.17 14,400; Class 2.1 to 13: V.34 33,600), wd, ln, df (0 MH, 1 MR, 3 MMR),
# ec (0 off, 1 ECM with 64-byte frames, 2 with 256-byte frames), bf, st
CAPS_TEST = "(0,1),(0-5),(0-2),(0-2),(0,1,3),(0-2),(0),(0-7)"
IPR_TEST = "(0,2400,4800,9600,19200,38400,57600,115200)"
IPR_RATES = frozenset({0, 2400, 4800, 9600, 19200, 38400, 57600, 115200})
CAPS_TEST_21 = "(0,1),(0-D),(0-2),(0-2),(0,1,3),(0-2),(0),(0-7)"
_CAPS_FIELDS = ((0, 1), (0, 13), (0, 2), (0, 2), (0, 3), (0, 2), (0, 0), (0, 7))
DEFAULT_CAPS = (1, 5, 0, 2, 0, 0, 0, 0)

PARAMS: tuple[Param, ...] = (
    Param("FCC", "FDCC", _CAPS_FIELDS, DEFAULT_CAPS, CAPS_TEST),
    Param("FIS", "FDIS", _CAPS_FIELDS, DEFAULT_CAPS, CAPS_TEST),
    Param("FCS", "FDCS", _CAPS_FIELDS, (0,) * 8, CAPS_TEST, read_only=True),
    Param("FLI", "FLID", (), "", "(20),(32-127)"),
    Param("FPI", "FCIG", (), "", "(20),(32-127)"),
    Param("FNS", None, (), "", "(0-FF)"),
    Param("FCR", "FCR", ((0, 1),), (0,), "(0,1)"),
    Param("FBO", "FBOR", ((0, 3),), (0,), "(0-3)"),
    Param("FNR", None, ((0, 1),) * 4, (0, 0, 0, 0), "(0,1),(0,1),(0,1),(0,1)"),
    Param("FCT", "FPHCTO", ((0, 255),), (30,), "(0-FF)"),
    Param("FAA", "FAA", ((0, 1),), (0,), "(0,1)"),
    Param("FIE", None, ((0, 1),), (0,), "(0,1)"),
    Param("FPS", "FPTS", ((1, 5),), (1,), "(1-5)"),
    Param("FCQ", "FCQ", ((0, 2), (0, 2)), (1, 0), "(0-2),(0-2)"),
    Param("FRQ", None, ((0, 100), (0, 255)), (0, 0), "(0-64),(0-FF)"),
    Param("FLO", "FLO", ((0, 2),), (1,), "(0-2)"),  # XON/XOFF unless set otherwise
    Param("FMS", "FMINSP", ((0, 5),), (0,), "(0-5)"),
    Param("FSP", "FSPL", ((0, 1),), (0,), "(0,1)"),
    Param("FLP", "FLPL", ((0, 1),), (0,), "(0,1)"),
    Param("FBU", "FBUG", ((0, 1),), (0,), "(0,1)"),
    Param("FEA", "FREL", ((0, 1),), (0,), "(0,1)"),
    Param("FPP", "FTBC", ((0, 1),), (0,), "(0,1)"),
    Param("FAP", None, ((0, 1),) * 3, (0, 0, 0), "(0,1),(0,1),(0,1)"),
    Param("FRY", None, ((0, 255),), (0,), "(0-FF)"),
    Param("FPR", None, ((0, 255),), (8,), "(0-FF)"),
    Param("FIT", None, ((0, 255), (0, 1)), (0, 0), "(0-FF),(0,1)"),
    Param("FDD", None, ((0, 1),), (0,), "(0,1)"),
    Param("FBS", None, ((0, 65535), (0, 65535)), (0x800, 0x400), "", read_only=True),
    Param("FFC", None, ((0, 0),) * 4, (0, 0, 0, 0), "(0),(0),(0),(0)"),  # no format conversion
    Param("FSA", None, (), "", "(20),(32-127)"),  # subaddress (SUB)
    Param("FPA", None, (), "", "(20),(32-127)"),  # selective polling address (SEP)
    Param("FPW", None, (), "", "(20),(32-127)"),  # password (PWD)
    Param("FHS", "FHNG", ((0, 255),), (0,), "", read_only=True),  # last hangup status
    Param("IFC", "IFC", ((0, 2), (0, 2)), (2, 2), "(0-2),(0-2)", decimal=True),  # V.25 ter flow control
    Param("IPR", "IPR", ((0, 115200),), (0,), IPR_TEST, decimal=True),  # V.25 ter fixed DTE rate (0 = auto)
)


def param_index(fax_class: str) -> dict[str, Param]:
    """Parameters by the names valid in ``fax_class`` ("2", "2.0" or "0")."""
    index: dict[str, Param] = {}
    for p in PARAMS:
        if fax_class in ("2.0", "2.1", "0"):
            index[p.key] = p
        if fax_class in ("2", "0") and p.class2:
            index[p.class2] = p
    if fax_class == "2":
        index["FPS"] = index["FPTS"]  # mgetty sends the 2.0 spelling to Class 2 modems
    return index


def parse_value(param: Param, text: str, current: tuple[int, ...] | str, base: int) -> tuple[int, ...] | str:
    """The new value of ``param`` from a ``=`` write; empty fields keep their value."""
    if not param.fields:
        text = text.strip()
        if len(text) >= 2 and text[0] == text[-1] == '"':
            text = text[1:-1]
        if len(text) > 20 and param.key != "FNS":
            raise CommandError(f"+{param.key} value longer than 20 characters")
        return text
    if isinstance(current, str):
        raise TypeError(f"+{param.key} holds text, not numbers")
    parts = text.split(",")
    extra = parts[len(param.fields) :]
    if any(p.strip() not in ("", "0") for p in extra):
        raise CommandError(f"too many values for +{param.key}")
    values = list(current)
    for n, (part, (lo, hi)) in enumerate(zip(parts, param.fields)):
        part = part.strip()
        if not part:
            continue
        try:
            v = int(part, base)
        except ValueError:
            raise CommandError(f"+{param.key} field {n + 1} is not a number: {part!r}") from None
        if not lo <= v <= hi:
            raise CommandError(f"+{param.key} field {n + 1} out of range: {v}")
        values[n] = v
    return tuple(values)


def format_value(value: tuple[int, ...] | str, hex_values: bool = False) -> str:
    """The ``?`` answer for a value (Class 2.0/2.1 numbers in hex, T.32 §8)."""
    if isinstance(value, str):
        return f'"{value}"'
    return ",".join(f"{v:X}" if hex_values else str(v) for v in value)
