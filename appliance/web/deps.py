"""The seams the web service needs from the rest of the appliance.

Implementations are injected (``make_web_service``/``make_site``); tests use
small in-memory ones.  Records are read by attribute only, so any object
with these fields fits (dataclasses, named tuples, ORM rows).

* :class:`LineStatusSource` — the line pool: ``status()`` is cheap and runs
  in the reactor thread.
* :class:`InboxSource` — received faxes: ``list``/``get`` may block (they run
  in the thread pool).
* :class:`CdrSource` — the RADIUS store's ``list_cdrs`` (blocking).
* :class:`AccountWriter` — optional: where ``<password>`` of FFWS
  ``POST/PUT /users`` goes (the RADIUS account store); blocking.  None
  means the accounts live on another RADIUS server: passwords are refused (409).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from radius.store.api import Account, AccountingRecord, Did

__all__ = [
    "AccountDirectory",
    "AccountWriter",
    "CdrSource",
    "InboxRecord",
    "InboxSource",
    "LineInfo",
    "LineStatus",
    "LineStatusSource",
    "LineUse",
    "ReceivedFax",
]


class LineUse(enum.StrEnum):
    """What a line is doing now, as the status resources count it."""

    IDLE = "idle"
    SEND = "send"
    RECEIVE = "receive"


class LineStatus(Protocol):
    """One line (modem or channel) as the status resources show it."""

    line_id: str  # the configured line name
    number: int  # 1-based modem/channel number
    state: str  # FaxFinder modem state text: "Waiting for Ring", "Sending Page", "Receiving Page", …
    direction: LineUse
    remote_id: str  # the far end's CSID/TSI
    fax_number: str  # number dialled (send) or called (receive)
    page: int  # current page
    baud_rate: int  # 0 when not connected
    resolution: str  # "fine" | "normal" | ""
    width: int
    height: int
    connect_time: float | None  # unix time the call connected
    started_at: float | None  # unix time the call began (dial or answer)
    extension: str  # DID/extension of a reception
    recipient: str  # account a reception is for


@dataclass
class LineInfo:
    """A ready-made :class:`LineStatus` record."""

    line_id: str
    number: int
    state: str = "Waiting for Ring"
    direction: LineUse = LineUse.IDLE
    remote_id: str = ""
    fax_number: str = ""
    page: int = 0
    baud_rate: int = 0
    resolution: str = ""
    width: int = 0
    height: int = 0
    connect_time: float | None = None
    started_at: float | None = None
    extension: str = ""
    recipient: str = ""
    ecm: str = ""  # "on" | "off" | "" (not connected)
    line_encoding: str = ""  # MH | MR | MMR


class LineStatusSource(Protocol):
    def status(self) -> Sequence[LineStatus]:
        """Every line, in number order (non-blocking)."""
        ...


class InboxRecord(Protocol):
    """One received fax."""

    id: str
    account: str  # the account it was delivered to
    received_at: float  # unix time
    pages: int
    remote_id: str  # sender's TSI
    did: str  # the number called
    previews: Sequence[str]  # PNG preview paths, one per page


@dataclass
class ReceivedFax:
    """A ready-made :class:`InboxRecord`."""

    id: str
    account: str
    received_at: float
    pages: int = 0
    remote_id: str = ""
    did: str = ""
    previews: Sequence[str] = field(default_factory=tuple)
    pdf: str = ""  # the fax as PDF ("" when none); the web console offers it for download
    tiff: str = ""  # the fax as TIFF-F ("" when none)


class InboxSource(Protocol):
    def list(self, account: str | None = None, limit: int = 50) -> Sequence[InboxRecord]:
        """Newest first; every account's when ``account`` is None (blocking)."""
        ...

    def get(self, id: str) -> InboxRecord | None:
        """One received fax, or None (blocking)."""
        ...


class CdrSource(Protocol):
    def list_cdrs(
        self, since: float | None = None, limit: int | None = None, stops_only: bool = False
    ) -> Sequence[AccountingRecord]:
        """``radius.store`` accounting records, oldest first (blocking)."""
        ...


@runtime_checkable
class AccountDirectory(Protocol):
    """The accounts and DIDs of this appliance's own RADIUS store (the console's admin pages; blocking)."""

    def get_account(self, name: str) -> Account | None: ...
    def list_accounts(self) -> list[Account]: ...
    def list_dids(self, account: str | None = None) -> list[Did]: ...
    def add_did(self, did: Did) -> Did: ...


@runtime_checkable
class AccountWriter(Protocol):
    def has_account(self, username: str) -> bool:
        """Whether the account exists (blocking)."""
        ...

    def add_account(self, username: str, password: str) -> None:
        """Create the account; WebError 400 when it exists (blocking)."""
        ...

    def set_password(self, username: str, password: str) -> None:
        """Create the account or change its password (blocking)."""
        ...
