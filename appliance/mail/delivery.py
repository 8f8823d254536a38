"""Sending the outbox: SMTP through ``twisted.mail.smtp`` (or a Maildir), ``lp``, shares.

:class:`DeliveryService` claims due deliveries (:class:`MailOutbox`), hands
each to its transport and records the outcome: sent, retry later with
backoff (4xx, connection refused, timeouts, ``lp`` failing), or failed (5xx,
or still failing after ``give_up_after``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

from twisted.application import service
from twisted.internet import defer, ssl, task
from twisted.internet import error as net_error
from twisted.internet.interfaces import IReactorTime
from twisted.internet.utils import getProcessOutputAndValue
from twisted.logger import Logger
from twisted.mail import smtp
from twisted.python.failure import Failure

from appliance.jobs.scheduler import RunBlocking
from appliance.logsafe import safe_for_log
from appliance.mail.config import SmtpConfig, StartTls
from appliance.mail.outbox import Delivery, MailOutbox
from appliance.mail.routing import DestinationKind
from appliance.pending import PendingWork
from appliance.wiring.reactor import Reactor

__all__ = ["DeliveryService", "PermanentFailure", "TemporaryFailure", "maildir_deliver", "share_deliver"]

STOP_WAIT = 10.0  # seconds stopService waits for a delivery pass under way
LEASE = 300.0  # seconds a claimed delivery is not handed out again
AT_ONCE = 4


class TemporaryFailure(Exception):
    """Try again later."""


class PermanentFailure(Exception):
    """Never try again."""


def classify(failure: Failure | BaseException) -> Exception:
    """A delivery failure as Temporary- or PermanentFailure (its text never holds a password)."""
    exc = failure.value if isinstance(failure, Failure) else failure
    if isinstance(exc, (TemporaryFailure, PermanentFailure)):
        return exc
    if isinstance(exc, smtp.SMTPClientError):
        code = getattr(exc, "code", 0) or 0
        resp = exc.resp.decode("utf-8", "replace") if isinstance(exc.resp, bytes) else str(exc.resp or "")
        text = f"{code} {resp}".strip()[:300]
        if isinstance(exc, smtp.ESMTPClientError):  # TLS / AUTH with the relay: configuration, not the mail
            return TemporaryFailure(f"relay: {text}")
        if isinstance(exc, (smtp.SMTPConnectError, smtp.SMTPTimeoutError, smtp.SMTPProtocolError)):
            return TemporaryFailure(text or type(exc).__name__)
        if 500 <= code < 600:
            return PermanentFailure(text)
        return TemporaryFailure(text or type(exc).__name__)
    if isinstance(
        exc,
        (
            net_error.ConnectError,
            net_error.ConnectionLost,
            net_error.TimeoutError,
            defer.TimeoutError,
            net_error.ConnectionDone,
            OSError,
        ),
    ):
        return TemporaryFailure(f"{type(exc).__name__}: {exc}"[:300])
    return TemporaryFailure(f"{type(exc).__name__}: {exc}"[:300])


def _name_for(d: Delivery) -> str:
    digest = hashlib.sha256(d.dedupe.encode("utf-8")).hexdigest()[:16]
    return f"{d.id:08d}.{digest}.faxappliance"


def maildir_deliver(root: Path, d: Delivery) -> str:
    """(blocking) Put the message into the Maildir ``root`` under a name fixed by
    the delivery, so delivering it again (after a crash) changes nothing."""
    for sub in ("tmp", "new", "cur"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    name = _name_for(d)
    if (root / "new" / name).exists() or any((root / "cur").glob(name + "*")):
        return str(root / "new" / name)
    tmp = root / "tmp" / name
    with open(tmp, "wb") as f:
        f.write(d.payload or b"")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, root / "new" / name)
    return str(root / "new" / name)


def share_deliver(d: Delivery) -> str:
    """(blocking) Copy the fax into the share directory (idempotent: a fixed name)."""
    source = Path(d.document)
    if not source.exists():
        raise PermanentFailure(f"the fax file {source} is gone")
    target_dir = Path(d.target)
    if not target_dir.is_dir():
        raise TemporaryFailure(f"the share directory {target_dir} does not exist")
    target = target_dir / f"fax-{hashlib.sha256(d.dedupe.encode()).hexdigest()[:12]}{source.suffix}"
    if target.exists():
        return str(target)
    tmp = target.with_name("." + target.name + ".tmp")
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except OSError as exc:
        raise TemporaryFailure(f"cannot write to {target_dir}: {exc.strerror or exc}") from None
    return str(target)


class DeliveryService(service.Service):
    """See the module docstring.  ``poke()`` looks for due work at once."""

    log = Logger()
    name = "mail delivery"

    def __init__(
        self,
        outbox: MailOutbox,
        smtp_config: SmtpConfig,
        clock: IReactorTime,
        reactor: Reactor,  # SMTP connections and the printer's lp processes
        run_blocking: RunBlocking,
        *,
        maildir: Path,
        interval: float = 2.0,
        lp: str = "lp",
        hooks: list[Callable[[], object]] | None = None,
        node_id: str = "local",
    ) -> None:
        self.outbox = outbox
        self.config = smtp_config
        self.clock = clock
        self.reactor = reactor
        self.run = run_blocking
        self.maildir = maildir
        self.interval = interval
        self.lp = lp
        self.hooks = hooks or []  # run on every tick before the outbox is read (receipts)
        self.node_id = node_id
        self._released = False
        self._loop: task.LoopingCall | None = None
        self._busy = False
        self._again = False
        self.in_flight: set[int] = set()
        #: the delivery pass under way; stopService waits for it (bounded)
        self.pending = PendingWork(clock, "mail delivery")

    def startService(self) -> None:
        super().startService()
        self._loop = task.LoopingCall(self.poke)
        self._loop.clock = self.clock
        self._loop.start(self.interval, now=True)

    def stopService(self) -> defer.Deferred[None]:
        """Stop looking for work; fires when the pass under way has ended (after at most
        ``STOP_WAIT`` seconds it is cancelled: its claims are released again at the next start)."""
        super().stopService()
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        return self.pending.drain(timeout=STOP_WAIT)

    def poke(self) -> None:
        if self._busy:
            self._again = True
            return
        self._busy = True
        d = defer.Deferred.fromCoroutine(self._tick())
        d.addBoth(self._done)
        self.pending.track(d, "delivery pass")

    def _done(self, result: object) -> object:
        self._busy = False
        if self._again and self.running:
            self._again = False
            self.clock.callLater(0, self.poke)
        return result  # a failure goes on to the tracker, which logs it

    async def _tick(self) -> None:
        if not self._released:  # what this node had claimed when it stopped or died is due again
            count = await self.run(self.outbox.release_claims, self.node_id, self.clock.seconds())
            self._released = True
            if count:
                self.log.info("{count} delivery(ies) interrupted by a restart are due again", count=count)
        for hook in self.hooks:
            try:
                await defer.maybeDeferred(hook)
            except defer.CancelledError:
                raise  # the pass is being stopped
            except Exception:
                self.log.failure("mail hook failed")
        now = self.clock.seconds()
        due = await self.run(self.outbox.claim_due, now, LEASE, AT_ONCE * 4, self.node_id)
        sem = defer.DeferredSemaphore(AT_ONCE)
        await defer.gatherResults(
            [sem.run(self._one, d) for d in due if d.id not in self.in_flight], consumeErrors=True
        )

    async def _one(self, d: Delivery) -> None:
        self.in_flight.add(d.id)
        try:
            try:
                await self._send(d)
            except Exception as exc:  # every failure is recorded, none is raised
                await self._failed(d, classify(exc))
                return
            await self.run(self.outbox.mark_sent, d.id, self.clock.seconds())
            self.log.info(
                "delivered {source} to {kind} {target}",
                source=d.source,
                kind=d.kind,
                target=safe_for_log(d.target, 100),
            )
        finally:
            self.in_flight.discard(d.id)

    async def _failed(self, d: Delivery, exc: Exception) -> None:
        now = self.clock.seconds()
        text = str(exc) or type(exc).__name__
        if isinstance(exc, PermanentFailure) or now - d.created >= self.config.give_up_after:
            await self.run(self.outbox.mark_failed, d.id, text, now)
            self.log.warn(
                "delivery of {source} to {kind} {target} failed: {error}",
                source=d.source,
                kind=d.kind,
                target=safe_for_log(d.target, 100),
                error=safe_for_log(text),
            )
            return
        delay = min(self.config.retry_max, self.config.retry_initial * (2 ** max(0, d.tries - 1)))
        await self.run(self.outbox.retry_later, d.id, text, now + delay, now)
        self.log.info(
            "delivery of {source} to {kind} {target} will be retried in {delay:.0f} s: {error}",
            source=d.source,
            kind=d.kind,
            target=safe_for_log(d.target, 100),
            delay=delay,
            error=safe_for_log(text),
        )

    async def _send(self, d: Delivery) -> None:
        if d.kind is DestinationKind.EMAIL:
            if self.config.relay:
                await self._smtp(d)
            else:
                await self.run(maildir_deliver, self.maildir, d)
        elif d.kind is DestinationKind.SHARE:
            await self.run(share_deliver, d)
        elif d.kind is DestinationKind.PRINTER:
            await self._print(d)
        else:
            raise PermanentFailure(f"unknown delivery kind {d.kind!r}")

    def _smtp(self, d: Delivery) -> defer.Deferred[object]:
        cfg = self.config
        host, port = cfg.host_port
        done: defer.Deferred[object] = defer.Deferred()
        context = None
        if cfg.starttls is not StartTls.OFF:
            if cfg.starttls is StartTls.REQUIRED:
                context = ssl.optionsForClientTLS(host)
            else:
                context = ssl.CertificateOptions(verify=False)  # opportunistic: encryption, no authentication
        factory = smtp.ESMTPSenderFactory(
            cfg.username.encode() if cfg.username else None,
            cfg.password.reveal() if cfg.username else None,
            d.sender,
            [d.target],
            BytesIO(d.payload or b""),
            done,
            retries=0,
            timeout=cfg.timeout,
            contextFactory=context,
            heloFallback=True,
            requireAuthentication=bool(cfg.username),
            requireTransportSecurity=cfg.starttls is StartTls.REQUIRED,
        )
        factory.domain = socket.getfqdn().encode("ascii", "replace")
        factory.noisy = False
        self.reactor.connectTCP(host, port, factory, timeout=cfg.timeout)
        return done

    async def _print(self, d: Delivery) -> None:
        if not Path(d.document).exists():
            raise PermanentFailure(f"the fax file {d.document} is gone")
        out, err, code = await getProcessOutputAndValue(
            self.lp, ["-d", d.target, "-t", d.source[:60], "--", d.document], env=os.environ, reactor=self.reactor
        )
        if code != 0:
            text = (err or out).decode("utf-8", "replace").strip().splitlines()
            raise TemporaryFailure(f"lp exited with {code}: {text[-1] if text else ''}"[:300])
