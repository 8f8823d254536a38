"""The delivery service against an SMTP server (twisted.mail's, in process): 250 -> sent,
4xx -> retried, 5xx -> failed; Maildir, printer (a recording ``lp``) and share destinations;
the outbox and receipts on a real SQLite store."""

from __future__ import annotations

import time
from email import policy
from email.parser import BytesParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer, reactor, task, threads
from twisted.mail import smtp
from zope.interface import implementer

from appliance.jobs import FaxSpec, Recipient, open_job_store
from appliance.jobs.model import EntryState, Result
from appliance.mail.config import SmtpConfig, StartTls
from appliance.mail.delivery import STOP_WAIT, DeliveryService
from appliance.mail.outbox import NewDelivery, open_mail_outbox
from appliance.mail.receipts import Receipts, wants_receipt


def run(fn: Any, *a: Any, **kw: Any) -> Any:
    return threads.deferToThread(fn, *a, **kw)


@pytest.fixture
def outbox(tmp_path: Path) -> Any:
    box = open_mail_outbox(f"sqlite:///{tmp_path}/store.db")
    yield box
    box.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.interop)])
def any_outbox(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """The outbox on each kind of store."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/store.db"
    else:
        url = request.getfixturevalue("pg_cluster").create_database("mailoutbox")
    box = open_mail_outbox(url)
    yield box
    box.close()


def test_outbox_dedupes_claims_with_a_lease_and_records_outcomes(any_outbox: Any) -> None:
    """Queueing twice is a no-op; a claimed delivery is not handed out again within its lease;
    a receipt is decided once (SQLite and PostgreSQL)."""
    outbox = any_outbox
    d = NewDelivery("k1", "email", "a@example.com", "f@example.com", b"msg", "", "inbox fax 1")
    assert outbox.enqueue([d, d], 100.0) == 1 and outbox.enqueue([d], 101.0) == 0
    (claimed,) = outbox.claim_due(100.0, 300.0)
    assert claimed.tries == 1 and claimed.payload == b"msg"
    assert outbox.claim_due(200.0, 300.0) == []
    assert [c.id for c in outbox.claim_due(401.0, 300.0, node="n1")] == [claimed.id]  # the lease ran out
    assert outbox.release_claims("n2", 402.0) == 0 and outbox.release_claims("n1", 402.0) == 1  # n1 restarted
    assert [c.id for c in outbox.claim_due(402.0, 300.0)] == [claimed.id]
    outbox.retry_later(claimed.id, "451 try later", 500.0, 401.0)
    assert outbox.claim_due(499.0, 300.0) == []
    outbox.mark_failed(claimed.id, "550 no such user", 501.0)
    assert outbox.counts() == {"queued": 0, "sent": 0, "failed": 1}
    assert outbox.get(claimed.id).tries == 3
    assert outbox.get(claimed.id).last_error == "550 no such user"
    r = NewDelivery("receipt:7", "email", "s@example.com", "f@example.com", b"\x00\xffbytes", "", "receipt")
    assert outbox.enqueue_receipt(7, [r], 600.0) and not outbox.enqueue_receipt(7, [r], 601.0)
    assert outbox.receipts_done([7, 8]) == {7}
    assert next(d for d in outbox.list() if d.dedupe == "receipt:7").payload == b"\x00\xffbytes"


@implementer(smtp.IMessageDelivery)
class _Server:
    """Accepts ok@, refuses busy@ with 451 (until told otherwise) and gone@ with 550."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.busy = True

    def receivedHeader(self, *a: Any) -> None:
        return None

    def validateFrom(self, helo: Any, origin: Any) -> Any:
        return origin

    def validateTo(self, user: Any) -> Any:
        local = user.dest.local.decode() if isinstance(user.dest.local, bytes) else str(user.dest.local)
        if local == "gone":
            raise smtp.SMTPBadRcpt(user, 550, "5.1.1 no such user")
        if local == "busy" and self.busy:
            raise smtp.SMTPBadRcpt(user, 451, "4.3.0 try again later")
        server = self

        class Message:
            def __init__(self) -> None:
                self.lines: list[bytes] = []

            def lineReceived(self, line: bytes) -> None:
                self.lines.append(line)

            def eomReceived(self) -> Any:
                server.received.append(b"\n".join(self.lines))
                return defer.succeed(None)

            def connectionLost(self) -> None:
                pass

        return Message


@pytest_twisted.ensureDeferred
async def test_smtp_outcomes(outbox: Any, tmp_path: Path) -> None:
    """250: sent once; 451: retried with backoff, then sent; 550: failed with the reply; no password logged."""
    server = _Server()
    factory = smtp.SMTPFactory()
    factory.protocol = smtp.ESMTP
    factory.buildProtocol = lambda addr: _proto(server)  # type: ignore[method-assign]
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    try:
        config = SmtpConfig(
            relay=f"127.0.0.1:{port.getHost().port}", starttls=StartTls.OFF, retry_initial=0.2, retry_max=0.5, timeout=5
        )
        svc = DeliveryService(outbox, config, reactor, reactor, run, maildir=tmp_path / "md", interval=0.1)
        for name in ("ok", "busy", "gone"):
            outbox.enqueue(
                [
                    NewDelivery(
                        name,
                        "email",
                        f"{name}@example.com",
                        "fax@example.com",
                        b"Subject: hi\r\n\r\nbody\r\n",
                        "",
                        f"test {name}",
                    )
                ],
                time.time(),
            )
        svc.startService()
        try:

            async def until(pred: Any) -> None:
                for _ in range(100):
                    if pred():
                        return
                    await task.deferLater(reactor, 0.1, lambda: None)
                raise AssertionError(outbox.list())

            await until(lambda: outbox.counts()["sent"] == 1 and outbox.counts()["failed"] == 1)
            busy = next(d for d in outbox.list() if d.dedupe == "busy")
            assert busy.state == "queued" and "451" in busy.last_error
            gone = next(d for d in outbox.list() if d.dedupe == "gone")
            assert gone.state == "failed" and gone.last_error.startswith("550")
            server.busy = False
            await until(lambda: outbox.counts()["sent"] == 2)
            assert len(server.received) == 2
        finally:
            svc.stopService()
    finally:
        await port.stopListening()


def _proto(server: _Server) -> Any:
    p = smtp.ESMTP()
    p.delivery = server
    p.host = b"test.example"
    return p


@pytest_twisted.ensureDeferred
async def test_maildir_printer_and_share(outbox: Any, tmp_path: Path) -> None:
    """Without a relay mail goes into the Maildir (once, under a fixed name); printers get ``lp -d``;
    shares get a copy."""
    lp_log = tmp_path / "lp.log"
    lp = tmp_path / "lp"
    lp.write_text(
        f'#!/bin/sh\necho "$@" >> {lp_log}\n[ "$2" = broken ] && {{ echo \'lp: no such queue\' >&2; exit 1; }}\n'
        "exit 0\n"
    )
    lp.chmod(0o755)
    fax = tmp_path / "fax.pdf"
    fax.write_bytes(b"%PDF-1.4 fax")
    share = tmp_path / "share"
    share.mkdir()
    outbox.enqueue(
        [
            NewDelivery("m", "email", "a@localhost", "fax@localhost", b"Subject: s\r\n\r\nb\r\n", "", "m"),
            NewDelivery("p", "printer", "office", "", None, str(fax), "inbox fax 3"),
            NewDelivery("b", "printer", "broken", "", None, str(fax), "inbox fax 3"),
            NewDelivery("s", "share", str(share), "", None, str(fax), "inbox fax 3"),
        ],
        time.time(),
    )
    svc = DeliveryService(
        outbox, SmtpConfig(retry_initial=60), reactor, reactor, run, maildir=tmp_path / "mail", interval=0.1, lp=str(lp)
    )
    svc.startService()
    try:
        for _ in range(100):
            if outbox.counts()["sent"] == 3:
                break
            await task.deferLater(reactor, 0.1, lambda: None)
    finally:
        svc.stopService()
    assert outbox.counts()["sent"] == 3, outbox.list()
    (mail,) = list((tmp_path / "mail" / "new").iterdir())
    assert BytesParser(policy=policy.default).parsebytes(mail.read_bytes())["Subject"] == "s"
    assert f"-d office -t inbox fax 3 -- {fax}" in lp_log.read_text()
    broken = next(d for d in outbox.list() if d.dedupe == "b")
    assert broken.state == "queued" and "lp exited with 1: lp: no such queue" in broken.last_error
    (copy,) = list(share.iterdir())
    assert copy.read_bytes() == b"%PDF-1.4 fax" and copy.suffix == ".pdf"
    from appliance.mail.delivery import maildir_deliver

    again = outbox.get(next(d.id for d in outbox.list() if d.dedupe == "m"))
    maildir_deliver(tmp_path / "mail", again)  # a resend after a crash changes nothing
    assert len(list((tmp_path / "mail" / "new").iterdir())) == 1


@pytest.mark.parametrize(
    "receipt,state,wanted",
    [
        ("always", EntryState.SENT, True),
        ("always", EntryState.FAILED, True),
        ("failure", EntryState.SENT, False),
        ("failure", EntryState.DEAD, True),
        ("success", EntryState.SENT, True),
        ("success", EntryState.FAILED, False),
        ("never", EntryState.FAILED, False),
    ],
)
def test_wants_receipt(receipt: str, state: EntryState, wanted: bool) -> None:
    """always / failure / success / never decide by the final state."""
    assert wants_receipt(receipt, state) is wanted


def test_receipt_is_queued_once(tmp_path: Path) -> None:
    """A finished fax with receipt=always and a sender address gets exactly one receipt mail."""
    url = f"sqlite:///{tmp_path}/store.db"
    jobs = open_job_store(url)
    box = open_mail_outbox(url)
    try:
        now = time.time()
        spec = FaxSpec(
            owner="demo",
            account="demo",
            receipt="always",
            sender_email_address="demo@localhost",
            pages=1,
            documents=("/nonexistent/fax.tif",),
        )
        _fax, _ = jobs.submit(spec, [Recipient(fax_number="5550101", name="Bob")], now)
        spec2 = FaxSpec(owner="demo", account="demo", receipt="always", pages=1, documents=("/x",))
        jobs.submit(spec2, [Recipient(fax_number="5550102")], now)  # no sender address: no receipt
        for _ in range(2):
            (claim,) = jobs.claim("n1", now + 1, "line", ["line1"], 1)
            jobs.complete(claim.entry.id, Result.ok(1, 5.0, "FAR"), now + 2)
        receipts = Receipts(jobs, box, "fax@localhost")
        assert receipts.check(now + 3) == 1 and receipts.check(now + 4) == 0
        (d,) = box.list()
        msg = BytesParser(policy=policy.default).parsebytes(d.payload)
        assert d.target == "demo@localhost" and msg["Subject"] == "Fax to Bob: sent"
    finally:
        jobs.close()
        box.close()


@pytest_twisted.ensureDeferred
async def test_starttls_required_refuses_a_plain_relay(outbox: Any, tmp_path: Path) -> None:
    """starttls = required and a relay without STARTTLS, or credentials and a relay without AUTH: nothing is
    sent, the delivery is retried later (not failed), the password is in no error."""
    server = _Server()
    factory = smtp.SMTPFactory()
    factory.buildProtocol = lambda addr: _proto(server)  # type: ignore[method-assign]
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    try:
        for mode, name in ((StartTls.REQUIRED, "ok"), (StartTls.OPPORTUNISTIC, "ok2")):
            config = SmtpConfig(
                relay=f"127.0.0.1:{port.getHost().port}",
                starttls=mode,
                retry_initial=60,
                timeout=5,
                username="fax",
                password=__import__("appliance.config").config.Secret("pw-123456"),
            )
            box = open_mail_outbox(f"sqlite:///{tmp_path}/{mode}.db")
            box.enqueue(
                [NewDelivery(name, "email", "ok@example.com", "fax@example.com", b"Subject: t\r\n\r\nb\r\n", "", "t")],
                time.time(),
            )
            svc = DeliveryService(box, config, reactor, reactor, run, maildir=tmp_path / "md", interval=0.1)
            svc.startService()
            try:
                for _ in range(50):
                    d = box.list()[0]
                    if d.last_error or d.state != "queued":
                        break
                    await task.deferLater(reactor, 0.1, lambda: None)
            finally:
                svc.stopService()
                box.close()
            if mode == "required":
                assert d.state == "queued" and "TLS" in d.last_error and "pw-123456" not in d.last_error, d
            else:  # no STARTTLS offered and AUTH required by our config but not offered: refused, retried
                assert d.state == "queued" and d.last_error and "pw-123456" not in d.last_error, d
        assert server.received == []
    finally:
        await port.stopListening()


def test_stop_waits_for_the_pass_under_way(tmp_path: Path) -> None:
    """stopService fires only when the delivery pass under way has ended; after its bound the
    pass is cancelled (its claims are released at the next start) and stopService still fires."""
    clock = task.Clock()
    calls: list[defer.Deferred[object]] = []

    def run(f: object, *args: object) -> defer.Deferred[object]:
        d: defer.Deferred[object] = defer.Deferred()
        calls.append(d)
        return d

    outbox = SimpleNamespace(release_claims=lambda *a: 0, claim_due=lambda *a: [])  # only run() calls them
    svc = DeliveryService(outbox, SmtpConfig(), clock, clock, run, maildir=tmp_path / "md")  # type: ignore[arg-type]
    svc.startService()
    assert len(calls) == 1  # the first pass: releasing this node's old claims
    stopped = svc.stopService()
    assert not stopped.called
    calls[0].callback(0)  # released; the pass goes on to claim due work
    assert not stopped.called and len(calls) == 2
    calls[1].callback([])  # nothing due: the pass ends
    assert stopped.called

    svc = DeliveryService(outbox, SmtpConfig(), clock, clock, run, maildir=tmp_path / "md")  # type: ignore[arg-type]
    calls.clear()
    svc.startService()
    stopped = svc.stopService()
    clock.advance(STOP_WAIT)
    assert stopped.called and calls[0].called  # cancelled after the bound
