"""Turning a fax's attachments into fax pages on disk (blocking: run it in
the thread pool).

Per fax, under the spool directory ``<FAXKEY>/``: ``fax.tif`` (TIFF-F, the
document the line path sends), ``fax.pdf`` (the FFWS preview) and
``p001.png``… (PNG thumbnails for the dashboard).  A cover page, when
enabled, is rendered from text ([INFERRED]: a generated page listing
sender, recipients, subject and comments; cover page URLs are echoed but
only the generated template is used).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from appliance.jobs.model import Fax, Recipient
from modem.document import DocumentError, PageSize, Resolution, render
from modem.tiff import pdf_bytes, preview_png, write_tiff_f

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
        lines += ["", f"From:    {fax.sender_name or fax.owner}",
                  f"         {fax.sender_organization}", f"Phone:   {fax.sender_phone_number}",
                  f"Fax:     {fax.sender_fax_number}", f"E-mail:  {fax.sender_email_address}",
                  "", f"Subject: {fax.cover_subject}", "", fax.cover_comments]
    return "\n".join(lines).encode("utf-8")


def cover_pdf(resolution: Resolution = Resolution.FINE, page_size: PageSize = PageSize.LETTER) -> bytes:
    """The cover page template (``/ffws/v1/data/cover_pages/default.pdf``)."""
    return pdf_bytes(render(cover_text(None, [Recipient(fax_number="")]), resolution, page_size))


def convert_fax(spool: str | Path, fax: Fax, recipients: Sequence[Recipient],
                attachments: Sequence[tuple[str, bytes]], *, resolution: Resolution = Resolution.FINE,
                page_size: PageSize = PageSize.LETTER) -> Converted:
    """Render the cover page (when enabled) and ``(name, content)`` attachments;
    raises DocumentError naming the attachment that failed."""
    pages = []
    if fax.cover_enabled:
        pages += render(cover_text(fax, recipients), resolution, page_size)
    for name, data in attachments:
        try:
            pages += render(data, resolution, page_size)
        except DocumentError as exc:
            raise DocumentError(name, exc.reason if hasattr(exc, "reason") else str(exc)) from exc
    if not pages:
        raise DocumentError("fax", "nothing to send")
    directory = fax_dir(spool, fax.id)
    directory.mkdir(parents=True, exist_ok=True)
    tiff = directory / "fax.tif"
    write_tiff_f(pages, tiff)
    (directory / "fax.pdf").write_bytes(pdf_bytes(pages))
    previews = []
    for number, page in enumerate(pages, start=1):
        path = directory / f"p{number:03d}.png"
        path.write_bytes(preview_png(page))
        previews.append(str(path))
    return Converted((str(tiff),), len(pages), tuple(previews))
