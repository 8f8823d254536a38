"""The core sections: ``[storage]``, ``[radius]``, ``[faxage]`` (parsers),
and the dataclasses of ``[[lines]]``, ``[routing]`` and ``[retry]``
(parsed in :mod:`appliance.config.lines`).

Pure: every table is read through :class:`appliance.config_reader.Section`.
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from appliance.config_reader import Section
from radius.clients import RadiusClientConfig, Secret

if TYPE_CHECKING:
    from appliance.jobs.model import RetryPolicy

__all__ = [
    "FaxageConfig",
    "LineClass",
    "LineConfig",
    "LineDirection",
    "RadiusConfig",
    "RetryConfig",
    "RoutingConfig",
    "RoutingPolicy",
    "StorageConfig",
    "UuidFormat",
    "parse_faxage",
    "parse_radius",
    "parse_storage",
]

FAXAGE_DEFAULT_URL = "https://api.faxage.com"
MIN_SECRET_CHARS = 16  # RADIUS shared secrets (RFC 2865 §3: 16 octets or more are preferred)
MAX_REJECT_DELAY = 5.0


class UuidFormat(enum.StrEnum):
    """How a UUID account name is written in RADIUS (``[radius] uuid_format``)."""

    BINARY = "binary"
    HEX = "hex"
    DASH = "dash"


class LineClass(enum.StrEnum):
    """The fax class a line uses (``[[lines]] class``); AUTO takes 2.0 when the modem offers it."""

    CLASS20 = "2.0"
    CLASS2 = "2"
    AUTO = "auto"


class LineDirection(enum.StrEnum):
    IN = "in"
    OUT = "out"
    BOTH = "both"


class RoutingPolicy(enum.StrEnum):
    LOCAL_FIRST = "local_first"
    LOCAL_ONLY = "local_only"
    CLOUD_ONLY = "cloud_only"


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
    uuid_format: UuidFormat = UuidFormat.DASH
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


@dataclass(frozen=True)
class LineConfig:
    """One ``[[lines]]`` entry: a modem on a serial device, or ``sim`` (simulated)."""

    name: str
    device: str  # a device path, or "sim"
    fax_class: LineClass = LineClass.AUTO
    init: tuple[str, ...] = ("ATQ0V1", "ATE0")
    did: str = ""  # the number this line answers (inbound routing)
    caller_id: str = ""  # ANI presented when sending
    tsid: str = ""  # our fax ID (TSI/CSI), 20 characters
    direction: LineDirection = LineDirection.BOTH
    speed: int = 19200
    rings: int = 1

    @property
    def sends(self) -> bool:
        return self.direction in (LineDirection.OUT, LineDirection.BOTH)

    @property
    def receives(self) -> bool:
        return self.direction in (LineDirection.IN, LineDirection.BOTH)


@dataclass(frozen=True)
class RoutingConfig:
    policy: RoutingPolicy = RoutingPolicy.LOCAL_FIRST
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

    def policy(self) -> RetryPolicy:
        """The job queue's :class:`appliance.jobs.model.RetryPolicy`."""
        from appliance.jobs.model import Cause, RetryPolicy  # the job model imports the jobs package (a store)

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


# ---------------------------------------------------------------- sections


def parse_storage(source: str, table: object, data_dir: str) -> StorageConfig:
    sec = Section(source, "storage", table)
    url = sec.get("url", str, f"sqlite:///{data_dir}/faxappliance.db")
    if not (url.startswith("sqlite:///") or url.startswith(("postgresql://", "postgres://"))):
        raise sec.fail("url", "must start with sqlite:/// or postgresql://")
    sec.check_unknown()
    return StorageConfig(url=url)


def _parse_client(source: str, index: int, table: object) -> RadiusClientConfig:
    sec = Section(source, f"radius.clients[{index}]", table)
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


def parse_radius(source: str, table: object) -> RadiusConfig:
    sec = Section(source, "radius", table)
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
    uuid_format = sec.choice("uuid_format", UuidFormat, UuidFormat.DASH)
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


def parse_faxage(source: str, table: object) -> FaxageConfig:
    sec = Section(source, "faxage", table)
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
