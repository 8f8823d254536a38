"""``faxappliance run`` on the embedded default: generated client secret kept
private and printed once, demo account, RADIUS answering."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.peers import require_program
from tests.radius.server_process import free_udp_ports, status_ok

ROOT = Path(__file__).resolve().parents[2]


def start(tmp: Path, auth: int, acct: int) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "appliance.cli",
            "run",
            "--data-dir",
            str(tmp / "var"),
            "--auth-port",
            str(auth),
            "--acct-port",
            str(acct),
            "--smtp-port",
            "0",
        ],
        cwd=tmp,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    lines = []
    deadline = time.monotonic() + 20
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
        if line.startswith("RADIUS auth on"):
            return proc, lines
    proc.kill()
    raise AssertionError(f"run did not start: {lines}")


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(10)


@pytest.mark.interop
def test_embedded_default_first_and_second_start(tmp_path):
    """First start prints the new secret and demo login; the secret file is 0600; restart keeps both."""
    radclient = require_program("radclient", "freeradius-utils")
    auth, acct = free_udp_ports(2)
    proc, lines = start(tmp_path, auth, acct)
    try:
        secret = (tmp_path / "var" / "radius-secret").read_text().strip()
        password = (tmp_path / "var" / "demo-password").read_text().strip()
        assert stat.S_IMODE((tmp_path / "var" / "radius-secret").stat().st_mode) == 0o600
        assert any(secret in ln for ln in lines) and any(f"demo / {password}" in ln for ln in lines)
        deadline = time.monotonic() + 10
        while not status_ok("127.0.0.1", auth, secret.encode()) and time.monotonic() < deadline:
            time.sleep(0.1)
        login = (
            f'FB-Command = Get-Account\nFB-Context = Account-Login\nUser-Name = "Demo"\n'
            f'User-Password = "{password}"\nMessage-Authenticator = 0x00\n'
        )
        done = subprocess.run(
            [radclient, "-d", str(ROOT / "dictionary"), f"127.0.0.1:{auth}", "auth", secret],
            input=login,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert "Received Access-Accept" in done.stdout
    finally:
        stop(proc)
    proc, lines = start(tmp_path, auth, acct)
    stop(proc)
    assert not any(secret in ln for ln in lines), "the secret is printed only on first start"
    assert (tmp_path / "var" / "radius-secret").read_text().strip() == secret
