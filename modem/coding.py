"""Two-dimensional page coding: T.4 MR (2-D) and T.6 MMR, through libtiff.

The coding itself is libtiff's CCITT codec, given bits packed by numpy
(:mod:`modem._libtiff`, :mod:`modem._fastbits`), or reached through Pillow
when numpy or the system's libtiff cannot be loaded (as for 1-D MH in
:mod:`modem.t4`): the same data either way.  This module adds what a fax
modem wants:

* **MR** (``df=1``): every line starts with a byte-aligned EOL followed by
  its tag bit (1: the line is 1-D coded, 0: 2-D); libtiff picks K from the
  vertical resolution (K = 2 at 98 lpi, 4 at 196 lpi, T.4 §4.2.1).  The page
  ends with RTC = six times EOL+1 (:data:`RTC_MR`).
* **MMR** (``df=3``): T.6 data, no EOLs, ended by EOFB (two EOLs); T.30
  sends MMR only with error correction (ECM).

Data are MSB first, as :func:`modem.t4.encode_page`.  :class:`CodedPage`
carries one page in every coding the sender may need, so that the format
can be chosen after negotiation without encoding in the call.

Decoding builds a one-strip TIFF around the data and lets libtiff decode it.
An MR page's line count is its EOL count; an MMR page has no line marks, so
it is decoded once into a tall image with one horizontal-mode black row
appended after the data: the page ends just before that row.

Blocking CPU work (tens of milliseconds a page): call from a worker or thread.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

from PIL import Image, ImageChops, TiffImagePlugin

from modem import _fastbits, _libtiff, _tiffio
from modem.pagedata import CodedPage, Coding
from modem.t4 import (
    MAX_PAGE_BYTES,
    RTC,
    BitOrder,
    T4Error,
    _white,
    decode_page,
    encode_strip,
    libtiff_decode,
    reverse_bits,
)

if TYPE_CHECKING:
    from modem.document import FaxPage

__all__ = [
    "MAX_ROWS",
    "RTC_MR",
    "CodedPage",
    "Coding",
    "code_page",
    "decode",
    "encode",
]

MAX_ROWS = 8192  # lines a received page may have (A4 fine is 2,339; a long page 6,500)


def _pack(bits: str) -> bytes:
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""


_EOL = "000000000001"
RTC_MR = _pack((_EOL + "1") * 6)  # six EOL+1, starting on a byte boundary
EOFB = _EOL * 2
# A black row coded in horizontal mode (independent of the reference line):
# H, white run 0, black run 1728 (make-up 1728 + terminating 0).
_BLACK_ROW_1728 = "001" + "00110101" + "0000001100101" + "0000110111"
_BITS = [f"{i:08b}" for i in range(256)]
_MR_RTC_START = re.compile(_EOL + "[01](?=0*" + _EOL + ")")


def _bit_string(data: bytes) -> str:
    return "".join([_BITS[b] for b in data])


def _encode_tiff(image: Image.Image, coding: Coding, y_dpi: int) -> bytes:
    if image.mode != "1":
        raise T4Error(f"page coding needs a mode '1' image, got mode {image.mode!r}")
    width, height = image.size
    if width < 1 or height < 1:
        raise T4Error(f"cannot encode an empty image of {width}x{height} pels")
    inverted = ImageChops.logical_xor(image, _white(image.size))  # black = 1 bits (libtiff's min-is-black)
    buffer = io.BytesIO()
    if coding is Coding.MR:
        # several strips are fine for MR: each starts with a 1-D line after its EOL
        inverted.save(
            buffer,
            format="TIFF",
            compression="group3",
            dpi=(204, y_dpi),
            tiffinfo={_tiffio.T4_OPTIONS: 1 | _tiffio.T4_OPTION_FILL_BITS},
            strip_size=16384,
        )
    else:  # MMR: one strip, one EOFB
        inverted.save(buffer, format="TIFF", compression="group4", dpi=(204, y_dpi), strip_size=1 << 26)
    raw = buffer.getvalue()
    with TiffImagePlugin.TiffImageFile(io.BytesIO(raw)) as tiff:
        offsets = tiff.tag_v2[_tiffio.STRIP_OFFSETS]
        counts = tiff.tag_v2[_tiffio.STRIP_BYTE_COUNTS]
    return b"".join(raw[o : o + n] for o, n in zip(offsets, counts, strict=True))


_STRIP_BYTES = 16384  # MH and MR strips as Pillow writes them (MMR: one strip)
_T4_OPTIONS = {Coding.MH: _tiffio.T4_OPTION_FILL_BITS, Coding.MR: 1 | _tiffio.T4_OPTION_FILL_BITS, Coding.MMR: 0}


def _encode_bits(image: Image.Image, coding: Coding, y_dpi: int, bits: bytes) -> bytes:
    """libtiff on ``bits``, ``image`` packed by numpy: the same data as the Pillow path, in half the time."""
    if image.mode != "1":
        raise T4Error(f"page coding needs a mode '1' image, got mode {image.mode!r}")
    width, height = image.size
    if width < 1 or height < 1:
        raise T4Error(f"cannot encode an empty image of {width}x{height} pels")
    rows = height if coding is Coding.MMR else max(1, min(height, _STRIP_BYTES // ((width + 7) // 8)))
    return _libtiff.encode(
        bits,
        width,
        height,
        compression=4 if coding is Coding.MMR else 3,
        t4_options=_T4_OPTIONS[coding],
        y_dpi=y_dpi,
        rows_per_strip=rows,
    )


def encode(
    image: Image.Image, coding: Coding, *, fine: bool = True, modem_framing: bool = True, bits: bytes | None = None
) -> bytes:
    """Page data of a mode "1" image in ``coding``, MSB first.

    ``modem_framing`` adds what a modem sends after the data: RTC for MH and
    MR (MMR's EOFB is part of the data).  Without it the result is a TIFF
    strip (Compression 3 with T4Options 4 or 5, or Compression 4).  ``bits``:
    the image already packed by :func:`modem._fastbits.pack` (saves packing it
    again for each coding).
    """
    y_dpi = 196 if fine else 98
    if bits is None and _libtiff.AVAILABLE and image.mode == "1":
        bits = _fastbits.pack(image)
    if bits is not None and _libtiff.AVAILABLE:
        data = _encode_bits(image, coding, y_dpi, bits)
    elif coding is Coding.MH:
        data = encode_strip(image)
    else:
        data = _encode_tiff(image, coding, y_dpi)
    if coding is Coding.MH:
        return data + RTC if modem_framing else data
    if coding is Coding.MR and modem_framing:
        data += RTC_MR
    return data


def code_page(page: FaxPage, codings: tuple[Coding, ...] = (Coding.MH, Coding.MR, Coding.MMR)) -> CodedPage:
    """``page`` coded in each of ``codings`` (MH always), ready for :class:`modem.class2.SendSession`."""
    fine = page.resolution.lpi > 150
    bits = _fastbits.pack(page.image) if _libtiff.AVAILABLE and page.image.mode == "1" else None
    mh = encode(page.image, Coding.MH, fine=fine, bits=bits)
    mr = encode(page.image, Coding.MR, fine=fine, bits=bits) if Coding.MR in codings else None
    mmr = encode(page.image, Coding.MMR, fine=fine, bits=bits) if Coding.MMR in codings else None
    return CodedPage(mh, mr, mmr)


def decode(
    data: bytes,
    coding: Coding | int = Coding.MH,
    width: int = 1728,
    bit_order: BitOrder = BitOrder.MSB_FIRST,
) -> Image.Image:
    """Decode page data in ``coding`` into a mode "1" image (white = 1).

    Trailing RTC, fill and bytes after the page end are tolerated.  The
    number of lines is also in ``image.info["t4_rows"]``.  Raises
    :class:`modem.t4.T4Error` for data libtiff cannot decode.
    """
    coding = Coding(coding)
    if coding is Coding.MH:
        return decode_page(data, width, bit_order)
    if len(data) > MAX_PAGE_BYTES:
        raise T4Error(f"{len(data)} bytes of page data is more than a page can hold ({MAX_PAGE_BYTES})")
    if bit_order is BitOrder.LSB_FIRST:
        data = reverse_bits(data)
    bits = _bit_string(data)
    if coding is Coding.MR:
        return _decode_mr(data, bits, width)
    return _decode_mmr(bits, width)


def _decode_mr(data: bytes, bits: str, width: int) -> Image.Image:
    rtc = _MR_RTC_START.search(bits)
    end = rtc.start() if rtc else len(bits)
    rows = sum(1 for segment in bits[:end].split(_EOL)[1:] if "1" in segment)
    if rows == 0:
        raise T4Error(f"no coded lines in {len(data)} bytes of MR data")
    page = data[: (end + 7) // 8]
    tags = _tiffio.g3_tags(_tiffio.G3Strip(page, width, rows, 204, 196))
    tags[_tiffio.T4_OPTIONS] = 1  # 2-D; EOLs need not be aligned
    return libtiff_decode(page, tags, rows, "MR")


def _decode_mmr(bits: str, width: int) -> Image.Image:
    if width != 1728:
        raise T4Error(f"MMR pages must be 1728 pels wide, not {width}")
    end = bits.find(_EOL)  # EOFB (an EOL never occurs inside T.6 data)
    if end < 0:
        end = len(bits)
    if end == 0:
        raise T4Error("no coded lines before the end of the MMR data")
    page = _pack(bits[:end] + _BLACK_ROW_1728 + EOFB)
    tags = _tiffio.g3_tags(_tiffio.G3Strip(page, width, MAX_ROWS + 1, 204, 196))
    tags[_tiffio.COMPRESSION] = 4
    del tags[_tiffio.T4_OPTIONS]
    tall = libtiff_decode(page, tags, MAX_ROWS + 1, "MMR")
    packed = tall.tobytes()
    row_bytes = (width + 7) // 8
    black = bytes(row_bytes)
    rows = -1
    for row in range(MAX_ROWS, -1, -1):  # the sentinel is the last all-black row
        if packed[row * row_bytes : (row + 1) * row_bytes] == black:
            rows = row
            break
    if rows <= 0:
        raise T4Error(
            "no coded lines in the MMR data"
            if rows == 0
            else f"the MMR page is longer than {MAX_ROWS} lines or cannot be decoded"
        )
    image = tall.crop((0, 0, width, rows))
    image.info = {"t4_rows": rows}
    return image
