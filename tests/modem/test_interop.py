"""Real fax programs (mgetty's sendfax, efax) and our driver across simulated lines on real ptys,
both classes; received pages decode (netpbm) to the bitmaps that were sent."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.peers import require_program

from .interop import ENV, SimLines, cli, make_pbm, pbm_pixels, run, wait_output

pytestmark = [pytest.mark.interop, pytest.mark.slow]
CLASSES = ["2.0", "2"]


def prefix(tmp_path: Path, tag: str) -> str:
    """Links to the ptys live in the test's temp directory (no root needed for /dev)."""
    return str(tmp_path / f"ttyFAX{tag}")


def pages(tmp_path: Path, pbmtog3: str) -> list[tuple[Path, bytes]]:
    """Two different test pages as (G3 file from pbmtog3, original raster)."""
    out = []
    for n in (1, 2):
        pbm = tmp_path / f"page{n}.pbm"
        raster = make_pbm(pbm, seed=n)
        g3 = tmp_path / f"page{n}.g3"
        with pbm.open("rb") as src, g3.open("wb") as dst:
            subprocess.run([pbmtog3], stdin=src, stdout=dst, check=True, timeout=30)
        out.append((g3, raster))
    return out


def start_receiver(device: str, out: Path, fax_class: str) -> subprocess.Popen[str]:
    """Our ``modem receive`` on ``device``; returns once it waits for the call."""
    proc = subprocess.Popen(
        cli("modem", "receive", device, "--out", str(out), "--raw", "--wait", "90", "--class", fax_class),
        cwd=Path(__file__).resolve().parents[2],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_output(proc, "waiting for a call", timeout=60)  # printed after the probe
    except AssertionError:
        proc.kill()
        raise
    return proc


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate(timeout=10)
    return proc.returncode, out + (err or "")


def decode_g3(g3topbm: str, path: Path) -> bytes:
    return subprocess.run([g3topbm, str(path)], capture_output=True, check=True, timeout=30).stdout


@pytest.mark.parametrize("fax_class", CLASSES)
def test_sendfax_to_our_receiver(tmp_path: Path, fax_class: str) -> None:
    """mgetty's sendfax sends 2 pages from line A; our driver on line B stores bit-exact pages."""
    sendfax = require_program("sendfax", "mgetty-fax")
    pbmtog3 = require_program("pbmtog3", "netpbm")
    g3topbm = require_program("g3topbm", "netpbm")
    sent = pages(tmp_path, pbmtog3)
    with SimLines(prefix(tmp_path, "S"), fax_class) as lines:
        rx = start_receiver(lines.devices[1], tmp_path / "in", fax_class)
        mode = "c2.0" if fax_class == "2.0" else "cls2"
        res = run([sendfax, "-v", "-C", mode, "-l", lines.ptys[0], lines.numbers[1], *(str(g) for g, _ in sent)])
        code, log = finish(rx)
    assert res.returncode == 0, res.stdout + res.stderr
    assert code == 0, log
    assert "pages: 2 of 2" in log and "caller id: 5550001" in log
    got = sorted((tmp_path / "in").glob("*-p00?.g3"))
    assert len(got) == 2
    for path, (_, raster) in zip(got, sent):
        width, height, pixels = pbm_pixels(decode_g3(g3topbm, path))
        assert (width, height) == (1728, len(raster) // 216)
        assert pixels == raster
    assert list((tmp_path / "in").glob("*.tif")) and list((tmp_path / "in").glob("*.pdf"))


@pytest.mark.parametrize("fax_class", CLASSES)
def test_our_sender_to_efax(tmp_path: Path, fax_class: str) -> None:
    """Our driver sends 2 pages from line A; efax receives on line B; its pages decode to the same bitmaps."""
    efax = require_program("efax", "efax")
    pbmtog3 = require_program("pbmtog3", "netpbm")
    tifftopnm = require_program("tifftopnm", "netpbm")
    sent = pages(tmp_path, pbmtog3)
    option = "-o0" if fax_class == "2.0" else "-o2"
    with SimLines(prefix(tmp_path, "E"), fax_class) as lines:
        rx = subprocess.Popen(
            [efax, "-d", lines.devices[1], option, "-jS0=1", "-w", "-r", str(tmp_path / "rx")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        wait_output(rx, "waiting for activity")  # efax has set up the modem
        res = run(
            cli(
                "modem",
                "send",
                lines.devices[0],
                "--class",
                fax_class,
                "--to",
                lines.numbers[1],
                *(str(g) for g, _ in sent),
            )
        )
        code, log = finish(rx)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "pages: 2 of 2" in res.stdout and "hangup:" in res.stdout
    assert code == 0, log
    for n, (_, raster) in enumerate(sent, start=1):
        pnm = subprocess.run(
            [tifftopnm, str(tmp_path / f"rx.{n:03d}")], capture_output=True, check=True, timeout=30
        ).stdout
        width, height, pixels = pbm_pixels(pnm)
        assert (width, height) == (1728, len(raster) // 216)
        assert pixels == raster


@pytest.mark.parametrize("fax_class", CLASSES)
def test_efax_to_our_receiver(tmp_path: Path, fax_class: str) -> None:
    """efax sends 2 PBM pages (adding its header lines); our driver receives them intact."""
    efax = require_program("efax", "efax")
    g3topbm = require_program("g3topbm", "netpbm")
    rasters = [make_pbm(tmp_path / f"page{n}.pbm", seed=n) for n in (1, 2)]
    option = "-o0" if fax_class == "2.0" else "-o2"
    with SimLines(prefix(tmp_path, "F"), fax_class) as lines:
        rx = start_receiver(lines.devices[1], tmp_path / "in", fax_class)
        res = run(
            [
                efax,
                "-d",
                lines.devices[0],
                option,
                "-t",
                lines.numbers[1],
                *(str(tmp_path / f"page{n}.pbm") for n in (1, 2)),
            ]
        )
        code, log = finish(rx)
    assert res.returncode == 0, res.stdout + res.stderr
    assert code == 0, log
    got = sorted((tmp_path / "in").glob("*-p00?.g3"))
    assert len(got) == 2
    for path, raster in zip(got, rasters):
        width, height, pixels = pbm_pixels(decode_g3(g3topbm, path))
        assert width == 1728 and height >= len(raster) // 216
        # efax puts 20 header lines on top, its text running into the first image rows
        skip = 8 * 216
        assert pixels.endswith(raster[skip:])


@pytest.mark.parametrize("fax_class", CLASSES)
def test_efax_resends_after_rtn_our_receiver_stores_each_page_once(tmp_path: Path, fax_class: str) -> None:
    """hwsim answers RTN to efax's first copy of page 1; efax resends it; `modem receive` stores exactly 3 pages."""
    efax = require_program("efax", "efax")
    g3topbm = require_program("g3topbm", "netpbm")
    rasters = [make_pbm(tmp_path / f"page{n}.pbm", seed=n, rows=40) for n in (1, 2, 3)]
    faults = tmp_path / "faults.toml"
    faults.write_text("[line.5550002]\nrtn_pages = [1]\n")
    option = "-o0" if fax_class == "2.0" else "-o2"
    with SimLines(prefix(tmp_path, "R"), fax_class, faults=faults) as lines:
        rx = start_receiver(lines.devices[1], tmp_path / "in", fax_class)
        res = run(
            [
                efax,
                "-d",
                lines.devices[0],
                option,
                "-t",
                lines.numbers[1],
                *(str(tmp_path / f"page{n}.pbm") for n in (1, 2, 3)),
            ]
        )
        code, log = finish(rx)
    assert res.returncode == 0, res.stdout + res.stderr
    assert code == 0, log
    assert "pages: 3 of 3" in log and log.count("not kept: a page transmission") == 1, log
    assert "the modem answered RTN" in log
    got = sorted((tmp_path / "in").glob("*-p00?.g3"))
    assert len(got) == 3
    for path, raster in zip(got, rasters):
        width, _height, pixels = pbm_pixels(decode_g3(g3topbm, path))
        assert width == 1728 and pixels.endswith(raster[8 * 216 :])  # below efax's header lines
