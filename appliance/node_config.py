"""``[node]``: this appliance node's identity and its claim leases (pure).

```toml
[node]
id = "fax-a"               # default: host name + a hash of the data directory
lease_seconds = 30         # a claim not renewed for this long is taken over by another node
heartbeat_seconds = 10     # how often the node renews its leases (default lease_seconds / 3)
```
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from appliance.config import ConfigError

__all__ = ["NodeConfig", "default_node_id", "parse_node"]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


@dataclass(frozen=True)
class NodeConfig:
    id: str = ""  # "": default_node_id(host, data_dir)
    lease_seconds: float = 30.0
    heartbeat_seconds: float = 10.0


def default_node_id(host: str, data_dir: str) -> str:
    """Stable across restarts: the host name and a hash of the (absolute) data directory."""
    name = re.sub(r"[^A-Za-z0-9._-]", "-", host.split(".")[0])[:24].strip("-.") or "node"
    return f"{name}-{hashlib.sha256(data_dir.encode()).hexdigest()[:6]}"


def parse_node(source: str, table: Any) -> NodeConfig:
    """``[node]`` of ``source`` (None or missing: the defaults)."""
    if table is None:
        return NodeConfig()
    if not isinstance(table, dict):
        raise ConfigError(source, "node", "must be a table")
    for key in table:
        if key not in ("id", "lease_seconds", "heartbeat_seconds"):
            raise ConfigError(source, f"node.{key}", "unknown key")
    node_id = table.get("id", "")
    if not isinstance(node_id, str) or (node_id and not _ID.match(node_id)):
        raise ConfigError(source, "node.id", "must be 1-40 letters, digits, '.', '_' or '-' (first a letter or digit)")
    values = {}
    for key, default in (("lease_seconds", 30.0), ("heartbeat_seconds", None)):
        value = table.get(key, default)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0 or value > 3600:
            raise ConfigError(source, f"node.{key}", "must be a number of seconds greater than 0 (at most 3600)")
        values[key] = float(value)
    lease = values["lease_seconds"]
    beat = values.get("heartbeat_seconds", lease / 3)
    if beat * 2 > lease:
        raise ConfigError(
            source,
            "node.heartbeat_seconds",
            f"must be at most half of lease_seconds ({lease:g}), so a live node renews its leases in time",
        )
    return NodeConfig(node_id, lease, beat)
