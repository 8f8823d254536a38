"""Typed results of FAXAGE operations (frozen, keyword-only records).

Timestamps stay as the service's ``YYYY-MM-DD HH:MM:SS`` text: the service
reports them in the calling user's configured time zone, which the client
cannot know, so converting them would invent precision.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "Ack",
    "AuditRecord",
    "BlacklistEntry",
    "BusyCall",
    "CallCounts",
    "CdrRecord",
    "Document",
    "FaxRecord",
    "Folder",
    "HandleCount",
    "JobSubmitted",
    "LowSpeed",
    "NpaNxx",
    "PortRequest",
    "QueueEntry",
    "ShortStatus",
    "StatusRecord",
    "User",
]


class LowSpeed(enum.StrEnum):
    """A FAXAGE low-speed setting for calls to a destination (``lowspeed`` ``setspeed``)."""

    NONE = "none"
    LOW = "low"
    LOWLOW = "lowlow"


class ShortStatus(enum.Enum):
    PENDING = "pending"
    SUCCESS = "success"
    FAILURE = "failure"

    @property
    def final(self) -> bool:
        return self is not ShortStatus.PENDING


@dataclass(frozen=True, kw_only=True)
class JobSubmitted:
    """sendfax / resend: ``JOBID: n``.  ``reconciled`` is True when the job id
    was recovered through ``status`` after an ambiguous failure."""

    jobid: int
    reconciled: bool = False


@dataclass(frozen=True, kw_only=True)
class StatusRecord:
    """One status line (or one url_notify callback).  Optional columns are
    None unless the matching flag was sent."""

    jobid: int
    commid: str
    destname: str
    destnum: str
    shortstatus: ShortStatus
    longstatus: str
    sendtime: str
    completetime: str
    xmittime: str
    pagecount: int | None = None
    csid: str | None = None
    login: str | None = None
    xmitpages: int | None = None
    tries: int | None = None


@dataclass(frozen=True, kw_only=True)
class Document:
    """A binary reply (getfax, dlstatus, dltrans)."""

    data: bytes
    content_type: str
    filename: str | None = None

    def __repr__(self) -> str:
        return f"Document({len(self.data)} bytes, {self.content_type!r}, {self.filename!r})"


@dataclass(frozen=True, kw_only=True)
class Ack:
    """A one-line success confirmation, e.g. ``123 cleared``; ``subject`` is
    the id or number it names, ``extra`` any further named parts."""

    operation: str
    text: str
    subject: str = ""
    extra: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, kw_only=True)
class FaxRecord:
    """One listfax line."""

    recvid: int
    recvdate: str
    cid: str
    dnis: str
    starttime: str | None = None
    filename: str | None = None
    pagecount: int | None = None
    tsid: str | None = None


@dataclass(frozen=True, kw_only=True)
class Folder:
    folderid: int
    name: str


@dataclass(frozen=True, kw_only=True)
class User:
    uid: int
    login: str
    email: str


@dataclass(frozen=True, kw_only=True)
class BlacklistEntry:
    cidnumber: str
    didnumber: str  # '0000000000' is a block on every line


@dataclass(frozen=True, kw_only=True)
class QueueEntry:
    jobid: int
    callerid: str
    destination: str
    lineid: int
    pagecount: int


@dataclass(frozen=True, kw_only=True)
class BusyCall:
    number_called: str
    number_calling: str
    time: str


@dataclass(frozen=True, kw_only=True)
class PortRequest:
    number: str
    request_date: str
    due_date: str
    complete_date: str
    status: str
    comment: str
    complete: bool


@dataclass(frozen=True, kw_only=True)
class AuditRecord:
    audit_id: int
    timestamp: str
    login: str
    ip_address: str
    interface: str
    web_sessid: str
    auditop: str
    opstat: str
    request_detail: str
    response_detail: str


@dataclass(frozen=True, kw_only=True)
class CallCounts:
    """incomingcalls: ``in-progress~allocated``."""

    incoming: int
    allocated: int


@dataclass(frozen=True, kw_only=True)
class HandleCount:
    """handlecount: ``total~handled``."""

    total: int
    handled: int


@dataclass(frozen=True, kw_only=True)
class CdrRecord:
    calldate: str
    direction: str  # 'IN' or 'OUT'
    src: str
    dst: str
    duration: int
    nuid: int | None = None


@dataclass(frozen=True, kw_only=True)
class NpaNxx:
    npanxx: str
    rcname: str
    rcstate: str
