"""The T.37 listener with a real SMTP client (swaks), its RADIUS and job seams replaced:
size limit (552), AUTH required (530) and checked (535 / accepted), several recipients per mail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer, reactor, threads
from twisted.internet.utils import getProcessOutputAndValue

from appliance.dialplan import DialPlan
from appliance.mail.config import GatewayConfig
from appliance.mail.gateway import Gateway, GatewayFactory, Refused
from tests.peers import require_program


class Seams:
    def __init__(self) -> None:
        self.submitted: list[tuple[str, str, list[Any], Any]] = []

    def authorize(self, sender: str) -> Any:
        if sender == "demo@localhost":
            return defer.succeed("demo")
        return defer.fail(Refused(550, f"sender {sender} is not allowed to send faxes: unknown sender"))

    def submit(self, sender: str, account: str, recipients: list[Any], submission: Any) -> Any:
        self.submitted.append((sender, account, recipients, submission))
        return defer.succeed([f"{len(self.submitted):08X}"])

    def login(self, user: str, password: str) -> Any:
        return defer.succeed(user == "demo" and password == "secret-pw")


async def _start(config: GatewayConfig, tls: Any = None) -> tuple[Any, Seams]:
    seams = Seams()
    gw = Gateway(
        config,
        reactor,
        authorize=seams.authorize,
        submit=seams.submit,
        run_blocking=threads.deferToThread,
        dialplan=DialPlan(),
        login=seams.login,
    )
    port = reactor.listenTCP(0, GatewayFactory(gw, tls), interface="127.0.0.1")
    return port, seams


async def _swaks(port: Any, *args: str) -> str:
    swaks = require_program("swaks", "swaks")
    out, err, _ = await getProcessOutputAndValue(
        swaks, ["--server", f"127.0.0.1:{port.getHost().port}", "--timeout", "10", *args], env={"PATH": "/usr/bin:/bin"}
    )
    return (out + err).decode()


@pytest.mark.interop
@pytest_twisted.ensureDeferred
async def test_size_limit_and_several_recipients(tmp_path: Path) -> None:
    """A mail over max_message_bytes gets 552 and queues nothing; two recipients share one submission."""
    port, seams = await _start(GatewayConfig(enabled=True, max_message_bytes=4000, port=0))
    try:
        big = tmp_path / "big.pdf"
        big.write_bytes(b"%PDF-1.4\n" + b"x" * 8000)
        out = await _swaks(port, "--from", "demo@localhost", "--to", "FAX=5550101@localhost", "--attach", f"@{big}")
        assert "<** 552 5.3.4 the message is larger than 4000 bytes" in out, out
        assert "SIZE 4000" in out and seams.submitted == []
        out = await _swaks(
            port,
            "--from",
            "demo@localhost",
            "--to",
            "FAX=5550101/ATTN=Bob@localhost,5550102@localhost",
            "--body",
            "Hello",
        )
        assert "250 2.0.0 queued: fax 00000001" in out, out
        ((sender, account, recipients, submission),) = seams.submitted
        assert (sender, account) == ("demo@localhost", "demo")
        assert [(t.number, t.attn, dialled) for t, dialled in recipients] == [
            ("5550101", "Bob", "5550101"),
            ("5550102", "", "5550102"),
        ]
        assert submission.comments == "Hello"
        out = await _swaks(port, "--from", "x@localhost", "--to", "FAX=1@localhost", "--quit-after", "RCPT")
        assert "<** 550 5.7.1 sender x@localhost is not allowed" in out, out
    finally:
        await port.stopListening()


@pytest.mark.interop
@pytest_twisted.ensureDeferred
async def test_recipient_limit() -> None:
    """Recipients beyond max_recipients get 452; the mail goes to the ones accepted."""
    port, seams = await _start(GatewayConfig(enabled=True, max_recipients=1, port=0))
    try:
        out = await _swaks(
            port, "--from", "demo@localhost", "--to", "5550101@localhost,5550102@localhost", "--body", "x"
        )
        assert "<** 452 4.5.3 at most 1 recipients" in out and "250 2.0.0 queued" in out, out
        assert [t.number for t, _ in seams.submitted[0][2]] == ["5550101"]
    finally:
        await port.stopListening()


@pytest.mark.interop
@pytest_twisted.ensureDeferred
async def test_auth_required_and_checked() -> None:
    """With require_auth: no AUTH -> 530; a wrong password -> 535; the right one is accepted."""
    port, _seams = await _start(GatewayConfig(enabled=True, require_auth=True, port=0))
    try:
        out = await _swaks(port, "--from", "demo@localhost", "--to", "FAX=5550101@localhost", "--quit-after", "RCPT")
        assert "<** 530 " in out and "5.7.0 authentication required" in out, out
        out = await _swaks(
            port,
            "--from",
            "demo@localhost",
            "--to",
            "FAX=5550101@localhost",
            "--auth",
            "LOGIN",
            "--auth-user",
            "demo",
            "--auth-password",
            "wrong-pw",
            "--quit-after",
            "RCPT",
        )
        assert "535 Authentication failed" in out, out
        out = await _swaks(
            port,
            "--from",
            "demo@localhost",
            "--to",
            "FAX=5550101@localhost",
            "--auth",
            "PLAIN",
            "--auth-user",
            "demo",
            "--auth-password",
            "secret-pw",
            "--body",
            "hi",
        )
        assert "250 2.0.0 queued" in out, out
    finally:
        await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_connections_beyond_the_limit_get_421() -> None:
    """With max_connections = 1 a second session is turned away with 421 while the first is open."""
    from twisted.internet.protocol import ClientCreator
    from twisted.protocols.basic import LineReceiver

    port, _ = await _start(GatewayConfig(enabled=True, max_connections=1, port=0))

    class Client(LineReceiver):
        delimiter = b"\r\n"

        def connectionMade(self) -> None:
            self.first: defer.Deferred[bytes] = defer.Deferred()

        def lineReceived(self, line: bytes) -> None:
            if not self.first.called:
                self.first.callback(line)

    creator = ClientCreator(reactor, Client)
    first = await creator.connectTCP("127.0.0.1", port.getHost().port)
    try:
        assert (await first.first).startswith(b"220")
        second = await creator.connectTCP("127.0.0.1", port.getHost().port)
        assert (await second.first).startswith(b"421 4.3.2 too many connections")
    finally:
        first.transport.loseConnection()
        await port.stopListening()


@pytest.mark.interop
@pytest_twisted.ensureDeferred
async def test_starttls_then_auth(tmp_path: Path) -> None:
    """With a certificate STARTTLS is offered and AUTH only after it (538 before); the mail goes over TLS."""
    from appliance.mail.gateway import tls_options
    from tests.tls_certs import make_cert

    cert, key = make_cert(tmp_path)
    port, seams = await _start(GatewayConfig(enabled=True, require_auth=True, port=0), tls_options(cert, key))
    try:
        out = await _swaks(
            port,
            "--tls",
            "--from",
            "demo@localhost",
            "--to",
            "FAX=5550101@localhost",
            "--auth",
            "LOGIN",
            "--auth-user",
            "demo",
            "--auth-password",
            "secret-pw",
            "--body",
            "hi",
        )
        assert "250-STARTTLS" in out and "TLS started" in out, out
        assert "250 2.0.0 queued" in out and len(seams.submitted) == 1, out
        out = await _swaks(
            port,
            "--from",
            "demo@localhost",
            "--to",
            "FAX=5550101@localhost",
            "--auth",
            "LOGIN",
            "--auth-user",
            "demo",
            "--auth-password",
            "secret-pw",
            "--auth-optional-strict",
        )
        assert "250-AUTH" not in out and "secret-pw" not in out.split("<-  250 SIZE")[0], out
    finally:
        await port.stopListening()
