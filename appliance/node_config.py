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

from appliance.config_reader import Section

__all__ = ["NodeConfig", "default_node_id", "parse_node"]

MIN_SECONDS, MAX_SECONDS = 0.0, 3600.0
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


def parse_node(source: str, table: object) -> NodeConfig:
    """``[node]`` of ``source`` (None or missing: the defaults)."""
    sec = Section(source, "node", table)
    node_id = sec.text("id", "")
    if node_id and not _ID.match(node_id):
        raise sec.fail("id", "must be 1-40 letters, digits, '.', '_' or '-' (first a letter or digit)")
    lease = sec.number("lease_seconds", 30.0, MIN_SECONDS, MAX_SECONDS, "seconds")
    beat = sec.number("heartbeat_seconds", lease / 3, MIN_SECONDS, MAX_SECONDS, "seconds")
    sec.check_unknown()
    if lease <= 0 or beat <= 0:
        raise sec.fail("lease_seconds" if lease <= 0 else "heartbeat_seconds", "must be greater than 0")
    if beat * 2 > lease:
        raise sec.fail(
            "heartbeat_seconds",
            f"must be at most half of lease_seconds ({lease:g}), so a live node renews its leases in time",
        )
    return NodeConfig(node_id, lease, beat)
