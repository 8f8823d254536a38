"""Documents for the conversion-limit tests, made cheaply in memory."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2
from PIL import Image

FORM_FEED_BOMB = b"x\f" * 800  # 1.6 KB of text, 801 pages


def blank_pdf(pages: int) -> bytes:
    """A PDF of ``pages`` empty Letter pages (a thousand take milliseconds)."""
    document = pypdfium2.PdfDocument.new()
    try:
        for _ in range(pages):
            document.new_page(612, 792).close()
        buffer = io.BytesIO()
        document.save(buffer)
    finally:
        document.close()
    return buffer.getvalue()


def text_pages(pages: int) -> bytes:
    """Plain text of ``pages`` pages, each with a line on it."""
    return b"\f".join(b"page %d\n" % n for n in range(1, pages + 1))


def huge_png(side: int = 9000) -> bytes:
    """A grey square PNG of ``side`` x ``side`` pels: 100 KB on disk, ``side``² bytes decoded."""
    buffer = io.BytesIO()
    Image.new("L", (side, side), 200).save(buffer, format="PNG")
    return buffer.getvalue()


def write(tmp: Path, name: str, data: bytes) -> str:
    path = tmp / name
    path.write_bytes(data)
    return str(path)
