"""Fax pages to files one page at a time: TIFF-F, a PDF and PNG previews.

A fine page is 3.7 MB as a Pillow image but some tens of kilobytes as T.4
data, so :func:`write_fax_files` encodes and previews each page as it comes
and lets the image go: memory stays that of one page whatever the page
count.  The PDF is made afterwards from the written TIFF, which Pillow reads
a frame at a time.

Blocking file and CPU work: a worker process or a thread runs it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from modem import _tiffio
from modem.document import FAX_WIDTH, X_DPI, FaxPage
from modem.t4 import encode_strip
from modem.tiff import preview_png

__all__ = ["FaxFiles", "pdf_from_tiff", "tiff_f_from_pages", "write_fax_files"]


@dataclass(frozen=True)
class FaxFiles:
    """What :func:`write_fax_files` wrote."""

    tiff: Path
    pdf: Path | None
    previews: tuple[Path, ...]
    pages: int


def write_fax_files(
    pages: Iterable[FaxPage],
    tiff: Path,
    *,
    pdf: Path | None = None,
    preview: Callable[[int], Path] | None = None,
    progress: Callable[[int], None] | None = None,
    software: str | None = None,
) -> FaxFiles:
    """Write ``pages`` as the TIFF-F file ``tiff`` and, when asked, a PDF and PNG previews.

    ``preview(n)`` names page n's preview (n from 1); ``progress(n)`` is
    called after each page.  Each page's image is closed once it is encoded.
    Every file is written atomically.  Raises ``ValueError`` for no pages.
    """
    previews: list[Path] = []

    def previewed(number: int, page: FaxPage) -> None:
        if preview is not None:
            path = preview(number)
            _write_atomically(path, preview_png(page))
            previews.append(path)
        if progress is not None:
            progress(number)

    data, count = _tiff_f(pages, software, previewed)
    _write_atomically(tiff, data)
    del data
    if pdf is not None:
        _write_atomically(pdf, pdf_from_tiff(tiff))
    return FaxFiles(tiff, pdf, tuple(previews), count)


def tiff_f_from_pages(pages: Iterable[FaxPage], software: str | None = None) -> bytes:
    """The TIFF Class F file of ``pages`` (as :func:`modem.tiff.tiff_f_bytes`), each page
    encoded and closed as it comes.  Raises ``ValueError`` for no pages."""
    return _tiff_f(pages, software, None)[0]


def _tiff_f(
    pages: Iterable[FaxPage], software: str | None, each: Callable[[int, FaxPage], None] | None
) -> tuple[bytes, int]:
    strips: list[tuple[bytes, int, int]] = []  # (T.4 strip, rows, lpi)
    for number, page in enumerate(pages, start=1):
        try:
            strips.append((encode_strip(page.image), page.rows, page.resolution.lpi))
            if each is not None:
                each(number, page)
        finally:
            page.image.close()
    if not strips:
        raise ValueError("a TIFF-F file needs at least one page")
    entries = []
    for number, (data, rows, lpi) in enumerate(strips):
        tags = _tiffio.g3_tags(_tiffio.G3Strip(data, FAX_WIDTH, rows, X_DPI, lpi))
        tags[_tiffio.PAGE_NUMBER] = (number, len(strips))
        if software:
            tags[_tiffio.SOFTWARE] = software
        entries.append((data, tags))
    return _tiffio.build_tiff(entries), len(strips)


def pdf_from_tiff(tiff: Path) -> bytes:
    """A PDF of a TIFF-F file's pages (CCITT images at the pages' size), read a page at a time.

    The pages are taken to share one vertical resolution, as every
    conversion makes them (:func:`modem.tiff.pdf_bytes` handles mixed ones).
    """
    with Image.open(tiff) as image:
        dpi = image.info.get("dpi") or (X_DPI, 98)
        lpi = float(dpi[1])
        buffer = io.BytesIO()
        image.save(buffer, format="PDF", save_all=True, dpi=(X_DPI, lpi))
    return buffer.getvalue()


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    partial.replace(path)
