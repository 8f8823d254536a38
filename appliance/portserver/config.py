"""The ``[portserver]`` configuration section: the RADIUS servers the
port-server role talks to, in failover order.

Pure: a TOML table in, a frozen :class:`PortServerConfig` out; errors are
:class:`appliance.config.ConfigError` naming the file, the key and the
problem, never a secret's value.

```toml
[portserver]
timeout = 3            # seconds between retransmissions
retries = 3            # retransmissions before the next server is tried
dead_time = 30         # seconds a server that did not answer is skipped
nas_identifier = "appliance-1"
transfer_type = "real-time"   # or "queue" (or 1 / 2)
interim_interval = 0   # seconds between Interim-Updates; 0 = none
spool_dir = ""         # undelivered Stops; "" = <data_dir>/acct-spool

[[portserver.servers]]
address = "127.0.0.1"
auth_port = 1812
acct_port = 1813
secret = "..."
require_message_authenticator_in_replies = true
```
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from appliance.config import ConfigError, Secret

if TYPE_CHECKING:
    from radius.client import ServerSpec

__all__ = ["PortServerConfig", "PortServerServer", "parse_portserver"]

_TRANSFER = {"real-time": 1, "realtime": 1, "queue": 2, 1: 1, 2: 2}


@dataclass(frozen=True)
class PortServerServer:
    address: str
    auth_port: int = 1812
    acct_port: int = 1813
    secret: Secret = field(default_factory=lambda: Secret(""))
    require_message_authenticator_in_replies: bool = True
    name: str = ""

    def spec(self) -> ServerSpec:
        from radius.client import ServerSpec

        return ServerSpec(
            self.address,
            self.auth_port,
            self.acct_port,
            self.secret.reveal(),
            self.require_message_authenticator_in_replies,
            self.name or self.address,
        )


@dataclass(frozen=True)
class PortServerConfig:
    servers: tuple[PortServerServer, ...] = ()
    timeout: float = 3.0
    retries: int = 3
    dead_time: float = 30.0
    nas_identifier: str = ""
    transfer_type: int = 1
    interim_interval: float = 0.0
    spool_dir: str = ""

    def server_specs(self) -> list[ServerSpec]:
        return [s.spec() for s in self.servers]


class _Table:
    def __init__(self, source: str, prefix: str, table: Any) -> None:
        if not isinstance(table, dict):
            raise ConfigError(source, prefix, "must be a table")
        self.source, self.prefix, self.table = source, prefix, table
        self.seen: set[str] = set()

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.source, f"{self.prefix}.{key}", problem)

    def get(self, key: str, kind: type, default: Any) -> Any:
        self.seen.add(key)
        if key not in self.table:
            return default
        value = self.table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            article = "an" if kind.__name__[0] in "aeiou" else "a"
            raise self.fail(key, f"must be {article} {kind.__name__}, got {type(value).__name__}")
        return value

    def port(self, key: str, default: int) -> int:
        value = self.get(key, int, default)
        if not 1 <= value <= 65535:
            raise self.fail(key, f"port {value} is out of range 1-65535")
        return int(value)

    def unknown(self) -> None:
        for key in self.table:
            if key not in self.seen:
                raise self.fail(key, "unknown key")


def _server(source: str, index: int, table: Any) -> PortServerServer:
    t = _Table(source, f"portserver.servers[{index}]", table)
    address = t.get("address", str, None)
    if address is None:
        raise t.fail("address", "is required (the RADIUS server's IP address)")
    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise t.fail("address", f"{address!r} is not an IP address") from None
    auth_port = t.port("auth_port", 1812)
    acct_port = t.port("acct_port", 1813)
    t.seen.add("secret")
    secret = table.get("secret")
    if secret is None:
        raise t.fail("secret", "is required")
    if not isinstance(secret, str):
        raise t.fail("secret", f"must be a string, got {type(secret).__name__}")
    if not secret:
        raise t.fail("secret", "must not be empty")
    legacy = t.get("require_message_authenticator_in_replies", bool, True)
    name = t.get("name", str, "")
    t.unknown()
    return PortServerServer(address, auth_port, acct_port, Secret(secret), legacy, name)


def parse_portserver(source: str, table: dict[str, Any]) -> PortServerConfig:
    """Validate the ``[portserver]`` table of the config file ``source``."""
    t = _Table(source, "portserver", table)
    raw_servers = t.get("servers", list, [])
    servers = tuple(_server(source, i, s) for i, s in enumerate(raw_servers))
    timeout = t.get("timeout", float, 3.0)
    if not 0 < timeout <= 60:
        raise t.fail("timeout", "must be greater than 0 and at most 60 seconds")
    retries = t.get("retries", int, 3)
    if not 0 <= retries <= 20:
        raise t.fail("retries", "must be between 0 and 20")
    dead_time = t.get("dead_time", float, 30.0)
    if dead_time < 0:
        raise t.fail("dead_time", "must not be negative")
    nas_identifier = t.get("nas_identifier", str, "")
    t.seen.add("transfer_type")
    transfer_raw = table.get("transfer_type", 1)
    key = transfer_raw.lower() if isinstance(transfer_raw, str) else transfer_raw
    if isinstance(key, bool) or key not in _TRANSFER:
        raise t.fail("transfer_type", f'must be "real-time" (1) or "queue" (2), got {transfer_raw!r}')
    interim = t.get("interim_interval", float, 0.0)
    if interim < 0:
        raise t.fail("interim_interval", "must not be negative (0 = no Interim-Updates)")
    spool_dir = t.get("spool_dir", str, "")
    t.unknown()
    return PortServerConfig(
        servers,
        float(timeout),
        int(retries),
        float(dead_time),
        nas_identifier,
        _TRANSFER[key],
        float(interim),
        spool_dir,
    )
