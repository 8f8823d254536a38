"""The whole configuration file: every section typed in one frozen
:class:`Config`, parsed once by :func:`parse` (pure: text in, no file read).

Each section is read through :class:`appliance.config_reader.Section` by its
parser; the parsers of sections owned by a feature live next to it
(``[limits]``, ``[node]``, ``[retention]``, ``[portserver]``, ``[dialplan]``,
the mail sections) and import only the reader, so this module imports them
and nothing imports back.
"""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePath

from appliance.config.core import (
    FaxageConfig,
    LineConfig,
    RadiusConfig,
    RetryConfig,
    RoutingConfig,
    RoutingPolicy,
    StorageConfig,
    parse_faxage,
    parse_radius,
    parse_storage,
)
from appliance.config.lines import parse_lines, parse_retry, parse_routing
from appliance.config.web import WebConfig, parse_web
from appliance.config_reader import ConfigError, Section
from appliance.dialplan import DialPlan, parse_dialplan
from appliance.mail.config import MailConfig, parse_mail
from appliance.node_config import NodeConfig, parse_node
from appliance.portserver.config import PortServerConfig, parse_portserver
from appliance.render.limits import Limits, parse_limits
from appliance.retention import Retention, parse_retention
from radius.clients import RadiusClientConfig, Secret

__all__ = ["SECTIONS", "Config", "default_config", "parse", "parse_document", "section_checks"]

MAIL_SECTIONS = ("smtp", "email_gateway", "inbound_routes")


@dataclass(frozen=True)
class Config:
    source: str
    data_dir: str
    storage: StorageConfig
    radius: RadiusConfig
    faxage: FaxageConfig
    raw: dict[str, object] = field(default_factory=dict, compare=False, repr=False)  # the TOML document as read
    lines: tuple[LineConfig, ...] = ()
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    retry: RetryConfig = field(default_factory=RetryConfig)
    web: WebConfig = field(default_factory=WebConfig)
    portserver: PortServerConfig | None = None  # None: no [portserver] (the role is off)
    dialplan: DialPlan = field(default_factory=DialPlan)
    limits: Limits = field(default_factory=Limits)
    retention: Retention = field(default_factory=Retention)
    node: NodeConfig = field(default_factory=NodeConfig)
    mail: MailConfig = field(default_factory=MailConfig)


def _data_dir(top: Section, base_dir: str) -> str:
    return top.text("data_dir", str(PurePath(base_dir) / "var"))


class _Sections:
    """Each section's parser on the document ``data``, one method a section."""

    def __init__(self, source: str, data: dict[str, object], base_dir: str) -> None:
        self.source = source
        self.data = data
        self.top = Section(source, "", data)
        self.data_dir = _data_dir(self.top, base_dir)

    def table(self, name: str) -> object:
        return self.top.get(name, dict, None)

    def storage(self) -> StorageConfig:
        return parse_storage(self.source, self.table("storage"), self.data_dir)

    def radius(self) -> RadiusConfig:
        return parse_radius(self.source, self.table("radius"))

    def faxage(self) -> FaxageConfig:
        return parse_faxage(self.source, self.table("faxage"))

    def lines(self) -> tuple[LineConfig, ...]:
        return parse_lines(self.source, self.top.tables("lines"))

    def routing(self) -> RoutingConfig:
        return parse_routing(self.source, self.table("routing"))

    def retry(self) -> RetryConfig:
        return parse_retry(self.source, self.table("retry"))

    def web(self) -> WebConfig:
        return parse_web(self.source, self.table("web"))

    def dialplan(self) -> DialPlan:
        return parse_dialplan(self.source, self.table("dialplan"))

    def limits(self) -> Limits:
        return parse_limits(self.source, self.table("limits"))

    def portserver(self) -> PortServerConfig | None:
        return parse_portserver(self.source, self.table("portserver")) if "portserver" in self.data else None

    def node(self) -> NodeConfig:
        return parse_node(self.source, self.table("node"))

    def retention(self) -> Retention:
        return parse_retention(self.source, self.table("retention"))

    def mail(self) -> MailConfig:
        return parse_mail(self.source, {name: self.table(name) for name in MAIL_SECTIONS})


#: the sections in the order they are checked (``config check`` runs each on its own)
SECTIONS = (
    "storage",
    "radius",
    "faxage",
    "lines",
    "routing",
    "retry",
    "web",
    "dialplan",
    "limits",
    "portserver",
    "node",
    "retention",
    "mail",
)


def section_checks(source: str, data: dict[str, object], base_dir: str) -> list[Callable[[], object]]:
    """Each section's parser, ready to run on its own, so ``config check`` can report every bad section."""
    sections = _Sections(source, data, base_dir)
    return [getattr(sections, name) for name in SECTIONS]


def parse(text: str, source: str = "<config>", base_dir: str = ".") -> Config:
    """Parse TOML ``text`` (from ``source``) into a :class:`Config`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "", f"not valid TOML: {exc}") from None
    return parse_document(data, source, base_dir)


def parse_document(data: dict[str, object], source: str, base_dir: str = ".") -> Config:
    """A TOML document already read: :func:`parse` without the TOML step."""
    s = _Sections(source, data, base_dir)
    config = Config(
        source,
        s.data_dir,
        storage=s.storage(),
        radius=s.radius(),
        faxage=s.faxage(),
        raw=data,
        lines=s.lines(),
        routing=s.routing(),
        retry=s.retry(),
        web=s.web(),
        dialplan=s.dialplan(),
        limits=s.limits(),
        portserver=s.portserver(),
        node=s.node(),
        retention=s.retention(),
        mail=s.mail(),
    )
    cross_section_rules(config, "routing" in data)
    s.top.check_unknown()
    return config


def cross_section_rules(config: Config, routing_given: bool) -> None:
    """The rules between sections."""
    policy = config.routing.policy
    if policy is RoutingPolicy.CLOUD_ONLY and not config.faxage.configured:
        raise ConfigError(config.source, "routing.policy", "cloud_only needs [faxage] username, company and password")
    if policy is RoutingPolicy.LOCAL_ONLY and routing_given and not config.lines:
        raise ConfigError(config.source, "routing.policy", "local_only needs at least one [[lines]] entry")


def default_config(data_dir: str = "var", client_secret: Secret | None = None) -> Config:
    """The embedded default: SQLite under ``data_dir``, RADIUS on loopback."""
    clients: tuple[RadiusClientConfig, ...] = ()
    if client_secret is not None:
        clients = (RadiusClientConfig(ipaddress.ip_network("127.0.0.0/8"), client_secret, True, "localhost"),)
    return Config(
        source="<embedded default>",
        data_dir=data_dir,
        storage=StorageConfig(url=f"sqlite:///{data_dir}/faxappliance.db"),
        radius=RadiusConfig(clients=clients),
        faxage=FaxageConfig(),
    )
