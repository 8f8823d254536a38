"""Real tools check our imaging: netpbm g3topbm/pbmtog3, mgetty pbm2g3, libtiff, ghostscript."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from modem import t4, tiff
from modem.document import FAX_WIDTH, FaxPage, PageSize, Resolution, render
from tests.imaging._samples import assert_same_bitmap, bitmap
from tests.peers import require_program

pytestmark = pytest.mark.interop

TIMEOUT = 60


def run(argv: list[str], data: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """Run a peer program with a timeout; fail with its stderr when it fails."""
    done = subprocess.run(argv, input=data, capture_output=True, timeout=TIMEOUT, check=False)
    assert done.returncode == 0, f"{argv[0]} exited {done.returncode}: {done.stderr.decode(errors='replace')}"
    return done


def pbm(image: Image.Image) -> bytes:
    """A mode "1" image as a raw PBM (P4) file."""
    buffer = io.BytesIO()
    image.save(buffer, format="PPM")
    assert buffer.getvalue().startswith(b"P4")
    return buffer.getvalue()


def from_pbm(data: bytes) -> Image.Image:
    """A PBM file as a mode "1" image."""
    return Image.open(io.BytesIO(data)).convert("1")


@pytest.fixture(scope="module")
def page() -> FaxPage:
    """A 300-line normal page with varied content."""
    return FaxPage(bitmap(300, seed=7), Resolution.NORMAL)


def test_g3topbm_decodes_our_page_data(page: FaxPage) -> None:
    """netpbm g3topbm turns our MSB-first T.4 data into the same bitmap, without complaint."""
    g3topbm = require_program("g3topbm", "netpbm")
    done = run([g3topbm, "-stop_error"], t4.encode_page(page))
    assert_same_bitmap(from_pbm(done.stdout), page.image)


def test_g3topbm_reversebits_decodes_our_wire_order(page: FaxPage) -> None:
    """g3topbm -reversebits reads our LSB-first (modem wire order) data to the same bitmap."""
    g3topbm = require_program("g3topbm", "netpbm")
    done = run([g3topbm, "-reversebits", "-stop_error"], t4.encode_page(page, t4.BitOrder.LSB_FIRST))
    assert_same_bitmap(from_pbm(done.stdout), page.image)


@pytest.mark.parametrize("options", [[], ["-align8"], ["-align16"]])
def test_we_decode_pbmtog3_output(page: FaxPage, options: list[str]) -> None:
    """decode_page reads netpbm pbmtog3 output (unaligned and aligned EOLs) to the same bitmap."""
    pbmtog3 = require_program("pbmtog3", "netpbm")
    data = run([pbmtog3, *options], pbm(page.image)).stdout
    assert_same_bitmap(t4.decode_page(data), page.image)


def test_we_decode_pbmtog3_reversed_bits(page: FaxPage) -> None:
    """decode_page with LSB_FIRST reads pbmtog3 -reversebits output."""
    pbmtog3 = require_program("pbmtog3", "netpbm")
    data = run([pbmtog3, "-reversebits"], pbm(page.image)).stdout
    decoded = t4.decode_page(data, bit_order=t4.BitOrder.LSB_FIRST)
    assert_same_bitmap(decoded, page.image)


def test_we_decode_mgetty_pbm2g3_output(page: FaxPage, tmp_path: Path) -> None:
    """decode_page reads the raw G3 that mgetty's pbm2g3 sends (RTC included)."""
    pbm2g3 = require_program("pbm2g3", "mgetty-fax")
    source = tmp_path / "page.pbm"
    source.write_bytes(pbm(page.image))
    data = run([pbm2g3, str(source)]).stdout
    assert_same_bitmap(t4.decode_page(data), page.image)


def test_tiffinfo_accepts_our_tiff_f(page: FaxPage, tmp_path: Path) -> None:
    """libtiff tiffinfo reads every page of our TIFF-F and reports the Class F tags."""
    tiffinfo = require_program("tiffinfo", "libtiff-tools")
    fine = FaxPage(bitmap(120, seed=3), Resolution.FINE)
    path = tmp_path / "fax.tif"
    tiff.write_tiff_f([page, fine], path)
    done = run([tiffinfo, "-D", str(path)])
    report = done.stdout.decode()
    assert not done.stderr, done.stderr
    directories = report.split("=== TIFF directory")[1:]
    assert len(directories) == 2
    for number, (text, lpi, rows) in enumerate(zip(directories, (98, 196), (300, 120), strict=True)):
        assert "Compression Scheme: CCITT Group 3" in text
        assert f"Image Width: {FAX_WIDTH} Image Length: {rows}" in text
        assert f"Resolution: 204, {lpi} pixels/inch" in text
        assert "Photometric Interpretation: min-is-white" in text
        assert "FillOrder: msb-to-lsb" in text
        assert "EOL padding" in text
        assert f"Page Number: {number}-2" in text
        assert "multi-page document" in text


def test_tiffcp_round_trip(page: FaxPage, tmp_path: Path) -> None:
    """tiffcp re-encodes our TIFF-F as Group 4, and we read the same bitmap back."""
    tiffcp = require_program("tiffcp", "libtiff-tools")
    ours, copy = tmp_path / "ours.tif", tmp_path / "g4.tif"
    tiff.write_tiff_f([page], ours)
    run([tiffcp, "-c", "g4", str(ours), str(copy)])
    back = tiff.read_tiff_pages(copy)
    assert [p.resolution for p in back] == [Resolution.NORMAL]
    assert_same_bitmap(back[0].image, page.image)


def test_fax2tiff_of_our_page_data(page: FaxPage, tmp_path: Path) -> None:
    """libtiff fax2tiff decodes our raw page data to our bitmap, with no bad rows."""
    fax2tiff = require_program("fax2tiff", "libtiff-tools")
    raw, out = tmp_path / "page.g3", tmp_path / "page.tif"
    raw.write_bytes(t4.encode_page(page))
    done = run([fax2tiff, "-v", "-M", "-o", str(out), str(raw)])
    assert b"\n0 total bad rows" in done.stderr
    image = tiff.read_tiff_pages(out)[0].image
    # fax2tiff keeps the empty lines between RTC's EOLs (it does so for pbm2g3 too).
    assert page.rows <= image.height <= page.rows + 6
    assert_same_bitmap(image.crop((0, 0, FAX_WIDTH, page.rows)), page.image)


def test_ghostscript_tiffg3_pages_render(tmp_path: Path) -> None:
    """A TIFF-G3 file from ghostscript renders to fax pages with its content in place."""
    gs = require_program("gs", "ghostscript")
    postscript = tmp_path / "in.ps"
    postscript.write_text("%!PS\n0 0 moveto 612 0 rlineto 0 396 rlineto -612 0 rlineto fill showpage\n")
    out = tmp_path / "out.tif"
    run(
        [
            gs,
            "-q",
            "-dSAFER",
            "-dNOPAUSE",
            "-dBATCH",
            "-sDEVICE=tiffg3",
            "-r204x196",
            "-g1728x2156",
            f"-sOutputFile={out}",
            str(postscript),
        ]
    )
    pages = render(out, Resolution.FINE, PageSize.LETTER)
    assert len(pages) == 1
    image = pages[0].image
    assert image.size == (FAX_WIDTH, 2156)
    assert image.getpixel((864, 2100)) == 0  # bottom half black
    assert image.getpixel((864, 50)) == 255  # top half white


def test_g3topbm_reads_every_rendered_page_type(tmp_path: Path) -> None:
    """Pages rendered from text come out of g3topbm identical (full-size page check)."""
    g3topbm = require_program("g3topbm", "netpbm")
    pages = render(b"Line one\nLine two\n", Resolution.FINE, PageSize.A4)
    done = run([g3topbm, "-stop_error"], t4.encode_page(pages[0]))
    decoded = from_pbm(done.stdout)
    assert decoded.size == (FAX_WIDTH, 2287)
    assert_same_bitmap(decoded, pages[0].image)
    assert re.match(rb"P4\s", done.stdout)
