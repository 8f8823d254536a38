"""Start ``faxappliance run`` on the embedded default as a subprocess, with
free ports and its own data directory; always killed at the end."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'hw-sim'}", "PYTHONUNBUFFERED": "1"}


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A port free for both UDP and TCP right now."""
    while True:
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        try:
            with (
                socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t,
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u,
            ):
                t.bind(("127.0.0.1", port))
                u.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    """Poll ``predicate`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout} s")


def faxappliance(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a faxappliance command with a hard timeout."""
    return subprocess.run(
        [sys.executable, "-m", "appliance.cli", *args],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class RunningAppliance:
    """``faxappliance run --data-dir DIR/var`` with overrides; a context manager."""

    def __init__(self, base: Path, *extra: str, fast: bool = True) -> None:
        self.base = base
        self.data_dir = base / "var"
        self.auth_port = free_port()
        self.acct_port = free_port()
        self.web_port = free_port(socket.SOCK_STREAM)
        self.smtp_port = free_port(socket.SOCK_STREAM)
        self.extra = list(extra) + (["--fast"] if fast else [])
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"sqlite:///{self.data_dir}/faxappliance.db"

    def start(self) -> RunningAppliance:
        self.starts += 1
        run_file = self.data_dir / "run.json"
        if run_file.exists():
            run_file.unlink()
        out_path, err_path = self.base / f"run{self.starts}.out", self.base / f"run{self.starts}.log"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:  # the child keeps its own descriptors
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "appliance.cli",
                    "run",
                    "--data-dir",
                    str(self.data_dir),
                    "--auth-port",
                    str(self.auth_port),
                    "--acct-port",
                    str(self.acct_port),
                    "--web-port",
                    str(self.web_port),
                    "--smtp-port",
                    str(self.smtp_port),
                    "--retry-interval",
                    "1",
                    "--ring-seconds",
                    "1",
                    *self.extra,
                ],
                cwd=self.base,
                env=ENV,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        try:
            wait_for(lambda: self.log().count(" is online") >= self.online_lines(), 30, "lines online")
            wait_for(lambda: "RADIUS acct listening" in self.log(), 10, "RADIUS listening")
        except AssertionError:
            self.stop()
            raise AssertionError(f"the appliance did not start; log:\n{self.log()[-3000:]}") from None
        return self

    def online_lines(self) -> int:
        return 4 - sum(1 for a in self.extra if a == "--unattended")

    def log(self) -> str:
        path = self.base / f"run{self.starts}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def run_info(self) -> dict[str, Any]:
        return dict(json.loads((self.data_dir / "run.json").read_text()))

    def device(self, number: str) -> str:
        return next(str(line["device"]) for line in self.run_info()["lines"] if line["number"] == number)

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> int | None:
        """SIGTERM; SIGKILL after 20 s.  Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        return self.proc.returncode

    def __enter__(self) -> RunningAppliance:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
        if self.proc is not None and self.proc.poll() is None:  # pragma: no cover - stop() killed it
            os.killpg(self.proc.pid, signal.SIGKILL)

    # -------------------------------------------------------------- queue
    def send(self, number: str, *files: Path) -> int:
        """``faxappliance send``; the fax id."""
        res = faxappliance(
            "send",
            "--data-dir",
            str(self.data_dir),
            "--to",
            number,
            "--format",
            "json",
            *(str(f) for f in files),
            cwd=self.base,
        )
        assert res.returncode == 0, res.stdout + res.stderr
        return int(json.loads(res.stdout.strip().splitlines()[-1])["fax_id"])

    def entries(self, fax_id: int) -> list[Any]:
        from appliance.jobs import open_job_store

        store = open_job_store(self.url, init=False)
        try:
            return store.list_entries(fax_id=fax_id)
        finally:
            store.close()

    def attempts(self, entry_id: int) -> list[Any]:
        from appliance.jobs import open_job_store

        store = open_job_store(self.url, init=False)
        try:
            return store.attempts(entry_id)
        finally:
            store.close()

    def wait_done(self, fax_id: int, timeout: float = 40) -> Any:
        entry = wait_for(
            lambda: next((e for e in self.entries(fax_id) if e.terminal), None), timeout, f"fax {fax_id} done"
        )
        return entry

    def cdrs(self) -> list[Any]:
        from radius.store import open_store

        store = open_store(self.url)
        try:
            return list(store.list_cdrs(stops_only=True))
        finally:
            store.close()

    def remote_faxes(self, number: str) -> list[Path]:
        return sorted((self.data_dir / "remote" / number).glob("fax-*.tif"))


def make_pdf(path: Path, pages: int = 3) -> Path:
    """A PDF with ``pages`` different pages (text and black boxes)."""
    from PIL import Image, ImageDraw

    images = []
    for i in range(pages):
        image = Image.new("L", (1240, 1754), 255)
        draw = ImageDraw.Draw(image)
        draw.text((120, 100 + 200 * i), f"page {i + 1} of {pages}", fill=0)
        draw.rectangle((200, 400 + 120 * i, 1000, 480 + 120 * i), fill=0)
        draw.ellipse((300 + 60 * i, 900, 700 + 60 * i, 1300), outline=0, width=8)
        images.append(image.convert("RGB"))
    images[0].save(path, save_all=True, append_images=images[1:], resolution=150.0)
    return path
