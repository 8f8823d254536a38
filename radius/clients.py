"""The configured RADIUS clients, matched by source address."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from appliance.config import RadiusClientConfig

__all__ = ["ClientTable"]


class ClientTable:
    """Configured RADIUS clients, matched by source address (IP or CIDR)."""

    def __init__(self, clients: Sequence[RadiusClientConfig]) -> None:
        # Most specific network first, so a /32 overrides a /8.
        self._clients = sorted(clients, key=lambda c: c.network.prefixlen, reverse=True)
        self._cache: dict[str, RadiusClientConfig | None] = {}

    def lookup(self, host: str) -> RadiusClientConfig | None:
        try:
            return self._cache[host]
        except KeyError:
            pass
        found = None
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if address is not None:
            for client in self._clients:
                if address.version == client.network.version and address in client.network:
                    found = client
                    break
        if len(self._cache) > 65536:
            self._cache.clear()
        self._cache[host] = found
        return found
