"""Whole-page pel arithmetic with numpy, when numpy can be loaded.

numpy is imported on first use, not with the module: it maps about 100 MB of
address space (OpenBLAS), which a render worker under a small memory limit
may not have.  Then :func:`numpy_module` gives None and the callers take
their Pillow-only paths (same results, more CPU).

Work is done a band at a time: a page-size temporary costs more in fresh
memory (page faults) than the arithmetic on it.
"""

from __future__ import annotations

import functools
import weakref
from types import ModuleType
from typing import TYPE_CHECKING

from PIL import Image

if TYPE_CHECKING:
    import numpy as np

__all__ = ["bilevel_bits", "numpy_module", "pack", "remember"]

_BAND = 1 << 18  # pels


@functools.cache
def numpy_module() -> ModuleType | None:
    """numpy, or None when it cannot be loaded (not installed, or no memory for it)."""
    try:
        import numpy
    except (ImportError, MemoryError):
        return None
    return numpy


def bilevel_bits(pels: np.ndarray, width: int) -> bytes | None:
    """The packed bits (as :func:`pack` gives them) of grey ``pels`` that are all white (255) or
    black (0), most of them white, ``width`` a multiple of 8; otherwise None.

    This is a rendered text page: thresholding is all it needs, and its bits
    come straight from the renderer's buffer.  Stops at the first band with a grey pel.
    """
    numpy = numpy_module()
    assert numpy is not None
    if width % 8:
        return None
    white = 0
    packed = []
    band_size = _BAND - _BAND % width
    for start in range(0, pels.size, band_size):
        band = pels[start : start + band_size]
        band_white = int(numpy.count_nonzero(band == 255))
        if int(numpy.count_nonzero(band)) != band_white:  # a grey pel
            return None
        white += band_white
        packed.append(numpy.packbits(band))  # white (255) = 1
    if white * 2 <= pels.size:
        return None
    return bytes(numpy.invert(numpy.concatenate(packed)).tobytes())


def remember(image: Image.Image, bits: bytes) -> None:
    """Keep ``bits`` (:func:`pack` of ``image``, found while rendering it) for :func:`pack`.

    A fax page is not drawn on after rendering; the bits go with the image.
    """
    key = id(image)
    _PACKED[key] = (weakref.ref(image, lambda _gone: _PACKED.pop(key, None)), bits)


_PACKED: dict[int, tuple[weakref.ref[Image.Image], bytes]] = {}  # by id: Pillow images are not hashable


def _known(image: Image.Image) -> bytes | None:
    entry = _PACKED.get(id(image))
    return entry[1] if entry is not None and entry[0]() is image else None


def pack(image: Image.Image) -> bytes | None:
    """A mode "1" image's rows as bits, MSB first, black = 1, each row ending on a byte boundary.

    This is what libtiff's CCITT coder takes; None without numpy.
    """
    known = _known(image)
    if known is not None:
        return known
    numpy = numpy_module()
    if numpy is None:
        return None
    width, height = image.size
    band = max(1, _BAND // width)
    packed = []
    for top in range(0, height, band):
        rows = image.crop((0, top, width, min(height, top + band)))
        pels = numpy.frombuffer(rows.tobytes("raw", "L"), dtype=numpy.uint8)
        if width % 8:  # pad each row (packing row by row is slower)
            pels = numpy.pad(pels.reshape(rows.height, width), ((0, 0), (0, -width % 8)))
        packed.append(numpy.packbits(pels))  # white (255) = 1
    return bytes(numpy.invert(numpy.concatenate(packed)).tobytes())
