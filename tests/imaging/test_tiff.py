"""TIFF Class F files and storing received pages (modem.tiff)."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pypdfium2
import pytest
from PIL import Image

from modem import t4, tiff
from modem.document import FAX_WIDTH, DocumentError, FaxPage, PageSize, Resolution, render
from tests.imaging._samples import assert_same_bitmap, bitmap, encoded

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pages() -> list[FaxPage]:
    """A fine and a normal page."""
    return [FaxPage(bitmap(150, seed=1), Resolution.FINE), FaxPage(bitmap(80, seed=2), Resolution.NORMAL)]


def test_tiff_f_round_trip(pages: list[FaxPage], tmp_path: Path) -> None:
    """Pages written as TIFF-F read back identical, with their resolutions."""
    path = tmp_path / "out.tif"
    tiff.write_tiff_f(pages, path, software="faxappliance")
    back = tiff.read_tiff_pages(path)
    assert [p.resolution for p in back] == [Resolution.FINE, Resolution.NORMAL]
    assert len(back) == len(pages)
    for got, want in zip(back, pages, strict=True):
        assert_same_bitmap(got.image, want.image)
    assert not list(tmp_path.glob(".*partial"))


def test_tiff_f_tags(pages: list[FaxPage]) -> None:
    """Each IFD carries the RFC 2306 tags: G3 1-D with fill bits, min-is-white, MSB first."""
    data = tiff.tiff_f_bytes(pages)
    with Image.open(io.BytesIO(data)) as image:
        for number, page in enumerate(pages):
            image.seek(number)
            tags = image.tag_v2
            assert tags[254] == 2  # NewSubfileType: page of a multi-page document
            assert (tags[256], tags[257], tags[278]) == (FAX_WIDTH, page.rows, page.rows)
            assert (tags[259], tags[262], tags[266], tags[292]) == (3, 0, 1, 4)
            assert (float(tags[282]), float(tags[283]), tags[296]) == (204.0, page.resolution.lpi, 2)
            assert tags[297] == (number, 2)


def test_tiff_f_strip_has_no_rtc(pages: list[FaxPage]) -> None:
    """The stored strip is the page data without RTC, starting with an EOL."""
    data = tiff.tiff_f_bytes(pages[:1])
    with Image.open(io.BytesIO(data)) as image:
        offset, count = image.tag_v2[273][0], image.tag_v2[279][0]
    strip = data[offset : offset + count]
    assert strip.startswith(t4.EOL)
    assert strip + t4.RTC == t4.encode_page(pages[0])


def test_write_to_file_object(pages: list[FaxPage]) -> None:
    """write_tiff_f also writes to an open binary file."""
    buffer = io.BytesIO()
    tiff.write_tiff_f(pages, buffer)
    assert buffer.getvalue() == tiff.tiff_f_bytes(pages)


def test_no_pages_is_an_error() -> None:
    """A TIFF-F file with no pages is refused."""
    with pytest.raises(ValueError, match="at least one page"):
        tiff.tiff_f_bytes([])


def test_read_rejects_non_fax_tiff() -> None:
    """read_tiff_pages names the problem for a TIFF that is not a fax page, or not a TIFF."""
    data = encoded(Image.new("L", (640, 480)), format="TIFF")
    with pytest.raises(DocumentError, match="640 pels wide"):
        tiff.read_tiff_pages(data)
    with pytest.raises(DocumentError, match="not a TIFF"):
        tiff.read_tiff_pages(encoded(Image.new("1", (FAX_WIDTH, 4)), format="PNG"))


def test_received_to_files(pages: list[FaxPage], tmp_path: Path) -> None:
    """Received wire-order T.4 pages become a TIFF-F, a PDF and PNG previews."""
    received = [t4.encode_page(p, t4.BitOrder.LSB_FIRST) + b"\x00\x00junk" for p in pages]
    stored = tiff.received_to_files(
        received, [p.resolution for p in pages], tmp_path / "inbox", "fax0001", t4.BitOrder.LSB_FIRST
    )
    assert stored.tiff == tmp_path / "inbox" / "fax0001.tif"
    back = tiff.read_tiff_pages(stored.tiff)
    assert len(back) == len(pages)
    for got, want in zip(back, pages, strict=True):
        assert_same_bitmap(got.image, want.image)
    pdf = pypdfium2.PdfDocument(stored.pdf)
    try:
        assert len(pdf) == 2
        width, height = pdf[0].get_size()
        assert width == pytest.approx(FAX_WIDTH / 204 * 72, abs=0.5)
        assert height == pytest.approx(150 / 196 * 72, abs=0.5)
        assert pdf[1].get_size()[1] == pytest.approx(80 / 98 * 72, abs=0.5)
    finally:
        pdf.close()
    assert [p.name for p in stored.previews] == ["fax0001-p001.png", "fax0001-p002.png"]
    with Image.open(stored.previews[1]) as preview:
        assert preview.format == "PNG"
        assert preview.size == (432, round(80 * 204 / 98 / 4))


def test_received_full_page_single_resolution(tmp_path: Path) -> None:
    """A whole rendered page received MSB first is stored at the given resolution."""
    page = render(b"incoming\n", Resolution.NORMAL, PageSize.LETTER)[0]
    stored = tiff.received_to_files([t4.encode_page(page)], Resolution.NORMAL, tmp_path, "in")
    assert_same_bitmap(stored.pages[0].image, page.image)
    assert stored.pages[0].resolution is Resolution.NORMAL


def test_received_to_files_checks_arguments(tmp_path: Path) -> None:
    """Bad stems, no pages and mismatched resolutions are refused."""
    with pytest.raises(ValueError, match="no received pages"):
        tiff.received_to_files([], Resolution.FINE, tmp_path, "x")
    with pytest.raises(ValueError, match="invalid file stem"):
        tiff.received_to_files([b"\x00"], Resolution.FINE, tmp_path, "../x")
    with pytest.raises(ValueError, match="1 pages but 2 resolutions"):
        tiff.received_to_files([b"\x00"], [Resolution.FINE] * 2, tmp_path, "x")


FORBIDDEN = {"twisted", "socket", "time", "random", "os", "logging", "subprocess", "serial"}


@pytest.mark.parametrize("module", ["t4", "tiff", "document", "_render", "_tiffio"])
def test_imaging_modules_are_sans_io(module: str) -> None:
    """The imaging modules import no reactor, clock, randomness, os or logging."""
    tree = ast.parse((ROOT / "modem" / f"{module}.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN
