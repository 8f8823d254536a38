"""T.4 MR and T.6 MMR page coding (modem.coding), checked by libtiff's own tools."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from modem import _tiffio, coding, t4
from modem.coding import Coding
from modem.document import FaxPage, Resolution
from tests.imaging._samples import assert_same_bitmap, bitmap
from tests.peers import require_program

EOL = "000000000001"


def bits_of(data: bytes) -> str:
    return "".join(f"{b:08b}" for b in data)


@pytest.fixture(scope="module")
def image() -> Image.Image:
    return bitmap(300, seed=7)


@pytest.mark.parametrize("kind", [Coding.MH, Coding.MR, Coding.MMR])
@pytest.mark.parametrize("fine", [True, False])
def test_round_trip_is_pixel_exact(image: Image.Image, kind: Coding, fine: bool) -> None:
    data = coding.encode(image, kind, fine=fine)
    decoded = coding.decode(data, kind)
    assert decoded.size == image.size and decoded.info["t4_rows"] == image.height
    assert_same_bitmap(decoded, image)


@pytest.mark.parametrize(("fine", "k"), [(True, 4), (False, 2)])
def test_mr_lines_carry_tag_bits_with_k(image: Image.Image, fine: bool, k: int) -> None:
    """Every line starts with a byte-aligned EOL and a tag bit; every k-th line is 1-D (K = 2 / 4)."""
    data = coding.encode(image, Coding.MR, fine=fine)
    bits = bits_of(data)
    tags, at = [], bits.find(EOL)
    while at != -1 and len(tags) < 12:
        assert (at + len(EOL)) % 8 == 0
        tags.append(bits[at + len(EOL)])
        at = bits.find(EOL, at + len(EOL))
    assert tags == [("1" if i % k == 0 else "0") for i in range(12)]
    assert data.endswith(coding.RTC_MR)
    assert bits_of(coding.RTC_MR).rstrip("0") == ((EOL + "1") * 6).rstrip("0")


def test_mmr_has_no_eol_and_ends_with_eofb(image: Image.Image) -> None:
    bits = bits_of(coding.encode(image, Coding.MMR))
    assert bits.find(EOL) == bits.rstrip("0").rfind(EOL + EOL[:-1]) or bits.rstrip("0").endswith(EOL * 2)
    assert bits.find(EOL) == len(bits.rstrip("0")) - 24  # the first EOL is the EOFB at the end


def test_two_d_coding_is_smaller_for_text() -> None:
    """A page of text lines: MR and MMR need fewer bytes than MH."""
    from PIL import ImageDraw

    small = Image.new("1", (576, 550), 1)  # drawn at a third and a quarter: glyphs as tall as at 196 lpi
    draw = ImageDraw.Draw(small)
    for y in range(25, 525, 12):
        draw.text((20, y), "The quick brown fox jumps over the lazy dog 0123456789", fill=0)
    page = small.resize((1728, 2200), Image.Resampling.NEAREST)
    sizes = {kind: len(coding.encode(page, kind)) for kind in Coding}
    assert sizes[Coding.MMR] < sizes[Coding.MR] < sizes[Coding.MH]
    assert sizes[Coding.MMR] <= 0.6 * sizes[Coding.MH], sizes


def test_coded_page_holds_each_coding(image: Image.Image) -> None:
    page = coding.code_page(FaxPage(image, Resolution.FINE))
    assert page.codings == frozenset(Coding)
    assert page.data(Coding.MH) == t4.encode_page(FaxPage(image, Resolution.FINE))
    only_mh = coding.code_page(FaxPage(image, Resolution.FINE), (Coding.MH,))
    assert only_mh.codings == {Coding.MH}
    with pytest.raises(KeyError, match="MMR"):
        only_mh.data(3)


def test_lsb_first_data_decodes(image: Image.Image) -> None:
    data = t4.reverse_bits(coding.encode(image, Coding.MMR))
    assert_same_bitmap(coding.decode(data, Coding.MMR, bit_order=t4.BitOrder.LSB_FIRST), image)


def test_mmr_page_ending_in_black_rows(image: Image.Image) -> None:
    """The decoder's end-of-page mark is a black row: a page ending in black rows keeps its length."""
    tall = Image.new("1", (1728, 40), 0)
    tall.paste(image.crop((0, 0, 1728, 20)), (0, 0))
    assert_same_bitmap(coding.decode(coding.encode(tall, Coding.MMR), Coding.MMR), tall)


@pytest.mark.parametrize("kind", [Coding.MR, Coding.MMR])
def test_garbage_is_a_clear_error(kind: Coding) -> None:
    with pytest.raises(t4.T4Error):
        coding.decode(b"", kind)
    with pytest.raises(t4.T4Error, match="more than a page"):
        coding.decode(b"\xff" * (t4.MAX_PAGE_BYTES + 1), kind)


def test_mmr_page_longer_than_the_limit_is_refused() -> None:
    long_page = Image.new("1", (1728, coding.MAX_ROWS + 50), 1)
    with pytest.raises(t4.T4Error, match="longer than"):
        coding.decode(coding.encode(long_page, Coding.MMR), Coding.MMR)


def _tiff(image: Image.Image, kind: Coding) -> bytes:
    strip = coding.encode(image, kind, modem_framing=False)
    tags = _tiffio.g3_tags(_tiffio.G3Strip(strip, 1728, image.height, 204, 196))
    if kind is Coding.MR:
        tags[_tiffio.T4_OPTIONS] = 5
    elif kind is Coding.MMR:
        tags[_tiffio.COMPRESSION] = 4
        del tags[_tiffio.T4_OPTIONS]
    return _tiffio.build_tiff([(strip, tags)])


@pytest.mark.interop
def test_libtiff_tools_decode_mr_and_mmr_to_the_mh_bitmap(image: Image.Image, tmp_path: Path) -> None:
    """tiffinfo -D reads our MR and MMR strips without a complaint and tiffcp
    decompresses them to the very bitmap of the MH strip."""
    tiffinfo = require_program("tiffinfo", "libtiff-tools")
    tiffcp = require_program("tiffcp", "libtiff-tools")
    bitmaps = {}
    for kind in Coding:
        source, plain = tmp_path / f"{kind.name}.tif", tmp_path / f"{kind.name}-none.tif"
        source.write_bytes(_tiff(image, kind))
        info = subprocess.run([tiffinfo, "-D", str(source)], capture_output=True, text=True, timeout=30)
        assert info.returncode == 0 and not info.stderr.strip(), info.stderr
        assert ("CCITT Group 4" if kind is Coding.MMR else "CCITT Group 3") in info.stdout
        if kind is Coding.MR:
            assert "2-d encoding" in info.stdout
        done = subprocess.run(
            [tiffcp, "-c", "none", str(source), str(plain)], capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0 and not done.stderr.strip(), done.stderr
        with Image.open(io.BytesIO(plain.read_bytes())) as decoded:
            assert decoded.info.get("compression") == "raw"
            bitmaps[kind] = decoded.convert("1")
    assert_same_bitmap(bitmaps[Coding.MH], image)
    assert_same_bitmap(bitmaps[Coding.MR], bitmaps[Coding.MH])
    assert_same_bitmap(bitmaps[Coding.MMR], bitmaps[Coding.MH])


def test_received_mr_and_mmr_pages_are_stored_as_tiff_f(image: Image.Image, tmp_path: Path) -> None:
    """Received MR and MMR pages are decoded and stored as MH TIFF Class F pages, bit for bit."""
    from modem import tiff

    pages = [coding.encode(image, Coding.MR), coding.encode(image, Coding.MMR), coding.encode(image, Coding.MH)]
    files = tiff.received_to_files(pages, Resolution.FINE, tmp_path, "fax", codings=[1, 3, 0])
    stored = tiff.read_tiff_pages(files.tiff)
    assert len(stored) == 3
    for page in stored:
        assert_same_bitmap(page.image, image)
    with Image.open(files.tiff) as tif:
        assert tif.tag_v2[_tiffio.COMPRESSION] == 3 and tif.tag_v2[_tiffio.T4_OPTIONS] == 4  # MH, TIFF-F
    with pytest.raises(ValueError, match="codings"):
        tiff.received_to_files(pages, Resolution.FINE, tmp_path, "bad", codings=[1, 3])
