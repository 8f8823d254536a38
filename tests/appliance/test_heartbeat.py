"""The local process heartbeat: written on a clock by the running appliance,
removed on a clean stop, and judged stale by age or a vanished pid."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from twisted.internet import task

from appliance.heartbeat import HeartbeatService, liveness, pid_alive, read_record
from appliance.heartbeat_state import HEARTBEAT_FILE, MAX_RECORD_BYTES, judge, record

HOST = "fax1"


def alive(*pids: int):
    return lambda pid: pid in pids


def test_no_record_is_not_running():
    """Without a heartbeat file the appliance is not running."""
    verdict = judge(None, 100.0, HOST, alive(42))
    assert not verdict.running and "no heartbeat" in verdict.reason


def test_fresh_record_of_a_live_pid_is_running():
    """A record younger than the stale limit, written by a live process, means running."""
    verdict = judge(record(42, HOST, 100.0, 2.0, 50.0), 105.0, HOST, alive(42))
    assert verdict.running and verdict.pid == 42 and verdict.age == 5.0


def test_record_older_than_three_intervals_is_stale():
    """Three intervals (at least 5 s) after the last beat the record is stale, even with the pid alive."""
    data = record(42, HOST, 100.0, 2.0, 50.0)
    assert judge(data, 105.9, HOST, alive(42)).running
    late = judge(data, 106.1, HOST, alive(42))
    assert not late.running and "6 s old" in late.reason
    slow = record(42, HOST, 100.0, 10.0, 50.0)
    assert judge(slow, 129.0, HOST, alive(42)).running and not judge(slow, 131.0, HOST, alive(42)).running


def test_vanished_pid_on_this_host_is_not_running():
    """A fresh record whose process is gone (killed) is not running."""
    verdict = judge(record(42, HOST, 100.0, 2.0, 50.0), 101.0, HOST, alive())
    assert not verdict.running and "pid 42 is gone" in verdict.reason


def test_pid_of_another_host_is_judged_by_age_only():
    """A record from another host (shared data directory) cannot have its pid checked here."""
    assert judge(record(42, "other", 100.0, 2.0, 50.0), 101.0, HOST, alive()).running


@pytest.mark.parametrize(
    "data",
    [
        "not JSON",
        [],
        {"pid": "42", "time": 1.0, "interval": 2.0},
        {"pid": 42, "time": 1.0, "interval": 0},
        {"pid": True, "time": 1.0, "interval": 2},
        {"pid": 4.5, "time": 1.0, "interval": 2.0},
    ],
)
def test_malformed_record_is_not_running(data):
    """Anything but a well-formed record means not running, with a reason."""
    verdict = judge(data, 1.0, HOST, alive(42))
    assert not verdict.running and "not a heartbeat record" in verdict.reason


def test_service_beats_on_the_clock_and_removes_the_file_on_stop(tmp_path: Path):
    """The record is written at start and every interval with the clock's time; a clean stop removes it."""
    clock = task.Clock()
    clock.advance(1000)
    svc = HeartbeatService(clock, tmp_path, pid=4242, host=HOST, interval=2.0)
    svc.startService()
    path = tmp_path / HEARTBEAT_FILE
    assert json.loads(path.read_text()) == record(4242, HOST, 1000.0, 2.0, 1000.0)
    clock.advance(2.0)
    assert json.loads(path.read_text())["time"] == 1002.0
    clock.advance(1.0)
    assert json.loads(path.read_text())["time"] == 1002.0
    assert (path.stat().st_mode & 0o777) == 0o600
    svc.stopService()
    assert not path.exists() and not clock.getDelayedCalls()


def test_service_logs_a_write_failure_once(tmp_path: Path):
    """A data directory that cannot be written is logged once, not at every beat."""
    from twisted.logger import LogLevel, capturedLogs

    clock = task.Clock()
    svc = HeartbeatService(clock, tmp_path / "missing", pid=1, host=HOST, interval=2.0)
    with capturedLogs() as events:
        svc.startService()
        clock.advance(2.0)
        clock.advance(2.0)
        svc.stopService()
    errors = [e for e in events if e["log_level"] == LogLevel.error]
    assert len(errors) == 1 and "cannot write the heartbeat" in errors[0]["log_format"]


def test_liveness_reads_the_file(tmp_path: Path):
    """liveness(): this process's fresh record is running; stale or oversized files are not."""
    path = tmp_path / HEARTBEAT_FILE
    assert not liveness(tmp_path).running
    path.write_text(json.dumps(record(os.getpid(), socket.gethostname(), 1000.0, 2.0, 900.0)))
    assert liveness(tmp_path, now=1001.0).running
    assert not liveness(tmp_path, now=1100.0).running
    path.write_text(" " * (MAX_RECORD_BYTES + 1))
    assert read_record(tmp_path) == "too large" and not liveness(tmp_path, now=1001.0).running


def test_pid_alive_tells_a_finished_process():
    """pid_alive() is true for this process and false for a child that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert pid_alive(os.getpid()) and not pid_alive(child.pid)
