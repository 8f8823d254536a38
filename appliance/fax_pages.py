"""The pages of a fax to send, from its stored documents (blocking: the routers
run these in a thread pool).

TIFF-F files are read as they are; raw T.4 pages (``.g3``/``.t4``) are
decoded; anything else is rendered (A4) in a bounded worker process.  A fine
page is 3.7 MB in memory, so sending reads one page at a time
(:func:`iter_fax_pages`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from appliance.render.jobs import files_to_t4
from appliance.render.runner import shared_pool
from modem.coding import CodedPage, code_page
from modem.document import FaxPage, Resolution
from modem.fax_files import tiff_f_from_pages
from modem.t4 import decode_page
from modem.tiff import iter_tiff_pages

__all__ = ["coded_pages", "iter_fax_pages", "load_fax_pages", "tiff_bytes"]


def load_fax_pages(documents: Sequence[str], fine: bool) -> list[FaxPage]:
    """Every fax page of an entry's documents; ValueError when there is none."""
    pages = list(iter_fax_pages(documents, fine))
    if not pages:
        raise ValueError("the fax has no pages")
    return pages


def iter_fax_pages(documents: Sequence[str], fine: bool) -> Iterator[FaxPage]:
    """Like :func:`load_fax_pages`, one page at a time."""
    resolution = Resolution.FINE if fine else Resolution.NORMAL
    for name in documents:
        path = Path(name)
        if path.suffix.lower() in (".g3", ".t4"):
            yield FaxPage(decode_page(path.read_bytes()), resolution)
        elif path.suffix.lower() in (".tif", ".tiff"):
            yield from iter_tiff_pages(path)
        else:
            yield from (FaxPage(decode_page(data), resolution) for data in _rendered(str(path), fine))


def _rendered(name: str, fine: bool) -> list[bytes]:
    pool = shared_pool()  # the default [limits]
    return list(pool.call(files_to_t4, [name], fine, "a4", pool.limits.max_pages))


def coded_pages(documents: Sequence[str], fine: bool) -> list[CodedPage]:
    """Each page coded MH, MR and MMR: the call sends the most compact coding the remote takes."""
    data = []
    for page in iter_fax_pages(documents, fine):
        data.append(code_page(page))
        page.image.close()
    if not data:
        raise ValueError("the fax has no pages")
    return data


def tiff_bytes(documents: Sequence[str], fine: bool) -> bytes:
    """The fax as one TIFF-F file (a cloud send)."""
    return tiff_f_from_pages(iter_fax_pages(documents, fine))
