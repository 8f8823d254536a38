"""Rendering documents into fax pages (modem.document.render)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageOps

from modem import _binarise, _render
from modem.document import FAX_WIDTH, DocumentError, FaxPage, PageSize, Resolution, render
from tests.imaging._samples import assert_same_bitmap, black_fraction, encoded, gray_picture


@pytest.mark.parametrize(
    ("size", "resolution", "rows"),
    [
        (PageSize.LETTER, Resolution.NORMAL, 1078),
        (PageSize.LETTER, Resolution.FINE, 2156),
        (PageSize.A4, Resolution.NORMAL, 1143),
        (PageSize.A4, Resolution.FINE, 2287),
    ],
)
def test_page_lengths(size: PageSize, resolution: Resolution, rows: int) -> None:
    """Letter is 11 in and A4 297 mm long at 98/196 lpi (3.85/7.7 lines/mm)."""
    assert size.rows(resolution) == rows
    pages = render(b"x\n", resolution, size)
    assert pages[0].image.size == (FAX_WIDTH, rows)
    assert pages[0].image.mode == "1"
    assert pages[0].resolution is resolution


def test_resolution_properties() -> None:
    """Resolutions carry their lpi, lines/mm, dpi pair and Class 2 VR code."""
    assert Resolution.NORMAL.dpi == (204, 98)
    assert Resolution.FINE.dpi == (204, 196)
    assert (Resolution.NORMAL.lines_per_mm, Resolution.FINE.lines_per_mm) == (3.85, 7.7)
    assert (Resolution.NORMAL.vr, Resolution.FINE.vr) == (0, 1)
    assert Resolution.from_lpi(196.0) is Resolution.FINE
    assert Resolution.from_lpi(97.9) is Resolution.NORMAL


def test_fax_page_validates_its_image() -> None:
    """FaxPage refuses images that are not mode "1" or not 1728 pels wide."""
    with pytest.raises(ValueError, match="mode '1'"):
        FaxPage(Image.new("L", (FAX_WIDTH, 10)), Resolution.FINE)
    with pytest.raises(ValueError, match="1728 pels wide"):
        FaxPage(Image.new("1", (1000, 10)), Resolution.FINE)


def pdf_bytes(pages: int = 2) -> bytes:
    """A Letter-size PDF (made by Pillow) with a black bar at the top of each page."""
    images = []
    for number in range(pages):
        image = Image.new("L", (850, 1100), 255)  # 8.5 x 11 in at 100 dpi
        draw = ImageDraw.Draw(image)
        draw.rectangle((100, 100 + number * 50, 750, 200 + number * 50), fill=0)
        images.append(image)
    return encoded(images[0], format="PDF", save_all=True, append_images=images[1:], resolution=100.0)


def test_pdf_pages_render_in_place() -> None:
    """Each PDF page becomes a fax page; content keeps its position on the page."""
    pages = render(pdf_bytes(2), Resolution.FINE, PageSize.LETTER)
    assert len(pages) == 2
    for number, page in enumerate(pages):
        image = page.image
        # The bar spans x 1..7.5 in and y (1 + n/2)..(2 + n/2) in.
        assert image.getpixel((FAX_WIDTH // 2, round((1.5 + number / 2) * 196))) == 0
        assert image.getpixel((FAX_WIDTH // 2, round(0.5 * 196))) == 255
        assert image.getpixel((round(0.5 * 204), round((1.5 + number / 2) * 196))) == 255
    assert 0.05 < black_fraction(pages[0].image) < 0.08


@pytest.mark.interop
def test_pdf_from_ghostscript_postscript(tmp_path: Path) -> None:
    """A PDF written by ghostscript (text and vector graphics) renders with ink on it."""
    from tests.peers import require_program

    gs = require_program("gs", "ghostscript")
    import subprocess

    source, pdf = tmp_path / "in.ps", tmp_path / "out.pdf"
    source.write_text(
        "%!PS\n/Helvetica findfont 24 scalefont setfont 72 700 moveto (Fax) show\n"
        "72 100 moveto 200 0 rlineto 0 100 rlineto -200 0 rlineto fill showpage\n"
    )
    subprocess.run(
        [gs, "-q", "-dSAFER", "-dNOPAUSE", "-dBATCH", "-sDEVICE=pdfwrite", f"-sOutputFile={pdf}", str(source)],
        check=True,
        timeout=60,
        capture_output=True,
    )
    pages = render(pdf, Resolution.NORMAL, PageSize.LETTER)
    assert len(pages) == 1
    assert pages[0].image.getpixel(((2 * 204), ((11 - 2) * 98))) == 0  # inside the box


@pytest.mark.parametrize("compression", ["raw", "packbits", "tiff_lzw", "tiff_adobe_deflate", "group3", "group4"])
def test_bilevel_fax_tiff_keeps_its_bits(compression: str) -> None:
    """A 1728-pel bilevel TIFF at fax resolution passes through unchanged, any compression."""
    image = Image.new("1", (FAX_WIDTH, 500), 1)
    ImageDraw.Draw(image).rectangle((100, 100, 900, 120), fill=0)
    data = encoded(image, format="TIFF", compression=compression, dpi=(204, 196))
    pages = render(data, Resolution.FINE, PageSize.LETTER)
    assert_same_bitmap(pages[0].image.crop((0, 0, FAX_WIDTH, 500)), image)
    assert pages[0].rows == 2156


def test_normal_tiff_to_fine_doubles_lines() -> None:
    """A normal-resolution fax TIFF rendered fine has every line twice."""
    image = Image.new("1", (FAX_WIDTH, 100), 1)
    ImageDraw.Draw(image).rectangle((0, 10, FAX_WIDTH, 10), fill=0)  # one black line
    pages = render(encoded(image, format="TIFF", compression="group4", dpi=(204, 98)), Resolution.FINE, PageSize.A4)
    column = [pages[0].image.getpixel((500, y)) for y in range(18, 24)]
    assert column == [255, 255, 0, 0, 255, 255]


def test_multi_page_tiff_of_mixed_modes() -> None:
    """Every frame of a multi-page TIFF (greyscale JPEG, RGB LZW) becomes a page."""
    first = gray_picture((600, 400))
    second = gray_picture((400, 300)).convert("RGB")
    data = encoded(first, format="TIFF", save_all=True, append_images=[second], compression="tiff_lzw", dpi=(100, 100))
    pages = render(data, Resolution.NORMAL, PageSize.LETTER)
    assert len(pages) == 2
    # 600 px at 100 dpi = 6 in = 1224 pels across, centred.
    left = (FAX_WIDTH - 1224) // 2
    assert pages[0].image.getpixel((left + 50 * 204 // 100, 50 * 98 // 100)) == 0  # dark square
    assert pages[0].image.getpixel((left - 5, 50)) == 255


@pytest.mark.parametrize(("fmt", "width"), [("PNG", 1728), ("JPEG", 1728), ("GIF", 1728), ("BMP", 850)])
def test_pictures_are_dithered_to_fit(fmt: str, width: int) -> None:
    """Pictures fill the page width (or keep a stated size: BMP says 96 dpi), dithered."""
    picture = gray_picture((400, 200))
    data = encoded(picture if fmt != "GIF" else picture.convert("P"), format=fmt)
    page = render(data, Resolution.FINE, PageSize.LETTER)[0]
    box = ImageOps.invert(page.image.convert("L")).getbbox()
    assert box is not None
    left, top, right, _ = box
    assert right - left == pytest.approx(width, abs=3)
    assert top == 0  # the gradient starts black at the top of the page
    height = width / 2 * 196 / 204  # 2:1 picture, 204 dpi across, 196 lpi down
    # The gradient's middle band is mid-grey: dithered, not thresholded.
    band = page.image.crop((left + width // 2, round(height * 0.45), right, round(height * 0.55)))
    assert 0.3 < black_fraction(band) < 0.7
    below = page.image.crop((0, round(height) + 2, FAX_WIDTH, page.rows))
    assert black_fraction(below) == 0


def test_transparent_png_on_white() -> None:
    """Transparent areas of a PNG come out white, opaque ink black."""
    picture = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    ImageDraw.Draw(picture).rectangle((0, 0, 99, 99), fill=(0, 0, 0, 255))
    page = render(encoded(picture, format="PNG"), Resolution.FINE, PageSize.LETTER)[0]
    assert page.image.getpixel((400, 400)) == 0
    assert page.image.getpixel((1300, 400)) == 255


def test_picture_with_resolution_keeps_its_size() -> None:
    """A 300 dpi PNG keeps its physical size: 3 in wide is 612 pels."""
    picture = Image.new("L", (900, 300), 0)
    page = render(encoded(picture, format="PNG", dpi=(300, 300)), Resolution.NORMAL, PageSize.LETTER)[0]
    row = [page.image.getpixel((x, 50)) for x in range(FAX_WIDTH)]
    assert row.count(0) == pytest.approx(612, abs=2)
    column = [page.image.getpixel((FAX_WIDTH // 2, y)) for y in range(page.rows)]
    assert column.count(0) == pytest.approx(98, abs=2)  # 1 in down


def test_text_pages_and_form_feed() -> None:
    """Plain text renders in lines at 6 lpi; a form feed starts a new page."""
    pages = render(b"first page\n\x0csecond page\n", Resolution.FINE, PageSize.LETTER)
    assert len(pages) == 2
    for page in pages:
        top = page.image.crop((0, 0, FAX_WIDTH, 90))  # half-inch top margin stays blank
        assert black_fraction(top) == 0
        first_line = page.image.crop((0, 98, FAX_WIDTH, 98 + 33))
        assert black_fraction(first_line) > 0.002


def test_long_text_wraps_and_paginates() -> None:
    """Lines over 80 columns wrap; more lines than fit spill onto further pages."""
    text = "\n".join(f"line {n}" for n in range(130)) + "\n" + "y" * 200
    pages = render(text.encode(), Resolution.NORMAL, PageSize.LETTER)
    assert len(pages) == 3  # 60 lines a Letter page
    (lines,) = _render._text_lines("z" * 200, 60)
    assert [len(line) for line in lines] == [80, 80, 40]


def test_text_encodings() -> None:
    """UTF-8 (with BOM) and Windows-1252 text both render."""
    for data in ("\ufeffGrüße €\n".encode(), "Gr\xfc\xdfe \x80\n".encode("latin-1")):
        page = render(data, Resolution.NORMAL, PageSize.A4)[0]
        assert black_fraction(page.image) > 0


def test_font_fallback_warns() -> None:
    """Without any monospace TrueType font, Pillow's built-in font is used with a warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        font = _render._font.__wrapped__(20, names=("NoSuchFont.ttf",), dirs=())
    assert font is not None
    assert any(issubclass(w.category, _render.FontFallbackWarning) for w in caught)


def test_several_sources_in_order(tmp_path: Path) -> None:
    """A list of sources renders all pages in order, paths and bytes mixed."""
    path = tmp_path / "note.txt"
    path.write_text("hello\n")
    pages = render([path, pdf_bytes(2), b"bye\n"], Resolution.NORMAL, PageSize.LETTER)
    assert len(pages) == 4


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    """A missing file raises DocumentError naming the path."""
    missing = tmp_path / "nope.pdf"
    with pytest.raises(DocumentError, match=r"nope\.pdf: cannot read file") as info:
        render(missing, Resolution.FINE, PageSize.LETTER)
    assert info.value.source == str(missing)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02binary\x00" * 10, "unsupported document type"),
        (b"%PDF-1.4\nnot really a pdf", "unreadable PDF"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "unreadable"),
        (b"II*\x00" + b"\xff" * 20, "unreadable"),
    ],
)
@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_bad_input_is_a_clear_error(data: bytes, reason: str) -> None:
    """Unreadable or unsupported input raises DocumentError with the reason and source."""
    with pytest.raises(DocumentError, match=reason) as info:
        render([b"ok\n", data], Resolution.FINE, PageSize.LETTER)
    assert info.value.source == "<bytes #2>"


def test_truncated_jpeg_is_an_error() -> None:
    """A JPEG cut in half raises DocumentError instead of rendering garbage."""
    data = encoded(gray_picture((400, 400)), format="JPEG")
    with pytest.raises(DocumentError, match="unreadable or truncated"):
        render(data[: len(data) // 2], Resolution.FINE, PageSize.LETTER)


@pytest.mark.parametrize(("grey", "low", "high"), [(0, 1.0, 1.0), (255, 0.0, 0.0), (128, 0.4, 0.6), (64, 0.7, 0.8)])
def test_halftone_levels(grey: int, low: float, high: float) -> None:
    """The halftone keeps black and white exact and gives greys a matching ink share."""
    page = _binarise.halftone(Image.new("L", (FAX_WIDTH, 120), grey))
    assert page.mode == "1"
    assert low <= black_fraction(page) <= high


def test_jpeg_compressed_tiff() -> None:
    """A greyscale TIFF with JPEG compression renders (libtiff's JPEG codec)."""
    data = encoded(gray_picture((320, 240)), format="TIFF", compression="jpeg", dpi=(100, 100))
    page = render(data, Resolution.NORMAL, PageSize.A4)[0]
    left = (FAX_WIDTH - round(320 * 204 / 100)) // 2
    assert page.image.getpixel((left + round(50 * 2.04), round(50 * 0.98))) == 0  # dark square
    assert 0 < black_fraction(page.image) < 0.2
