"""Content-aware binarisation of a greyscale fax page (pure image functions).

Halftoning a whole page breaks text edges into dot patterns (more bits on
the line, ragged letters) and turns grey scanner paper into a field of dots.
So each page is looked at in blocks of 16 x 16 pels:

* **picture** blocks, where most pels are mid-grey (a photo, a grey box), go
  through the clustered-dot screen (:func:`modem._render.halftone`);
* everything else (text, lines, white) is thresholded at mid-grey, so
  letters keep clean edges and long runs (what 2-D coding gains most from).

Before that, a page whose paper is not white (a greyscale scan: the paper
level, the brightest block means around each place, is below 250) is
flattened: the paper's local shortfall from white is added to every pel, so
grey paper becomes white and ink stays dark; the threshold then gives clean
text on a white page.
"""

from __future__ import annotations

from PIL import Image, ImageChops, ImageFilter

BLOCK = 16  # pels: the unit of the picture/text decision
MID_LOW, MID_HIGH = 48, 208  # grey levels counted as mid-tone
PICTURE_SHARE = 0.5  # a block with more mid-tone pels than this is a picture
PAPER_WHITE = 250  # paper darker than this is flattened

_MID = [255 if MID_LOW < v < MID_HIGH else 0 for v in range(256)]
_PICTURE = [255 if v > PICTURE_SHARE * 255 else 0 for v in range(256)]


def paper_level(gray: Image.Image) -> Image.Image:
    """The local paper level: the brightest block means around each place, at 1/16 size."""
    return gray.reduce(BLOCK).filter(ImageFilter.MaxFilter(5))


def flatten(gray: Image.Image, paper: Image.Image) -> Image.Image:
    """``gray`` divided by its paper level (``paper`` at 1/16 size): grey paper becomes white."""
    lift = ImageChops.invert(paper).resize(gray.size, Image.Resampling.BILINEAR)
    return ImageChops.add(gray, lift)  # the paper's shortfall from white added everywhere (clipped)


def picture_blocks(gray: Image.Image) -> Image.Image:
    """An "L" mask at 1/16 size, 255 for picture blocks (mostly mid-tone) and their neighbours."""
    share = gray.point(_MID).reduce(BLOCK)  # the mean: the share of mid-tone pels per block
    return share.point(_PICTURE).filter(ImageFilter.MaxFilter(3))


def binarise(gray: Image.Image) -> Image.Image:
    """A greyscale page as mode "1": text thresholded, pictures halftoned, grey paper made white."""
    from modem._render import halftone

    paper = paper_level(gray)
    if paper.getextrema()[0] < PAPER_WHITE and _median(paper) < PAPER_WHITE:
        gray = flatten(gray, paper)
    text = gray.convert("1", dither=Image.Dither.NONE)  # white where >= 128
    blocks = picture_blocks(gray)
    if blocks.getextrema()[1] == 0:
        return text  # no pictures at all: thresholding alone
    mask = blocks.resize((blocks.width * BLOCK, blocks.height * BLOCK), Image.Resampling.NEAREST)
    if mask.size != gray.size:
        mask = mask.crop((0, 0, *gray.size)) if mask.width >= gray.width and mask.height >= gray.height else \
            mask.resize(gray.size, Image.Resampling.NEAREST)
    return Image.composite(halftone(gray), text, mask)


def _median(image: Image.Image) -> int:
    histogram = image.histogram()
    half, seen = sum(histogram) / 2, 0
    for level, count in enumerate(histogram):
        seen += count
        if seen >= half:
            return level
    return 255
