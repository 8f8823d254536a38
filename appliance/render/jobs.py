"""Conversion jobs the render pool runs for the command line and the inbox (module-level:
the pool pickles them by name), and :func:`run_once` to run one in a
bounded worker from a short-lived command."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from appliance.render.limits import Limits
from modem.document import PageSize, Resolution, iter_render
from modem.fax_files import write_fax_files

__all__ = ["document_to_files", "files_to_t4", "files_to_tiff", "run_once"]


def files_to_tiff(
    files: Sequence[str],
    fine: bool,
    page_size: str,
    target: str,
    max_pages: int,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Render ``files`` into the TIFF-F file ``target``; the number of pages.

    Raises ``DocumentError`` (``PageLimitError`` before drawing anything when
    they have more than ``max_pages`` pages together)."""
    resolution = Resolution.FINE if fine else Resolution.NORMAL
    size = PageSize.A4 if page_size == "a4" else PageSize.LETTER
    path = Path(target)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pages = iter_render(list(files), resolution, size, max_pages=max_pages)
    return write_fax_files(pages, path, progress=progress).pages


def files_to_t4(files: Sequence[str], fine: bool, page_size: str, max_pages: int) -> list[bytes]:
    """Render ``files`` to modem-ready T.4 page data (MSB first, with RTC), a page at a time."""
    from modem.coding import Coding, encode

    resolution = Resolution.FINE if fine else Resolution.NORMAL
    size = PageSize.A4 if page_size == "a4" else PageSize.LETTER
    data = []
    for page in iter_render(list(files), resolution, size, max_pages=max_pages):
        data.append(encode(page.image, Coding.MH))  # as modem.t4.encode_page, through the faster coder
        page.image.close()
    return data


def files_to_coded(files: Sequence[str], fine: bool, page_size: str, max_pages: int) -> list[Any]:
    """Like :func:`files_to_t4`, each page coded MH, MR and MMR (:class:`modem.coding.CodedPage`),
    so a call can send the most compact coding the remote takes."""
    from modem.coding import code_page

    resolution = Resolution.FINE if fine else Resolution.NORMAL
    size = PageSize.A4 if page_size == "a4" else PageSize.LETTER
    data = []
    for page in iter_render(list(files), resolution, size, max_pages=max_pages):
        data.append(code_page(page))
        page.image.close()
    return data


def run_once(
    limits: Limits, fn: Callable[..., Any], *args: Any, progress: Callable[[int], None] | None = None, **kwargs: Any
) -> Any:
    """``fn`` in one bounded worker process that ends with it (for short-lived commands)."""
    from appliance.render.pool import RenderPool

    with RenderPool(replace(limits, workers=1)) as pool:
        return pool.call(fn, *args, progress=progress, **kwargs)


def document_to_files(data: bytes, directory: str, max_pages: int) -> tuple[int, str, str, tuple[str, ...]]:
    """A received document (a cloud fax: TIFF or PDF) as ``fax.tif``, ``fax.pdf`` and
    ``fax-p001.png``… in ``directory``: (pages, tiff, pdf, previews)."""
    folder = Path(directory)
    pages = iter_render(data, Resolution.FINE, PageSize.A4, max_pages=max_pages)
    files = write_fax_files(
        pages, folder / "fax.tif", pdf=folder / "fax.pdf", preview=lambda n: folder / f"fax-p{n:03d}.png"
    )
    return files.pages, str(files.tiff), str(files.pdf), tuple(str(p) for p in files.previews)
