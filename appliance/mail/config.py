"""The ``[smtp]``, ``[email_gateway]`` and ``[inbound_routes]`` sections (pure).

Read through :class:`appliance.config_reader.Section`: errors name the file,
the key and the problem; the SMTP password never appears in one.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from appliance.config_reader import Section
from appliance.jobs.choices import DocumentFormat
from appliance.mail.routing import FORMATS, Destination, Routes, RoutingError, parse_destination
from radius.clients import Secret

__all__ = ["GatewayConfig", "MailConfig", "SmtpConfig", "StartTls", "parse_mail"]

MB = 1024 * 1024


class StartTls(enum.StrEnum):
    REQUIRED = "required"
    OPPORTUNISTIC = "opportunistic"
    OFF = "off"


@dataclass(frozen=True)
class SmtpConfig:
    relay: str = ""  # host:port; "" = write mails into the Maildir
    starttls: StartTls = StartTls.OPPORTUNISTIC
    username: str = ""
    password: Secret = field(default_factory=lambda: Secret(""))
    sender: str = "fax@localhost"
    max_message_bytes: int = 10 * MB  # larger faxes are split across mails (0 = no limit)
    maildir: str = ""  # "" = <data_dir>/mail
    retry_initial: float = 30.0  # seconds after the first temporary failure; doubles
    retry_max: float = 1800.0
    give_up_after: float = 3 * 86400.0  # a delivery still failing after this long is marked failed
    timeout: float = 60.0

    @property
    def host_port(self) -> tuple[str, int]:
        host, _, port = self.relay.rpartition(":")
        return host.strip("[]"), int(port)


@dataclass(frozen=True)
class GatewayConfig:
    enabled: bool = False
    listen: str = "127.0.0.1"
    port: int = 2525
    domains: tuple[str, ...] = ("localhost",)
    hostname: str = "localhost"  # the name in the SMTP greeting
    max_message_bytes: int = 25 * MB
    max_recipients: int = 50
    max_connections: int = 20  # SMTP sessions at once; more get 421
    require_auth: bool = False  # SMTP AUTH (checked with RADIUS Account-Login) before MAIL
    certificate: str = ""  # PEM certificate and key for STARTTLS; "" = the [web] ones
    key: str = ""


@dataclass(frozen=True)
class MailConfig:
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    gateway: GatewayConfig = field(default_factory=GatewayConfig)
    routes: Routes = field(default_factory=Routes)
    recipients_csv: str = ""  # path of a FaxFinder recipients CSV, added to [inbound_routes.recipients]


def _smtp(source: str, raw: object) -> SmtpConfig:
    s = Section(source, "smtp", raw)
    relay = s.text("relay", "")
    if relay:
        host, colon, port = relay.rpartition(":")
        if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise s.fail("relay", f"must be host:port, not {relay!r}")
    sender = s.text("sender", "fax@localhost")
    if "@" not in sender or any(ch in sender for ch in "\r\n<> "):
        raise s.fail("sender", "must be an e-mail address")
    password = s.secret("password", required=False)
    username = s.text("username", "")
    if bool(username) != bool(password.reveal_str()):
        raise s.fail("username", "username and password go together")
    smtp = SmtpConfig(
        relay=relay,
        starttls=s.choice("starttls", StartTls, StartTls.OPPORTUNISTIC),
        username=username,
        password=password,
        sender=sender,
        max_message_bytes=s.integer("max_message_bytes", 10 * MB, 0, 1024 * MB),
        maildir=s.text("maildir", ""),
        retry_initial=s.number("retry_initial", 30.0, 0.1, 86400),
        retry_max=s.number("retry_max", 1800.0, 0.1, 86400),
        give_up_after=s.number("give_up_after", 3 * 86400.0, 1, 30 * 86400),
        timeout=s.number("timeout", 60.0, 1, 3600),
    )
    s.check_unknown()
    return smtp


def _gateway(source: str, raw: object) -> GatewayConfig:
    s = Section(source, "email_gateway", raw)
    domains = s.strings("domains", ("localhost",), "domain names")
    if not domains:
        raise s.fail("domains", "must be a non-empty list of domain names")
    gateway = GatewayConfig(
        enabled=s.flag("enabled", raw is not None),
        listen=s.text("listen", "127.0.0.1"),
        port=s.port("port", 2525),
        domains=tuple(d.lower() for d in domains),
        hostname=s.text("hostname", "localhost"),
        max_message_bytes=s.integer("max_message_bytes", 25 * MB, 1024, 1024 * MB),
        max_recipients=s.integer("max_recipients", 50, 1, 1000),
        max_connections=s.integer("max_connections", 20, 1, 1000),
        require_auth=s.flag("require_auth", False),
        certificate=s.text("certificate", ""),
        key=s.text("key", ""),
    )
    s.check_unknown()
    return gateway


def _destinations(s: Section, key: str, value: object) -> tuple[Destination, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise s.fail(key, 'must be a list of destinations like "email:a@example.com"')
    try:
        return tuple(parse_destination(v) for v in value)
    except RoutingError as exc:
        raise s.fail(key, str(exc)) from None


def _routes(source: str, raw: object) -> tuple[Routes, str]:
    s = Section(source, "inbound_routes", raw)
    fmt = s.text("format", "pdf")
    if fmt not in FORMATS:
        raise s.fail("format", "must be pdf or tiff")
    tables: dict[str, dict[str, tuple[Destination, ...]]] = {}
    for name in ("lines", "recipients"):
        table = s.sub(name)
        tables[name] = {str(k): _destinations(s, f"{name}.{k}", v) for k, v in table.table.items()}
    s.seen.add("global")
    routes = Routes(
        _destinations(s, "global", s.table.get("global", [])),
        tables["lines"],
        tables["recipients"],
        DocumentFormat(fmt),
    )
    csv_path = s.text("recipients_csv", "")
    s.check_unknown()
    return routes, csv_path


def parse_mail(source: str, document: Mapping[str, object]) -> MailConfig:
    """The mail sections (``[smtp]``, ``[email_gateway]``, ``[inbound_routes]``) of a parsed config file."""
    routes, csv_path = _routes(source, document.get("inbound_routes"))
    return MailConfig(
        _smtp(source, document.get("smtp")), _gateway(source, document.get("email_gateway")), routes, csv_path
    )
