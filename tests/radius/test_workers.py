"""Several worker processes on the same ports (``[radius] workers = 2``), as
real processes on loopback: retransmissions from many source ports reach the
worker holding the original in its duplicate cache; a worker killed with
SIGKILL under accounting load is started again and no acknowledged CDR is
lost; a port in use fails start-up with the one-line message."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from radius.codec import decode_reply, encode_request
from radius.model import Code
from radius.store import open_store
from tests.radius.helpers import dictionary
from tests.radius.server_process import ROOT, free_udp_ports, running

DICT = dictionary()
DATASET = {"accounts": [{"name": "alice", "snd_ani": "5035550100"}]}


def workers_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "--ppid", str(pid), "-o", "pid=,args="], capture_output=True, text=True).stdout
    return [int(line.split()[0]) for line in out.splitlines() if "appliance.radius_worker" in line]


def all_listening(server, n: int = 2) -> bool:
    """Every worker has joined the port group (a late one would change where the kernel sends a peer)."""
    return server.log().count(") listening") >= n


def wait_for(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def exchange(sock: socket.socket, data: bytes, port: int, timeout: float = 2.0) -> bytes | None:
    sock.sendto(data, ("127.0.0.1", port))
    ready, _, _ = select.select([sock], [], [], timeout)
    return sock.recv(4096) if ready else None


def pre_send(ident: int, secret: bytes) -> bytes:
    attrs = [("FB-Command", 1), ("FB-Context", 3), ("User-Name", "alice")]
    return encode_request(Code.ACCESS_REQUEST, ident, attrs, secret, DICT, authenticator=os.urandom(16))


def ani(reply: bytes) -> str:
    return dict(decode_reply(reply, DICT)[2])["FB-Snd-ANI"]  # type: ignore[return-value]


@pytest.fixture
def server(tmp_path: Path):
    extra = "change_feed_seconds = 0.1\ndecision_cache_seconds = 0\nduplicate_cache_seconds = 20\n"
    yield from running(tmp_path, DATASET, workers=2, extra_config=extra)


def test_retransmissions_from_many_source_ports_hit_the_duplicate_cache(server) -> None:
    """48 client sockets each send a request; the account then changes (and every worker sees the
    change: fresh requests get the new value); the retransmissions still get the original replies,
    byte for byte, so each reached the worker that answered the original."""
    secret = server.secret.encode()
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(48)]
    try:
        assert wait_for(lambda: all_listening(server))
        originals = []
        for i, sock in enumerate(sockets):
            sock.bind(("127.0.0.1", 0))
            request = pre_send(i, secret)
            reply = exchange(sock, request, server.auth_port)
            assert reply is not None and ani(reply) == "5035550100"
            originals.append((request, reply))
        admin = open_store(f"sqlite:///{server.db_path}")
        try:
            admin.update_account("alice", snd_ani="1111111111")
        finally:
            admin.close()

        def everyone_sees_it() -> bool:
            fresh = []
            for i in range(16):  # fresh sockets, spread over both workers
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.bind(("127.0.0.1", 0))
                    reply = exchange(s, pre_send(100 + i, secret), server.auth_port)
                    fresh.append(reply is not None and ani(reply) == "1111111111")
            return all(fresh)

        assert wait_for(everyone_sees_it, timeout=10)
        for sock, (request, reply) in zip(sockets, originals):
            again = exchange(sock, request, server.auth_port)
            assert again == reply  # the cached reply (old ANI), not a new decision
    finally:
        for sock in sockets:
            sock.close()


def stop_request(session: str, secret: bytes) -> bytes:
    attrs = [("Acct-Status-Type", 2), ("Acct-Session-Id", session), ("User-Name", "alice"), ("FB-Page-Count", 1)]
    return encode_request(
        Code.ACCOUNTING_REQUEST, 7, attrs, secret, DICT, authenticator=bytes(16), message_authenticator=False
    )


def test_killed_worker_is_restarted_and_no_acknowledged_cdr_is_lost(server) -> None:
    """32 NAS sockets send Stops in rounds (unanswered ones are resent, as a NAS does); after the
    third round one worker is killed with SIGKILL.  Every Stop that got an Accounting-Response is
    in the store, the supervisor starts a new worker, and in the end every Stop is answered."""
    secret = server.secret.encode()
    assert wait_for(lambda: all_listening(server))
    sockets = []
    for _ in range(32):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
    acked: set[str] = set()
    outstanding: dict[int, tuple[str, bytes]] = {}
    killed = None
    try:
        for round_ in range(14):
            if round_ == 3:
                killed = workers_of(server.process.pid)[0]
                os.kill(killed, signal.SIGKILL)
            for i, sock in enumerate(sockets):
                if i not in outstanding and round_ < 10:
                    session = f"r{round_}-s{i}"
                    outstanding[i] = (session, stop_request(session, secret))
                if i in outstanding:
                    sock.sendto(outstanding[i][1], ("127.0.0.1", server.acct_port))
            deadline = time.monotonic() + 0.5
            while outstanding and time.monotonic() < deadline:
                ready, _, _ = select.select(
                    [s for i, s in enumerate(sockets) if i in outstanding],
                    [],
                    [],
                    max(0.0, deadline - time.monotonic()),
                )
                for sock in ready:
                    i = sockets.index(sock)
                    reply = sock.recv(4096)
                    if decode_reply(reply, DICT)[0] == Code.ACCOUNTING_RESPONSE and i in outstanding:
                        acked.add(outstanding.pop(i)[0])
            if round_ >= 10 and not outstanding:
                break
        assert not outstanding, f"{len(outstanding)} Stops never answered"
        store = open_store(f"sqlite:///{server.db_path}")
        try:
            stored = {c.session_id for c in store.list_cdrs(stops_only=True)}
        finally:
            store.close()
        assert len(acked) > 250 and acked <= stored  # a resent Stop holds its socket back a round
        assert wait_for(lambda: all_listening(server, 3))  # the new worker listens
        assert len(workers_of(server.process.pid)) == 2 and killed not in workers_of(server.process.pid)
        assert "RADIUS worker" in server.log() and "starting it again" in server.log()
    finally:
        for sock in sockets:
            sock.close()


def test_port_in_use_fails_start_up_with_one_line(tmp_path: Path) -> None:
    auth_port, acct_port = free_udp_ports(2)
    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    holder.bind(("127.0.0.1", auth_port))  # no SO_REUSEPORT: nobody may share it
    config = tmp_path / "faxappliance.toml"
    config.write_text(
        f'data_dir = "{tmp_path}/var"\n[storage]\nurl = "sqlite:///{tmp_path}/r.db"\n\n'
        f'[radius]\nlisten = "127.0.0.1"\nauth_port = {auth_port}\nacct_port = {acct_port}\nworkers = 2\n\n'
        '[[radius.clients]]\naddress = "127.0.0.1"\nsecret = "a-secret-of-sixteen-plus"\n'
    )
    try:
        done = subprocess.run(
            [sys.executable, "-m", "appliance.cli", "--config", str(config), "radius"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        holder.close()
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{auth_port}/udp (RADIUS auth): Address already in use" in done.stderr
    assert "Traceback" not in done.stderr


def test_run_with_workers_serves_radius_from_worker_processes(tmp_path: Path) -> None:
    """``faxappliance run`` with ``workers = 2``: RADIUS comes from two worker processes (the rest
    of the appliance stays in the main process); stopping the main process stops them."""
    auth_port, acct_port = free_udp_ports(2)
    secret = "a-secret-of-sixteen-plus"
    config = tmp_path / "faxappliance.toml"
    config.write_text(
        f'data_dir = "{tmp_path}/var"\n[storage]\nurl = "sqlite:///{tmp_path}/r.db"\n\n'
        f'[radius]\nlisten = "127.0.0.1"\nauth_port = {auth_port}\nacct_port = {acct_port}\nworkers = 2\n\n'
        f'[[radius.clients]]\naddress = "127.0.0.1"\nsecret = "{secret}"\n'
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "appliance.cli", "--config", str(config), "run"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        from tests.radius.server_process import status_ok

        assert wait_for(
            lambda: (
                status_ok("127.0.0.1", auth_port, secret.encode())
                and status_ok("127.0.0.1", acct_port, secret.encode())
            ),
            timeout=20,
        )
        workers = workers_of(proc.pid)
        assert len(workers) == 2
    finally:
        proc.terminate()
        proc.wait(15)
    assert wait_for(lambda: not any(os.path.exists(f"/proc/{pid}") for pid in workers), timeout=10)
