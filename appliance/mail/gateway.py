"""E-mail to fax (T.37 store-and-forward): an ESMTP listener on ``twisted.mail.smtp``.

Replies (the text always says why):

* ``550`` at RCPT: the sender is unknown to RADIUS (Get-Account-From-Sender-Email-Address /
  For-External-Module rejects it) or its account may not send (FB-Snd-From-Account = 0),
  or it authenticated as another account; ``530`` at MAIL when AUTH is required and missing.
* ``553`` at RCPT: the address is not a T.37 fax address of our domains, or the number
  fails the dial plan; ``452``: too many recipients.
* ``552`` after DATA: the mail is larger than ``max_message_bytes`` (also announced as SIZE).
* ``554`` after DATA: an attachment cannot be faxed (the reply lists the supported types),
  the mail has nothing to fax, or its documents cannot be converted.
* ``451``: RADIUS or the job store is not reachable (try again later).
* ``250`` after DATA: one fax per recipient is queued (agent ``T.37``, owned by the
  sender's RADIUS account), its pages converted.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.application.internet import StreamServerEndpointService
from twisted.cred import checkers, credentials, portal
from twisted.cred import error as cred_error
from twisted.internet import defer, ssl
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.interfaces import IAddress, IReactorTime
from twisted.internet.protocol import connectionDone
from twisted.logger import Logger
from twisted.mail import smtp
from twisted.mail.imap4 import LOGINCredentials, PLAINCredentials
from twisted.python.failure import Failure
from zope.interface import Interface, implementer

from appliance.config import ConfigError
from appliance.dialplan import DialPlan, InvalidNumber, dial_string
from appliance.jobs.scheduler import RunBlocking
from appliance.logsafe import safe_for_log
from appliance.mail.config import GatewayConfig, MailConfig
from appliance.mail.submission import Submission, SubmissionError, parse_submission, reply_text
from appliance.mail.submit import JobSubmitter
from appliance.mail.t37 import T37Address, T37Error, parse_t37
from appliance.portserver.role import RadiusRequester
from appliance.wiring.controller import Appliance
from appliance.wiring.reactor import Reactor
from modem.document import PageSize
from radius.client import Attr, ClientError
from radius.model import A, Code, FbCommand, FbContext

__all__ = ["Gateway", "GatewayFactory", "make_gateway_service"]


class Refused(Exception):
    """The sender may not send faxes: (code, reason)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class Gateway:
    """What the SMTP side needs: sender authorization and job submission (injected)."""

    log = Logger()

    def __init__(
        self,
        config: GatewayConfig,
        clock: IReactorTime,
        *,
        authorize: Callable[[str], defer.Deferred[str]],
        submit: Callable[[str, str, list[tuple[T37Address, str]], Submission], defer.Deferred[list[str]]],
        run_blocking: RunBlocking,
        dialplan: DialPlan,
        login: Callable[[str, str], defer.Deferred[bool]] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.authorize = authorize  # sender -> Deferred[account] or Refused
        self.submit = submit  # (sender, account, recipients, submission) -> Deferred[list of fax keys]
        self.run = run_blocking
        self.dialplan = dialplan
        self.login = login  # (user, password) -> Deferred[bool]

    async def accept(self, sender: str, account: str, recipients: list[tuple[T37Address, str]], raw: bytes) -> str:
        try:
            submission = await self.run(parse_submission, raw)
        except SubmissionError as exc:
            raise smtp.SMTPServerError(554, reply_text(f"5.6.0 {exc}").encode()) from None
        keys = await self.submit(sender, account, recipients, submission)
        self.log.info(
            "e-mail from {sender} ({account}): fax(es) {keys} queued for {count} recipient(s)",
            sender=safe_for_log(sender, 100),
            account=safe_for_log(account, 64),
            keys=", ".join(keys),
            count=len(recipients),
        )
        return ", ".join(keys)


class _Message:
    """Collects one mail for all its recipients (twisted asks one message per recipient)."""

    def __init__(self, delivery: T37Delivery, recipients: list[tuple[T37Address, str]]) -> None:
        self.delivery = delivery
        self.recipients = recipients
        self.lines: list[bytes] = []
        self.size = 0
        self.followers: list[defer.Deferred[str]] = []

    def lineReceived(self, line: bytes) -> None:
        self.size += len(line) + 2
        if self.size > self.delivery.gateway.config.max_message_bytes:
            raise smtp.SMTPServerError(
                552, f"5.3.4 the message is larger than {self.delivery.gateway.config.max_message_bytes} bytes".encode()
            )
        self.lines.append(line)

    def eomReceived(self) -> defer.Deferred[str]:
        raw = b"\r\n".join(self.lines) + b"\r\n"
        self.lines = []
        d = defer.Deferred.fromCoroutine(
            self.delivery.gateway.accept(self.delivery.sender, self.delivery.account, self.recipients, raw)
        )

        def fan_out(result: str | Failure) -> str | Failure:
            for follower in self.followers:
                follower.errback(result) if isinstance(result, Failure) else follower.callback(result)
            return result

        return d.addBoth(fan_out)

    def connectionLost(self) -> None:
        self.lines = []


class _Follower:
    """The same mail seen for a further recipient: its outcome is the first one's."""

    def __init__(self, first: _Message) -> None:
        self.done: defer.Deferred[str] = defer.Deferred()
        first.followers.append(self.done)

    def lineReceived(self, line: bytes) -> None:
        pass

    def eomReceived(self) -> defer.Deferred[str]:
        return self.done

    def connectionLost(self) -> None:
        pass


@implementer(smtp.IMessageDelivery)
class T37Delivery:
    """One SMTP session's view: who sends, to which fax numbers."""

    def __init__(self, gateway: Gateway, authenticated: str = "") -> None:
        self.gateway = gateway
        self.authenticated = authenticated
        self.sender = ""
        self.account = ""
        self.recipients: list[tuple[T37Address, str]] = []
        self._message: _Message | None = None
        self._authorized: defer.Deferred[str] | None = None

    def receivedHeader(self, helo: tuple[bytes, bytes], origin: smtp.Address, recipients: list[smtp.User]) -> None:
        return None

    def validateFrom(self, helo: tuple[bytes, bytes], origin: smtp.Address) -> smtp.Address:
        if self.gateway.config.require_auth and not self.authenticated:
            raise smtp.SMTPBadSender(origin, 530, "5.7.0 authentication required (AUTH PLAIN or LOGIN)")
        self.sender = str(origin)
        self.account = ""
        self.recipients = []
        self._message = None
        self._authorized = None
        return origin

    async def _check(self, user: smtp.User) -> Callable[[], _Message | _Follower]:
        address = str(user.dest)
        try:
            t37 = parse_t37(address, self.gateway.config.domains)
            dialled = dial_string(t37.number, self.gateway.dialplan)
        except (T37Error, InvalidNumber) as exc:
            raise smtp.SMTPBadRcpt(user, 553, reply_text(f"5.1.3 {exc}")) from None
        if len(self.recipients) >= self.gateway.config.max_recipients:
            raise smtp.SMTPBadRcpt(user, 452, f"4.5.3 at most {self.gateway.config.max_recipients} recipients")
        if self._authorized is None:
            self._authorized = defer.maybeDeferred(self.gateway.authorize, self.sender)
        try:
            account = await _shared(self._authorized)
        except Refused as exc:
            raise smtp.SMTPBadRcpt(
                user, exc.code, reply_text(f"{'5.7.1' if exc.code >= 500 else '4.7.1'} {exc.reason}")
            ) from None
        if self.authenticated and account.casefold() != self.authenticated.casefold():
            raise smtp.SMTPBadRcpt(
                user, 550, "5.7.1 the sender address belongs to another account than the one you authenticated as"
            )
        self.account = account
        self.recipients.append((t37, dialled))
        return self._message_for

    def validateTo(self, user: smtp.User) -> defer.Deferred[Callable[[], _Message | _Follower]]:
        return defer.Deferred.fromCoroutine(self._check(user))

    def _message_for(self) -> _Message | _Follower:
        if self._message is None:
            self._message = _Message(self, list(self.recipients))
            return self._message
        return _Follower(self._message)


def _shared(d: defer.Deferred[str]) -> defer.Deferred[str]:
    """A Deferred with ``d``'s result that leaves ``d`` usable for the next caller."""
    out: defer.Deferred[str] = defer.Deferred()

    def both(result: str | Failure) -> str | None:
        if isinstance(result, Failure):
            out.errback(result)
            return None
        out.callback(result)
        return result

    d.addBoth(both)
    return out


class _T37ESMTP(smtp.ESMTP):
    """ESMTP whose DATA replies carry our codes (552, 554, 451), which announces SIZE and
    which turns sessions beyond ``max_connections`` away with 421."""

    _counted = False

    def connectionMade(self) -> None:
        factory = self.factory
        if factory.active >= factory.gateway.config.max_connections:
            self.sendCode(421, b"4.3.2 too many connections; try again later")
            if self.transport is not None:
                self.transport.loseConnection()
            return
        factory.active += 1
        self._counted = True
        super().connectionMade()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self._counted:
            self.factory.active -= 1
            self._counted = False
        super().connectionLost(reason)

    def extensions(self) -> dict[bytes, Any]:
        ext = super().extensions()
        ext[b"SIZE"] = [str(self.factory.gateway.config.max_message_bytes).encode()]
        if not self.challengers or self._auth_needs_tls():
            del ext[b"AUTH"]
        return ext

    def _auth_needs_tls(self) -> bool:
        """Passwords only over TLS when STARTTLS is available."""
        return bool(self.canStartTLS and not self.startedTLS)

    def ext_AUTH(self, rest: bytes) -> None:
        if self._auth_needs_tls():
            self.sendCode(538, b"5.7.11 encryption required: STARTTLS first")
            return
        super().ext_AUTH(rest)

    def _messageHandled(self, resultList: list[tuple[bool, str | Failure]]) -> None:
        failures = [r for ok, r in resultList if not ok and isinstance(r, Failure)]
        if not failures:
            self.sendCode(250, b"2.0.0 queued: fax " + str(resultList[0][1]).encode("ascii", "replace")[:200])
            return
        failure = failures[0]
        if isinstance(failure.value, smtp.SMTPServerError):
            self.sendCode(failure.value.code, failure.value.resp)
            return
        Logger().failure("e-mail to fax failed", failure)
        self.sendCode(451, b"4.3.0 the fax could not be queued; try again later")


@implementer(checkers.ICredentialsChecker)
class _RadiusChecker:
    credentialInterfaces = (credentials.IUsernamePassword,)

    def __init__(self, login: Callable[[str, str], defer.Deferred[bool]]) -> None:
        self.login = login

    def requestAvatarId(self, creds: credentials.IUsernamePassword) -> defer.Deferred[bytes | tuple[()]]:
        user = creds.username.decode("utf-8", "replace") if isinstance(creds.username, bytes) else creds.username
        password = creds.password.decode("utf-8", "replace") if isinstance(creds.password, bytes) else creds.password

        def checked(ok: bool) -> bytes | tuple[()]:
            if not ok:
                raise cred_error.UnauthorizedLogin()
            return user.encode()

        return defer.maybeDeferred(self.login, user, password).addCallback(checked)


@implementer(portal.IRealm)
class _Realm:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def requestAvatar(
        self, avatar_id: bytes | tuple[()], mind: object, *interfaces: type[Interface]
    ) -> tuple[type[Interface], T37Delivery, Callable[[], None]]:
        name = avatar_id.decode() if isinstance(avatar_id, bytes) else str(avatar_id)
        return smtp.IMessageDelivery, T37Delivery(self.gateway, name), lambda: None


class GatewayFactory(smtp.SMTPFactory):
    """The listener's protocol factory."""

    protocol = _T37ESMTP
    timeout = 300

    def __init__(self, gateway: Gateway, tls: ssl.CertificateOptions | None = None) -> None:
        login = gateway.login
        super().__init__(portal.Portal(_Realm(gateway), [_RadiusChecker(login)]) if login is not None else None)
        self.gateway = gateway
        self.tls = tls
        self.noisy = False
        self.active = 0  # sessions open

    def buildProtocol(self, addr: IAddress | None) -> _T37ESMTP:
        challengers = {b"PLAIN": PLAINCredentials, b"LOGIN": LOGINCredentials} if self.portal else {}
        p = _T37ESMTP(challengers, self.tls)
        p.factory = self
        p.portal = self.portal
        p.host = self.gateway.config.hostname.encode("idna")
        p.timeout = self.timeout
        p.delivery = T37Delivery(self.gateway)
        return p


# ------------------------------------------------------------------ wiring


def tls_options(cert: Path, key: Path) -> ssl.CertificateOptions:
    """Server TLS options for STARTTLS from a PEM certificate and key (the web ones by default)."""
    return ssl.PrivateCertificate.loadPEM(cert.read_text() + key.read_text()).options()


def _radius_authorize(client: RadiusRequester) -> Callable[[str], defer.Deferred[str]]:
    async def authorize(sender: str) -> str:
        attrs: list[Attr] = [
            (A.FB_COMMAND.value, int(FbCommand.GET_ACCOUNT_FROM_SENDER_EMAIL_ADDRESS)),
            (A.FB_CONTEXT.value, int(FbContext.FOR_EXTERNAL_MODULE)),
            (A.USER_NAME.value, sender[:64]),
            (A.FB_SND_EMAIL.value, sender[:128]),
        ]
        if not sender:
            raise Refused(550, "a sender address is required")
        try:
            reply = await client.access(attrs)
        except ClientError as exc:
            raise Refused(451, f"the account server cannot be reached ({exc})") from None
        if reply.code != Code.ACCESS_ACCEPT:
            why = reply.get_str(A.REPLY_MESSAGE.value) or "unknown sender"
            raise Refused(550, f"sender {sender} is not allowed to send faxes: {why}")
        account = reply.get_str(A.USER_NAME.value) or ""
        if not account:
            raise Refused(550, f"sender {sender} is not allowed to send faxes: no account")
        if reply.get_int(A.FB_SND_FROM_ACCOUNT.value) == 0:
            raise Refused(550, f"sender {sender} is not allowed to send faxes: sending is disabled for its account")
        return account

    return lambda sender: defer.Deferred.fromCoroutine(authorize(sender))


def make_gateway_service(appliance: Appliance, reactor: Reactor, mail: MailConfig) -> StreamServerEndpointService:
    """The T.37 listener for ``appliance`` (a StreamServerEndpointService, failing fast on bind errors)."""
    config = appliance.config
    gw_config = mail.gateway
    if appliance.portserver is None:
        raise ConfigError(config.source, "email_gateway", "needs [portserver] (senders are authorized by RADIUS)")
    web = config.web
    spool = web.spool_dir or f"{config.data_dir}/web"
    submitter = JobSubmitter(
        appliance.jobs,
        reactor,
        appliance.run_blocking,
        spool,
        poke=appliance.scheduler.poke,
        page_size=PageSize(web.page_size),
    )
    gateway = Gateway(
        gw_config,
        reactor,
        authorize=_radius_authorize(appliance.portserver.client),
        submit=submitter.submit,
        run_blocking=appliance.run_blocking,
        dialplan=config.dialplan,
        login=appliance.authenticate,
    )
    cert, key = gw_config.certificate or web.certificate, gw_config.key or web.key
    tls = tls_options(Path(cert), Path(key)) if cert and key else None
    svc = StreamServerEndpointService(
        TCP4ServerEndpoint(reactor, gw_config.port, interface=gw_config.listen), GatewayFactory(gateway, tls)
    )
    svc.name = "e-mail gateway (SMTP)"
    svc.gateway = gateway  # type: ignore[attr-defined]
    return svc
