"""The ``[smtp]``, ``[email_gateway]`` and ``[inbound_routes]`` sections (pure).

Errors are :class:`appliance.config.ConfigError` naming the file, the key and
the problem; the SMTP password never appears in one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from appliance.config import ConfigError, Secret
from appliance.mail.routing import FORMATS, Destination, Routes, RoutingError, parse_destination

__all__ = ["GatewayConfig", "MailConfig", "SmtpConfig", "parse_mail"]

MB = 1024 * 1024
STARTTLS = ("required", "opportunistic", "off")


@dataclass(frozen=True)
class SmtpConfig:
    relay: str = ""  # host:port; "" = write mails into the Maildir
    starttls: str = "opportunistic"
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


class _Section:
    def __init__(self, source: str, name: str, raw: Any) -> None:
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise ConfigError(source, name, "must be a table")
        self.source, self.name, self.raw = source, name, raw

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.source, f"{self.name}.{key}", problem)

    def check(self, allowed: set[str]) -> None:
        for key in self.raw:
            if key not in allowed:
                raise self.fail(key, "unknown key")

    def text(self, key: str, default: str) -> str:
        value = self.raw.get(key, default)
        if not isinstance(value, str):
            raise self.fail(key, "must be a string")
        return value

    def number(self, key: str, default: float, low: float, high: float) -> float:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise self.fail(key, f"must be a number from {low:g} to {high:g}")
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value


def _smtp(source: str, raw: Any) -> SmtpConfig:
    s = _Section(source, "smtp", raw)
    s.check(set(SmtpConfig.__dataclass_fields__))
    relay = s.text("relay", "")
    if relay:
        host, colon, port = relay.rpartition(":")
        if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise s.fail("relay", f"must be host:port, not {relay!r}")
    starttls = s.text("starttls", "opportunistic")
    if starttls not in STARTTLS:
        raise s.fail("starttls", f"must be one of {', '.join(STARTTLS)}")
    sender = s.text("sender", "fax@localhost")
    if "@" not in sender or any(ch in sender for ch in "\r\n<> "):
        raise s.fail("sender", "must be an e-mail address")
    password = s.raw.get("password", "")
    if not isinstance(password, str):
        raise s.fail("password", "must be a string")
    username = s.text("username", "")
    if bool(username) != bool(password):
        raise s.fail("username", "username and password go together")
    return SmtpConfig(
        relay=relay,
        starttls=starttls,
        username=username,
        password=Secret(password),
        sender=sender,
        max_message_bytes=int(s.number("max_message_bytes", 10 * MB, 0, 1024 * MB)),
        maildir=s.text("maildir", ""),
        retry_initial=s.number("retry_initial", 30.0, 0.1, 86400),
        retry_max=s.number("retry_max", 1800.0, 0.1, 86400),
        give_up_after=s.number("give_up_after", 3 * 86400.0, 1, 30 * 86400),
        timeout=s.number("timeout", 60.0, 1, 3600),
    )


def _gateway(source: str, raw: Any) -> GatewayConfig:
    s = _Section(source, "email_gateway", raw)
    s.check(set(GatewayConfig.__dataclass_fields__))
    domains = s.raw.get("domains", ["localhost"])
    if not isinstance(domains, list) or not domains or not all(isinstance(d, str) and d for d in domains):
        raise s.fail("domains", "must be a non-empty list of domain names")
    return GatewayConfig(
        enabled=s.flag("enabled", raw is not None),
        listen=s.text("listen", "127.0.0.1"),
        port=int(s.number("port", 2525, 0, 65535)),
        domains=tuple(d.lower() for d in domains),
        hostname=s.text("hostname", "localhost"),
        max_message_bytes=int(s.number("max_message_bytes", 25 * MB, 1024, 1024 * MB)),
        max_recipients=int(s.number("max_recipients", 50, 1, 1000)),
        max_connections=int(s.number("max_connections", 20, 1, 1000)),
        require_auth=s.flag("require_auth", False),
        certificate=s.text("certificate", ""),
        key=s.text("key", ""),
    )


def _destinations(s: _Section, key: str, value: Any) -> tuple[Destination, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise s.fail(key, 'must be a list of destinations like "email:a@example.com"')
    try:
        return tuple(parse_destination(v) for v in value)
    except RoutingError as exc:
        raise s.fail(key, str(exc)) from None


def _routes(source: str, raw: Any) -> tuple[Routes, str]:
    s = _Section(source, "inbound_routes", raw)
    s.check({"global", "lines", "recipients", "format", "recipients_csv"})
    fmt = s.text("format", "pdf")
    if fmt not in FORMATS:
        raise s.fail("format", "must be pdf or tiff")
    tables: dict[str, dict[str, tuple[Destination, ...]]] = {}
    for table in ("lines", "recipients"):
        value = s.raw.get(table, {})
        if not isinstance(value, dict):
            raise s.fail(table, "must be a table")
        tables[table] = {str(k): _destinations(s, f"{table}.{k}", v) for k, v in value.items()}
    return (
        Routes(_destinations(s, "global", s.raw.get("global", [])), tables["lines"], tables["recipients"], fmt),
        s.text("recipients_csv", ""),
    )


def parse_mail(source: str, raw: dict[str, Any]) -> MailConfig:
    """The mail sections of a parsed config file (``Config.raw``)."""
    routes, csv_path = _routes(source, raw.get("inbound_routes"))
    return MailConfig(_smtp(source, raw.get("smtp")), _gateway(source, raw.get("email_gateway")), routes, csv_path)
