"""Run ``faxappliance radius`` as a real process on loopback for interop tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radius.codec import decode_reply, encode_request
from radius.model import Code
from radius.store import open_store
from tests.radius.helpers import dictionary, populate

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SECRET = "interop-secret-radius"  # config refuses secrets under 16 characters


def free_udp_ports(n: int) -> list[int]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


@dataclass
class RunningServer:
    host: str
    auth_port: int
    acct_port: int
    secret: str
    db_path: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def status_ok(host: str, port: int, secret: bytes, timeout: float = 0.3) -> bool:
    d = dictionary()
    raw = encode_request(Code.STATUS_SERVER, 1, [], secret, d, authenticator=os.urandom(16))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(raw, (host, port))
        try:
            reply, _ = s.recvfrom(4096)
        except OSError:
            return False
    return decode_reply(reply, d)[0] in (Code.ACCESS_ACCEPT, Code.ACCOUNTING_RESPONSE)


def start_server(
    tmp: Path,
    dataset: dict[str, Any] | None = None,
    secret: str = DEFAULT_SECRET,
    extra_config: str = "",
    reject_delay: float | None = 0.0,
    workers: int = 1,
) -> RunningServer:
    """A running server; ``reject_delay`` None keeps the configured default (1 s), else sets it
    (0 by default: tests answer rejects at once); ``workers`` RADIUS worker processes (1: in the
    main process)."""
    auth_port, acct_port = free_udp_ports(2)
    if "workers" not in extra_config:
        extra_config += f"workers = {workers}\n"
    if reject_delay is not None:
        extra_config += f"reject_delay = {reject_delay}\n"
    db = tmp / "radius.db"
    if dataset:
        store = open_store(f"sqlite:///{db}")
        populate(store, dataset)
        store.close()
    config = tmp / "faxappliance.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite:///{db}"\n\n'
        f'[radius]\nlisten = "127.0.0.1"\nauth_port = {auth_port}\nacct_port = {acct_port}\n{extra_config}\n'
        f'[[radius.clients]]\naddress = "127.0.0.1"\nsecret = "{secret}"\n'
        f"require_message_authenticator = true\n"
    )
    log_path = tmp / "server.log"
    with open(log_path, "wb") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [sys.executable, "-m", "appliance.cli", "--config", str(config), "radius"],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = RunningServer("127.0.0.1", auth_port, acct_port, secret, db, proc, log_path)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{server.log()}")
        if status_ok("127.0.0.1", auth_port, secret.encode()):
            return server
        time.sleep(0.1)
    stop_server(server)
    raise RuntimeError(f"server did not answer Status-Server within 20 s:\n{server.log()}")


def stop_server(server: RunningServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(5)


def running(tmp: Path, dataset: dict[str, Any] | None = None, **kw: Any) -> Iterator[RunningServer]:
    server = start_server(tmp, dataset, **kw)
    try:
        yield server
    finally:
        stop_server(server)
