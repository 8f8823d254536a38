"""T.4 one-dimensional (Modified Huffman) page data for Class 2 / 2.0 modems.

The Huffman coding itself is libtiff's CCITT Group 3 codec, reached through
Pillow; this module adds the framing a modem wants (spec fax-modem-at.md §12):

* an EOL at the start of every line, with fill bits so that every EOL ends on
  a byte boundary (TIFF T4Options bit 2, ``+FEA``/``+FREL`` style);
* RTC, six EOLs back to back, at the end of the page.  T.4 allows fill only
  between a line and its EOL, so only the first EOL of RTC has fill before
  it; RTC starts on a byte boundary and is, MSB first, ``00 10 01`` three
  times (:data:`RTC`), the bytes pbm2g3 and HylaFAX (``RTC1D``, reversed)
  send.  (libtiff's fax2tiff keeps RTC's empty lines as extra rows, for
  pbm2g3 data too; :func:`decode_page` stops at RTC.)

Bit order.  :func:`encode_page` returns bytes **MSB first** (the first bit of
the T.4 stream is the most significant bit of the first byte): TIFF FillOrder
1, the order of pbm2g3/g3topbm and efax files.  The serial line to a modem in
direct order (``+FBO=0``/``+FBOR=0``) carries the LSB of each byte first
(FillOrder 2, :attr:`BitOrder.LSB_FIRST`); use ``bit_order=`` or
:func:`reverse_bits` to convert.

Every function here is blocking CPU work (a page takes tens of milliseconds);
callers in the reactor thread run them with ``deferToThread`` or a pool.
"""

from __future__ import annotations

import enum
import functools
import io
import re
from typing import TYPE_CHECKING

from PIL import Image, ImageChops, TiffImagePlugin

from modem import _tiffio

if TYPE_CHECKING:
    from modem.document import FaxPage

__all__ = [
    "EOL",
    "MAX_PAGE_BYTES",
    "RTC",
    "BitOrder",
    "T4Error",
    "count_lines",
    "decode_page",
    "encode_page",
    "encode_strip",
    "libtiff_decode",
    "reverse_bits",
]

EOL = b"\x00\x01"  # byte-aligned EOL, MSB first (4 fill bits + 000000000001)
RTC = b"\x00\x10\x01" * 3  # return to control: six EOLs back to back, MSB first

_STRIP_SIZE = 16384
# An A4 fine page of the worst MH case (alternating pels) is 2.2 MB.
MAX_PAGE_BYTES = 8 * 1024 * 1024
_REVERSE = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))
_BITS = [f"{i:08b}" for i in range(256)]
_EOL_BITS = "0" * 11 + "1"
# An EOL followed by nothing but fill bits and another EOL: the start of RTC.
_RTC_START = re.compile("000000000001(?=0*000000000001)")


class BitOrder(enum.Enum):
    """Order of bits within each byte of T.4 data."""

    MSB_FIRST = 1  # TIFF FillOrder 1; files (pbm2g3, efax); +FBO=1 "reversed"
    LSB_FIRST = 2  # TIFF FillOrder 2; the serial wire in direct order, +FBO=0

    @property
    def fill_order(self) -> int:
        """The TIFF FillOrder tag value for this order."""
        return self.value


class T4Error(ValueError):
    """T.4 data that cannot be decoded, or a page that cannot be encoded."""


def reverse_bits(data: bytes) -> bytes:
    """``data`` with the bit order of every byte reversed (MSB first <-> LSB first)."""
    return data.translate(_REVERSE)


@functools.lru_cache(maxsize=8)
def _white(size: tuple[int, int]) -> Image.Image:
    return Image.new("1", size, 255)


def encode_strip(image: Image.Image) -> bytes:
    """T.4 1-D data for a mode "1" image: MSB first, byte-aligned EOLs, no RTC.

    This is the strip a TIFF Class F file stores (T4Options = 4).
    """
    if image.mode != "1":
        raise T4Error(f"T.4 encoding needs a mode '1' image, got mode {image.mode!r}")
    width, height = image.size
    if width < 1 or height < 1:
        raise T4Error(f"cannot encode an empty image of {width}x{height} pels")
    # Pillow hands libtiff the raw bits and tags them min-is-black; libtiff
    # codes 0 bits as white, so give it black = 1 bits.  (Pillow "1" images
    # hold white as any non-zero byte; the logical XOR treats them so.)
    inverted = ImageChops.logical_xor(image, _white(image.size))
    buffer = io.BytesIO()
    inverted.save(
        buffer,
        format="TIFF",
        compression="group3",
        tiffinfo={_tiffio.T4_OPTIONS: _tiffio.T4_OPTION_FILL_BITS},
        # Many small strips encode twice as fast as one (Pillow's in-memory
        # writer); each strip ends on a byte boundary and starts with an EOL,
        # so joined they form one valid page.
        strip_size=_STRIP_SIZE,
    )
    raw = buffer.getvalue()
    with TiffImagePlugin.TiffImageFile(io.BytesIO(raw)) as tiff:
        offsets = tiff.tag_v2[_tiffio.STRIP_OFFSETS]
        counts = tiff.tag_v2[_tiffio.STRIP_BYTE_COUNTS]
    return b"".join(raw[o : o + n] for o, n in zip(offsets, counts, strict=True))


def encode_page(page: FaxPage, bit_order: BitOrder = BitOrder.MSB_FIRST) -> bytes:
    """T.4 1-D page data as a Class 2/2.0 modem takes it after ``+FDT``/CONNECT.

    EOL before every line, each ending on a byte boundary; RTC at the end.  MSB first unless
    ``bit_order`` says otherwise (for ``+FBO=0`` direct order pass
    ``BitOrder.LSB_FIRST``).  DLE doubling is the driver's job.
    """
    data = encode_strip(page.image) + RTC
    if bit_order is BitOrder.LSB_FIRST:
        return reverse_bits(data)
    return data


def _bit_string(data: bytes) -> str:
    return "".join([_BITS[b] for b in data])


def count_lines(data: bytes, bit_order: BitOrder = BitOrder.MSB_FIRST) -> int:
    """Number of coded lines before RTC (or before the end of the data).

    A line is counted for every EOL that is followed by more coded data; the
    first of two EOLs in a row starts RTC, and everything after it is ignored.
    """
    if bit_order is BitOrder.LSB_FIRST:
        data = reverse_bits(data)
    return _scan(_bit_string(data))[0]


def _scan(bits: str) -> tuple[int, int]:
    """(number of coded lines, bit position where the page data ends)."""
    rtc = _RTC_START.search(bits)
    end = rtc.start() if rtc else len(bits)
    # Every coded line holds a 1 bit; fill and EOLs alone do not.
    rows = sum(1 for segment in bits[:end].split(_EOL_BITS) if "1" in segment)
    return rows, end


def decode_page(
    data: bytes,
    width: int = 1728,
    bit_order: BitOrder = BitOrder.MSB_FIRST,
) -> Image.Image:
    """Decode T.4 1-D page data into a mode "1" image (white = 1).

    The data may or may not be byte-aligned, may end with RTC and may carry
    trailing garbage after RTC.  The image height is the number of lines
    decoded; it is also in ``image.info["t4_rows"]``.  Raises :class:`T4Error`
    when there are no lines or libtiff cannot decode them.
    """
    if len(data) > MAX_PAGE_BYTES:
        raise T4Error(f"{len(data)} bytes of T.4 data is more than a page can hold ({MAX_PAGE_BYTES})")
    if bit_order is BitOrder.LSB_FIRST:
        data = reverse_bits(data)
    rows, end_bit = _scan(_bit_string(data))
    if rows == 0:
        raise T4Error(f"no coded lines in {len(data)} bytes of T.4 data")
    # Cut at the byte holding the start of RTC; the zeros kept after it are fill.
    page_data = data[: (end_bit + 7) // 8]
    tags = _tiffio.g3_tags(_tiffio.G3Strip(page_data, width, rows, 204, 196))
    tags[_tiffio.T4_OPTIONS] = 0  # EOLs need not be aligned
    return libtiff_decode(page_data, tags, rows, "T.4")


def libtiff_decode(page: bytes, tags: dict[int, object], rows: int, name: str) -> Image.Image:
    """Decode one coded page (MH, MR or MMR, as ``tags`` say) with libtiff; ``info["t4_rows"]`` = ``rows``."""
    tiff = _tiffio.build_tiff([(page, tags)])
    try:
        with Image.open(io.BytesIO(tiff)) as image:
            image.load()
            decoded = image.convert("1") if image.mode != "1" else image.copy()
    except (OSError, ValueError) as exc:
        raise T4Error(f"libtiff could not decode {rows} lines of {name} data: {exc}") from exc
    decoded.info = {"t4_rows": rows}
    return decoded
