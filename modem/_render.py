"""Rasterisers: document bytes -> mode "1" images of one fax page each.

Pure functions over bytes; :func:`modem.document.render` wraps them.  Every
page comes out ``FAX_WIDTH`` x ``rows`` pels, the content scaled to fit at
204 dpi across and ``lpi`` down, centred across; PDF pages are also centred
down and landscape PDF pages turned to portrait; images start at the top.
Greyscale is made bilevel by :func:`modem._binarise.binarise` (text
thresholded, pictures halftoned, grey scanner paper made white).
"""

from __future__ import annotations

import functools
import io
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pypdfium2
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageDraw, ImageFont, ImageOps, ImageSequence, UnidentifiedImageError

from modem import _fastbits
from modem._binarise import binarise

FAX_WIDTH = 1728
X_DPI = 204
TEXT_COLUMNS = 80  # 10 characters per inch
TEXT_LPI = 6
TEXT_MARGIN_LINES = 3  # half an inch at the top and at the bottom
_FONT_NAMES = ("DejaVuSansMono.ttf", "LiberationMono-Regular.ttf", "FreeMono.ttf")
_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")
_IMAGE_FORMATS = {"PNG", "JPEG", "GIF", "BMP", "TIFF"}
LANDSCAPE_ROTATION = 3  # pdfium: quarter turns clockwise; 3 = a quarter counter-clockwise


class UnsupportedInput(Exception):
    """Input that is not a readable document of a supported kind."""


class FontFallbackWarning(UserWarning):
    """No monospace TrueType font was found; Pillow's built-in font is used."""


def rasterise(data: bytes, rows: int, lpi: int) -> Iterator[Image.Image]:
    """Pages of ``data`` (PDF, image file or plain text) as fax-size mode "1" images.

    Lazy: one page is drawn when the next is asked for, and none is kept.
    """
    if is_pdf(data):
        return iter_pdf_pages(data, rows, lpi)
    if _looks_like_image(data):
        return iter_image_pages(data, rows, lpi)
    text = _as_text(data)
    if text is None:
        raise UnsupportedInput(UNSUPPORTED)
    return iter_text_pages(text, rows, lpi)


UNSUPPORTED = "unsupported document type (not PDF, TIFF, PNG, JPEG, GIF, BMP or text)"


def count_pages(data: bytes, rows: int, lpi: int, at_most: int | None = None) -> int:
    """How many pages :func:`rasterise` would give, found without drawing any.

    PDF: the page count pdfium reads; images: the frames; text: the lines
    and form feeds laid out as :func:`text_pages` lays them out.  Counting
    text stops past ``at_most`` (the result is then ``at_most + 1``).
    """
    if is_pdf(data):
        return pdf_page_count(data)
    if _looks_like_image(data):
        return image_frame_count(data)
    text = _as_text(data)
    if text is None:
        raise UnsupportedInput(UNSUPPORTED)
    count = 0
    for _ in _text_lines(text, _text_layout(rows, lpi)[1]):
        count += 1
        if at_most is not None and count > at_most:
            break
    return count


def is_pdf(data: bytes) -> bool:
    """Whether ``data`` is a PDF (the header may follow up to 1 KiB of junk)."""
    return data[:1024].find(b"%PDF-") != -1


def _looks_like_image(data: bytes) -> bool:
    return data.startswith((b"II*\x00", b"MM\x00*", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM"))


# -- PDF ---------------------------------------------------------------------


# pdfium is not thread-safe, not even across documents: every call into it
# holds this lock.  Halftoning (Pillow, which releases the GIL) runs outside.
_PDFIUM_LOCK = threading.Lock()

_PDF_FLAGS = (
    pdfium_c.FPDF_ANNOT
    | pdfium_c.FPDF_GRAYSCALE
    | pdfium_c.FPDF_RENDER_NO_SMOOTHTEXT  # crisp text and lines, as a fax machine prints
    | pdfium_c.FPDF_RENDER_NO_SMOOTHPATH
)


def pdf_page_count(data: bytes) -> int:
    """Number of pages in a PDF."""
    with _PDFIUM_LOCK:
        document = _open_pdf(data)
        try:
            return len(document)
        finally:
            document.close()


def pdf_pages(data: bytes, rows: int, lpi: int, indices: range | None = None) -> list[Image.Image]:
    """Pages of a PDF (all, or those in ``indices``), rendered by pdfium at fax resolution."""
    return list(iter_pdf_pages(data, rows, lpi, indices))


def iter_pdf_pages(data: bytes, rows: int, lpi: int, indices: range | None = None) -> Iterator[Image.Image]:
    """Like :func:`pdf_pages`, one page at a time (a fine page is 3.7 MB in memory).

    Every page is drawn on the same greyscale bitmap (a new one each page
    would cost more in first-touch page faults than the binarisation), and
    binarised outside the pdfium lock.
    """
    with _PDFIUM_LOCK:
        document = _open_pdf(data)
        bitmap = pypdfium2.PdfBitmap.new_native(FAX_WIDTH, rows, pdfium_c.FPDFBitmap_Gray)
    view = bitmap.to_pil()  # shares the bitmap's buffer
    numpy = _fastbits.numpy_module()
    pels = numpy.frombuffer(bitmap.buffer, dtype=numpy.uint8) if numpy and bitmap.stride == FAX_WIDTH else None
    try:
        if indices is None:
            with _PDFIUM_LOCK:
                indices = range(len(document))
        for index in indices:
            with _PDFIUM_LOCK:
                _draw_pdf_page(document, index, bitmap, rows, lpi)
            # The bilevel page is a new image: the bitmap is drawn over for the next page.
            bits = _fastbits.bilevel_bits(pels, FAX_WIDTH) if pels is not None else None
            if bits is None:
                yield binarise(view)
            else:  # black and white already (text): binarise would threshold it; the bits are kept for coding
                page = view.convert("1", dither=Image.Dither.NONE)
                _fastbits.remember(page, bits)
                yield page
    finally:
        view.close()
        with _PDFIUM_LOCK:
            bitmap.close()
            document.close()


def _open_pdf(data: bytes) -> pypdfium2.PdfDocument:
    try:
        return pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        raise UnsupportedInput(f"unreadable PDF ({exc})") from exc


def _draw_pdf_page(
    document: pypdfium2.PdfDocument, index: int, bitmap: pypdfium2.PdfBitmap, rows: int, lpi: int
) -> None:
    """Page ``index`` drawn by pdfium straight onto the greyscale fax-size ``bitmap`` (white first).

    The page is scaled separately across (204 dpi) and down (``lpi``) to fit,
    so no resampling follows; a landscape page is turned a quarter (counter-
    clockwise, as ghostscript's ``-dPDFFitPage`` does) to use the whole portrait
    page; a page of another paper size is centred, as ghostscript does.
    """
    page = document[index]
    try:
        width_pt, height_pt = page.get_size()
        if width_pt <= 0 or height_pt <= 0:
            raise UnsupportedInput(f"page {index + 1} has no area")
        rotate = 0
        if width_pt > height_pt:
            width_pt, height_pt, rotate = height_pt, width_pt, LANDSCAPE_ROTATION
        fit = min(FAX_WIDTH / X_DPI / (width_pt / 72), rows / lpi / (height_pt / 72))
        width = min(FAX_WIDTH, round(width_pt / 72 * fit * X_DPI))
        height = min(rows, round(height_pt / 72 * fit * lpi))
        bitmap.fill_rect((255, 255, 255, 255), 0, 0, FAX_WIDTH, rows)
        left, top = (FAX_WIDTH - width) // 2, (rows - height) // 2
        pdfium_c.FPDF_RenderPageBitmap(bitmap, page, left, top, width, height, rotate, _PDF_FLAGS)
        if page.formenv:
            pdfium_c.FPDF_FFLDraw(page.formenv, bitmap, page, left, top, width, height, rotate, _PDF_FLAGS)
    finally:
        page.close()


# -- TIFF and other raster images ----------------------------------------------


def image_pages(data: bytes, rows: int, lpi: int) -> list[Image.Image]:
    """Every frame of an image file (multi-page TIFF and animated GIF give several)."""
    return list(iter_image_pages(data, rows, lpi))


def iter_image_pages(data: bytes, rows: int, lpi: int) -> Iterator[Image.Image]:
    """Like :func:`image_pages`, one frame at a time."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in _IMAGE_FORMATS:
                raise UnsupportedInput(f"unsupported image format {image.format}")
            for frame in _frames(image):
                yield _frame_page(frame, rows, lpi)
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise UnsupportedInput(f"unreadable image ({exc})") from exc
    except (OSError, ValueError, SyntaxError) as exc:  # Pillow's decoder errors
        raise UnsupportedInput(f"unreadable or truncated image ({exc})") from exc


def image_frame_count(data: bytes) -> int:
    """Pages an image file gives: its frames (a GIF's animation is one page); nothing is decoded."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in _IMAGE_FORMATS:
                raise UnsupportedInput(f"unsupported image format {image.format}")
            return 1 if image.format == "GIF" else int(getattr(image, "n_frames", 1))
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise UnsupportedInput(f"unreadable image ({exc})") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise UnsupportedInput(f"unreadable or truncated image ({exc})") from exc


def _frames(image: Image.Image) -> Iterator[Image.Image]:
    if image.format == "GIF":  # animation frames are not pages
        image.load()
        yield image
        return
    yield from ImageSequence.Iterator(image)


def _frame_page(frame: Image.Image, rows: int, lpi: int) -> Image.Image:
    frame.load()
    dpi = _dpi(frame)
    if frame.mode == "1" and dpi is not None and frame.width == FAX_WIDTH:
        fax = _fax_frame(frame, dpi, rows, lpi)
        if fax is not None:
            return fax
    gray = _to_gray(frame)
    if dpi is None:
        # No physical size: fit the picture into the page, square pixels.
        return _compose(gray, None, rows, lpi)
    x_dpi, y_dpi = dpi
    # Bring it to 204 dpi across and down; _compose handles the rest.
    size = (max(1, round(gray.width * X_DPI / x_dpi)), max(1, round(gray.height * X_DPI / y_dpi)))
    if size != gray.size:
        gray = gray.resize(size, Image.Resampling.LANCZOS)
    return _compose(gray, X_DPI, rows, lpi)


def _fax_frame(frame: Image.Image, dpi: tuple[float, float], rows: int, lpi: int) -> Image.Image | None:
    """A bilevel 1728-pel page at fax resolution: re-line it without dithering."""
    x_dpi, y_dpi = dpi
    if not 196 <= x_dpi <= 210 or not 90 <= y_dpi <= 210:
        return None
    height = round(frame.height * lpi / y_dpi)
    if height > rows:
        return None
    bits = frame if height == frame.height else frame.resize((FAX_WIDTH, height), Image.Resampling.NEAREST)
    page = Image.new("1", (FAX_WIDTH, rows), 255)
    page.paste(bits, (0, 0))
    return page


def _dpi(frame: Image.Image) -> tuple[float, float] | None:
    dpi = frame.info.get("dpi")
    if not dpi or len(dpi) != 2:
        return None
    x_dpi, y_dpi = float(dpi[0]), float(dpi[1])
    if not (30 <= x_dpi <= 4800 and 30 <= y_dpi <= 4800):
        return None  # absent (often 1 or 72 by default in JPEG/BMP) or absurd
    if x_dpi == 72 and y_dpi == 72:
        return None
    return x_dpi, y_dpi


def _to_gray(frame: Image.Image) -> Image.Image:
    if frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info):
        rgba = frame.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("L")
    if frame.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return ImageOps.autocontrast(frame.convert("I").point(lambda v: v / 256).convert("L"))
    if frame.mode == "CMYK":
        return frame.convert("RGB").convert("L")
    return frame.convert("L")


def _compose(gray: Image.Image, dpi: int | None, rows: int, lpi: int) -> Image.Image:
    """Scale ``gray`` (at ``dpi`` both ways, or unknown) onto a white fax page and halftone it."""
    width, height = gray.size
    # Size on the fax grid: across at 204 dpi, down at lpi.
    if dpi is None:
        fit = min(FAX_WIDTH / width, rows * X_DPI / lpi / height)
        target = (width * fit, height * fit * lpi / X_DPI)
    else:
        target = (width * X_DPI / dpi, height * lpi / dpi)
        if target[0] > FAX_WIDTH or target[1] > rows:
            shrink = min(FAX_WIDTH / target[0], rows / target[1])
            target = (target[0] * shrink, target[1] * shrink)
    size = (min(FAX_WIDTH, max(1, round(target[0]))), min(rows, max(1, round(target[1]))))
    if size != gray.size:
        gray = gray.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    page = Image.new("L", (FAX_WIDTH, rows), 255)
    page.paste(gray, ((FAX_WIDTH - size[0]) // 2, 0))
    return binarise(page)


# -- plain text -------------------------------------------------------------------


def _as_text(data: bytes) -> str | None:
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f\b")
    if controls > max(2, len(text) // 100):
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _text_lines(text: str, per_page: int) -> Iterator[list[str]]:
    """The lines of each page, one page at a time."""
    for chunk in _split(text, "\f"):
        lines: list[str] = []
        for line in chunk.expandtabs(8).split("\n"):
            line = line.rstrip()
            lines.extend([line[i : i + TEXT_COLUMNS] for i in range(0, len(line), TEXT_COLUMNS)] or [""])
        while lines and lines[-1] == "":
            lines.pop()
        for i in range(0, max(len(lines), 1), per_page):
            yield lines[i : i + per_page]


def _split(text: str, separator: str) -> Iterator[str]:
    """``text.split(separator)`` one part at a time (a page bomb is mostly separators)."""
    start = 0
    while (end := text.find(separator, start)) != -1:
        yield text[start:end]
        start = end + len(separator)
    yield text[start:]


def _text_layout(rows: int, lpi: int) -> tuple[int, int]:
    """(rows of the square 204 x 204 dpi canvas, text lines per page)."""
    square_rows = round(rows * X_DPI / lpi)
    return square_rows, int(square_rows / (X_DPI / TEXT_LPI)) - 2 * TEXT_MARGIN_LINES


def text_pages(text: str, rows: int, lpi: int) -> list[Image.Image]:
    """Plain text in a monospace font, 80 columns, 6 lines per inch; form feed starts a page."""
    return list(iter_text_pages(text, rows, lpi))


def iter_text_pages(text: str, rows: int, lpi: int) -> Iterator[Image.Image]:
    """Like :func:`text_pages`, one page at a time."""
    square_rows, per_page = _text_layout(rows, lpi)  # drawn on a square 204 x 204 dpi grid
    line_height = X_DPI / TEXT_LPI
    font = _font(size=round(X_DPI * 10 / 72 * 1.2))  # about 12 pt: 0.1 in advance
    left = round((FAX_WIDTH - TEXT_COLUMNS * X_DPI / 10) / 2)
    for lines in _text_lines(text, per_page):
        canvas = Image.new("L", (FAX_WIDTH, square_rows), 255)
        draw = ImageDraw.Draw(canvas)
        for number, line in enumerate(lines):
            if line:
                top = round((TEXT_MARGIN_LINES + number) * line_height)
                draw.text((left, top), line, fill=0, font=font)
        del draw
        if square_rows != rows:
            drawn, canvas = canvas, canvas.resize((FAX_WIDTH, rows), Image.Resampling.BOX)
            drawn.close()
        page = canvas.point(_THRESHOLD, "1")
        canvas.close()
        yield page


_THRESHOLD = [0 if v < 160 else 255 for v in range(256)]


@functools.lru_cache(maxsize=4)
def _font(
    size: int, names: tuple[str, ...] = _FONT_NAMES, dirs: tuple[str, ...] = _FONT_DIRS
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A monospace TrueType font, or Pillow's built-in font with a warning."""
    for name in names:
        try:
            return ImageFont.truetype(name, size)  # Pillow searches the system font dirs
        except OSError:
            pass
    for directory in dirs:
        for name in names:
            for path in sorted(Path(directory).rglob(name)) if Path(directory).is_dir() else ():
                try:
                    return ImageFont.truetype(str(path), size)
                except OSError:
                    continue
    warnings.warn(
        "no monospace TrueType font found (install fonts-dejavu-core); using Pillow's built-in font",
        FontFallbackWarning,
        stacklevel=3,
    )
    return ImageFont.load_default(size)
