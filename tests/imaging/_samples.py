"""Deterministic sample bitmaps and documents for the imaging tests."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw

from modem.document import FAX_WIDTH


def bitmap(rows: int = 200, seed: int = 1) -> Image.Image:
    """A mode "1" fax-width image with text, bars, a dither pattern and noise."""
    rng = random.Random(seed)
    image = Image.new("1", (FAX_WIDTH, rows), 1)
    draw = ImageDraw.Draw(image)
    draw.text((40, 10), "T.4 sample page 0123456789", fill=0)
    draw.rectangle((0, 30, FAX_WIDTH - 1, 33), fill=0)  # full-width black lines
    for _ in range(20):
        x, y = rng.randrange(FAX_WIDTH - 200), rng.randrange(rows - 20)
        draw.rectangle((x, y, x + rng.randrange(1, 200), y + rng.randrange(1, 20)), fill=0)
    pixels = image.load()
    assert pixels is not None
    for y in range(rows // 2, rows):  # noise: many short runs
        for x in range(0, FAX_WIDTH, 3):
            if rng.random() < 0.3:
                pixels[x, y] = 0
    image.putpixel((FAX_WIDTH - 1, 0), 0)  # a black pel ending a line
    return image


def gray_picture(size: tuple[int, int] = (300, 200)) -> Image.Image:
    """An "L" gradient with a dark square: needs dithering."""
    image = Image.linear_gradient("L").resize(size)
    ImageDraw.Draw(image).rectangle((20, 20, 80, 80), fill=0)
    return image


def encoded(image: Image.Image, **save_args: object) -> bytes:
    """``image`` saved to bytes with Pillow."""
    buffer = io.BytesIO()
    image.save(buffer, **save_args)  # type: ignore[arg-type]
    return buffer.getvalue()


def black_fraction(image: Image.Image) -> float:
    """Share of black pels in a mode "1" image."""
    histogram = image.convert("L").histogram()
    return histogram[0] / (image.width * image.height)


def assert_same_bitmap(actual: Image.Image, expected: Image.Image) -> None:
    """Fail with a short message (first differing row) unless the bitmaps are equal."""
    assert actual.size == expected.size, f"size {actual.size} != {expected.size}"
    left, right = actual.convert("1").tobytes(), expected.convert("1").tobytes()
    if left != right:
        stride = (actual.width + 7) // 8
        first = next(i for i, (a, b) in enumerate(zip(left, right)) if a != b)
        raise AssertionError(f"bitmaps differ, first at row {first // stride}, byte {first % stride}")
