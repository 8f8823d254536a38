"""Received faxes to their destinations: the link between the inbox and the outbox.

:meth:`FaxMailer.on_stored` is called with each fax stored in the inbox.  It
asks RADIUS for the receiving account's e-mail settings (Get-Account /
For-External-Module: FB-Rcv-Email, FB-Rcv-Format; the account is already the
one failover chose), lets :func:`appliance.mail.routing.route` pick the
destinations, builds the mails (split under ``max_message_bytes``) and queues
one delivery per mail, print job and share copy.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from appliance.inbound.inbox import InboxItem
from appliance.jobs.choices import DocumentFormat
from appliance.jobs.scheduler import RunBlocking
from appliance.logsafe import safe_for_log
from appliance.mail.message import FaxDetails, build_fax_mail, encoded_size, message_id, plan_parts
from appliance.mail.outbox import MailOutbox, NewDelivery
from appliance.mail.routing import Destination, DestinationKind, FaxbackAnswer, Routes, route
from appliance.portserver.role import RadiusRequester
from modem.tiff import pdf_bytes, read_tiff_pages, tiff_f_bytes
from radius.client import Attr, Reply
from radius.model import A, Code, FbCommand, FbContext

__all__ = ["FaxMailer", "build_deliveries"]


def _document(item: InboxItem, fmt: DocumentFormat) -> Path:
    path = item.pdf if fmt is DocumentFormat.PDF else item.tiff
    if not path:
        path = item.tiff or item.pdf
    return Path(path)


def _split(item: InboxItem, fmt: DocumentFormat, limit: int) -> list[tuple[bytes, int, int]]:
    """(document, first page, last page) per mail; one when it fits under ``limit``."""
    whole = _document(item, fmt)
    data = whole.read_bytes()
    if limit <= 0 or encoded_size(len(data)) + 4096 <= limit or not item.tiff or item.pages <= 1:
        return [(data, 1, max(1, item.pages))]
    pages = read_tiff_pages(Path(item.tiff))
    make = pdf_bytes if fmt is DocumentFormat.PDF else tiff_f_bytes
    sizes = [len(make([p])) for p in pages]
    return [(make(pages[a:b]), a + 1, b) for a, b in plan_parts(sizes, limit)]


def build_deliveries(
    item: InboxItem,
    destinations: tuple[Destination, ...],
    *,
    sender: str,
    line: str,
    max_bytes: int,
    duration: float = 0.0,
) -> list[NewDelivery]:
    """(blocking: reads the fax files) The deliveries of inbox ``item``."""
    details = FaxDetails(
        fax_id=int(item.id),
        account=item.account,
        called=item.did,
        line=line,
        remote_id=item.remote_csid,
        caller_id=item.caller_id,
        received_at=item.received_at,
        pages=item.pages,
        duration=duration,
    )
    domain = sender.rpartition("@")[2]
    out: list[NewDelivery] = []
    source = f"inbox fax {item.id}"
    for dest in destinations:
        fmt = dest.format or DocumentFormat.PDF  # route() gives every destination its format
        key = f"inbox:{item.id}:{dest.kind}:{dest.value}:{fmt}"
        if dest.kind is DestinationKind.EMAIL:
            parts = _split(item, fmt, max_bytes)
            for n, (data, first, last) in enumerate(parts, start=1):
                msgid = message_id("fax", f"{item.id}.{dest.value}.{fmt}", n, domain)
                payload = build_fax_mail(
                    details,
                    sender=sender,
                    to=dest.value,
                    document=data,
                    fmt=fmt,
                    msgid=msgid,
                    part=n,
                    parts=len(parts),
                    first_page=first,
                    last_page=last,
                )
                out.append(NewDelivery(f"{key}:{n}", DestinationKind.EMAIL, dest.value, sender, payload, "", source))
        elif dest.kind in (DestinationKind.PRINTER, DestinationKind.SHARE):
            if dest.kind is DestinationKind.PRINTER:
                fmt = DocumentFormat.PDF
            out.append(NewDelivery(key, dest.kind, dest.value, "", None, str(_document(item, fmt)), source))
    return out


class FaxMailer:
    """See the module docstring."""

    log = Logger()

    def __init__(
        self,
        clock: IReactorTime,
        outbox: MailOutbox,
        routes: Routes,
        *,
        sender: str,
        max_bytes: int,
        run_blocking: RunBlocking,
        ask_account: Callable[[str], defer.Deferred[FaxbackAnswer | None]] | None,
        poke: Callable[[], None],
    ) -> None:
        self.clock = clock
        self.outbox = outbox
        self.routes = routes
        self.sender = sender
        self.max_bytes = max_bytes
        self.run = run_blocking
        self.ask_account = ask_account  # account -> Deferred[FaxbackAnswer | None]
        self.poke = poke
        self.queued: list[tuple[int, int]] = []  # (inbox id, deliveries) for tests and status

    def on_stored(self, item: InboxItem, line: str = "", duration: float = 0.0) -> defer.Deferred[None]:
        return defer.Deferred.fromCoroutine(self._route(item, line, duration)).addErrback(
            lambda f: self.log.failure("delivering inbox fax {id} failed", f, id=item.id)
        )

    async def _route(self, item: InboxItem, line: str, duration: float) -> None:
        answer: FaxbackAnswer | None = None
        if self.ask_account is not None and item.account and not item.account.startswith("_"):
            try:
                answer = await self.ask_account(item.account)
            except Exception as exc:
                self.log.warn(
                    "no e-mail settings for {account} from RADIUS ({error}): using the routes table",
                    account=safe_for_log(item.account, 64),
                    error=safe_for_log(str(exc)),
                )
        destinations = route(item.did, line, answer, self.routes)
        if not destinations:
            return
        deliveries = await self.run(
            build_deliveries,
            item,
            destinations,
            sender=self.sender,
            line=line,
            max_bytes=self.max_bytes,
            duration=duration,
        )
        new = await self.run(self.outbox.enqueue, deliveries, self.clock.seconds())
        self.queued.append((int(item.id), new))
        self.log.info(
            "inbox fax {id}: {count} deliveries queued ({where})",
            id=item.id,
            count=new,
            where=", ".join(safe_for_log(d.describe(), 80) for d in destinations),
        )
        self.poke()


def radius_account_lookup(client: RadiusRequester) -> Callable[[str], defer.Deferred[FaxbackAnswer | None]]:
    """``ask_account`` over a RADIUS client: Get-Account / For-External-Module."""

    def ask(account: str) -> defer.Deferred[FaxbackAnswer | None]:
        attrs: list[Attr] = [
            (A.FB_COMMAND.value, int(FbCommand.GET_ACCOUNT)),
            (A.FB_CONTEXT.value, int(FbContext.FOR_EXTERNAL_MODULE)),
            (A.USER_NAME.value, account),
        ]

        def answer(reply: Reply) -> FaxbackAnswer | None:
            if reply.code != Code.ACCESS_ACCEPT:
                return None
            return FaxbackAnswer(
                account, reply.get_str(A.FB_RCV_EMAIL.value) or "", reply.get_int(A.FB_RCV_FORMAT.value) or 0
            )

        return client.access(attrs).addCallback(answer)

    return ask
