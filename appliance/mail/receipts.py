"""Receipts: a mail to the sender when an outbound fax entry reaches its final state.

The job store is not changed for this: on every delivery pass,
:meth:`Receipts.check` reads the entries finalised recently (the job
store's own listing), leaves out those whose receipt is already decided
(``mail_receipts``) and, for each, decides by the fax's ``receipt``
(``always`` / ``failure`` / ``success`` / ``never``) whether a mail goes to
``sender_email_address``; the decision and the mail are written in one
transaction, so a receipt is queued once.
"""

from __future__ import annotations

from pathlib import Path

from appliance.jobs.choices import DocumentFormat, Receipt, ReceiptAttachment
from appliance.jobs.model import TERMINAL, Entry, EntryState, Fax
from appliance.jobs.store import JobStore
from appliance.mail.message import ReceiptDetails, build_receipt, message_id
from appliance.mail.outbox import MailOutbox, NewDelivery
from appliance.mail.routing import DestinationKind

__all__ = ["Receipts", "wants_receipt"]

WINDOW = 86400.0  # entries finalised longer ago than this get no receipt (first start, long outages)
BATCH = 200


def wants_receipt(receipt: Receipt, state: EntryState) -> bool:
    """Whether a fax with ``receipt`` gets a receipt for an entry ending in ``state``."""
    if receipt == Receipt.ALWAYS:
        return True
    if receipt == Receipt.SUCCESS:
        return state is EntryState.SENT
    if receipt == Receipt.FAILURE:
        return state is not EntryState.SENT
    return False


def _document(fax: Fax, fmt: DocumentFormat) -> bytes | None:
    if not fax.documents:
        return None
    tiff = Path(fax.documents[0])
    path = tiff if fmt is DocumentFormat.TIFF else tiff.with_name("fax.pdf")
    try:
        return path.read_bytes()
    except OSError:
        return None


class Receipts:
    """See the module docstring; every method blocks (run it in a thread)."""

    def __init__(self, jobs: JobStore, outbox: MailOutbox, sender: str) -> None:
        self.jobs = jobs
        self.outbox = outbox
        self.sender = sender

    def receipt_for(self, entry: Entry, fax: Fax) -> list[NewDelivery]:
        if not fax.sender_email_address or not wants_receipt(fax.receipt, entry.state):
            return []
        fmt = None if fax.receipt_attachment is ReceiptAttachment.NONE else DocumentFormat(fax.receipt_attachment)
        document = _document(fax, fmt) if fmt is not None else None
        details = ReceiptDetails(
            fax_key=f"{entry.fax_id:08X}/{entry.index:04X}",
            state=entry.state,
            number=entry.recipient.fax_number,
            name=entry.recipient.name,
            pages=fax.pages,
            pages_sent=entry.pages_sent,
            tries=entry.tries,
            message=entry.schedule_message,
            completed_at=entry.completed_at or entry.updated_at,
            subject=fax.cover_subject,
        )
        msgid = message_id("receipt", f"{entry.fax_id:08X}.{entry.index:04X}", 1, self.sender.rpartition("@")[2])
        payload = build_receipt(
            details,
            sender=self.sender,
            to=fax.sender_email_address,
            msgid=msgid,
            document=document,
            fmt=fmt or DocumentFormat.PDF,
        )
        return [
            NewDelivery(
                f"receipt:{entry.id}",
                DestinationKind.EMAIL,
                fax.sender_email_address,
                self.sender,
                payload,
                "",
                f"receipt {details.fax_key}",
            )
        ]

    def check(self, now: float) -> int:
        """Queue the receipts of recently finalised entries; the number queued."""
        entries = self.jobs.page_entries(active=(), done=TERMINAL, done_limit=BATCH, limit=BATCH)
        entries = [e for e in entries if (e.completed_at or e.updated_at) >= now - WINDOW]
        done = self.outbox.receipts_done([e.id for e in entries])
        queued = 0
        faxes: dict[int, Fax] = {}
        for entry in entries:
            if entry.id in done:
                continue
            fax = faxes.get(entry.fax_id) or faxes.setdefault(entry.fax_id, self.jobs.get_fax(entry.fax_id))
            deliveries = self.receipt_for(entry, fax)
            if self.outbox.enqueue_receipt(entry.id, deliveries, now) and deliveries:
                queued += 1
        return queued
