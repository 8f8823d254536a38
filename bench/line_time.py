"""Benchmark: seconds on the line per page in MH, MR and MMR+ECM, through the paced simulator.

A fixed set of five one-page documents (text Letter, dense text A4, a
spreadsheet, a photo, a greyscale scan), written as PostScript and turned
into PDF by ghostscript, is converted to fine-resolution fax pages by our
converter (pdfium, binarisation, libtiff coding) and by ghostscript
(``tiffg3``), CPU time per page measured for both.  Each page is then sent by
our driver through the simulated modem pair (T.30 timing, paced line, on a
simulated clock: the figures are simulated seconds, not wall-clock) in MH,
MR and MMR+ECM at 14,400 bit/s, and MMR+ECM at 33,600 bit/s in Class 2.1.
Printed per page: line seconds (page start to page end on the line), bits
of page data, the ratio to MH, and the ratio to the physical limit
(bits / bit rate); for the text pages, where the MMR+ECM time goes (MMR data
against MH, ECM framing, and the ratio against a receiver asking for a
minimum scan-line time).  The session timing of the simulator is compared with
sessions measured on real modems (``hwsim._t30.REFERENCE``).  The last line
is a summary for scripts.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "hw-sim")]

from twisted.internet.task import Clock  # noqa: E402
from twisted.internet.testing import StringTransport  # noqa: E402

from hwsim import _ecm, _page, _scanline  # noqa: E402
from hwsim import line as hwline  # noqa: E402
from hwsim import modem as sim  # noqa: E402
from hwsim._t30 import DEFAULT_T30, REFERENCE, REFERENCE_PAGE_BPS  # noqa: E402
from hwsim.pstn import Network  # noqa: E402
from modem import class2 as c2  # noqa: E402
from modem.coding import code_page  # noqa: E402
from modem.document import PageSize, Resolution, iter_render  # noqa: E402
from modem.driver import ModemProtocol  # noqa: E402
from modem.pagedata import CodedPage, Coding  # noqa: E402
from modem.params import PageFormat  # noqa: E402

GS_TIMEOUT = 300
A, B = "5550001", "5550002"
WORDS = [
    "invoice",
    "account",
    "balance",
    "total",
    "amount",
    "payment",
    "transfer",
    "remittance",
    "customer",
    "order",
    "shipment",
    "quantity",
    "delivery",
    "reference",
    "number",
    "date",
    "period",
    "statement",
    "summary",
    "details",
]
TEXT_SET = ("text-letter", "text-a4-dense", "spreadsheet")


# -- the page set ---------------------------------------------------------------------


def _text(rng: random.Random, lines: int, size: int, leading: int, top: int, width_pt: int) -> list[str]:
    out = [f"/Times-Roman findfont {size} scalefont setfont"]
    y = top
    for _ in range(lines):
        out.append(f"60 {y} moveto ({' '.join(rng.choice(WORDS) for _ in range(width_pt // (size * 4)))}) show")
        y -= leading
    return out


def _image(width: int, height: int, pixels: bytes, x: int, y: int, w: int, h: int) -> list[str]:
    return [
        f"gsave {x} {y} translate {w} {h} scale",
        f"{width} {height} 8 [{width} 0 0 -{height} 0 {height}] currentfile /ASCIIHexDecode filter image",
        pixels.hex() + ">",
        "grestore",
    ]


def documents(seed: int) -> dict[str, tuple[str, str]]:
    """name -> (PostScript, page size) of the five pages."""
    rng = random.Random(seed)
    letter, a4 = "[612 792]", "[595 842]"
    docs: dict[str, tuple[str, str]] = {}
    body = ["/Helvetica-Bold findfont 18 scalefont setfont 60 740 moveto (Quarterly statement) show"]
    body += _text(rng, 50, 11, 13, 710, 500)
    docs["text-letter"] = ("\n".join(body), letter)
    body = _text(rng, 95, 8, 8, 815, 480)
    docs["text-a4-dense"] = ("\n".join(body), a4)
    sheet = ["0.5 setlinewidth", "/Helvetica findfont 8 scalefont setfont"]
    for row in range(60):
        y = 760 - row * 12
        sheet.append(f"40 {y} moveto 572 {y} lineto stroke")
        for col in range(8):
            sheet.append(f"{44 + col * 66} {y - 9} moveto ({rng.randrange(10**6) / 100:.2f}) show")
    for col in range(9):
        sheet.append(f"{40 + col * 66.5:.1f} 760 moveto {40 + col * 66.5:.1f} 40 lineto stroke")
    docs["spreadsheet"] = ("\n".join(sheet), letter)
    w, h = 300, 400  # a photo: smooth shading, edges, texture
    pixels = bytes(
        max(
            0,
            min(
                255,
                int(
                    128
                    + 90 * ((x - w / 2) * (y - h / 3)) / (w * h / 4)
                    + (60 if (x - 150) ** 2 + (y - 250) ** 2 < 4000 else 0)
                    + rng.randrange(-12, 12)
                ),
            ),
        )
        for y in range(h)
        for x in range(w)
    )
    docs["photo"] = ("\n".join(_image(w, h, pixels, 60, 80, 490, 653)), letter)
    w, h = 425, 550  # a scan: grey paper, dark text strokes, noise, at 50 dpi of the page
    scan = bytearray(rng.randrange(175, 205) for _ in range(w * h))
    for line in range(40):
        y0 = 30 + line * 12
        for x0 in range(30, 395, 7):
            if rng.random() < 0.8:
                for dy in range(6):
                    for dx in range(rng.randrange(2, 6)):
                        scan[(y0 + dy) * w + x0 + dx] = rng.randrange(30, 80)
    docs["scan"] = ("\n".join(_image(w, h, bytes(scan), 0, 0, 612, 792)), letter)
    return docs


def text_document(gs: str, directory: Path, seed: int, pages: int = 10) -> Path:
    """A ``pages``-page text document (Letter): the per-page CPU figures without start-up costs."""
    body = []
    for number in range(pages):
        rng = random.Random(seed + number)
        body += [
            "<< /PageSize [612 792] >> setpagedevice",
            f"/Helvetica-Bold findfont 18 scalefont setfont 60 740 moveto (Statement page {number + 1}) show",
            *_text(rng, 50, 11, 13, 710, 500),
            "showpage",
        ]
    ps, pdf = directory / "text10.ps", directory / "text10.pdf"
    ps.write_text("%!PS-Adobe-3.0\n" + "\n".join(body) + "\n")
    subprocess.run(
        [gs, "-q", "-dSAFER", "-dNOPAUSE", "-dBATCH", "-sDEVICE=pdfwrite", f"-sOutputFile={pdf}", str(ps)],
        check=True,
        timeout=GS_TIMEOUT,
    )
    return pdf


def make_pdfs(gs: str, directory: Path, seed: int) -> dict[str, tuple[Path, PageSize]]:
    out = {}
    for name, (body, size) in documents(seed).items():
        ps, pdf = directory / f"{name}.ps", directory / f"{name}.pdf"
        ps.write_text(f"%!PS-Adobe-3.0\n<< /PageSize {size} >> setpagedevice\n{body}\nshowpage\n")
        subprocess.run(
            [gs, "-q", "-dSAFER", "-dNOPAUSE", "-dBATCH", "-sDEVICE=pdfwrite", f"-sOutputFile={pdf}", str(ps)],
            check=True,
            timeout=GS_TIMEOUT,
        )
        out[name] = (pdf, PageSize.A4 if size == "[595 842]" else PageSize.LETTER)
    return out


# -- conversion CPU -------------------------------------------------------------------


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def gs_cpu_ms(gs: str, pdf: Path, size: PageSize, out: Path, repeats: int, pages: int = 1) -> float:
    geometry = "-g1728x2156" if size is PageSize.LETTER else "-g1728x2292"
    start = cpu_seconds()
    for _ in range(repeats):
        subprocess.run(
            [
                gs,
                "-q",
                "-dSAFER",
                "-dNOPAUSE",
                "-dBATCH",
                "-sDEVICE=tiffg3",
                "-r204x196",
                geometry,
                f"-sOutputFile={out}",
                str(pdf),
            ],
            check=True,
            timeout=GS_TIMEOUT,
        )
    return (cpu_seconds() - start) / repeats / pages * 1000


def ours(pdf: Path, size: PageSize, codings: tuple[Coding, ...], pages: int = 1) -> CodedPage:
    coded = [code_page(page, codings) for page in iter_render(pdf.read_bytes(), Resolution.FINE, size)]
    assert len(coded) == pages, coded
    return coded[0]


def ours_cpu_ms(pdf: Path, size: PageSize, codings: tuple[Coding, ...], repeats: int, pages: int = 1) -> float:
    start = cpu_seconds()
    for _ in range(repeats):
        ours(pdf, size, codings, pages)
    return (cpu_seconds() - start) / repeats / pages * 1000


# -- sessions through the simulator ------------------------------------------------------


class Wire(StringTransport):
    def __init__(self, pump: Pump, number: str) -> None:
        super().__init__()
        self.pump, self.number = pump, number

    def write(self, data: bytes) -> None:
        self.pump.clock.callLater(0, self.pump.to_modem, self.number, bytes(data))


class Pump:
    """Our driver on two simulated modems and the simulated network, on a Clock."""

    def __init__(self, fax_class: str) -> None:
        self.clock = Clock()
        self.network = Network()
        self.modems = {n: sim.SimModem(sim.ModemConfig(fax_class=fax_class, t30=DEFAULT_T30), n) for n in (A, B)}
        for n in (A, B):
            self.network.add_line(n)
        self.protos: dict[str, ModemProtocol] = {}
        self.timers: dict[tuple[str, str], Any] = {}
        self.page_marks: list[tuple[str, float]] = []

    def attach(self, number: str, config: c2.SessionConfig) -> ModemProtocol:
        proto = ModemProtocol(self.clock, number, config)
        self.protos[number] = proto
        proto.makeConnection(Wire(self, number))
        return proto

    def to_modem(self, number: str, data: bytes) -> None:
        self.apply(number, self.modems[number].feed_dte(data))

    def apply(self, number: str, outputs: list[Any]) -> None:
        for out in outputs:
            if isinstance(out, sim.ToDTE):
                self.clock.callLater(0, self.protos[number].dataReceived, out.data)
            elif isinstance(out, sim.StartTimer):
                self._cancel(number, out.name)
                self.timers[(number, out.name)] = self.clock.callLater(out.seconds, self._fire, number, out.name)
            elif isinstance(out, sim.CancelTimer):
                self._cancel(number, out.name)
            else:
                if isinstance(out, hwline.ToLine) and isinstance(out.signal, (hwline.PageStart, hwline.PageEnd)):
                    self.page_marks.append((type(out.signal).__name__, self.clock.seconds()))
                for d in self.network.handle(number, out):
                    self.clock.callLater(0, lambda d=d: self.apply(d.number, self.modems[d.number].line_event(d.event)))

    def _fire(self, number: str, name: str) -> None:
        self.timers.pop((number, name), None)
        self.apply(number, self.modems[number].timer_expired(name))

    def _cancel(self, number: str, name: str) -> None:
        call = self.timers.pop((number, name), None)
        if call is not None and call.active():
            call.cancel()

    def run(self, *deferreds: Any, limit: float = 3600.0) -> list[Any]:
        results: list[Any] = [None] * len(deferreds)
        for i, d in enumerate(deferreds):
            d.addBoth(lambda value, i=i: results.__setitem__(i, value) or value)
        elapsed = 0.0
        while any(r is None for r in results) and elapsed < limit:
            self.clock.advance(0.125)
            elapsed += 0.125
        return results


def send(pages: list[Any], fax_class: str, ecm: bool, fine: bool = True) -> tuple[c2.SessionResult, list[float]]:
    """One call; the session result and each page's seconds on the line."""
    pump = Pump(fax_class)
    tx = pump.attach(A, c2.SessionConfig(local_id=A, ecm=ecm))
    rx = pump.attach(B, c2.SessionConfig(local_id=B))
    pump.run(tx.probe(), rx.probe())
    sent, got = pump.run(tx.send(B, pages, PageFormat(fine=fine)), rx.receive())
    if not (isinstance(sent, c2.SessionResult) and sent.ok and got.ok):
        raise SystemExit(f"line_time: the simulated session failed: {sent!r} / {got!r}")
    starts = [t for kind, t in pump.page_marks if kind == "PageStart"]
    ends = [t for kind, t in pump.page_marks if kind == "PageEnd"]
    return sent, [end - start for start, end in zip(starts, ends)]


MODES = [  # label, codings given, class, ECM, bit/s
    ("MH", (Coding.MH,), "2.0", False, 14400),
    ("MR", (Coding.MH, Coding.MR), "2.0", False, 14400),
    ("MMR+ECM", (Coding.MH, Coding.MR, Coding.MMR), "2.0", True, 14400),
    ("MMR+ECM V.34", (Coding.MH, Coding.MR, Coding.MMR), "2.1", True, 33600),
]


def breakdown(name: str, page: CodedPage, bps: int = 14400) -> str:
    """Where a text page's MMR+ECM line time goes, by the T.30/T.4 arithmetic of the simulator:
    MMR data against MH, the ECM framing (frame fields, zero insertion, RCP), and MMR+ECM/MH
    if the receiver asked for a minimum scan-line time (DIS st; our receiver asks for 0 ms)."""
    assert page.mmr is not None
    framer = _ecm.Framer(256)
    framer.feed(_page.reverse_bits(page.mmr))
    framer.close()
    mmr_bits, mh_bits = len(page.mmr) * 8, len(page.mh) * 8
    fields = framer.frames * (_ecm.FLAG_BITS + 6 * 8)  # flag, address, control, FCF, number, FCS
    stuffed = framer.bits - fields - mmr_bits
    ecm_s = framer.line_bits() / bps + (framer.blocks - 1) * sim.ModemConfig().ppr_seconds
    out = (
        f"{name:<15} MMR/MH bits {mmr_bits / mh_bits:.2f}; ECM +{fields / mmr_bits:.1%} frame fields"
        f" +{stuffed / mmr_bits:.1%} zero insertion, {framer.blocks} partial page(s);"
        f" MMR+ECM/MH {ecm_s / (mh_bits / bps):.2f}"
    )
    for st in (3, 5):
        scan = _scanline.ScanLines(_scanline.min_line_bits(st, True, bps))
        scan.feed(_page.reverse_bits(page.mh))
        ms = _scanline.MIN_SCAN_MS[st][1]
        out += f", {ms} ms lines {ecm_s / ((mh_bits + scan.fill_bits) / bps):.2f}"
    return out


def session_ratio() -> list[tuple[str, float, float]]:
    """Simulated session seconds against the real reference sessions."""
    fixed = DEFAULT_T30.connect + DEFAULT_T30.dcs + DEFAULT_T30.ppm + DEFAULT_T30.ppr + DEFAULT_T30.dcn
    rows = []
    for (resolution, count), real in sorted(REFERENCE.items()):
        seconds = REFERENCE[(resolution, 1)] - fixed
        body = bytes([0x00, 0x01]) + bytes([0x5A, 0x3C]) * int(seconds * REFERENCE_PAGE_BPS / 16) + b"\x00\x10\x01" * 3
        sent, _ = send([body] * count, "2.0", ecm=False, fine=resolution == "fine")
        rows.append((f"{count} page(s) {resolution}", sent.duration_s, real))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="conversions per page for the CPU figures")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    gs = shutil.which("gs")
    if gs is None:
        print("line_time: gs not found: install the Debian package ghostscript", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="line_time-") as tmp:
        directory = Path(tmp)
        pdfs = make_pdfs(gs, directory, args.seed)
        print(f"{'page':<15} {'mode':<13} {'line s':>7} {'bits':>9} {'/MH':>6} {'/limit':>7}")
        text_ratios, cpu, notes = [], {}, []
        for name, (pdf, size) in pdfs.items():
            page = ours(pdf, size, tuple(Coding))
            if name in TEXT_SET:
                notes.append(breakdown(name, page))
            mh_time = None
            for label, codings, fax_class, ecm, bps in MODES:
                coded = CodedPage(
                    page.mh, page.mr if Coding.MR in codings else None, page.mmr if Coding.MMR in codings else None
                )
                sent, times = send([coded], fax_class, ecm)
                assert sent.params is not None and sent.params.bps == bps, (label, sent.params)
                bits = len(coded.data(sent.params.df)) * 8
                mh_time = times[0] if label == "MH" else mh_time
                ratio = times[0] / mh_time if mh_time else 1.0
                print(
                    f"{name:<15} {label:<13} {times[0]:>7.1f} {bits:>9} {ratio:>6.2f} {times[0] / (bits / bps):>7.2f}"
                )
                if label == "MMR+ECM" and name in TEXT_SET:
                    text_ratios.append(ratio)
            cpu[name] = (
                ours_cpu_ms(pdf, size, (Coding.MH,), args.repeats),
                ours_cpu_ms(pdf, size, tuple(Coding), args.repeats),
                gs_cpu_ms(gs, pdf, size, directory / "gs.tif", args.repeats),
            )
        print()
        print("where the text pages' MMR+ECM line time goes (T.30/T.4 arithmetic, 14,400 bit/s):")
        for note in notes:
            print(note)
        print()
        print(f"{'page':<15} {'ours MH ms':>11} {'ours MH+MR+MMR ms':>18} {'gs tiffg3 ms':>13} {'ours(MH)/gs':>12}")
        for name, (mh, all3, g) in cpu.items():
            print(f"{name:<15} {mh:>11.1f} {all3:>18.1f} {g:>13.1f} {mh / g:>12.2f}")
        text10 = text_document(gs, directory, args.seed)
        many = (
            ours_cpu_ms(text10, PageSize.LETTER, (Coding.MH,), args.repeats, 10),
            ours_cpu_ms(text10, PageSize.LETTER, tuple(Coding), args.repeats, 10),
            gs_cpu_ms(gs, text10, PageSize.LETTER, directory / "gs.tif", args.repeats, 10),
        )
        print(
            f"{'10-page text':<15} {many[0]:>11.1f} {many[1]:>18.1f} {many[2]:>13.1f} {many[0] / many[2]:>12.2f}"
            f"   (MH+MR+MMR/gs {many[1] / many[2]:.2f})"
        )
        print()
        print(f"{'session':<22} {'simulated s':>12} {'real s':>8} {'ratio':>6}")
        sessions = session_ratio()
        for label, simulated, real in sessions:
            print(f"{label:<22} {simulated:>12.1f} {real:>8.1f} {simulated / real:>6.2f}")
    # per page of a 10-page text document (ghostscript's start-up shared out), MH as gs makes
    text_cpu = many[0] / many[2]
    session = statistics.mean(s / r for _, s, r in sessions)
    print(
        f"summary: text MMR+ECM/MH line time {statistics.mean(text_ratios):.2f}; "
        f"conversion CPU ours/gs {text_cpu:.2f}; simulated/real T.30 session time {session:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
