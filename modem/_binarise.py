"""Content-aware binarisation of a greyscale fax page (pure image functions).

Halftoning a whole page breaks text edges into dot patterns (more bits on
the line, ragged letters) and turns grey scanner paper into a field of dots.
So each page is looked at in blocks of 16 x 16 pels:

* **picture** blocks, where most pels are mid-grey (a photo, a grey box), go
  through the clustered-dot screen (:func:`halftone`);
* everything else (text, lines, white) is thresholded at mid-grey, so
  letters keep clean edges and long runs (what 2-D coding gains most from).

Before that, a page whose paper is not white (a greyscale scan: the paper
level, the brightest block means around each place, is below 250 and much
the same all over the page, unlike a photo's) is
flattened: the paper's local shortfall from white is added to every pel, so
grey paper becomes white, and the levels are stretched so that the ink (the
darkest 1 % of the page) becomes black; the threshold then gives clean text
on a white page.
"""

from __future__ import annotations

import functools

from PIL import Image, ImageChops, ImageFilter

BLOCK = 16  # pels: the unit of the picture/text decision
MID_LOW, MID_HIGH = 48, 208  # grey levels counted as mid-tone
PICTURE_SHARE = 0.8  # a block with more mid-tone pels than this is a picture (soft text edges stay below)
INK_PERCENTILE = 0.01  # a scan's ink level: the darkest 1 % of the page
PAPER_SPREAD = 40  # paper levels of most of a scan lie within this many grey levels
PAPER_WHITE = 250  # paper darker than this is flattened

_MID = [255 if MID_LOW < v < MID_HIGH else 0 for v in range(256)]
_INKED = [255 if v < MID_HIGH else 0 for v in range(256)]
_PICTURE = [255 if v > PICTURE_SHARE * 255 else 0 for v in range(256)]
_AREA_INKED = [255 if v > 0.6 * 255 else 0 for v in range(256)]
_AREA_MID = [255 if v > 0.25 * 255 else 0 for v in range(256)]
_FEWEST_PICTURE = int(PICTURE_SHARE * BLOCK * BLOCK)  # mid-tone pels in the smallest picture (one block)


def paper_level(gray: Image.Image) -> Image.Image:
    """The local paper level: the brightest block means around each place, at 1/16 size."""
    return gray.reduce(BLOCK).filter(ImageFilter.MaxFilter(5))


def flatten(gray: Image.Image, paper: Image.Image) -> Image.Image:
    """``gray`` divided by its paper level (``paper`` at 1/16 size): grey paper becomes white."""
    lift = ImageChops.invert(paper).resize(gray.size, Image.Resampling.BILINEAR)
    return ImageChops.add(gray, lift)  # the paper's shortfall from white added everywhere (clipped)


def picture_blocks(gray: Image.Image) -> Image.Image:
    """An "L" mask at 1/16 size, 255 for picture blocks and their neighbours.

    A block is picture when it is mostly mid-tone, or when its surroundings
    (5 x 5 blocks) are mostly ink-covered with a fair share of mid-tones (a
    photo's shadows and highlights); text leaves most of its surroundings white.
    """
    mid = gray.point(_MID).reduce(BLOCK)  # the mean: the share of mid-tone pels per block
    highest = max(level for level, count in enumerate(mid.histogram()) if count)
    if highest <= _AREA_MID.index(255) - 1:  # no block reaches the surroundings' share: text only
        return mid.point(_PICTURE).filter(ImageFilter.MaxFilter(3))
    inked = gray.point(_INKED).reduce(BLOCK)
    around_mid, around_inked = mid.filter(ImageFilter.BoxBlur(2)), inked.filter(ImageFilter.BoxBlur(2))
    busy = ImageChops.multiply(around_inked.point(_AREA_INKED), around_mid.point(_AREA_MID))
    return ImageChops.lighter(mid.point(_PICTURE), busy).filter(ImageFilter.MaxFilter(3))


def binarise(gray: Image.Image) -> Image.Image:
    """A greyscale page as mode "1": text thresholded, pictures halftoned, grey paper made white."""

    histogram = gray.histogram()
    if histogram[255] * 2 > gray.width * gray.height and sum(histogram[MID_LOW + 1 : MID_HIGH]) < _FEWEST_PICTURE:
        # white paper and too few mid-tones for a single picture block (a rendered text page): threshold
        return gray.convert("1", dither=Image.Dither.NONE)
    paper = paper_level(gray) if histogram[255] * 2 <= gray.width * gray.height else None
    if paper is not None and _is_scanner_paper(paper):
        # even, not white: scanner paper (a photo's bright parts vary)
        gray = flatten(gray, paper)
        ink = _percentile(gray, INK_PERCENTILE)
        if ink < 200:  # stretch the scan's ink down to black, the paper stays white
            gray = gray.point([max(0, min(255, (v - ink) * 255 // (PAPER_WHITE - ink))) for v in range(256)])
    text = gray.convert("1", dither=Image.Dither.NONE)  # white where >= 128
    blocks = picture_blocks(gray)
    if blocks.getextrema()[1] == 0:
        return text  # no pictures at all: thresholding alone
    mask = blocks.resize((blocks.width * BLOCK, blocks.height * BLOCK), Image.Resampling.NEAREST)
    if mask.size != gray.size:
        mask = (
            mask.crop((0, 0, *gray.size))
            if mask.width >= gray.width and mask.height >= gray.height
            else mask.resize(gray.size, Image.Resampling.NEAREST)
        )
    return Image.composite(halftone(gray), text, mask)


def _is_scanner_paper(paper: Image.Image) -> bool:
    level, spread = _percentile(paper, 0.5), _percentile(paper, 0.9) - _percentile(paper, 0.1)
    return level < PAPER_WHITE and spread <= PAPER_SPREAD


def _percentile(image: Image.Image, share: float) -> int:
    histogram = image.histogram()
    wanted, seen = sum(histogram) * share, 0
    for level, count in enumerate(histogram):
        seen += count
        if seen >= wanted:
            return level
    return 255


# A clustered-dot screen (6 x 6 cells, 34 lines per inch at 204 dpi, 37 grey
# levels), as fax machines and ghostscript use.  Clustered dots give long
# runs, which Modified Huffman codes in about half the bytes Floyd-Steinberg
# error diffusion needs (a shorter call), and thresholding against a screen
# is several times faster (3 ms against 17 ms a fine page).
_SCREEN = (
    (34, 29, 17, 21, 30, 35),
    (28, 14, 9, 16, 20, 31),
    (13, 8, 4, 5, 15, 19),
    (12, 3, 0, 1, 10, 18),
    (27, 7, 2, 6, 23, 24),
    (33, 26, 11, 22, 25, 32),
)


@functools.lru_cache(maxsize=8)
def _screen(size: tuple[int, int]) -> Image.Image:
    cell = len(_SCREEN)
    levels = cell * cell
    tile = Image.new("L", (cell, cell))
    # Thresholds 1..255: pure black (0) stays black, pure white (255) stays white.
    tile.putdata([1 + (2 * v + 1) * 254 // (2 * levels) for row in _SCREEN for v in row])
    strip = Image.new("L", (size[0], cell))
    for left in range(0, size[0], cell):
        strip.paste(tile, (left, 0))
    screen = Image.new("L", size)
    for top in range(0, size[1], cell):
        screen.paste(strip, (0, top))
    return screen


def halftone(gray: Image.Image) -> Image.Image:
    """An "L" image as mode "1" through the clustered-dot screen (white where grey >= threshold)."""
    # (grey - threshold + 128) clipped to 0..255 is >= 128 exactly when grey >= threshold.
    difference = ImageChops.subtract(gray, _screen(gray.size), 1.0, 128)
    return difference.convert("1", dither=Image.Dither.NONE)  # white where >= 128
