"""An accepted e-mail to fax becomes ordinary jobs: one fax per recipient
(agent ``T.37``), converted in the bounded worker processes like an FFWS fax,
then released to the scheduler.  Errors are SMTP replies."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.mail import smtp

from appliance.jobs.choices import Receipt, ReceiptAttachment
from appliance.jobs.model import FaxSpec, JobError, Recipient
from appliance.jobs.scheduler import RunBlocking
from appliance.jobs.store import JobStore
from appliance.mail.submission import Submission, reply_text
from appliance.mail.t37 import T37Address
from appliance.render import RenderLimitError, WorkerDied
from appliance.render.convert import convert_fax
from appliance.render.runner import Renderer, shared_pool
from modem.document import DocumentError, PageSize, Resolution

__all__ = ["JobSubmitter", "fax_spec"]


def fax_spec(
    sender: str, account: str, t37: T37Address, submission: Submission
) -> tuple[FaxSpec, list[tuple[str, bytes]]]:
    """The fax for one recipient and the documents to convert (pure)."""
    inline = t37.inline_comments if t37.inline_comments is not None else True
    cover = bool(t37.cover_enabled)
    documents = list(submission.attachments)
    if not documents and not cover:
        documents = [("message", submission.comments.encode("utf-8"))]  # the text itself is the fax
    spec = FaxSpec(
        owner=account,
        account=account,
        agent="T.37",
        cover_enabled=cover,
        cover_subject=submission.subject,
        cover_comments=submission.comments if inline else "",
        sender_email_address=sender,
        priority=t37.priority if t37.priority is not None else 3,
        receipt=Receipt(t37.receipt or Receipt.FAILURE),
        receipt_attachment=ReceiptAttachment.NONE,
        preprocessing=True,
    )
    return spec, documents


class JobSubmitter:
    def __init__(
        self,
        jobs: JobStore,
        clock: IReactorTime,
        run_blocking: RunBlocking,
        spool_dir: str,
        *,
        poke: Callable[[], None],
        page_size: PageSize = PageSize.LETTER,
        render: Renderer | None = None,
    ) -> None:
        self.jobs = jobs
        self.clock = clock
        self.run = run_blocking
        self.spool_dir = spool_dir
        self.poke = poke
        self.page_size = page_size
        self.render = render or Renderer(shared_pool(), run_blocking)

    def submit(
        self, sender: str, account: str, recipients: list[tuple[T37Address, str]], submission: Submission
    ) -> defer.Deferred[list[str]]:
        return defer.Deferred.fromCoroutine(self._submit(sender, account, recipients, submission))

    async def _submit(
        self, sender: str, account: str, recipients: list[tuple[T37Address, str]], submission: Submission
    ) -> list[str]:
        keys = []
        for t37, dialled in recipients:
            spec, documents = fax_spec(sender, account, t37, submission)
            recipient = Recipient(fax_number=dialled, name=t37.attn, organization=t37.org)
            try:
                fax, _ = await self.run(self.jobs.submit, spec, [recipient], self.clock.seconds())
            except JobError as exc:
                raise smtp.SMTPServerError(554, reply_text(f"5.6.0 {exc}").encode()) from None
            try:
                converted = await self.render(
                    convert_fax,
                    self.spool_dir,
                    fax,
                    [recipient],
                    documents,
                    resolution=Resolution.FINE,
                    page_size=self.page_size,
                    max_pages=self.render.limits.max_pages,
                )
            except (DocumentError, RenderLimitError, WorkerDied) as exc:
                reason = str(exc)
                await self.run(
                    partial(self.jobs.kill, fax.id, f"Cannot convert attachment: {reason}", now=self.clock.seconds())
                )
                raise smtp.SMTPServerError(554, reply_text(f"5.6.0 {reason}").encode()) from None
            await self.run(
                partial(self.jobs.release, fax.id, converted.documents, converted.pages, now=self.clock.seconds())
            )
            keys.append(f"{fax.id:08X}")
        self.poke()
        return keys
