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
from types import ModuleType
from typing import TYPE_CHECKING

from PIL import Image

if TYPE_CHECKING:
    import numpy as np

__all__ = ["numpy_module", "pack", "white_and_black"]

_BAND = 1 << 16  # pels


@functools.cache
def numpy_module() -> ModuleType | None:
    """numpy, or None when it cannot be loaded (not installed, or no memory for it)."""
    try:
        import numpy
    except (ImportError, MemoryError):
        return None
    return numpy


def white_and_black(pels: np.ndarray) -> bool:
    """Whether every one of the grey ``pels`` is white (255) or black (0), and most are white."""
    numpy = numpy_module()
    assert numpy is not None
    white = black = 0
    for start in range(0, pels.size, _BAND):
        band = pels[start : start + _BAND]
        white += int(numpy.count_nonzero(band == 255))
        black += int(numpy.count_nonzero(band == 0))
    return white * 2 > pels.size and white + black == pels.size


def pack(image: Image.Image) -> bytes | None:
    """A mode "1" image's rows as bits, MSB first, black = 1, each row ending on a byte boundary.

    This is what libtiff's CCITT coder takes; None without numpy.
    """
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
