"""The appliance's one outbound HTTP fetcher (blocking: run it in a thread pool).

Each hop: the URL is checked (:func:`appliance.fetch_policy.parse_target`),
the host is resolved *here* and every address checked, and the connection
goes to that checked address (the URL is rewritten to the IP literal; the
``Host`` header and the TLS server name keep the original name), so a second
DNS answer can never point the request elsewhere.  Redirects are followed by
hand, each hop checked the same way, at most ``max_redirects``.  The body is
read as a stream and cut off at ``max_bytes``; the whole fetch, redirects
included, must finish within ``timeout`` seconds.

Whatever goes wrong, the caller gets a :class:`FetchError` whose text is
:data:`appliance.fetch_policy.REFUSED`; the reason is in ``detail`` for the log.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from appliance.fetch_policy import (
    REDIRECTS,
    FetchError,
    FetchPolicy,
    Scheme,
    Target,
    choose_address,
    parse_target,
    redirect_target,
)

__all__ = ["FetchError", "FetchPolicy", "Fetched", "Fetcher", "resolve_host"]

Resolver = Callable[[str, int], Sequence[str]]


@dataclass(frozen=True)
class Fetched:
    content: bytes
    content_type: str  # lower case, without parameters; "" when not given


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (TCP), in the resolver's order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]
        if address not in seen:
            seen.append(address)
    return seen


class Fetcher:
    """Fetches one URL under a :class:`FetchPolicy`; ``resolve`` and
    ``transport`` are seams for tests."""

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        resolve: Resolver = resolve_host,
        transport: httpx.BaseTransport | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self.resolve = resolve
        self.transport = transport
        self.monotonic = monotonic

    def fetch(self, url: str) -> Fetched:
        """The body and content type at ``url``; FetchError (text: REFUSED) otherwise."""
        deadline = self.monotonic() + self.policy.timeout
        target = parse_target(url)
        with httpx.Client(
            transport=self.transport,
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(self.policy.timeout),
        ) as client:
            for hops in range(self.policy.max_redirects + 1):
                try:
                    result = self._hop(client, target, deadline)
                except (httpx.HTTPError, httpx.InvalidURL) as exc:
                    raise FetchError(f"{type(exc).__name__} from {target.host}") from None
                if isinstance(result, Fetched):
                    return result
                target = redirect_target(target, result, hops, self.policy)
        raise FetchError("too many redirects")  # pragma: no cover - redirect_target raises first

    def _remaining(self, deadline: float) -> float:
        left = deadline - self.monotonic()
        if left <= 0:
            raise FetchError("time limit reached")
        return left

    def _hop(self, client: httpx.Client, target: Target, deadline: float) -> Fetched | str | None:
        """The document, or the Location of a redirect (possibly None)."""
        address = choose_address(self.resolve(target.host, target.port), self.policy.allow)
        pinned = httpx.URL(
            scheme=target.scheme, host=address, port=target.port, raw_path=target.path.encode("ascii", "strict")
        )
        extensions = {"timeout": httpx.Timeout(self._remaining(deadline)).as_dict()}
        if target.scheme is Scheme.HTTPS:
            extensions["sni_hostname"] = target.host  # type: ignore[assignment]
        request = client.build_request(
            "GET",
            pinned,
            headers={"Host": target.host_header, "Accept": "*/*", "Accept-Encoding": "identity"},
            extensions=extensions,
        )
        response = client.send(request, stream=True)
        try:
            if response.status_code in REDIRECTS:
                return response.headers.get("location")
            if response.status_code != 200:
                raise FetchError(f"HTTP {response.status_code} from {target.host}")
            if response.headers.get("content-encoding", "identity").strip().lower() != "identity":
                raise FetchError("compressed body (only identity is accepted)")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.policy.max_bytes:
                raise FetchError(f"declared {declared} bytes, more than {self.policy.max_bytes}")
            chunks, size = [], 0
            for chunk in response.iter_raw():
                size += len(chunk)
                if size > self.policy.max_bytes:
                    raise FetchError(f"more than {self.policy.max_bytes} bytes")
                self._remaining(deadline)
                chunks.append(chunk)
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            return Fetched(b"".join(chunks), content_type)
        finally:
            response.close()
