"""Helpers for the real-program tests: simulated lines in a subprocess, test pages."""

from __future__ import annotations

import os
import random
import selectors
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'hw-sim'}"}


class SimLines:
    """``python -m tests.modem.run_lines`` as a context manager; ``devices`` are the links."""

    def __init__(self, prefix: str, fax_class: str, count: int = 2, faults: Path | None = None) -> None:
        self.prefix, self.fax_class, self.count = prefix, fax_class, count
        self.faults = faults
        self.devices: list[str] = []  # the PREFIX<i> links
        self.ptys: list[str] = []  # the /dev/pts/N behind them
        self.numbers: list[str] = []
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> SimLines:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.modem.run_lines",
                self.prefix,
                self.fax_class,
                str(self.count),
                *([str(self.faults)] if self.faults else []),
            ],
            cwd=ROOT,
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.devices, self.ptys, self.numbers = [], [], []
        for _ in range(self.count + 1):
            line = self.proc.stdout.readline().strip()  # bounded: the child prints at once or dies
            if not line or line == "ready":  # EOF: the child died (reported below)
                break
            number, device, link = line.split()
            self.numbers.append(number)
            self.ptys.append(device)
            self.devices.append(link)
        if len(self.devices) != self.count:
            self.stop()
            raise RuntimeError(f"simulated lines did not start: {self.proc.stderr.read() if self.proc.stderr else ''}")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def __enter__(self) -> SimLines:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, v: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def make_pbm(path: Path, seed: int, rows: int = 120) -> bytes:
    """A 1728-pel wide PBM with a seeded pattern of black blocks; returns its pixel bytes."""
    rnd = random.Random(seed)
    width = 1728
    data = bytearray()
    for y in range(rows):
        for x in range(width // 8):
            hit = (y // 8 + x // 6 + seed) % 3 == 0 and rnd.random() < 0.8
            data.append(0xFF if hit else 0x00)
    path.write_bytes(b"P4\n%d %d\n" % (width, rows) + bytes(data))
    return bytes(data)


def pbm_pixels(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, raster) of a raw P4 PBM as netpbm writes it."""
    assert data.startswith(b"P4"), data[:20]
    parts = data.split(maxsplit=3)
    width, height = int(parts[1]), int(parts[2])
    raster = parts[3]
    return width, height, raster[len(raster) - width // 8 * height :]


def run(cmd: list[str], *, timeout: float = 120, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a program with a hard timeout; output captured for assertion messages."""
    return subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout)


def wait_output(proc: subprocess.Popen[str], text: str, timeout: float = 30.0) -> str:
    """Read ``proc``'s stdout (unbuffered) until ``text`` appears; fails after ``timeout`` seconds."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    seen = b""
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            seen += chunk
            if text.encode() in seen:
                return seen.decode(errors="replace")
    raise AssertionError(f"{text!r} not seen within {timeout} s; output so far: {seen!r}")


def cli(*args: str) -> list[str]:
    """Our ``faxappliance`` command line."""
    return [sys.executable, "-m", "appliance.cli", *args]
