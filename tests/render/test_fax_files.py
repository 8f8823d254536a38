"""Pages streamed to files (modem.fax_files) give what the all-in-memory path gave."""

from __future__ import annotations

from pathlib import Path

import pypdfium2
import pytest

from appliance.render import Limits
from appliance.render.runner import shared_pool
from modem.document import PageSize, Resolution, iter_render, render
from modem.fax_files import tiff_f_from_pages, write_fax_files
from modem.tiff import iter_tiff_pages, pdf_bytes, preview_png, read_tiff_pages, tiff_f_bytes
from tests.render._docs import blank_pdf

DOC = [b"first\fsecond\n" * 2, blank_pdf(2)]


@pytest.mark.parametrize("resolution", list(Resolution))
def test_files_match_the_in_memory_functions(tmp_path: Path, resolution: Resolution) -> None:
    pages = render(DOC, resolution, PageSize.A4)
    seen: list[int] = []
    files = write_fax_files(
        iter_render(DOC, resolution, PageSize.A4),
        tmp_path / "f.tif",
        pdf=tmp_path / "f.pdf",
        preview=lambda n: tmp_path / f"p{n}.png",
        progress=seen.append,
    )
    assert files.pages == len(pages) == 5 and seen == [1, 2, 3, 4, 5]
    assert (tmp_path / "f.tif").read_bytes() == tiff_f_bytes(pages)
    assert [p.read_bytes() for p in files.previews] == [preview_png(p) for p in pages]
    ours, theirs = pypdfium2.PdfDocument(tmp_path / "f.pdf"), pypdfium2.PdfDocument(pdf_bytes(pages))
    try:
        assert len(ours) == len(theirs) == 5
        assert [ours[i].get_size() for i in range(5)] == [theirs[i].get_size() for i in range(5)]
    finally:
        ours.close()
        theirs.close()
    assert not list(tmp_path.glob(".*partial"))


def test_tiff_bytes_and_pages_one_at_a_time(tmp_path: Path) -> None:
    pages = render(DOC, Resolution.FINE, PageSize.LETTER)
    data = tiff_f_from_pages(iter_render(DOC, Resolution.FINE, PageSize.LETTER))
    assert data == tiff_f_bytes(pages)
    streamed = iter_tiff_pages(data)
    first = next(streamed)
    assert first.image.tobytes() == pages[0].image.tobytes()
    assert len(list(streamed)) == 4 and len(read_tiff_pages(data)) == 5


def test_no_pages_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one page"):
        write_fax_files(iter(()), tmp_path / "f.tif")
    assert not (tmp_path / "f.tif").exists()


def test_shared_pool_takes_the_configured_limits() -> None:
    """The appliance's configuration replaces the shared pool's limits; callers without keep them."""
    try:
        assert shared_pool(Limits(max_pages=7)).limits.max_pages == 7
        assert shared_pool().limits.max_pages == 7
    finally:
        assert shared_pool(Limits()).limits == Limits()


def test_cloud_fax_converts_in_a_worker_within_the_cap(tmp_path: Path) -> None:
    """A received cloud document becomes TIFF-F, PDF and previews; one over the page cap keeps only the original."""
    from appliance.inbound.inbox import Inbox

    inbox = Inbox(tmp_path)
    item = inbox.add_document("acme", blank_pdf(2), received_at=0.0)
    assert item.pages == 2 and len(item.previews) == 2
    assert Path(item.tiff).name == "fax.tif" and len(read_tiff_pages(item.tiff)) == 2
    bomb = inbox.add_document("acme", blank_pdf(shared_pool().limits.max_pages + 1), received_at=0.0)
    assert bomb.pages == 0 and bomb.pdf.endswith("original.pdf") and Path(bomb.pdf).exists()
