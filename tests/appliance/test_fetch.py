"""The outbound fetcher against real HTTP servers on loopback: a canary that
must never be reached without an allow-list entry, an allowed server that
redirects, serves big, slow and failing answers; the pure policy table."""

from __future__ import annotations

import ast
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from appliance.fetch import Fetcher, resolve_host
from appliance.fetch_policy import REFUSED, FetchError, FetchPolicy, address_allowed, parse_allow, parse_target

ALLOWED_HOST = "127.0.0.2"  # the "allowed" test server; the canary listens on 127.0.0.1


class Server:
    """A real HTTP server in a thread that records the paths it was asked for."""

    def __init__(self, host: str) -> None:
        self.paths: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server.paths.append(self.path)
                server.headers = dict(self.headers)
                route, _, arg = self.path.partition("?")
                if route == "/doc":
                    self._send(200, b"hello from the document server", "text/plain; charset=utf-8")
                elif route == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", arg)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif route == "/loop":
                    self.send_response(301)
                    self.send_header("Location", "/loop")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif route == "/big":
                    self._send(200, b"x" * 5000, "text/plain")
                elif route == "/chunked-big":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()  # no length: the body ends when the connection closes
                    self.close_connection = True
                    for _ in range(10):
                        self.wfile.write(b"y" * 1000)
                elif route == "/slow":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", "100")
                    self.end_headers()
                    for _ in range(100):
                        try:
                            self.wfile.write(b"z")
                            self.wfile.flush()
                        except OSError:
                            return
                        time.sleep(0.05)
                elif route == "/secret":
                    self._send(401, b"who are you", "text/plain")
                else:
                    self._send(404, b"no", "text/plain")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.headers: dict[str, str] = {}
        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://{host}:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def canary() -> Iterator[Server]:
    """A server on 127.0.0.1 that no fetch may reach."""
    server = Server("127.0.0.1")
    yield server
    server.close()


@pytest.fixture
def allowed() -> Iterator[Server]:
    """A server on 127.0.0.2, the one address the tests put in the allow list."""
    try:
        server = Server(ALLOWED_HOST)
    except OSError:
        pytest.skip("cannot bind 127.0.0.2 (loopback is not a /8 here)")
    yield server
    server.close()


def fetcher(**kw: Any) -> Fetcher:
    resolve = kw.pop("resolve", resolve_host)
    return Fetcher(FetchPolicy(allow=parse_allow([f"{ALLOWED_HOST}/32"]), **kw), resolve=resolve)


def refused(f: Fetcher, url: str) -> FetchError:
    """The fetch fails with the one uniform text."""
    with pytest.raises(FetchError) as info:
        f.fetch(url)
    assert str(info.value) == REFUSED
    return info.value


# ---------------------------------------------------------------- canary


def test_loopback_literal_refused(canary: Server) -> None:
    """http://127.0.0.1:port/ (and its IPv4-mapped IPv6 form) is refused; the canary sees nothing."""
    f = fetcher()
    refused(f, f"{canary.base}/doc")
    refused(f, f"http://[::ffff:127.0.0.1]:{canary.port}/doc")
    refused(f, f"http://2130706433:{canary.port}/doc")  # 127.0.0.1 as one number
    assert canary.paths == []


def test_redirect_into_loopback_refused(allowed: Server, canary: Server) -> None:
    """An allowed server redirecting to the canary: the hop is refused, the canary sees nothing."""
    refused(fetcher(), f"{allowed.base}/redirect?{canary.base}/doc")
    assert allowed.paths and canary.paths == []


def test_name_resolving_to_loopback_refused(canary: Server) -> None:
    """``localhost`` and an injected name resolving to 127.0.0.1 are refused before connecting."""
    refused(fetcher(), f"http://localhost:{canary.port}/doc")
    rebinding = fetcher(resolve=lambda host, port: ["93.184.216.34", "127.0.0.1"])
    refused(rebinding, f"http://public.example:{canary.port}/doc")
    assert canary.paths == []


def test_uniform_error_text(allowed: Server, canary: Server) -> None:
    """Refused address, connection refused, HTTP 401, too large and a bad scheme all read the same."""
    closed = socket.socket()
    closed.bind((ALLOWED_HOST, 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    f = fetcher(max_bytes=1000)
    errors = [
        refused(f, url)
        for url in (
            f"{canary.base}/doc",
            f"http://{ALLOWED_HOST}:{port}/doc",
            f"{allowed.base}/secret",
            f"{allowed.base}/big",
            "file:///etc/passwd",
            "ftp://example.com/x",
            f"{allowed.base}/nothing",
        )
    ]
    assert {str(e) for e in errors} == {REFUSED}
    assert len({e.detail for e in errors}) == len(errors)  # the log still tells them apart


def test_allow_list_lets_a_fetch_through(allowed: Server) -> None:
    """A listed network is fetched; the Host header keeps the name from the URL."""
    got = fetcher().fetch(f"{allowed.base}/doc")
    assert got.content == b"hello from the document server" and got.content_type == "text/plain"
    named = fetcher(resolve=lambda host, port: [ALLOWED_HOST])
    assert named.fetch(f"http://docs.example:{allowed.port}/doc").content.startswith(b"hello")
    assert allowed.headers.get("Host") == f"docs.example:{allowed.port}"
    assert fetcher().fetch(f"{allowed.base}/redirect?/doc").content.startswith(b"hello")
    refused(Fetcher(FetchPolicy()), f"{allowed.base}/doc")  # without the entry: refused


def test_size_limit(allowed: Server) -> None:
    """Bodies over max_bytes are refused, declared or streamed without a length."""
    assert len(fetcher(max_bytes=5000).fetch(f"{allowed.base}/big").content) == 5000
    assert "more than" in refused(fetcher(max_bytes=4999), f"{allowed.base}/big").detail
    assert "more than" in refused(fetcher(max_bytes=9999), f"{allowed.base}/chunked-big").detail


def test_time_limit(allowed: Server) -> None:
    """A server dripping its body is cut off at the time limit."""
    started = time.monotonic()
    refused(fetcher(timeout=0.5), f"{allowed.base}/slow")
    assert time.monotonic() - started < 3.0


def test_redirect_limit(allowed: Server) -> None:
    """A redirect loop stops after max_redirects hops."""
    error = refused(fetcher(max_redirects=3), f"{allowed.base}/loop")
    assert "redirects" in error.detail and allowed.paths.count("/loop") == 4


# ---------------------------------------------------------------- policy


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.254",
        "0.0.0.0",
        "255.255.255.255",
        "224.0.0.1",
        "233.1.1.1",
        "240.0.0.1",
        "192.0.0.8",
        "198.18.0.1",
        "192.0.2.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "ff0e::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::1",
        "64:ff9b::7f00:1",
        "2001:db8::1",
        "2001::1",
        "::127.0.0.1",
        "not an address",
    ],
)
def test_refused_addresses(address: str) -> None:
    """Loopback, private, link-local, CGNAT, multicast, reserved, unspecified and embedded IPv4 are refused."""
    assert not address_allowed(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"])
def test_global_addresses_allowed(address: str) -> None:
    """Globally reachable unicast addresses are allowed."""
    assert address_allowed(address)


def test_allow_list_networks() -> None:
    """fetch_allow opens exactly the listed networks (IPv4-mapped forms included)."""
    allow = parse_allow(["10.1.2.0/24", "fd00::/8"])
    assert address_allowed("10.1.2.200", allow) and address_allowed("::ffff:10.1.2.7", allow)
    assert address_allowed("fd00::5", allow) and not address_allowed("10.1.3.1", allow)
    with pytest.raises(ValueError, match="not an IP network"):
        parse_allow(["intranet"])


@pytest.mark.parametrize(
    "url",
    [
        "gopher://x/",
        "http://user:pw@example.com/",
        "http:///x",
        "http://exa mple/",
        "http://example.com:99999/",
        "http://ex\\ample.com/",
        "http://a..b/",
        "http://example.com/\x01",
        "javascript:alert(1)",
    ],
)
def test_bad_urls(url: str) -> None:
    """Other schemes, credentials, bad hosts and ports are refused before any lookup."""
    with pytest.raises(FetchError) as info:
        parse_target(url)
    assert str(info.value) == REFUSED


def test_target_parts() -> None:
    """Host, port and path (with query) are taken from the URL; IPv6 literals are bracketed in Host."""
    t = parse_target("https://Docs.Example.com/a/b?c=d#frag")
    assert (t.scheme, t.host, t.port, t.path, t.host_header) == (
        "https",
        "docs.example.com",
        443,
        "/a/b?c=d",
        "docs.example.com",
    )
    assert parse_target("http://[2606:4700::1111]:8080").host_header == "[2606:4700::1111]:8080"
    assert parse_target("http://example.com/fax/\u00fcber.pdf?a=b%20c").path == "/fax/%C3%BCber.pdf?a=b%20c"


def test_policy_is_pure() -> None:
    """The policy module imports nothing that does I/O."""
    tree = ast.parse((Path(__file__).resolve().parents[2] / "appliance" / "fetch_policy.py").read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not imported & {"twisted", "socket", "httpx", "time", "os", "logging", "threading"}


@pytest.mark.interop
def test_https_keeps_the_name_for_tls(tmp_path: Path) -> None:
    """Over HTTPS the pinned address is used, while SNI and certificate checks use the URL's name."""
    import ssl
    import subprocess

    import httpx

    from tests.peers import require_program

    openssl = require_program("openssl", "openssl")
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=docs.example",
            "-addext",
            "subjectAltName=DNS:docs.example",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    try:
        server = Server(ALLOWED_HOST)
    except OSError:
        pytest.skip("cannot bind 127.0.0.2")
    names: list[str] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    context.sni_callback = lambda sock, name, ctx: names.append(name)  # type: ignore[assignment,misc,return-value]
    server.httpd.socket = context.wrap_socket(server.httpd.socket, server_side=True)
    try:
        trust = ssl.create_default_context(cafile=str(cert))
        f = Fetcher(
            FetchPolicy(allow=parse_allow([f"{ALLOWED_HOST}/32"])),
            resolve=lambda host, port: [ALLOWED_HOST],
            transport=httpx.HTTPTransport(verify=trust),
        )
        assert f.fetch(f"https://docs.example:{server.port}/doc").content.startswith(b"hello")
        assert names == ["docs.example"]
        refused(f, f"https://other.example:{server.port}/doc")  # the certificate does not name it
    finally:
        server.close()
