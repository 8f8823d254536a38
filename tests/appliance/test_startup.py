"""Start-up is all-or-nothing: a listener that cannot bind ends the process
within seconds with one line naming it; the heartbeat tells `status` the truth."""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path
from typing import Any

from twisted.application import service
from twisted.application.internet import StreamServerEndpointService
from twisted.internet import defer
from twisted.internet.error import CannotListenError
from twisted.internet.protocol import Factory

from appliance.cli import CliIO, main
from appliance.startup import describe_listen_error, start_all, stop_started
from tests.e2e.harness import ENV, free_port

DEADLINE = 10.0  # seconds; the process itself gives up well within 5 s


def test_describe_listen_error_names_address_port_transport_and_purpose():
    """One line: address:port/transport (purpose): the operating system's reason."""
    exc = CannotListenError("127.0.0.1", 1812, OSError(errno.EADDRINUSE, "Address already in use"))
    assert (
        describe_listen_error(exc, "udp", "RADIUS auth")
        == "cannot listen on 127.0.0.1:1812/udp (RADIUS auth): Address already in use"
    )
    exc = CannotListenError("::1", 443, OSError(errno.EACCES, "Permission denied"))
    assert describe_listen_error(exc, "tcp", "web") == "cannot listen on [::1]:443/tcp (web): Permission denied"
    exc = CannotListenError("", 80, OSError(errno.EACCES, "Permission denied"))
    assert describe_listen_error(exc, "tcp", "web").startswith("cannot listen on 0.0.0.0:80/tcp")


class Recorder(service.Service):
    def __init__(self, name: str, events: list[str]) -> None:
        self.setName(name)
        self.events = events

    def startService(self) -> None:
        super().startService()
        self.events.append(f"{self.name}.start")

    def stopService(self) -> None:
        super().stopService()
        self.events.append(f"{self.name}.stop")


class RefusingEndpoint:
    def listen(self, factory: Any) -> defer.Deferred[Any]:
        return defer.fail(CannotListenError("127.0.0.1", 8443, OSError(errno.EADDRINUSE, "Address already in use")))


def test_start_all_stops_what_started_and_never_touches_what_did_not():
    """A refused listener stops the services started before it; later ones never start or stop."""
    events: list[str] = []
    top = service.MultiService()
    Recorder("radius", events).setServiceParent(top)
    web = StreamServerEndpointService(RefusingEndpoint(), Factory())
    web.setName("portal")
    web.setServiceParent(top)
    never = StreamServerEndpointService(RefusingEndpoint(), Factory())  # stopping it unstarted raises
    never.setServiceParent(top)
    Recorder("heartbeat", events).setServiceParent(top)
    problem = start_all(top)
    assert problem == "cannot listen on 127.0.0.1:8443/tcp (portal): Address already in use"
    assert events == ["radius.start", "radius.stop"]
    assert not top.running and not web.running and not never.running
    stopped = []
    stop_started(top).addCallback(stopped.append)
    assert stopped == [None] and events == ["radius.start", "radius.stop"]


class SlowStop(service.Service):
    """A service whose stop finishes only when the test says so (e.g. it waits for the reactor)."""

    def __init__(self) -> None:
        self.done: defer.Deferred[None] = defer.Deferred()

    def stopService(self):
        super().stopService()
        return self.done


def test_shutdown_waits_for_the_stops_a_failed_start_began():
    """After a refused listener, the shutdown's stop_started still waits for the earlier
    services' stops (else threads they close at stop keep the process alive)."""
    top = service.MultiService()
    slow = SlowStop()
    slow.setServiceParent(top)
    StreamServerEndpointService(RefusingEndpoint(), Factory()).setServiceParent(top)
    assert start_all(top) is not None
    stopped = []
    stop_started(top).addCallback(stopped.append)
    assert stopped == []
    slow.done.callback(None)
    assert stopped == [None]


def test_stop_started_stops_running_children_in_reverse():
    """A clean stop stops every started child, last first."""
    events: list[str] = []
    top = service.MultiService()
    for name in ("a", "b", "c"):
        Recorder(name, events).setServiceParent(top)
    assert start_all(top) is None
    stop_started(top)
    assert events == ["a.start", "b.start", "c.start", "c.stop", "b.stop", "a.stop"]


# ---------------------------------------------------------------- the program


def faxappliance(tmp: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "appliance.cli", *args],
        cwd=tmp,
        env=ENV,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str, float]:
    started = time.monotonic()
    try:
        out, err = proc.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"still running after {DEADLINE} s; stdout {out!r} stderr {err[-2000:]!r}") from None
    return proc.returncode, out, err, time.monotonic() - started


def radius_config(tmp: Path, auth: int, acct: int, web: str = "") -> Path:
    path = tmp / "f.toml"
    path.write_text(
        f'data_dir = "{tmp / "var"}"\n[radius]\nlisten = "127.0.0.1"\nauth_port = {auth}\n'
        f'acct_port = {acct}\n[[radius.clients]]\naddress = "127.0.0.1"\nsecret = "s3cret-1-long-enough-x"\n{web}'
    )
    return path


def test_run_exits_with_one_line_when_the_radius_port_is_taken(tmp_path: Path):
    """Port 1812-style auth port in use: exit 1, one line on stderr, no "listening" message, no heartbeat."""
    auth, acct = free_port(), free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", auth))
        code, out, err, _ = finish(faxappliance(tmp_path, "--config", str(radius_config(tmp_path, auth, acct)), "run"))
    assert code == 1
    assert err == f"faxappliance: cannot listen on 127.0.0.1:{auth}/udp (RADIUS auth): Address already in use\n"
    assert "RADIUS auth on" not in out and not (tmp_path / "var" / "heartbeat.json").exists()


def test_run_exits_with_one_line_when_the_web_port_is_taken(tmp_path: Path):
    """Web port in use after RADIUS and the controller started: they are stopped, exit 1, one line, no traceback."""
    auth, acct = free_port(), free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        web_port = taken.getsockname()[1]
        web = (
            f'[portserver]\n[[portserver.servers]]\naddress = "127.0.0.1"\nauth_port = {auth}\n'
            f'acct_port = {acct}\nsecret = "s3cret-1-long-enough-x"\n[web]\nlisten = "127.0.0.1"\nport = {web_port}\n'
        )
        code, out, err, _ = finish(
            faxappliance(tmp_path, "--config", str(radius_config(tmp_path, auth, acct, web)), "run")
        )
    assert code == 1
    assert err == f"faxappliance: cannot listen on 127.0.0.1:{web_port}/tcp (web): Address already in use\n"
    assert out == ""


def test_embedded_default_exits_when_the_simulator_port_is_taken(tmp_path: Path):
    """The embedded default's FAXAGE simulator port in use: exit 1 with one line naming it."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err, _ = finish(
            faxappliance(
                tmp_path,
                "run",
                "--data-dir",
                str(tmp_path / "var"),
                "--auth-port",
                str(free_port()),
                "--acct-port",
                str(free_port()),
                "--faxage-port",
                str(port),
            )
        )
    assert code == 1
    assert err == f"faxappliance: cannot listen on 127.0.0.1:{port}/tcp (FAXAGE simulator): Address already in use\n"


def status(tmp: Path, config: Path) -> tuple[int, dict[str, Any]]:
    io = CliIO(stdout=StringIO(), stderr=StringIO())
    code = main(["--config", str(config), "status", "--format", "json"], io)
    return code, json.loads(io.stdout.getvalue())  # type: ignore[attr-defined]


def test_heartbeat_follows_the_process(tmp_path: Path):
    """Running: heartbeat, status 0, a second instance refused; SIGTERM removes it (status 3);
    after SIGKILL the left-over heartbeat names a pid that is gone (status 3)."""
    config = radius_config(tmp_path, free_port(), free_port())
    beat = tmp_path / "var" / "heartbeat.json"
    for how in (signal.SIGTERM, signal.SIGKILL):
        proc = faxappliance(tmp_path, "--config", str(config), "radius")
        try:
            assert proc.stdout is not None and proc.stdout.readline().startswith("RADIUS auth on")
            assert json.loads(beat.read_text())["pid"] == proc.pid
            code, snap = status(tmp_path, config)
            assert code == 0 and snap["appliance"] == {
                "running": True,
                "reason": snap["appliance"]["reason"],
                "pid": proc.pid,
            }
            if how == signal.SIGTERM:
                code, _, err, _ = finish(faxappliance(tmp_path, "--config", str(config), "radius"))
                assert code == 1 and err.startswith("faxappliance: another faxappliance (pid ")
        finally:
            proc.send_signal(how)
            proc.communicate(timeout=DEADLINE)
        assert beat.exists() == (how == signal.SIGKILL)
        code, snap = status(tmp_path, config)
        assert code == 3 and snap["appliance"]["running"] is False
    assert f"pid {proc.pid} is gone" in snap["appliance"]["reason"]
