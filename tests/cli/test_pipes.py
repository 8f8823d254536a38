"""`status --watch` into a pipe: no clear-screen codes, and when the reader
closes the pipe early the command ends quietly (no BrokenPipeError)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from appliance.jobs import open_job_store
from tests.e2e.harness import ENV


def test_watch_into_a_pipe_closed_early(tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir()
    open_job_store(f"sqlite:///{data}/faxappliance.db").close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "appliance.cli", "status", "--data-dir", str(data), "--watch", "--interval", "0.05"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
    )
    assert proc.stdout is not None and proc.stderr is not None
    head = b"".join(proc.stdout.readline() for _ in range(12))
    proc.stdout.close()  # like `| head -12`
    try:
        code = proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert b"\x1b[" not in head and b"APPLIANCE" in head and b"--- " in head
    assert code == 0 and "Traceback" not in err and "BrokenPipe" not in err, err
