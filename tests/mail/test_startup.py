"""The e-mail gateway's listener fails fast, like the others, when its port is taken."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.e2e.harness import ENV, free_port


def test_taken_smtp_port_stops_the_start(tmp_path: Path) -> None:
    """``run`` with the SMTP port in use exits 1 naming the address and the listener."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        res = subprocess.run(
            [
                sys.executable,
                "-m",
                "appliance.cli",
                "run",
                "--data-dir",
                str(tmp_path / "var"),
                "--fast",
                "--auth-port",
                str(free_port()),
                "--acct-port",
                str(free_port()),
                "--web-port",
                str(free_port(socket.SOCK_STREAM)),
                "--smtp-port",
                str(port),
            ],
            cwd=tmp_path,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert res.returncode == 1, res.stderr[-2000:]
    assert f"cannot listen on 127.0.0.1:{port}/tcp (e-mail gateway (SMTP)): Address already in use" in res.stderr
    assert "Traceback" not in res.stderr
