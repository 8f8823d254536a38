"""TIFF Class F (RFC 2306) files for fax pages, and storing received pages.

Written files: little-endian TIFF, one IFD per page with NewSubfileType 2,
1728 pels wide, Compression 3 (T.4 1-D), Photometric 0 (min-is-white),
FillOrder 1 (MSB first), T4Options 4 (byte-aligned EOLs), XResolution 204,
YResolution 98 or 196, ResolutionUnit inch, PageNumber (n, total), one strip;
the strip holds no RTC (spec fax-modem-at.md §12.4).

All functions do blocking file and CPU work; call them from a thread pool.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageSequence, UnidentifiedImageError

from modem import _tiffio
from modem.coding import decode
from modem.document import FAX_WIDTH, X_DPI, DocumentError, FaxPage, Resolution
from modem.t4 import BitOrder, encode_strip

__all__ = [
    "ReceivedFiles",
    "iter_tiff_pages",
    "read_tiff_pages",
    "received_to_files",
    "tiff_f_bytes",
    "write_tiff_f",
]

PREVIEW_WIDTH = 432  # pels across a PNG preview (a quarter of a fax line)


def tiff_f_bytes(pages: Sequence[FaxPage], software: str | None = None) -> bytes:
    """The TIFF Class F file for ``pages`` as bytes."""
    if not pages:
        raise ValueError("a TIFF-F file needs at least one page")
    entries = []
    for number, page in enumerate(pages):
        strip = _tiffio.G3Strip(encode_strip(page.image), FAX_WIDTH, page.rows, X_DPI, page.resolution.lpi)
        tags = _tiffio.g3_tags(strip)
        tags[_tiffio.PAGE_NUMBER] = (number, len(pages))
        if software:
            tags[_tiffio.SOFTWARE] = software
        entries.append((strip.data, tags))
    return _tiffio.build_tiff(entries)


def write_tiff_f(pages: Sequence[FaxPage], target: str | Path | BinaryIO, software: str | None = None) -> None:
    """Write ``pages`` as one TIFF Class F file to a path or a binary file object.

    A path is written atomically (a temporary file renamed into place).
    """
    data = tiff_f_bytes(pages, software)
    if isinstance(target, (str, Path)):
        _write_atomically(Path(target), data)
    else:
        target.write(data)


def read_tiff_pages(source: str | Path | bytes) -> list[FaxPage]:
    """The pages of a fax TIFF (Class F or any bilevel 1728-pel TIFF, any compression).

    The resolution comes from YResolution; page lengths are kept as stored.
    Raises :class:`DocumentError` for files that are not TIFF or not fax pages;
    :func:`modem.document.render` converts other TIFFs.  A fine page takes
    3.7 MB of memory: :func:`iter_tiff_pages` gives one page at a time.
    """
    return list(iter_tiff_pages(source))


def iter_tiff_pages(source: str | Path | bytes) -> Iterator[FaxPage]:
    """Like :func:`read_tiff_pages`, one page at a time."""
    name = "<bytes>" if isinstance(source, bytes) else str(source)
    try:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
    except OSError as exc:
        raise DocumentError(name, f"cannot read file: {exc.strerror or exc}") from exc
    try:
        with Image.open(io.BytesIO(data)) as tiff:
            if tiff.format != "TIFF":
                raise DocumentError(name, f"not a TIFF file ({tiff.format})")
            for number, frame in enumerate(ImageSequence.Iterator(tiff), start=1):
                yield _fax_page(name, number, frame)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        if isinstance(exc, DocumentError):
            raise
        raise DocumentError(name, f"unreadable TIFF ({exc})") from exc


def _fax_page(name: str, number: int, frame: Image.Image) -> FaxPage:
    frame.load()
    if frame.width != FAX_WIDTH or frame.mode not in ("1", "L", "P"):
        raise DocumentError(name, f"page {number} is {frame.width} pels wide, mode {frame.mode}: not a fax page")
    image = frame if frame.mode == "1" else frame.convert("1", dither=Image.Dither.NONE)
    y_dpi = 98.0
    dpi = frame.info.get("dpi")
    if dpi and len(dpi) == 2 and float(dpi[1]) > 0:
        y_dpi = float(dpi[1])  # Pillow converts centimetre units to inches
    return FaxPage(image.copy(), Resolution.from_lpi(y_dpi))


@dataclass(frozen=True)
class ReceivedFiles:
    """What :func:`received_to_files` stored."""

    tiff: Path
    pdf: Path
    previews: tuple[Path, ...]
    pages: tuple[FaxPage, ...]


def received_to_files(
    t4_pages: Sequence[bytes],
    resolution: Resolution | Sequence[Resolution],
    out_dir: str | Path,
    stem: str,
    bit_order: BitOrder = BitOrder.MSB_FIRST,
    codings: int | Sequence[int] = 0,
) -> ReceivedFiles:
    """Store received T.4 pages as ``stem.tif`` (TIFF-F), ``stem.pdf`` and PNG previews.

    ``t4_pages`` is each page's data as received (RTC and trailing bytes are
    tolerated) in ``bit_order``; ``resolution`` is one for all pages or one per
    page; ``codings`` (the DCS ``df``: 0 MH, 1 MR, 3 MMR) likewise.  MR and MMR
    pages are decoded and stored as MH: a TIFF Class F file holds 1-D pages
    (RFC 2306 §3), the form every fax viewer reads.  Previews are
    ``stem-p001.png`` ... and are 432 pels wide.  Raises
    :class:`modem.t4.T4Error` for a page that cannot be decoded.
    """
    if not t4_pages:
        raise ValueError("no received pages to store")
    if "/" in stem or stem in ("", ".", ".."):
        raise ValueError(f"invalid file stem {stem!r}")
    resolutions = [resolution] * len(t4_pages) if isinstance(resolution, Resolution) else list(resolution)
    if len(resolutions) != len(t4_pages):
        raise ValueError(f"{len(t4_pages)} pages but {len(resolutions)} resolutions")
    page_codings = [codings] * len(t4_pages) if isinstance(codings, int) else list(codings)
    if len(page_codings) != len(t4_pages):
        raise ValueError(f"{len(t4_pages)} pages but {len(page_codings)} codings")
    pages = []
    for data, page_resolution, df in zip(t4_pages, resolutions, page_codings, strict=True):
        image = decode(data, df, FAX_WIDTH, bit_order)
        image.info.clear()
        pages.append(FaxPage(image, page_resolution))
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    tiff_path = directory / f"{stem}.tif"
    write_tiff_f(pages, tiff_path)
    pdf_path = directory / f"{stem}.pdf"
    _write_atomically(pdf_path, pdf_bytes(pages))
    previews = []
    for number, page in enumerate(pages, start=1):
        preview_path = directory / f"{stem}-p{number:03d}.png"
        _write_atomically(preview_path, preview_png(page))
        previews.append(preview_path)
    return ReceivedFiles(tiff_path, pdf_path, tuple(previews), tuple(pages))


def pdf_bytes(pages: Sequence[FaxPage]) -> bytes:
    """A PDF with one CCITT-compressed image per page, at the pages' physical size."""
    fine = any(page.resolution is Resolution.FINE for page in pages)
    lpi = Resolution.FINE.lpi if fine else Resolution.NORMAL.lpi
    images = [
        page.image.resize((FAX_WIDTH, page.rows * 2), Image.Resampling.NEAREST)
        if fine and page.resolution is Resolution.NORMAL
        else page.image
        for page in pages
    ]
    buffer = io.BytesIO()
    images[0].save(buffer, format="PDF", save_all=True, append_images=images[1:], dpi=(X_DPI, lpi))
    return buffer.getvalue()


def preview_png(page: FaxPage, width: int = PREVIEW_WIDTH) -> bytes:
    """A greyscale PNG thumbnail of ``page`` with the page's true proportions."""
    height = max(1, round(page.rows * X_DPI / page.resolution.lpi * width / FAX_WIDTH))
    thumbnail = page.image.convert("L").resize((width, height), Image.Resampling.BOX)
    buffer = io.BytesIO()
    thumbnail.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    partial.replace(path)
