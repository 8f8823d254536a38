"""Benchmark: a 10-page mixed PDF to fine-resolution fax page data, ours against ghostscript.

Ours: modem.convert.document_t4 (pdfium render, halftone, libtiff T.4 encode
with modem framing), serially and with a warm pool of worker processes.
Ghostscript: ``gs -sDEVICE=tiffg3 -r204x196 -g1728x2156`` (a TIFF of T.4
pages), as fax servers call it.  Both make the same number of 1728 x 2156
pages.  Prints pages/s for each and the ratio ours/gs (goal >= 1.0).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

from PIL import Image, ImageSequence

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from modem.convert import document_t4
from modem.document import PageSize, Resolution

WORDS = [
    "fax",
    "modem",
    "page",
    "line",
    "pels",
    "resolution",
    "facsimile",
    "transmission",
    "document",
    "appliance",
    "network",
    "telephone",
    "receiver",
    "sender",
    "header",
    "group",
    "three",
    "coding",
    "huffman",
    "run",
    "length",
    "scan",
]
GS_TIMEOUT = 300


def postscript(pages: int, seed: int) -> str:
    """A reproducible PostScript document: text pages, text + picture, picture-heavy pages."""
    rng = random.Random(seed)
    out = ["%!PS-Adobe-3.0", f"%%Pages: {pages}", "%%EndComments"]
    for number in range(pages):
        kind = number % 3  # 0: full text, 1: text + small picture, 2: text + large picture
        out += [f"%%Page: {number + 1} {number + 1}", "<< /PageSize [612 792] >> setpagedevice"]
        out.append(f"/Helvetica-Bold findfont 16 scalefont setfont 72 740 moveto (Benchmark page {number + 1}) show")
        out.append("/Times-Roman findfont 10 scalefont setfont")
        y = 716
        for _ in range(55 if kind == 0 else 25):
            out.append(f"72 {y} moveto ({' '.join(rng.choice(WORDS) for _ in range(13))}) show")
            y -= 12
        if kind:
            width, height = (240, 160) if kind == 1 else (400, 300)
            pixels = bytes(
                (x * 255 // width + rng.randrange(40)) % 256 if (x // 20 + row // 20) % 2 else row * 255 // height
                for row in range(height)
                for x in range(width)
            )
            out.append(f"gsave 72 {y - 20 - height * 0.9:.0f} translate {width * 0.9:.0f} {height * 0.9:.0f} scale")
            out.append(
                f"{width} {height} 8 [{width} 0 0 -{height} 0 {height}] currentfile /ASCIIHexDecode filter image"
            )
            out.append(pixels.hex() + ">")
            out.append("grestore")
            out.append("0.5 setgray 400 80 moveto 100 0 rlineto 0 100 rlineto closepath fill 0 setgray")
        out.append("showpage")
    out.append("%%EOF")
    return "\n".join(out) + "\n"


def make_pdf(gs: str, directory: Path, pages: int, seed: int) -> Path:
    """Write the PostScript and let ghostscript turn it into a PDF."""
    source, pdf = directory / "mixed.ps", directory / "mixed.pdf"
    source.write_text(postscript(pages, seed))
    subprocess.run(
        [gs, "-q", "-dSAFER", "-dNOPAUSE", "-dBATCH", "-sDEVICE=pdfwrite", f"-sOutputFile={pdf}", str(source)],
        check=True,
        timeout=GS_TIMEOUT,
    )
    return pdf


def gs_convert(gs: str, pdf: Path, out: Path) -> list[int]:
    """ghostscript's fax conversion; returns the bytes of T.4 data per page."""
    subprocess.run(
        [
            gs,
            "-q",
            "-dSAFER",
            "-dNOPAUSE",
            "-dBATCH",
            "-sDEVICE=tiffg3",
            "-r204x196",
            "-g1728x2156",
            f"-sOutputFile={out}",
            str(pdf),
        ],
        check=True,
        timeout=GS_TIMEOUT,
    )
    with Image.open(out) as tiff:
        sizes = []
        for frame in ImageSequence.Iterator(tiff):
            assert frame.size == (1728, 2156), frame.size
            sizes.append(sum(frame.tag_v2[279]))
    return sizes


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and its waited-for children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def best_and_median(run: Callable[[], object], repeats: int) -> tuple[float, float, float, object]:
    """(best, median) wall time and mean CPU time over ``repeats`` runs, and the last result."""
    times, result = [], None
    cpu_start = cpu_seconds()
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), (cpu_seconds() - cpu_start) / repeats, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)
    gs = shutil.which("gs")
    if gs is None:
        print("imaging: gs not found: install the Debian package ghostscript", file=sys.stderr)
        return 2
    print(f"load average at start: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench-imaging-") as temp:
        directory = Path(temp)
        pdf = make_pdf(gs, directory, args.pages, args.seed)
        data = pdf.read_bytes()
        print(f"document: {args.pages} pages, {len(data)} bytes of PDF; fine resolution (204 x 196 dpi), Letter")

        def ours_serial() -> list[bytes]:
            return document_t4(data, Resolution.FINE, PageSize.LETTER)

        gs_convert(gs, pdf, directory / "warm.tif")
        ours_serial()
        rows = []
        gs_best, gs_median, gs_cpu, gs_sizes = best_and_median(
            lambda: gs_convert(gs, pdf, directory / "gs.tif"), args.repeats
        )
        rows.append(("ghostscript tiffg3", gs_best, gs_median, gs_cpu, gs_sizes))
        rows.append(("ours, 1 process", *best_and_median(ours_serial, args.repeats)))
        start = time.perf_counter()
        with ProcessPoolExecutor(args.workers) as pool:
            document_t4(data, Resolution.FINE, PageSize.LETTER, executor=pool)
            cold = time.perf_counter() - start
            rows.append(
                (
                    f"ours, {args.workers} processes",
                    *best_and_median(
                        lambda: document_t4(data, Resolution.FINE, PageSize.LETTER, executor=pool), args.repeats
                    ),
                )
            )
        with ThreadPoolExecutor(args.workers) as threads:
            rows.append(
                (
                    f"ours, {args.workers} threads",
                    *best_and_median(
                        lambda: document_t4(data, Resolution.FINE, PageSize.LETTER, executor=threads), args.repeats
                    ),
                )
            )
    print(f"{'converter':<24} {'pages/s best':>12} {'median':>8} {'ratio/gs':>9} {'CPU ms/page':>12} {'KiB/page':>9}")
    for name, best, median, cpu, result in rows:
        sizes = [len(page) for page in result] if name.startswith("ours") else result  # type: ignore[union-attr]
        assert len(sizes) == args.pages, (name, len(sizes))
        # Worker processes of a live pool are not counted by getrusage.
        cpu_text = "-" if "processes" in name else f"{cpu / args.pages * 1000:.1f}"
        print(
            f"{name:<24} {args.pages / best:>12.1f} {args.pages / median:>8.1f} "
            f"{gs_best / best:>9.2f} {cpu_text:>12} {sum(sizes) / len(sizes) / 1024:>9.1f}"
        )
    print(f"process pool start-up plus first run: {cold:.2f} s (a service keeps its pool warm)")
    print(f"load average at end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
