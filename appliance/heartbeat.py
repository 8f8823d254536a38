"""The local process heartbeat: ``<data_dir>/heartbeat.json`` (see
:mod:`appliance.heartbeat_state`), kept by the running appliance and read by
``faxappliance status`` and ``send``.

This is only "is a process serving this data directory alive?";
it is independent of any database-level node records.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from twisted.application import service
from twisted.internet import task
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from appliance.heartbeat_state import HEARTBEAT_FILE, HEARTBEAT_INTERVAL, MAX_RECORD_BYTES, Liveness, judge, record

__all__ = ["HeartbeatService", "liveness", "pid_alive", "read_record"]


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def _write_atomic(path: Path, data: dict[str, object]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(json.dumps(data))
    os.replace(tmp, path)


class HeartbeatService(service.Service):
    """Writes the heartbeat every ``interval`` seconds (LoopingCall on the
    injected reactor); removes it on stop.  The record is ~100 bytes in the
    local data directory, written with one small synchronous write."""

    log = Logger()

    def __init__(
        self, reactor: IReactorTime, data_dir: str | Path, *, pid: int, host: str, interval: float = HEARTBEAT_INTERVAL
    ) -> None:
        self.reactor = reactor
        self.path = Path(data_dir) / HEARTBEAT_FILE
        self.pid = pid
        self.host = host
        self.interval = interval
        self.started = 0.0
        self._loop: task.LoopingCall | None = None
        self._failed = False

    def startService(self) -> None:
        super().startService()
        self.started = self.reactor.seconds()
        self._loop = task.LoopingCall(self.beat)
        self._loop.clock = self.reactor
        self._loop.start(self.interval, now=True)

    def beat(self) -> None:
        """Write the record now (errors are logged once, then retried quietly)."""
        try:
            _write_atomic(self.path, record(self.pid, self.host, self.reactor.seconds(), self.interval, self.started))
        except OSError as exc:
            if not self._failed:
                self.log.error(
                    "cannot write the heartbeat {path}: {problem}",
                    path=str(self.path),
                    problem=exc.strerror or str(exc),
                )
            self._failed = True
        else:
            self._failed = False

    def stopService(self) -> None:
        super().stopService()
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            self.log.error(
                "cannot remove the heartbeat {path}: {problem}", path=str(self.path), problem=exc.strerror or str(exc)
            )


def read_record(data_dir: str | Path) -> object:
    """The parsed heartbeat record of ``data_dir`` (any JSON value; the text
    ``"too large"`` or ``"not JSON"`` when it is not a record); None when there is none.
    Raises OSError when the file exists but cannot be read."""
    path = Path(data_dir) / HEARTBEAT_FILE
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_RECORD_BYTES + 1)
    except FileNotFoundError:
        return None
    if len(raw) > MAX_RECORD_BYTES:
        return "too large"
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "not JSON"


def liveness(data_dir: str | Path, now: float | None = None) -> Liveness:
    """Is an appliance serving ``data_dir`` running?  (OSError when the
    heartbeat exists but cannot be read.)"""
    return judge(read_record(data_dir), time.time() if now is None else now, socket.gethostname(), pid_alive)
