"""The numpy + libtiff fast paths give exactly what the Pillow-only paths give."""

from __future__ import annotations

import random

import pytest
from PIL import Image, ImageDraw

from modem import _fastbits, _libtiff, coding, t4
from modem.coding import Coding
from modem.document import PageSize, Resolution, render
from tests.imaging._samples import bitmap, encoded
from tests.peers import IN_CI

MISSING = "numpy or libtiff (Debian package libtiff6) is missing"
needs_fast_path = pytest.mark.skipif(_fastbits.numpy_module() is None or not _libtiff.AVAILABLE, reason=MISSING)


def test_the_fast_path_is_there_in_ci() -> None:
    if not IN_CI:
        pytest.skip("checked in CI only")
    assert _fastbits.numpy_module() is not None and _libtiff.AVAILABLE, MISSING


def pillow_coded(image: Image.Image, kind: Coding, fine: bool) -> bytes:
    if kind is Coding.MH:
        return t4.encode_strip(image)
    return coding._encode_tiff(image, kind, 196 if fine else 98)


def noise(width: int, height: int, seed: int) -> Image.Image:
    rng = random.Random(seed)
    image = Image.new("1", (width, height))
    image.putdata([rng.choice((0, 255)) for _ in range(width * height)])
    return image


@needs_fast_path
@pytest.mark.parametrize("kind", list(Coding))
@pytest.mark.parametrize("fine", [True, False])
@pytest.mark.parametrize("size", [None, (1728, 1), (13, 5), (2048, 80)])
def test_libtiff_on_packed_bits_codes_as_pillow_does(kind: Coding, fine: bool, size: tuple[int, int] | None) -> None:
    image = bitmap(300, seed=3) if size is None else noise(*size, seed=sum(size))
    fast = coding.encode(image, kind, fine=fine, modem_framing=False)
    assert fast == pillow_coded(image, kind, fine)


@needs_fast_path
def test_packing_is_msb_first_with_black_as_one() -> None:
    image = Image.new("1", (16, 2), 255)
    image.putpixel((0, 0), 0)
    image.putpixel((9, 1), 0)
    image.putpixel((15, 1), 0)
    assert _fastbits.pack(image) == bytes([0x80, 0x00, 0x00, 0x41])


def vector_pdf(content: bytes) -> bytes:
    """A one-page Letter PDF drawing ``content`` (PDF operators), with a correct xref table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def two_page_pdf() -> bytes:
    """Page 1 black on white only (the thresholding shortcut), page 2 with a grey box (the full analysis)."""
    pages = [Image.new("L", (850, 1100), 255) for _ in range(2)]
    for page in pages:
        ImageDraw.Draw(page).rectangle((100, 100, 750, 180), fill=0)
    ImageDraw.Draw(pages[1]).rectangle((100, 300, 750, 700), fill=140)
    return encoded(pages[0], format="PDF", save_all=True, append_images=pages[1:], resolution=100.0)


@pytest.mark.parametrize(
    "document",
    [two_page_pdf(), vector_pdf(b"0 g 72 600 468 40 re f"), b"Fax text, 80 columns of it. " * 200],
)
def test_without_numpy_the_same_pages_and_data(monkeypatch: pytest.MonkeyPatch, document: bytes) -> None:
    """A worker with too little address space for numpy takes the Pillow-only paths: same results."""
    fast_pages = render(document, Resolution.NORMAL, PageSize.LETTER)
    fast = [coding.code_page(page).data(kind) for page in fast_pages for kind in Coding]
    monkeypatch.setattr(_fastbits, "numpy_module", lambda: None)
    slow_pages = render(document, Resolution.NORMAL, PageSize.LETTER)
    assert [p.image.tobytes() for p in slow_pages] == [p.image.tobytes() for p in fast_pages]
    assert [coding.code_page(page).data(kind) for page in slow_pages for kind in Coding] == fast


@needs_fast_path
@pytest.mark.parametrize(
    ("levels", "bilevel"),
    [
        ((255, 255, 0), True),  # white and black, mostly white: a rendered text page
        ((255, 0, 0), False),  # mostly black
        ((255, 255, 128), False),  # a mid-tone
        ((255, 255, 254), False),  # almost white is not white
    ],
)
def test_bilevel_bits(levels: tuple[int, ...], bilevel: bool) -> None:
    numpy = _fastbits.numpy_module()
    assert numpy is not None
    rows = 200  # several bands
    gray = Image.frombytes("L", (1728, rows), bytes(levels * (1728 * rows // len(levels))))
    bits = _fastbits.bilevel_bits(numpy.frombuffer(gray.tobytes(), dtype=numpy.uint8), 1728)
    if bilevel:
        assert bits == _fastbits.pack(gray.convert("1", dither=Image.Dither.NONE))
    else:
        assert bits is None


@needs_fast_path
def test_rendered_text_page_keeps_its_bits_for_coding() -> None:
    """The bits found while rendering a black-and-white PDF page are the ones coding would pack."""
    page = render(vector_pdf(b"0 g 72 600 468 40 re f 72 500 200 3 re f"), Resolution.FINE, PageSize.LETTER)[0]
    assert 0.01 < page.image.histogram()[0] / (1728 * 2156) < 0.05
    kept = _fastbits.pack(page.image)
    assert kept is _fastbits.pack(page.image)  # remembered, not packed again
    assert kept == _fastbits.pack(page.image.copy())  # a copy is packed from its pels
    assert coding.encode(page.image, Coding.MH, modem_framing=False) == t4.encode_strip(page.image)
