"""The mails the gateway writes, built with Python's ``email`` package (pure).

* :func:`build_fax_mail`: a received fax to one address, one part of it.
* :func:`plan_parts`: which pages go in which mail under a size limit.
* :func:`build_receipt`: the receipt of an outbound fax.

Every input is passed in (dates as unix seconds, Message-IDs); nothing here
reads a clock or a file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate

from appliance.jobs.choices import DocumentFormat
from appliance.jobs.model import EntryState

__all__ = [
    "MIME_TYPES",
    "FaxDetails",
    "ReceiptDetails",
    "build_fax_mail",
    "build_receipt",
    "encoded_size",
    "fax_subject",
    "message_id",
    "plan_parts",
]

MIME_TYPES = {DocumentFormat.PDF: ("application", "pdf"), DocumentFormat.TIFF: ("image", "tiff")}
#: headers and the text part of a fax mail, at most (the size plan keeps this much room)
MAIL_OVERHEAD = 4096
_ID_SAFE = re.compile(r"[^A-Za-z0-9.+_-]")


def _clean(text: str, limit: int = 100) -> str:
    """Header-safe text: no control characters, at most ``limit`` characters."""
    return "".join(ch if ch.isprintable() else " " for ch in text)[:limit].strip()


@dataclass(frozen=True)
class FaxDetails:
    """A received fax as its mail describes it."""

    fax_id: int
    account: str
    called: str  # the DID / dialled number
    line: str
    remote_id: str  # remote CSID (TSI)
    caller_id: str  # ANI
    received_at: float  # unix seconds
    pages: int
    duration: float = 0.0  # seconds


def fax_subject(d: FaxDetails) -> str:
    sender = _clean(d.remote_id, 40) or _clean(d.caller_id, 40) or "unknown sender"
    return f"Fax from {sender} to {_clean(d.called, 40) or 'this appliance'} ({d.pages} page{'s' * (d.pages != 1)})"


def message_id(kind: str, key: str, part: int, domain: str) -> str:
    """A stable Message-ID: the same fax, destination and part always give the same id."""
    return f"<{_ID_SAFE.sub('_', kind)}.{_ID_SAFE.sub('_', key)}.{part}@{_ID_SAFE.sub('_', domain) or 'localhost'}>"


def encoded_size(size: int) -> int:
    """Bytes of ``size`` bytes as a base64 MIME body (76-character lines + CRLF)."""
    chars = 4 * ((size + 2) // 3)
    return chars + 2 * ((chars + 75) // 76)


def plan_parts(page_sizes: Sequence[int], limit: int) -> list[tuple[int, int]]:
    """Page ranges ``(first, end)`` (0-based, end exclusive), in order, so that each
    mail stays within ``limit`` bytes (attachment encoded, :data:`MAIL_OVERHEAD`
    included); 0 = no limit.  A single page larger than the limit still goes,
    alone, in one mail (it cannot be split further)."""
    if not page_sizes:
        return []
    if limit <= 0:
        return [(0, len(page_sizes))]
    budget = max(1, limit - MAIL_OVERHEAD)
    parts: list[tuple[int, int]] = []
    start, used = 0, 0
    for i, size in enumerate(page_sizes):
        if i > start and encoded_size(used + size) > budget:
            parts.append((start, i))
            start, used = i, 0
        used += size
    parts.append((start, len(page_sizes)))
    return parts


def _stamp(when: float) -> str:
    return formatdate(when, usegmt=True)


def build_fax_mail(
    d: FaxDetails,
    *,
    sender: str,
    to: str,
    document: bytes,
    fmt: DocumentFormat,
    msgid: str,
    part: int = 1,
    parts: int = 1,
    first_page: int = 1,
    last_page: int = 0,
) -> bytes:
    """One mail of a received fax: details in the text, the pages attached (PDF or TIFF-F)."""
    maintype, subtype = MIME_TYPES[fmt]
    last_page = last_page or d.pages
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = to
    subject = fax_subject(d)
    if parts > 1:
        subject += f" [part {part} of {parts}]"
    msg["Subject"] = subject
    msg["Date"] = _stamp(d.received_at)
    msg["Message-ID"] = msgid
    msg["X-Fax-Id"] = str(d.fax_id)
    lines = [
        "A fax was received.",
        "",
        f"Date:      {_stamp(d.received_at)}",
        f"From:      {_clean(d.remote_id) or '-'} (caller id {_clean(d.caller_id) or '-'})",
        f"To:        {_clean(d.called) or '-'}",
        f"Pages:     {d.pages}",
        f"Duration:  {int(d.duration)} s",
        f"Line:      {_clean(d.line) or '-'}",
        f"Account:   {_clean(d.account) or '-'}",
    ]
    if parts > 1:
        lines.append(f"This mail: part {part} of {parts}, pages {first_page}-{last_page}")
    msg.set_content("\n".join(lines) + "\n")
    suffix = "" if parts == 1 else f"-part{part}"
    msg.add_attachment(
        document,
        maintype=maintype,
        subtype=subtype,
        filename=f"fax-{d.fax_id:06d}{suffix}.{'pdf' if fmt is DocumentFormat.PDF else 'tif'}",
    )
    return msg.as_bytes()


@dataclass(frozen=True)
class ReceiptDetails:
    """An outbound fax entry at its final state."""

    fax_key: str  # FAXKEY/ENTRYKEY
    state: EntryState  # a final state
    number: str
    name: str
    pages: int
    pages_sent: int
    tries: int
    message: str  # the last schedule message / error
    completed_at: float
    subject: str = ""


def build_receipt(
    r: ReceiptDetails,
    *,
    sender: str,
    to: str,
    msgid: str,
    document: bytes | None = None,
    fmt: DocumentFormat = DocumentFormat.PDF,
) -> bytes:
    """The receipt mail of one fax entry (with the sent document when given)."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = to
    ok = r.state is EntryState.SENT
    target = _clean(r.name, 40) or _clean(r.number, 40)
    msg["Subject"] = f"Fax to {target}: {'sent' if ok else r.state}" + (
        f" ({_clean(r.subject, 60)})" if r.subject else ""
    )
    msg["Date"] = _stamp(r.completed_at)
    msg["Message-ID"] = msgid
    lines = [
        f"Your fax to {_clean(r.number)}{' (' + _clean(r.name) + ')' if r.name else ''} "
        f"{'was sent' if ok else 'was not sent'}.",
        "",
        f"Fax:        {r.fax_key}",
        f"State:      {r.state}",
        f"Pages:      {r.pages_sent} of {r.pages} sent",
        f"Tries:      {r.tries}",
        f"Last error: {'-' if ok else (_clean(r.message, 200) or '-')}",
        f"Completed:  {_stamp(r.completed_at)}",
    ]
    msg.set_content("\n".join(lines) + "\n")
    if document is not None:
        maintype, subtype = MIME_TYPES[fmt]
        msg.add_attachment(
            document,
            maintype=maintype,
            subtype=subtype,
            filename=f"fax-{r.fax_key.replace('/', '-')}.{'pdf' if fmt is DocumentFormat.PDF else 'tif'}",
        )
    return msg.as_bytes()
