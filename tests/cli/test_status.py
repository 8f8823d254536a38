"""`faxappliance status` and `send` tell whether an appliance is running
(its heartbeat) instead of showing stale line states as live."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest

from appliance.heartbeat_state import record
from tests.cli.conftest import Run

LINES = {"lines": [{"name": "line2", "did": "5550002", "state": "sending", "device": "/dev/pts/9"}]}


@pytest.fixture
def var(tmp_path: Path) -> Path:
    """The data directory of the CLI fixtures' config, with a recent lines.json."""
    data = tmp_path / "var"
    data.mkdir()
    (data / "lines.json").write_text(json.dumps({**LINES, "updated_at": time.time()}))
    return data


def beat(var: Path, pid: int, age: float = 0.0) -> None:
    (var / "heartbeat.json").write_text(json.dumps(record(pid, socket.gethostname(), time.time() - age, 2.0, 0.0)))


def test_status_without_heartbeat_is_not_running_and_hides_line_states(run: Run, var: Path):
    """No heartbeat: exit 3, "not running", and lines.json is not shown as live."""
    result = run("status")
    assert result.code == 3
    assert result.out.startswith("APPLIANCE  not running: no heartbeat file")
    assert "sending" not in result.out and "line2" not in result.out


def test_status_with_live_heartbeat_shows_lines(run: Run, var: Path):
    """A fresh heartbeat of a live process: exit 0 with the live line states."""
    beat(var, os.getpid())
    result = run("status")
    assert result.code == 0
    assert result.out.startswith(f"APPLIANCE  running (pid {os.getpid()} on ")
    assert "line2" in result.out and "sending" in result.out


@pytest.mark.parametrize("age", [30.0, 0.0])
def test_status_with_stale_or_orphaned_heartbeat_is_not_running(run: Run, var: Path, age: float):
    """A heartbeat too old, or one whose process is gone, is not running (exit 3), in JSON too."""
    beat(var, os.getpid() if age else _dead_pid(), age)
    result = run("status", "--format", "json")
    snap = json.loads(result.out)
    assert result.code == 3 and snap["appliance"]["running"] is False and snap["lines"] == []
    assert ("s old" if age else "is gone") in snap["appliance"]["reason"]


def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_send_queues_and_says_the_appliance_is_not_running(run: Run, var: Path, tmp_path: Path):
    """send still queues without an appliance, and says nothing sends until it runs."""
    doc = tmp_path / "note.txt"
    doc.write_text("hello\n")
    result = run("send", "--to", "5551234", str(doc))
    assert result.code == 0 and result.out.startswith("queued ")
    assert "the appliance is not running" in result.err and "stays queued" in result.err


def test_send_wait_gives_up_when_the_appliance_is_not_running(run: Run, var: Path, tmp_path: Path):
    """send --wait without a running appliance ends with exit 3 and a message instead of waiting forever."""
    doc = tmp_path / "note.txt"
    doc.write_text("hello\n")
    beat(var, os.getpid(), age=60.0)
    started = time.monotonic()
    result = run("send", "--to", "5551234", "--wait", "--timeout", "600", str(doc))
    assert result.code == 3 and time.monotonic() - started < 60
    assert "not waiting: the appliance is not running" in result.err


def test_send_wait_gives_up_when_the_heartbeat_goes_stale(run: Run, var: Path, tmp_path: Path):
    """A heartbeat that stops being renewed while send --wait waits ends the wait with exit 3."""
    doc = tmp_path / "note.txt"
    doc.write_text("hello\n")
    beat(var, os.getpid(), age=4.0)  # stale 2 s from now (3 intervals of 2 s)
    started = time.monotonic()
    result = run("send", "--to", "5551234", "--wait", str(doc))
    assert result.code == 3 and 1.0 < time.monotonic() - started < 60
    assert "s old" in result.err
