"""The local process heartbeat record and the judgement "is the appliance
running?" (pure: the caller supplies the time, the host name and a way to
ask whether a process id is alive).

``faxappliance run`` (and ``radius``) keep ``<data_dir>/heartbeat.json``::

    {"pid": 4242, "host": "fax1", "time": 1764345600.0, "interval": 2.0, "started": 1764345000.0}

rewritten every ``interval`` seconds and removed on a clean stop.  A record
is *stale* when it is older than ``STALE_INTERVALS`` intervals (at least
``MIN_STALE_SECONDS``), or when it names a process of this host that is gone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["HEARTBEAT_FILE", "HEARTBEAT_INTERVAL", "STALE_INTERVALS", "Liveness", "judge", "record"]

HEARTBEAT_FILE = "heartbeat.json"
HEARTBEAT_INTERVAL = 2.0
STALE_INTERVALS = 3
MIN_STALE_SECONDS = 5.0
MAX_RECORD_BYTES = 4096  # a record is ~100 bytes; anything larger is not ours


@dataclass(frozen=True)
class Liveness:
    """The verdict on one heartbeat record."""

    running: bool
    reason: str  # for the user: why not running, or "pid N on HOST"
    pid: int | None = None
    age: float | None = None  # seconds since the last beat


def record(pid: int, host: str, now: float, interval: float, started: float) -> dict[str, object]:
    """The heartbeat record written at ``now``."""
    return {"pid": pid, "host": host, "time": now, "interval": interval, "started": started}


def _number(data: dict[str, object], key: str) -> float | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def judge(data: object, now: float, this_host: str, pid_alive: Callable[[int], bool]) -> Liveness:
    """Is the process that wrote ``data`` (a parsed record, or None when
    there is no file) still running at ``now``?"""
    if data is None:
        return Liveness(False, "no heartbeat file: the appliance is stopped or has not finished starting")
    if not isinstance(data, dict):
        return Liveness(False, "the heartbeat file is not a heartbeat record")
    beat, interval, pid = _number(data, "time"), _number(data, "interval"), _number(data, "pid")
    if beat is None or interval is None or pid is None or interval <= 0 or pid < 1 or pid != int(pid):
        return Liveness(False, "the heartbeat file is not a heartbeat record")
    pid_i = int(pid)
    host = data.get("host") if isinstance(data.get("host"), str) else ""
    age = now - beat
    stale_after = max(STALE_INTERVALS * interval, MIN_STALE_SECONDS)
    if age > stale_after:
        return Liveness(
            False, f"the heartbeat of pid {pid_i} is {age:.0f} s old (stale after {stale_after:.0f} s)", pid_i, age
        )
    if host == this_host and not pid_alive(pid_i):
        return Liveness(False, f"pid {pid_i} is gone (it stopped without removing its heartbeat)", pid_i, age)
    return Liveness(True, f"pid {pid_i} on {host or 'unknown host'}", pid_i, age)
