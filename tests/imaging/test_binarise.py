"""Page images: text thresholded and pictures halftoned, a greyscale scan's text kept,
landscape PDF pages turned and pages centred as ghostscript's tiffg3 does them."""

from __future__ import annotations

import io
import random
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from modem import _binarise
from modem.document import FAX_WIDTH, PageSize, Resolution, render
from tests.imaging._samples import black_fraction
from tests.peers import require_program

ROWS = PageSize.LETTER.rows(Resolution.FINE)


def text_sheet(paper: int, ink: int, noise: int = 0, seed: int = 1) -> Image.Image:
    """A page of text lines (glyphs scaled up 3x, as a 200 dpi scan has them)."""
    rng = random.Random(seed)
    small = Image.new("L", (FAX_WIDTH // 3, ROWS // 3), paper)
    draw = ImageDraw.Draw(small)
    for y in range(30, small.height - 40, 16):
        draw.text(
            (30, y),
            " ".join(rng.choice(("invoice", "total", "fax", "page", "amount", "due")) for _ in range(9)),
            fill=ink,
        )
    page = small.resize((FAX_WIDTH, ROWS), Image.Resampling.BILINEAR)  # soft edges, like a scanner's
    if noise:
        grain = Image.effect_noise(page.size, noise)  # mean 128
        page = ImageChops.add(page, grain, 1.0, -128)
    return page


def differing(a: Image.Image, b: Image.Image) -> int:
    return ImageChops.logical_xor(a.convert("1"), b.convert("1")).convert("L").histogram()[255]


def differing_off_edges(a: Image.Image, reference: Image.Image) -> int:
    """Pels that differ from ``reference`` other than on the edge of its strokes (one pel either side)."""
    ref = reference.convert("L")
    edges = ImageChops.difference(ref.filter(ImageFilter.MaxFilter(3)), ref.filter(ImageFilter.MinFilter(3)))
    diff = ImageChops.difference(a.convert("L"), ref)
    return ImageChops.subtract(diff, edges).histogram()[255]


def test_greyscale_scan_keeps_its_text() -> None:
    """A scan on grey paper with grain binarises to (nearly) the bitmap of the same text
    printed black on white; halftoning the whole scan, as before, does not."""
    reference = _binarise.binarise(text_sheet(paper=255, ink=0))
    scan = text_sheet(paper=185, ink=45, noise=12)
    ours = _binarise.binarise(scan)
    ink = reference.convert("L").histogram()[0]
    assert ink > 20_000
    # the same strokes: differences only on stroke edges (a pel's width), and few of those
    assert differing_off_edges(ours, reference) <= 0.02 * ink, (differing_off_edges(ours, reference), ink)
    assert 0.7 < black_fraction(ours) / black_fraction(reference) < 1.3
    assert differing_off_edges(_binarise.halftone(scan), reference) > 5 * ink  # the old way: a dot field


def test_text_is_thresholded_and_pictures_halftoned() -> None:
    """Anti-aliased text comes out as a clean threshold; a grey box as a screen (about half ink)."""
    page = text_sheet(paper=255, ink=0)
    ImageDraw.Draw(page).rectangle((400, 1200, 1200, 1800), fill=128)
    out = _binarise.binarise(page)
    text_area = (0, 0, FAX_WIDTH, 1100)
    assert differing(out.crop(text_area), page.crop(text_area).convert("1", dither=Image.Dither.NONE)) == 0
    box = out.crop((450, 1250, 1150, 1750))
    assert 0.35 < black_fraction(box) < 0.65
    assert _binarise.binarise(Image.new("L", (FAX_WIDTH, 64), 255)).convert("L").getextrema() == (255, 255)


def _ps_pdf(tmp_path: Path, name: str, size: tuple[int, int], body: str) -> Path:
    gs = require_program("gs", "ghostscript")
    ps, pdf = tmp_path / f"{name}.ps", tmp_path / f"{name}.pdf"
    ps.write_text(f"%!PS\n<< /PageSize [{size[0]} {size[1]}] >> setpagedevice\n{body}\nshowpage\n")
    subprocess.run(
        [gs, "-q", "-dSAFER", "-dNOPAUSE", "-dBATCH", "-sDEVICE=pdfwrite", f"-sOutputFile={pdf}", str(ps)],
        check=True,
        timeout=60,
    )
    return pdf


def _gs_page(pdf: Path, rows: int, tmp_path: Path) -> Image.Image:
    gs = require_program("gs", "ghostscript")
    out = tmp_path / "gs.tif"
    subprocess.run(
        [
            gs,
            "-q",
            "-dSAFER",
            "-dNOPAUSE",
            "-dBATCH",
            "-sDEVICE=tiffg3",
            "-r204x196",
            f"-g{FAX_WIDTH}x{rows}",
            "-dPDFFitPage",
            f"-sOutputFile={out}",
            str(pdf),
        ],
        check=True,
        timeout=60,
    )
    with Image.open(io.BytesIO(out.read_bytes())) as image:
        return image.convert("1")


def _ink_box(image: Image.Image) -> tuple[int, int, int, int]:
    box = ImageChops.invert(image.convert("L")).getbbox()
    assert box is not None
    return box


MARK = "0 setgray 20 532 60 60 rectfill /Helvetica findfont 40 scalefont setfont 200 300 moveto (LANDSCAPE) show"


@pytest.mark.interop
def test_landscape_page_is_turned_like_ghostscript(tmp_path: Path) -> None:
    """A landscape Letter page fills the portrait fax page, turned as gs -dPDFFitPage turns it."""
    pdf = _ps_pdf(tmp_path, "landscape", (792, 612), MARK)
    ours = render(pdf.read_bytes(), Resolution.FINE, PageSize.LETTER)[0].image
    theirs = _gs_page(pdf, ROWS, tmp_path)
    ours_box, gs_box = _ink_box(ours), _ink_box(theirs)
    assert all(abs(a - b) <= 8 for a, b in zip(ours_box, gs_box)), (ours_box, gs_box)
    assert ours_box[3] > ROWS * 0.9  # the corner mark is near the bottom: the page was turned, not shrunk
    assert differing(ours, theirs) < 0.1 * (1 - black_fraction(theirs)) * FAX_WIDTH * ROWS


@pytest.mark.interop
def test_letter_document_on_a4_is_centred_like_ghostscript(tmp_path: Path) -> None:
    """A Letter page on A4 paper: centred down the page, as ghostscript places it."""
    pdf = _ps_pdf(tmp_path, "letter", (612, 792), "0 setgray 0 0 612 20 rectfill 0 772 612 20 rectfill")
    rows = PageSize.A4.rows(Resolution.FINE)
    ours = render(pdf.read_bytes(), Resolution.FINE, PageSize.A4)[0].image
    top, bottom = _ink_box(ours)[1], rows - _ink_box(ours)[3]
    assert top > 50 and abs(top - bottom) <= 2, (top, bottom)
    gs_box = _ink_box(_gs_page(pdf, rows, tmp_path))
    assert abs(_ink_box(ours)[1] - gs_box[1]) <= 6 and abs(_ink_box(ours)[3] - gs_box[3]) <= 6, (_ink_box(ours), gs_box)


def test_text_page_has_no_picture_blocks() -> None:
    """An anti-aliased text page is thresholded only: no block counts as a picture."""
    blocks = _binarise.picture_blocks(text_sheet(paper=255, ink=0))
    assert blocks.size == (-(-FAX_WIDTH // _binarise.BLOCK), -(-ROWS // _binarise.BLOCK))
    assert blocks.getextrema()[1] == 0


def test_full_page_photo_is_halftoned_not_flattened() -> None:
    """A photo filling the page (its brightest parts vary) is screened, not taken for grey paper."""
    photo = Image.linear_gradient("L").resize((FAX_WIDTH, ROWS))
    photo = ImageChops.add(photo, Image.effect_noise(photo.size, 6), 1.0, -128)
    out = _binarise.binarise(photo)
    middle = out.crop((0, ROWS * 2 // 5, FAX_WIDTH, ROWS * 3 // 5))  # grey about 128
    assert 0.35 < black_fraction(middle) < 0.65
    assert black_fraction(out.crop((0, 0, FAX_WIDTH, ROWS // 10))) > 0.85  # the dark end stays dark


@pytest.mark.interop
def test_text_and_grey_box_match_ghostscript_side_by_side(tmp_path: Path) -> None:
    """A text page with a grey box: our strokes are ghostscript's (differences only on stroke
    edges), the box is screened to about the same ink share, the page sits in the same place."""
    body = (
        "/Times-Roman findfont 12 scalefont setfont\n"
        + "\n".join(
            f"60 {y} moveto (Line {y}: The quick brown fox jumps over the lazy dog 0123456789) show"
            for y in range(720, 80, -16)
        )
        + "\n0.5 setgray 100 100 200 150 rectfill"
    )
    pdf = _ps_pdf(tmp_path, "text", (612, 792), body)
    ours = render(pdf.read_bytes(), Resolution.FINE, PageSize.LETTER)[0].image
    theirs = _gs_page(pdf, ROWS, tmp_path)
    ink = theirs.convert("L").histogram()[0]
    assert differing_off_edges(ours, theirs) <= 0.01 * ink, (differing_off_edges(ours, theirs), ink)
    assert all(abs(a - b) <= 2 for a, b in zip(_ink_box(ours), _ink_box(theirs)))
    box = (
        int(100 / 612 * FAX_WIDTH) + 10,
        ROWS - int(250 / 792 * ROWS) + 10,
        int(300 / 612 * FAX_WIDTH) - 10,
        ROWS - int(100 / 792 * ROWS) - 10,
    )
    assert abs(black_fraction(ours.crop(box)) - black_fraction(theirs.crop(box))) < 0.1
    assert 0.35 < black_fraction(ours.crop(box)) < 0.65
