"""Assemble TIFF files from already-compressed strips.

Pillow serialises each image file directory (``ImageFileDirectory_v2``); this
module only lays the directories and strip data out in one file and chains the
directories.  It exists because Pillow cannot write per-page tags (PageNumber)
in a multi-page file, and because its min-is-white path for mode "1" images
inverts pixel by pixel in Python.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from fractions import Fraction

from PIL import TiffImagePlugin, TiffTags

# TIFF tag numbers (TIFF 6.0, RFC 2306).
NEW_SUBFILE_TYPE = 254
IMAGE_WIDTH = 256
IMAGE_LENGTH = 257
BITS_PER_SAMPLE = 258
COMPRESSION = 259
PHOTOMETRIC = 262
FILL_ORDER = 266
STRIP_OFFSETS = 273
ORIENTATION = 274
SAMPLES_PER_PIXEL = 277
ROWS_PER_STRIP = 278
STRIP_BYTE_COUNTS = 279
X_RESOLUTION = 282
Y_RESOLUTION = 283
PLANAR_CONFIGURATION = 284
T4_OPTIONS = 292
RESOLUTION_UNIT = 296
PAGE_NUMBER = 297
SOFTWARE = 305
CLEAN_FAX_DATA = 327

COMPRESSION_CCITT_T4 = 3
PHOTOMETRIC_MIN_IS_WHITE = 0
T4_OPTION_FILL_BITS = 4
RESOLUTION_UNIT_INCH = 2

_TYPES: dict[int, int] = {
    NEW_SUBFILE_TYPE: TiffTags.LONG,
    IMAGE_WIDTH: TiffTags.LONG,
    IMAGE_LENGTH: TiffTags.LONG,
    BITS_PER_SAMPLE: TiffTags.SHORT,
    COMPRESSION: TiffTags.SHORT,
    PHOTOMETRIC: TiffTags.SHORT,
    FILL_ORDER: TiffTags.SHORT,
    STRIP_OFFSETS: TiffTags.LONG,
    ORIENTATION: TiffTags.SHORT,
    SAMPLES_PER_PIXEL: TiffTags.SHORT,
    ROWS_PER_STRIP: TiffTags.LONG,
    STRIP_BYTE_COUNTS: TiffTags.LONG,
    X_RESOLUTION: TiffTags.RATIONAL,
    Y_RESOLUTION: TiffTags.RATIONAL,
    PLANAR_CONFIGURATION: TiffTags.SHORT,
    T4_OPTIONS: TiffTags.LONG,
    RESOLUTION_UNIT: TiffTags.SHORT,
    PAGE_NUMBER: TiffTags.SHORT,
    SOFTWARE: TiffTags.ASCII,
    CLEAN_FAX_DATA: TiffTags.SHORT,
}

_HEADER = b"II*\x00"  # little-endian classic TIFF


@dataclass(frozen=True)
class G3Strip:
    """One page of T.4 1-D data (MSB first, byte-aligned EOLs, no RTC)."""

    data: bytes
    width: int
    rows: int
    x_dpi: int
    y_dpi: int


def g3_tags(strip: G3Strip, fill_order: int = 1) -> dict[int, object]:
    """The TIFF Class F tags for one page, without page numbering."""
    return {
        NEW_SUBFILE_TYPE: 2,
        IMAGE_WIDTH: strip.width,
        IMAGE_LENGTH: strip.rows,
        BITS_PER_SAMPLE: 1,
        COMPRESSION: COMPRESSION_CCITT_T4,
        PHOTOMETRIC: PHOTOMETRIC_MIN_IS_WHITE,
        FILL_ORDER: fill_order,
        ORIENTATION: 1,
        SAMPLES_PER_PIXEL: 1,
        ROWS_PER_STRIP: strip.rows,
        X_RESOLUTION: Fraction(strip.x_dpi),
        Y_RESOLUTION: Fraction(strip.y_dpi),
        PLANAR_CONFIGURATION: 1,
        T4_OPTIONS: T4_OPTION_FILL_BITS,
        RESOLUTION_UNIT: RESOLUTION_UNIT_INCH,
    }


def build_tiff(pages: list[tuple[bytes, dict[int, object]]]) -> bytes:
    """A little-endian TIFF holding one single-strip IFD per ``(strip, tags)``.

    ``tags`` must not contain StripOffsets/StripByteCounts; they are computed.
    """
    out = bytearray(_HEADER + b"\x00\x00\x00\x00")
    link_at = 4  # where the offset of the next IFD goes
    for data, tags in pages:
        ifd = TiffImagePlugin.ImageFileDirectory_v2(_HEADER + b"\x08\x00\x00\x00")
        for tag, value in tags.items():
            ifd[tag] = value
            ifd.tagtype[tag] = _TYPES[tag]
        ifd[STRIP_OFFSETS] = 0  # relative: Pillow moves it past the IFD
        ifd.tagtype[STRIP_OFFSETS] = TiffTags.LONG
        ifd[STRIP_BYTE_COUNTS] = len(data)
        ifd.tagtype[STRIP_BYTE_COUNTS] = TiffTags.LONG
        if len(out) % 2:
            out += b"\x00"  # IFDs start on a word boundary
        offset = len(out)
        struct.pack_into("<L", out, link_at, offset)
        encoded = ifd.tobytes(offset)
        link_at = offset + 2 + 12 * len(ifd)
        out += encoded
        out += data
    return bytes(out)
