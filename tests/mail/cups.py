"""A private CUPS scheduler (Debian cups) on a loopback port with a cups-pdf printer
(Debian printer-driver-cups-pdf); cups-pdf writes into ``~/PDF`` of the job's user."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.peers import IN_CI, require_program

BACKEND = Path("/usr/lib/cups/backend/cups-pdf")
PPD = Path("/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd")


class Cups:
    def __init__(self, port: int) -> None:
        self.cupsd = require_program("cupsd", "cups")
        self.lpadmin = require_program("lpadmin", "cups-client")
        if not BACKEND.exists() or not PPD.exists():
            message = "cups-pdf not found: install the Debian package printer-driver-cups-pdf"
            pytest.fail(message) if IN_CI else pytest.skip(message)
        if os.geteuid() != 0:
            pytest.skip("a private cupsd with the cups-pdf backend needs root")
        self.port = port
        self.base = Path(tempfile.mkdtemp(prefix="faxappliance-cups-"))
        os.chmod(self.base, 0o755)
        for d in ("spool", "cache", "state", "log"):
            (self.base / d).mkdir()
        if Path("/etc/cups/cups-pdf.conf").exists():
            shutil.copy("/etc/cups/cups-pdf.conf", self.base / "cups-pdf.conf")
        b = self.base
        (b / "cups-files.conf").write_text(
            f"ServerRoot {b}\nRequestRoot {b}/spool\nCacheDir {b}/cache\nStateDir {b}/state\n"
            f"ErrorLog {b}/log/error_log\nAccessLog {b}/log/access_log\nPageLog {b}/log/page_log\n"
            f"TempDir {b}/spool\nServerBin /usr/lib/cups\nDataDir /usr/share/cups\nUser lp\nGroup lp\n"
            "SystemGroup root lpadmin\nFileDevice No\n"
        )
        (b / "cupsd.conf").write_text(
            f"Listen 127.0.0.1:{port}\nLogLevel info\nWebInterface No\nBrowsing No\nDefaultAuthType None\n"
            "<Location />\n  Order allow,deny\n  Allow all\n</Location>\n"
            "<Location /admin>\n  Order allow,deny\n  Allow all\n</Location>\n"
            "<Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n"
        )
        self.proc = subprocess.Popen(
            [self.cupsd, "-f", "-c", str(b / "cupsd.conf"), "-s", str(b / "cups-files.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                time.sleep(0.1)
        subprocess.run(
            [self.lpadmin, "-h", f"127.0.0.1:{port}", "-p", "faxpdf", "-v", "cups-pdf:/", "-P", str(PPD), "-E"],
            check=True,
            capture_output=True,
            timeout=30,
        )

    @property
    def server(self) -> str:
        return f"127.0.0.1:{self.port}"

    def log(self) -> str:
        path = self.base / "log" / "error_log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.base, ignore_errors=True)
