"""The ``[portserver]`` configuration section: the RADIUS servers the
port-server role talks to, in failover order.

Pure: a TOML table in, a frozen :class:`PortServerConfig` out, read through
:class:`appliance.config_reader.Section` (errors name the file, the key and
the problem, never a secret's value).

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
from typing import TYPE_CHECKING

from appliance.config_reader import Section
from radius.clients import Secret

if TYPE_CHECKING:
    from radius.client import ServerSpec

__all__ = ["PortServerConfig", "PortServerServer", "parse_portserver"]

_TRANSFER: dict[object, int] = {"real-time": 1, "realtime": 1, "queue": 2, 1: 1, 2: 2}


@dataclass(frozen=True)
class PortServerServer:
    address: str
    auth_port: int = 1812
    acct_port: int = 1813
    secret: Secret = field(default_factory=lambda: Secret(""))
    require_message_authenticator_in_replies: bool = True
    name: str = ""

    def spec(self) -> ServerSpec:
        from radius.client import ServerSpec  # radius.client is Twisted: not loaded by the config reader

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


def _server(source: str, index: int, table: object) -> PortServerServer:
    t = Section(source, f"portserver.servers[{index}]", table)
    address = t.get("address", str, None)
    if address is None:
        raise t.fail("address", "is required (the RADIUS server's IP address)")
    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise t.fail("address", f"{address!r} is not an IP address") from None
    auth_port = t.port("auth_port", 1812)
    acct_port = t.port("acct_port", 1813)
    secret = t.secret("secret", required=True)
    legacy = t.flag("require_message_authenticator_in_replies", True)
    name = t.text("name", "")
    t.check_unknown()
    return PortServerServer(address, auth_port, acct_port, secret, legacy, name)


def parse_portserver(source: str, table: object) -> PortServerConfig:
    """Validate the ``[portserver]`` table of the config file ``source``."""
    t = Section(source, "portserver", table)
    servers = tuple(_server(source, i, s) for i, s in enumerate(t.tables("servers")))
    timeout = t.number("timeout", 3.0)
    if not 0 < timeout <= 60:
        raise t.fail("timeout", "must be greater than 0 and at most 60 seconds")
    retries = t.integer("retries", 3, 0, 20)
    dead_time = t.number("dead_time", 30.0, low=0)
    nas_identifier = t.text("nas_identifier", "")
    t.seen.add("transfer_type")
    transfer_raw = t.table.get("transfer_type", 1)
    key = transfer_raw.lower() if isinstance(transfer_raw, str) else transfer_raw
    if isinstance(key, bool) or key not in _TRANSFER:
        raise t.fail("transfer_type", f'must be "real-time" (1) or "queue" (2), got {transfer_raw!r}')
    interim = t.number("interim_interval", 0.0, low=0)
    spool_dir = t.text("spool_dir", "")
    t.check_unknown()
    return PortServerConfig(servers, timeout, retries, dead_time, nas_identifier, _TRANSFER[key], interim, spool_dir)
