"""HylaFAX's faxgetty receives our MMR+ECM pages through the simulated modems.

Debian's hylafax-server conflicts with mgetty-fax, so it is not installed:
``.ci/run`` unpacks hylafax-server and hylafax-client (``dpkg-deb -x``) into
``.ci/hylafax/root`` (or ``HYLAFAX_ROOT``), and faxgetty runs from there on a
copy of the spool.  faxgetty must run as root (it locks the line under
/var/lock and gives the spool files to uucp), so the test is skipped for
other users; without the unpacked tree it is skipped locally and fails in CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from modem.document import PageSize, Resolution, render
from tests.hwsim.test_interop import LinesProcess
from tests.peers import IN_CI, require_program

from .interop import ROOT, cli, run

pytestmark = [pytest.mark.interop, pytest.mark.slow]


def hylafax_root() -> Path:
    root = Path(os.environ.get("HYLAFAX_ROOT") or ROOT / ".ci" / "hylafax" / "root")
    if not (root / "usr" / "sbin" / "faxgetty").exists():
        message = (
            f"HylaFAX not unpacked in {root}: apt-get download hylafax-server hylafax-client, "
            "then dpkg-deb -x each .deb into that directory (.ci/run does)"
        )
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    if os.geteuid() != 0:
        pytest.skip("faxgetty runs as root (it locks the line and hands the spool to uucp)")
    return root


CONFIG = """CountryCode: 1
AreaCode: 555
FAXNumber: 5550002
LocalIdentifier: "HylaFAX 5550002"
ModemType: Class2.0
ModemRate: 19200
ModemFlowControl: xonxoff
RingsBeforeAnswer: 1
ServerTracing: 0xFFFFF
SessionTracing: 0xFFFFF
RecvFileMode: 0644
LogFileMode: 0644
Class2RecvDataTrigger: "\\022"
ModemResetDelay: 200
ModemReadyState: R
"""


def wait_for(check: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def test_hylafax_receives_our_mmr_ecm_page(tmp_path: Path) -> None:
    root = hylafax_root()
    gs = require_program("gs", "ghostscript")
    # not under tmp_path: pytest's base directory is private, and faxgetty works as uucp
    spool_parent = Path(tempfile.mkdtemp(prefix="hylafax-"))
    spool_parent.chmod(0o755)
    spool = spool_parent / "spool"
    shutil.copytree(root / "var" / "spool" / "hylafax", spool, symlinks=True, ignore=shutil.ignore_patterns("FIFO*"))
    for leftover in ("recvq", "log", "status"):  # a clean spool whatever ran in the tree before
        for path in (spool / leftover).iterdir():
            path.unlink()
    for path in [spool, *spool.rglob("*")]:  # faxgetty works as uucp, as in /var/spool/hylafax
        if not path.is_symlink():
            shutil.chown(path, "uucp", "uucp")
    prefix = f"/dev/ttyHFX{os.getpid()}x"
    device = f"{prefix}1".removeprefix("/dev/")
    (spool / "etc" / "config").write_text("LogFacility: daemon\n")
    (spool / "etc" / f"config.{device}").write_text(CONFIG)
    source, pdf = tmp_path / "page.ps", tmp_path / "page.pdf"
    source.write_text(
        "%!PS\n<< /PageSize [612 792] >> setpagedevice /Times-Roman findfont 14 scalefont setfont\n"
        + "\n".join(
            f"60 {y} moveto (Line {y}: a page for HylaFAX, coded MMR with ECM) show" for y in range(720, 80, -20)
        )
        + "\nshowpage\n"
    )
    subprocess.run(
        [gs, "-q", "-dSAFER", "-dNOPAUSE", "-dBATCH", "-sDEVICE=pdfwrite", f"-sOutputFile={pdf}", str(source)],
        check=True,
        timeout=60,
    )
    lines = LinesProcess("2.0", prefix, "--fast")  # no line time: the coding is what is tested
    env = dict(os.environ, LD_LIBRARY_PATH=str(root / "usr" / "lib" / "hylafax"))
    getty = subprocess.Popen(
        [str(root / "usr" / "sbin" / "faxgetty"), "-q", str(spool), device],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        status = spool / "status" / device
        wait_for(lambda: status.exists() and "idle" in status.read_text(), "faxgetty to be idle")
        sent = run(cli("modem", "send", f"{prefix}0", "--to", "5550002", "--page-size", "letter", str(pdf)))
        assert sent.returncode == 0, sent.stdout + sent.stderr
        assert "parameters: 1,5,0,2,3,2,0,0" in sent.stdout, sent.stdout  # MMR, ECM with 256-byte frames
        received = spool / "recvq" / "fax000000001.tif"
        wait_for(lambda: "RECV FAX: end" in _log(spool), "the received fax")
    finally:
        getty.terminate()
        try:
            getty.wait(timeout=15)
        except subprocess.TimeoutExpired:
            getty.kill()
            getty.wait(timeout=15)
        lines.stop()
    try:
        check_received(spool, received, pdf)
    finally:
        shutil.rmtree(spool_parent, ignore_errors=True)


def _log(spool: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted((spool / "log").glob("c*")))


def check_received(spool: Path, received: Path, pdf: Path) -> None:
    log = _log(spool)
    assert "REMOTE wants 2-D MMR" in log and "ECM" in log, log[-2000:]
    assert "RECV FAX (000000001)" in log, log[-2000:]
    with Image.open(received) as image:
        got = image.convert("1")
    sent_page = render(pdf.read_bytes(), Resolution.FINE, PageSize.LETTER)[0].image
    assert got.size == sent_page.size
    assert ImageChops.logical_xor(got, sent_page).getbbox() is None
