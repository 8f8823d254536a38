"""T.37 store-and-forward addressing (pure): the recipient address of an
e-mail to fax, as a FaxFinder accepts it.

``FAX=<number>[/OPTION=value…]@<domain>`` (RFC 2304 style) or plain
``<number>@<domain>``.  Options (case-insensitive names):
``COVER-PAGE-ENABLED=true|false``, ``COVER-PAGE-NAME=<name>``, ``ATTN=<name>``,
``ORG=<organization>``, ``FAX-PRIORITY=0..5`` (0 highest), ``INLINE-COMMENTS=true|false``,
``RECEIPT=always|failure|success|never``, ``T33S=<subaddress>``.
The number itself is checked later by the dial plan, like every other front door.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass

from appliance.jobs.choices import Receipt

__all__ = ["RECEIPTS", "T37Address", "T37Error", "T37Option", "parse_t37"]

RECEIPTS = tuple(r.value for r in Receipt)
MAX_LOCAL = 256
MAX_VALUE = 64
_TRUE, _FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")
_NUMBER_ONLY = re.compile(r"^\+?[0-9][0-9.\-]*$")
_T33S = re.compile(r"^[0-9]{1,20}$")


class T37Error(ValueError):
    """The address is not a T.37 fax address this gateway accepts; the text says why."""


@dataclass(frozen=True)
class T37Address:
    """One recipient of an e-mail to fax; ``None`` options: the sender's defaults."""

    number: str
    cover_enabled: bool | None = None
    cover_name: str = ""
    attn: str = ""
    org: str = ""
    priority: int | None = None
    inline_comments: bool | None = None
    receipt: Receipt | None = None
    t33s: str = ""


class T37Option(enum.StrEnum):
    """The ``NAME=value`` options of a T.37 address (besides ``FAX``)."""

    COVER_PAGE_ENABLED = "COVER-PAGE-ENABLED"
    COVER_PAGE_NAME = "COVER-PAGE-NAME"
    ATTN = "ATTN"
    ORG = "ORG"
    FAX_PRIORITY = "FAX-PRIORITY"
    INLINE_COMMENTS = "INLINE-COMMENTS"
    RECEIPT = "RECEIPT"
    T33S = "T33S"


_OPTIONS = frozenset(T37Option)


def _flag(name: str, value: str) -> bool:
    low = value.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise T37Error(f"{name} must be true or false, not {value[:MAX_VALUE]!r}")


def parse_t37(address: str, domains: Sequence[str]) -> T37Address:
    """Parse ``address`` (``local@domain``); raises :class:`T37Error`."""
    local, at, domain = address.rpartition("@")
    if not at or not local:
        raise T37Error("the address has no local part and domain")
    if domain.lower().rstrip(".") not in {d.lower() for d in domains}:
        raise T37Error(f"this gateway does not relay to the domain {domain[:100]!r}")
    if len(local) > MAX_LOCAL:
        raise T37Error(f"the local part is longer than {MAX_LOCAL} characters")
    if local.startswith('"') and local.endswith('"') and len(local) >= 2:
        local = local[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if "=" not in local:
        if not _NUMBER_ONLY.match(local):
            raise T37Error("the address must be FAX=<number>[/OPTION=value…] or <number>")
        return T37Address(local)
    values: dict[str, str] = {}
    for part in local.split("/"):
        name, eq, value = part.partition("=")
        name = name.strip().upper()
        if not eq or not name:
            raise T37Error(f"{part[:MAX_VALUE]!r} is not OPTION=value")
        if name in values:
            raise T37Error(f"{name} is given twice")
        if len(value) > MAX_VALUE:
            raise T37Error(f"the value of {name} is longer than {MAX_VALUE} characters")
        if any(not ch.isprintable() for ch in value):
            raise T37Error(f"the value of {name} holds a control character")
        values[name] = value
    return _options(values)


def _options(values: dict[str, str]) -> T37Address:
    number = values.pop("FAX", "")
    if not number:
        raise T37Error("FAX=<number> is missing")
    kw: dict[str, object] = {}
    for name, value in values.items():
        if name not in _OPTIONS:
            raise T37Error(f"unknown option {name[:MAX_VALUE]!r}")
        option = T37Option(name)
        if option is T37Option.COVER_PAGE_ENABLED:
            kw["cover_enabled"] = _flag(name, value)
        elif option is T37Option.COVER_PAGE_NAME:
            kw["cover_name"] = value
        elif option is T37Option.ATTN:
            kw["attn"] = value
        elif option is T37Option.ORG:
            kw["org"] = value
        elif option is T37Option.FAX_PRIORITY:
            if not (len(value) == 1 and value in "012345"):
                raise T37Error(f"FAX-PRIORITY must be 0..5, not {value!r}")
            kw["priority"] = int(value)
        elif option is T37Option.INLINE_COMMENTS:
            kw["inline_comments"] = _flag(name, value)
        elif option is T37Option.RECEIPT:
            if value.lower() not in RECEIPTS:
                raise T37Error(f"RECEIPT must be one of {', '.join(RECEIPTS)}, not {value!r}")
            kw["receipt"] = Receipt(value.lower())
        else:  # T33S
            if not _T33S.match(value):
                raise T37Error(f"T33S must be 1-20 digits, not {value!r}")
            kw["t33s"] = value
    return T37Address(number, **kw)  # type: ignore[arg-type]
