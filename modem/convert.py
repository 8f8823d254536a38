"""Documents straight to T.4 page data, optionally spread over worker processes.

:func:`document_t4` is what a send job needs: the modem-ready data of every
page.  PDF pages are rendered and encoded in chunks by an executor supplied
by the caller (a ``concurrent.futures.ProcessPoolExecutor`` uses every core;
a ``ThreadPoolExecutor`` overlaps pdfium with Pillow, which releases the GIL).
Only page data (bytes) travels back from workers, never bitmaps.

Blocking CPU work: call from a thread, never from the reactor thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor, Future
from pathlib import Path

from modem import _render
from modem.document import DocumentError, FaxPage, PageSize, Resolution, Source, iter_render, load_source, render
from modem.t4 import BitOrder, encode_page

__all__ = ["document_t4"]

PAGES_PER_TASK = 1  # balances best; opening a PDF again costs little


def document_t4(
    sources: Source | Sequence[Source],
    resolution: Resolution,
    page_size: PageSize,
    bit_order: BitOrder = BitOrder.MSB_FIRST,
    executor: Executor | None = None,
    pages_per_task: int = PAGES_PER_TASK,
) -> list[bytes]:
    """T.4 data (EOLs, fill, RTC; see :func:`modem.t4.encode_page`) for every page, in order.

    Raises :class:`DocumentError` like :func:`modem.document.render`.
    """
    if isinstance(sources, (str, Path, bytes)):
        sources = [sources]
    if executor is None:
        return [encode_page(page, bit_order) for page in iter_render(sources, resolution, page_size)]
    rows = page_size.rows(resolution)
    pending: list[list[bytes] | Future[list[bytes]]] = []
    for index, source in enumerate(sources, start=1):
        name, data = load_source(source, index)
        if not _render.is_pdf(data):
            pending.append(_encode_all(render([data], resolution, page_size), bit_order))
            continue
        try:
            count = _render.pdf_page_count(data)
        except _render.UnsupportedInput as exc:
            raise DocumentError(name, str(exc)) from exc
        if count == 0:
            raise DocumentError(name, "the document has no pages")
        chunks = [range(first, min(first + pages_per_task, count)) for first in range(0, count, pages_per_task)]
        pending.extend(
            executor.submit(_pdf_chunk_t4, name, data, chunk, rows, resolution.lpi, bit_order) for chunk in chunks
        )
    result: list[bytes] = []
    for part in pending:
        result.extend(part if isinstance(part, list) else part.result())
    return result


def _encode_all(pages: list[FaxPage], bit_order: BitOrder) -> list[bytes]:
    return [encode_page(page, bit_order) for page in pages]


def _pdf_chunk_t4(name: str, data: bytes, indices: range, rows: int, lpi: int, bit_order: BitOrder) -> list[bytes]:
    """Worker task: render and encode some pages of one PDF."""
    resolution = Resolution.from_lpi(lpi)
    try:
        images = _render.pdf_pages(data, rows, lpi, indices)
    except _render.UnsupportedInput as exc:
        raise DocumentError(name, str(exc)) from exc
    return [encode_page(FaxPage(image, resolution), bit_order) for image in images]
