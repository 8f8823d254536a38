"""Fax pages and turning documents into them.

:func:`render` converts PDF, TIFF (any compression, multi-page), PNG, JPEG,
GIF, BMP and plain text into :class:`FaxPage` objects: mode "1" images 1728
pels wide (215 mm at 8 pels/mm, about 204 dpi) and exactly one Letter (11 in)
or A4 (297 mm) page long at normal (98 lpi, 3.85 lines/mm) or fine (196 lpi,
7.7 lines/mm) vertical resolution.  Greys and pictures are dithered with a
clustered-dot halftone screen; black and white stay exact.

Rendering is blocking CPU work (tens to hundreds of milliseconds a page);
callers in the reactor thread run it in a thread or process pool.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

__all__ = [
    "FAX_WIDTH",
    "X_DPI",
    "DocumentError",
    "FaxPage",
    "PageLimitError",
    "PageSize",
    "Resolution",
    "Source",
    "check_page_limit",
    "count_pages",
    "iter_render",
    "load_source",
    "render",
]

FAX_WIDTH = 1728  # pels per line, A4/Letter (T.4 §2.2)
X_DPI = 204  # horizontal resolution as TIFF states it (8 pels/mm)

Source = str | Path | bytes


class Resolution(enum.Enum):
    """Vertical resolution of a fax page (horizontal is always 204 dpi)."""

    NORMAL = 98
    FINE = 196

    @property
    def lpi(self) -> int:
        """Lines per inch (the TIFF YResolution)."""
        return self.value

    @property
    def lines_per_mm(self) -> float:
        """Lines per millimetre as T.4 states it (3.85 or 7.7)."""
        return 3.85 if self is Resolution.NORMAL else 7.7

    @property
    def dpi(self) -> tuple[int, int]:
        """(horizontal, vertical) resolution in dots per inch."""
        return (X_DPI, self.value)

    @property
    def vr(self) -> int:
        """The Class 2/2.0 VR parameter (+FCC/+FDCC, +FCS): 0 normal, 1 fine."""
        return 0 if self is Resolution.NORMAL else 1

    @classmethod
    def from_lpi(cls, lpi: float) -> Resolution:
        """The resolution nearest ``lpi`` lines per inch (e.g. a TIFF YResolution)."""
        return cls.FINE if lpi >= 147 else cls.NORMAL


class PageSize(enum.Enum):
    """Page length; both sizes use the same 1728-pel line."""

    LETTER = "letter"
    A4 = "a4"

    def rows(self, resolution: Resolution) -> int:
        """Lines in one page: Letter 1078/2156, A4 1143/2287 (normal/fine)."""
        if self is PageSize.LETTER:
            return 11 * resolution.lpi
        return round(297 * resolution.lines_per_mm)


class DocumentError(ValueError):
    """A document that cannot be read or is of an unsupported kind.

    ``source`` names the file (or ``<bytes #n>`` for in-memory input).
    """

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(source, reason)  # both in args: the error pickles across processes
        self.source = source
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


class PageLimitError(DocumentError):
    """A document (or a fax of several) with more pages than allowed, found before rendering."""


@dataclass(frozen=True)
class FaxPage:
    """One page as a mode "1" image (PIL convention: white = 1) and its resolution."""

    image: Image.Image
    resolution: Resolution

    def __post_init__(self) -> None:
        if self.image.mode != "1":
            raise ValueError(f"a fax page needs a mode '1' image, got {self.image.mode!r}")
        if self.image.width != FAX_WIDTH:
            raise ValueError(f"a fax page is {FAX_WIDTH} pels wide, got {self.image.width}")

    @property
    def rows(self) -> int:
        """Number of scan lines."""
        return self.image.height

    def __repr__(self) -> str:
        return f"FaxPage({self.image.width}x{self.image.height}, {self.resolution.name})"


def render(
    sources: Source | Sequence[Source],
    resolution: Resolution,
    page_size: PageSize,
    *,
    max_pages: int | None = None,
) -> list[FaxPage]:
    """Convert one document or a sequence of documents into fax pages, in order.

    Each source is a path or the file's bytes; its kind is taken from its
    content, not its name.  Raises :class:`DocumentError` naming the source
    for unreadable, empty or unsupported input, and :class:`PageLimitError`
    (before drawing anything) when all together have more than ``max_pages``.
    A fine page takes 3.7 MB of memory: a long document should go through
    :func:`iter_render`, which yields one page at a time.
    """
    return list(iter_render(sources, resolution, page_size, max_pages=max_pages))


def iter_render(
    sources: Source | Sequence[Source],
    resolution: Resolution,
    page_size: PageSize,
    *,
    max_pages: int | None = None,
) -> Iterator[FaxPage]:
    """Like :func:`render`, one page at a time; nothing is drawn before the page limit is checked."""
    from modem import _render  # the rasterisers need the types above

    if isinstance(sources, (str, Path, bytes)):
        sources = [sources]
    rows = page_size.rows(resolution)
    loaded = [load_source(source, index) for index, source in enumerate(sources, start=1)]
    if max_pages is not None:
        check_page_limit(loaded, resolution, page_size, max_pages)
    total = 0
    for name, data in loaded:
        count = 0
        try:
            for image in _render.rasterise(data, rows, resolution.lpi):
                count += 1
                total += 1
                if max_pages is not None and total > max_pages:  # the count and the drawing disagree
                    image.close()
                    raise PageLimitError(name, _too_many(total, max_pages))
                yield FaxPage(image, resolution)
        except _render.UnsupportedInput as exc:
            raise DocumentError(name, str(exc)) from exc
        if count == 0:
            raise DocumentError(name, "the document has no pages")


COUNT_UP_TO = 10_000  # page counts past this are reported as "more than"


def count_pages(
    data: bytes, resolution: Resolution, page_size: PageSize, name: str = "<bytes>", at_most: int | None = None
) -> int:
    """The number of fax pages ``data`` renders to, found without drawing any page.

    With ``at_most``, counting may stop past it (the result is then larger than
    ``at_most`` but maybe not the whole count)."""
    from modem import _render

    try:
        return _render.count_pages(data, page_size.rows(resolution), resolution.lpi, at_most)
    except _render.UnsupportedInput as exc:
        raise DocumentError(name, str(exc)) from exc


def check_page_limit(
    documents: Sequence[tuple[str, bytes]], resolution: Resolution, page_size: PageSize, max_pages: int
) -> int:
    """The total pages of ``(name, content)`` documents; :class:`PageLimitError` past ``max_pages``.

    Counts without rendering (PDF page count, image frames, text lines and
    form feeds), so an oversized document costs next to nothing to refuse.
    """
    total = 0
    for name, data in documents:
        up_to = max(COUNT_UP_TO, max_pages)
        count = count_pages(data, resolution, page_size, name, at_most=up_to)
        total += count
        if count > max_pages:
            pages = f"more than {up_to}" if count > up_to else str(count)
            raise PageLimitError(name, f"the document has {pages} pages; {_limit(max_pages)}")
        if total > max_pages:
            raise PageLimitError(name, _too_many(total, max_pages))
    return total


def _limit(max_pages: int) -> str:
    return f"a fax may have at most {max_pages} pages"


def _too_many(total: int, max_pages: int) -> str:
    return f"with this document the fax has at least {total} pages; {_limit(max_pages)}"


def load_source(source: Source, index: int) -> tuple[str, bytes]:
    """(name for messages, content) of a path or bytes; ``index`` numbers unnamed bytes."""
    if isinstance(source, bytes):
        name = f"<bytes #{index}>"
        data = source
    else:
        name = str(source)
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise DocumentError(name, f"cannot read file: {exc.strerror or exc}") from exc
    if not data:
        raise DocumentError(name, "the document is empty")
    return name, data
