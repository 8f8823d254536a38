"""Conversion jobs the render pool runs for the command line (module-level:
the pool pickles them by name)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from modem.document import PageSize, Resolution, iter_render
from modem.fax_files import write_fax_files

__all__ = ["files_to_tiff"]


def files_to_tiff(files: Sequence[str], fine: bool, page_size: str, target: str, max_pages: int,
                  progress: Callable[[int], None] | None = None) -> int:
    """Render ``files`` into the TIFF-F file ``target``; the number of pages.

    Raises ``DocumentError`` (``PageLimitError`` before drawing anything when
    they have more than ``max_pages`` pages together)."""
    resolution = Resolution.FINE if fine else Resolution.NORMAL
    size = PageSize.A4 if page_size == "a4" else PageSize.LETTER
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    pages = iter_render(list(files), resolution, size, max_pages=max_pages)
    return write_fax_files(pages, path, progress=progress).pages
