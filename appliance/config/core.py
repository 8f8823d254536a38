"""Configuration: TOML text -> a frozen :class:`Config`.

Pure: no file or socket side effects.  ``load(path)`` is the one helper that
reads a file; everything else takes text.  Every error names the file, the
key and the problem, and never echoes a secret's value.
"""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from radius.clients import RadiusClientConfig, Secret

__all__ = [
    "Config",
    "ConfigError",
    "FaxageConfig",
    "LineConfig",
    "RadiusClientConfig",
    "RadiusConfig",
    "RetryConfig",
    "RoutingConfig",
    "Secret",
    "StorageConfig",
    "default_config",
    "load",
    "parse",
]

FAXAGE_DEFAULT_URL = "https://api.faxage.com"
MIN_SECRET_CHARS = 16  # RADIUS shared secrets (RFC 2865 §3: 16 octets or more are preferred)
MAX_REJECT_DELAY = 5.0


class ConfigError(Exception):
    """A configuration file is unusable; names the file, the key and the problem."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class StorageConfig:
    url: str


@dataclass(frozen=True)
class RadiusConfig:
    listen: str = "127.0.0.1"
    auth_port: int = 1812
    acct_port: int = 1813
    clients: tuple[RadiusClientConfig, ...] = ()
    dictionary: str = ""  # directory or file; "" = the packaged dictionary/
    duplicate_cache_seconds: float = 5.0
    decision_cache_seconds: float = 1.0
    reject_delay: float = 1.0  # seconds an Access-Reject is held back; 0 = off
    uuid_mode: bool = False
    uuid_format: str = "dash"  # binary | hex | dash
    max_name_bytes: int = 16
    read_model: bool = True  # answer lookups from memory, kept current by the change feed
    change_feed_seconds: float = 1.0  # bound on when a store change is visible to the read model
    workers: int = 0  # RADIUS worker processes; 0 = one per core (`radius`), one (`run`)


@dataclass(frozen=True)
class FaxageConfig:
    url: str = FAXAGE_DEFAULT_URL
    username: str = ""
    company: str = ""
    password: Secret = field(default_factory=lambda: Secret(""))
    notify_url: str = ""
    poll_interval: float = 60.0
    debug: bool = False

    @property
    def configured(self) -> bool:
        return bool(self.username and self.company and self.password)


LINE_DIRECTIONS = ("in", "out", "both")
ROUTING_POLICIES = ("local_first", "local_only", "cloud_only")


@dataclass(frozen=True)
class LineConfig:
    """One ``[[lines]]`` entry: a modem on a serial device, or ``sim`` (simulated)."""

    name: str
    device: str  # a device path, or "sim"
    fax_class: str = "auto"  # "2.0" | "2" | "auto" (2.0 if offered)
    init: tuple[str, ...] = ("ATQ0V1", "ATE0")
    did: str = ""  # the number this line answers (inbound routing)
    caller_id: str = ""  # ANI presented when sending
    tsid: str = ""  # our fax ID (TSI/CSI), 20 characters
    direction: str = "both"  # in | out | both
    speed: int = 19200
    rings: int = 1

    @property
    def sends(self) -> bool:
        return self.direction in ("out", "both")

    @property
    def receives(self) -> bool:
        return self.direction in ("in", "both")


@dataclass(frozen=True)
class RoutingConfig:
    policy: str = "local_first"  # local_first | local_only | cloud_only
    overflow_after_failures: int = 3  # a line failing this often in a row is skipped (0: never)
    line_rest_seconds: float = 300.0  # how long such a line is skipped
    cloud_slots: int = 4


@dataclass(frozen=True)
class RetryConfig:
    max_tries: int = 3
    busy: float = 180.0
    no_answer: float = 300.0
    protocol: float = 60.0
    other: float = 300.0

    def policy(self) -> Any:
        """The job queue's :class:`appliance.jobs.model.RetryPolicy`."""
        from appliance.jobs.model import Cause, RetryPolicy

        return RetryPolicy(
            max_tries=self.max_tries,
            intervals={
                Cause.BUSY: self.busy,
                Cause.NO_ANSWER: self.no_answer,
                Cause.PROTOCOL: self.protocol,
                Cause.OTHER: self.other,
                Cause.INTERRUPTED: 0.0,
            },
        )


@dataclass(frozen=True)
class Config:
    source: str
    data_dir: str
    storage: StorageConfig
    radius: RadiusConfig
    faxage: FaxageConfig
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    lines: tuple[LineConfig, ...] = ()
    routing: RoutingConfig = field(default_factory=lambda: RoutingConfig())
    retry: RetryConfig = field(default_factory=lambda: RetryConfig())
    web: Any = None  # appliance.config.web.WebConfig
    portserver: Any = None  # appliance.portserver_config.PortServerConfig; None: no [portserver]
    dialplan: Any = field(default_factory=lambda: _default_dialplan())  # appliance.dialplan.DialPlan
    limits: Any = None  # appliance.render.limits.Limits; None: the defaults
    retention: Any = None  # appliance.retention.Retention; None: the defaults


def _default_dialplan() -> Any:
    from appliance.dialplan import DialPlan

    return DialPlan()


# ---------------------------------------------------------------- helpers


class _Section:
    """Typed access to one TOML table, reporting bad keys by their dotted name."""

    def __init__(self, source: str, prefix: str, table: Any) -> None:
        if not isinstance(table, dict):
            raise ConfigError(source, prefix, "must be a table")
        self.source = source
        self.prefix = prefix
        self.table: dict[str, Any] = table
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def fail(self, name: str, problem: str) -> ConfigError:
        return ConfigError(self.source, self.key(name), problem)

    def get(self, name: str, kind: type | tuple[type, ...], default: Any) -> Any:
        self.seen.add(name)
        if name not in self.table:
            return default
        value = self.table[name]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float)):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.fail(name, f"must be {_article(names)}, got {type(value).__name__}")
        return value

    def port(self, name: str, default: int) -> int:
        value = self.get(name, int, default)
        if not 0 <= value <= 65535:
            raise self.fail(name, f"port {value} is out of range 0-65535")
        return int(value)

    def positive(self, name: str, default: float) -> float:
        value = self.get(name, float, default)
        if value <= 0:
            raise self.fail(name, "must be greater than 0")
        return float(value)

    def secret(self, name: str, required: bool) -> Secret:
        self.seen.add(name)
        value = self.table.get(name)
        if value is None:
            if required:
                raise self.fail(name, "is required")
            return Secret("")
        if not isinstance(value, str):
            raise self.fail(name, f"must be a string, got {type(value).__name__}")
        if required and not value:
            raise self.fail(name, "must not be empty")
        return Secret(value)

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.get(name, str, default)
        if value not in choices:
            raise self.fail(name, f"must be one of {', '.join(choices)}, got {value!r}")
        return str(value)

    def check_unknown(self, allowed_extra: tuple[str, ...] = ()) -> None:
        for name in self.table:
            if name not in self.seen and name not in allowed_extra:
                raise self.fail(name, "unknown key")


def _article(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


# ---------------------------------------------------------------- sections


def _parse_storage(source: str, table: Any, data_dir: str) -> StorageConfig:
    sec = _Section(source, "storage", table)
    url = sec.get("url", str, f"sqlite:///{data_dir}/faxappliance.db")
    if not (url.startswith("sqlite:///") or url.startswith(("postgresql://", "postgres://"))):
        raise sec.fail("url", "must start with sqlite:/// or postgresql://")
    sec.check_unknown()
    return StorageConfig(url=url)


def _parse_client(source: str, index: int, table: Any) -> RadiusClientConfig:
    sec = _Section(source, f"radius.clients[{index}]", table)
    address = sec.get("address", str, None)
    if address is None:
        raise sec.fail("address", "is required (an IP address or CIDR network)")
    try:
        network = ipaddress.ip_network(address, strict=False)
    except ValueError:
        raise sec.fail("address", f"{address!r} is not an IP address or CIDR network") from None
    secret = sec.secret("secret", required=True)
    require_ma = sec.get("require_message_authenticator", bool, True)
    name = sec.get("name", str, str(network))
    allow_short = sec.get("allow_short_secret", bool, False)
    if len(secret.reveal_str()) < MIN_SECRET_CHARS and not allow_short:
        raise sec.fail(
            "secret",
            f"is shorter than {MIN_SECRET_CHARS} characters; use a long random secret"
            " (or set allow_short_secret = true for a client that cannot take one)",
        )
    sec.check_unknown()
    return RadiusClientConfig(network, secret, require_ma, name, allow_short)


MAX_RADIUS_WORKERS = 64


def _parse_radius(source: str, table: Any) -> RadiusConfig:
    sec = _Section(source, "radius", table)
    listen = sec.get("listen", str, "127.0.0.1")
    try:
        ipaddress.ip_address(listen)
    except ValueError:
        raise sec.fail("listen", f"{listen!r} is not an IP address") from None
    auth_port = sec.port("auth_port", 1812)
    acct_port = sec.port("acct_port", 1813)
    if auth_port and auth_port == acct_port:
        raise sec.fail("acct_port", "must differ from auth_port")
    raw_clients = sec.get("clients", list, [])
    clients = tuple(_parse_client(source, i, c) for i, c in enumerate(raw_clients))
    dictionary = sec.get("dictionary", str, "")
    cache = sec.get("duplicate_cache_seconds", float, 5.0)
    if not 0 <= cache <= 30:
        raise sec.fail("duplicate_cache_seconds", "must be between 0 and 30")
    decisions = sec.get("decision_cache_seconds", float, 1.0)
    if not 0 <= decisions <= 60:
        raise sec.fail("decision_cache_seconds", "must be between 0 (off) and 60")
    reject_delay = sec.get("reject_delay", float, 1.0)
    if not 0 <= reject_delay <= MAX_REJECT_DELAY:
        raise sec.fail("reject_delay", f"must be between 0 (off) and {MAX_REJECT_DELAY:g} seconds")
    uuid_mode = sec.get("uuid_mode", bool, False)
    uuid_format = sec.choice("uuid_format", ("binary", "hex", "dash"), "dash")
    read_model = sec.get("read_model", bool, True)
    feed = sec.get("change_feed_seconds", float, 1.0)
    if not 0.05 <= feed <= 60:
        raise sec.fail("change_feed_seconds", "must be between 0.05 and 60")
    workers = sec.get("workers", int, 0)
    if isinstance(workers, bool) or not 0 <= workers <= MAX_RADIUS_WORKERS:
        raise sec.fail("workers", f"must be between 0 (one per core) and {MAX_RADIUS_WORKERS}")
    sec.check_unknown()
    return RadiusConfig(
        listen=listen,
        auth_port=auth_port,
        acct_port=acct_port,
        clients=clients,
        dictionary=dictionary,
        duplicate_cache_seconds=float(cache),
        decision_cache_seconds=float(decisions),
        reject_delay=float(reject_delay),
        uuid_mode=uuid_mode,
        uuid_format=uuid_format,
        max_name_bytes=64 if uuid_mode else 16,
        read_model=read_model,
        change_feed_seconds=float(feed),
        workers=int(workers),
    )


def _parse_faxage(source: str, table: Any) -> FaxageConfig:
    sec = _Section(source, "faxage", table)
    url = sec.get("url", str, FAXAGE_DEFAULT_URL)
    if not url.startswith(("http://", "https://")):
        raise sec.fail("url", "must be an http:// or https:// URL")
    notify_url = sec.get("notify_url", str, "")
    if notify_url and not notify_url.startswith(("http://", "https://")):
        raise sec.fail("notify_url", "must be an http:// or https:// URL")
    cfg = FaxageConfig(
        url=url.rstrip("/"),
        username=sec.get("username", str, ""),
        company=str(sec.get("company", (str, int), "")),
        password=sec.secret("password", required=False),
        notify_url=notify_url,
        poll_interval=sec.positive("poll_interval", 60.0),
        debug=sec.get("debug", bool, False),
    )
    sec.check_unknown()
    return cfg


# Top-level tables validated by their own components' parsers (called from
# parse()); any other unknown top-level key is reported.
OTHER_SECTIONS: tuple[str, ...] = (
    "lines",
    "routing",
    "retry",
    "web",
    "portserver",
    "dialplan",
    "limits",
    "smtp",
    "email_gateway",
    "inbound_routes",
    "node",
    "retention",
)


def parse(text: str, source: str = "<config>", base_dir: str = ".") -> Config:
    """Parse TOML ``text`` (from ``source``) into a :class:`Config`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "", f"not valid TOML: {exc}") from None
    top = _Section(source, "", data)
    data_dir = top.get("data_dir", str, str(Path(base_dir) / "var"))
    storage = _parse_storage(source, top.get("storage", dict, {}), data_dir)
    radius = _parse_radius(source, top.get("radius", dict, {}))
    faxage = _parse_faxage(source, top.get("faxage", dict, {}))
    from appliance.config.lines import parse_lines, parse_retry, parse_routing
    from appliance.config.web import parse_web  # the web service owns its section

    lines = parse_lines(source, top.get("lines", list, []))
    routing = parse_routing(source, top.get("routing", dict, {}))
    retry = parse_retry(source, top.get("retry", dict, {}))
    web = parse_web(source, top.get("web", dict, {}))
    from appliance.dialplan import parse_dialplan

    dialplan = parse_dialplan(source, top.get("dialplan", dict, {}))
    from appliance.render.limits import parse_limits  # document conversion owns its section

    limits = parse_limits(source, top.get("limits", dict, {}))
    portserver = None
    if "portserver" in data:
        from appliance.portserver_config import parse_portserver

        portserver = parse_portserver(source, top.get("portserver", dict, {}))
    from appliance.node_config import parse_node  # used by the services; checked here

    parse_node(source, data.get("node"))
    from appliance.retention import RetentionError, parse_retention  # housekeeping owns its section

    try:
        retention = parse_retention(top.get("retention", dict, {}))
    except RetentionError as exc:
        raise ConfigError(source, "", str(exc)) from None
    if routing.policy == "cloud_only" and not faxage.configured:
        raise ConfigError(source, "routing.policy", "cloud_only needs [faxage] username, company and password")
    if routing.policy == "local_only" and "routing" in data and not lines:
        raise ConfigError(source, "routing.policy", "local_only needs at least one [[lines]] entry")
    top.check_unknown(OTHER_SECTIONS)
    return Config(
        source,
        data_dir,
        storage,
        radius,
        faxage,
        raw=data,
        lines=lines,
        routing=routing,
        retry=retry,
        web=web,
        portserver=portserver,
        dialplan=dialplan,
        limits=limits,
        retention=retention,
    )


def load(path: str | Path) -> Config:
    """Read and parse the config file at ``path``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(p), "", f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(str(p), "", "not UTF-8 text") from None
    return parse(text, str(p), base_dir=str(p.parent))


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
