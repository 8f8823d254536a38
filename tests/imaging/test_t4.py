"""T.4 Modified Huffman framing, bit order and decoding (modem.t4)."""

from __future__ import annotations

import itertools

import pytest
from PIL import Image

from modem import t4
from modem.document import FAX_WIDTH, FaxPage, Resolution
from tests.imaging._samples import assert_same_bitmap, bitmap

EOL_BITS = "000000000001"


def bits_of(data: bytes) -> str:
    """The data as a string of '0'/'1', MSB of each byte first."""
    return "".join(f"{b:08b}" for b in data)


def eol_positions(data: bytes) -> list[int]:
    """Bit offsets of every EOL code in MSB-first data."""
    bits = bits_of(data)
    found, start = [], bits.find(EOL_BITS)
    while start != -1:
        found.append(start)
        start = bits.find(EOL_BITS, start + len(EOL_BITS))
    return found


@pytest.fixture(scope="module")
def page() -> FaxPage:
    """A 200-line fine page with varied content."""
    return FaxPage(bitmap(200), Resolution.FINE)


def test_page_starts_with_eol_and_ends_with_rtc(page: FaxPage) -> None:
    """Encoded data begins with a byte-aligned EOL and ends with six byte-aligned EOLs."""
    data = t4.encode_page(page)
    assert data.startswith(b"\x00\x01")
    assert data.endswith(b"\x00\x10\x01" * 3)
    assert t4.RTC == b"\x00\x10\x01" * 3  # six EOLs back to back, as pbm2g3 sends


def test_every_line_eol_ends_on_a_byte_boundary(page: FaxPage) -> None:
    """Each line's EOL ends at a byte boundary; RTC's six EOLs follow without fill."""
    data = t4.encode_page(page)
    positions = eol_positions(data)
    assert len(positions) == page.rows + 6
    assert all((p + len(EOL_BITS)) % 8 == 0 for p in positions[: page.rows])
    rtc = positions[page.rows :]
    assert rtc[0] % 8 == 0
    assert [b - a for a, b in itertools.pairwise(rtc)] == [len(EOL_BITS)] * 5


def test_round_trip_is_pixel_exact(page: FaxPage) -> None:
    """Decoding our page data gives back the very same bitmap."""
    decoded = t4.decode_page(t4.encode_page(page))
    assert decoded.mode == "1"
    assert decoded.size == page.image.size
    assert_same_bitmap(decoded, page.image)
    assert decoded.info["t4_rows"] == page.rows


def test_lsb_first_is_the_bit_reversal(page: FaxPage) -> None:
    """LSB-first output is the MSB-first output with every byte's bits reversed."""
    msb = t4.encode_page(page)
    lsb = t4.encode_page(page, t4.BitOrder.LSB_FIRST)
    assert lsb == t4.reverse_bits(msb)
    assert lsb.endswith(b"\x00\x08\x80" * 3)  # HylaFAX RTC1D, wire order
    decoded = t4.decode_page(lsb, bit_order=t4.BitOrder.LSB_FIRST)
    assert_same_bitmap(decoded, page.image)


def test_reverse_bits_table() -> None:
    """reverse_bits mirrors each byte and is its own inverse."""
    assert t4.reverse_bits(b"\x01\x80\x0f\xa5") == b"\x80\x01\xf0\xa5"
    every = bytes(range(256))
    assert t4.reverse_bits(t4.reverse_bits(every)) == every


def test_bit_order_fill_order_values() -> None:
    """BitOrder maps to the TIFF FillOrder values 1 and 2."""
    assert t4.BitOrder.MSB_FIRST.fill_order == 1
    assert t4.BitOrder.LSB_FIRST.fill_order == 2


def test_decode_ignores_garbage_after_rtc(page: FaxPage) -> None:
    """Bytes after RTC (a modem's trailing noise) do not become lines."""
    data = t4.encode_page(page) + b"\xff\x13\x00\x01garbage\x00"
    decoded = t4.decode_page(data)
    assert decoded.height == page.rows
    assert_same_bitmap(decoded, page.image)


def test_decode_without_rtc(page: FaxPage) -> None:
    """Page data that stops without RTC (a TIFF-F strip) decodes all its lines."""
    strip = t4.encode_strip(page.image)
    assert not strip.endswith(t4.RTC)
    assert_same_bitmap(t4.decode_page(strip), page.image)
    assert t4.count_lines(strip) == page.rows


def test_decode_with_one_trailing_eol(page: FaxPage) -> None:
    """A single EOL after the last line ends the page without adding a line."""
    decoded = t4.decode_page(t4.encode_strip(page.image) + t4.EOL)
    assert decoded.height == page.rows


def test_count_lines_both_bit_orders(page: FaxPage) -> None:
    """count_lines reports the coded lines before RTC in either bit order."""
    assert t4.count_lines(t4.encode_page(page)) == page.rows
    lsb = t4.encode_page(page, t4.BitOrder.LSB_FIRST)
    assert t4.count_lines(lsb, t4.BitOrder.LSB_FIRST) == page.rows


def test_unaligned_eols_decode() -> None:
    """Data whose EOLs are not byte-aligned (no fill bits) still decodes."""
    # Two all-white lines, MSB first, no fill: EOL 010011011 00110101 EOL ... RTC.
    white = "010011011" + "00110101"
    bits = EOL_BITS + white + EOL_BITS + white + EOL_BITS * 6
    bits += "0" * (-len(bits) % 8)
    data = int(bits, 2).to_bytes(len(bits) // 8, "big")
    decoded = t4.decode_page(data)
    assert decoded.size == (FAX_WIDTH, 2)
    assert decoded.convert("L").getextrema() == (255, 255)


def test_all_white_and_all_black_lines() -> None:
    """Lines of a single 1728-pel run (make-up code 1728) round-trip."""
    image = Image.new("1", (FAX_WIDTH, 4), 1)
    image.paste(0, (0, 1, FAX_WIDTH, 3))
    data = t4.encode_page(FaxPage(image, Resolution.NORMAL))
    assert_same_bitmap(t4.decode_page(data), image)


def test_decode_rejects_data_without_lines() -> None:
    """Data with no coded line at all is a T4Error that says so."""
    with pytest.raises(t4.T4Error, match="no coded lines"):
        t4.decode_page(b"\x00" * 10 + t4.RTC)
    with pytest.raises(t4.T4Error, match="no coded lines"):
        t4.decode_page(b"")


def test_decode_survives_a_corrupt_line(page: FaxPage) -> None:
    """A line with invalid codes is lost alone: later lines decode intact."""
    data = bytearray(t4.encode_page(page))
    eols = [p // 8 for p in eol_positions(bytes(data))]
    damaged = 20  # overwrite the middle of line 20 with invalid codes
    middle = (eols[damaged] + eols[damaged + 1]) // 2
    data[middle : middle + 3] = b"\xff\x00\xff"
    decoded = t4.decode_page(bytes(data))
    assert decoded.height == page.rows
    below = (0, damaged + 1, FAX_WIDTH, page.rows)
    assert_same_bitmap(decoded.crop(below), page.image.crop(below))


def test_encode_strip_rejects_other_modes() -> None:
    """Only mode "1" images are encoded; others raise a clear T4Error."""
    with pytest.raises(t4.T4Error, match="mode '1'"):
        t4.encode_strip(Image.new("L", (FAX_WIDTH, 2), 255))


def test_decode_refuses_oversized_data() -> None:
    """More data than any page can hold is refused before decoding."""
    with pytest.raises(t4.T4Error, match="more than a page can hold"):
        t4.decode_page(t4.EOL * (t4.MAX_PAGE_BYTES // 2 + 1))
