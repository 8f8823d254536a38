"""The configured RADIUS clients: their settings, their shared secrets, and the
table that matches a datagram's source address to one of them."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ClientTable", "RadiusClientConfig", "Secret"]


class Secret:
    """A secret value that never shows itself in repr/str/logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str | bytes) -> None:
        self._value = value.encode("utf-8") if isinstance(value, str) else bytes(value)

    def reveal(self) -> bytes:
        return self._value

    def reveal_str(self) -> str:
        return self._value.decode("utf-8")

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


@dataclass(frozen=True)
class RadiusClientConfig:
    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    secret: Secret
    require_message_authenticator: bool = True
    name: str = ""
    allow_short_secret: bool = False


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
