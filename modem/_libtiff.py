"""libtiff's CCITT coder called directly on packed page bits (the fast path of :mod:`modem.coding`).

Pillow reaches the same coder, but hands it a mode "1" image that it packs
to bits pel by pel first; on a fine page that packing costs twice the coding
itself.  Here the bits are packed by numpy (:mod:`modem._fastbits`) and given to libtiff
(the system's ``libtiff.so.6``, Debian package libtiff6) in strips written to
memory.  The strips are the ones Pillow writes (``rows_per_strip`` lines
each), so the page data are byte for byte what the Pillow path gives.
The bits come from :func:`modem._fastbits.pack`.

:data:`AVAILABLE` is false when libtiff cannot be loaded; :mod:`modem.coding`
then codes through Pillow.
"""

from __future__ import annotations

import ctypes
import ctypes.util

__all__ = ["AVAILABLE", "LibtiffError", "encode"]

_SIZE = ctypes.c_ssize_t  # tmsize_t
_OFFSET = ctypes.c_uint64  # toff_t
_READ_WRITE = ctypes.CFUNCTYPE(_SIZE, ctypes.c_void_p, ctypes.c_void_p, _SIZE)
_SEEK = ctypes.CFUNCTYPE(_OFFSET, ctypes.c_void_p, _OFFSET, ctypes.c_int)
_CLOSE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)
_FILE_SIZE = ctypes.CFUNCTYPE(_OFFSET, ctypes.c_void_p)
_MAP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(_OFFSET))
_UNMAP = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, _OFFSET)

# TIFF tags (TIFF 6.0) and libtiff's pseudo values
_IMAGE_WIDTH, _IMAGE_LENGTH, _BITS_PER_SAMPLE, _COMPRESSION = 256, 257, 258, 259
_PHOTOMETRIC, _STRIP_OFFSETS, _ROWS_PER_STRIP, _STRIP_BYTE_COUNTS = 262, 273, 278, 279
_X_RESOLUTION, _Y_RESOLUTION, _T4_OPTIONS, _RESOLUTION_UNIT = 282, 283, 292, 296


class LibtiffError(RuntimeError):
    """libtiff refused to code a page."""


def _load() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("tiff")
    if name is None:
        return None
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    lib.TIFFClientOpen.restype = ctypes.c_void_p
    lib.TIFFClientOpen.argtypes = [
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_void_p,
        _READ_WRITE,
        _READ_WRITE,
        _SEEK,
        _CLOSE,
        _FILE_SIZE,
        _MAP,
        _UNMAP,
    ]
    lib.TIFFWriteEncodedStrip.restype = _SIZE
    lib.TIFFWriteEncodedStrip.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_char_p, _SIZE]
    lib.TIFFSetField.restype = ctypes.c_int
    lib.TIFFGetField.restype = ctypes.c_int
    lib.TIFFClose.restype = None
    lib.TIFFClose.argtypes = [ctypes.c_void_p]
    return lib


_LIB = _load()
AVAILABLE = _LIB is not None


class _MemoryFile:
    """The file libtiff writes, in memory (its client I/O callbacks)."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.position = 0
        self.callbacks = (
            _READ_WRITE(self._read),
            _READ_WRITE(self._write),
            _SEEK(self._seek),
            _CLOSE(lambda _handle: 0),
            _FILE_SIZE(lambda _handle: len(self.data)),
            _MAP(lambda _handle, _base, _size: 0),
            _UNMAP(lambda _handle, _base, _size: None),
        )

    def _read(self, _handle: int, _buffer: int, _size: int) -> int:
        return 0  # written only

    def _write(self, _handle: int, buffer: int, size: int) -> int:
        end = self.position + size
        if end > len(self.data):
            self.data.extend(bytes(end - len(self.data)))
        self.data[self.position : end] = ctypes.string_at(buffer, size)
        self.position = end
        return size

    def _seek(self, _handle: int, offset: int, whence: int) -> int:
        base = (0, self.position, len(self.data))[whence] if 0 <= whence <= 2 else 0
        self.position = base + offset
        return self.position


def encode(
    bits: bytes, width: int, height: int, *, compression: int, t4_options: int, y_dpi: int, rows_per_strip: int
) -> bytes:
    """Packed bits (:func:`modem._fastbits.pack`) coded by libtiff: the strips' data joined, MSB first.

    ``compression`` 3 (T.4, with ``t4_options``) or 4 (T.6).  Raises
    :class:`LibtiffError` when libtiff is missing or refuses the page.
    """
    if _LIB is None:
        raise LibtiffError("libtiff is not available")
    row_bytes = (width + 7) // 8
    if len(bits) != row_bytes * height:
        raise LibtiffError(f"{len(bits)} bytes of bits for a {width}x{height} page")
    memory = _MemoryFile()
    tiff = _LIB.TIFFClientOpen(b"page", b"w", None, *memory.callbacks)
    if not tiff:
        raise LibtiffError("libtiff could not open a page to write")
    handle = ctypes.c_void_p(tiff)
    try:
        _set(handle, _IMAGE_WIDTH, ctypes.c_uint32(width))
        _set(handle, _IMAGE_LENGTH, ctypes.c_uint32(height))
        _set(handle, _BITS_PER_SAMPLE, ctypes.c_int(1))
        _set(handle, _COMPRESSION, ctypes.c_int(compression))
        _set(handle, _PHOTOMETRIC, ctypes.c_int(0))  # min-is-white: 1 bits are black
        _set(handle, _ROWS_PER_STRIP, ctypes.c_uint32(rows_per_strip))
        _set(handle, _RESOLUTION_UNIT, ctypes.c_int(2))
        _set(handle, _X_RESOLUTION, ctypes.c_double(204.0))
        _set(handle, _Y_RESOLUTION, ctypes.c_double(float(y_dpi)))  # MR: libtiff takes K from it
        if compression == 3:
            _set(handle, _T4_OPTIONS, ctypes.c_uint32(t4_options))
        strip_bytes = rows_per_strip * row_bytes
        strips = (height + rows_per_strip - 1) // rows_per_strip
        for strip in range(strips):
            chunk = bits[strip * strip_bytes : (strip + 1) * strip_bytes]
            if _LIB.TIFFWriteEncodedStrip(handle, strip, chunk, len(chunk)) < 0:
                raise LibtiffError(f"libtiff could not code strip {strip} of the page")
        offsets, counts = ctypes.POINTER(_OFFSET)(), ctypes.POINTER(_OFFSET)()
        if not (
            _LIB.TIFFGetField(handle, ctypes.c_uint32(_STRIP_OFFSETS), ctypes.byref(offsets))
            and _LIB.TIFFGetField(handle, ctypes.c_uint32(_STRIP_BYTE_COUNTS), ctypes.byref(counts))
        ):
            raise LibtiffError("libtiff gave no strip offsets")
        spans = [(offsets[i], counts[i]) for i in range(strips)]
    finally:
        _LIB.TIFFClose(handle)
    data = memory.data
    return b"".join(data[offset : offset + count] for offset, count in spans)


def _set(handle: ctypes.c_void_p, tag: int, value: ctypes.c_uint32 | ctypes.c_int | ctypes.c_double) -> None:
    assert _LIB is not None
    if not _LIB.TIFFSetField(handle, ctypes.c_uint32(tag), value):
        raise LibtiffError(f"libtiff refused tag {tag}")
