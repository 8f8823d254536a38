"""Turning a fax's attachments into fax pages on disk (blocking: the web
service runs :func:`convert_fax` and :func:`cover_pdf` in the render pool's
worker processes, see ``appliance.render``).

Per fax, under the spool directory ``<FAXKEY>/``: ``fax.tif`` (TIFF-F, the
document the line path sends), ``fax.pdf`` (the FFWS preview) and
``p001.png``… (PNG thumbnails for the web console).  A cover page, when
enabled, is rendered from text ([INFERRED]: a generated page listing
sender, recipients, subject and comments; cover page URLs are echoed but
only the generated template is used).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from appliance.jobs.model import Fax, Recipient
from modem.document import DocumentError, FaxPage, PageSize, Resolution, check_page_limit, iter_render, render
from modem.fax_files import write_fax_files
from modem.tiff import pdf_bytes

__all__ = ["Converted", "convert_fax", "cover_pdf", "cover_text", "fax_dir"]


@dataclass(frozen=True)
class Converted:
    documents: tuple[str, ...]
    pages: int
    previews: tuple[str, ...]


def fax_dir(spool: str | Path, fax_id: int) -> Path:
    return Path(spool) / f"{fax_id:08X}"


def cover_text(fax: Fax | None, recipients: Sequence[Recipient]) -> bytes:
    """The text of a generated cover page."""
    lines = ["FAX", "", ""]
    shown = list(recipients[:5])
    for r in shown:
        lines.append(f"To:      {r.name} {('(' + r.organization + ')') if r.organization else ''} {r.fax_number}")
    if len(recipients) > len(shown):
        lines.append(f"         and {len(recipients) - len(shown)} more")
    if fax is not None:
        lines += [
            "",
            f"From:    {fax.sender_name or fax.owner}",
            f"         {fax.sender_organization}",
            f"Phone:   {fax.sender_phone_number}",
            f"Fax:     {fax.sender_fax_number}",
            f"E-mail:  {fax.sender_email_address}",
            "",
            f"Subject: {fax.cover_subject}",
            "",
            fax.cover_comments,
        ]
    return "\n".join(lines).encode("utf-8")


def cover_pdf(resolution: Resolution = Resolution.FINE, page_size: PageSize = PageSize.LETTER) -> bytes:
    """The cover page template (``/ffws/v1/data/cover_pages/default.pdf``)."""
    return pdf_bytes(render(cover_text(None, [Recipient(fax_number="")]), resolution, page_size))


def convert_fax(
    spool: str | Path,
    fax: Fax,
    recipients: Sequence[Recipient],
    attachments: Sequence[tuple[str, bytes]],
    *,
    resolution: Resolution = Resolution.FINE,
    page_size: PageSize = PageSize.LETTER,
    max_pages: int | None = None,
) -> Converted:
    """Render the cover page (when enabled) and ``(name, content)`` attachments;
    raises DocumentError naming the attachment that failed, and
    PageLimitError, before anything is drawn, when the fax (cover page
    included) would have more than ``max_pages`` pages.

    Pages are drawn, encoded and previewed one at a time: memory stays that
    of one page whatever the page count."""
    documents = [("cover page", cover_text(fax, recipients))] if fax.cover_enabled else []
    documents += list(attachments)
    if not documents:
        raise DocumentError("fax", "nothing to send")
    if max_pages is not None:
        check_page_limit(documents, resolution, page_size, max_pages)
    directory = fax_dir(spool, fax.id)
    directory.mkdir(parents=True, exist_ok=True)
    files = write_fax_files(
        _pages(documents, resolution, page_size, max_pages),
        directory / "fax.tif",
        pdf=directory / "fax.pdf",
        preview=lambda n: directory / f"p{n:03d}.png",
    )
    return Converted((str(files.tiff),), files.pages, tuple(str(p) for p in files.previews))


def _pages(
    documents: Sequence[tuple[str, bytes]], resolution: Resolution, page_size: PageSize, max_pages: int | None
) -> Iterator[FaxPage]:
    done = 0
    for name, data in documents:
        try:
            for page in iter_render(
                data, resolution, page_size, max_pages=None if max_pages is None else max_pages - done
            ):
                done += 1
                yield page
        except DocumentError as exc:
            raise type(exc)(name, exc.reason) from exc
