"""Where a received fax goes: the inbound routing core (pure).

A received fax is delivered to one or more *destinations*
(:class:`Destination`): ``email`` (an address), ``user`` (the receiving
account's own address, FB-Rcv-Email), ``printer`` (a CUPS queue), ``share``
(a directory) or ``trash`` (nothing; the fax stays in the inbox only).

:func:`route` picks the destinations from the first source that has any:

1. the FaxBack answer for the receiving account (``FB-Rcv-Email``, in the
   ``FB-Rcv-Format``), when the account has an address;
2. the recipients table (FaxFinder "Recipients": extension or DID -> one or
   more destinations; CSV ``Extension,Name,Destination Type,Destination Value``);
3. the route of the line the call came in on;
4. the global route.

No source: no delivery (the fax is in the inbox, as before).
"""

from __future__ import annotations

import csv
import enum
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from appliance.jobs.choices import DocumentFormat

__all__ = [
    "DESTINATION_TYPES",
    "FORMATS",
    "Destination",
    "DestinationKind",
    "FaxbackAnswer",
    "RecipientRow",
    "Routes",
    "RoutingError",
    "format_from_faxback",
    "parse_destination",
    "parse_recipients_csv",
    "route",
]


class DestinationKind(enum.StrEnum):
    """Where a received fax goes (FaxFinder's destination types)."""

    EMAIL = "email"
    USER = "user"  # the e-mail address of the receiving account
    PRINTER = "printer"
    SHARE = "share"
    TRASH = "trash"


DESTINATION_TYPES: tuple[DestinationKind, ...] = tuple(DestinationKind)
FORMATS: tuple[DocumentFormat, ...] = tuple(DocumentFormat)
MAX_CSV_BYTES = 1024 * 1024
MAX_CSV_ROWS = 10000
MAX_VALUE_CHARS = 254  # an e-mail address (RFC 5321 path limit), a queue name or a path
_EXTENSION = re.compile(r"^[0-9]{1,15}$")
_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"\\]+@[A-Za-z0-9.-]+$")
_QUEUE = re.compile(r"^[A-Za-z0-9_.-]{1,127}$")


class RoutingError(ValueError):
    """A route, a destination or a recipients CSV row that cannot be used."""


@dataclass(frozen=True)
class Destination:
    """One place a received fax goes; ``value`` per ``kind`` (empty for user/trash)."""

    kind: DestinationKind
    value: str = ""
    format: DocumentFormat | None = None  # None: the configured default

    def __post_init__(self) -> None:
        # callers may give the choices as text: keep them as enums (ValueError if not one)
        object.__setattr__(self, "kind", DestinationKind(self.kind))
        object.__setattr__(self, "format", DocumentFormat(self.format) if self.format else None)

    def describe(self) -> str:
        return f"{self.kind}:{self.value}" if self.value else self.kind


def parse_destination(text: str, fmt: str = "") -> Destination:
    """``email:a@b``, ``user``, ``printer:QUEUE``, ``share:/dir``, ``trash``;
    an optional ``;format=pdf|tiff`` suffix chooses the attachment format."""
    if not isinstance(text, str):
        raise RoutingError(f"a destination must be text, not {type(text).__name__}")
    spec, _, option = text.partition(";")
    if option:
        key, _, value = option.partition("=")
        if key.strip().lower() != "format" or value.strip().lower() not in FORMATS:
            raise RoutingError(f"destination {text!r}: the only option is format=pdf or format=tiff")
        fmt = value.strip().lower()
    kind, _, value = spec.partition(":")
    return make_destination(kind, value, fmt)


def make_destination(kind: str, value: str, fmt: str = "") -> Destination:
    kind_text = kind.strip().lower()
    value = value.strip()
    if kind_text not in DESTINATION_TYPES:
        raise RoutingError(f"destination type {kind_text!r} is not one of {', '.join(DESTINATION_TYPES)}")
    kind_ = DestinationKind(kind_text)
    if len(value) > MAX_VALUE_CHARS:
        raise RoutingError(f"{kind_} destination is longer than {MAX_VALUE_CHARS} characters")
    if fmt and fmt not in FORMATS:
        raise RoutingError(f"format {fmt!r} is not pdf or tiff")
    format_ = DocumentFormat(fmt) if fmt else None
    if kind_ in (DestinationKind.USER, DestinationKind.TRASH):
        return Destination(kind_, "", format_)
    if not value:
        raise RoutingError(f"a {kind_} destination needs a value")
    if kind_ is DestinationKind.EMAIL and not _ADDRESS.match(value):
        raise RoutingError(f"{value!r} is not an e-mail address")
    if kind_ is DestinationKind.PRINTER and not _QUEUE.match(value):
        raise RoutingError(f"{value!r} is not a printer queue name (letters, digits, _ . -)")
    if kind_ is DestinationKind.SHARE and (not value.startswith("/") or "\x00" in value):
        raise RoutingError(f"share {value!r} must be an absolute directory path")
    return Destination(kind_, value, format_)


@dataclass(frozen=True)
class RecipientRow:
    """One row of the recipients table: an extension (or DID) and its destination."""

    extension: str
    name: str
    destination: Destination


@dataclass(frozen=True)
class Routes:
    """The configured routes: global, per line, per extension/DID."""

    global_route: tuple[Destination, ...] = ()
    lines: Mapping[str, tuple[Destination, ...]] = field(default_factory=dict)
    recipients: Mapping[str, tuple[Destination, ...]] = field(default_factory=dict)
    default_format: DocumentFormat = DocumentFormat.PDF

    def __post_init__(self) -> None:
        object.__setattr__(self, "default_format", DocumentFormat(self.default_format))

    def with_recipients(self, rows: Iterable[RecipientRow]) -> Routes:
        table = {k: list(v) for k, v in self.recipients.items()}
        for row in rows:
            table.setdefault(row.extension, []).append(row.destination)
        return Routes(self.global_route, self.lines, {k: tuple(v) for k, v in table.items()}, self.default_format)


@dataclass(frozen=True)
class FaxbackAnswer:
    """What RADIUS said of the receiving account (Get-Account / For-External-Module)."""

    account: str
    rcv_email: str = ""
    rcv_format: int = 0


def format_from_faxback(value: int) -> DocumentFormat | None:
    """FB-Rcv-Format (its value table was not recovered): 0 the default (None), 1 PDF, 2 TIFF."""
    return {1: DocumentFormat.PDF, 2: DocumentFormat.TIFF}.get(value)


def route(did: str, line: str, faxback: FaxbackAnswer | None, routes: Routes) -> tuple[Destination, ...]:
    """The destinations of a fax received on ``line`` for ``did`` (see the module docstring).
    Every destination has a format; ``user`` destinations become ``email`` to the
    account's address (or are left out when it has none); ``trash`` alone means none."""
    found: Sequence[Destination] = ()
    if faxback is not None and faxback.rcv_email:
        found = (Destination(DestinationKind.EMAIL, faxback.rcv_email, format_from_faxback(faxback.rcv_format)),)
    elif did and did in routes.recipients:
        found = routes.recipients[did]
    elif line and line in routes.lines:
        found = routes.lines[line]
    else:
        found = routes.global_route
    out: list[Destination] = []
    for d in found:
        fmt = d.format or routes.default_format
        if d.kind is DestinationKind.USER:
            if faxback is None or not faxback.rcv_email:
                continue
            own = d.format or format_from_faxback(faxback.rcv_format)
            d = Destination(DestinationKind.EMAIL, faxback.rcv_email, own)
            fmt = d.format or routes.default_format
        if d.kind is DestinationKind.TRASH:
            continue
        resolved = Destination(d.kind, d.value, fmt)
        if resolved not in out:
            out.append(resolved)
    return tuple(out)


_CSV_HEADER = ("extension", "name", "destination type", "destination value")


def parse_recipients_csv(text: str) -> list[RecipientRow]:
    """FaxFinder's recipients CSV: ``Extension,Name,Destination Type,Destination Value``
    (header optional; several rows per extension give several destinations)."""
    if len(text) > MAX_CSV_BYTES:
        raise RoutingError(f"the recipients CSV is larger than {MAX_CSV_BYTES} bytes")
    rows: list[RecipientRow] = []
    for number, fields in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not fields or all(not f.strip() for f in fields):
            continue
        if number == 1 and tuple(f.strip().lower() for f in fields[:4]) == _CSV_HEADER:
            continue
        if len(fields) != 4:
            raise RoutingError(
                f"recipients CSV line {number}: expected 4 fields "
                f"(Extension,Name,Destination Type,Destination Value), got {len(fields)}"
            )
        extension, name, kind, value = (f.strip() for f in fields)
        if not _EXTENSION.match(extension):
            raise RoutingError(f"recipients CSV line {number}: extension {extension[:20]!r} must be 1-15 digits")
        try:
            destination = make_destination(kind, value)
        except RoutingError as exc:
            raise RoutingError(f"recipients CSV line {number}: {exc}") from None
        rows.append(RecipientRow(extension, name[:100], destination))
        if len(rows) > MAX_CSV_ROWS:
            raise RoutingError(f"the recipients CSV has more than {MAX_CSV_ROWS} rows")
    return rows
