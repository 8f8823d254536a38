"""What the appliance's one outbound fetcher may fetch: the pure policy.

Every URL the appliance dereferences for a user (FFWS external
attachments, and anything added later) goes through
:class:`appliance.fetch.Fetcher`; this module decides, without any I/O,
which URLs, addresses and redirects are acceptable:

* only ``http`` and ``https``, a plain host name or IP literal, no
  ``user:password@``;
* an address must be globally reachable: loopback, private (RFC 1918, ULA),
  link-local, CGNAT (100.64/10), multicast, reserved, unspecified,
  documentation/benchmark ranges and IPv4 embedded in IPv6 (mapped,
  6to4, NAT64) are refused unless a ``[web] fetch_allow`` network lists it;
* a host name is refused when any address it resolves to is refused.

Every refusal, and every failure of the fetch itself, is reported to the
user with the single text :data:`REFUSED`, so a caller learns nothing about
what is (or is not) listening behind the appliance.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

__all__ = [
    "REFUSED",
    "FetchError",
    "FetchPolicy",
    "Scheme",
    "Target",
    "address_allowed",
    "choose_address",
    "parse_allow",
    "parse_target",
    "redirect_target",
]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: the one text a user sees for any failed or refused fetch
REFUSED = "the document could not be fetched from its URL"
MB = 1024 * 1024
REDIRECTS = (301, 302, 303, 307, 308)
_PATH_SAFE = "/?&=;:@!$'()*+,~%-._"  # kept as they are; anything else (non-ASCII) is percent-encoded

#: refused even though Python may call them global: they carry or reach IPv4 space,
#: are shared address space, or are reserved for protocol assignments
_ALWAYS_REFUSED: tuple[Network, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "100.64.0.0/10",  # CGNAT shared address space (RFC 6598)
        "192.0.0.0/24",  # IETF protocol assignments
        "2002::/16",  # 6to4: embeds an IPv4 address
        "64:ff9b::/96",
        "64:ff9b:1::/48",  # NAT64: reaches IPv4 space
        "2001::/32",  # Teredo
        "::/96",  # IPv4-compatible (deprecated)
    )
)


class FetchError(Exception):
    """A fetch was refused or failed.  ``str()`` is always :data:`REFUSED`;
    ``detail`` says why, for the appliance log only (never for the user)."""

    def __init__(self, detail: str) -> None:
        super().__init__(REFUSED)
        self.detail = detail


@dataclass(frozen=True)
class FetchPolicy:
    """Limits of every outbound fetch."""

    allow: tuple[Network, ...] = ()  # networks allowed although not globally reachable
    max_bytes: int = 36 * MB  # the body, per fetch
    timeout: float = 30.0  # seconds for the whole fetch, redirects included
    max_redirects: int = 5


class Scheme(enum.StrEnum):
    """The URL schemes an external attachment may use."""

    HTTP = "http"
    HTTPS = "https"

    @property
    def default_port(self) -> int:
        return 443 if self is Scheme.HTTPS else 80


@dataclass(frozen=True)
class Target:
    """One checked URL: where to connect and what to ask for."""

    scheme: Scheme
    host: str  # the name (or IP literal) for Host and TLS
    port: int
    path: str  # path and query, never empty
    url: str  # as given (for relative redirects)

    @property
    def host_header(self) -> str:
        literal = f"[{self.host}]" if ":" in self.host else self.host
        return literal if self.port == self.scheme.default_port else f"{literal}:{self.port}"


def parse_allow(values: Iterable[str]) -> tuple[Network, ...]:
    """``[web] fetch_allow`` entries as networks; ValueError naming a bad entry."""
    out = []
    for value in values:
        try:
            out.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP network (e.g. 10.1.2.0/24 or 2001:db8::/32)") from None
    return tuple(out)


def _plain(address: Address) -> Address:
    """An IPv4-mapped IPv6 address as its IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def address_allowed(address: str | Address, allow: Sequence[Network] = ()) -> bool:
    """Whether the fetcher may connect to ``address``."""
    try:
        ip = _plain(ipaddress.ip_address(address) if isinstance(address, str) else address)
    except ValueError:
        return False
    if any(ip.version == net.version and ip in net for net in allow):
        return True
    if any(ip.version == net.version and ip in net for net in _ALWAYS_REFUSED):
        return False
    return bool(
        ip.is_global
        and not (
            ip.is_multicast
            or ip.is_reserved
            or ip.is_unspecified
            or ip.is_loopback
            or ip.is_link_local
            or ip.is_private
        )
    )


def choose_address(addresses: Sequence[str], allow: Sequence[Network] = ()) -> str:
    """The address to connect to: the first of ``addresses``, when every one is allowed."""
    if not addresses:
        raise FetchError("the host name did not resolve")
    refused = [a for a in addresses if not address_allowed(a, allow)]
    if refused:
        raise FetchError(f"refused address {refused[0]}")
    return str(_plain(ipaddress.ip_address(addresses[0])))


def _host(raw: str) -> str:
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        pass
    try:
        name = raw.encode("idna").decode("ascii").lower()
    except (UnicodeError, ValueError):
        raise FetchError("bad host name") from None
    labels = name.rstrip(".").split(".")
    if (
        not name
        or len(name) > 253
        or not all(label and len(label) <= 63 and all(c.isalnum() or c == "-" for c in label) for label in labels)
    ):
        raise FetchError("bad host name")
    return name


def parse_target(url: str) -> Target:
    """The checked parts of ``url`` (http/https, a host, no credentials); FetchError otherwise."""
    if len(url) > 4096 or any(ord(c) <= 0x20 or c in "\x7f\\" for c in url):
        raise FetchError("malformed URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise FetchError("malformed URL") from None
    scheme_text = parts.scheme.lower()
    if scheme_text not in tuple(Scheme):
        raise FetchError(f"scheme {scheme_text!r} not allowed")
    scheme = Scheme(scheme_text)
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise FetchError("credentials in the URL")
    if not parts.hostname:
        raise FetchError("no host")
    host = _host(parts.hostname)
    path = quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), safe=_PATH_SAFE)
    return Target(scheme, host, port if port is not None else scheme.default_port, path, url)


def redirect_target(current: Target, location: str | None, hops: int, policy: FetchPolicy) -> Target:
    """Where a redirect leads (checked like any URL); FetchError past the hop limit."""
    if hops >= policy.max_redirects:
        raise FetchError(f"more than {policy.max_redirects} redirects")
    if not location:
        raise FetchError("redirect without a Location")
    return parse_target(urljoin(current.url, location.strip()))
