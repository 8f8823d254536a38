"""Page thumbnails and PDF downloads of sent and received faxes (blocking
reads run in the thread pool; drawing runs in the render workers).

A sent fax converted by the web service has ``<spool>/<FAXKEY>/fax.pdf`` and
``p001.png``…; a fax queued another way (``faxappliance send``) has only its
TIFF-F document, so its pages are drawn from that on demand.  A received
fax has its PDF and previews in the inbox; without a PDF, one is made from
its TIFF.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from appliance.jobs.model import Fax, NotFound
from appliance.web.app import Reply, WebApp, parse_fax_key
from appliance.web.auth import Identity
from appliance.web.console.views import owns
from appliance.web.deps import InboxRecord
from appliance.web.model import WebError
from modem.tiff import iter_tiff_pages, pdf_bytes, preview_png, read_tiff_pages

__all__ = ["fax_file", "inbox_file", "load_fax", "load_received", "page_urls", "tiff_page_png", "tiff_pdf"]

PNG = "image/png"
PDF = "application/pdf"
MAX_PAGE_NUMBER = 9999


def tiff_page_png(path: str, number: int) -> bytes | None:
    """(render worker) Page ``number`` (from 1) of a TIFF file as a PNG preview, or None when it has fewer."""
    for n, page in enumerate(iter_tiff_pages(path), 1):
        if n == number:
            return preview_png(page)
    return None


def tiff_pdf(paths: Sequence[str]) -> bytes:
    """(render worker) The pages of TIFF files as one PDF."""
    pages = [page for path in paths for page in read_tiff_pages(path)]
    return pdf_bytes(pages)


def page_number(name: str) -> int:
    match = re.fullmatch(r"([0-9]{1,4})\.png", name)
    if not match or not 1 <= int(match.group(1)) <= MAX_PAGE_NUMBER:
        raise WebError(404, "no such page")
    return int(match.group(1))


async def load_fax(app: WebApp, key: str, identity: Identity) -> Fax:
    """The fax ``key`` when the caller may see it: 404 when there is none, 403 when it is another user's."""
    fax_id = parse_fax_key(key)
    try:
        fax = await app.run(app.jobs.get_fax, fax_id)
    except NotFound:
        raise WebError(404, f"no fax {key}") from None
    if not owns(fax.owner, identity.username, identity.admin):
        raise WebError(403, f"fax {key} belongs to another user")
    return fax


async def load_received(app: WebApp, record_id: str, identity: Identity) -> InboxRecord:
    """The received fax ``record_id`` when the caller may see it (404 / 403 otherwise)."""
    if app.inbox is None or not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", record_id):
        raise WebError(404, f"no received fax {record_id[:64]!r}")
    record = await app.run(app.inbox.get, record_id)
    if record is None:
        raise WebError(404, f"no received fax {record_id!r}")
    if not owns(record.account, identity.username, identity.admin):
        raise WebError(403, f"received fax {record_id} belongs to another account")
    return record


def page_urls(prefix: str, pages: int) -> list[str]:
    return [f"{prefix}/{n}.png" for n in range(1, pages + 1)]


async def fax_file(app: WebApp, key: str, name: str, identity: Identity) -> Reply:
    """``/console/fax/<FAXKEY>/fax.pdf`` or ``/<n>.png``."""
    fax = await load_fax(app, key, identity)
    directory = Path(app.spool_dir) / f"{fax.id:08X}"
    documents = [d for d in fax.documents if d.lower().endswith((".tif", ".tiff"))]
    if name == "fax.pdf":
        path = directory / "fax.pdf"
        data = await app.run(lambda: path.read_bytes() if path.is_file() else None)
        if data is None and documents:
            data = await app.render(tiff_pdf, documents)
        if data is None:
            raise WebError(404, "the fax has no pages yet (it is being converted, or the conversion failed)")
        return Reply(200, data, PDF, {"Content-Disposition": f'attachment; filename="fax-{fax.id:08X}.pdf"'})
    number = page_number(name)
    path = directory / f"p{number:03d}.png"
    data = await app.run(lambda: path.read_bytes() if path.is_file() else None)
    if data is None and documents and number <= max(fax.pages, 1):
        data = await app.render(tiff_page_png, documents[0], number)
    if data is None:
        raise WebError(404, f"fax {fax.id:08X} has no page {number}")
    return Reply(200, data, PNG)


async def inbox_file(app: WebApp, record_id: str, name: str, identity: Identity) -> Reply:
    """``/console/inbox/<id>/fax.pdf`` or ``/<n>.png``."""
    record = await load_received(app, record_id, identity)
    if name == "fax.pdf":
        pdf, tiff = getattr(record, "pdf", "") or "", getattr(record, "tiff", "") or ""
        data = await app.run(lambda: Path(pdf).read_bytes() if pdf and Path(pdf).is_file() else None)
        if data is None and tiff:
            data = await app.render(tiff_pdf, [tiff])
        if data is None:
            raise WebError(404, f"received fax {record_id} has no document")
        return Reply(200, data, PDF, {"Content-Disposition": f'attachment; filename="received-{record_id}.pdf"'})
    number = page_number(name)
    previews = list(record.previews)
    if number > len(previews):
        raise WebError(404, f"received fax {record_id} has no page {number}")
    path = Path(previews[number - 1])
    data = await app.run(lambda: path.read_bytes() if path.is_file() else None)
    if data is None:
        raise WebError(404, f"the preview of page {number} is missing")
    return Reply(200, data, PNG)
