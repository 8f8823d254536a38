"""Real fax programs on simulated lines: efax and mgetty's sendfax send a two-page fax
over the simulated PSTN to efax, in Class 2.0 and Class 2, and the pages efax
stores decode (netpbm) to the bitmaps that were sent.  Also the ``hwsim lines``
command itself: output format, device links, clean stop on SIGTERM."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.peers import require_program

ROOT = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 1728, 64
EFAX_HEADER_LINES = 20  # efax puts 20 lines (page header) above every page it sends

pytestmark = [pytest.mark.interop, pytest.mark.slow]


def make_pages(directory: Path) -> list[tuple[Path, bytes]]:
    """Two PBM bitmaps with distinct patterns, as raw G3 files made by pbmtog3."""
    pbmtog3 = require_program("pbmtog3", "netpbm")
    pages = []
    for k in (1, 2):
        rnd = random.Random(k)
        rows = bytearray()
        for y in range(HEIGHT):
            for x in range(WIDTH // 8):
                rows.append(rnd.choice((0x00, 0xFF, 0x0F, 0x3C)) if (y // 8 + x // 16 + k) % 3 == 0 else 0)
        pbm = directory / f"page{k}.pbm"
        pbm.write_bytes(b"P4\n%d %d\n" % (WIDTH, HEIGHT) + bytes(rows))
        g3 = directory / f"page{k}.g3"
        with pbm.open("rb") as src, g3.open("wb") as dst:
            subprocess.run([pbmtog3], stdin=src, stdout=dst, check=True, timeout=30)
        pages.append((g3, bytes(rows)))
    return pages


def decode(path: Path) -> Image.Image:
    """A received efax page (TIFF G3) decoded by netpbm's tifftopnm."""
    tifftopnm = require_program("tifftopnm", "netpbm")
    out = path.with_suffix(path.suffix + ".pbm")
    with out.open("wb") as dst:
        subprocess.run([tifftopnm, str(path)], stdout=dst, stderr=subprocess.DEVNULL, check=True, timeout=30)
    return Image.open(out).convert("1")


class LinesProcess:
    """``hwsim lines`` as a subprocess."""

    def __init__(self, fax_class: str, prefix: str, *extra: str) -> None:
        env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'hw-sim'}")
        cmd = [sys.executable, "-m", "hwsim.cli", "lines", "--count", "2", "--class", fax_class]
        self.proc = subprocess.Popen(
            [*cmd, "--link-prefix", prefix, *extra], stdout=subprocess.PIPE, text=True, env=env
        )
        self.lines: list[list[str]] = []
        assert self.proc.stdout is not None
        for _ in range(3):
            text = self.proc.stdout.readline().strip()
            if text == "ready":
                break
            self.lines.append(text.split())
        else:
            self.stop()
            pytest.fail("hwsim lines did not print ready")

    def stop(self) -> int:
        """SIGTERM and wait; the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)
            raise

    def flow(self) -> dict[str, dict[str, int]]:
        """After stop(): the flow-control figures printed per line (``flow <number> k=v ...``)."""
        assert self.proc.stdout is not None
        found = {}
        for text in self.proc.stdout.read().splitlines():
            if text.startswith("flow "):
                _, number, *pairs = text.split()
                found[number] = {k: int(v) for k, v in (p.split("=") for p in pairs)}
        return found


@pytest.fixture
def prefix() -> str:
    """A /dev link prefix unique to this test run (sendfax wants /dev/ paths)."""
    return f"/dev/ttyHWT{os.getpid()}x"


@pytest.fixture(params=["2.0", "2"])
def lines_proc(request: pytest.FixtureRequest, prefix: str) -> Iterator[tuple[str, LinesProcess]]:
    """Two simulated lines of the parametrised class, stopped afterwards."""
    proc = LinesProcess(request.param, prefix, "--no-t30")  # pages paced, phases at once: quick
    yield request.param, proc
    proc.stop()


def run_fax(sender: list[str], receiver_dev: str, fax_class: str, out: Path) -> tuple[str, str]:
    """Start efax receiving, run the sender; both logs (asserting both succeed)."""
    efax = require_program("efax", "efax")
    option = "-o0" if fax_class == "2.0" else "-o2"
    rx = subprocess.Popen(
        [efax, "-d", receiver_dev, option, "-jS0=1", "-w", "-r", str(out / "rx"), "-v", "ewinchamr"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        tx = subprocess.run(sender, capture_output=True, text=True, timeout=60)
        rx_log, _ = rx.communicate(timeout=30)
    finally:
        if rx.poll() is None:
            rx.kill()
            rx.communicate(timeout=10)
    tx_log = tx.stdout + tx.stderr
    assert tx.returncode == 0, tx_log
    assert rx.returncode == 0, rx_log
    return tx_log, rx_log


def assert_pages(out: Path, pages: list[tuple[Path, bytes]], offset: int, height: int = HEIGHT) -> None:
    """Each received page equals the sent bitmap (below ``offset`` header lines)."""
    for n, (_, bitmap) in enumerate(pages, 1):
        image = decode(out / f"rx.{n:03d}")
        assert image.size == (WIDTH, height + offset)
        body = image.crop((0, offset, WIDTH, offset + height))
        expected = Image.frombytes("1", (WIDTH, height), bitmap, "raw", "1;I")
        assert body.tobytes() == expected.tobytes(), f"page {n} differs"


def test_efax_sends_to_efax(lines_proc: tuple[str, LinesProcess], prefix: str, tmp_path: Path) -> None:
    """efax -> simulated PSTN -> efax: two pages arrive as sent, in both classes."""
    fax_class, _ = lines_proc
    efax = require_program("efax", "efax")
    pages = make_pages(tmp_path)
    option = "-o0" if fax_class == "2.0" else "-o2"
    sender = [efax, "-d", f"{prefix}0", option, "-h", "", "-t", "5550002", *(str(p) for p, _ in pages)]
    tx_log, _ = run_fax(sender, f"{prefix}1", fax_class, tmp_path)
    assert "flow control did not work" not in tx_log
    assert_pages(tmp_path, pages, EFAX_HEADER_LINES)


def test_sendfax_sends_to_efax(lines_proc: tuple[str, LinesProcess], prefix: str, tmp_path: Path) -> None:
    """mgetty's sendfax -> simulated PSTN -> efax: two pages arrive as sent, in both classes."""
    fax_class, _ = lines_proc
    sendfax = require_program("sendfax", "mgetty-fax")
    pages = make_pages(tmp_path)
    device = f"{prefix}0".removeprefix("/dev/")
    sender = [sendfax, "-v", "-C", "c2.0" if fax_class == "2.0" else "cls2", "-l", device, "5550002"]
    run_fax([*sender, *(str(p) for p, _ in pages)], f"{prefix}1", fax_class, tmp_path)
    assert_pages(tmp_path, pages, 0)


LONG_ROWS = 6468  # a long page: 140 s of line time at 14,400 bit/s


def long_page(directory: Path) -> tuple[Path, bytes]:
    """One 6,468-row page of dense patterns (about 250 KB of MH), as a pbmtog3 file."""
    pbmtog3 = require_program("pbmtog3", "netpbm")
    rnd = random.Random(99)
    rows = bytearray()
    for y in range(LONG_ROWS):
        for x in range(WIDTH // 8):
            rows.append(rnd.choice((0x00, 0xFF, 0x0F, 0x3C)) if (y // 6 + x // 12) % 3 == 0 else 0)
    pbm = directory / "long.pbm"
    pbm.write_bytes(b"P4\n%d %d\n" % (WIDTH, LONG_ROWS) + bytes(rows))
    g3 = directory / "long.g3"
    with pbm.open("rb") as src, g3.open("wb") as dst:
        subprocess.run([pbmtog3], stdin=src, stdout=dst, check=True, timeout=60)
    return g3, bytes(rows)


def test_sendfax_long_page_through_flow_control(prefix: str, tmp_path: Path) -> None:
    """mgetty's sendfax with a 6,468-row page: the simulated modem holds it back with XOFF
    whenever its 2 KiB buffer is three quarters full, so sendfax writes the page at the line
    rate and its post-page timer starts at the end of the page (a modem that swallowed the
    page would leave sendfax waiting out the line time: +FHS:-5 at real speed).  Line and
    T.30 times run ten times faster here."""
    sendfax = require_program("sendfax", "mgetty-fax")
    page = long_page(tmp_path)
    assert page[0].stat().st_size > 200_000
    proc = LinesProcess("2.0", prefix, "--time-scale", "0.1")
    try:
        device = f"{prefix}0".removeprefix("/dev/")
        run_fax([sendfax, "-v", "-C", "c2.0", "-l", device, "5550002", str(page[0])], f"{prefix}1", "2.0", tmp_path)
    finally:
        proc.stop()
    assert_pages(tmp_path, [page], 0, height=LONG_ROWS)
    flow = proc.flow()["5550001"]
    # XOFF again and again; what the modem held stayed bounded by what a pty has in flight
    # (it forwards a write at once, where a serial port stops sending at XOFF), not the page
    assert flow["xoffs"] >= 10 and flow["peak"] <= 64 * 1024 < page[0].stat().st_size, flow


def test_lines_command_prints_lines_and_stops_on_sigterm(tmp_path: Path) -> None:
    """`hwsim lines` prints number/device/link per line then ready; SIGTERM removes the links."""
    prefix = str(tmp_path / "fax")
    proc = LinesProcess("2.0", prefix, "--numbers", "100,200")
    try:
        assert [x[:3] for x in proc.lines] == [["line", "0", "100"], ["line", "1", "200"]]
        for i, (_, _, _, device, link) in enumerate(proc.lines):
            assert link == f"{prefix}{i}" and os.path.realpath(link) == device and os.path.exists(device)
    finally:
        assert proc.stop() == 0
    assert not any(os.path.lexists(f"{prefix}{i}") for i in range(2))


def test_lines_command_rejects_a_bad_fault_file(tmp_path: Path) -> None:
    """A fault file with an unknown key stops `hwsim lines` with a message naming it."""
    bad = tmp_path / "faults.toml"
    bad.write_text("[line.5550001]\nbusy_frist = 1\n")
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'hw-sim'}")
    result = subprocess.run(
        [sys.executable, "-m", "hwsim.cli", "lines", "--count", "1", "--faults", str(bad)],
        capture_output=True, text=True, timeout=30, env=env,
    )  # fmt: skip
    assert result.returncode == 2
    assert "busy_frist" in result.stderr and "line.5550001" in result.stderr
