"""Documents to T.4 page data, serially and over executors (modem.convert)."""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest
from PIL import Image, ImageDraw

from modem import t4
from modem.convert import document_t4
from modem.document import DocumentError, PageSize, Resolution, render
from tests.imaging._samples import encoded


def pdf(pages: int) -> bytes:
    """A PDF whose page n has a bar at a height depending on n."""
    images = []
    for number in range(pages):
        image = Image.new("L", (612, 792), 255)
        ImageDraw.Draw(image).rectangle((72, 72 + 40 * number, 540, 100 + 40 * number), fill=0)
        images.append(image)
    return encoded(images[0], format="PDF", save_all=True, append_images=images[1:], resolution=72.0)


@pytest.fixture(scope="module")
def sources() -> list[bytes]:
    """A 5-page PDF between a text file and another 1-page PDF."""
    return [b"cover sheet\n", pdf(5), pdf(1)]


@pytest.fixture(scope="module")
def expected(sources: list[bytes]) -> list[bytes]:
    """Page data computed page by page with render + encode_page."""
    return [t4.encode_page(page) for page in render(sources, Resolution.NORMAL, PageSize.A4)]


def test_serial_matches_render_and_encode(sources: list[bytes], expected: list[bytes]) -> None:
    """Without an executor, document_t4 is render followed by encode_page."""
    assert document_t4(sources, Resolution.NORMAL, PageSize.A4) == expected
    assert len(expected) == 7


def test_thread_pool_gives_the_same_pages(sources: list[bytes], expected: list[bytes]) -> None:
    """A thread pool (pdfium calls serialised by a lock) gives identical data in order."""
    with ThreadPoolExecutor(2) as pool:
        assert document_t4(sources, Resolution.NORMAL, PageSize.A4, executor=pool) == expected


def test_process_pool_gives_the_same_pages(sources: list[bytes], expected: list[bytes]) -> None:
    """A process pool gives identical data in order, in any chunk size."""
    with ProcessPoolExecutor(2) as pool:
        for per_task in (1, 3):
            result = document_t4(sources, Resolution.NORMAL, PageSize.A4, executor=pool, pages_per_task=per_task)
            assert result == expected


def test_wire_order(sources: list[bytes], expected: list[bytes]) -> None:
    """bit_order=LSB_FIRST reverses every byte of every page."""
    with ThreadPoolExecutor(2) as pool:
        lsb = document_t4(sources, Resolution.NORMAL, PageSize.A4, t4.BitOrder.LSB_FIRST, executor=pool)
    assert lsb == [t4.reverse_bits(page) for page in expected]


def test_bad_pdf_names_the_source() -> None:
    """An unreadable PDF raises DocumentError naming it, with or without an executor."""
    with ThreadPoolExecutor(1) as pool, pytest.raises(DocumentError, match=r"<bytes #2>: unreadable PDF"):
        document_t4([b"ok\n", b"%PDF-1.7 broken"], Resolution.FINE, PageSize.LETTER, executor=pool)


def test_document_error_pickles() -> None:
    """DocumentError survives pickling, as it must to leave a worker process."""
    error = pickle.loads(pickle.dumps(DocumentError("a.pdf", "unreadable PDF")))
    assert (error.source, error.reason, str(error)) == ("a.pdf", "unreadable PDF", "a.pdf: unreadable PDF")
